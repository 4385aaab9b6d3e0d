"""What the research loop learns from one experiment, and the canonical hash of a config."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from typing import Literal

from pydantic import BaseModel, Field

# "rejected": a reviewer turned the proposal down before it ran; the analysis says why.
Verdict = Literal["improved", "no_change", "worse", "failed", "rejected"]


def config_hash(config: dict) -> str:
    """The same settings hash the same, whatever their order or spelling (1e-3 == 0.001)."""
    canonical = json.dumps(_normalise(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _normalise(value):
    if isinstance(value, dict):
        return {str(k).replace("-", "_"): _normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


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
        return config_hash(self.config)

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
