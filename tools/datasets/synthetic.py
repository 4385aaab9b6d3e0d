"""Programmatic data: slot-filled templates, typo noise, and regime-switching price series.

    fill_templates({"spam": ["WIN {prize} now"], "ham": ["see you at {time}"]},
                   {"prize": ["a car", "cash"], "time": ["6", "noon"]}, n=100, seed=0)
    with_noise(examples, copies=1, rate=0.05, seed=0)    # typo'd copies, for train only
    regime_walk(days=2500, seed=0)                       # close/high/low/volume arrays

Everything is seeded: the same call gives the same data.
"""

from __future__ import annotations

import random
import re

import numpy as np

from magnet.tools.datasets.generate import Example
from magnet.tools.errors import DatasetError

SLOT = re.compile(r"\{(\w+)\}")


def fill_templates(
    templates: dict[str, list[str]], slots: dict[str, list[str]], n: int, seed: int = 0
) -> list[Example]:
    """n examples, labels taking turns, each a random template with random slot values.
    Repeats are possible when the templates allow few combinations (dedupe on load)."""
    missing = {s for ts in templates.values() for t in ts for s in SLOT.findall(t)} - set(slots)
    if missing:
        raise DatasetError(f"templates use slots with no values: {', '.join(sorted(missing))}")
    if len(templates) < 2 or not all(templates.values()):
        raise DatasetError("templates need two or more labels, each with a template")
    rng = random.Random(seed)
    labels = sorted(templates)
    out = []
    for i in range(n):
        label = labels[i % len(labels)]
        text = SLOT.sub(lambda m: rng.choice(slots[m.group(1)]), rng.choice(templates[label]))
        out.append(Example(text=text, label=label))
    return out


def with_noise(examples: list[Example], copies: int = 1, rate: float = 0.05, seed: int = 0):
    """`copies` noisy versions of each example: characters dropped, doubled, swapped or
    re-cased at `rate` per character. For the train split only: a typo'd copy of a test item
    would leak."""
    rng = random.Random(seed)
    return [
        Example(text=_typos(e.text, rate, rng), label=e.label)
        for e in examples
        for _ in range(copies)
    ]


def _typos(text: str, rate: float, rng: random.Random) -> str:
    chars, out, i = list(text), [], 0
    while i < len(chars):
        c = chars[i]
        r = rng.random()
        if r < rate / 4:
            pass  # dropped
        elif r < rate / 2:
            out += [c, c]
        elif r < 3 * rate / 4 and i + 1 < len(chars):
            out += [chars[i + 1], c]
            i += 1
        elif r < rate:
            out.append(c.swapcase())
        else:
            out.append(c)
        i += 1
    return "".join(out) or text


# (daily drift, daily volatility, chance to stay) per regime: a calm bull, a volatile bear.
REGIMES = ((0.0006, 0.008, 0.985), (-0.0008, 0.02, 0.97))


def regime_walk(days: int = 2500, seed: int = 0, start: float = 100.0) -> dict[str, np.ndarray]:
    """Daily OHLCV of a log random walk whose drift and volatility switch between REGIMES as
    a Markov chain: trends persist within a regime, so direction is a little predictable."""
    if days < 100:
        raise DatasetError(f"{days} days are too few for a price series (100 or more)")
    rng = np.random.default_rng(seed)
    regime, states = 0, np.empty(days, dtype=np.int64)
    for t in range(days):
        states[t] = regime
        if rng.random() > REGIMES[regime][2]:
            regime = 1 - regime
    drift = np.array([r[0] for r in REGIMES])[states]
    vol = np.array([r[1] for r in REGIMES])[states]
    returns = drift + vol * rng.standard_normal(days)
    close = start * np.exp(np.cumsum(returns))
    spread = np.abs(rng.standard_normal(days)) * vol * close
    volume = np.exp(13 + 0.3 * rng.standard_normal(days) + 5 * vol)
    return {"close": close, "high": close + spread, "low": close - spread * 0.9, "volume": volume}
