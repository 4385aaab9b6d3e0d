"""plan: choose the next experiment, as the session's schedule says.

Reads: goal, spec, settings, schedule, experiments, best, feedback, review (a rejection),
lessons from memory, the search policy's candidates. The first call fixes the schedule
(tools/search/schedule.py: rungs of equal compute, then a scale-up) from the budget; a budget
too small for one rung stops the session with the smallest one that works. Once the seeds
have run, the schedule is made again from their measured seconds. Rung 0 opens with
BASELINE_SEEDS runs of the unchanged config (their spread is the noise floor), then the
config reshaped for the expert's compute (tools/search/sizing.py; MAGNET's policy only), then
agent/proposal.py lets the LLM pick and edit a search-policy candidate; later rungs retrain the
best of the rung before with more compute (agent/rungs.py), and the last experiment scales
the winner up. A rejected idea reaches plan as a finding (remember wrote it: never proposed
again; lessons say why); a rejected promotion or scale-up is not proposed again. Plan writes
nothing but the state; the schedule's changes are agent/rungs.py's.
Writes: schedule, proposal, tokens, remaining_seconds, feedback (consumed), declined;
stop_reason when the schedule is done. Next: review, or report when stopping.
"""

from __future__ import annotations

from magnet.agent.deps import Deps
from magnet.agent.proposal import PlanContext, choose
from magnet.agent.rungs import Move, closed_first_rung, expert_flops, next_move, schedule_update
from magnet.agent.state import Proposal, ResearchState, describe
from magnet.tools.harness.config import trainer_settings
from magnet.tools.search.policy import Candidate
from magnet.tools.search.schedule import BudgetError


def plan(state: ResearchState, deps: Deps) -> tuple[dict, str]:
    update = {"feedback": [], "review": None}
    if state.review is not None and state.review.action == "reject":
        update |= _rejected(state)
    try:
        made = schedule_update(state)
    except BudgetError as e:
        return {**update, "stop_reason": str(e)}, str(e)
    if made is not None:
        update["schedule"], text = made
        deps.traces.event(state.session_id, "plan", "schedule", text)
    kept = ("schedule", "declined")  # feedback is for this plan: it is cleared after
    state = state.model_copy(update={k: v for k, v in update.items() if k in kept})
    update["remaining_seconds"] = state.settings.budget.wall_minutes * 60 - state.spent_seconds
    move = next_move(state)
    n = len(state.experiments)
    if move.kind == "stop":
        return {**update, "stop_reason": move.reason}, f"done: {move.reason}"
    if move.kind == "search":
        return _search(state, deps, update)
    proposal = _proposal(state, move)
    return {**update, "proposal": proposal}, f"exp {n} · {proposal.hypothesis}"


def _proposal(state: ResearchState, move: Move) -> Proposal:
    """The seed, promotion or scale-up a move names: no choice to make, no LLM."""
    n, parent, unit_s = len(state.experiments), move.parent, state.schedule.unit_s
    if move.kind == "seed":
        return Proposal(
            kind="baseline",
            hypothesis=f"baseline, seed {n}",
            config_diff={"seed": n},
            expected_effect="measures the noise floor",
            estimated_seconds=unit_s,
        )
    if move.kind == "promote":
        units = state.schedule.rungs[move.rung].units
        return Proposal(
            kind="promoted",
            hypothesis=f"rung {move.rung}: {parent.label} again with {units}× the compute",
            config_diff=parent.diff,
            expected_effect="whether its lead holds with more training",
            estimated_seconds=units * unit_s,
            rung=move.rung,
            parent=parent.id,
        )
    share = state.schedule.scaleup
    return Proposal(
        kind="scaleup",
        hypothesis=f"scale-up: {parent.label} with {share:.0%} of the budget ({move.reason})",
        config_diff=parent.diff,
        expected_effect="the session's expert, scored once on the test split",
        estimated_seconds=share * state.schedule.budget_s,
        rung=move.rung,
        parent=parent.id,
    )


def _search(state: ResearchState, deps: Deps, update: dict) -> tuple[dict, str]:
    """A rung-0 idea: first the config sized for the expert's compute, then the LLM's pick
    among the policy's candidates; never one already tried."""
    n, spec = len(state.experiments), state.spec

    def tried(diff: dict):  # this session's runs too: remember precedes record
        return deps.memory.already_tried(state.compose(diff)[1], spec.task, spec.dataset)

    if sized := _sized(state, deps, tried):
        update["proposal"] = sized
        return update, f"exp {n} · {describe(sized.config_diff)} · {sized.hypothesis}"
    ctx = PlanContext(
        goal=state.goal,
        session_id=state.session_id,
        spec=spec,
        best=state.best,
        recent=[f"[{e.verdict}] {describe(e.diff)}" for e in state.experiments[-5:]]
        + state.feedback,
        lessons=deps.memory.lessons(state.goal),
        fixed=state.settings.fixed,
        remaining_seconds=update["remaining_seconds"],
    )
    proposal, notes, tokens = choose(ctx, _candidates(state, deps), deps.llm, tried)
    for note in notes:
        deps.traces.event(state.session_id, "plan", "note", note)
    update |= {"tokens": state.tokens + tokens}
    if not proposal.config_diff:  # rung 0 ends here; the schedule goes on from what it has
        return _rung0_closed(state, deps, update)
    update["proposal"] = proposal
    return update, f"exp {n} · {describe(proposal.config_diff)} · {proposal.hypothesis}"


def _sized(state: ResearchState, deps: Deps, tried) -> Proposal | None:
    """The policy's config sized for the expert's compute, unless it is not one to try."""
    flops = expert_flops(state)
    base = trainer_settings(state.compose({})[1])
    found = deps.policy(state).sized(base, flops) if flops else None
    if found is None:
        return None
    diff = state.compose(found.diff)[0]
    if not diff or tried(diff):
        return None
    return Proposal(
        kind="sized",
        hypothesis=found.reason,
        config_diff=diff,
        expected_effect=f"a better {state.spec.metric} at the same compute",
        estimated_seconds=state.schedule.unit_s,
    )


def _rung0_closed(state: ResearchState, deps: Deps, update: dict) -> tuple[dict, str]:
    schedule = closed_first_rung(state)
    state = state.model_copy(update={"schedule": schedule})
    move = next_move(state)
    update["schedule"] = schedule
    if move.kind in ("stop", "search"):
        reason = "nothing untried is left to propose"
        return {**update, "stop_reason": reason}, "nothing new"
    proposal = _proposal(state, move)
    text = f"exp {len(state.experiments)} · {proposal.hypothesis} (nothing untried is left)"
    return {**update, "proposal": proposal}, text


def _candidates(state: ResearchState, deps: Deps) -> list[Candidate]:
    """The policy's candidates less the fixed settings; those left with no change are gone."""
    last = state.experiments[-1].diagnosis if state.experiments else None
    base = state.best.config if state.best else {}
    found = deps.policy(state).candidates(base, last.kind if last else None)
    kept = [Candidate(state.compose(c.diff)[0], c.reason) for c in found]
    return [c for c in kept if c.diff]


def _rejected(state: ResearchState) -> dict:
    """A declined promotion or scale-up is not proposed again (a rejected idea is a finding
    already: remember wrote it)."""
    proposal = state.proposal
    if proposal.parent is not None:
        return {"declined": [*state.declined, proposal.parent]}
    return {}
