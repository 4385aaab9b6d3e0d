"""The outbox reaches the chain once per record, whatever fails in between."""

import pytest

from magnet.tools.chain.outbox import Outbox, contribution, sync
from magnet.tools.chain.registry import Registry, sha256_hex


@pytest.fixture
def registry():
    from web3 import EthereumTesterProvider, Web3

    return Registry.deploy(Web3(EthereumTesterProvider()))


def queued(tmp_path, n=3) -> tuple[Outbox, str]:
    outbox = Outbox(tmp_path / "magnet.db")
    sid = "20261201-120000-abcdef"
    for i in range(n):
        payload = {"config": {"lr": i}, "metrics": {}, "verdict": "no_change", "metric": 0.9 + i}
        outbox.add(sid, f"{sid}-{i:03d}", "experiment", sha256_hex(f"{sid} {i}"), payload)
    return outbox, sid


def test_the_outbox_queues_each_record_once(tmp_path):
    outbox = Outbox(tmp_path / "m.db")
    assert outbox.add("s", "exp-1", "experiment", "ab" * 32, {"value": 0.9})
    assert not outbox.add("s", "exp-1", "experiment", "ab" * 32, {"value": 0.9})
    [row] = outbox.rows("s", unsent_only=True)
    assert row.payload == {"value": 0.9} and row.record_id is None


def test_the_outbox_shares_the_session_stores_file(tmp_path):
    from magnet.agent.traces import TraceStore

    TraceStore(tmp_path / "m.db")
    Outbox(tmp_path / "m.db").add("s", "exp-1", "experiment", "ab" * 32, {})
    assert len(Outbox(tmp_path / "m.db").rows()) == 1  # reopened: nothing migrated twice


def test_each_row_is_sent_once_and_remembers_its_record(tmp_path, registry):
    outbox, sid = queued(tmp_path)
    first = sync(outbox, registry)
    assert (first.sent, first.already, first.pending, first.error) == (3, 0, 0, None)
    assert [r.record_id for r in outbox.rows(sid)] == [0, 1, 2]
    assert sync(outbox, registry).sent == 0 and registry.count() == 3
    assert registry.get(2).metric == pytest.approx(2.9)


def test_a_row_that_landed_before_a_crash_is_not_sent_again(tmp_path, registry):
    outbox, sid = queued(tmp_path, n=2)
    registry.record(contribution(outbox.rows(sid)[1]))  # sent, then the process died
    report = sync(outbox, registry)
    assert (report.sent, report.already) == (1, 1) and registry.count() == 2
    assert sorted(r.record_id for r in outbox.rows(sid)) == [0, 1]


@pytest.mark.integration
def test_with_the_chain_down_nothing_is_lost_and_a_later_sync_sends_each_once(tmp_path):
    from web3 import Web3

    from magnet.tools.chain.anvil import local_chain

    outbox, sid = queued(tmp_path)
    home = tmp_path / "home"
    with local_chain(home) as url:  # a real anvil on 127.0.0.1, state under home/chain
        address = Registry.deploy(Web3(Web3.HTTPProvider(url))).address
        assert sync(outbox, Registry(Web3(Web3.HTTPProvider(url)), address)).sent == 3
        outbox.add(sid, f"{sid}-009", "experiment", sha256_hex("late"), {"metric": 1.0})
        down = Registry(Web3(Web3.HTTPProvider(url)), address)
    report = sync(outbox, down)  # anvil has stopped: the RPC refuses connections
    assert report.sent == 0 and report.pending == 1 and report.error
    assert len(outbox.rows(sid, unsent_only=True)) == 1
    with local_chain(home) as url:  # restarted from its saved state
        again = Registry(Web3(Web3.HTTPProvider(url)), address)
        assert again.count() == 3 and sync(outbox, again).sent == 1 and again.count() == 4
        assert sync(outbox, again).pending == 0
