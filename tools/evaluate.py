"""Metrics computed by the harness from predictions, never reported by the model under test.

lm         val loss (nats/token) and bits per byte
classify   accuracy, balanced accuracy, macro F1, per-class F1, confusion matrix
direction  hit rate, balanced accuracy, share of "up" predictions
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np


def bits_per_byte(nats_per_token: float, bytes_per_token: float) -> float:
    """Cross-entropy in bits per byte of text, comparable across tokenizers."""
    return nats_per_token / math.log(2) / bytes_per_token


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Rows are true classes, columns predicted classes."""
    m = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(m, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return m


def classification_metrics(y_true, y_pred, labels: list[str]) -> dict:
    m = confusion_matrix(y_true, y_pred, len(labels))
    support, predicted, correct = m.sum(1), m.sum(0), np.diag(m)
    recall = np.divide(correct, support, out=np.zeros(len(labels)), where=support > 0)
    precision = np.divide(correct, predicted, out=np.zeros(len(labels)), where=predicted > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(len(labels)), where=denom > 0)
    present = support > 0
    return {
        "accuracy": float(correct.sum() / max(m.sum(), 1)),
        "balanced_accuracy": float(recall[present].mean()) if present.any() else 0.0,
        "f1_macro": float(f1[present].mean()) if present.any() else 0.0,
        "f1": {label: float(v) for label, v in zip(labels, f1, strict=True)},
        "confusion": m.tolist(),
    }


def direction_metrics(y_true, y_pred) -> dict:
    """Hit rate is plain accuracy; balanced accuracy does not reward always saying "up"."""
    scores = classification_metrics(y_true, y_pred, ["down", "up"])
    return {
        "hit_rate": scores["accuracy"],
        "balanced_accuracy": scores["balanced_accuracy"],
        "up_rate": float(np.mean(np.asarray(y_pred) == 1)) if len(y_pred) else 0.0,
        "confusion": scores["confusion"],
    }


def verdict(
    value: float | None, status: str, best: float | None, noise: float, higher_is_better: bool
) -> str:
    """improved | no_change | worse | failed: better than the best only beyond the noise floor."""
    if status != "ok" or value is None:
        return "failed"
    if best is None:
        return "improved"
    delta = (value - best) if higher_is_better else (best - value)
    if delta > noise:
        return "improved"
    return "worse" if delta < -noise else "no_change"


def noise_floor(baseline_values: list[float]) -> float:
    """The range of the baseline seeds (0 with fewer than two): two runs that differ only in
    their seed land this far apart, so a change must beat the best by more to count."""
    if len(baseline_values) < 2:
        return 0.0
    return max(baseline_values) - min(baseline_values)


def evaluate_run(run_dir: Path, split: str, task: str, data: str) -> dict:
    """Harness metrics of a run's checkpoint on `split`, from the harness's own copy of the data.

    The run directory may come from an untrusted experiment: only its architecture (config),
    tokenizer and weights are used, and its task and data must be the ones that were asked for.
    """
    from magnet.tools.bitnet.precision import autocast

    model, harness_task = _harness(run_dir, task, data)
    with autocast(harness_task.cfg.precision):  # as it trained: harness and trainer agree
        return harness_task.evaluate(model, split)


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
