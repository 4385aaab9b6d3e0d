"""A session's plan: successive halving over rungs of equal compute, then a scale-up.

    schedule = plan_schedule(budget_s=1800, unit_s=40, max_experiments=8, scaleup=0.4)
    schedule.rungs          # [Rung(configs=5, units=1), Rung(configs=2, units=3)]
    print(schedule.describe())

One unit is the compute the default config spends in `--steps` steps (tools/bitnet/compute.py).
Every config of rung r is trained from scratch with ETA**r units (a complete schedule: BitNet's
two-stage learning rate bends the loss curve mid-run, so part of a longer run predicts it
poorly); the best 1/ETA of a rung go on to the next. The scale-up then trains the winner with
the share `scaleup` of the budget's seconds, starting from the weights its last rung's run
left (a schedule of its own: the compute spent there is not thrown away), and that run is the
session's expert. The rung
sizes come from the budget in seconds, an estimate of a unit's seconds, and the experiment cap.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, Field

from magnet.tools.errors import MagnetError

ETA = 3  # promotion keeps the best third, at three times the compute
MAX_RUNGS = 3
MIN_FIRST_RUNG = 4  # two seeds of the default config and two ideas before anything is promoted


class BudgetError(MagnetError):
    """The budget cannot hold a plan; the message names the smallest budget that can."""


class Rung(BaseModel):
    configs: int = Field(gt=0, description="configs trained in this rung")
    units: int = Field(gt=0, description="compute per config, in default-config runs")


class Schedule(BaseModel):
    rungs: list[Rung]
    scaleup: float = Field(0.0, ge=0, lt=1, description="share of the budget for the expert")
    budget_s: float = Field(gt=0)
    unit_s: float = Field(gt=0, description="seconds of one default-config run: estimated")
    measured: bool = Field(False, description="unit_s is the seeds' mean seconds instead")
    note: str = ""

    def with_first_rung(self, configs: int) -> Schedule:
        """The same plan with rung 0 holding `configs` (it ran more, or closed early)."""
        rungs = [self.rungs[0].model_copy(update={"configs": configs}), *self.rungs[1:]]
        return self.model_copy(update={"rungs": rungs})

    @property
    def experiments(self) -> int:
        return sum(r.configs for r in self.rungs) + (1 if self.scaleup else 0)

    @property
    def search_s(self) -> float:
        return self.budget_s * (1 - self.scaleup)

    def estimated_s(self) -> float:
        search = sum(r.configs * r.units for r in self.rungs) * self.unit_s
        return search + self.scaleup * self.budget_s

    def describe(self) -> str:
        """`rung 0: 5 configs × 1 unit · rung 1: 2 × 3 units · scale-up: 40% · ≈ 12 min`."""
        parts = [
            f"rung {i}: {r.configs} config{'s' if r.configs > 1 else ''} × {r.units} "
            f"unit{'s' if r.units > 1 else ''}"
            for i, r in enumerate(self.rungs)
        ]
        parts.append(
            f"scale-up: the winner with {self.scaleup:.0%} of the budget"
            if self.scaleup
            else "no scale-up"
        )
        how = "measured" if self.measured else "≈"
        parts.append(f"≈ {self.estimated_s() / 60:.1f} min (a unit {how} {self.unit_s:.0f} s)")
        return " · ".join(parts) + (f" ({self.note})" if self.note else "")


def plan_schedule(
    budget_s: float, unit_s: float, max_experiments: int, scaleup: float = 0.4
) -> Schedule:
    """The most rungs (up to MAX_RUNGS) whose first holds at least ETA**(rungs - 1) and
    MIN_FIRST_RUNG configs within both the search's seconds and the experiment cap; one rung
    when none does."""
    note = ""
    if scaleup and max_experiments < 2:
        scaleup, note = 0.0, "no room for a scale-up in 1 experiment"
    units = budget_s * (1 - scaleup) / unit_s
    cap = max_experiments - (1 if scaleup else 0)
    if units < 1:
        smallest = math.ceil(unit_s / (1 - scaleup) / 60 * 10) / 10
        raise BudgetError(
            f"a budget of {budget_s / 60:.3g} min cannot hold one run of the default config "
            f"(≈ {unit_s:.0f} s here) in its search share ({1 - scaleup:.0%}); "
            f"the smallest budget that works is --budget-minutes {smallest:g}"
        )
    for n_rungs in range(MAX_RUNGS, 1, -1):
        first = _largest_first_rung(n_rungs, units, cap)
        if first >= max(MIN_FIRST_RUNG, ETA ** (n_rungs - 1)):
            return Schedule(
                rungs=_rungs(first, n_rungs), scaleup=scaleup, budget_s=budget_s,
                unit_s=unit_s, note=note,
            )  # fmt: skip
    first = max(1, min(cap, int(units)))
    return Schedule(
        rungs=[Rung(configs=first, units=1)], scaleup=scaleup, budget_s=budget_s, unit_s=unit_s,
        note=note,
    )  # fmt: skip


def _rungs(first: int, n_rungs: int) -> list[Rung]:
    sizes = [first]
    for _ in range(n_rungs - 1):
        sizes.append(math.ceil(sizes[-1] / ETA))
    return [Rung(configs=n, units=ETA**i) for i, n in enumerate(sizes)]


def _largest_first_rung(n_rungs: int, units: float, cap: int) -> int:
    """The largest first rung whose halving fits `units` of compute and `cap` experiments."""
    first = 0
    for n in range(1, cap + 1):
        rungs = _rungs(n, n_rungs)
        cost = sum(r.configs * r.units for r in rungs)
        if cost <= units and sum(r.configs for r in rungs) <= cap:
            first = n
    return first
