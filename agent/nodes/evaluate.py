"""evaluate: the experiment's harness metric against the best so far and the noise floor.

Reads: current, experiments, best, spec. The noise floor is the spread of the baseline
seeds' values, this experiment's included when it is one (so a second seed reads as noise).
Writes: current (best_before, verdict), noise, best when this run beats it. Next: analyze.
"""

from __future__ import annotations

from magnet.agent.deps import Deps
from magnet.agent.state import Best, ResearchState
from magnet.tools.evaluate import noise_floor, verdict


def evaluate(state: ResearchState, deps: Deps) -> tuple[dict, str]:
    cur, best, spec = state.current, state.best, state.spec
    hib = spec.higher_is_better
    seeds = [
        e.value for e in [*state.experiments, cur] if e.kind == "baseline" and e.value is not None
    ]
    noise = noise_floor(seeds)
    before = best.value if best else None  # analyze compares with this, not the new best
    judged = verdict(cur.value, cur.status, before, noise, hib)
    cur = cur.model_copy(update={"best_before": before, "verdict": judged})
    update: dict = {"current": cur, "noise": noise}
    if cur.value is not None and (best is None or (cur.value > best.value) == hib):
        update["best"] = Best(
            experiment_id=cur.id, config=cur.config, value=cur.value, run_dir=cur.run_dir
        )
    value = "no value" if cur.value is None else f"{cur.value:.4g} {spec.metric}"
    top = update["best"].value if "best" in update else before
    versus = f" (best {top:.4g}, noise ±{noise:.3g})" if top is not None else ""
    return update, f"{cur.label} · {value} · {judged}{versus} · {cur.seconds:.0f} s"
