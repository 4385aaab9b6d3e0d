"""Run, pause and resume research sessions: the compiled graph on a SQLite checkpointer.

    runner = SessionRunner(home, llm)
    sid, pending = runner.start("classify scam messages", Settings(approve="auto"))
    pending            # None when the session finished, else the approval card waiting
    runner.resume(sid, {"action": "accept"})     # answer the card and continue
    runner.resume(sid)                            # continue after a crash or kill
    runner.state(sid)                             # the session's ResearchState

One thread per session (thread_id = session id). The checkpointer commits after every node,
so a killed process resumes at the node that was running.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command

from magnet.agent.cards import Card
from magnet.agent.deps import Deps
from magnet.agent.graph import build_graph
from magnet.agent.state import SERIALIZED, ResearchState, ReviewReply, Settings
from magnet.agent.traces import TraceStore
from magnet.tools.chain.ledger import Ledger
from magnet.tools.llm import Llm


class SessionRunner:
    def __init__(
        self,
        home: Path,
        llm: Llm,
        sandbox_limits=None,
        memory_path: Path | None = None,
        progress=None,
        chain=None,
    ) -> None:
        """`progress` and `chain` as in Deps: show a running experiment (the CLI's training
        bar), send the contribution outbox (a Ledger)."""
        home.mkdir(parents=True, exist_ok=True)
        self.traces = TraceStore(home / "magnet.db")
        self.deps = Deps(
            home=home,
            llm=llm,
            traces=self.traces,
            sandbox_limits=sandbox_limits,
            memory_path=memory_path,
            chain=chain,
        )
        if progress is not None:
            self.deps.progress = progress
        self.graph = build_graph(self.deps).compile(checkpointer=_saver(home))

    def start(
        self, goal: str, settings: Settings | None = None, data: str | None = None
    ) -> tuple[str, Card | None]:
        """A new session on `goal` (with `data`, a dataset named by the user)."""
        llm = self.deps.llm  # remembered so that resume and approve use the same LLM and chain
        update = {"model": llm.model, "api_base": llm.api_base, "chain": self.deps.chain}
        settings = (settings or Settings()).model_copy(update=update)
        llm_off = self._preflight(settings)
        sid = self.traces.create_session(goal)
        if llm_off:
            self.traces.event(sid, "intake", "llm", f"LLM not used: {llm_off}")
        state = ResearchState(
            session_id=sid, goal=goal, data=data, settings=settings, llm_off=llm_off
        )
        return sid, self._go(sid, state)

    def _preflight(self, settings: Settings) -> str | None:
        """Check the LLM before anything is created or run: its failure raises LlmError, or
        with `llm_optional` is the reason the session goes on without it."""
        from magnet.tools.errors import LlmError

        if settings.policy != "llm":
            return f"--policy {settings.policy}: its sampler alone, no failure rules"
        try:
            self.deps.llm.check()
        except LlmError as e:
            if not settings.llm_optional:
                raise LlmError(
                    f"{e}; --llm-optional goes on with the search policy alone"
                ) from None
            return f"going on with the search policy alone (--llm-optional): {e}"
        return None

    def resume(self, sid: str, reply: dict | None = None) -> Card | None:
        """Continue (answering the pending card with `reply`, or with the reply `answer`
        claimed it for); a finished session stays as it is: nothing runs and nothing in the
        store changes."""
        session = self.traces.session(sid)  # a clear error for an unknown id
        if self.finished(sid):
            return None
        reply = reply if reply is not None else session.summary.get("reply")
        return self._go(sid, Command(resume=reply) if reply is not None else None)

    def answer(self, sid: str, reply: ReviewReply | dict, card: str | None = None) -> None:
        """Claim the pending card for `reply`, once, whichever process (the CLI, the
        dashboard) asks first; `resume(sid)` then continues with it. `card` (a page's
        `card_id`) must still be the pending one, so a form sent twice never answers the next
        card. A reply that does not validate, a card answered already, or none waiting: one
        clear error, nothing changed."""
        from pydantic import ValidationError

        from magnet.tools.errors import AlreadyAnswered, ConfigError, SessionNotFound, first_problem

        if self.finished(sid):
            report = self.traces.session(sid).summary.get("report")
            hint = f" (report: {report})" if report else ""
            raise SessionNotFound(f"session '{sid}' is done: no card to answer{hint}")
        try:
            checked = ReviewReply.model_validate(reply)
        except ValidationError as e:
            raise ConfigError(f"not a review answer: {first_problem(e)}") from None
        if checked.set:
            self._check_edit(sid, checked.set)
        claim = {"reply": checked.model_dump(), "pid": os.getpid()}
        stale = card is not None and card != self.card_id(sid)
        if stale or not self.traces.transition(sid, ("waiting",), "answered", claim):
            status = self.traces.session(sid).status
            raise AlreadyAnswered(
                f"session '{sid}' has no card waiting for review (it is {status}): "
                "it was answered already, here or elsewhere"
            )

    def claim_resume(self, sid: str) -> None:
        """Claim a stopped session for the process about to resume it (no second runner)."""
        from magnet.tools.errors import AlreadyAnswered

        if not self.traces.transition(sid, ("stopped",), "answered", {"pid": os.getpid()}):
            status = self.traces.session(sid).status
            raise AlreadyAnswered(f"session '{sid}' is {status}, not stopped: nothing to resume")

    def _check_edit(self, sid: str, values: dict) -> None:
        """An edit's keys must be settings the search may change for this task."""
        from magnet.tools.errors import ConfigError
        from magnet.tools.search.space import clip

        task = self.state(sid).spec.search_task
        unknown = [n for n in clip(values, task)[1] if n.startswith("dropped")]
        if unknown:
            raise ConfigError(f"cannot edit: {'; '.join(unknown)}")

    def finished(self, sid: str) -> bool:
        """The checkpoint has run its last node (the report): the one test of "done"."""
        snapshot = self.graph.get_state(self.config(sid))
        return bool(snapshot.values) and not snapshot.next

    def card_id(self, sid: str) -> str | None:
        """The pending card's identity (its interrupt's id): a new card, a new id."""
        interrupts = self.graph.get_state(self.config(sid)).interrupts
        return interrupts[0].id if interrupts else None

    def pending(self, sid: str) -> Card | None:
        """The card waiting for review, with its interrupt's id."""
        interrupts = self.graph.get_state(self.config(sid)).interrupts
        if not interrupts:
            return None
        card = Card.model_validate(interrupts[0].value)
        return card.model_copy(update={"id": interrupts[0].id})

    def state(self, sid: str) -> ResearchState:
        self.traces.session(sid)  # a clear error for an unknown id
        return ResearchState.model_validate(self.graph.get_state(self.config(sid)).values)

    def _go(self, sid: str, payload) -> Card | None:
        """Run until the report or the next review; the session's status says which."""
        self.traces.update_session(
            sid, status="running", summary={"pid": os.getpid(), "reply": None}
        )
        try:
            self.graph.invoke(payload, self.config(sid))
        except BaseException:  # an error or Ctrl-C: `magnet resume` continues from here
            self.traces.update_session(sid, status="stopped")
            raise
        pending = self.pending(sid)
        if pending is not None:
            self.traces.update_session(sid, status="waiting")
        return pending

    @staticmethod
    def config(sid: str) -> dict:
        """The session's thread in the checkpointer."""
        return {"configurable": {"thread_id": sid}, "recursion_limit": 500}


def saved_settings(home: Path, sid: str) -> Settings | None:
    """A session's Settings as its checkpoint holds them (None before its first one), read
    without a graph: `magnet resume` and the dashboard need them to make the session's LLM
    and ledger."""
    saved = _saver(home).get_tuple(SessionRunner.config(sid))
    settings = saved and saved.checkpoint["channel_values"].get("settings")
    if settings is None:
        return None
    settings = Settings.model_validate(settings)
    summary = TraceStore(home / "magnet.db").session(sid).summary
    if settings.model is None and summary.get("model"):  # started before Settings held them
        chain = Ledger.model_validate(summary["chain"]) if summary.get("chain") else None
        update = {"model": summary["model"], "api_base": summary.get("api_base"), "chain": chain}
        settings = settings.model_copy(update=update)
    return settings


def _saver(home: Path) -> SqliteSaver:
    conn = sqlite3.connect(home / "checkpoints.db", check_same_thread=False)
    return SqliteSaver(conn, serde=JsonPlusSerializer(allowed_msgpack_modules=SERIALIZED))
