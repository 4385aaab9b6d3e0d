"""Classical baselines on a dataset's own splits: what a careful engineer gets without MAGNET.

    baselines = classical_baselines("lm", "shakespeare")      # list[Baseline], cached
    best = best_of(baselines)                                  # the one a session must beat

lm         lzma (xz preset 9, extreme): bits per byte of the split *given* the training text,
           i.e. compressed(train + split) − compressed(train). A compressor that has read the
           training text is the bar any language model trained on it should clear.
classify   scikit-learn TF-IDF (word 1–2 and char 2–5 n-grams) + logistic regression with
           balanced class weights, fitted on train: balanced accuracy, with a 95% bootstrap
           interval over test examples.
direction  the majority class of train (balanced accuracy 0.5 by construction; its hit rate
           is what "always up" earns) and a logistic regression on the flattened windows; the
           interval is ±1.96 standard errors of a rate measured on that many days.

The harness computes them from its own copy of the data; results are cached under
$MAGNET_HOME/baselines (or $MAGNET_BASELINE_CACHE, shared by several homes) by the dataset
card's sha256: the same content gives the same numbers.
"""

from __future__ import annotations

import json
import lzma
import math
import os
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from magnet.tools.datasets.types import DOC_SEPARATOR, Task
from magnet.tools.metrics import (
    bootstrap_interval,
    classification_metrics,
    direction_metrics,
    metric,
)

VERSION = 1  # bump when a baseline's definition changes: old cache entries are then ignored


class Baseline(BaseModel):
    """One classical baseline's scores on val and test, in the session's metric."""

    name: str
    metric: str
    val: float
    test: float
    test_low: float | None = Field(None, description="95% interval of the test metric")
    test_high: float | None = None
    seconds: float = 0.0

    def describe(self) -> str:
        interval = (
            f" [{self.test_low:.4g}, {self.test_high:.4g}]" if self.test_low is not None else ""
        )
        return f"{self.name}: val {self.val:.4g}, test {self.test:.4g}{interval} {self.metric}"


def best_of(baselines: list[Baseline]) -> Baseline | None:
    """The strongest baseline on val (the split a session is judged on while it searches)."""
    if not baselines:
        return None
    return metric(baselines[0].metric).best(baselines, key=lambda b: b.val)


def classical_baselines(task: Task, data: str, home: Path | None = None) -> list[Baseline]:
    from magnet.tools.datasets import load_dataset
    from magnet.tools.paths import magnet_home

    dataset = load_dataset(data, task)
    folder = os.environ.get("MAGNET_BASELINE_CACHE") or (home or magnet_home()) / "baselines"
    cache = Path(folder) / f"{task}-{dataset.card.sha256}-v{VERSION}.json"
    if cache.exists():
        try:
            return [Baseline.model_validate(b) for b in json.loads(cache.read_text())]
        except (ValueError, OSError):
            pass  # a damaged cache entry is recomputed
    compute = {"lm": _lm, "classify": _classify, "direction": _direction}[task]
    baselines = compute(dataset)
    _write_atomically(cache, json.dumps([b.model_dump() for b in baselines]))
    return baselines


def _write_atomically(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    except OSError:
        pass  # a cache that cannot be written costs time next session, nothing else


XZ_WINDOW = 64 << 20  # the dictionary of xz -9 (and -9e)


def _timed(fn):
    import time

    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def _lm(ds) -> list[Baseline]:
    train = _tail(ds.train, XZ_WINDOW)

    def xz(data: bytes) -> int:
        return len(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))

    def conditional() -> tuple[float, float]:
        from concurrent.futures import ThreadPoolExecutor

        texts = [DOC_SEPARATOR.join(split).encode() for split in (ds.val, ds.test)]
        inputs = [train] + [train + DOC_SEPARATOR.encode() + t for t in texts]
        with ThreadPoolExecutor(2) as pool:  # lzma lets go of the GIL: two cores, 2/3 the time
            alone, *given = pool.map(xz, inputs)
        val, test = (8 * (n - alone) / max(len(t), 1) for n, t in zip(given, texts, strict=True))
        return val, test

    (val, test), seconds = _timed(conditional)
    return [
        Baseline(
            name="xz -9e given the training text",
            metric="bits_per_byte",
            val=val,
            test=test,
            seconds=seconds,
        )
    ]


def _tail(docs, n: int) -> bytes:
    """The last `n` bytes of the documents joined, read in chunks: xz's matches reach back
    no further than its dictionary, so a longer context would change nothing but the time."""
    tail = bytearray()
    for i in range(len(docs)):
        tail += DOC_SEPARATOR.encode() if i else b""
        for chunk in docs.chunks(i):
            tail += chunk.encode()
            del tail[:-n]
    return bytes(tail)


def _classify(ds) -> list[Baseline]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    def fit():
        features = make_union(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
        )
        model = make_pipeline(
            features, LogisticRegression(C=10, class_weight="balanced", max_iter=2000)
        )
        model.fit(ds.train.texts, ds.train.labels)
        return model

    model, seconds = _timed(fit)
    labels = ds.labels

    def score(split) -> float:
        pred = model.predict(split.texts)
        return classification_metrics(np.asarray(split.labels), pred, labels)["balanced_accuracy"]

    y_test, p_test = np.asarray(ds.test.labels), model.predict(ds.test.texts)
    low, high = bootstrap_interval(y_test, p_test, labels)
    return [
        Baseline(
            name="TF-IDF + logistic regression",
            metric="balanced_accuracy",
            val=score(ds.val),
            test=classification_metrics(y_test, p_test, labels)["balanced_accuracy"],
            test_low=low,
            test_high=high,
            seconds=seconds,
        )
    ]


def standard_error(rate: float, n: int) -> float:
    """Of a rate (hit rate, balanced accuracy) measured on n examples or days."""
    return math.sqrt(max(rate * (1 - rate), 1e-12) / max(n, 1))


def hit_rate_interval(hit_rate: float, n: int) -> tuple[float, float]:
    """±1.96 standard errors of a rate measured on n days."""
    se = standard_error(hit_rate, n)
    return hit_rate - 1.96 * se, hit_rate + 1.96 * se


def _direction(ds) -> list[Baseline]:
    from sklearn.linear_model import LogisticRegression

    majority = int(np.bincount(ds.train.y, minlength=2).argmax())
    flat = {
        name: getattr(ds, name).x.reshape(len(getattr(ds, name).x), -1)
        for name in ("train", "val", "test")
    }
    model, seconds = _timed(
        lambda: LogisticRegression(max_iter=2000).fit(flat["train"], ds.train.y)
    )
    out = []
    for name, predict in (
        ("majority class", lambda split: np.full(len(getattr(ds, split).y), majority)),
        ("logistic regression on the windows", lambda split: model.predict(flat[split])),
    ):
        val = direction_metrics(ds.val.y, predict("val"))
        test = direction_metrics(ds.test.y, predict("test"))
        low, high = hit_rate_interval(test["balanced_accuracy"], len(ds.test.y))
        out.append(
            Baseline(
                name=name,
                metric="balanced_accuracy",
                val=val["balanced_accuracy"],
                test=test["balanced_accuracy"],
                test_low=low,
                test_high=high,
                seconds=seconds if "logistic" in name else 0.0,
            )
        )
    return out
