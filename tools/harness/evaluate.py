"""The harness's scores of a run, computed from its checkpoint, never reported by the model
under test: every metric on a split (`evaluate_run`), the primary one with a 95% bootstrap
interval over examples, days or evaluation windows (`score_run`), and a classifier's
misclassified validation texts (`misclassified`).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from magnet.tools.metrics import Score, bootstrap, bootstrap_interval, classification_metrics


def evaluate_run(run_dir: Path, split: str, task: str, data: str) -> dict:
    """Harness metrics of a run's checkpoint on `split`, from the harness's own copy of the data.

    The run directory may come from an untrusted experiment: only its architecture (config),
    tokenizer and weights are used, and its task and data must be the ones that were asked for.
    """
    from magnet.tools.bitnet.precision import autocast

    model, harness_task = _harness(run_dir, task, data)
    with autocast(harness_task.cfg.precision):  # as it trained: harness and trainer agree
        return harness_task.evaluate(model, split)


def score_run(run_dir: Path, split: str, task: str, data: str) -> Score:
    """The run's primary metric on `split` with a 95% bootstrap interval."""
    from magnet.tools.bitnet.precision import autocast

    model, harness_task = _harness(run_dir, task, data)
    with autocast(harness_task.cfg.precision):
        if task == "lm":
            losses = harness_task.window_losses(model, split).numpy()
            bits = 1 / math.log(2) / harness_task.bytes_per_token[split]  # per nat per token
            low, high = bootstrap(losses, np.mean)
            return Score(
                split=split, metric="bits_per_byte", value=float(losses.mean()) * bits,
                low=low * bits, high=high * bits, n=len(losses), unit="windows",
            )  # fmt: skip
        y = np.asarray(harness_task.splits[split][-1])
        pred = harness_task.predict(model, split).numpy()
    labels = getattr(harness_task, "labels", ["down", "up"])
    low, high = bootstrap_interval(y, pred, labels)
    return Score(
        split=split, metric="balanced_accuracy",
        value=classification_metrics(y, pred, labels)["balanced_accuracy"], low=low, high=high,
        n=len(y), unit="examples" if task == "classify" else "days",
    )  # fmt: skip


def misclassified(run_dir: Path, data: str, limit: int = 20) -> list[dict]:
    """Validation texts a classifier run gets wrong, {text, label, predicted}: the weak slice
    failure-driven data generation writes more of. Never test texts: they stay unseen."""
    from magnet.tools.bitnet.precision import autocast
    from magnet.tools.datasets import load_dataset

    model, harness_task = _harness(run_dir, "classify", data)
    val = load_dataset(data, "classify").val
    with autocast(harness_task.cfg.precision):
        preds = harness_task.predict(model, "val").tolist()
    labels = harness_task.labels
    wrong = [
        {"text": t, "label": labels[y], "predicted": labels[p]}
        for t, y, p in zip(val.texts, val.labels, preds, strict=True)
        if y != p
    ]
    return wrong[:limit]


def _harness(run_dir: Path, task: str, data: str):
    from magnet.tools.bitnet.checkpoint import load_model
    from magnet.tools.bitnet.run_dir import RunDir
    from magnet.tools.bitnet.tasks import make_task
    from magnet.tools.datasets import load_dataset
    from magnet.tools.errors import RunDirError

    model, cfg = load_model(run_dir)
    if (cfg.task, cfg.data) != (task, data):
        raise RunDirError(f"{run_dir} trained {cfg.task} on {cfg.data}, not {task} on {data}")
    return model, make_task(load_dataset(data, task), RunDir(run_dir).tokenizer(), cfg)
