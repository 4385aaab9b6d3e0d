"""Training configuration: typed defaults, the b1.58 recipe, and settings by key."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from magnet.tools.bitnet.model import ModelConfig
from magnet.tools.bitnet.precision import Precision
from magnet.tools.datasets.types import Task
from magnet.tools.errors import ConfigError, first_problem
from magnet.tools.settings import Scalar, parse_pairs

# Ternary weights move only when a latent weight crosses a rounding boundary: BitNet recipes
# train them with a larger learning rate than the same model in full precision.
DEFAULT_LR = {"ternary": 2e-3, "fp": 6e-4}
DEFAULT_STEPS = 300
# Set from the data, never by hand.
DERIVED_MODEL_KEYS = {"linear", "vocab_size", "n_classes", "n_features", "max_seq_len"}


class TrainConfig(BaseModel):
    """Everything that decides a training run; saved as config.json in the run directory."""

    task: Task
    data: str = Field(description="built-in dataset name or a path")
    model: ModelConfig = ModelConfig()
    steps: int | None = Field(None, gt=0, description="optimizer steps; or use budget_seconds")
    budget_seconds: float | None = Field(None, gt=0, description="wall-time budget")
    batch_size: int = Field(16, gt=0)
    seq_len: int = Field(256, gt=1, description="tokens per LM window / classifier input")
    lr: float | None = Field(None, gt=0, description="peak LR; default by linear kind")
    warmup_steps: int = Field(30, ge=0)
    stage2_start: float = Field(0.7, gt=0, le=1, description="budget fraction ending stage 1")
    stage2_lr_scale: float = Field(0.3, gt=0, le=1, description="stage-2 LR as a share of peak")
    weight_decay: float = Field(0.1, ge=0, description="stage-1 weight decay; stage 2 uses 0")
    grad_clip: float = Field(1.0, gt=0)
    eval_every: int = Field(100, gt=0)
    eval_batches: int = Field(16, gt=0, description="LM validation windows = this × batch")
    log_every: int = Field(10, gt=0)
    checkpoint_every: int = Field(100, gt=0)
    seed: int = 0
    tokenizer: Literal["byte", "bpe", "smollm2"] = Field(
        "byte", description="smollm2 (classifiers): the packaged LLM's BPE and token embeddings"
    )
    bpe_vocab: int = Field(4096, ge=300)
    bpe_sample_mb: float = Field(8.0, gt=0, description="MB of training text BPE learns from")
    label_smoothing: float = Field(
        0.0, ge=0, lt=1, description="classifiers: share of each target spread over all classes"
    )
    keep_best: bool = Field(
        False, description="end with the weights of the best val eval (early stopping)"
    )
    class_weighted: bool = Field(True, description="weigh the loss by inverse class frequency")
    diverge_factor: float = Field(3.0, gt=1, description="smoothed loss over best = diverged")
    init_from: str | None = Field(
        None, description="a run directory whose weights this run starts from (same model)"
    )
    precision: Precision = Field(
        "auto", description="matmul format; auto: bf16 on CPUs with native bf16, else fp32"
    )

    @model_validator(mode="after")
    def _resolve(self) -> TrainConfig:
        if self.steps is not None and self.budget_seconds is not None:
            raise ValueError("give steps or budget_seconds, not both")
        if self.steps is None and self.budget_seconds is None:
            self.steps = DEFAULT_STEPS
        if self.lr is None:
            self.lr = DEFAULT_LR[self.model.linear]
        return self


def override_keys() -> list[str]:
    fixed = {"task", "data", "model", "steps", "budget_seconds"}
    train = [k for k in TrainConfig.model_fields if k not in fixed]
    model = [k for k in ModelConfig.model_fields if k not in DERIVED_MODEL_KEYS]
    return sorted(train + model)


def check_keys(settings: dict) -> dict:
    """`settings` with every key one the trainer takes (`-` read as `_`), else a ConfigError."""
    allowed = override_keys()
    clean = {}
    for key, value in settings.items():
        key = str(key).strip().replace("-", "_")
        if key not in allowed:
            raise ConfigError(f"unknown setting '{key}'; known keys: {', '.join(allowed)}")
        clean[key] = value
    return clean


def parse_settings(items: list[str] | None) -> dict[str, Scalar]:
    """Command-line `key=value` words → validated training settings (values checked too)."""
    settings = check_keys(parse_pairs(items))
    make_config("lm", "x", settings=settings)
    return settings


def make_config(
    task: Task,
    data: str,
    linear: str = "ternary",
    steps: int | None = None,
    budget_seconds: float | None = None,
    settings: dict | None = None,
) -> TrainConfig:
    """Validate everything up front so a bad value never leaves a run directory behind."""
    values: dict = {"task": task, "data": data, "model": {"linear": linear}}
    if steps is not None:
        values["steps"] = steps
    if budget_seconds is not None:
        values["budget_seconds"] = budget_seconds
    for key, value in check_keys(settings or {}).items():
        target = values["model"] if key in ModelConfig.model_fields else values
        target[key] = value
    try:
        return TrainConfig.model_validate(values)
    except ValidationError as e:
        raise ConfigError(first_problem(e, "config", hide=("model",))) from None
