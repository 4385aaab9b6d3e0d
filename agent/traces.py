"""The session store: sessions, their node events (the trace), and the contribution outbox.

One SQLite file, `$MAGNET_HOME/magnet.db`, in WAL mode so `magnet watch` can read while a
session writes. Schema changes are ordered, named migrations, applied once each.

    store = TraceStore()
    sid = store.create_session("classify scam messages")
    store.event(sid, "plan", "proposal", {"hypothesis": "..."})
    for e in store.events(sid, after=0): ...
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from pathlib import Path

from pydantic import BaseModel

from magnet.tools.errors import SessionNotFound
from magnet.tools.paths import magnet_home

MIGRATIONS: list[tuple[str, str]] = [
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
    (
        "002_outbox",
        """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL,
            experiment_id TEXT NOT NULL, kind TEXT NOT NULL, content_hash TEXT NOT NULL,
            payload TEXT NOT NULL, created_at REAL NOT NULL, sent_at REAL,
            UNIQUE (session_id, experiment_id, kind));
    """,
    ),
    ("003_outbox_record_id", "ALTER TABLE outbox ADD COLUMN record_id INTEGER;"),
]


class Event(BaseModel):
    id: int
    session_id: str
    ts: float
    node: str
    kind: str
    data: dict


class Session(BaseModel):
    id: str
    goal: str
    created_at: float
    status: str
    summary: dict


class TraceStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or magnet_home() / "magnet.db"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(
            self.path, check_same_thread=False, timeout=30, isolation_level=None
        )  # autocommit; explicit transactions
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.listeners: list = []  # called with each new Event (the live terminal trace)
        self._migrate()

    def _migrate(self) -> None:
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, "
            "applied_at REAL NOT NULL)"
        )
        done = {row[0] for row in self.db.execute("SELECT name FROM migrations")}
        for name, sql in MIGRATIONS:
            if name not in done:
                self.db.execute("BEGIN IMMEDIATE")
                try:
                    for statement in filter(str.strip, sql.split(";")):
                        self.db.execute(statement)
                    self.db.execute("INSERT INTO migrations VALUES (?, ?)", (name, time.time()))
                    self.db.execute("COMMIT")
                except BaseException:
                    self.db.execute("ROLLBACK")
                    raise

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

    def event(self, sid: str, node: str, kind: str, data: dict | None = None) -> int:
        ts, text = time.time(), json.dumps(data or {}, default=str)
        cur = self.db.execute(
            "INSERT INTO events (session_id, ts, node, kind, data) VALUES (?, ?, ?, ?, ?)",
            (sid, ts, node, kind, text),
        )
        for listener in self.listeners:
            listener(
                Event(
                    id=cur.lastrowid,
                    session_id=sid,
                    ts=ts,
                    node=node,
                    kind=kind,
                    data=json.loads(text),
                )
            )
        return cur.lastrowid

    def events(self, sid: str, after: int = 0) -> list[Event]:
        rows = self.db.execute(
            "SELECT id, session_id, ts, node, kind, data FROM events "
            "WHERE session_id = ? AND id > ? ORDER BY id",
            (sid, after),
        )
        return [
            Event(id=r[0], session_id=r[1], ts=r[2], node=r[3], kind=r[4], data=json.loads(r[5]))
            for r in rows
        ]

    def outbox_add(
        self, sid: str, experiment_id: str, kind: str, content_hash: str, payload: dict
    ) -> bool:
        """False when this experiment's record of this kind is already queued (resume-safe)."""
        cur = self.db.execute(
            "INSERT OR IGNORE INTO outbox (session_id, experiment_id, kind, content_hash, "
            "payload, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (sid, experiment_id, kind, content_hash, json.dumps(payload, default=str), time.time()),
        )
        return cur.rowcount == 1

    def outbox(self, sid: str | None = None, unsent_only: bool = False) -> list[dict]:
        sql = (
            "SELECT id, session_id, experiment_id, kind, content_hash, payload, sent_at, "
            "record_id FROM outbox WHERE (? IS NULL OR session_id = ?)"
        )
        if unsent_only:
            sql += " AND sent_at IS NULL"
        rows = self.db.execute(sql + " ORDER BY id", (sid, sid))
        keys = ("id", "session_id", "experiment_id", "kind", "content_hash", "payload")
        keys += ("sent_at", "record_id")
        return [dict(zip(keys, r[:5] + (json.loads(r[5]),) + r[6:], strict=True)) for r in rows]

    def outbox_sent(self, row_id: int, record_id: int) -> None:
        """The row is on-chain as `record_id`; it is not sent again."""
        self.db.execute(
            "UPDATE outbox SET sent_at = ?, record_id = ? WHERE id = ?",
            (time.time(), record_id, row_id),
        )


def _session(row) -> Session:
    """A session marked running whose process is gone (killed) reads "stopped"."""
    status, summary = row[3], json.loads(row[4])
    if status == "running" and not _alive(summary.get("pid")):
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
