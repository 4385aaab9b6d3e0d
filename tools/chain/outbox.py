"""Send the session outbox (agent/traces.py) to the registry: each record lands once.

Rows stay in the outbox until the chain has them. A row whose content the chain already
holds (sent before a crash could mark it) is marked with the existing record id, not sent
twice. The first failure stops the sync and leaves that row and the rest for next time.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import BaseModel

from magnet.tools.chain.registry import AlreadyRecorded, Contribution, Registry
from magnet.tools.errors import ChainError


class SyncReport(BaseModel):
    sent: int = 0
    already: int = 0
    pending: int = 0
    error: str | None = None


def content_hash(kind: str, payload: dict) -> str:
    """The hash a record pins, recomputed from local artifacts: an experiment's canonical
    JSON (config, metrics, verdict, metric), a model's checkpoint bytes (`path`), a
    dataset's canonical content (`dataset`, `task`: its card's sha256)."""
    if kind == "experiment":
        from magnet.memory.findings import config_hash

        return config_hash(payload)
    if kind in ("model", "merge"):
        return file_sha256(Path(payload["path"]))
    from magnet.tools.datasets import load_dataset

    return load_dataset(payload["dataset"], payload["task"]).card.sha256


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def contribution(row: dict) -> Contribution:
    return Contribution(
        session_id=row["session_id"],
        experiment_id=row["experiment_id"],
        kind=row["kind"],
        content_hash=row["content_hash"],
        metric=row["payload"].get("metric"),
        uri=f"magnet://{row['session_id']}/{row['experiment_id']}",
    )


def sync(traces, registry: Registry, session_id: str | None = None) -> SyncReport:
    rows = traces.outbox(session_id, unsent_only=True)
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
            report.error = f"{type(e).__name__} while sending row {row['id']}"
            break
        traces.outbox_sent(row["id"], record_id)
        report.pending -= 1
    return report
