"""The session store: sessions and their node events (the trace).

One SQLite file, `$MAGNET_HOME/magnet.db`, in WAL mode so `magnet watch` can read while a
session writes. Schema changes are ordered, named migrations, applied once each.

    store = TraceStore()
    sid = store.create_session("classify scam messages")
    store.event(sid, "plan", "proposal", "exp 3 · lr=0.001", {"hypothesis": "..."})
    for e in store.events(sid, after=0): ...
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

from pydantic import BaseModel, Field

from magnet.tools.errors import SessionNotFound
from magnet.tools.paths import magnet_home
from magnet.tools.sqlite_store import Migrations, migrate, open_db

MIGRATIONS: Migrations = [
    (
        "001_sessions_events",
        """
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY, goal TEXT NOT NULL, created_at REAL NOT NULL,
            status TEXT NOT NULL DEFAULT 'running', summary TEXT NOT NULL DEFAULT '{}');
        CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL REFERENCES sessions,
            ts REAL NOT NULL, node TEXT NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL);
        CREATE INDEX events_by_session ON events (session_id, id);
    """,
    ),
    # 002 and 003 are the contribution outbox's (tools/chain/outbox.py), in the same file.
    ("004_event_text", "ALTER TABLE events ADD COLUMN text TEXT NOT NULL DEFAULT '';"),
]


class Event(BaseModel):
    id: int
    session_id: str
    ts: float
    node: str
    kind: str
    text: str = Field(description="one line for a person: what happened")
    data: dict = Field(description="the full record (`--json`)")


class Session(BaseModel):
    id: str
    goal: str
    created_at: float
    status: str
    summary: dict


class TraceStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or magnet_home() / "magnet.db"
        self.db = open_db(self.path)
        self.listeners: list = []  # called with each new Event (the live terminal trace)
        migrate(self.db, MIGRATIONS)

    def create_session(self, goal: str) -> str:
        sid = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        self.db.execute(
            "INSERT INTO sessions (id, goal, created_at) VALUES (?, ?, ?)", (sid, goal, time.time())
        )
        return sid

    def session(self, sid: str) -> Session:
        row = self.db.execute(
            "SELECT id, goal, created_at, status, summary FROM sessions WHERE id = ?", (sid,)
        ).fetchone()
        if row is None:
            raise SessionNotFound(f"no session '{sid}' (see `magnet sessions`)")
        return _session(row)

    def sessions(self) -> list[Session]:
        rows = self.db.execute(
            "SELECT id, goal, created_at, status, summary FROM sessions ORDER BY created_at DESC"
        )
        return [_session(r) for r in rows]

    def update_session(
        self, sid: str, status: str | None = None, summary: dict | None = None
    ) -> None:
        """`summary` sets its keys and keeps the others."""
        current = self.session(sid)
        self.db.execute(
            "UPDATE sessions SET status = ?, summary = ? WHERE id = ?",
            (status or current.status, json.dumps({**current.summary, **(summary or {})}), sid),
        )

    def transition(self, sid: str, allowed: tuple[str, ...], status: str, summary: dict) -> bool:
        """Compare-and-set across processes: a session whose status reads as one of `allowed`
        gets `status` and the `summary` keys; False when it reads otherwise or another process
        changed it between the read and the write (the one that wrote first wins)."""
        row = self.db.execute(
            "SELECT id, goal, created_at, status, summary FROM sessions WHERE id = ?", (sid,)
        ).fetchone()
        if row is None:
            raise SessionNotFound(f"no session '{sid}' (see `magnet sessions`)")
        if _session(row).status not in allowed:
            return False
        new = json.dumps({**json.loads(row[4]), **summary})
        cur = self.db.execute(
            "UPDATE sessions SET status = ?, summary = ? "
            "WHERE id = ? AND status = ? AND summary = ?",
            (status, new, sid, row[3], row[4]),
        )
        return cur.rowcount == 1

    def event(self, sid: str, node: str, kind: str, text: str, data: dict | None = None) -> int:
        ts, blob = time.time(), json.dumps(data or {}, default=str)
        cur = self.db.execute(
            "INSERT INTO events (session_id, ts, node, kind, text, data) VALUES (?, ?, ?, ?, ?, ?)",
            (sid, ts, node, kind, text, blob),
        )
        event = Event(
            id=cur.lastrowid,
            session_id=sid,
            ts=ts,
            node=node,
            kind=kind,
            text=text,
            data=json.loads(blob),
        )
        for listener in self.listeners:
            listener(event)
        return cur.lastrowid

    def events(self, sid: str, after: int = 0) -> list[Event]:
        rows = self.db.execute(
            "SELECT id, session_id, ts, node, kind, text, data FROM events "
            "WHERE session_id = ? AND id > ? ORDER BY id",
            (sid, after),
        )
        names = ("id", "session_id", "ts", "node", "kind", "text")
        return [Event(**dict(zip(names, r[:6], strict=True)), data=json.loads(r[6])) for r in rows]


def _session(row) -> Session:
    """The one place a session's status is read: one with a report (written by the graph's
    last node) is done, whatever a later process wrote; one marked running (or answered: its
    card claimed, its process starting) whose process is gone (killed) reads "stopped"."""
    status, summary = row[3], json.loads(row[4])
    if summary.get("report"):
        status = "done"
    elif status in ("running", "answered") and not _alive(summary.get("pid")):
        status = "stopped"
    return Session(id=row[0], goal=row[1], created_at=row[2], status=status, summary=summary)


def _alive(pid: int | None) -> bool:
    if pid is None:
        return True  # not started by a process that said so: trust the status
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    return True
