"""What the dashboard shows, as typed models read from the session store and the checkpoints.

    board = Board(home)
    rows = board.rows()                  # the sessions page
    view = board.session("2026…-ab12cd")  # one session: table, card, report, first events

Nothing here writes: answering a card and resuming are agent/session.py's (one code path for
the page and the CLI).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import BaseModel

from magnet.agent.cards import Card
from magnet.agent.state import ResearchState, describe
from magnet.agent.traces import Event, Session, TraceStore

STATUS = {"waiting": "waiting for review", "answered": "starting"}


class Row(BaseModel):
    """One session on the sessions page."""

    id: str
    goal: str
    status: str
    metric: str | None = None
    best: float | None = None
    baseline: str | None = None
    used_minutes: float = 0.0
    budget_minutes: float | None = None
    last_event: float | None = None


class ExperimentRow(BaseModel):
    number: int
    label: str
    rung: int
    change: str
    status: str
    value: float | None
    verdict: str | None
    steps: int | None
    flops: float | None
    seconds: float


class RunningRow(BaseModel):
    """An approved experiment in flight, and the worker it runs on."""

    number: int
    label: str
    rung: int
    change: str
    worker: str
    steps: int | None


class SessionView(BaseModel):
    row: Row
    task: str = ""
    experiments: list[ExperimentRow] = []
    running: list[RunningRow] = []
    baselines: list[str] = []
    expert: str = ""
    stop_reason: str | None = None
    card: Card | None = None
    report: str | None = None
    chain: bool = False
    events: list[Event] = []


class Board:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.store = TraceStore(home / "magnet.db")

    @cached_property
    def runner(self):
        """The checkpoints, read through the same graph the sessions run (no LLM is asked)."""
        from magnet.agent.session import SessionRunner
        from magnet.tools.llm import Llm

        return SessionRunner(self.home, Llm())

    def rows(self) -> list[Row]:
        return [self._row(s, self.state(s.id)) for s in self.store.sessions()]

    def session(self, sid: str) -> SessionView:
        """A clear SessionNotFound for an unknown id."""
        session = self.store.session(sid)
        state = self.state(sid)
        view = SessionView(row=self._row(session, state), events=self.store.events(sid))
        if state is None:
            return view
        from magnet.agent.session import saved_settings

        view.chain = saved_settings(self.home, sid).chain is not None
        if state.spec:
            view.task = f"{state.spec.task} on {state.spec.dataset}, metric {state.spec.metric}"
        view.experiments = [_experiment(e) for e in state.experiments]
        view.running = [_running(launch, state.settings) for launch in state.running]
        view.baselines = [b.describe() for b in state.baselines]
        if state.expert:
            t = state.expert.test
            view.expert = (
                f"exp {state.expert.experiment_id.rsplit('-', 1)[1]}: test {t.metric} "
                f"{t.value:.4g} [{t.low:.4g}, {t.high:.4g}]"
            )
        view.stop_reason, view.report = state.stop_reason, state.report
        view.card = self.runner.pending(sid) if session.status == "waiting" else None
        return view

    def state(self, sid: str) -> ResearchState | None:
        """None before the session's first checkpoint (it is just starting)."""
        values = self.runner.graph.get_state(self.runner.config(sid)).values
        return ResearchState.model_validate(values) if values else None

    def _row(self, session: Session, state: ResearchState | None) -> Row:
        events = self.store.events(session.id, after=0)  # a session has hundreds at most
        row = Row(
            id=session.id,
            goal=session.goal,
            status=STATUS.get(session.status, session.status),
            last_event=events[-1].ts if events else None,
        )
        if state is None:
            return row
        row.used_minutes = state.elapsed_s / 60
        row.budget_minutes = state.settings.budget.wall_minutes
        if state.spec:
            row.metric = state.spec.metric
        if state.best:
            row.best = state.best.value
        anchor = state.anchor() if state.spec else None
        if anchor:
            row.baseline = f"{anchor.name} {anchor.val:.4g}"
        return row


def _running(launch, settings) -> RunningRow:
    threads = launch.request.get("threads")
    where = (
        f"worker {launch.worker} of {settings.workers}"
        + (f", {threads} thread{'s' * (threads > 1)}" if threads else ", every core")
        + (" (a Ray task)" if settings.ray else "")
    )
    return RunningRow(
        number=launch.number,
        label=launch.kind,
        rung=launch.rung,
        change=describe(launch.diff),
        worker=where,
        steps=launch.steps,
    )


def _experiment(e) -> ExperimentRow:
    return ExperimentRow(
        number=e.number,
        label=e.label,
        rung=e.rung,
        change="baseline" if e.kind == "baseline" else describe(e.diff),
        status=e.status,
        value=e.value,
        verdict=e.verdict,
        steps=e.steps,
        flops=e.flops,
        seconds=e.seconds,
    )
