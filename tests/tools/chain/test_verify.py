"""`verify` recomputes each record's hash from the local artifact and finds what changed."""

import json
import sqlite3

import pytest

from magnet.tools.chain.outbox import Outbox, content_hash, sync
from magnet.tools.chain.registry import Contribution, Registry, sha256_hex
from magnet.tools.chain.verify import verify
from tests.conftest import magnet


def queue_session(home):
    """A session's outbox as the agent leaves it: a dataset, an experiment and its model."""
    outbox = Outbox(home / "magnet.db")
    sid = f"session-{home.name}"
    model = home / "model.safetensors"
    model.write_bytes(b"weights" * 100)
    rows = [
        (f"{sid}-data", "dataset", {"dataset": "sp500", "task": "direction", "name": "sp500"}),
        (f"{sid}-000", "experiment", {"config": {"lr": 0.01}, "metrics": {}, "metric": 0.53}),
        (f"{sid}-000", "model", {"path": str(model), "metric": 0.53}),
    ]
    for exp_id, kind, payload in rows:
        outbox.add(sid, exp_id, kind, content_hash(kind, payload), payload)
    return outbox, sid, model


def tamper_metric(home, sid, value):
    with sqlite3.connect(home / "magnet.db") as db:
        [(row_id, payload)] = db.execute(
            "SELECT id, payload FROM outbox WHERE session_id = ? AND kind = 'experiment'", (sid,)
        ).fetchall()
        changed = {**json.loads(payload), "metric": value}
        db.execute("UPDATE outbox SET payload = ? WHERE id = ?", (json.dumps(changed), row_id))


def statuses(outbox, registry, sid):
    return {(c.kind, c.status) for c in verify(outbox, registry, sid)}


@pytest.fixture
def registry():
    from web3 import EthereumTesterProvider, Web3

    return Registry.deploy(Web3(EthereumTesterProvider()))


def test_every_kind_verifies_and_each_change_is_reported(tmp_path, registry):
    outbox, sid, model = queue_session(tmp_path)
    assert statuses(outbox, registry, sid) == {
        ("dataset", "queued"),
        ("experiment", "queued"),
        ("model", "queued"),
    }
    assert sync(outbox, registry).sent == 3
    assert {s for _, s in statuses(outbox, registry, sid)} == {"ok"}

    tamper_metric(tmp_path, sid, 0.61)
    model.write_bytes(b"other weights")
    [data, exp, mod] = verify(outbox, registry, sid)
    assert data.status == "ok"
    assert exp.status == "tampered" and "metric 0.61 here, 0.53 on-chain" in exp.detail
    assert mod.status == "tampered" and mod.record_id == 2

    model.unlink()
    assert verify(outbox, registry, sid)[2].status == "missing"


def test_records_the_outbox_does_not_know_and_ones_the_chain_lost(tmp_path, registry):
    outbox, sid, _ = queue_session(tmp_path)
    sync(outbox, registry)
    stray = Contribution(session_id=sid, experiment_id="x", kind="merge", content_hash="ab" * 32)
    registry.record(stray)
    assert ("merge", "unknown") in statuses(outbox, registry, sid)

    from web3 import EthereumTesterProvider, Web3

    fresh = Registry.deploy(Web3(EthereumTesterProvider()))  # the chain was reset
    checks = verify(outbox, fresh, sid)
    assert {c.status for c in checks} == {"missing"}
    assert "the outbox says record 1" in checks[1].detail


def test_content_recorded_by_an_earlier_session_is_ok(tmp_path, registry):
    first, sid, _ = queue_session(tmp_path / "a")
    sync(first, registry)
    second, sid2, _ = queue_session(tmp_path / "b")
    assert sync(second, registry).already == 3  # the same content is recorded once
    checks = verify(second, registry, sid2)
    assert [(c.status, c.record_id) for c in checks] == [("ok", 0), ("ok", 1), ("ok", 2)]
    assert checks[0].detail == "recorded earlier"


@pytest.mark.integration
def test_magnet_chain_verify_on_anvil_finds_an_altered_metric(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    _, sid, _ = queue_session(home)
    assert magnet("chain", "sync", home=home).returncode == 0
    clean = magnet("chain", "verify", sid, home=home)
    assert clean.returncode == 0, clean.stderr
    assert clean.stderr.strip() == "3 ok"

    tamper_metric(home, sid, 0.99)
    found = magnet("chain", "verify", sid, home=home)
    assert found.returncode == 1
    [line] = [x for x in found.stdout.splitlines() if x.startswith("tampered")]
    assert f"experiment {sid}-000 record 1" in line and "metric 0.99 here, 0.53 on-chain" in line
    assert found.stderr.strip() == "2 ok, 1 tampered"
    as_json = magnet("chain", "verify", sid, "--json", home=home).stdout.splitlines()
    assert [json.loads(x)["status"] for x in as_json] == ["ok", "tampered", "ok"]
    assert sha256_hex(sid)  # ids go on-chain hashed; verify matched them from the outbox
