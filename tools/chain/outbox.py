"""Send the session outbox (agent/traces.py) to the registry: each record lands once.

Rows stay in the outbox until the chain has them. A row whose content the chain already
holds (sent before a crash could mark it) is marked with the existing record id, not sent
twice. The first failure stops the sync and leaves that row and the rest for next time.
"""

from __future__ import annotations

from pydantic import BaseModel

from magnet.tools.chain.registry import AlreadyRecorded, Contribution, Registry
from magnet.tools.errors import ChainError


class SyncReport(BaseModel):
    sent: int = 0
    already: int = 0
    pending: int = 0
    error: str | None = None


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
