"""Whole-process behaviour: a killed harness leaves no orphans; training is unchanged inside."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from magnet.sandboxes import probe
from magnet.tools.bitnet.train import TrainRequest, train
from magnet.tools.harness.config import ExperimentConfig
from magnet.tools.harness.evaluate import evaluate_run
from magnet.tools.harness.experiment import ExperimentRequest, run_experiment, run_training
from tests.conftest import TINY

ISOLATED = [lvl for lvl in ("bwrap", "unshare") if probe(lvl)[0]]

HARNESS = """
import sys
from pathlib import Path
from magnet.sandboxes import SandboxSpec, run_sandboxed
code = '''
import subprocess, sys, time
from pathlib import Path
for _ in range(3):
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "{marker}"])
Path("ready").write_text("1")
time.sleep(600)
'''
run_sandboxed(SandboxSpec(argv=[sys.executable, "-c", code], work_dir=Path(sys.argv[1]),
                          level=sys.argv[2]))
"""


def _with_marker(marker: str) -> list[int]:
    """Processes with `marker` as a whole argument: the sleepers, not the scripts naming it."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if entry.name.isdigit() and marker.encode() in argv:
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


@pytest.mark.integration
@pytest.mark.parametrize("level", ISOLATED)
def test_killing_the_harness_leaves_no_orphans(tmp_path, level):
    marker = f"magnet-orphan-{uuid.uuid4().hex}"
    work = tmp_path / "work"
    harness = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(HARNESS).replace("{marker}", marker),
            str(work),
            level,
        ]
    )
    deadline = time.time() + 30
    while not (work / "ready").exists() and time.time() < deadline:
        time.sleep(0.05)
    assert len(_with_marker(marker)) == 3, "the sandboxed children never started"
    os.kill(harness.pid, signal.SIGKILL)
    harness.wait()
    deadline = time.time() + 10
    while _with_marker(marker) and time.time() < deadline:
        time.sleep(0.05)
    assert _with_marker(marker) == []


@pytest.mark.integration
def test_training_in_the_sandbox_matches_training_outside(tmp_path):
    request = TrainRequest(
        task="lm", data="shakespeare", steps=6, settings={**TINY, "eval_every": 3}
    )
    streamed = []
    inside = run_training(request, tmp_path / "inside", on_metric=streamed.append)
    assert inside.sandbox.status == "ok", inside.sandbox.stderr_tail
    outside = train(request.model_copy(update={"out": tmp_path / "outside"}))
    assert inside.harness == evaluate_run(outside.run_dir, "val", "lm", "shakespeare")
    assert inside.harness == outside.val
    losses = [m["loss"] for m in streamed if m["event"] == "train"]
    lines = (outside.run_dir / "metrics.jsonl").read_text().splitlines()
    assert losses == [r["loss"] for r in map(json.loads, lines) if r["event"] == "train"]


def test_an_experiment_is_evaluated_once_at_its_end_by_the_harness_not_the_trainer(tmp_path):
    config = ExperimentConfig.build("lm", "shakespeare", {**TINY, "eval_every": 4}, steps=6)
    outcome = run_experiment(ExperimentRequest(config=config), tmp_path / "w")
    assert outcome.sandbox.status == "ok", outcome.sandbox.stderr_tail
    evals = [m for m in outcome.sandbox.metrics if m["event"] == "eval"]
    assert [m["step"] for m in evals] == [4, 6]  # the trainer's at 4, the harness's at 6
    assert evals[-1]["bits_per_byte"] == outcome.harness["bits_per_byte"]
    written = (outcome.run_dir / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(r)["step"] for r in written if '"eval"' in r] == [4]
    assert json.loads((outcome.run_dir / "result.json").read_text())["val"] == {}


def test_a_diverging_experiment_is_reported_as_diverged(tmp_path):
    request = TrainRequest(
        task="lm",
        data="shakespeare",
        steps=40,
        settings={**TINY, "lr": 50, "grad_clip": 1000000000.0, "warmup_steps": 0},
    )
    outcome = run_training(request, tmp_path / "w")
    assert outcome.sandbox.status == "diverged" and outcome.harness is None
    assert outcome.sandbox.exit_code == 3


def test_the_harness_refuses_a_run_of_other_data(tmp_path):
    run = train(
        TrainRequest(task="direction", data="sp500", steps=2, out=tmp_path / "r", settings=TINY)
    )
    from magnet.tools.errors import RunDirError

    with pytest.raises(RunDirError, match="not lm on shakespeare"):
        evaluate_run(run.run_dir, "val", "lm", "shakespeare")


def test_an_experiment_started_again_resumes_its_checkpoint(tmp_path):
    request = TrainRequest(
        task="direction",
        data="sp500",
        steps=8,
        settings={**TINY, "checkpoint_every": 4, "eval_every": 4},
    )
    first = run_training(request, tmp_path / "w")
    assert first.sandbox.status == "ok"
    (first.run_dir / "result.json").unlink()  # as if killed after its last checkpoint
    again = run_training(request, tmp_path / "w")
    assert again.sandbox.status == "ok" and again.harness == first.harness
    assert "steps: 8" in again.sandbox.stdout_tail


@pytest.mark.skipif(not probe("bwrap")[0], reason=probe("bwrap")[1])
def test_the_sandboxed_trainer_reads_the_tokens_the_harness_cached(tmp_path, magnet_home):
    settings = {**TINY, "tokenizer": "bpe", "bpe_vocab": 300, "bpe_sample_mb": 0.5}
    request = TrainRequest(task="lm", data="shakespeare", steps=2, settings=settings)
    outcome = run_training(request, tmp_path / "exp", level="bwrap")
    assert outcome.sandbox.status == "ok", outcome.sandbox.stderr_tail
    assert len(list((magnet_home / "cache" / "tokens").iterdir())) == 1
    assert not (tmp_path / "exp" / "run" / "tokens").exists()  # read the shared cache

    # A cache it cannot write and that lacks its tokens: the run keeps its own, in its dir.
    from magnet.sandboxes import SandboxSpec, run_sandboxed

    empty = tmp_path / "empty-cache"
    empty.mkdir()
    work = tmp_path / "cold"
    work.mkdir()
    (work / "spec.json").write_text(request.model_dump_json())
    argv = [sys.executable, "-m", "magnet.tools.bitnet.train", "--spec", "spec.json"]
    result = run_sandboxed(
        SandboxSpec(
            argv=[*argv, "--out", "run"],
            work_dir=work,
            level="bwrap",
            env={"MAGNET_CACHE": str(empty)},
            readonly=[empty],
        )
    )
    assert result.status == "ok", result.stderr_tail
    assert list(empty.iterdir()) == [] and (work / "run" / "tokens" / "meta.json").exists()
