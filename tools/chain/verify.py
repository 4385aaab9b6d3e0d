"""Check a session's records on-chain against what is on this machine.

Each outbox row's content hash is recomputed from its local artifact (the experiment's
config and metrics, the checkpoint bytes, the dataset) and matched with the chain's record
for the same experiment and kind:

    ok         the chain holds exactly this content
    tampered   the chain holds other content (or another metric) than the local artifact
    missing    the outbox says it was sent, the chain has no such record; or the local
               artifact is gone
    queued     not sent yet (`magnet chain sync`)
    unknown    on-chain for this session, with no local artifact to check it against
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from magnet.tools.chain.outbox import Outbox, OutboxRow, content_hash
from magnet.tools.chain.registry import OnChain, Registry, sha256_hex
from magnet.tools.errors import MagnetError

Status = Literal["ok", "tampered", "missing", "queued", "unknown"]


class Check(BaseModel):
    experiment_id: str
    kind: str
    status: Status
    record_id: int | None = None
    detail: str = ""


def verify(outbox: Outbox, registry: Registry, session_id: str) -> list[Check]:
    on_chain = {(r.experiment_hash, r.kind): r for r in registry.session(session_id)}
    checks = []
    for row in outbox.rows(session_id):
        record = on_chain.pop((sha256_hex(row.experiment_id), row.kind), None)
        checks.append(_check(row, record, registry))
    checks += [
        Check(
            experiment_id=f"sha256:{r.experiment_hash[:12]}",
            kind=r.kind,
            status="unknown",
            record_id=r.id,
            detail="on-chain, but nothing here says what it was",
        )
        for r in on_chain.values()
    ]
    return checks


def _check(row: OutboxRow, record: OnChain | None, registry: Registry) -> Check:
    check = Check(experiment_id=row.experiment_id, kind=row.kind, status="ok")
    try:
        local = content_hash(row.kind, row.payload)
    except (OSError, MagnetError) as e:
        return check.model_copy(update={"status": "missing", "detail": f"local artifact: {e}"})
    if record is None:
        shared = registry.find(local)  # a dataset another session recorded first
        if shared is not None:
            return check.model_copy(update={"record_id": shared, "detail": "recorded earlier"})
        if row.sent_at is None:
            status = "tampered" if local != row.content_hash else "queued"
            return check.model_copy(update={"status": status, "detail": _differs(row, local)})
        detail = f"the outbox says record {row.record_id}; the chain has none for it"
        return check.model_copy(update={"status": "missing", "detail": detail})
    check.record_id = record.id
    metric = row.payload.get("metric")
    if record.content_hash != local:
        return check.model_copy(
            update={
                "status": "tampered",
                "detail": f"content {local[:12]}… here, "
                f"{record.content_hash[:12]}… on-chain{_metrics(metric, record)}",
            }
        )
    if row.kind == "experiment" and not _same(metric, record.metric):
        detail = _metrics(metric, record).removeprefix("; ")
        return check.model_copy(update={"status": "tampered", "detail": detail})
    return check


def _differs(row: OutboxRow, local: str) -> str:
    if local == row.content_hash:
        return "not sent yet: magnet chain sync"
    return f"changed since it was queued ({row.content_hash[:12]}… → {local[:12]}…)"


def _metrics(local: float | None, record: OnChain) -> str:
    if _same(local, record.metric):
        return ""
    return f"; metric {local} here, {record.metric} on-chain"


def _same(local: float | None, chained: float | None) -> bool:
    if local is None or chained is None:
        return local is chained
    return abs(local - chained) <= 1e-6 * max(1.0, abs(local))
