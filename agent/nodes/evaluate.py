"""evaluate: the harness's metric against the best so far and the noise floor → a verdict.

Reads: the experiment just run (status, harness value), best, the baseline values.
Improved means better than the best by more than the noise floor (the spread of the
baseline seeds). Writes: verdict, and best/noise when they change. Next: analyze.
"""

from __future__ import annotations

import statistics


def verdict(
    value: float | None, status: str, best: float | None, noise: float, higher_is_better: bool
) -> str:
    if status != "ok" or value is None:
        return "failed"
    if best is None:
        return "improved"
    delta = (value - best) if higher_is_better else (best - value)
    if delta > noise:
        return "improved"
    return "worse" if delta < -noise else "no_change"


def noise_floor(baseline_values: list[float]) -> float:
    """Half the range of the baseline seeds (0 with fewer than two)."""
    if len(baseline_values) < 2:
        return 0.0
    return (max(baseline_values) - min(baseline_values)) / 2 or statistics.pstdev(baseline_values)
