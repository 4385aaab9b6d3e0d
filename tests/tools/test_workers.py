"""The worker pool: runs at once, the first finished first, a raising job returned; and a
run's torch threads as its worker's share says."""

import json
import threading
import time

import pytest

from magnet.tools.harness.config import ExperimentConfig
from magnet.tools.harness.experiment import ExperimentRequest, run_experiment
from magnet.tools.workers import Workers, threads_per_worker
from tests.conftest import TINY


def test_jobs_run_at_once_and_the_first_to_finish_is_returned_first():
    pool, started = Workers(2), threading.Barrier(2, timeout=5)

    def job(seconds, value):
        def run():
            started.wait()  # both run at once, or this times out
            time.sleep(seconds)
            return value

        return run

    pool.start("slow", job(0.4, "s"))
    pool.start("fast", job(0.05, "f"))
    assert pool.wait(["slow", "fast"]) == ("fast", "f")
    assert not pool.has("fast") and pool.has("slow")
    assert pool.wait(["slow"]) == ("slow", "s")


def test_a_job_that_raises_comes_back_as_its_exception():
    pool = Workers(1)

    def broken():
        raise RuntimeError("worker lost")

    pool.start("a", broken)
    key, error = pool.wait(["a"])
    assert key == "a" and isinstance(error, RuntimeError) and str(error) == "worker lost"


def test_cores_are_shared_out_and_one_worker_keeps_torch_default(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 16)
    assert threads_per_worker(1) is None
    assert threads_per_worker(4) == 4 and threads_per_worker(32) == 1


@pytest.mark.integration
def test_a_run_trains_on_its_share_of_threads_and_learns_the_same(tmp_path):
    config = ExperimentConfig.build("lm", "shakespeare", TINY, steps=30)
    values = {}
    for threads in (1, 2):
        request = ExperimentRequest(config=config, threads=threads)
        outcome = run_experiment(request, tmp_path / f"t{threads}")
        assert outcome.sandbox.status == "ok"
        result = json.loads((outcome.run_dir / "result.json").read_text())
        assert result["threads"] == threads
        values[threads] = outcome.harness["bits_per_byte"]
    # the same seed on one thread or two: only the order of float sums differs
    assert abs(values[1] - values[2]) < 0.02
