"""The worker pool: runs at once, the first finished first, a raising job returned; a run's
torch threads as its worker's share says; and --workers auto's choice, from a real probe."""

import json
import threading
import time

import pytest

from magnet.tools.harness.config import ExperimentConfig
from magnet.tools.harness.experiment import ExperimentRequest, run_experiment
from magnet.tools.workers import Workers, best_workers, choose_workers, threads_per_worker
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


def test_more_workers_are_chosen_only_when_they_run_more_experiments_and_fit_in_memory():
    gib = 1 << 30
    perfect = {1: 8.0, 2: 4.0, 4: 2.0, 8: 1.0}  # training scales: only overhead overlaps
    assert best_workers(perfect, unit_train_s=1000, overhead_s=1, memory=64 * gib).workers == 1
    short = best_workers(perfect, unit_train_s=5, overhead_s=10, memory=64 * gib)
    assert (short.workers, short.threads) == (8, 1) and short.gain == pytest.approx(8 * 15 / 50)
    assert best_workers(perfect, 5, 10, memory=4 * gib).workers == 4  # 1 GiB a run
    flat = {1: 1.0, 2: 0.9, 4: 0.85, 8: 0.8}  # small GEMMs: threads barely help
    chosen = best_workers(flat, unit_train_s=100, overhead_s=10, memory=64 * gib)
    assert (chosen.workers, chosen.threads) == (8, 1) and chosen.gain > 5
    assert chosen.describe().startswith("8 workers of 1 thread (a step 1.00 s on 1, 0.90 s on 2")


@pytest.mark.integration
def test_the_probe_times_real_steps_at_each_thread_count():
    started = time.perf_counter()
    choice = choose_workers(unit_train_s=30, overhead_s=10, cores=2)
    assert time.perf_counter() - started < 30  # a few seconds here
    assert set(choice.step_s) == {1, 2} and all(s > 0 for s in choice.step_s.values())
    assert choice.step_s[1] > choice.step_s[2]  # two threads train a step faster than one
    assert choice.workers * choice.threads == 2 and choice.gain >= 1


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
