"""Metrics computed by the harness from predictions, never reported by the model under test.

lm         val loss (nats/token) and bits per byte
classify   accuracy, balanced accuracy, macro F1, per-class F1, confusion matrix
direction  hit rate, balanced accuracy, share of "up" predictions

`score_run` gives a run's primary metric on a split with a 95% bootstrap interval: over
examples (classify), days (direction) or evaluation windows (lm).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

BOOTSTRAP = 1000  # resamples for a 95% percentile interval


class Score(BaseModel):
    """A primary metric on one split, with its 95% interval."""

    split: str
    metric: str
    value: float
    low: float
    high: float
    n: int = Field(description="examples, days or windows the interval resamples")
    unit: str = Field(description="what n counts")

    def describe(self) -> str:
        return (
            f"{self.split} {self.metric} {self.value:.4g} [{self.low:.4g}, {self.high:.4g}] "
            f"(95% bootstrap over {self.n} {self.unit})"
        )


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
    """first | improved | no_change | worse | failed: better than the best only beyond the
    noise floor; the first run has nothing to improve on."""
    if status != "ok" or value is None:
        return "failed"
    if best is None:
        return "first"
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


def bootstrap(values: np.ndarray, statistic, seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of `statistic` over resampled values."""
    rng = np.random.default_rng(seed)
    n = len(values)
    stats = [statistic(values[rng.integers(0, n, n)]) for _ in range(BOOTSTRAP)]
    return float(np.percentile(stats, 2.5)), float(np.percentile(stats, 97.5))


def bootstrap_interval(y_true, y_pred, labels: list[str], seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of balanced accuracy over resampled examples."""
    pairs = np.stack([np.asarray(y_true), np.asarray(y_pred)], axis=1)

    def balanced(sample: np.ndarray) -> float:
        return classification_metrics(sample[:, 0], sample[:, 1], labels)["balanced_accuracy"]

    return bootstrap(pairs, balanced, seed)


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
