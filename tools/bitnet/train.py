"""Train a BitNet b1.58 (or fp baseline) model into a run directory; resume a killed run.

    from magnet.tools.bitnet.train import TrainRequest, train
    result = train(TrainRequest(task="lm", data="shakespeare", steps=200))

A run directory holds config.json, dataset.json (the card), tokenizer.json, metrics.jsonl,
checkpoint.safetensors and, written last, result.json: a directory without result.json is
unfinished and can be resumed with `resume_run(run_dir)`.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import torch
from pydantic import BaseModel, Field, ValidationError, field_validator

from magnet.tools.bitnet.config import TrainConfig, check_keys, make_config
from magnet.tools.bitnet.model import Linear, build_model
from magnet.tools.bitnet.tasks import make_task
from magnet.tools.bitnet.trainer import Trainer
from magnet.tools.datasets import data_ref, load_dataset
from magnet.tools.datasets.tokenizer import build_tokenizer, load_tokenizer
from magnet.tools.datasets.types import (
    DatasetCard,
    LabeledDataset,
    SeriesDataset,
    Task,
    TextDataset,
)
from magnet.tools.errors import MagnetError, RunDirError
from magnet.tools.paths import magnet_home
from magnet.tools.settings import Scalar

RESULT = "result.json"


class TrainRequest(BaseModel):
    task: Task
    data: str = Field(description="built-in dataset name or a path")
    linear: Linear = "ternary"
    steps: int | None = None
    budget_seconds: float | None = None
    out: Path | None = Field(None, description="run directory; default under $MAGNET_HOME/runs")
    settings: dict[str, Scalar] = Field({}, description="training settings by key (override_keys)")

    @field_validator("settings")
    @classmethod
    def _known(cls, settings: dict) -> dict:
        return check_keys(settings)


class TrainResult(BaseModel):
    """What result.json holds: the run's fixed summary."""

    status: str = Field(description="completed | diverged")
    run_dir: Path
    task: Task
    data: str
    linear: Linear
    steps: int
    elapsed_s: float
    tokens: int
    tokens_per_s: float
    train_loss: float
    val: dict = Field(description="harness metrics on the validation split at the end")
    primary_metric: str
    primary_value: float | None
    params: int
    non_embedding_params: int
    message: str = ""

    def summary(self) -> str:
        """The greppable `key: value` lines a run ends with."""
        lines = {
            "status": self.status,
            "task": self.task,
            "data": self.data,
            "linear": self.linear,
            "steps": self.steps,
            "elapsed_s": f"{self.elapsed_s:.1f}",
            "tokens_per_s": f"{self.tokens_per_s:.0f}",
            "train_loss": f"{self.train_loss:.4f}",
            f"val_{self.primary_metric}": _fmt(self.primary_value),
            "params": self.params,
            "run_dir": str(self.run_dir),
        }
        return "\n".join(f"{k}: {v}" for k, v in lines.items())


def train(request: TrainRequest, on_event: Callable[[dict], None] | None = None) -> TrainResult:
    """Validate, load data, then create the run directory and train."""
    data = data_ref(request.data)  # absolute, so a resume from elsewhere finds it
    cfg = make_config(
        request.task, data, request.linear, request.steps, request.budget_seconds, request.settings
    )
    dataset = load_dataset(cfg.data, cfg.task)
    tok = (
        None
        if isinstance(dataset, SeriesDataset)
        else build_tokenizer(cfg.tokenizer, _train_texts(dataset), cfg.bpe_vocab)
    )
    task = make_task(dataset, tok, cfg)
    cfg.model = cfg.model.model_copy(update=task.model_fields(tok))
    run_dir = request.out or magnet_home() / "runs" / _run_name(cfg)
    _create_run_dir(run_dir)
    try:
        (run_dir / "config.json").write_text(cfg.model_dump_json(indent=2))
        (run_dir / "dataset.json").write_text(dataset.card.model_dump_json(indent=2))
        if tok is not None:
            tok.save(run_dir / "tokenizer.json")
    except OSError as e:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise RunDirError(f"cannot write run directory {run_dir}: {e}") from None
    return _run(cfg, task, run_dir, on_event)


def resume_run(run_dir: Path, on_event: Callable[[dict], None] | None = None) -> TrainResult:
    """Continue an unfinished run from its last checkpoint, on the very same data."""
    if (run_dir / RESULT).exists():
        raise RunDirError(f"{run_dir} is already complete (see {RESULT})")
    if not (run_dir / "config.json").exists():
        raise RunDirError(f"{run_dir} is not a run directory (no config.json)")
    try:
        cfg = TrainConfig.model_validate_json((run_dir / "config.json").read_text())
        saved = DatasetCard.model_validate_json((run_dir / "dataset.json").read_text())
    except (OSError, ValidationError) as e:
        raise RunDirError(f"{run_dir}: config.json or dataset.json is unreadable ({e})") from None
    dataset = load_dataset(cfg.data, cfg.task)
    if saved.sha256 != dataset.card.sha256:
        raise RunDirError(f"dataset '{cfg.data}' changed since {run_dir} started")
    tok_path = run_dir / "tokenizer.json"
    tok = load_tokenizer(tok_path) if tok_path.exists() else None
    return _run(cfg, make_task(dataset, tok, cfg), run_dir, on_event)


def _run(cfg: TrainConfig, task, run_dir: Path, on_event) -> TrainResult:
    torch.manual_seed(cfg.seed)
    model = build_model(cfg.task, cfg.model)
    outcome = Trainer(model, task, cfg, run_dir, on_event).run()
    primary = outcome.val.get(task.primary)
    result = TrainResult(
        status=outcome.status,
        run_dir=run_dir,
        task=cfg.task,
        data=cfg.data,
        linear=cfg.model.linear,
        steps=outcome.step,
        elapsed_s=outcome.elapsed_s,
        tokens=outcome.tokens,
        tokens_per_s=outcome.tokens / max(outcome.elapsed_s, 1e-9),
        train_loss=outcome.train_loss,
        val=outcome.val,
        primary_metric=task.primary,
        primary_value=primary,
        params=sum(p.numel() for p in model.parameters()),
        non_embedding_params=cfg.model.non_embedding_params(),
        message=outcome.message,
    )
    tmp = run_dir / (RESULT + ".tmp")
    tmp.write_text(result.model_dump_json(indent=2))
    os.replace(tmp, run_dir / RESULT)
    return result


def _create_run_dir(run_dir: Path) -> None:
    if run_dir.exists() and any(run_dir.iterdir()):
        hint = "it is complete" if (run_dir / RESULT).exists() else "resume it with --resume"
        raise RunDirError(f"{run_dir} already exists and is not empty ({hint})")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RunDirError(f"cannot create run directory {run_dir}: {e}") from None


def _run_name(cfg: TrainConfig) -> str:
    data = Path(cfg.data).name or "data"
    stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
    return f"{stamp}-{cfg.task}-{data}-{cfg.model.linear}"


def _train_texts(dataset: TextDataset | LabeledDataset) -> list[str]:
    """The tokenizer learns from the training split only."""
    return dataset.train if isinstance(dataset, TextDataset) else dataset.train.texts


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def main(argv: list[str] | None = None) -> int:
    """`python -m magnet.tools.bitnet.train --spec spec.json --out DIR`: the sandbox entry.

    The spec is a TrainRequest as JSON. An unfinished run already in DIR (a killed
    experiment started again) resumes from its checkpoint. Exit 0 when training completed,
    3 when it diverged, 2 with one `Error:` line for a bad spec or data.
    """
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m magnet.tools.bitnet.train")
    parser.add_argument("--spec", type=Path, required=True, help="TrainRequest JSON file")
    parser.add_argument("--out", type=Path, required=True, help="run directory to create")
    args = parser.parse_args(argv)
    try:
        if (args.out / "config.json").exists() and not (args.out / RESULT).exists():
            result = resume_run(args.out)
        else:
            request = TrainRequest.model_validate_json(args.spec.read_text())
            result = train(request.model_copy(update={"out": args.out}))
    except (MagnetError, OSError, ValidationError) as e:
        print(f"Error: {e}", file=sys.stderr)
        return 2
    print(result.summary())
    return 0 if result.status == "completed" else 3


if __name__ == "__main__":
    raise SystemExit(main())
