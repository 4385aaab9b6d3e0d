"""review: a person approves, edits, rejects or answers the proposal before anything runs.

Reads: proposal, best, settings (approval), remaining_seconds, schedule. With approval
`auto` it accepts at once; otherwise it calls `interrupt()` with an approval card (the
session's plan of rungs and scale-up included) and waits. Only the
interrupt lives here: a resumed node re-runs from its start, so it has no side effects and
writes no trace. An edit's values are clipped into the search space; fixed settings stay.
A reply with `rest_of_rung` also accepts every later card of that rung (not the scale-up).
Writes: review, accepted_rung, and the edited proposal or the reviewer's words for the next
plan.
Next: run (accept, edit) or plan (reject, respond).
"""

from __future__ import annotations

from langgraph.types import interrupt
from pydantic import ValidationError

from magnet.agent.cards import Card, Change
from magnet.agent.deps import Deps
from magnet.agent.state import ResearchState, ReviewReply


def review(state: ResearchState, deps: Deps) -> tuple[dict, None]:
    proposal = state.proposal
    whole_rung = proposal.kind != "scaleup" and proposal.rung == state.accepted_rung
    if state.settings.approve == "auto" or whole_rung:
        return {"review": ReviewReply(action="accept")}, None
    base = state.best.config if state.best else {}
    card = Card(
        kind=proposal.kind,
        hypothesis=proposal.hypothesis,
        config_diff=proposal.config_diff,
        changes=[
            Change(key=k, before=base.get(k, _default(k)), after=v)
            for k, v in proposal.config_diff.items()
        ],
        expected_effect=proposal.expected_effect,
        estimated_seconds=proposal.estimated_seconds,
        remaining_seconds=state.remaining_seconds,
        plan=state.schedule.describe() if state.schedule else "",
        llm_off=f"LLM not used: {state.llm_off}" if state.llm_off else "",
    )
    reply = ask(card)
    update: dict = {"review": reply}
    if reply.rest_of_rung and reply.action in ("accept", "edit"):
        update["accepted_rung"] = proposal.rung
    if reply.action == "edit":
        from magnet.tools.search.space import clip

        edited = clip(reply.set, state.spec.search_task)[0]
        diff, _ = state.compose({**proposal.config_diff, **edited})
        update["proposal"] = proposal.model_copy(update={"config_diff": diff})
    elif reply.action in ("reject", "respond"):
        update["feedback"] = [f"reviewer {reply.action}: {reply.text}"]
    return update, None


def ask(card: Card) -> ReviewReply:
    """The card to a person (LangGraph's interrupt); an unreadable answer reads as a respond."""
    answer = interrupt(card.model_dump(mode="json"))
    try:
        return ReviewReply.model_validate(answer)
    except ValidationError:
        return ReviewReply(action="respond", text=f"unreadable review reply: {answer!r}")


def _default(key: str):
    """What a setting is when no experiment set it (the trainer's default)."""
    from magnet.tools.search.policy import default

    try:
        return default(key)
    except KeyError:
        return None
