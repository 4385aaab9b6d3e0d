"""What the LLM answers the research loop: typed, and constrained by these schemas.

Every field carries a description: it is part of the JSON schema the model is held to. The
intake answer is the ResearchSpec itself (agent/state.py).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field, WithJsonSchema

from magnet.tools.search.space import diff_schema
from magnet.tools.settings import Scalar


def Text(limit: int):  # noqa: N802 - used like a type
    """A string the schema caps at `limit` characters (a small model on a grammar otherwise
    rambles until max_tokens and the JSON never closes); longer answers are cut, not refused."""
    return Annotated[
        str,
        BeforeValidator(lambda v: v[:limit] if isinstance(v, str) else v),
        Field(json_schema_extra={"maxLength": limit}),
    ]


class ExperimentProposal(BaseModel):
    """One experiment: a change to the current best configuration and why."""

    candidate: int | None = Field(None, ge=0, description="index of the policy candidate chosen")
    hypothesis: Text(200) = Field(description="why this change should help, one sentence")
    # Any dict validates (clip() judges every key), but the schema the LLM is held to lists
    # the searchable keys only.
    config_diff: Annotated[dict[str, Scalar], WithJsonSchema(diff_schema())] = Field(
        description="settings to change from the chosen candidate; {} runs it as it is"
    )
    expected_effect: Text(120) = Field("", description="what should happen to the metric")
    estimated_seconds: float = Field(60, gt=0, description="expected run time")
