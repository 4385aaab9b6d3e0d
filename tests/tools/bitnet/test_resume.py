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
