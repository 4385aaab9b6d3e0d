"""evaluate: the experiment's harness metric against the best of its rung and the noise floor.

Reads: current, experiments, best, spec. The noise floor is the spread of the baseline
seeds' values, this experiment's included when it is one (so a second seed reads as noise);
a seed stuck on one class is left out once two others learnt (decide runs a third for it).
A run is judged against the best run of its own rung before it (more compute is not an
idea), the first of a rung is "first", and a scale-up against the run it scaled. A finished
scale-up is the session's expert: the harness scores it once on the test split, with a 95%
interval, and it becomes the best whatever its val says (export and serve use it).
Writes: current (best_before, verdict), noise, best when this run beats it, expert.
Next: analyze.
"""

from __future__ import annotations

from magnet.agent.deps import Deps
from magnet.agent.state import Best, Experiment, Expert, ResearchState
from magnet.tools.metrics import noise_floor


def evaluate(state: ResearchState, deps: Deps) -> tuple[dict, str]:
    cur, best, spec = state.current, state.best, state.spec
    objective = spec.objective
    runs = [*state.experiments, cur]
    noise = noise_floor(seed_values(runs))
    before = _best_before(state)  # analyze compares with this, not the new best
    judged = objective.verdict(cur.value, cur.status, before, noise)
    cur = cur.model_copy(update={"best_before": before, "verdict": judged})
    update: dict = {"current": cur, "noise": noise}
    expert = cur.kind == "scaleup" and cur.ok
    if cur.value is not None and (expert or objective.better(cur.value, best and best.value)):
        update["best"] = Best(
            experiment_id=cur.id, config=cur.config, value=cur.value, run_dir=cur.run_dir
        )
    value = "no value" if cur.value is None else f"{cur.value:.4g} {spec.metric}"
    versus = f" (vs {before:.4g}, noise ±{noise:.3g})" if before is not None else ""
    text = f"{cur.label} · {value} · {judged}{versus} · {cur.seconds:.0f} s"
    if expert:
        from magnet.tools.datasets import data_ref
        from magnet.tools.harness.evaluate import score_run

        test = score_run(cur.run_dir, "test", spec.task, data_ref(cur.data or spec.dataset))
        update["expert"] = Expert(
            experiment_id=cur.id, run_dir=cur.run_dir, val=cur.value, test=test
        )
        text += f" · the expert: {test.describe()}"
    return update, text


def seed_values(runs: list[Experiment]) -> list[float]:
    """The values the noise floor is the spread of: the baseline seeds', less those stuck on
    one class while two others learnt (a seed at chance next to 0.81 gave a floor of ±0.31,
    and every later run read as noise)."""
    seeds = [e for e in runs if e.kind == "baseline" and e.rung == 0 and e.value is not None]
    learnt = [e for e in seeds if not e.stuck]
    return [e.value for e in (learnt if len(learnt) >= 2 else seeds)]


def _best_before(state: ResearchState) -> float | None:
    """The value this run is judged against: its parent's for a scale-up, else the best of
    its rung so far (None for the first of a rung)."""
    cur = state.current
    if cur.kind == "scaleup":
        parent = next((e for e in state.experiments if e.id == cur.parent), None)
        return parent.value if parent else None
    values = [e.value for e in state.experiments if e.rung == cur.rung and e.ok]
    return state.spec.objective.best(values)
