"""What the dashboard's buttons do: answer a card, resume a session, verify its ledger.

Answering and resuming claim the session first (agent/session.py), exactly as the CLI does,
so a card answered on the page is gone from the CLI and a second answer is a clear error;
the session then continues in its own process (`magnet resume`), never inside the server.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from magnet.agent.ui.views import Board
from magnet.tools.errors import ConfigError, MagnetError
from magnet.tools.settings import parse_pairs


def answer(board: Board, sid: str, form: dict) -> None:
    """A posted card: action, settings ("key=value" words, as `magnet approve --set` takes
    them), reason, rest_of_rung."""
    action = form.get("action", "")
    reply: dict = {"action": action, "rest_of_rung": form.get("rest_of_rung") == "on"}
    if action == "edit":
        reply["set"] = parse_pairs(str(form.get("settings", "")).split())
        if not reply["set"]:
            raise ConfigError("an edit needs at least one key=value setting")
    elif action in ("reject", "respond"):
        reply["text"] = str(form.get("reason", "")).strip()
        if not reply["text"]:
            raise ConfigError(f"say why you {action}: the planner reads it")
    board.runner.answer(sid, reply, card=form.get("card") or None)
    _continue(board, sid)


def resume(board: Board, sid: str) -> None:
    board.runner.claim_resume(sid)
    _continue(board, sid)


def _continue(board: Board, sid: str) -> None:
    """`magnet resume SID` in a process of its own; its output goes to the session folder."""
    folder = board.home / "sessions" / sid
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "background.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "magnet.agent.cli", "resume", sid],
            env={**os.environ, "MAGNET_HOME": str(board.home)},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # it outlives the dashboard
        )
    threading.Thread(target=proc.wait, daemon=True).start()  # no zombie reads as alive
    board.store.transition(sid, ("answered",), "answered", {"pid": proc.pid})


def verify(board: Board, sid: str) -> tuple[list, str | None]:
    """The ledger's checks of this session, or why there are none."""
    from magnet.tools.chain.ledger import Ledger
    from magnet.tools.chain.outbox import Outbox
    from magnet.tools.chain.verify import verify as check

    chain = board.store.session(sid).summary.get("chain")
    if not chain:
        return [], "this session records nothing on a chain (it ran with --chain off)"
    try:
        with Ledger(**chain).registry() as registry:
            checks = check(Outbox(board.store.path), registry, sid)
    except MagnetError as e:
        return [], str(e)
    return checks, None if checks else "no records of this session yet"
