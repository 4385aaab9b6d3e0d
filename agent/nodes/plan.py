"""plan: the experiment for the move decide chose (agent/rungs.py).

Reads: move, goal, spec, settings, schedule, experiments, best, feedback, lessons from
memory, the search policy's candidates. A seed runs the unchanged config (BASELINE_SEEDS of
them: their spread is the noise floor); a promotion retrains its parent with the rung's
compute; the scale-up trains the winner with the rest of the budget; a rung-0 idea is first
the config reshaped for the expert's compute (tools/search/sizing.py; MAGNET's policy only),
then agent/proposal.py lets the LLM pick and edit a search-policy candidate, never one already
tried (a rejected idea is a finding: remember wrote it). When nothing untried is left, rung 0
closes with what it ran and decide chooses again. Plan writes nothing but the state.
Writes: proposal, move and feedback (consumed), tokens, remaining_seconds; schedule when rung
0 closes. Next: review, or decide when there is nothing to propose.
"""

from __future__ import annotations

from magnet.agent.deps import Deps
from magnet.agent.proposal import PlanContext, choose, recent
from magnet.agent.rungs import closed_first_rung, expert_flops, in_flight
from magnet.agent.state import Move, Proposal, ResearchState, describe
from magnet.tools.harness.config import trainer_settings
from magnet.tools.search.policy import Candidate


def plan(state: ResearchState, deps: Deps) -> tuple[dict, str]:
    move, n = state.move, state.next_number
    update = {"feedback": [], "move": None, "proposal": None}  # each is for this plan only
    if move is None:  # a session checkpointed in plan before decide chose moves
        return update, "nothing to plan yet: decide chooses the next move"
    update["remaining_seconds"] = state.settings.budget.wall_minutes * 60 - state.elapsed_s
    if move.kind == "search":
        return _search(state, deps, update)
    proposal = _proposal(state, move)
    return {**update, "proposal": proposal}, f"exp {n} · {proposal.hypothesis}"


def _proposal(state: ResearchState, move: Move) -> Proposal:
    """The seed, promotion or scale-up a move names: no choice to make, no LLM."""
    n, parent, unit_s = state.next_number, move.parent, state.schedule.unit_s
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
    left = state.schedule.start_s + state.schedule.budget_s - state.elapsed_s
    return Proposal(
        kind="scaleup",
        hypothesis=f"scale-up: {parent.label} with the rest of the budget ({move.reason})",
        config_diff=parent.diff,
        expected_effect="the session's expert, scored once on the test split",
        estimated_seconds=max(left, 0),
        rung=move.rung,
        parent=parent.id,
    )


def _search(state: ResearchState, deps: Deps, update: dict) -> tuple[dict, str]:
    """A rung-0 idea: first the config sized for the expert's compute, then the LLM's pick
    among the policy's candidates; never one already tried."""
    n, spec = state.next_number, state.spec
    running = [x.config for x in state.running]

    def tried(diff: dict):  # this session's runs too (remember precedes record), and in flight
        config = state.compose(diff)[1]
        return config in running or deps.memory.already_tried(config, spec.task, spec.dataset)

    if sized := _sized(state, deps, tried):
        update["proposal"] = sized
        return update, f"exp {n} · {describe(sized.config_diff)} · {sized.hypothesis}"
    ctx = PlanContext(
        goal=state.goal,
        session_id=state.session_id,
        spec=spec,
        best=state.best,
        recent=[recent(e) for e in state.experiments[-5:]] + state.feedback,
        lessons=deps.memory.lessons(state.goal, besides=state.session_id),
        fixed=state.settings.fixed,
        remaining_seconds=update["remaining_seconds"],
    )
    proposal, notes, tokens = choose(ctx, _candidates(state, deps), deps.llm, tried)
    for note in notes:
        deps.traces.event(state.session_id, "plan", "note", note)
    update |= {"tokens": state.tokens + tokens}
    if not proposal.config_diff:  # rung 0 ends here; the schedule goes on from what it has
        return _rung0_closed(state, update)
    # A rung-0 run is one unit, whatever the LLM would guess.
    update["proposal"] = proposal.model_copy(update={"estimated_seconds": state.schedule.unit_s})
    return update, f"exp {n} · {describe(proposal.config_diff)} · {proposal.hypothesis}"


def _sized(state: ResearchState, deps: Deps, tried) -> Proposal | None:
    """The policy's config sized for the expert's compute, unless it is not one to try: rung
    0 has it at this unit already, done or in flight (with another seed's base it would
    differ by its seed alone, a second run of one idea)."""
    if any(e.kind == "sized" for e in state.experiments if e.rung == 0) or any(
        x.kind == "sized" for x in in_flight(state, 0)
    ):
        return None
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


def _rung0_closed(state: ResearchState, update: dict) -> tuple[dict, str]:
    """Nothing untried is left to propose: rung 0 closes with what it ran, and decide
    chooses again (a promotion, the scale-up or the end)."""
    schedule = closed_first_rung(state)
    text = f"nothing untried is left: rung 0 closes at {schedule.rungs[0].configs} configs"
    return {**update, "schedule": schedule}, text


def _candidates(state: ResearchState, deps: Deps) -> list[Candidate]:
    """The policy's candidates less the fixed settings; those left with no change are gone."""
    last = state.experiments[-1].diagnosis if state.experiments else None
    base = state.best.config if state.best else {}
    found = deps.policy(state).candidates(base, last.kind if last else None)
    kept = [Candidate(state.compose(c.diff)[0], c.reason) for c in found]
    return [c for c in kept if c.diff]
