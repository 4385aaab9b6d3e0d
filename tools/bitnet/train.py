"""Train a BitNet b1.58 (or fp baseline) model into a run directory; resume a killed run.

    from magnet.tools.bitnet.train import TrainRequest, train
    result = train(TrainRequest(task="lm", data="shakespeare", steps=200))

A run directory (tools/bitnet/run_dir.py) holds the config, the dataset's card, the
tokenizer, the metrics, the checkpoint and, written last, the result: a directory without a
result is unfinished and can be resumed with `resume_run(run_dir)`. `precision=auto` is
decided here, once: the run's config records the precision that ran (bf16 or fp32).
"""

from __future__ import annotations

import secrets
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import torch
from pydantic import BaseModel, Field, ValidationError, model_validator

from magnet.tools.bitnet.config import TrainConfig, make_config
from magnet.tools.bitnet.model import build_model
from magnet.tools.bitnet.precision import Precision, resolve
from magnet.tools.bitnet.run_dir import CONFIG, RESULT, RunDir, TrainResult
from magnet.tools.bitnet.tasks import make_task
from magnet.tools.bitnet.trainer import Trainer
from magnet.tools.datasets import data_ref, load_dataset
from magnet.tools.datasets.tokenizer import build_tokenizer
from magnet.tools.datasets.types import (
    LabeledDataset,
    SeriesDataset,
    TextDataset,
)
from magnet.tools.errors import ConfigError, MagnetError, RunDirError
from magnet.tools.paths import magnet_home

TOKENS = "tokens"  # in a run directory: its token ids, where the shared cache was read-only
DIVERGED_EXIT = 3  # main's exit code for a run whose loss diverged


class TrainRequest(BaseModel):
    """A run to train: its validated config and where it goes. Written flat (task, data,
    steps, settings by key), it is validated into `config` here, once; spec.json holds the
    config as it is, and the sandboxed trainer reads it back unchanged."""

    config: TrainConfig
    out: Path | None = Field(None, description="run directory; default under $MAGNET_HOME/runs")
    final_eval: bool = Field(
        True, description="evaluate val once more at the end; off where the harness scores it"
    )

    @model_validator(mode="before")
    @classmethod
    def _flat(cls, values):
        if not isinstance(values, dict) or "config" in values:
            return values
        flat = dict(values)
        out = flat.pop("out", None)
        return {"config": make_config(**flat), "out": out}


def train(request: TrainRequest, on_event: Callable[[dict], None] | None = None) -> TrainResult:
    """Validate, load data, then create the run directory and train."""
    cfg, dataset, tok = _prepared(request)
    run_dir = request.out or magnet_home() / "runs" / _run_name(cfg)
    _create_run_dir(run_dir)
    try:
        task = make_task(dataset, tok, cfg, fallback=run_dir / TOKENS)
        cfg.model = cfg.model.model_copy(update=task.model_fields(tok))
        RunDir(run_dir).write_setup(cfg, dataset.card, tok)
    except (MagnetError, OSError) as e:
        shutil.rmtree(run_dir, ignore_errors=True)  # nothing trained: leave no half run behind
        if isinstance(e, MagnetError):
            raise
        raise RunDirError(f"cannot write run directory {run_dir}: {e}") from None
    return _run(cfg, task, run_dir, on_event, request.final_eval, tok)


def prepare(request: TrainRequest) -> None:
    """Tokenize the request's data into the shared token cache, as `train` would: the harness
    does this before a sandboxed run, whose trainer may only read the cache."""
    cfg, dataset, tok = _prepared(request)
    if cfg.task == "lm":
        make_task(dataset, tok, cfg)


def _prepared(request: TrainRequest):
    """The config (data made absolute, precision resolved), the dataset and its tokenizer."""
    cfg = request.config.model_copy(deep=True)
    cfg.data = data_ref(cfg.data)  # absolute, so a resume from elsewhere finds it
    if cfg.tokenizer == "smollm2" and cfg.task != "classify":
        raise ConfigError("tokenizer=smollm2 is for classifiers (language models: byte or bpe)")
    dataset = load_dataset(cfg.data, cfg.task)
    tok = (
        None
        if isinstance(dataset, SeriesDataset)
        else build_tokenizer(cfg.tokenizer, _train_texts(dataset), cfg.bpe_vocab, cfg.bpe_sample_mb)
    )
    cfg.precision = resolve(cfg.precision)
    if cfg.init_from:
        cfg.init_from = _init_source(cfg, tok)
    return cfg, dataset, tok


SHAPE = ("linear", "d_model", "n_layers", "n_heads", "n_kv_heads", "ffn_dim")


def _init_source(cfg: TrainConfig, tok) -> str:
    """The absolute run directory `init_from` names, checked before anything is made: it
    has a checkpoint of this model's shape, trained on the same tokens (a BPE learnt from
    the same text is the same)."""
    run = RunDir(Path(cfg.init_from).resolve())
    if not run.checkpoint.exists():
        raise ConfigError(f"init_from={cfg.init_from}: no checkpoint there to start from")
    theirs = run.config().model
    differ = [
        f"{k} {getattr(theirs, k)} ≠ {getattr(cfg.model, k)}"
        for k in SHAPE
        if getattr(theirs, k) != getattr(cfg.model, k)
    ]
    if differ:
        raise ConfigError(f"init_from={cfg.init_from}: another model ({', '.join(differ)})")
    theirs_tok = run.tokenizer()
    if (theirs_tok and theirs_tok.fingerprint()) != (tok and tok.fingerprint()):
        raise ConfigError(f"init_from={cfg.init_from}: another tokenizer (its token ids differ)")
    return str(run.path)


def resume_run(
    run_dir: Path,
    on_event: Callable[[dict], None] | None = None,
    precision: Precision | None = None,
    final_eval: bool = True,
) -> TrainResult:
    """Continue an unfinished run from its last checkpoint, on the very same data; under its
    recorded precision unless `precision` says otherwise (the start record then says so)."""
    run = RunDir(run_dir)
    if run.complete:
        raise RunDirError(f"{run_dir} is already complete (see {RESULT})")
    if not run.started:
        raise RunDirError(f"{run_dir} is not a run directory (no {CONFIG})")
    cfg, saved = run.config(), run.card()
    if precision is not None:
        cfg.precision = resolve(precision)
    dataset = load_dataset(cfg.data, cfg.task)
    if saved.sha256 != dataset.card.sha256:
        raise RunDirError(f"dataset '{cfg.data}' changed since {run_dir} started")
    task = make_task(dataset, run.tokenizer(), cfg, fallback=run_dir / TOKENS)
    return _run(cfg, task, run_dir, on_event, final_eval)


def _run(
    cfg: TrainConfig, task, run_dir: Path, on_event, final_eval: bool, tok=None
) -> TrainResult:
    """Train; a fresh run (`tok` given, no init_from) whose tokenizer brings pretrained
    token embeddings starts from them."""
    torch.manual_seed(cfg.seed)
    model = build_model(cfg.task, cfg.model)
    if hasattr(tok, "embeddings") and not cfg.init_from:
        with torch.no_grad():
            model.embed.weight.copy_(torch.from_numpy(tok.embeddings(cfg.model.d_model)))
    outcome = Trainer(model, task, cfg, run_dir, on_event, final_eval).run()
    primary = outcome.val.get(task.primary)
    result = TrainResult(
        status=outcome.status,
        run_dir=run_dir,
        task=cfg.task,
        data=cfg.data,
        linear=cfg.model.linear,
        precision=resolve(cfg.precision),
        steps=outcome.step,
        elapsed_s=outcome.elapsed_s,
        tokens=outcome.tokens,
        tokens_per_s=outcome.tokens / max(outcome.elapsed_s, 1e-9),
        threads=torch.get_num_threads(),
        train_loss=outcome.train_loss,
        val=outcome.val,
        primary_metric=task.primary,
        primary_value=primary,
        params=sum(p.numel() for p in model.parameters()),
        non_embedding_params=cfg.model.non_embedding_params(),
        message=outcome.message,
    )
    RunDir(run_dir).write_result(result)
    return result


def _create_run_dir(run_dir: Path) -> None:
    if run_dir.exists() and any(run_dir.iterdir()):
        hint = "it is complete" if RunDir(run_dir).complete else "resume it with --resume"
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


def main(argv: list[str] | None = None) -> int:
    """`python -m magnet.tools.bitnet.train --spec spec.json --out DIR`: the sandbox entry.

    The spec is a TrainRequest as JSON. An unfinished run already in DIR (a killed
    experiment started again) resumes from its checkpoint. Exit 0 when training completed,
    DIVERGED_EXIT (3) when it diverged, 2 with one `Error:` line for a bad spec or data.
    """
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m magnet.tools.bitnet.train")
    parser.add_argument("--spec", type=Path, required=True, help="TrainRequest JSON file")
    parser.add_argument("--out", type=Path, required=True, help="run directory to create")
    args = parser.parse_args(argv)
    try:
        out = RunDir(args.out)
        request = TrainRequest.model_validate_json(args.spec.read_text())
        if out.started and not out.complete:
            result = resume_run(args.out, final_eval=request.final_eval)
        else:
            result = train(request.model_copy(update={"out": args.out}))
    except (MagnetError, OSError, ValidationError) as e:
        print(f"Error: {e}", file=sys.stderr)
        return 2
    print(result.summary())
    return 0 if result.status == "completed" else DIVERGED_EXIT


if __name__ == "__main__":
    raise SystemExit(main())
