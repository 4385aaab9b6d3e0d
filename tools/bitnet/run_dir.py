"""A run directory as one type: which file holds what, read and written here only.

    run = RunDir(path)
    run.config()         TrainConfig                 config.json
    run.card()           DatasetCard                 dataset.json
    run.tokenizer()      the tokenizer, or None       tokenizer.json (text models)
    run.metrics()        list[MetricRecord]          metrics.jsonl, one record a log step / eval
    run.checkpoint       Path                        checkpoint.safetensors (checkpoint.py)
    run.best             Path                        best.safetensors (keep_best's weights)
    run.result()         TrainResult                 result.json, written last
    run.complete         result.json exists: a directory without it is unfinished

Model directories (a DiLoCo specialist, a merged model) use the same names without metrics
or a result.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from magnet.tools.bitnet.config import TrainConfig
from magnet.tools.bitnet.model import Linear
from magnet.tools.bitnet.precision import Resolved
from magnet.tools.datasets.types import DatasetCard, Task
from magnet.tools.errors import RunDirError, first_problem

CONFIG, CARD, TOKENIZER = "config.json", "dataset.json", "tokenizer.json"
METRICS, CHECKPOINT, RESULT = "metrics.jsonl", "checkpoint.safetensors", "result.json"
BEST = "best.safetensors"  # keep_best: the weights of the best val eval so far


class MetricRecord(BaseModel):
    """One line of metrics.jsonl: `train` (loss, lr, tokens_per_s, elapsed_s) or `eval`
    (split and the harness metrics); the fields beyond event and step vary by event."""

    model_config = ConfigDict(extra="allow")

    event: str
    step: int


class TrainResult(BaseModel):
    """What result.json holds: the run's fixed summary."""

    status: str = Field(description="completed | diverged")
    run_dir: Path
    task: Task
    data: str
    linear: Linear
    precision: Resolved = Field("fp32", description="what the matmuls ran in (last segment)")
    steps: int
    elapsed_s: float
    tokens: int
    tokens_per_s: float
    threads: int | None = Field(None, description="torch's intra-op threads as it trained")
    train_loss: float
    val: dict = Field(description="harness metrics on the validation split at the end")
    primary_metric: str
    primary_value: float | None
    params: int
    non_embedding_params: int
    message: str = ""

    def summary(self) -> str:
        """The greppable `key: value` lines a run ends with."""
        value = "n/a" if self.primary_value is None else f"{self.primary_value:.4f}"
        lines = {
            "status": self.status,
            "task": self.task,
            "data": self.data,
            "linear": self.linear,
            "precision": self.precision,
            "steps": self.steps,
            "elapsed_s": f"{self.elapsed_s:.1f}",
            "tokens_per_s": f"{self.tokens_per_s:.0f}",
            "train_loss": f"{self.train_loss:.4f}",
            f"val_{self.primary_metric}": value,
            "params": self.params,
            "run_dir": str(self.run_dir),
        }
        return "\n".join(f"{k}: {v}" for k, v in lines.items())


class RunDir:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def file(self, name: str) -> Path:
        return self.path / name

    @property
    def checkpoint(self) -> Path:
        return self.path / CHECKPOINT

    @property
    def best(self) -> Path:
        return self.path / BEST

    @property
    def started(self) -> bool:
        return self.file(CONFIG).exists()

    @property
    def complete(self) -> bool:
        return self.file(RESULT).exists()

    def config(self) -> TrainConfig:
        try:
            return TrainConfig.model_validate_json(self.file(CONFIG).read_text())
        except (OSError, ValueError) as e:
            raise RunDirError(f"{self.path}: no readable {CONFIG} ({first_problem(e)})") from None

    def card(self) -> DatasetCard:
        try:
            return DatasetCard.model_validate_json(self.file(CARD).read_text())
        except (OSError, ValueError) as e:
            raise RunDirError(f"{self.path}: no readable {CARD} ({first_problem(e)})") from None

    def tokenizer(self):
        """The run's tokenizer; None for a series model, which has none."""
        from magnet.tools.datasets.tokenizer import load_tokenizer

        path = self.file(TOKENIZER)
        return load_tokenizer(path) if path.exists() else None

    def tokenizer_json(self) -> dict:
        try:
            return json.loads(self.file(TOKENIZER).read_text())
        except (OSError, ValueError) as e:
            raise RunDirError(
                f"{self.path}: no readable {TOKENIZER} ({first_problem(e)})"
            ) from None

    def write_setup(self, cfg: TrainConfig, card: DatasetCard | None = None, tok=None) -> None:
        """What a run starts from: its config, its dataset's card, its tokenizer."""
        self.file(CONFIG).write_text(cfg.model_dump_json(indent=2))
        if card is not None:
            self.file(CARD).write_text(card.model_dump_json(indent=2))
        if tok is not None:
            tok.save(self.file(TOKENIZER))

    def metrics(self) -> list[MetricRecord]:
        """Every record; a line cut short by a kill is skipped."""
        path = self.file(METRICS)
        if not path.exists():
            return []
        records = []
        for line in path.read_text().splitlines():
            try:
                records.append(MetricRecord.model_validate_json(line))
            except ValidationError:
                continue
        return records

    def append_metric(self, record: dict) -> None:
        with open(self.file(METRICS), "a") as f:
            f.write(json.dumps(record) + "\n")

    def keep_metrics_until(self, step: int) -> None:
        """Drop the records after `step` (a resumed run logs them again)."""
        if self.file(METRICS).exists():
            kept = [r.model_dump_json() + "\n" for r in self.metrics() if r.step <= step]
            self.file(METRICS).write_text("".join(kept))

    def result(self) -> TrainResult:
        try:
            return TrainResult.model_validate_json(self.file(RESULT).read_text())
        except (OSError, ValueError) as e:
            raise RunDirError(f"{self.path}: no readable {RESULT} ({first_problem(e)})") from None

    def write_result(self, result: TrainResult) -> None:
        """Written last and atomically: its presence says the run is complete."""
        tmp = self.file(RESULT + ".tmp")
        tmp.write_text(result.model_dump_json(indent=2))
        os.replace(tmp, self.file(RESULT))
