"""Contribution ledger throughput on anvil: records per second, latency and gas per record.

    python bench/chain.py [--records 200]

Starts the embedded anvil (127.0.0.1, fresh state), deploys the registry and sends
`--records` records one after another, each waited for (as the outbox sends them). The
baseline, in the same run on the same node: plain 1-wei transfers, the cheapest transaction
there is, so the figures separate what the contract costs from what any transaction costs.
Also times the whole outbox path (`Ledger.send`: anvil start, connect, sync) for the same
number of queued rows. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from web3 import Web3

from magnet.tools.chain.anvil import local_chain
from magnet.tools.chain.registry import Contribution, Registry, sha256_hex


def timed(w3, n: int, send) -> dict:
    """Run `send(i)` n times, each waited for; gas is read from the receipts afterwards."""
    latencies = []
    start = time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        send(i)
        latencies.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    last = w3.eth.block_number
    gas = [w3.eth.get_block(b).gasUsed for b in range(last - n + 1, last + 1)]  # one tx a block
    return {
        "per_s": round(n / total, 1),
        "latency_ms_p50": round(1000 * statistics.median(latencies), 2),
        "latency_ms_p95": round(1000 * sorted(latencies)[int(0.95 * (n - 1))], 2),
        "gas_mean": round(statistics.mean(gas)),
    }


def record(registry: Registry, i: int) -> int:
    """One record as the outbox sends it (a duplicate check, then the transaction)."""
    session, experiment = f"bench-{i // 10}", f"bench-{i // 10}-{i % 10:03d}"
    return registry.record(
        Contribution(
            session_id=session,
            experiment_id=experiment,
            kind="experiment",
            content_hash=sha256_hex(f"bench {i}"),
            metric=1.0 + i / 1000,
            uri=f"magnet://{session}/{experiment}",
        )
    )


def outbox_path(home: Path, n: int) -> dict:
    """Queue n rows, then one `Ledger.send` as the record node does it."""
    from magnet.tools.chain.ledger import Ledger
    from magnet.tools.chain.outbox import Outbox

    os.environ["MAGNET_HOME"] = str(home)
    outbox = Outbox(home / "magnet.db")
    sid = "bench-session"
    for i in range(n):
        outbox.add(sid, f"{sid}-{i:03d}", "experiment", sha256_hex(f"o{i}"), {"metric": i})
    start = time.perf_counter()
    report = Ledger().send(outbox, sid)
    total = time.perf_counter() - start
    assert report.sent == n and report.error is None, report
    return {"rows": n, "seconds": round(total, 2), "per_s": round(n / total, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        with local_chain(Path(tmp) / "bench") as url:
            started = time.perf_counter() - start
            w3 = Web3(Web3.HTTPProvider(url))
            sender, receiver = w3.eth.accounts[:2]
            registry = Registry.deploy(w3)

            def transfer(_: int):
                tx = w3.eth.send_transaction({"from": sender, "to": receiver, "value": 1})
                w3.eth.wait_for_transaction_receipt(tx)

            baseline = timed(w3, args.records, transfer)
            records = timed(w3, args.records, lambda i: record(registry, i))
            assert registry.count() == args.records
        out = {
            "records": args.records,
            "anvil_start_s": round(started, 3),
            "record": records,
            "baseline_transfer": baseline,
            "latency_vs_baseline": round(records["latency_ms_p50"] / baseline["latency_ms_p50"], 2),
            "outbox_send": outbox_path(Path(tmp) / "outbox", args.records),
        }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
