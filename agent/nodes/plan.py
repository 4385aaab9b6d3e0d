"""plan: choose the next experiment.

Reads: goal, spec, settings, experiments, best, feedback, review (a rejection), lessons from
memory, the search policy's candidates. The first BASELINE_SEEDS experiments are the
unchanged config with different seeds (their spread is the noise floor); after that
agent/proposal.py lets the LLM pick and edit a candidate. A rejected proposal becomes a
finding first (never proposed again; lessons say why).
Writes: proposal, tokens, remaining_seconds, feedback (consumed); stop_reason when nothing
untried is left. Next: review, or report when nothing is left to try.
"""

from __future__ import annotations

from magnet.agent.deps import Deps
from magnet.agent.proposal import PlanContext, choose
from magnet.agent.state import Proposal, ResearchState, describe
from magnet.tools.search.policy import Candidate

BASELINE_SEEDS = 2


def plan(state: ResearchState, deps: Deps) -> tuple[dict, str]:
    if state.review is not None and state.review.action == "reject":
        _remember_rejection(state, deps)
    n, spec = len(state.experiments), state.spec
    remaining = state.settings.budget.wall_minutes * 60 - state.spent_seconds
    update = {"remaining_seconds": remaining, "feedback": [], "review": None}
    if n < BASELINE_SEEDS:
        proposal = Proposal(
            kind="baseline",
            hypothesis=f"baseline, seed {n}",
            config_diff={"seed": n},
            expected_effect="measures the noise floor",
        )
        return {**update, "proposal": proposal}, f"exp {n} · baseline, seed {n}"
    ctx = PlanContext(
        goal=state.goal,
        session_id=state.session_id,
        spec=spec,
        best=state.best,
        recent=[f"[{e.verdict}] {describe(e.diff)}" for e in state.experiments[-5:]]
        + state.feedback,
        lessons=deps.memory.lessons(state.goal),
        fixed=state.settings.fixed,
        remaining_seconds=remaining,
    )

    def tried(diff: dict):  # this session's runs too: remember precedes record
        return deps.memory.already_tried(state.compose(diff)[1], spec.task, spec.dataset)

    proposal, notes, tokens = choose(ctx, _candidates(state, deps), deps.llm, tried)
    for note in notes:
        deps.traces.event(state.session_id, "plan", "note", note)
    update |= {"proposal": proposal, "tokens": state.tokens + tokens}
    if not proposal.config_diff:
        return {**update, "stop_reason": "nothing untried is left to propose"}, "nothing new"
    return update, f"exp {n} · {describe(proposal.config_diff)} · {proposal.hypothesis}"


def _candidates(state: ResearchState, deps: Deps) -> list[Candidate]:
    """The policy's candidates less the fixed settings; those left with no change are gone."""
    last = state.experiments[-1].diagnosis if state.experiments else None
    base = state.best.config if state.best else {}
    found = deps.policy(state).candidates(base, last.kind if last else None)
    kept = [Candidate(state.compose(c.diff)[0], c.reason, c.trial) for c in found]
    return [c for c in kept if c.diff]


def _remember_rejection(state: ResearchState, deps: Deps) -> None:
    """A rejected config is a finding too: it is never proposed again, and lessons show why."""
    from magnet.memory.findings import Finding
    from magnet.tools.hashing import canonical_sha256

    spec, proposal = state.spec, state.proposal
    config = state.compose(proposal.config_diff)[1]
    finding = Finding(
        id=f"{state.session_id}-{len(state.experiments):03d}-rejected-"
        + canonical_sha256(config)[:8],
        session_id=state.session_id,
        goal=state.goal,
        dataset=spec.dataset,
        task=spec.task,
        hypothesis=proposal.hypothesis,
        config=config,
        primary_metric=spec.metric,
        verdict="rejected",
        analysis=f"rejected by the reviewer: {state.review.text or 'no reason given'}",
    )
    if not deps.memory.has(finding.id):  # plan re-runs after a resume
        deps.memory.add(finding)
