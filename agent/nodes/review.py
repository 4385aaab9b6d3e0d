"""review: a person approves, edits, rejects or answers the proposal before anything runs.

Reads: the proposal, the best config, the remaining budget. With `approve == "auto"` it
accepts at once; otherwise it calls `interrupt()` with an approval card and waits. Only the
interrupt lives here: a resumed node re-runs from its start, so it has no side effects.
Writes: review = {action: accept|edit|reject|respond, set: {...}, text: "..."}.
Next: run (accept, edit) or plan (reject, respond).
"""

from __future__ import annotations

from langgraph.types import interrupt

ACTIONS = ("accept", "edit", "reject", "respond")


def review(state: dict) -> dict:
    if state.get("approve", "ask") == "auto":
        return {"review": {"action": "accept"}}
    proposal = state["proposal"]
    base = (state.get("best") or {}).get("config", {})
    card = {
        "proposal": proposal,
        "diff_vs_best": {
            k: {"from": base.get(k), "to": v} for k, v in proposal["config_diff"].items()
        },
        "estimated_seconds": proposal.get("estimated_seconds"),
        "remaining_seconds": state["remaining_seconds"],
        "responses": list(ACTIONS),
    }
    return {"review": _ask(card)}


def review_data(state: dict, n: int, labels: list[str], describe: str) -> dict:
    """The card for generating a dataset when none fits the goal: accept, edit (generate=N)
    or reject. Auto-approved sessions accept."""
    if state.get("approve", "ask") == "auto":
        return {"action": "accept"}
    proposal = {
        "hypothesis": f"no dataset fits: the LLM writes {n} examples of {describe} "
        f"labelled {', '.join(labels)}",
        "config_diff": {"generate": n},
        "estimated_seconds": 3 * n,
    }
    card = {
        "proposal": proposal,
        "diff_vs_best": {"generate": {"from": None, "to": n}},
        "estimated_seconds": proposal["estimated_seconds"],
        "remaining_seconds": state["budget"]["wall_minutes"] * 60,
        "responses": ["accept", "edit", "reject"],
    }
    return _ask(card)


def _ask(card: dict) -> dict:
    reply = interrupt(card)
    action = reply.get("action") if isinstance(reply, dict) else None
    if action not in ACTIONS:
        return {"action": "respond", "text": f"unreadable review reply: {reply!r}"}
    return reply
