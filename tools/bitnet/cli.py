"""`magnet train`: train a ternary (or fp baseline) model on a dataset, with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from magnet.tools import console
from magnet.tools.errors import ConfigError

TaskName = Literal["lm", "classify", "direction"]


def train_command(
    settings: Annotated[
        list[str] | None,
        typer.Argument(
            help="key=value settings, e.g. lr=1e-3 d_model=512 n_layers=6 batch_size=32 "
            "seq_len=128 tokenizer=bpe seed=1 eval_every=50 precision=fp32 "
            "(precision: auto, the default, is bf16 on CPUs with native bf16, else fp32)",
            show_default=False,
        ),
    ] = None,
    task: Annotated[
        TaskName | None,
        typer.Option(help="lm: next-token; classify: text labels; direction: next-day up/down"),
    ] = None,
    data: Annotated[
        str | None, typer.Option(help="built-in dataset (see `magnet data list`) or a path")
    ] = None,
    linear: Annotated[
        Literal["ternary", "fp"],
        typer.Option(help="ternary: BitNet b1.58; fp: the same model with nn.Linear (baseline)"),
    ] = "ternary",
    steps: Annotated[int | None, typer.Option(help="optimizer steps (default 300)")] = None,
    budget_seconds: Annotated[
        float | None, typer.Option(help="wall-time budget instead of --steps")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="run directory (default: under $MAGNET_HOME/runs)")
    ] = None,
    resume: Annotated[
        Path | None,
        typer.Option(help="continue an unfinished run directory from its last checkpoint"),
    ] = None,
) -> None:
    """Train a BitNet b1.58 model on CPU and write a run directory.

    Writes config.json, metrics.jsonl, checkpoint.safetensors, then result.json.

    A killed run continues from its last checkpoint with --resume DIR (add precision=fp32 or
    precision=bf16 to continue in another precision than the one it recorded).

    Example: magnet train --task lm --data shakespeare --steps 200 n_layers=2
    """
    from magnet.tools.bitnet.config import parse_settings
    from magnet.tools.bitnet.train import TrainRequest, resume_run, train

    with _Progress() as progress:
        if resume is not None:
            precision = _resume_precision(task, data, settings)
            result = resume_run(resume, progress.on_event, precision)
        else:
            if task is None or data is None:
                raise ConfigError("--task and --data are required (or --resume DIR)")
            request = TrainRequest(
                task=task,
                data=data,
                linear=linear,
                steps=steps,
                budget_seconds=budget_seconds,
                out=out,
                settings=parse_settings(settings),
            )
            result = train(request, progress.on_event)
    console.out.print(result.summary(), highlight=False)
    if result.status != "completed":
        console.error(f"{result.message}; last good checkpoint kept in {result.run_dir}")
        raise typer.Exit(1)


def _resume_precision(task, data, settings: list[str] | None):
    """A resume takes the run's saved config; only its precision may change."""
    from magnet.tools.bitnet.config import parse_settings

    given = parse_settings(settings)
    if task or data or set(given) - {"precision"}:
        raise ConfigError("--resume takes the run's saved config; only precision=... may change")
    return given.get("precision")


class _Progress:
    """A Rich progress bar fed by the trainer's events; says how to resume on Ctrl-C."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[status]}"),
            TimeRemainingColumn(),
            console=console.err,
            transient=False,
        )
        self.id = None
        self.run_dir: Path | None = None
        self.seconds = False

    def __enter__(self) -> _Progress:
        self.bar.start()
        return self

    def __exit__(self, kind, value, tb) -> None:
        self.bar.stop()
        if kind is KeyboardInterrupt and self.run_dir is not None:
            console.warning(f"interrupted; continue with: magnet train --resume {self.run_dir}")

    def on_event(self, e: dict) -> None:
        if e["event"] == "start":
            self.run_dir = Path(e["run_dir"])
            self.seconds = e["total"] is None
            total = e["budget_seconds"] if self.seconds else e["total"]
            self.id = self.bar.add_task("training", total=total, status=e["precision"])
            if e.get("note"):
                console.warning(e["note"])
            self.bar.update(self.id, completed=e["elapsed_s"] if self.seconds else e["step"])
        elif e["event"] == "train":
            self.bar.update(
                self.id,
                completed=e["elapsed_s"] if self.seconds else e["step"],
                status=f"step {e['step']} loss {e['loss']:.3f} {e['tokens_per_s']:,.0f} tok/s",
            )
        elif e["event"] == "eval":
            shown = {k: v for k, v in e.items() if isinstance(v, float)}
            text = " ".join(f"{k} {v:.4f}" for k, v in shown.items())
            self.bar.console.print(f"step {e['step']} val: {text}", highlight=False)
