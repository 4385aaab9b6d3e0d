"""review_data: a person decides whether the LLM may write the dataset no built-in fits.

Reads: spec (labels, domain), settings (approval, budget). Only the interrupt lives here: a
resumed node re-runs from its start, so it has no side effects and writes no trace.
Writes: data_review (accept | edit with generate=N | reject). Next: data.
"""

from __future__ import annotations

from magnet.agent.cards import Card, Change
from magnet.agent.deps import Deps
from magnet.agent.nodes.review import ask
from magnet.agent.state import ResearchState, ReviewReply

GENERATE_N = 200  # examples the LLM writes when no dataset fits (the review may change it)


def review_data(state: ResearchState, deps: Deps) -> tuple[dict, None]:
    if state.settings.approve == "auto":
        return {"data_review": ReviewReply(action="accept")}, None
    spec = state.spec
    describe = spec.domain or state.goal
    card = Card(
        kind="data",
        hypothesis=f"no dataset fits: the LLM writes {GENERATE_N} examples of {describe} "
        f"labelled {', '.join(spec.labels)}",
        config_diff={"generate": GENERATE_N},
        changes=[Change(key="generate", after=GENERATE_N)],
        estimated_seconds=3 * GENERATE_N,
        remaining_seconds=state.settings.budget.wall_minutes * 60,
        responses=["accept", "edit", "reject"],
    )
    return {"data_review": ask(card)}, None
