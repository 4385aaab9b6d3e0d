"""The project's SQLite files: opened the same way everywhere, schema changes as ordered, named
migrations applied once each (several stores may share one file and its `migrations` table).

    db = open_db(path)
    migrate(db, [("001_sessions", "CREATE TABLE ..."), ...])
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

Migrations = list[tuple[str, str]]


def open_db(path: Path) -> sqlite3.Connection:
    """Autocommit with explicit transactions, WAL so that readers in other processes (magnet
    watch, the chain CLI) never block the session that writes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA foreign_keys=ON")
    return db


def migrate(db: sqlite3.Connection, migrations: Migrations) -> None:
    db.execute(
        "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
    )
    done = {row[0] for row in db.execute("SELECT name FROM migrations")}
    for name, sql in migrations:
        if name in done:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in filter(str.strip, sql.split(";")):
                db.execute(statement)
            db.execute("INSERT INTO migrations VALUES (?, ?)", (name, time.time()))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
