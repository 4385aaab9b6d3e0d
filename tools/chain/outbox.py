"""The contribution outbox: records waiting for the chain, and sending them so each lands once.

    outbox = Outbox()                                   # $MAGNET_HOME/magnet.db
    outbox.add(session_id, experiment_id, "experiment", content_hash("experiment", p), p)
    sync(outbox, registry, session_id)                  # a SyncReport

Rows stay in the outbox until the chain has them. A row whose content the chain already
holds (sent before a crash could mark it) is marked with the existing record id, not sent
twice. The first failure stops the sync and leaves that row and the rest for next time. The
table lives in the session store's SQLite file, so a session's records commit with its trace.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from pydantic import BaseModel

from magnet.tools.chain.registry import AlreadyRecorded, Contribution, Registry
from magnet.tools.errors import ChainError
from magnet.tools.hashing import canonical_sha256, file_sha256
from magnet.tools.paths import magnet_home
from magnet.tools.sqlite_store import Migrations, migrate, open_db

MIGRATIONS: Migrations = [
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
COLUMNS = "id, session_id, experiment_id, kind, content_hash, payload, sent_at, record_id"


class OutboxRow(BaseModel):
    id: int
    session_id: str
    experiment_id: str
    kind: str
    content_hash: str
    payload: dict
    sent_at: float | None = None
    record_id: int | None = None


class SyncReport(BaseModel):
    sent: int = 0
    already: int = 0
    pending: int = 0
    error: str | None = None


class Outbox:
    def __init__(self, path: Path | None = None) -> None:
        self.db = open_db(path or magnet_home() / "magnet.db")
        migrate(self.db, MIGRATIONS)

    def add(
        self, session_id: str, experiment_id: str, kind: str, content_hash: str, payload: dict
    ) -> bool:
        """False when this experiment's record of this kind is already queued (resume-safe)."""
        now = time.time()
        cur = self.db.execute(
            "INSERT OR IGNORE INTO outbox (session_id, experiment_id, kind, content_hash, "
            "payload, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (session_id, experiment_id, kind, content_hash, json.dumps(payload, default=str), now),
        )
        return cur.rowcount == 1

    def rows(self, session_id: str | None = None, unsent_only: bool = False) -> list[OutboxRow]:
        sql = f"SELECT {COLUMNS} FROM outbox WHERE (? IS NULL OR session_id = ?)"
        if unsent_only:
            sql += " AND sent_at IS NULL"
        found = self.db.execute(sql + " ORDER BY id", (session_id, session_id))
        names = COLUMNS.split(", ")
        return [
            OutboxRow(**{**dict(zip(names, r, strict=True)), "payload": json.loads(r[5])})
            for r in found
        ]

    def mark_sent(self, row_id: int, record_id: int) -> None:
        """The row is on-chain as `record_id`; it is not sent again."""
        self.db.execute(
            "UPDATE outbox SET sent_at = ?, record_id = ? WHERE id = ?",
            (time.time(), record_id, row_id),
        )


def content_hash(kind: str, payload: dict) -> str:
    """The hash a record pins, recomputed from local artifacts: an experiment's canonical
    JSON (config, metrics, verdict, metric), a model's checkpoint bytes (`path`), a
    dataset's canonical content (`dataset`, `task`: its card's sha256)."""
    if kind == "experiment":
        return canonical_sha256(payload)
    if kind in ("model", "merge"):
        return file_sha256(Path(payload["path"]))
    from magnet.tools.datasets import load_dataset

    return load_dataset(payload["dataset"], payload["task"]).card.sha256


def contribution(row: OutboxRow) -> Contribution:
    return Contribution(
        session_id=row.session_id,
        experiment_id=row.experiment_id,
        kind=row.kind,
        content_hash=row.content_hash,
        metric=row.payload.get("metric"),
        uri=f"magnet://{row.session_id}/{row.experiment_id}",
    )


def sync(outbox: Outbox, registry: Registry, session_id: str | None = None) -> SyncReport:
    rows = outbox.rows(session_id, unsent_only=True)
    report = SyncReport(pending=len(rows))
    for row in rows:
        try:
            record_id = registry.record(contribution(row))
            report.sent += 1
        except AlreadyRecorded as e:
            record_id = e.record_id
            report.already += 1
        except ChainError as e:
            report.error = str(e)
            break
        except Exception as e:  # the RPC went away mid-sync: web3's and requests' errors
            report.error = f"{type(e).__name__} while sending row {row.id}"
            break
        outbox.mark_sent(row.id, record_id)
        report.pending -= 1
    return report
