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
    reply = interrupt(card)
    action = reply.get("action") if isinstance(reply, dict) else None
    if action not in ACTIONS:
        return {"review": {"action": "respond", "text": f"unreadable review reply: {reply!r}"}}
    return {"review": reply}
