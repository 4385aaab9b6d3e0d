"""Typed answers the LLM gives the research loop (the graph state itself comes with graph.py).

Every field carries a description: it is part of the JSON schema the model is constrained to.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, WithJsonSchema

from magnet.tools.search.space import diff_schema

Scalar = float | int | str | bool


def Text(limit: int):  # noqa: N802 - used like a type
    """A string the schema caps at `limit` characters (a small model on a grammar otherwise
    rambles until max_tokens and the JSON never closes); longer answers are cut, not refused."""
    return Annotated[
        str,
        BeforeValidator(lambda v: v[:limit] if isinstance(v, str) else v),
        Field(json_schema_extra={"maxLength": limit}),
    ]


class Budget(BaseModel):
    max_experiments: int = Field(8, gt=0, description="experiments, the baseline included")
    wall_minutes: float = Field(30, gt=0, description="wall-clock minutes for the session")
    llm_tokens: int = Field(200_000, gt=0, description="prompt + completion tokens")


class ResearchSpec(BaseModel):
    """What the user asked for, made precise."""

    task: Literal["lm", "classify", "direction"] = Field(
        description="lm: a language/code expert; classify: label texts; direction: up/down"
    )
    dataset: str = Field(description="a built-in dataset name or a path the goal names")
    domain: str = Field("", description="the subject, in a few words")
    metric: str = Field(description="bits_per_byte for lm, balanced_accuracy otherwise")
    target: float | None = Field(None, description="stop when the metric reaches this")
    domains: list[str] = Field(
        [], description="2+ LM datasets when the goal names several domains, else empty"
    )
    labels: list[str] = Field(
        [], description='classify with dataset "generate": the classes to generate data for'
    )

    @property
    def search_task(self) -> str:
        """What the search space is cut for: "diloco" when specialists are merged."""
        return "diloco" if len(self.domains) >= 2 else self.task


class ExperimentProposal(BaseModel):
    """One experiment: a change to the current best configuration and why."""

    candidate: int | None = Field(None, ge=0, description="index of the policy candidate chosen")
    hypothesis: Text(200) = Field(description="why this change should help, one sentence")
    # Any dict validates (the baseline sets seed; clip() judges every key), but the schema
    # the LLM is held to lists the searchable keys only.
    config_diff: Annotated[dict[str, Scalar], WithJsonSchema(diff_schema())] = Field(
        description="settings to change from the chosen candidate; {} runs it as it is"
    )
    expected_effect: Text(120) = Field("", description="what should happen to the metric")
    estimated_seconds: float = Field(60, gt=0, description="expected run time")
