"""Daily OHLCV prices → windows of past features labelled with the next day's direction."""

from __future__ import annotations

import hashlib

import numpy as np

from magnet.tools.datasets.prices import Prices
from magnet.tools.datasets.splits import split_ordered
from magnet.tools.datasets.types import DatasetCard, Provenance, SeriesDataset, SeriesSplit
from magnet.tools.errors import DatasetError

WINDOW = 32
VAL_FRAC = TEST_FRAC = 0.15


def direction_dataset(
    prices: Prices,
    about: Provenance,
    *,
    window: int = WINDOW,
) -> SeriesDataset:
    """Features per day: log return, log high/low range, log volume change (when present).

    The sample for day t sees days t-window+1..t and is labelled 1 when close[t+1] > close[t].
    Splits are consecutive in time; features are standardised with train statistics only.
    """
    notes, prices = prices.notes, prices.columns
    close = prices["close"]
    feats, names = [np.diff(np.log(close))], ["log_return"]
    if "high" in prices and "low" in prices:
        feats.append(np.log(prices["high"][1:] / prices["low"][1:]))
        names.append("log_range")
    if "volume" in prices and (prices["volume"] > 0).all():
        feats.append(np.diff(np.log(prices["volume"])))
        names.append("log_volume_change")
    f = np.stack(feats, axis=1)  # row i describes day i+1
    # Samples end at day t = window..len-2 (feature rows t-window..t-1); label from close[t+1].
    ends = np.arange(window, len(close) - 1)
    if len(ends) < 30:
        raise DatasetError(
            f"{about.source}: {len(close)} days are too few for {window}-day windows"
        )
    x = np.stack([f[t - window : t] for t in ends]).astype(np.float32)
    y = (close[ends + 1] > close[ends]).astype(np.int64)
    train, val, test = split_ordered(len(ends), VAL_FRAC, TEST_FRAC)
    mean = f[: ends[train.stop - 1]].mean(axis=0)
    std = f[: ends[train.stop - 1]].std(axis=0) + 1e-8
    x = ((x - mean) / std).astype(np.float32)
    card = DatasetCard(
        **about.model_dump(),
        task="direction",
        sizes={"train": len(train), "val": len(val), "test": len(test)},
        labels=["down", "up"],
        sha256=_hash_prices(prices),
        notes=[*notes, f"window {window} days; features: {', '.join(names)}"],
    )
    parts = [SeriesSplit(x[r.start : r.stop], y[r.start : r.stop]) for r in (train, val, test)]
    return SeriesDataset(card, names, *parts)


def _hash_prices(prices: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(prices):
        h.update(name.encode())
        h.update(np.ascontiguousarray(prices[name]).tobytes())
    return h.hexdigest()
