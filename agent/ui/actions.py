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

from magnet.agent.state import ReviewReply
from magnet.agent.ui.views import Board
from magnet.tools.errors import MagnetError


def answer(board: Board, sid: str, form: dict) -> None:
    """A posted card: action, settings ("key=value" words, as `magnet approve --set` takes
    them), reason, rest_of_rung."""
    reply = ReviewReply.parse(
        str(form.get("action", "")),
        str(form.get("settings", "")).split(),
        str(form.get("reason", "")),
        rest_of_rung=form.get("rest_of_rung") == "on",
    )
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
    from magnet.agent.session import saved_settings
    from magnet.tools.chain.outbox import Outbox
    from magnet.tools.chain.verify import verify as check

    settings = saved_settings(board.home, sid)
    chain = settings and settings.chain
    if not chain:
        return [], "this session records nothing on a chain (it ran with --chain off)"
    try:
        with chain.registry() as registry:
            checks = check(Outbox(board.store.path), registry, sid)
    except MagnetError as e:
        return [], str(e)
    return checks, None if checks else "no records of this session yet"
