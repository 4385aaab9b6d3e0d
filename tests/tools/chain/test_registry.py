"""The contract on an in-process chain (eth-tester): deploy, record, read, refuse repeats."""

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from magnet.tools.chain.registry import (
    ARTIFACT,
    AlreadyRecorded,
    Contribution,
    Registry,
    artifact,
    sha256_hex,
)
from magnet.tools.errors import ChainError

SOURCE = ARTIFACT.with_name("ContributionRegistry.sol")


@pytest.fixture
def w3():
    from web3 import EthereumTesterProvider, Web3

    return Web3(EthereumTesterProvider())


def contribution(n: int, session="s1", metric=0.91) -> Contribution:
    return Contribution(
        session_id=session,
        experiment_id=f"{session}-{n:03d}",
        kind="experiment",
        content_hash=sha256_hex(f"{session} config {n}"),
        metric=metric,
        uri=f"magnet://{session}/{n}",
    )


def test_the_committed_artifact_is_compiled_from_the_committed_source():
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()
    assert artifact()["source_sha256"] == digest, "run: node tools/chain/compile.js"
    assert artifact()["compiler"].startswith("0.8.") and artifact()["bytecode"].startswith("0x")


def test_compiling_again_gives_the_same_artifact(tmp_path):
    root = Path(__file__).parents[3]
    if not (root / "node_modules" / "solc").exists():
        pytest.skip("solc-js is not installed (./setup.sh installs it)")
    before = ARTIFACT.read_text()
    try:
        subprocess.run(["node", "tools/chain/compile.js"], cwd=root, check=True, timeout=120)
        assert ARTIFACT.read_text() == before
    finally:
        ARTIFACT.write_text(before)


def test_record_read_and_list_by_session(w3):
    registry = Registry.deploy(w3)
    first = registry.record(contribution(0))
    second = registry.record(contribution(1, metric=None))
    other = registry.record(contribution(0, session="s2"))
    assert (first, second, other) == (0, 1, 2) and registry.count() == 3
    got = registry.get(0)
    assert got.kind == "experiment" and got.metric == 0.91 and got.uri == "magnet://s1/0"
    assert got.content_hash == sha256_hex("s1 config 0") and got.contributor == w3.eth.accounts[0]
    assert got.session_hash == sha256_hex("s1") and got.experiment_hash == sha256_hex("s1-000")
    assert registry.get(1).metric is None
    assert [r.id for r in registry.session("s1")] == [0, 1]
    assert registry.find(sha256_hex("s1 config 1")) == 1 and registry.find(sha256_hex("x")) is None


def test_a_content_hash_is_recorded_once(w3):
    registry = Registry.deploy(w3)
    registry.record(contribution(0))
    again = contribution(0).model_copy(update={"session_id": "elsewhere"})
    with pytest.raises(AlreadyRecorded) as refused:
        registry.record(again)
    assert refused.value.record_id == 0 and registry.count() == 1
    # The contract itself refuses too, not only the client's check.
    call = registry.contract.functions.record(
        b"\0" * 32, b"\0" * 32, 1, bytes.fromhex(sha256_hex("s1 config 0")), 0, ""
    )
    with pytest.raises(Exception, match="AlreadyRecorded|revert"):
        call.transact({"from": w3.eth.accounts[0]})


def test_events_carry_the_record(w3):
    registry = Registry.deploy(w3)
    registry.record(contribution(3))
    [event] = registry.contract.events.Recorded().get_logs(from_block=0)
    assert event.args.id == 0 and event.args.metric == 910000
    assert event.args.contentHash.hex() == sha256_hex("s1 config 3")


def test_bad_addresses_and_ids_are_clear_errors(w3):
    registry = Registry.deploy(w3)
    with pytest.raises(ChainError, match="is not an address"):
        Registry(w3, "0x1234")
    with pytest.raises(ChainError, match="no contract at"):
        Registry(w3, w3.eth.accounts[1])
    with pytest.raises(ChainError, match="no record 5"):
        registry.get(5)
    with pytest.raises(ValueError):
        Contribution(session_id="s", kind="experiment", content_hash="not-hex")
    assert json.loads(ARTIFACT.read_text())["contract"] == "ContributionRegistry"
