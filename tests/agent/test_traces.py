import sqlite3
import subprocess
import sys

import pytest

from magnet.agent.traces import MIGRATIONS, TraceStore
from magnet.tools.errors import SessionNotFound


def test_sessions_and_events_round_trip(tmp_path):
    store = TraceStore(tmp_path / "m.db")
    sid = store.create_session("classify scam messages")
    first = store.event(sid, "plan", "proposal", "lr=0.003", {"hypothesis": "higher lr"})
    store.event(sid, "review", "approved", "accepted")
    assert [e.node for e in store.events(sid)] == ["plan", "review"]
    [second] = store.events(sid, after=first)
    assert (second.kind, second.text, second.data) == ("approved", "accepted", {})
    store.update_session(sid, status="done", summary={"best": 0.93})
    assert store.session(sid).status == "done" and store.sessions()[0].summary == {"best": 0.93}
    with pytest.raises(SessionNotFound, match="no session 'nope'"):
        store.session("nope")


def test_migrations_apply_once_in_order(tmp_path):
    TraceStore(tmp_path / "m.db")
    TraceStore(tmp_path / "m.db")  # reopening applies nothing twice
    names = [
        r[0]
        for r in sqlite3.connect(tmp_path / "m.db").execute(
            "SELECT name FROM migrations ORDER BY name"
        )
    ]
    assert names == [name for name, _ in MIGRATIONS]


def test_another_process_reads_while_a_session_writes(tmp_path):
    store = TraceStore(tmp_path / "m.db")
    sid = store.create_session("g")
    for i in range(50):
        store.event(sid, "run", "progress", f"step {i}", {"step": i})
    code = (
        "import sys; from magnet.agent.traces import TraceStore; "
        "print(len(TraceStore(__import__('pathlib').Path(sys.argv[1])).events(sys.argv[2])))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "m.db"), sid],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip() == "50"
