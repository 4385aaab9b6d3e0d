"""Typed answers the LLM gives the research loop (the graph state itself comes with graph.py).

Every field carries a description: it is part of the JSON schema the model is constrained to.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Scalar = float | int | str | bool


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


class ExperimentProposal(BaseModel):
    """One experiment: a change to the current best configuration and why."""

    candidate: int | None = Field(None, description="index of the policy candidate chosen")
    hypothesis: str = Field(description="why this change should help, one sentence")
    config_diff: dict[str, Scalar] = Field(
        description="settings to change, key=value, keys from the allowed list"
    )
    expected_effect: str = Field("", description="what should happen to the metric")
    estimated_seconds: float = Field(60, gt=0, description="expected run time")
