"""`magnet research`, `sessions`, `show`, `watch`, `resume`, `approve`, `reject`.

A session started with `--approve ask` stops at each approval card: answer it at the prompt
(in a terminal) or later with `magnet approve ID` / `magnet reject ID --reason ...`.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from magnet.tools import console

if TYPE_CHECKING:
    from magnet.agent.cards import Card


def research_command(
    goal: Annotated[str, typer.Argument(help="the research goal, in plain words")],
    data: Annotated[
        str | None, typer.Option(help="dataset name or path (else from the goal)")
    ] = None,
    budget_minutes: Annotated[
        float,
        typer.Option(min=0.1, help="minutes of experiments: sets the rungs and the scale-up"),
    ] = 30,
    max_experiments: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="a cap on experiments, seeds and scale-up included (default: "
            "as many as the minutes hold)",
        ),
    ] = None,
    approve: Annotated[
        Literal["ask", "auto"],
        typer.Option(help="ask: review each experiment; auto: run without asking"),
    ] = "ask",
    model: Annotated[
        str | None,
        typer.Option(
            help="any litellm model string (default $MAGNET_MODEL or the embedded local model)"
        ),
    ] = None,
    api_base: Annotated[
        str | None,
        typer.Option(
            help="base URL of an OpenAI-compatible server, with --model openai/NAME; a key is "
            "read from $MAGNET_API_KEY (a keyless local server gets a placeholder)"
        ),
    ] = None,
    llm_optional: Annotated[
        bool,
        typer.Option(
            "--llm-optional",
            help="when the LLM fails its check at the start, go on with the search policy alone "
            "(default: stop with the error before anything runs)",
        ),
    ] = False,
    policy: Annotated[
        Literal["llm", "tpe", "random"],
        typer.Option(
            help="who proposes rung-0 configs: llm (it picks among the failure rules' and TPE's "
            "candidates), tpe or random (that sampler alone, no rules, no LLM)"
        ),
    ] = "llm",
    steps: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="an expert's override: a rung-0 run gets the compute of the default config at "
            "these steps (default: chosen from the budget and this machine's measured speed)",
        ),
    ] = None,
    scale_up: Annotated[
        float,
        typer.Option(
            "--scale-up",
            min=0.0,
            max=0.9,
            help="share of --budget-minutes that trains the winner last (0: none)",
        ),
    ] = 0.4,
    fixed: Annotated[
        list[str] | None,
        typer.Option("--set", help="key=value applied to every experiment, e.g. --set n_layers=2"),
    ] = None,
    chain: Annotated[
        str,
        typer.Option(
            help="where contributions are recorded: local (an embedded anvil), off, or an "
            "EVM RPC URL (signing key from $MAGNET_CHAIN_KEY)"
        ),
    ] = "local",
    chain_id: Annotated[int | None, typer.Option(help="refuse an RPC on another chain")] = None,
    workers: Annotated[
        str,
        typer.Option(
            help="experiments run at once, each with its share of the cores (the scale-up "
            "gets them all); the plan holds that many more runs. auto: as many as run the most "
            "experiments per hour, from a few seconds' probe of how a run uses threads here",
        ),
    ] = "auto",
    ray: Annotated[
        str | None,
        typer.Option(
            help="run the experiments on a Ray cluster: auto (the one `ray start` runs on this "
            "machine) or HOST:PORT; each is a task with --workers' share of its CPUs"
        ),
    ] = None,
) -> None:
    """Start a research session on GOAL and run it to a report (or to the first review).

    Example: magnet research "classify scam messages" --approve auto --budget-minutes 20

    The budget is the knob: it decides the plan, from a 4-minute demo to an overnight run.
    The session measures this machine, plans rungs of successive halving (many configs at
    one unit of compute, the best third retrained with three times as much; a longer budget
    gets more configs, a bigger unit and more rungs), then trains the winner with the rest of
    the minutes (about --scale-up of them) and scores it once on the test split. The plan is
    shown in the first review card, made again from measured seconds, and kept across a
    resume.

    At a card: accept, rung (accept it and the rest of its rung), edit, reject, respond;
    later, from any shell: magnet approve ID [--rung] [--set k=v] | magnet reject ID.

    A local model server as the planner: Ollama, --model openai/llama3.2 --api-base
    http://127.0.0.1:11434/v1; vLLM, --model openai/Qwen/Qwen2.5-7B-Instruct --api-base
    http://127.0.0.1:8000/v1.
    """
    from magnet.agent.state import Budget, Settings
    from magnet.tools.bitnet.config import parse_settings

    settings = Settings(
        approve=approve,
        steps=steps,
        fixed=parse_settings(fixed),  # a bad --set fails before anything starts
        budget=Budget(max_experiments=max_experiments, wall_minutes=budget_minutes),
        scaleup=scale_up,
        llm_optional=llm_optional,
        policy=policy,
        workers=_workers(workers),
        auto_workers=workers == "auto",
        ray=ray,
    )
    if ray is not None:  # no cluster there: one error line before anything is made
        from magnet.tools.ray_jobs import connect

        connect(ray)
    runner = _runner(model, api_base, _ledger(chain, chain_id))
    sid, card = runner.start(goal, settings, data=data)
    _converse(runner, sid, card)


def _workers(value: str) -> int:
    """--workers: a number of at least 1, or auto (1 until the probe has chosen)."""
    if value == "auto":
        return 1
    if not value.isdigit() or int(value) < 1:
        raise typer.BadParameter(
            f"a number of at least 1 or auto, not {value!r}", param_hint="--workers"
        )
    return int(value)


def sessions_command(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List research sessions, newest first."""
    from rich.markup import escape
    from rich.table import Table

    from magnet.agent.traces import TraceStore
    from magnet.tools.paths import magnet_home

    rows = TraceStore(magnet_home() / "magnet.db").sessions()
    if as_json:
        console.out.print_json(data=[r.model_dump() for r in rows])
        return
    table = Table("id", "status", "goal", "best", "classical baseline")
    for r in rows:
        best = (r.summary.get("best") or {}).get("value")
        anchor = (r.summary.get("baseline") or {}).get("val")
        table.add_row(
            r.id,
            r.status,
            escape(r.goal),
            "" if best is None else f"{best:.4g}",
            "" if anchor is None else f"{anchor:.4g}",
        )
    console.out.print(table)


def show_command(session_id: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show a session: its trace, experiments, best so far and any card awaiting review."""
    runner = _runner_for(session_id)
    state, card = runner.state(session_id), runner.pending(session_id)
    info = {
        "session": runner.traces.session(session_id).model_dump(),
        "experiments": [e.model_dump(mode="json") for e in state.experiments],
        "best": state.best and state.best.model_dump(mode="json"),
        "pending_review": card and card.model_dump(mode="json"),
        "trace": [e.model_dump() for e in runner.traces.events(session_id)],
    }
    if as_json:
        console.out.print_json(json.dumps(info, default=str))
        return
    for e in runner.traces.events(session_id):
        _print_event(e)
    if state.report:
        console.line(state.report)
    elif card:
        _print_card(card)


def watch_command(
    session_id: str,
    interval: Annotated[float, typer.Option(help="seconds between looks")] = 1.0,
    as_json: Annotated[
        bool, typer.Option("--json", help="each event in full, a line each")
    ] = False,
) -> None:
    """Follow a running session's trace from another terminal (Ctrl-C to stop)."""
    from magnet.agent.traces import TraceStore
    from magnet.tools.paths import magnet_home

    store = TraceStore(magnet_home() / "magnet.db")
    last = 0
    while True:
        status = store.session(session_id).status  # read before the events: none is missed
        for e in store.events(session_id, after=last):
            if as_json:
                console.line(e.model_dump_json())
            else:
                _print_event(e)
            last = e.id
        if status != "running":
            console.out.print(
                f"session {session_id}: {status}{NEXT.get(status, '')}", highlight=False
            )
            return
        time.sleep(interval)


NEXT = {
    "waiting": " for review (magnet approve | reject)",
    "stopped": " (magnet resume continues it)",
    "done": "",
}


def resume_command(session_id: str) -> None:
    """Continue a session that was stopped or killed; finished experiments are not re-run."""
    runner = _runner_for(session_id)
    if runner.finished(session_id):
        console.line(
            f"session {session_id} is done; nothing to resume{_report_hint(runner, session_id)}"
        )
        return
    _converse(runner, session_id, runner.resume(session_id))


def approve_command(
    session_id: str,
    changes: Annotated[list[str] | None, typer.Option("--set", help="edit: key=value")] = None,
    rung: Annotated[
        bool, typer.Option("--rung", help="also accept the rest of this card's rung unasked")
    ] = False,
) -> None:
    """Accept the pending proposal (with --set, an edited one) and continue.

    Example: magnet approve ID --rung     (this card and every later one of its rung)
    """
    from magnet.agent.state import ReviewReply

    _answer(session_id, ReviewReply.parse("edit" if changes else "accept", changes, "", rung))


def reject_command(
    session_id: str, reason: Annotated[str, typer.Option(help="why; the planner reads it")]
) -> None:
    """Reject the pending proposal; the reason goes to memory and the next plan."""
    from magnet.agent.state import ReviewReply

    _answer(session_id, ReviewReply.parse("reject", text=reason))


def _answer(session_id: str, reply) -> None:
    """The card claimed for this reply (as the dashboard does), then the session goes on here."""
    runner = _runner_for(session_id)
    runner.answer(session_id, reply)
    _converse(runner, session_id, runner.resume(session_id))


def _report_hint(runner, sid: str) -> str:
    report = runner.traces.session(sid).summary.get("report")
    return f" (report: {report})" if report else ""


def _converse(runner, sid: str, card: Card | None) -> None:
    """Answer cards at the prompt in a terminal; otherwise say how to answer later."""
    from magnet.agent.state import ReviewReply

    while card is not None:
        _print_card(card)
        if not sys.stdin.isatty():
            console.line(
                f"waiting for review: magnet approve {sid} | magnet reject {sid} --reason ..."
            )
            return
        action = typer.prompt("accept / rung (accept its rest too) / edit / reject / respond",
                              default="accept")  # fmt: skip
        words = typer.prompt("key=value (space separated)").split() if action == "edit" else []
        why = typer.prompt("why") if action in ("reject", "respond") else ""
        rung = action == "rung"
        runner.answer(sid, ReviewReply.parse("accept" if rung else action, words, why, rung))
        card = runner.resume(sid)
    console.out.print(f"session: {sid}", highlight=False)
    console.line(runner.state(sid).report or "")  # its last line is the result


def _ledger(chain: str, chain_id: int | None):
    from magnet.tools.chain.ledger import Ledger
    from magnet.tools.errors import ChainError

    if chain == "off":
        return None
    if chain == "local":
        return Ledger(chain_id=chain_id)
    if not chain.startswith(("http://", "https://")):
        raise ChainError(f"--chain takes local, off or an http(s) RPC URL, not '{chain}'")
    return Ledger(rpc_url=chain, chain_id=chain_id)


def _runner(model: str | None, api_base: str | None, ledger=None):
    from magnet.agent.session import SessionRunner
    from magnet.tools.llm import Llm
    from magnet.tools.paths import magnet_home

    llm = Llm(model, api_base)
    runner = SessionRunner(magnet_home(), llm, progress=_training_bar, chain=ledger)
    runner.traces.listeners.append(_print_event)
    return runner


class _TrainingBars:
    """One progress display on stderr for the experiments training at once (rich allows one
    live display): a bar each while it trains, the display gone when the last ends (rich
    draws nothing when stderr is not a terminal)."""

    def __init__(self) -> None:
        self.lock, self.bars, self.open = threading.Lock(), None, 0

    @contextmanager
    def __call__(self, exp_id: str, steps: int | None):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        with self.lock:
            if not self.open:
                columns = ("{task.description}", BarColumn(), MofNCompleteColumn())
                columns += (TimeElapsedColumn(),)
                self.bars = Progress(*columns, console=console.err, transient=True)
                self.bars.start()
            self.open += 1
            bars = self.bars
            task = bars.add_task(f"{exp_id} training", total=steps)

        def on_metric(record: dict) -> None:
            if record.get("event") == "train":
                loss = f"loss {record['loss']:.3f}" if "loss" in record else ""
                bars.update(task, completed=record["step"], description=f"{exp_id} {loss}")

        try:
            yield on_metric
        finally:
            with self.lock:
                bars.remove_task(task)
                self.open -= 1
                if not self.open:
                    bars.stop()


_training_bar = _TrainingBars()


def _runner_for(session_id: str):
    """A runner with the LLM and chain the session started with (its saved Settings)."""
    from magnet.agent.session import saved_settings
    from magnet.agent.state import Settings
    from magnet.agent.traces import TraceStore
    from magnet.tools.paths import magnet_home

    TraceStore(magnet_home() / "magnet.db").session(session_id)  # a clear error for an unknown id
    settings = saved_settings(magnet_home(), session_id) or Settings()
    return _runner(settings.model, settings.api_base, settings.chain)


def _print_event(e) -> None:
    from rich.markup import escape

    console.err.print(
        f"[dim]{time.strftime('%H:%M:%S', time.localtime(e.ts))}[/] "
        f"[bold]{e.node}[/] {e.kind} {escape(e.text[:200])}",
        highlight=False,
        markup=True,
        soft_wrap=True,
    )


def _print_card(card: Card) -> None:
    from rich.markup import escape

    change = ", ".join(f"{c.key} {c.shown_before} → {c.shown_after}" for c in card.changed)
    console.out.print(
        f"\n[bold]Proposed experiment[/]: {escape(card.hypothesis)}\n"
        f"  change: {escape(change) or 'none: the config as it is'}\n"
        f"  estimated {card.estimated_seconds:.0f} s of {card.remaining_seconds:.0f} s left"
        + (f"\n  plan: {escape(card.plan)}" if card.plan else "")
        + (f"\n  [yellow]{escape(card.llm_off)}[/]" if card.llm_off else ""),
        highlight=False,
    )


COMMANDS = {
    "research": research_command,
    "sessions": sessions_command,
    "show": show_command,
    "watch": watch_command,
    "resume": resume_command,
    "approve": approve_command,
    "reject": reject_command,
}
