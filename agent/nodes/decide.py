"""decide: stop, or plan again.

Reads: spec (target), settings (budget), experiments, tokens, best. Stops at the target,
when a budget is spent (experiments, wall minutes of experiments, LLM tokens), or on a
plateau (no improvement in PLATEAU experiments after the baselines).
Writes: stop_reason. Next: report when stopping, else plan.
"""

from __future__ import annotations

from magnet.agent.deps import Deps
from magnet.agent.state import ResearchState

PLATEAU = 4


def decide(state: ResearchState, deps: Deps) -> tuple[dict, str]:
    reason = _stop_reason(state)
    return {"stop_reason": reason}, reason or "continue: plan the next experiment"


def _stop_reason(state: ResearchState) -> str | None:
    spec, budget, done, best = state.spec, state.settings.budget, state.experiments, state.best
    if best and spec.target is not None:
        reached = best.value >= spec.target if spec.higher_is_better else best.value <= spec.target
        if reached:
            return f"target reached: {spec.metric} {best.value:.4g}"
    if len(done) >= budget.max_experiments:
        return f"experiment budget spent ({len(done)})"
    if state.spent_seconds >= budget.wall_minutes * 60:
        return f"time budget spent ({budget.wall_minutes:g} min)"
    if state.tokens >= budget.llm_tokens:
        return f"LLM token budget spent ({state.tokens})"
    tail = done[-PLATEAU:]
    if len(done) > PLATEAU + 1 and not any(e.verdict == "improved" for e in tail):
        return f"plateau: no improvement in the last {PLATEAU} experiments"
    return None
