"""What the research loop learns from one experiment."""

from __future__ import annotations

import time
import uuid
from typing import Literal

from pydantic import BaseModel, Field

from magnet.tools.hashing import canonical_sha256

# "rejected": a reviewer turned the proposal down before it ran; the analysis says why.
Verdict = Literal["first", "improved", "no_change", "worse", "failed", "rejected"]


class Finding(BaseModel):
    """One experiment's outcome, as memory keeps it."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:16])
    session_id: str
    goal: str
    dataset: str
    task: str = ""
    hypothesis: str = ""
    config: dict = Field(default_factory=dict, description="the settings that were run")
    metrics: dict = Field(default_factory=dict, description="harness metrics")
    primary_metric: str = ""
    primary_value: float | None = None
    verdict: Verdict
    analysis: str = Field("", description="failure analysis summary and directions")
    created_at: float = Field(default_factory=time.time)

    @property
    def config_hash(self) -> str:
        return canonical_sha256(self.config)

    def document(self) -> str:
        """The text that is embedded: what was tried, why, and what came of it."""
        change = ", ".join(f"{k}={v}" for k, v in sorted(self.config.items()))
        value = (
            "" if self.primary_value is None else f" {self.primary_metric} {self.primary_value:.4g}"
        )
        parts = [
            f"goal: {self.goal}",
            f"hypothesis: {self.hypothesis}",
            f"config: {change}",
            f"verdict: {self.verdict}{value}",
        ]
        if self.analysis:
            parts.append(f"analysis: {self.analysis}")
        return "\n".join(parts)

    def line(self) -> str:
        """One line for a lessons digest."""
        change = ", ".join(f"{k}={v}" for k, v in sorted(self.config.items())) or "baseline"
        value = (
            ""
            if self.primary_value is None
            else f" → {self.primary_metric} {self.primary_value:.4g}"
        )
        why = f" ({self.analysis.splitlines()[0]})" if self.analysis else ""
        return f"[{self.verdict}] {self.hypothesis or change} [{change}]{value}{why}"
