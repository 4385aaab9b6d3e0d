"""The session's scheduler: its plan of rungs (tools/search/schedule.py), and what comes next.

    made = schedule_update(state)   # (schedule, trace text): made at the start, again once
                                    # the seeds are measured; None when it stands
    move = next_move(state)         # seed | search | promote | scaleup | stop
    schedule = closed_first_rung(state)   # rung 0 ends with what it ran (nothing new to try)

Pure functions of the state: decide calls them (plan closes rung 0) and writes what they
return.

Rung 0 holds the default config's seeds and the planner's ideas, all at one unit of compute.
Rung r > 0 retrains the best configs of rung r - 1 (one per config: seeds count once) with
ETA**r units; the config sized for the expert's compute ranks first unless another beats it
by more than the seeds' spread (at one unit a classifier's seeds can differ by 0.14). The
search ends when every rung is done, the target is reached, or a cap is hit (experiments,
the search's share of the minutes, LLM tokens); then the winner, the best run of the highest
rung, is scaled up from its own trained weights with the rest of the budget, once.
"""

from __future__ import annotations

from statistics import mean

from magnet.agent.state import Experiment, Move, ResearchState
from magnet.tools.search.schedule import BudgetError, Schedule, plan_schedule

BASELINE_SEEDS = 2


def schedule_update(state: ResearchState) -> tuple[Schedule, str] | None:
    """The schedule to use from now on with its trace line, or None when it stands: the
    first plan from the budget (raises BudgetError when not even one rung fits), then once
    the seeds have run the plan made again from their measured seconds."""
    if state.schedule is None:
        schedule = make_schedule(state)
        return schedule, schedule.describe()
    remade = measured_schedule(state)
    if remade is None:
        return None
    return remade, f"again, from the seeds' measured seconds: {remade.describe()}"


def closed_first_rung(state: ResearchState) -> Schedule:
    """Rung 0 closed at what it ran (at least one run): nothing untried was left to add."""
    ran = sum(e.rung == 0 for e in state.experiments)
    return state.schedule.with_first_rung(max(ran, 1))


def make_schedule(state: ResearchState) -> Schedule:
    """The plan for this budget: a unit's seconds estimated from its FLOPs and this machine's
    GEMM rate (raises BudgetError when not even one rung fits)."""
    from magnet.tools.bitnet.compute import estimated_seconds

    settings, spec = state.settings, state.spec
    scaleup = settings.scaleup if spec.search_task != "diloco" else 0.0
    unit_s = estimated_seconds(unit_flops(state) or 0)
    if spec.search_task == "diloco":
        unit_s *= max(len(spec.domains), 1)  # a specialist per domain
    return plan_schedule(
        settings.budget.wall_minutes * 60, unit_s, settings.budget.max_experiments, scaleup
    )


def measured_schedule(state: ResearchState) -> Schedule | None:
    """The plan made again once the seeds have run, from their measured seconds (None before
    that, or once done): a unit's estimate from the GEMM rate was off by up to 40% here, so
    arms with one budget got one rung of 7 or two of 4 + 2. Rung 0 keeps what it has run."""
    schedule, settings = state.schedule, state.settings
    seeds = [e for e in state.experiments if e.kind == "baseline"]
    if schedule.measured or len(seeds) < BASELINE_SEEDS:
        return None
    seconds = [e.seconds for e in seeds if e.ok and e.seconds > 0]
    kept = schedule.model_copy(update={"measured": True})
    if not seconds:  # no seed finished: nothing measured, the estimate stands
        return kept
    try:
        remade = plan_schedule(
            schedule.budget_s, mean(seconds), settings.budget.max_experiments, schedule.scaleup
        )
    except BudgetError:  # the seeds alone took the search's share: the caps end it
        return kept
    ran = sum(e.rung == 0 for e in state.experiments)
    remade = remade.with_first_rung(max(remade.rungs[0].configs, ran))
    return remade.model_copy(update={"measured": True, "note": remade.note or schedule.note})


def unit_flops(state: ResearchState) -> float | None:
    """One unit: the default config's training FLOPs at `--steps`, with the fixed settings;
    None when the trainer would refuse that config (the sandboxed run says why)."""
    from magnet.tools.bitnet.compute import train_flops
    from magnet.tools.errors import ConfigError
    from magnet.tools.harness.config import ExperimentConfig

    settings, spec = state.settings, state.spec
    try:
        default = ExperimentConfig.build(spec.task, spec.dataset, settings.fixed, settings.steps)
    except ConfigError:
        return None
    return train_flops(default.train)


def expert_flops(state: ResearchState) -> float | None:
    """The training FLOPs the session's expert will get: the scale-up's share of the budget
    in units, or the last rung's units when there is no scale-up."""
    unit, schedule = unit_flops(state), state.schedule
    if unit is None or schedule is None:
        return None
    if schedule.scaleup:
        return unit * schedule.scaleup * schedule.budget_s / schedule.unit_s
    return unit * schedule.rungs[-1].units


def next_move(state: ResearchState) -> Move:
    reason = search_over(state)
    if reason is None:
        move = _search_move(state)
        if move is not None:
            return move
        reason = "every rung is done"
    winner = _winner(state)
    if state.schedule.scaleup and winner is not None and not _scaled(state):
        rung = len(state.schedule.rungs)  # a phase of its own, after the last rung
        return Move(kind="scaleup", rung=rung, parent=winner, reason=reason)
    if _scaled(state):
        reason = "the scale-up is done"
    elif state.schedule.scaleup and winner is None:
        reason += "; no run finished, so nothing to scale up"
    return Move(kind="stop", reason=reason)


def search_over(state: ResearchState) -> str | None:
    """Why the search is over though rungs remain: target, caps; None while it goes on."""
    spec, budget, best, done = state.spec, state.settings.budget, state.best, state.experiments
    if best and spec.target is not None and spec.objective.reached(best.value, spec.target):
        return f"target reached: {spec.metric} {best.value:.4g}"
    searched = [e for e in done if e.kind != "scaleup"]
    cap = budget.max_experiments - (1 if state.schedule.scaleup else 0)
    if len(searched) >= cap:
        return f"experiment budget spent ({len(done)})"
    spent = sum(e.seconds for e in searched)
    if spent >= state.schedule.search_s:
        return f"time budget spent ({spent / 60:.1f} of {state.schedule.search_s / 60:.1f} min)"
    if state.tokens >= budget.llm_tokens:
        return f"LLM token budget spent ({state.tokens})"
    return None


def _search_move(state: ResearchState) -> Move | None:
    """The next run of the first rung that is not full, or None when every rung is done."""
    for rung, size in enumerate(r.configs for r in state.schedule.rungs):
        ran = [e for e in state.experiments if e.rung == rung]
        if rung == 0:
            if len(ran) >= size:
                continue
            seeds = sum(e.kind == "baseline" for e in ran)
            return Move(kind="seed" if seeds < BASELINE_SEEDS else "search", reason="rung 0")
        parents = {e.parent for e in ran} | set(state.declined)
        left = [e for e in promoted(state, rung) if e.id not in parents]
        if left:
            return Move(kind="promote", rung=rung, parent=left[0], reason=f"rung {rung}")
    return None


def promoted(state: ResearchState, rung: int) -> list[Experiment]:
    """The best runs of rung - 1 that rung retrains, one per config (seeds count once)."""
    size = state.schedule.rungs[rung].configs
    return _ranked([e for e in state.experiments if e.rung == rung - 1], state)[:size]


def _winner(state: ResearchState) -> Experiment | None:
    """The best run of the highest rung any run finished in."""
    searched = [e for e in state.experiments if e.kind != "scaleup" and e.ok]
    if not searched:
        return None
    top = max(e.rung for e in searched)
    return _ranked([e for e in searched if e.rung == top], state)[0]


def _ranked(runs: list[Experiment], state: ResearchState) -> list[Experiment]:
    """Finished runs, best first, the better of two runs of one config (seeds apart) only;
    the config sized for the expert's compute (the policy's prior) leads unless another beats
    it by more than the noise floor: a difference within the seeds' spread is no evidence."""
    objective = state.spec.objective
    ranked = objective.ranked((e for e in runs if e.ok), key=lambda e: e.value)
    seen, out = set(), []
    for e in ranked:
        key = tuple(sorted((k, v) for k, v in e.config.items() if k != "seed"))
        if key not in seen:
            seen.add(key)
            out.append(e)
    prior = next((e for e in out if _is_sized(e, state)), None)
    if prior is not None and objective.gain(out[0].value, prior.value) <= state.noise:
        out.remove(prior)
        out.insert(0, prior)
    return out


def _is_sized(e: Experiment, state: ResearchState) -> bool:
    """A run of the sized config: the rung-0 run itself or a promotion of it."""
    parents = {x.id: x for x in state.experiments}
    while e.kind == "promoted" and e.parent in parents:
        e = parents[e.parent]
    return e.kind == "sized"


def _scaled(state: ResearchState) -> bool:
    return any(e.kind == "scaleup" for e in state.experiments)
