"""`magnet chain` against a real anvil on 127.0.0.1, as a user runs it."""

import json

import pytest

from magnet.agent.traces import TraceStore
from magnet.tools.chain.registry import sha256_hex
from tests.conftest import magnet


@pytest.mark.integration
def test_sync_then_list_and_status_survive_restarts(tmp_path):
    home = tmp_path / "home"
    traces = TraceStore(home / "magnet.db")
    sid = traces.create_session("classify scam messages")
    for i in range(2):
        payload = {"metric": 0.5 + i}
        traces.outbox_add(sid, f"{sid}-{i:03d}", "experiment", sha256_hex(f"{i}"), payload)
    synced = magnet("chain", "sync", home=home)
    assert synced.returncode == 0, synced.stderr
    assert "sent 2, already on-chain 0, still queued 0" in synced.stdout
    assert "deployed ContributionRegistry" in synced.stderr
    listed = magnet("chain", "list", "--session", sid, home=home)  # a new anvil, saved state
    records = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [r["metric"] for r in records] == [0.5, 1.5]
    assert records[0]["session_hash"] == sha256_hex(sid)
    status = json.loads(magnet("chain", "status", home=home).stdout)
    assert (status["records_on_chain"], status["outbox_sent"], status["outbox_pending"]) == (
        2,
        2,
        0,
    )


def test_an_unreachable_rpc_or_a_wrong_chain_is_one_error_line(tmp_path):
    down = magnet("chain", "sync", "--rpc-url", "http://127.0.0.1:9", home=tmp_path)
    assert down.returncode == 1
    assert (
        down.stderr.strip()
        == "Error: cannot reach the chain at http://127.0.0.1:9 (ConnectionError)"
    )
    wrong = magnet("chain", "status", "--chain-id", "1", home=tmp_path)
    assert wrong.returncode == 1 and "is chain 31337, not 1" in wrong.stderr
