"""Metrics as numbers: what each one means, which way is better, and how a value is judged.

    BITS_PER_BYTE.better(1.9, 2.0)          # True: lower is better
    metric("balanced_accuracy").best([0.8, 0.9])
    BITS_PER_BYTE.verdict(1.9, "ok", best=2.0, noise=0.05)     # "improved"

lm         val loss (nats/token) and bits per byte
classify   accuracy, balanced accuracy, macro F1, per-class F1, confusion matrix
direction  hit rate, balanced accuracy, share of "up" predictions

Pure functions of predictions and values: the trainer's tasks, the harness and the agent all
use them, and this module imports nothing of MAGNET.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Literal, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")
Verdict = Literal["first", "improved", "no_change", "worse", "failed"]
LOWER_IS_BETTER = {"bits_per_byte", "loss"}  # every other metric here counts hits


class Metric(BaseModel):
    """A metric's name and which way is better: the one place a comparison is decided."""

    model_config = ConfigDict(frozen=True)

    name: str
    higher_is_better: bool

    def gain(self, value: float, than: float) -> float:
        """How far `value` is better than `than` (negative: worse)."""
        return value - than if self.higher_is_better else than - value

    def better(self, value: float, than: float | None) -> bool:
        """Strictly better; anything is better than nothing."""
        return than is None or self.gain(value, than) > 0

    def reached(self, value: float, target: float) -> bool:
        return self.gain(value, target) >= 0

    def ranked(self, items: Iterable[T], key: Callable[[T], float] = float) -> list[T]:
        """Best first; a stable sort, so ties keep their order."""
        sign = -1 if self.higher_is_better else 1
        return sorted(items, key=lambda item: sign * key(item))

    def best(self, items: Iterable[T], key: Callable[[T], float] = float) -> T | None:
        ranked = self.ranked(items, key)
        return ranked[0] if ranked else None

    def verdict(
        self, value: float | None, status: str, best: float | None, noise: float
    ) -> Verdict:
        """Better than the best only beyond the noise floor; the first run has nothing to
        improve on."""
        if status != "ok" or value is None:
            return "failed"
        if best is None:
            return "first"
        gain = self.gain(value, best)
        if gain > noise:
            return "improved"
        return "worse" if gain < -noise else "no_change"


def metric(name: str) -> Metric:
    return Metric(name=name, higher_is_better=name not in LOWER_IS_BETTER)


BITS_PER_BYTE, BALANCED_ACCURACY = metric("bits_per_byte"), metric("balanced_accuracy")
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


def one_class(harness: dict) -> bool:
    """A classifier (or direction model) that gave every example the same class: it learnt
    nothing yet, whatever its seed (its balanced accuracy is chance)."""
    confusion = harness.get("confusion")
    return confusion is not None and int(np.count_nonzero(np.sum(confusion, axis=0))) <= 1


def noise_floor(baseline_values: list[float]) -> float:
    """The range of the baseline seeds (0 with fewer than two): two runs that differ only in
    their seed land this far apart, so a change must beat the best by more to count."""
    if len(baseline_values) < 2:
        return 0.0
    return max(baseline_values) - min(baseline_values)


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
