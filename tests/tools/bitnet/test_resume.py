"""A run killed with SIGKILL resumes from its checkpoint and ends exactly as an unbroken run."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from magnet.tools.bitnet.train import TrainRequest, train
from tests.conftest import TINY, words

# Slow enough per step that the kill lands mid-run, small enough to take seconds.
SETTINGS = {**TINY, "batch_size": 16, "seq_len": 128, "checkpoint_every": 10, "eval_every": 20}
STEPS = 60


def _comparable(run_dir):
    """Records without timings, which differ between any two runs."""
    records = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in ("tokens_per_s", "elapsed_s")} for r in records]


@pytest.mark.integration
def test_sigkilled_run_resumes_exactly(tmp_path):
    reference = train(
        TrainRequest(
            task="lm",
            data="shakespeare",
            steps=STEPS,
            out=tmp_path / "reference",
            settings=SETTINGS,
        )
    )
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "magnet.agent.cli",
            "train",
            "--task",
            "lm",
            "--data",
            "shakespeare",
            "--steps",
            str(STEPS),
            "--out",
            str(killed),
            *words(SETTINGS),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    metrics = killed / "metrics.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline:
        steps = (
            [json.loads(x)["step"] for x in metrics.read_text().splitlines()[:-1]]
            if metrics.exists()
            else []
        )
        if steps and max(steps) >= 25:
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (killed / "result.json").exists(), "the run finished before it was killed"

    done = subprocess.run(
        [sys.executable, "-m", "magnet.agent.cli", "train", "--resume", str(killed)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert f"steps: {STEPS}" in done.stdout
    assert _comparable(killed) == _comparable(reference.run_dir)
    assert json.loads((killed / "result.json").read_text())["val"] == reference.val


@pytest.mark.integration
def test_a_run_starts_from_another_runs_weights_with_its_own_schedule(tmp_path):
    from magnet.tools.bitnet.checkpoint import read_weights
    from magnet.tools.errors import ConfigError

    settings = {**TINY, "eval_every": 5}
    first = train(
        TrainRequest(task="lm", data="shakespeare", steps=5, out=tmp_path / "a", settings=settings)
    )
    seen = {}

    def on_event(record):  # the first step's loss: the trained weights, not a fresh init
        seen.setdefault(record["event"], record)

    warm = train(
        TrainRequest(
            task="lm", data="shakespeare", steps=5, out=tmp_path / "b",
            settings={**settings, "init_from": str(tmp_path / "a"), "log_every": 1},
        ),
        on_event,
    )  # fmt: skip
    cold = train(
        TrainRequest(
            task="lm", data="shakespeare", steps=5, out=tmp_path / "c",
            settings={**settings, "log_every": 1},
        )
    )  # fmt: skip
    first_cold = json.loads((tmp_path / "c" / "metrics.jsonl").read_text().splitlines()[0])
    assert seen["train"]["step"] == 1 and seen["train"]["loss"] < first_cold["loss"] - 0.5
    assert warm.val["loss"] < min(first.val["loss"], cold.val["loss"])
    assert seen["start"]["step"] == 0  # its own schedule: five steps, from step 0
    source = read_weights(tmp_path / "a" / "checkpoint.safetensors")
    assert source.keys() == read_weights(tmp_path / "b" / "checkpoint.safetensors").keys()
    # another shape or tokenizer, or no checkpoint: a clear error, no run dir made
    for bad, why in (
        ({"n_layers": 2}, "another model (n_layers 1 ≠ 2)"),
        ({"tokenizer": "bpe", "bpe_vocab": 512}, "another tokenizer (its token ids differ)"),
        ({}, "no checkpoint"),
    ):
        source = tmp_path / ("a" if bad else "nowhere")
        with pytest.raises(ConfigError, match=why.replace("(", r"\(").replace(")", r"\)")):
            train(
                TrainRequest(
                    task="lm", data="shakespeare", steps=5, out=tmp_path / "d",
                    settings={**settings, **bad, "init_from": str(source)},
                )
            )  # fmt: skip
        assert not (tmp_path / "d").exists()
    # a BPE learnt again from the same text is the same tokenizer: the warm start goes ahead
    bpe = {**settings, "tokenizer": "bpe", "bpe_vocab": 512}
    for out, more in (("e", {}), ("f", {"init_from": str(tmp_path / "e")})):
        request = TrainRequest(
            task="lm", data="shakespeare", steps=2, out=tmp_path / out, settings={**bpe, **more}
        )
        assert train(request).status == "completed"
