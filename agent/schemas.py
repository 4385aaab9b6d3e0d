"""What the LLM answers the research loop: typed, and constrained by these schemas.

Every field carries a description: it is part of the JSON schema the model is held to.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, WithJsonSchema, create_model

from magnet.tools.search.space import changes_schema
from magnet.tools.settings import Scalar


def Text(limit: int):  # noqa: N802 - used like a type
    """A string the schema caps at `limit` characters (a small model on a grammar otherwise
    rambles until max_tokens and the JSON never closes); longer answers are cut, not refused."""
    return Annotated[
        str,
        BeforeValidator(lambda v: v[:limit] if isinstance(v, str) else v),
        Field(json_schema_extra={"maxLength": limit}),
    ]


class Change(BaseModel):
    """One setting the proposal changes."""

    key: str
    value: Scalar


class ExperimentProposal(BaseModel):
    """One experiment: a policy candidate, at most MAX_CHANGES of its settings changed, and
    why. The changes are a capped list, not an object: a grammar cannot cap an object's keys
    (llguidance ignores maxProperties), and a small model fills in every key it is offered."""

    candidate: int | None = Field(None, ge=0, description="index of the policy candidate chosen")
    # Any key and value validate (clip() judges each); the schema the LLM is held to pairs
    # each searchable key with its own values.
    changes: Annotated[list[Change], WithJsonSchema(changes_schema())] = Field(
        [], description="settings to change in the chosen candidate; [] runs it as it is"
    )
    hypothesis: Text(100) = Field(description="why this should help, one sentence")
    expected_effect: Text(60) = Field("", description="what should happen to the metric")

    @property
    def config_diff(self) -> dict[str, Scalar]:
        return {c.key: c.value for c in self.changes}


def proposal_answer(candidates: int) -> type[ExperimentProposal]:
    """The plan's answer for this many candidates: the schema offers their indexes or null (a
    small model otherwise writes 2023); any index validates, and plan judges it."""
    offered = {"anyOf": [{"enum": list(range(candidates))}, {"type": "null"}]}
    return create_model(
        "ExperimentProposal",
        __base__=ExperimentProposal,
        candidate=(
            Annotated[int | None, WithJsonSchema(offered)],
            Field(None, description="index of the policy candidate chosen"),
        ),
    )


def goal_answer(datasets: list[str], lm_datasets: list[str]) -> type[BaseModel]:
    """The intake's answer, for the datasets that exist: every choice is an enum and every
    free string and list is capped, so a small model's answer closes within a few dozen
    tokens and names nothing that is not there. The metric and the subject follow from the
    task and the goal's own words (agent/goal.py); the model is not asked for them."""

    def capped(n: int) -> dict:
        return {"json_schema_extra": {"maxItems": n}}

    return create_model(
        "GoalAnswer",
        task=(Literal["lm", "classify", "direction"], Field(description="the kind of expert")),
        dataset=(Literal[tuple(datasets)], Field(description="a listed dataset")),
        labels=(list[Text(24)], Field([], description="generate: the classes", **capped(6))),
        target=(float | None, Field(None, description="a metric value the goal states")),
        domains=(
            list[Literal[tuple(lm_datasets)]],
            Field([], description="2+ lm datasets the goal names", **capped(3)),
        ),
    )
