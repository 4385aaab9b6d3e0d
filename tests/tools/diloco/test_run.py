"""DiLoCo with real worker processes over gloo: two domains, tiny models."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from magnet.tools.bitnet.checkpoint import read_weights
from magnet.tools.bitnet.run_dir import CHECKPOINT as FILENAME
from magnet.tools.diloco.merge import merge_dirs
from magnet.tools.diloco.run import run_diloco
from magnet.tools.diloco.spec import DilocoSpec
from magnet.tools.errors import DistributedError
from tests.conftest import magnet, words

DOMAINS = ["python-stdlib", "shakespeare"]
SMALL = {"n_layers": 1, "d_model": 256, "ffn_dim": 256, "seq_len": 64, "batch_size": 8}
SMALL |= {"eval_batches": 2, "log_every": 1}


def spec(tmp_path, **kw):
    return DilocoSpec(
        **{"domains": DOMAINS, "inner_steps": 4, "settings": SMALL, **kw}, out=tmp_path / "d"
    )


@pytest.mark.integration
def test_one_round_equals_the_diloco_merge_of_its_specialists(tmp_path):
    s = spec(tmp_path, rounds=1)
    result = run_diloco(s)
    table = result["val_bits_per_byte"]
    assert set(table) == {
        "base",
        "specialist:python-stdlib",
        "specialist:shakespeare",
        "merged",
        "joint",
    }
    for domain in DOMAINS:
        assert table["merged"][domain] < table["base"][domain]
        assert result["retention"]["per_domain"][domain] is not None
    n_params = sum(v.numel() for v in read_weights(s.out / "merged" / FILENAME).values())
    assert result["bytes_sent"] == 2 * n_params * 4  # two workers, one fp32 sync each
    # One round from a shared base is exactly one outer step on the specialists' mean.
    specialists = sorted((s.out / "workers").glob("*/specialist"))
    again = merge_dirs(s.out / "base", specialists, "diloco", tmp_path / "again")
    ours, theirs = read_weights(s.out / "merged" / FILENAME), read_weights(again / FILENAME)
    assert all(torch.allclose(ours[k], theirs[k], atol=1e-6) for k in ours)
    saved = json.loads((s.out / "result.json").read_text())
    assert saved["retention"] == result["retention"] and "| retention |" in saved["table"]


@pytest.mark.integration
def test_a_failing_worker_stops_the_run_with_its_error(tmp_path):
    s = spec(tmp_path, rounds=2, settings={**SMALL, "lr": 1e9, "warmup_steps": 0, "grad_clip": 1e9})
    with pytest.raises(DistributedError, match=r"failed: FloatingPointError: rank \d .* loss is"):
        run_diloco(s, joint=False)
    assert not (s.out / "merged").exists() and not (s.out / "result.json").exists()


@pytest.mark.integration
def test_the_worker_runs_under_torchrun_too(tmp_path):
    s = spec(tmp_path, rounds=1, mode="dp")
    s.out.mkdir()
    (s.out / "spec.json").write_text(s.model_dump_json())
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc-per-node=2"]
    cmd += ["--standalone", "-m", "magnet.tools.diloco.worker"]
    cmd += ["--spec", str(s.out / "spec.json")]
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    sent = [json.loads(p.read_text())["bytes_sent"] for p in s.out.glob("workers/*/worker.json")]
    n_params = sum(v.numel() for v in read_weights(s.out / "merged" / FILENAME).values())
    assert sent == [4 * n_params * 4] * 2  # data parallel: every one of the 4 steps


def test_bad_domains_and_mismatched_merges_are_one_error_line(tmp_path):
    bad = magnet("diloco", "--domains", "sp500", "shakespeare", *words(SMALL), home=tmp_path / "h")
    assert bad.returncode == 1
    assert bad.stderr.strip() == "Error: dataset 'sp500' is for task 'direction', not 'lm'"
    one = magnet("diloco", "--domains", "shakespeare", home=tmp_path / "h")
    assert "at least two domains" in one.stderr
    odd = magnet("diloco", "--domains", "shakespeare", "python-stdlib", "--workers", "3")
    assert "workers (3) must be a multiple of the domains (2)" in odd.stderr
    missing = magnet(
        "merge", "--base", tmp_path, "--specialists", tmp_path, "--out", tmp_path / "m"
    )
    assert missing.returncode == 1 and "no readable config.json" in missing.stderr


@pytest.mark.integration
def test_fault_tolerant_survivors_go_on_when_a_worker_is_killed(tmp_path):
    out = tmp_path / "ft"
    args = ["diloco", "--domains", *DOMAINS, "--inner-steps", "5", "--rounds", "4"]
    args += ["--fault-tolerant", "--no-joint", "--out", str(out), *words(SMALL)]
    cli = [sys.executable, "-m", "magnet.agent.cli", *args]
    proc = subprocess.Popen(cli, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    victim = out / "workers" / "1-shakespeare"
    deadline = time.time() + 240
    while proc.poll() is None and time.time() < deadline:  # kill it after its first sync
        metrics = victim / "metrics.jsonl"
        if metrics.exists() and len(metrics.read_text().splitlines()) >= 7:
            os.kill(int((victim / "pid").read_text()), signal.SIGKILL)
            break
        time.sleep(0.05)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr[-2000:]
    assert "workers lost: [1]" in stdout and "worker 1 is gone" in stderr
    result = json.loads((out / "result.json").read_text())
    steps = [json.loads(x)["step"] for x in (out / "workers/0-python-stdlib/metrics.jsonl").open()]
    assert steps[-1] == 20 and result["lost_workers"] == [1]
    merged = result["val_bits_per_byte"]["merged"]
    assert all(merged[d] < result["val_bits_per_byte"]["base"][d] for d in DOMAINS)
