"""decide: what comes next, as the session's schedule says (agent/rungs.py): a seed, a
rung-0 idea, a promotion, the scale-up, the end, or to wait for a run in flight (collect).

Reads: spec (target), settings (budget, workers), schedule, experiments, tokens, best,
declined, review (a declined promotion or scale-up). Under --workers auto the first call
chooses the workers, from a probe of how a run uses threads here (a few seconds). The first
call makes the schedule from the budget (a budget too small for one rung stops the session
with the smallest one that works); once the seeds have run it is made again from their
measured seconds. The session stops when its scale-up has run, or when the search is over
(every rung done, the target reached, or a cap hit: experiments, the search's share of the
wall minutes, LLM tokens) and there is nothing to scale up.
A unit chosen from an estimate that the first run shows to be more than twice off is chosen
again before the second run starts; the runs at the old unit leave the rungs (rung -1).
The schedule is looked at again once per finished run, not at each decide a free worker
brings.
Writes: settings (the workers chosen), schedule, planned_at, move, declined, review
(consumed), experiments (a superseded unit's runs); stop_reason when stopping. Next: plan,
collect (wait), or report when stopping.
"""

from __future__ import annotations

from magnet.agent.deps import Deps
from magnet.agent.state import ResearchState


def decide(state: ResearchState, deps: Deps) -> tuple[dict, str]:
    from magnet.agent.rungs import auto_workers, next_move, schedule_update, superseded
    from magnet.tools.search.schedule import BudgetError

    last = state.experiments[-1] if state.experiments else None
    if last is not None and last.kind == "scaleup":
        reason = f"the scale-up ran: {last.label} is the expert"
        if not last.ok:
            reason = f"the scale-up failed ({last.status}); the expert is the search's best"
        return {"stop_reason": reason}, reason
    update: dict = {"review": None, **_declined(state)}
    if state.settings.auto_workers and state.settings.workers_choice is None:
        state = state.model_copy(update={"settings": auto_workers(state.settings)})
        update["settings"] = state.settings
        text = f"--workers auto: {state.settings.workers_choice.describe()}"
        deps.traces.event(state.session_id, "decide", "workers", text)
    try:
        made = schedule_update(state) if state.planned_at != len(state.experiments) else None
    except BudgetError as e:
        return {**update, "stop_reason": str(e)}, str(e)
    update["planned_at"] = len(state.experiments)
    if made is not None:
        update["schedule"], text = made
        update["experiments"] = superseded(state, made[0])
        if update["experiments"] != state.experiments:
            text = f"the unit chosen again from the first run's speed: {made[0].describe()}"
        deps.traces.event(state.session_id, "decide", "schedule", text)
    kept = ("schedule", "declined", "experiments")
    move = next_move(state.model_copy(update={k: v for k, v in update.items() if k in kept}))
    if move.kind == "stop":
        return {**update, "stop_reason": move.reason}, f"stop: {move.reason}"
    return {**update, "move": move}, f"next: {move.kind} ({move.reason})"


def _declined(state: ResearchState) -> dict:
    """A rejected promotion or scale-up is not proposed again (a rejected idea is a finding
    already: remember wrote it)."""
    review, proposal = state.review, state.proposal
    if review is None or review.action != "reject" or proposal.parent is None:
        return {}
    return {"declined": [*state.declined, proposal.parent]}
