"""remember: the experiment becomes a finding in memory (memory/store.py).

Reads: current, goal, spec. Keyed by experiment id, so a resumed node adds nothing twice;
the plan node asks memory what was tried, for this task and dataset, in every session.
Writes: nothing in the state. Next: record.
"""

from __future__ import annotations

from magnet.agent.deps import Deps
from magnet.agent.state import ResearchState


def remember(state: ResearchState, deps: Deps) -> tuple[dict, str]:
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
    if not deps.memory.has(finding.id):  # a resumed node must not add it twice
        deps.memory.add(finding)
    return {}, f"{cur.label} · in memory as {cur.verdict}"
