"""What a DiLoCo run is asked to do, and the training config every worker derives from it."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from magnet.tools.bitnet.config import TrainConfig, make_config
from magnet.tools.diloco.compress import Compression
from magnet.tools.errors import ConfigError
from magnet.tools.settings import Scalar


class DilocoSpec(BaseModel):
    domains: list[str] = Field(min_length=1, description="LM datasets, one specialist each")
    workers: int = Field(0, ge=0, description="a multiple of the domains; 0 = one per domain")
    inner_steps: int = Field(100, gt=0, description="H: AdamW steps between syncs")
    rounds: int = Field(3, gt=0, description="R: outer steps")
    mode: Literal["diloco", "dp"] = Field("diloco", description="dp: all-reduce every step")
    compression: Compression = "none"
    outer_lr: float = Field(0.7, gt=0)
    outer_momentum: float = Field(0.9, ge=0, lt=1)
    fault_tolerant: bool = Field(False, description="torchft: survivors go on when one dies")
    settings: dict[str, Scalar] = Field({}, description="training settings by key")
    out: Path

    @model_validator(mode="after")
    def _workers(self) -> DilocoSpec:
        self.workers = self.workers or len(self.domains)
        if self.fault_tolerant and self.mode != "diloco":
            raise ValueError("fault tolerance is for DiLoCo syncs, not data parallel")
        if self.workers % len(self.domains):
            raise ValueError(
                f"workers ({self.workers}) must be a multiple of the domains ({len(self.domains)})"
            )
        return self

    def domain_of(self, rank: int) -> str:
        return self.domains[rank % len(self.domains)]

    def train_config(self, domain: str) -> TrainConfig:
        cfg = make_config(
            "lm", domain, steps=self.inner_steps * self.rounds, settings=self.settings
        )
        if cfg.tokenizer != "byte":
            raise ConfigError("DiLoCo domains share one vocabulary: use tokenizer=byte")
        return cfg
