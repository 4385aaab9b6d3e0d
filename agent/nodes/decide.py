"""decide: stop, or plan again.

Reads: spec (target), budget, experiments so far, tokens used, best. Stops at the target,
when a budget is spent (experiments, wall minutes of experiments, LLM tokens), or on a
plateau (no improvement in PLATEAU experiments after the baselines). Writes: stop_reason.
Next: report when stopping, else plan.
"""

from __future__ import annotations

PLATEAU = 4


def stop_reason(state: dict) -> str | None:
    spec, budget, done = state["spec"], state["budget"], state["experiments"]
    best = state.get("best")
    target = spec.get("target")
    if best and target is not None:
        reached = best["value"] >= target if state["higher_is_better"] else best["value"] <= target
        if reached:
            return f"target reached: {spec['metric']} {best['value']:.4g}"
    if len(done) >= budget["max_experiments"]:
        return f"experiment budget spent ({len(done)})"
    if sum(e["seconds"] for e in done) >= budget["wall_minutes"] * 60:
        return f"time budget spent ({budget['wall_minutes']:g} min)"
    if state.get("tokens", 0) >= budget["llm_tokens"]:
        return f"LLM token budget spent ({state['tokens']})"
    tail = done[-PLATEAU:]
    if len(done) > PLATEAU + 1 and not any(e["verdict"] == "improved" for e in tail):
        return f"plateau: no improvement in the last {PLATEAU} experiments"
    return None
