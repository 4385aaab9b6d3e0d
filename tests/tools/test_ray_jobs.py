"""Experiments as tasks on a real local Ray cluster of 2 CPUs: run through the sandbox on
the cluster's workers, their run dirs back here for the harness's numbers; a worker killed
mid-run is a lost run, never a hang; no cluster at an address is one clear error."""

import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest

from magnet.tools.harness.config import ExperimentConfig
from magnet.tools.harness.experiment import ExperimentRequest
from magnet.tools.ray_jobs import RayError, connect, run_on_ray
from magnet.tools.workers import Workers
from tests.conftest import TINY

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def cluster():
    """A local Ray instance of 2 CPUs, started once for these tests (~4 s)."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield connect("auto")
    ray.shutdown()


def request(seed: int, steps: int = 60) -> ExperimentRequest:
    config = ExperimentConfig.build("direction", "sp500", {**TINY, "seed": seed}, steps)
    return ExperimentRequest(config=config, threads=1)


def test_a_rung_runs_as_ray_tasks_and_each_run_dir_comes_back_here(cluster, tmp_path):
    assert cluster["CPU"] == 2
    pool = Workers(2)
    for seed in (0, 1):
        work = tmp_path / f"exp-{seed}"
        pool.start(seed, lambda s=seed, w=work: run_on_ray(request(s), w, None, cpus=1))
    first, outcome = pool.wait([0, 1])
    outcomes = {first: outcome, **dict([pool.wait([1 - first])])}
    for seed, outcome in outcomes.items():
        assert outcome.sandbox.status == "ok", outcome.sandbox.stderr_tail
        assert outcome.run_dir.is_relative_to(tmp_path / f"exp-{seed}")  # this machine's path
        assert (outcome.run_dir / "checkpoint.safetensors").is_file()
        assert 0 <= outcome.harness["balanced_accuracy"] <= 1  # scored from the checkpoint
        assert outcome.sandbox.metrics[-1]["step"] == 60


def test_a_worker_killed_mid_run_is_retried_once_then_a_lost_run(cluster, tmp_path):
    pool, killed = Workers(1), []

    def kill_the_task_workers():  # the Ray worker running the task, by its PID, twice
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(killed) < 2:
            for pid in running_tasks():
                if pid not in killed:
                    time.sleep(1.0)  # mid-run
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
            time.sleep(0.2)

    killer = threading.Thread(target=kill_the_task_workers)
    killer.start()
    pool.start("a", lambda: run_on_ray(request(0, steps=4000), tmp_path / "exp", None, cpus=1))
    key, outcome = pool.wait(["a"])
    killer.join()
    assert len(killed) == 2  # the first try and its one retry
    assert isinstance(outcome, RayError) and "lost twice" in str(outcome)


def running_tasks() -> list[int]:
    """PIDs of Ray workers running the experiment task (Ray titles them after the task)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            title = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if proc.name.isdigit() and title.startswith(b"ray::_on_a_node"):
            pids.append(int(proc.name))
    return pids


def test_an_address_where_no_cluster_answers_is_one_clear_error():
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(RayError, match=f"no Ray cluster at 127.0.0.1:{port}"):
        connect(f"127.0.0.1:{port}")
    assert time.monotonic() - start < 10
    with pytest.raises(RayError, match="HOST:PORT or auto"):
        connect("nowhere")


def test_inputs_over_the_cap_are_refused_before_anything_is_sent(tmp_path, monkeypatch):
    monkeypatch.setattr("magnet.tools.ray_jobs.MAX_INPUT_BYTES", 1 << 20)
    parent = tmp_path / "parent"
    parent.mkdir()
    (parent / "weights.bin").write_bytes(b"\0" * (2 << 20))
    big = request(0).model_copy(update={"remerge": parent})
    with pytest.raises(
        RayError,
        match=r"this run's inputs \(.*parent\) are 2 MiB; a Ray task carries at most 1 MiB",
    ):
        run_on_ray(big, tmp_path / "work", None, cpus=1)
    assert not (tmp_path / "work").exists()
