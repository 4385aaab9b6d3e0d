"""remember: the experiment becomes a finding in memory (memory/store.py); so does an idea
the reviewer rejected, which never ran.

Reads: current (or, after a rejection, proposal and review), goal, spec. Keyed by experiment
id, so a resumed node adds nothing twice; the plan node asks memory what was tried, for this
task and dataset, in every session, and a rejected config counts as tried.
Writes: nothing in the state. Next: record, or plan after a rejection.
"""

from __future__ import annotations

from magnet.agent.deps import Deps
from magnet.agent.state import ResearchState


def remember(state: ResearchState, deps: Deps) -> tuple[dict, str]:
    finding, text = _rejection(state) if state.current is None else _experiment(state)
    if not deps.memory.has(finding.id):  # a resumed node must not add it twice
        deps.memory.add(finding)
    return {}, text


def _experiment(state: ResearchState):
    from magnet.memory.findings import Finding

    cur, spec = state.current, state.spec
    finding = Finding(
        id=cur.id,
        session_id=state.session_id,
        goal=state.goal,
        dataset=spec.dataset,
        task=spec.task,
        hypothesis=cur.hypothesis,
        config=cur.config,
        metrics=cur.harness or {},
        primary_metric=spec.metric,
        primary_value=cur.value,
        verdict=cur.verdict,
        analysis=cur.diagnosis.summary,
    )
    return finding, f"{cur.label} · in memory as {cur.verdict}"


def _rejection(state: ResearchState):
    """A rejected config is a finding too: it is never proposed again, and lessons show why."""
    from magnet.memory.findings import Finding
    from magnet.tools.hashing import canonical_sha256

    spec, proposal = state.spec, state.proposal
    config = state.compose(proposal.config_diff)[1]
    finding = Finding(
        id=f"{state.session_id}-{state.next_number:03d}-rejected-" + canonical_sha256(config)[:8],
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
    return finding, f"exp {state.next_number} · rejected, in memory: {proposal.hypothesis}"
