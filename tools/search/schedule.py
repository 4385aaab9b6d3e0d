"""A session's plan: successive halving over rungs of equal compute, then a scale-up.

    schedule = plan_schedule(budget_s=1800, overhead_s=10, scaleup=0.4)
    schedule.rungs          # [Rung(configs=14, units=1), Rung(configs=5, units=3)]
    schedule.unit_train_s   # ≈ 31: the training seconds of one unit, chosen from the budget
    print(schedule.describe())

One unit is the compute of a rung-0 run. Every config of rung r is trained from scratch with
ETA**r units (a complete schedule: BitNet's two-stage learning rate bends the loss curve
mid-run, so part of a longer run predicts it poorly); the best 1/ETA of a rung go on to the
next. The scale-up then trains the winner with the rest of the budget, starting from the
weights its last rung's run left, and that run is the session's expert.

The budget decides the plan. A run costs `overhead_s` (sandbox start, data, the harness's
evaluation, the planner's turn) plus its training seconds. The search's seconds hold x
"smallest rung 0s" (MIN_FIRST_RUNG configs of MIN_UNIT_TRAIN_S each); a longer budget buys
all three of: more configs (MIN_FIRST_RUNG · x^¼), another rung for every ETA² more (more
rungs on a budget of a few units would leave each one too short to rank anything), and the
unit that fills the rest. Plans on this 2-core machine, with 10 s of overhead a run:

    4 min: 8 configs of 7 s · 32 min: 14 + 5 × 3 units of 33 s · 8 h: 28 + 10 + 4 of 180 s

`plan_for_unit` plans around a unit already fixed (the user's --steps, or the unit measured
runs have used: rung 0 is only comparable at one compute), for the rungs that still fit.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, Field, model_validator

from magnet.tools.errors import MagnetError

ETA = 3  # promotion keeps the best third, at three times the compute
MAX_RUNGS = 5
MIN_FIRST_RUNG = 8  # two seeds of the default config, the sized idea and five more
MIN_CAPPED_FIRST_RUNG = 4  # under the user's --max-experiments: the seeds and two ideas
MIN_UNIT_TRAIN_S = 5.0  # a unit's training seconds where the growth rule starts
FLOOR_UNIT_TRAIN_S = 1.0  # below this a run trains nothing: the budget is too small


class BudgetError(MagnetError):
    """The budget cannot hold a plan; the message names the smallest budget that can."""


class Rung(BaseModel):
    configs: int = Field(gt=0, description="configs trained in this rung")
    units: int = Field(gt=0, description="compute per config, in units")


class Schedule(BaseModel):
    rungs: list[Rung]
    scaleup: float = Field(0.0, ge=0, lt=1, description="share of the budget for the expert")
    budget_s: float = Field(gt=0, description="the seconds this plan spends, from start_s")
    overhead_s: float = Field(ge=0, description="a run's seconds besides training")
    unit_train_s: float = Field(gt=0, description="a unit's training seconds")
    unit_flops: float | None = Field(None, description="a unit's training FLOPs, once chosen")
    start_s: float = Field(0.0, ge=0, description="the session's working seconds at the start")
    measured: bool = Field(False, description="the seconds are measured, not estimated")
    workers: int = Field(1, ge=1, description="runs at once: the search's seconds hold this many")
    note: str = ""

    @model_validator(mode="before")
    @classmethod
    def _before_units_were_chosen(cls, values):
        """A schedule saved before the budget chose the unit: its unit_s was all training."""
        if isinstance(values, dict) and "unit_s" in values and "unit_train_s" not in values:
            values = {**values, "unit_train_s": values["unit_s"], "overhead_s": 0.0}
            values.pop("unit_s")
        return values

    def with_first_rung(self, configs: int) -> Schedule:
        """The same plan with rung 0 holding `configs` (it ran more, or closed early)."""
        rungs = [self.rungs[0].model_copy(update={"configs": configs}), *self.rungs[1:]]
        return self.model_copy(update={"rungs": rungs})

    @property
    def unit_s(self) -> float:
        """The seconds of one rung-0 run."""
        return self.overhead_s + self.unit_train_s

    @property
    def experiments(self) -> int:
        return sum(r.configs for r in self.rungs) + (1 if self.scaleup else 0)

    @property
    def search_s(self) -> float:
        return self.budget_s * (1 - self.scaleup)

    @property
    def deadline_s(self) -> float:
        """The session's working seconds at which the search stops starting runs."""
        return self.start_s + self.search_s

    def estimated_s(self) -> float:
        search = _cost(self.rungs, self.overhead_s, self.unit_train_s) / self.workers
        return search + self.scaleup * self.budget_s

    def describe(self) -> str:
        """`rung 0: 14 configs × 1 unit · rung 1: 5 configs × 3 units · scale-up: … · ≈ 30 min
        (a unit ≈ 40 s: 30 s training)`."""
        parts = [
            f"rung {i}: {r.configs} config{'s' if r.configs > 1 else ''} × {r.units} "
            f"unit{'s' if r.units > 1 else ''}"
            for i, r in enumerate(self.rungs)
        ]
        parts.append(
            f"scale-up: the winner with the rest (≈ {self.scaleup:.0%} of the budget)"
            if self.scaleup
            else "no scale-up"
        )
        how = "measured" if self.measured else "≈"
        parts.append(
            f"≈ {self.estimated_s() / 60:.1f} min (a unit {how} {self.unit_s:.0f} s: "
            f"{self.unit_train_s:.0f} s training"
            + (f"; {self.workers} at once)" if self.workers > 1 else ")")
        )
        return " · ".join(parts) + (f" ({self.note})" if self.note else "")


def plan_schedule(
    budget_s: float,
    overhead_s: float,
    scaleup: float = 0.4,
    max_experiments: int | None = None,
    workers: int = 1,
) -> Schedule:
    """The plan whose configs, rungs and unit all grow with the budget (the module's rule),
    its search run `workers` at a time; BudgetError when not even MIN_FIRST_RUNG runs of
    FLOOR_UNIT_TRAIN_S fit."""
    scaleup, note = _scaleup(scaleup, max_experiments)
    search = budget_s * (1 - scaleup) * workers  # the search's run-seconds
    x = search / (MIN_FIRST_RUNG * (overhead_s + MIN_UNIT_TRAIN_S))
    n_rungs = min(MAX_RUNGS, 1 + int(math.log(x, ETA**2))) if x >= 1 else 1
    first = max(MIN_FIRST_RUNG, ETA ** (n_rungs - 1), round(MIN_FIRST_RUNG * max(x, 1) ** 0.25))
    first = min(first, _cap(max_experiments, scaleup) or first)
    rungs = _rungs(first, n_rungs)
    unit = (search - overhead_s * sum(r.configs for r in rungs)) / _units(rungs)
    if unit < FLOOR_UNIT_TRAIN_S:
        runs = sum(r.configs for r in rungs)
        smallest = runs * (overhead_s + FLOOR_UNIT_TRAIN_S) / (1 - scaleup) / workers
        raise BudgetError(
            f"a budget of {budget_s / 60:.3g} min cannot hold {runs} runs here (each ≈ "
            f"{overhead_s:.0f} s besides training) in its search share ({1 - scaleup:.0%}); "
            f"the smallest budget that works is --budget-minutes {_minutes(smallest)}"
        )
    return Schedule(
        rungs=rungs, scaleup=scaleup, budget_s=budget_s, overhead_s=overhead_s,
        unit_train_s=unit, note=note, workers=workers,
    )  # fmt: skip


def plan_for_unit(
    budget_s: float,
    overhead_s: float,
    unit_train_s: float,
    scaleup: float = 0.4,
    max_experiments: int | None = None,
    rungs: int | None = None,
    workers: int = 1,
) -> Schedule:
    """The plan around a fixed unit: `rungs` rungs (default: as many as fit, up to
    MAX_RUNGS) whose first holds at least MIN_FIRST_RUNG (MIN_CAPPED_FIRST_RUNG under a cap)
    and ETA**(rungs - 1) configs, as many as the search's seconds and the cap hold; else one
    rung of what fits (BudgetError for none); its search run `workers` at a time."""
    scaleup, note = _scaleup(scaleup, max_experiments)
    search, cap = budget_s * (1 - scaleup) * workers, _cap(max_experiments, scaleup)
    unit = dict(overhead_s=overhead_s, unit_train_s=unit_train_s, workers=workers)
    least = MIN_FIRST_RUNG if cap is None else MIN_CAPPED_FIRST_RUNG
    for n_rungs in range(rungs or MAX_RUNGS, 1, -1):
        first = _largest_first(n_rungs, search, overhead_s, unit_train_s, cap)
        if first >= max(least, ETA ** (n_rungs - 1)):
            return Schedule(
                rungs=_rungs(first, n_rungs), scaleup=scaleup, budget_s=budget_s, note=note,
                **unit,
            )  # fmt: skip
    first = int(search // (overhead_s + unit_train_s))
    if cap is not None:
        first = min(first, cap)
    if first < 1:
        smallest = (overhead_s + unit_train_s) / (1 - scaleup) / workers
        raise BudgetError(
            f"a budget of {budget_s / 60:.3g} min cannot hold one run (≈ "
            f"{overhead_s + unit_train_s:.0f} s here) in its search share ({1 - scaleup:.0%}); "
            f"the smallest budget that works is --budget-minutes {_minutes(smallest)}"
        )
    return Schedule(rungs=[Rung(configs=first, units=1)], scaleup=scaleup, budget_s=budget_s,
                    note=note, **unit)  # fmt: skip


def _scaleup(scaleup: float, max_experiments: int | None) -> tuple[float, str]:
    if scaleup and max_experiments is not None and max_experiments < 2:
        return 0.0, "no room for a scale-up in 1 experiment"
    return scaleup, ""


def _cap(max_experiments: int | None, scaleup: float) -> int | None:
    """The search's runs under --max-experiments (the scale-up is one of them)."""
    return None if max_experiments is None else max_experiments - (1 if scaleup else 0)


def _minutes(seconds: float) -> str:
    return f"{math.ceil(seconds / 60 * 10) / 10:g}"


def _rungs(first: int, n_rungs: int) -> list[Rung]:
    sizes = [first]
    for _ in range(n_rungs - 1):
        sizes.append(math.ceil(sizes[-1] / ETA))
    return [Rung(configs=n, units=ETA**i) for i, n in enumerate(sizes)]


def _units(rungs: list[Rung]) -> int:
    return sum(r.configs * r.units for r in rungs)


def _cost(rungs: list[Rung], overhead_s: float, unit_train_s: float) -> float:
    return overhead_s * sum(r.configs for r in rungs) + unit_train_s * _units(rungs)


def _largest_first(n_rungs: int, search: float, overhead_s, unit_train_s, cap) -> int:
    """The largest first rung whose halving fits the search's seconds and the cap."""
    first = 0
    while True:
        rungs = _rungs(first + 1, n_rungs)
        runs = sum(r.configs for r in rungs)
        if _cost(rungs, overhead_s, unit_train_s) > search or (cap is not None and runs > cap):
            return first
        first += 1
