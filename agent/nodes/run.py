"""run: the reviewed proposal started as an experiment in the sandbox, on a free worker.

Reads: proposal, best, settings (fixed), spec, schedule, elapsed_s. Every training
experiment of rung r gets the schedule's unit of compute times the rung's units
(tools/bitnet/compute.py, tools/search/schedule.py): a config with twice the batch runs half
the steps. A promotion retrains its parent's config from scratch; the scale-up starts from
its parent's trained weights and gets the steps the rest of the budget buys at the rate this
session's runs measured. A change of `merge` alone in a DiLoCo session re-merges the best
run's specialists (kind remerge); `augment=N` for a classifier first has the LLM write N
training examples for the best run's misclassified val texts. With several workers each run
gets its share of the cores; the scale-up, which runs alone, all of them.
Writes: running (the launch: what the experiment is, and the request that starts it). Next:
decide while a worker is free, else collect, which waits for a run to finish.
"""

from __future__ import annotations

from magnet.agent.deps import Deps
from magnet.agent.nodes.collect import start
from magnet.agent.rungs import DILOCO_STEPS, measured_runs, measured_seconds_per_flop, unit_flops
from magnet.agent.state import Experiment, Launch, ResearchState
from magnet.tools.harness.config import ExperimentConfig
from magnet.tools.workers import threads_per_worker


def run(state: ResearchState, deps: Deps) -> tuple[dict, str]:
    from magnet.tools.errors import ConfigError
    from magnet.tools.harness.experiment import ExperimentRequest

    spec, proposal, best = state.spec, state.proposal, state.best
    parent = next((e for e in state.experiments if e.id == proposal.parent), None)
    # a promotion or scale-up runs its own config, with what a reviewer edited
    diff, config = state.compose(proposal.config_diff, parent.config if parent else None)
    n = state.next_number
    exp_id, work = f"{state.session_id}-{n:03d}", state.session_dir(deps.home) / f"exp-{n:03d}"
    remerge = spec.search_task == "diloco" and set(diff) == {"merge"} and best is not None
    warm = _warm_start(state, parent, config) if proposal.kind == "scaleup" else {}
    data = _training_data(state, deps, config)
    try:
        built = ExperimentConfig.build(spec.task, data, {**config, **warm})
    except ConfigError as e:  # nothing to run: the experiment fails with the trainer's words
        return _refused(state, exp_id, work, diff, config, str(e))
    steps, flops = _equal_compute(state, built)
    seconds = None
    if proposal.kind == "scaleup":
        steps, flops, seconds = _scaled_up(state, built, parent, steps, flops)
    elif flops is not None and proposal.rung:
        units = state.schedule.rungs[proposal.rung].units
        steps, flops = steps * units, flops * units
    request = ExperimentRequest(
        config=built.with_steps(steps) if seconds is None else built.for_seconds(seconds),
        domains=spec.domains,
        remerge=best.run_dir if remerge else None,
        threads=_threads(state.settings, alone=proposal.kind == "scaleup"),
    )
    limits = _limits(state, deps, flops)
    launch = _launch(state, exp_id, work, diff, config) | dict(
        kind="remerge" if remerge else proposal.kind,
        warm=bool(warm),
        data=data,
        steps=steps,
        flops=flops,
        train_seconds=seconds,
        request=request.model_dump(mode="json"),
        limits=limits.model_dump(mode="json") if limits else None,
    )
    launch = Launch.model_validate(launch)
    start(deps, state, launch)
    compute = f"{steps} steps, {flops:.3g} FLOPs" if flops else ""
    if seconds is not None:
        compute = f"{seconds:.0f} s of training (≈{compute})"
    compute = f" · {compute}" if compute else ""
    at_once = (
        f" · worker {launch.worker} of {state.settings.workers} ({len(state.running) + 1} running)"
        * (state.settings.workers > 1)
    )
    if state.settings.ray:
        at_once += f" · a Ray task of {request.threads} CPU" + "s" * (request.threads > 1)
    return {"running": [*state.running, launch]}, f"exp {n} · started{compute}{at_once}"


def _threads(settings, alone: bool) -> int | None:
    """A run's torch threads: its worker's share of the cores, all of them for the scale-up,
    which runs alone (None: torch's default, every core). On Ray: the cluster's CPUs shared
    out the same way, at most one node's."""
    if settings.ray is None:
        return None if alone else threads_per_worker(settings.workers)
    from magnet.tools.ray_jobs import connect, largest_node_cpus

    cpus, node = int(connect(settings.ray).get("CPU", 1)), largest_node_cpus()
    return node if alone else min(node, threads_per_worker(settings.workers, cpus) or cpus)


def _launch(state: ResearchState, exp_id: str, work, diff: dict, config: dict) -> dict:
    proposal = state.proposal
    return dict(
        id=exp_id,
        kind=proposal.kind,
        rung=proposal.rung,
        parent=proposal.parent,
        hypothesis=proposal.hypothesis,
        picked_by=proposal.picked_by,
        diff=diff,
        config=config,
        work_dir=work,
        worker=min(set(range(1, len(state.running) + 2)) - {r.worker for r in state.running}),
        unit_flops=unit_flops(state),
    )


def _refused(state: ResearchState, exp_id: str, work, diff: dict, config: dict, error: str):
    """A config the trainer would refuse (a search value beside a --set one it does not fit):
    a launch that never starts a sandbox; collect makes it a failed experiment, diagnosed as
    the crash it would be."""
    launch = Launch.model_validate(_launch(state, exp_id, work, diff, config) | {"refused": error})
    return {"running": [*state.running, launch]}, f"exp {launch.number} · not started: {error}"


def _equal_compute(state: ResearchState, config: ExperimentConfig) -> tuple[int, float | None]:
    """(steps, FLOPs): the steps at which this config spends one unit of the schedule's
    compute. DiLoCo sessions keep their steps."""
    from magnet.tools.bitnet.compute import steps_for_flops

    budget = unit_flops(state)
    if state.spec.search_task == "diloco" or budget is None:
        return state.settings.steps or DILOCO_STEPS, None
    return steps_for_flops(config.train, budget), budget


def _limits(state: ResearchState, deps: Deps, flops: float | None):
    """The sandbox's limits, with a wall clock of at least three times what this run's FLOPs
    took at the slowest rate this session measured (start-up included, so it errs long): a
    promotion or scale-up is long by design, not a runaway."""
    from magnet.sandboxes.limits import Limits

    rates = [e.seconds / e.flops for e in state.experiments if e.flops and e.seconds]
    if flops is None or not rates:
        return deps.sandbox_limits
    base = deps.sandbox_limits or Limits()
    return base.model_copy(update={"wall_seconds": max(base.wall_seconds, 3 * max(rates) * flops)})


def _scaled_up(state: ResearchState, config: ExperimentConfig, parent, steps, flops):
    """(steps, FLOPs, training seconds): the rest of the budget less a run's start-up and
    evaluation, as the time the scale-up trains for (never less than its parent trained), and
    the steps and FLOPs that buys at this session's measured rate: an estimate until it ends.
    The clock ends it, not a step count: it runs alone on every core, where the runs measured
    shared them (on 2 cores its config trained 1.6x faster alone than beside another run, and
    a scale-up counted in steps at their rate ended a 32-minute session 221 s early). Without
    a unit (DiLoCo) or a measured run: its parent's steps."""
    from statistics import median

    from magnet.tools.bitnet.compute import steps_for_flops

    schedule = state.schedule
    rate = measured_seconds_per_flop(state)
    if flops is None or rate is None:
        return parent.steps or steps, flops, None
    measured = measured_runs(state)
    # its start-up, and the harness's val and then test evaluation after it
    overhead = median(e.seconds - e.train_s + 2 * e.harness_s for e in measured)
    share = schedule.start_s + schedule.budget_s - state.elapsed_s  # all that is left
    seconds = max(share - overhead, parent.train_s or 0.0, 1.0)
    scaled = steps_for_flops(config.train, seconds / rate)
    return scaled, flops * scaled / steps, seconds


def _warm_start(state: ResearchState, parent: Experiment, config: dict) -> dict:
    """The scale-up starts from its parent's trained weights (a new schedule, the compute its
    parent spent not thrown away) when it runs the parent's very config; after a reviewer's
    edit it starts from scratch."""
    same = config == state.compose({}, parent.config)[1]
    if not same or not parent.ok or state.spec.search_task == "diloco":
        return {}
    return {"init_from": str(parent.run_dir)}


def _training_data(state: ResearchState, deps: Deps, config: dict) -> str:
    """The spec's dataset, or it grown by `augment` failure-driven training examples: made
    once per session and size, from the best run's misclassified validation texts."""
    from magnet.tools.datasets.augment import failure_driven
    from magnet.tools.datasets.generated import is_generated
    from magnet.tools.harness.evaluate import misclassified

    n, spec = int(config.get("augment") or 0), state.spec
    if not n or spec.task != "classify":
        return spec.dataset
    out = state.session_dir(deps.home) / f"data-augment-{n}"
    if not is_generated(out):
        best, weak = state.best, []
        if best:
            weak = misclassified(best.run_dir, _training_data(state, deps, best.config))
        made = failure_driven(deps.llm, spec.dataset, weak, n, out)
        text = (
            f"{made.kept} training examples written for {len(weak)} misclassified val texts "
            f"({made.batches} LLM batches; dropped {made.dropped or 'none'}) → {out.name}"
        )
        deps.traces.event(state.session_id, "run", "data", text, made.model_dump())
    return str(out)
