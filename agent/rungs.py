"""The session's scheduler: its plan of rungs (tools/search/schedule.py), and what comes next.

    made = schedule_update(state)   # (schedule, trace text): made at the start, again from
                                    # measured seconds; None when it stands
    move = next_move(state)         # seed | search | promote | scaleup | stop
    schedule = closed_first_rung(state)   # rung 0 ends with what it ran (nothing new to try)

Pure functions of the state: decide calls them (plan closes rung 0) and writes what they
return.

Rung 0 holds the default config's seeds and the planner's ideas, all at one unit of compute.
Rung r > 0 retrains the best configs of rung r - 1 (one per config: seeds count once) with
ETA**r units, asynchronously: a run in the top third of its rung so far goes up at once;
the config sized for the expert's compute ranks first unless another beats it
by more than the seeds' spread (at one unit a classifier's seeds can differ by 0.14). The
search ends when every rung is done, the target is reached, or a cap is hit (experiments,
the search's share of the minutes, LLM tokens); then the winner, the best run of the highest
rung, is scaled up from its own trained weights with the rest of the budget, once.
"""

from __future__ import annotations

from magnet.agent.state import Experiment, Launch, Move, ResearchState, Settings
from magnet.tools.search.schedule import (
    ETA,
    FLOOR_UNIT_TRAIN_S,
    BudgetError,
    Schedule,
    plan_for_unit,
    plan_schedule,
)
from magnet.tools.workers import choose_workers

BASELINE_SEEDS = 2
# A run's seconds besides training before any is measured: the sandbox's start, the data,
# the harness's evaluation and the planner's turn (an embedded-LLM plan takes a few seconds).
ESTIMATED_OVERHEAD_S = 10.0
# Kept from the budget: the expert's test evaluation and the report after the last run, and
# what a session spends before its first node (imports, loading and checking the LLM): 4-minute
# sessions here ran 12-18 s over with 5 s kept.
RESERVE_S = 15.0
UNIT_TOLERANCE = 2.0  # a unit estimated further off than this is chosen again
DILOCO_STEPS = 200


def schedule_update(state: ResearchState) -> tuple[Schedule, str] | None:
    """The schedule to use from now on with its trace line, or None when it stands: the
    first plan from the budget (raises BudgetError when not even rung 0 fits), then the plan
    made again from measured seconds after the first run, after the seeds, and after the
    first run of each later rung."""
    if state.schedule is None:
        schedule = make_schedule(state)
        return schedule, schedule.describe()
    done = state.experiments
    last = done[-1] if done else None
    if last is None or last.kind == "scaleup":
        return None
    first_of_rung = last.rung > 0 and sum(e.rung == last.rung for e in done) == 1
    if len(done) > BASELINE_SEEDS and not first_of_rung:
        return None
    remade = measured_schedule(state)
    if remade is None or remade == state.schedule:
        return None
    return remade, f"again, from measured seconds: {remade.describe()}"


def closed_first_rung(state: ResearchState) -> Schedule:
    """Rung 0 closed at what it ran (at least one run): nothing untried was left to add."""
    ran = sum(e.rung == 0 for e in state.experiments) + len(in_flight(state, 0))
    return state.schedule.with_first_rung(max(ran, 1))


def auto_workers(settings: Settings) -> Settings:
    """--workers auto, at the first plan: the workers that run the most experiments of the
    unit a one-worker plan of this budget would choose, from a probe of this machine (a few
    seconds). On a Ray cluster, runs get the threads chosen here (nodes taken to be alike)
    and as many run at once as the cluster's CPUs hold."""
    budget_s = settings.budget.wall_minutes * 60 - RESERVE_S
    try:
        unit = plan_schedule(
            max(budget_s, 1),
            ESTIMATED_OVERHEAD_S,
            settings.scaleup,
            settings.budget.max_experiments,
        ).unit_train_s
    except BudgetError:  # the first plan says so
        unit = FLOOR_UNIT_TRAIN_S
    choice = choose_workers(unit, ESTIMATED_OVERHEAD_S)
    if settings.ray is not None:
        from magnet.tools.ray_jobs import connect

        cpus = int(connect(settings.ray).get("CPU", 1))
        choice = choice.model_copy(update={"workers": max(1, cpus // choice.threads)})
    return settings.model_copy(update={"workers": choice.workers, "workers_choice": choice})


def make_schedule(state: ResearchState) -> Schedule:
    """The plan for what is left of the budget, from estimates (this machine's GEMM rate,
    ESTIMATED_OVERHEAD_S): the unit chosen from the budget, or the default config at the
    user's --steps (raises BudgetError when not even rung 0 fits)."""
    from magnet.tools.bitnet.compute import seconds_per_flop

    settings, spec = state.settings, state.spec
    budget_s = settings.budget.wall_minutes * 60 - state.elapsed_s - RESERVE_S
    cap, spf, workers = settings.budget.max_experiments, seconds_per_flop(), settings.workers
    if spec.search_task == "diloco":  # a specialist per domain, at the steps given
        train_s = _default_flops(state, settings.steps or DILOCO_STEPS) * spf * len(spec.domains)
        schedule = plan_for_unit(
            max(budget_s, 1), ESTIMATED_OVERHEAD_S, train_s, 0.0, cap, workers=workers
        )
    elif settings.steps is not None:
        flops = _default_flops(state, settings.steps)
        schedule = plan_for_unit(
            max(budget_s, 1), ESTIMATED_OVERHEAD_S, flops * spf, settings.scaleup, cap,
            workers=workers,
        ).model_copy(update={"unit_flops": flops})  # fmt: skip
    else:
        schedule = plan_schedule(
            max(budget_s, 1), ESTIMATED_OVERHEAD_S, settings.scaleup, cap, workers
        )
        schedule = schedule.model_copy(update={"unit_flops": schedule.unit_train_s / spf})
    return schedule.model_copy(update={"start_s": state.elapsed_s})


def measured_schedule(state: ResearchState) -> Schedule | None:
    """The plan made again from what this session's runs measured: seconds per training FLOP
    and seconds per run besides training (the planner's turn, the sandbox, the harness). A
    unit chosen from an estimate that is more than UNIT_TOLERANCE off is chosen again for
    what is left of the budget, and the runs at the old unit leave the rungs (rung -1: at
    another compute they compare with nothing); otherwise the unit stands and the rungs are
    sized again, rung 0 keeping what it ran. None when nothing finished to measure."""
    schedule, settings = state.schedule, state.settings
    spf = measured_seconds_per_flop(state)
    if spf is None or schedule.unit_flops is None:
        return None
    runs = [e for e in state.experiments if e.rung >= 0]
    spent_train = sum(e.train_s or 0 for e in runs)
    overhead = max(0.0, (state.elapsed_s - schedule.start_s - spent_train) / max(len(runs), 1))
    if settings.workers > 1:  # the agent's turns overlap the other runs: a run's own seconds
        measured = measured_runs(state)
        overhead = sum(e.seconds - e.train_s + e.harness_s for e in measured) / len(measured)
    unit_train_s = schedule.unit_flops * spf
    off = unit_train_s / schedule.unit_train_s
    cap = settings.budget.max_experiments
    # a unit the user fixed (--steps) stands, and under --max-experiments the cap, not the
    # minutes, sets the runs: a unit chosen again would cost one of them for nothing
    estimated = not schedule.measured and settings.steps is None and cap is None
    if estimated and not 1 / UNIT_TOLERANCE < off < UNIT_TOLERANCE:
        left = schedule.start_s + schedule.budget_s - state.elapsed_s
        try:
            remade = plan_schedule(left, overhead, schedule.scaleup, cap, settings.workers)
        except BudgetError:
            return None  # the caps end the search: what ran stands
        update = {"unit_flops": remade.unit_train_s / spf, "start_s": state.elapsed_s}
        return remade.model_copy(update=update | {"measured": True})
    try:
        remade = plan_for_unit(
            schedule.budget_s, overhead, unit_train_s, schedule.scaleup, cap,
            len(schedule.rungs), settings.workers,
        )  # fmt: skip
    except BudgetError:  # what ran took the search's share: the caps end it
        return schedule.model_copy(update={"measured": True})
    ran = sum(e.rung == 0 for e in state.experiments)
    remade = remade.with_first_rung(max(remade.rungs[0].configs, ran))
    keep = {k: getattr(schedule, k) for k in ("unit_flops", "start_s")}
    return remade.model_copy(update=keep | {"measured": True, "note": remade.note or schedule.note})


def measured_runs(state: ResearchState) -> list[Experiment]:
    """The runs that trained: their FLOPs and training seconds are this machine's speed."""
    return [e for e in state.experiments if e.flops and e.train_s]


def measured_seconds_per_flop(state: ResearchState) -> float | None:
    """Training seconds per FLOP over this session's finished runs; None before any."""
    measured = measured_runs(state)
    if not measured:
        return None
    return sum(e.train_s for e in measured) / sum(e.flops for e in measured)


def superseded(state: ResearchState, schedule: Schedule) -> list[Experiment]:
    """The experiments, those run at a unit `schedule` no longer uses moved to rung -1."""
    if state.schedule is None or schedule.unit_flops == state.schedule.unit_flops:
        return state.experiments
    return [e.model_copy(update={"rung": -1}) if e.rung >= 0 else e for e in state.experiments]


def unit_flops(state: ResearchState) -> float | None:
    """A unit's training FLOPs, as the schedule chose them (None before it, and in DiLoCo
    sessions, which keep their steps)."""
    return state.schedule.unit_flops if state.schedule else None


def _default_flops(state: ResearchState, steps: int) -> float:
    """The default config's training FLOPs at `steps`, with the fixed settings (a config the
    trainer refuses counts as the plain default: its runs fail with the trainer's words)."""
    from magnet.tools.bitnet.compute import train_flops
    from magnet.tools.errors import ConfigError
    from magnet.tools.harness.config import ExperimentConfig

    spec = state.spec
    try:
        default = ExperimentConfig.build(spec.task, spec.dataset, state.settings.fixed, steps)
    except ConfigError:
        default = ExperimentConfig.build(spec.task, spec.dataset, {}, steps)
    return train_flops(default.train)


def expert_flops(state: ResearchState) -> float | None:
    """The training FLOPs the session's expert will get: the scale-up's share of the budget
    (less a run's overhead) at the unit's FLOPs per training second, or the last rung's
    units when there is no scale-up."""
    schedule = state.schedule
    unit = unit_flops(state)
    if unit is None:
        return None
    if schedule.scaleup:
        train_s = max(schedule.scaleup * schedule.budget_s - schedule.overhead_s, 0)
        return unit * train_s / schedule.unit_train_s
    return unit * schedule.rungs[-1].units


def next_move(state: ResearchState) -> Move:
    if any(x.kind == "scaleup" for x in state.running):
        return Move(kind="wait", reason="the scale-up is running")
    reason = search_over(state)
    if reason is None:
        move = _search_move(state)
        if move is not None:
            return move
        reason = "every rung is done"
    if state.running:  # the scale-up picks its winner, and the end reports, from every run
        return Move(kind="wait", reason=f"{reason}; {len(state.running)} in flight")
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
    searched, schedule = [e for e in done if e.kind != "scaleup"], state.schedule
    searched += [x for x in state.running if x.kind != "scaleup"]
    cap = budget.max_experiments
    if cap is not None and len(searched) >= cap - (1 if schedule.scaleup else 0):
        return f"experiment budget spent ({len(done)})"
    if state.elapsed_s >= schedule.deadline_s:
        spent, share = (state.elapsed_s - schedule.start_s) / 60, schedule.search_s / 60
        return f"time budget spent ({spent:.1f} of the search's {share:.1f} min)"
    if state.tokens >= budget.llm_tokens:
        return f"LLM token budget spent ({state.tokens})"
    return None


def _search_move(state: ResearchState) -> Move | None:
    """Asynchronous successive halving (ASHA, Li et al. 2020) on the schedule's rungs: a run in
    the top third of its rung so far is promoted at once, the highest rung first, so a search
    cut short by its deadline has already retrained its best; otherwise rung 0 gets its next
    config; once rung 0 is full, each rung is filled from the best of the one below. None when
    every rung is done."""
    rungs = state.schedule.rungs
    for rung in range(len(rungs) - 1, 0, -1):
        if move := _promotion(state, rung, so_far=True):
            return move
    ran = [e for e in state.experiments if e.rung == 0]
    flying = in_flight(state, 0)
    if len(ran) + len(flying) < rungs[0].configs:
        seeds = sum(x.kind == "baseline" for x in flying)
        return Move(kind="seed" if _seeds_short(ran, seeds) else "search", reason="rung 0")
    for rung in range(1, len(rungs)):
        if move := _promotion(state, rung, so_far=False):
            return move
    return None


def _seeds_short(rung0: list[Experiment], flying: int = 0) -> bool:
    """Whether rung 0 needs another seed: until BASELINE_SEEDS ran or are running (`flying`),
    and one more in place of a seed stuck on one class beside one that learnt (their gap is
    not the seeds' spread; when every seed is stuck, the default learns nothing at this
    compute and 0 is right)."""
    seeds = [e for e in rung0 if e.kind == "baseline"]
    learnt = sum(not e.stuck for e in seeds)
    mixed = 0 < learnt < BASELINE_SEEDS and len(seeds) == BASELINE_SEEDS and not flying
    return len(seeds) + flying < BASELINE_SEEDS or mixed


def _promotion(state: ResearchState, rung: int, so_far: bool) -> Move | None:
    """The best run of rung - 1 that `rung` should retrain and has not, if it has room."""
    ran = [*(e for e in state.experiments if e.rung == rung), *in_flight(state, rung)]
    if len(ran) >= state.schedule.rungs[rung].configs:
        return None
    parents = {e.parent for e in ran} | set(state.declined)
    left = [e for e in promoted(state, rung, so_far) if e.id not in parents]
    if not left:
        return None
    return Move(kind="promote", rung=rung, parent=left[0], reason=f"rung {rung}")


def in_flight(state: ResearchState, rung: int) -> list[Launch]:
    """The runs of `rung` in flight at the schedule's unit: they hold their slots."""
    unit = unit_flops(state)
    return [x for x in state.running if x.rung == rung and x.unit_flops == unit]


def promoted(state: ResearchState, rung: int, so_far: bool = False) -> list[Experiment]:
    """The best runs of rung - 1 that rung retrains, one per config (seeds count once): as
    many as the rung holds, or with `so_far` the top third of the configs finished below (a
    config's second seed is no new config: counting runs had a 2-worker Shakespeare session
    promote a run 0.8 bits/byte behind the best, at 3 times its compute)."""
    below = [e for e in state.experiments if e.rung == rung - 1]
    size = state.schedule.rungs[rung].configs
    if so_far:
        size = min(size, len({_config(e) for e in below}) // ETA)
    return _ranked(below, state)[:size]


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
        if (key := _config(e)) not in seen:
            seen.add(key)
            out.append(e)
    prior = next((e for e in out if _is_sized(e, state)), None)
    if prior is not None and objective.gain(out[0].value, prior.value) <= state.noise:
        out.remove(prior)
        out.insert(0, prior)
    return out


def _config(e: Experiment) -> tuple:
    """A run's config, seeds apart."""
    return tuple(sorted((k, v) for k, v in e.config.items() if k != "seed"))


def _is_sized(e: Experiment, state: ResearchState) -> bool:
    """A run of the sized config: the rung-0 run itself or a promotion of it."""
    parents = {x.id: x for x in state.experiments}
    while e.kind == "promoted" and e.parent in parents:
        e = parents[e.parent]
    return e.kind == "sized"


def _scaled(state: ResearchState) -> bool:
    return any(e.kind == "scaleup" for e in state.experiments)
