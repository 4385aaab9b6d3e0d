"""`magnet chain` against a real anvil on 127.0.0.1, as a user runs it."""

import json

import pytest

from magnet.tools.chain.outbox import Outbox, content_hash
from magnet.tools.chain.registry import sha256_hex
from tests.conftest import magnet


@pytest.mark.integration
def test_sync_then_list_and_status_survive_restarts(tmp_path):
    home = tmp_path / "home"
    outbox = Outbox(home / "magnet.db")
    sid = "20261201-120000-abcdef"
    for i in range(2):
        payload = {"metric": 0.5 + i}
        outbox.add(sid, f"{sid}-{i:03d}", "experiment", sha256_hex(f"{i}"), payload)
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
        == "Error: cannot reach the chain at http://127.0.0.1:9 (ConnectionError); "
        "0 record(s) stay in the outbox"
    )
    wrong = magnet("chain", "status", "--chain-id", "1", home=tmp_path)
    assert wrong.returncode == 1 and "is chain 31337, not 1" in wrong.stderr


@pytest.mark.integration
def test_an_unfunded_or_malformed_key_or_address_is_a_clear_error_and_keeps_the_outbox(
    tmp_path, monkeypatch
):
    from eth_account import Account

    home = tmp_path / "home"
    outbox = Outbox(home / "magnet.db")
    sid = "20261201-120000-abcdef"
    outbox.add(sid, f"{sid}-000", "experiment", sha256_hex("0"), {"metric": 0.9})
    key = Account.create().key.hex()  # a fresh account: no ether on anvil
    monkeypatch.setenv("MAGNET_CHAIN_KEY", key)
    poor = magnet("chain", "sync", home=home)
    assert poor.returncode == 1 and "Insufficient funds" in poor.stderr
    assert key.removeprefix("0x") not in poor.stdout + poor.stderr  # never printed

    monkeypatch.setenv("MAGNET_CHAIN_KEY", "0x1234")
    bad_key = magnet("chain", "sync", home=home)
    assert "Error: MAGNET_CHAIN_KEY does not hold a valid private key;" in bad_key.stderr
    monkeypatch.delenv("MAGNET_CHAIN_KEY")
    bad_address = magnet("chain", "sync", "--address", "0xnothex", home=home)
    assert "Error: '0xnothex' is not an address; 1 record(s) stay" in bad_address.stderr
    assert len(outbox.rows(sid, unsent_only=True)) == 1
    assert "sent 1" in magnet("chain", "sync", home=home).stdout


@pytest.mark.integration
def test_a_reset_local_chain_gets_a_new_registry_and_verify_reports_what_is_gone(tmp_path):
    home = tmp_path / "home"
    outbox = Outbox(home / "magnet.db")
    sid = "20261201-120000-abcdef"
    payload = {"config": {}, "metrics": {}, "verdict": "improved", "metric": 0.9}
    outbox.add(sid, f"{sid}-000", "experiment", content_hash("experiment", payload), payload)
    assert magnet("chain", "sync", home=home).returncode == 0
    (home / "chain" / "anvil-state.json").unlink()  # the chain is reset
    lost = magnet("chain", "verify", sid, home=home)
    assert "Warning: the registry at 0x" in lost.stderr and lost.returncode == 1
    assert lost.stdout.startswith("missing") and "the outbox says record 0" in lost.stdout
