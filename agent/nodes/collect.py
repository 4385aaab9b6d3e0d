"""collect: waits for the first run in flight to finish and makes it the experiment evaluate
judges.

Reads: running, schedule, spec (metric), settings (workers, ray). A launch with no job in this
process (the session was killed and resumed) is started again first: it continues from its
checkpoint, and a run that finished is never run twice, because only collected runs leave
`running`. A run started at a unit the plan has since chosen again leaves the rungs (rung
-1), as superseded runs do. A job that raised (its worker was lost) is a failed experiment.
Writes: current, running (less the one collected). Next: evaluate.
"""

from __future__ import annotations

from magnet.agent.deps import Deps
from magnet.agent.rungs import unit_flops
from magnet.agent.state import Experiment, Launch, ResearchState


def collect(state: ResearchState, deps: Deps) -> tuple[dict, str]:
    from magnet.tools.harness.failures import refused

    workers = deps.workers(state)
    for launch in state.running:
        if launch.refused is None and not workers.has(launch.id):
            start(deps, state, launch)
    launch = next((x for x in state.running if x.refused is not None), None)
    if launch is not None:
        exp = Experiment(**_fields(launch), status="failed", diagnosis=refused(launch.refused))
        text = f"{exp.label} · failed · not started: {launch.refused}"
    else:
        key, outcome = workers.wait([x.id for x in state.running])
        launch = next(x for x in state.running if x.id == key)
        exp = _finished(launch, outcome, state.spec.metric)
        text = _text(exp)
    if launch.unit_flops != unit_flops(state):
        exp = exp.model_copy(update={"rung": -1})
    running = [x for x in state.running if x.id != launch.id]
    return {"current": exp, "running": running}, text


def start(deps: Deps, state: ResearchState, launch: Launch) -> None:
    """The launch's experiment on a worker of the session's pool (returns at once)."""
    from magnet.sandboxes.limits import Limits
    from magnet.tools.harness.experiment import ExperimentRequest, run_experiment

    request = ExperimentRequest.model_validate(launch.request)
    limits = Limits.model_validate(launch.limits) if launch.limits else None

    address = state.settings.ray

    def job():
        if address:  # a Ray task: no live progress, the run dir comes back when it ends
            from magnet.tools.ray_jobs import connect, largest_node_cpus, run_on_ray

            connect(address)
            cpus = request.threads or largest_node_cpus()
            return run_on_ray(request, launch.work_dir, limits, cpus)
        steps = None if launch.train_seconds else launch.steps  # a timed run's are a guess
        with deps.progress(launch.id, steps) as on_metric:
            return run_experiment(request, launch.work_dir, limits, on_metric=on_metric)

    deps.workers(state).start(launch.id, job)


def _fields(launch: Launch) -> dict:
    """What the experiment says of its launch; its run dir is the work dir until it ran."""
    return launch.model_dump(include=set(Experiment.model_fields)) | {"run_dir": launch.work_dir}


def _finished(launch: Launch, outcome, metric: str) -> Experiment:
    """The experiment a finished job makes; a job that raised is a failed one."""
    from magnet.tools.harness.failures import lost

    if isinstance(outcome, BaseException):
        return Experiment(**_fields(launch), status="failed", diagnosis=lost(outcome))
    metrics = outcome.sandbox.metrics
    return Experiment(
        **_fields(launch) | {"run_dir": outcome.run_dir} | _timed(launch, metrics),
        status=outcome.sandbox.status,
        value=(outcome.harness or {}).get(metric),
        harness=outcome.harness,
        seconds=outcome.sandbox.wall_s,
        train_s=next((m["elapsed_s"] for m in reversed(metrics) if "elapsed_s" in m), None),
        harness_s=outcome.harness_s,
        precision=outcome.precision,
        sandbox=outcome.sandbox,
    )


def _timed(launch: Launch, metrics: list[dict]) -> dict:
    """A run that trained for a time (the scale-up): the steps it ran, and their FLOPs at
    the launch's FLOPs per step, in place of the estimate."""
    if launch.train_seconds is None or not (launch.steps and launch.flops):
        return {}
    ran = max((m["step"] for m in metrics if isinstance(m.get("step"), int)), default=0)
    if not ran:
        return {}
    return {"steps": ran, "flops": launch.flops * ran / launch.steps}


def _text(exp: Experiment) -> str:
    compute = f" · {exp.steps} steps, {exp.flops:.3g} FLOPs" if exp.flops else ""
    precision = f" · {exp.precision}" if exp.precision else ""
    parent = exp.parent and int(exp.parent.rsplit("-", 1)[1])
    warm = f" · from exp {parent}'s weights" if exp.warm else ""
    return f"{exp.label} · {exp.status} · {exp.seconds:.0f} s{compute}{precision}{warm}"
