"""decide: stop, or plan again.

Reads: spec (target), settings (budget), schedule, experiments, tokens, best. The session
stops when its scale-up has run, or when the search is over (every rung done, the target
reached, or a cap hit: experiments, the search's share of the wall minutes, LLM tokens) and
there is nothing to scale up (agent/rungs.py).
Writes: stop_reason. Next: report when stopping, else plan.
"""

from __future__ import annotations

from magnet.agent.deps import Deps
from magnet.agent.state import ResearchState


def decide(state: ResearchState, deps: Deps) -> tuple[dict, str]:
    from magnet.agent.rungs import next_move

    last = state.experiments[-1]
    if last.kind == "scaleup":
        reason = f"the scale-up ran: {last.label} is the expert"
        if not last.ok:
            reason = f"the scale-up failed ({last.status}); the expert is the search's best"
        return {"stop_reason": reason}, reason
    move = next_move(state)
    if move.kind == "stop":
        return {"stop_reason": move.reason}, move.reason
    return {}, f"continue: {move.kind} next ({move.reason})"
