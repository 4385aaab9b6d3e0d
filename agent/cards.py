"""The card a person reviews: what the review nodes ask, and what the CLI and dashboard show.

    card = Card(kind="planned", hypothesis=..., config_diff=..., changes=[Change(...)], ...)
    ask(card)                       # agent/nodes/review.py: the graph waits for the answer
    runner.pending(sid)             # the waiting card read back, its interrupt's id set

One type from the node that asks to every place that shows it; the answer is a ReviewReply
(agent/state.py).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from magnet.agent.state import Action, ProposalKind, shown
from magnet.tools.settings import Scalar


class Change(BaseModel):
    key: str
    before: Scalar | None = Field(None, description="the best config's value; None: the default")
    after: Scalar

    @property
    def shown_before(self) -> str:
        return "default" if self.before is None else shown(self.before)

    @property
    def shown_after(self) -> str:
        return shown(self.after)


class Card(BaseModel):
    id: str = Field("", description="the pending interrupt's id: a form answers this card only")
    kind: ProposalKind | Literal["data"] = Field(description="data: may the LLM write the data")
    hypothesis: str
    config_diff: dict[str, Scalar]
    changes: list[Change] = Field([], description="each key of the diff against the best")
    expected_effect: str = ""
    estimated_seconds: float = 0.0
    remaining_seconds: float = 0.0
    plan: str = Field("", description="the session's plan of rungs and scale-up")
    llm_off: str = Field("", description="why the LLM is not used, when it is not")
    responses: list[Action] = ["accept", "edit", "reject", "respond"]

    @property
    def changed(self) -> list[Change]:
        """The changes that change something."""
        return [c for c in self.changes if c.before != c.after]

    @model_validator(mode="before")
    @classmethod
    def _untyped(cls, values):
        """A card saved before cards were typed ({proposal, diff_vs_best, …}) reads as one."""
        if not isinstance(values, dict) or "proposal" not in values:
            return values
        p, diff = values["proposal"], values.get("diff_vs_best", {})
        return {
            "kind": p.get("kind", "data" if "generate" in p.get("config_diff", {}) else "planned"),
            "hypothesis": p["hypothesis"],
            "config_diff": p.get("config_diff", {}),
            "changes": [{"key": k, "before": d["from"], "after": d["to"]} for k, d in diff.items()],
            "expected_effect": p.get("expected_effect", ""),
            "estimated_seconds": p.get("estimated_seconds") or 0.0,
            "remaining_seconds": values.get("remaining_seconds") or 0.0,
            "plan": values.get("plan", ""),
            "llm_off": values.get("llm_off", ""),
            "responses": values.get("responses", ["accept", "edit", "reject", "respond"]),
        }
