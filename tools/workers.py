"""A pool of workers that run a session's experiments at once, each job in its own thread.

    choice = choose_workers(unit_train_s=30, overhead_s=10)   # --workers auto: a short probe
    pool = Workers(choice.workers)
    pool.start("s-001", lambda: run_experiment(...))   # returns at once
    key, outcome = pool.wait(["s-000", "s-001"])        # the first of them to finish

A job is one sandboxed experiment: its thread only waits on the sandbox's process and then
runs the harness's evaluation, so threads are enough and the GIL costs nothing that matters.
A job that raises is returned as its exception (the caller makes it a failed experiment),
never lost: `wait` always returns one of the keys it was given.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures

from pydantic import BaseModel, Field


class Workers:
    def __init__(self, workers: int) -> None:
        self.size = workers
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="magnet-worker")
        self._jobs: dict[str, Future] = {}
        self._lock = threading.Lock()

    def start(self, key: str, job: Callable[[], object]) -> None:
        with self._lock:
            self._jobs[key] = self._pool.submit(job)

    def has(self, key: str) -> bool:
        return key in self._jobs

    def wait(self, keys: list[str]) -> tuple[str, object]:
        """The first of `keys` to finish, and what its job returned (or raised); it leaves
        the pool. Every key must have been started."""
        futures = {self._jobs[k]: k for k in keys}
        done, _ = wait_futures(futures, return_when=FIRST_COMPLETED)
        future = min(done, key=lambda f: keys.index(futures[f]))  # ties: the oldest first
        key = futures[future]
        with self._lock:
            del self._jobs[key]
        error = future.exception()
        return key, error if error is not None else future.result()


def threads_per_worker(workers: int, cores: int | None = None) -> int | None:
    """The torch threads each of `workers` concurrent runs gets: the cores (this machine's
    by default) shared out; None for a single worker: torch's own default, every core."""
    if workers <= 1:
        return None
    return max(1, (cores or os.cpu_count() or 1) // workers)


# More workers must win this much to be chosen: each one also costs memory, a smaller share
# of the cores for a run the user waits on, and promotions decided on staler rungs.
MIN_GAIN = 1.1
RUN_MEMORY = 1 << 30  # bytes one small run needs at most (the default config: ~0.5 GiB)


class WorkersChoice(BaseModel):
    """What `--workers auto` measured and chose, recorded in the session and its trace."""

    cores: int = Field(description="this machine's, where the probe ran")
    step_s: dict[int, float] = Field(description="threads: seconds of a default-config step")
    workers: int
    threads: int = Field(description="each run's")
    gain: float = Field(description="estimated experiments per hour over one worker")

    def describe(self) -> str:
        steps = ", ".join(f"{s:.2f} s on {t}" for t, s in sorted(self.step_s.items()))
        return (
            f"{self.workers} worker{'s' * (self.workers > 1)} of {self.threads} "
            f"thread{'s' * (self.threads > 1)} (a step {steps}; ≈ "
            f"{self.gain:.2f}× the experiments of one worker)"
        )


def choose_workers(
    unit_train_s: float, overhead_s: float, cores: int | None = None
) -> WorkersChoice:
    """`best_workers` from step times measured here (a default-config step at each
    power-of-two thread count up to `cores`: a few seconds)."""
    from magnet.tools.bitnet.compute import step_seconds

    cores = cores or os.cpu_count() or 1
    threads = sorted({cores, *(2**i for i in range(cores.bit_length()) if 2**i <= cores)})
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    step_s = {t: step_seconds(t) for t in threads}
    return best_workers(step_s, unit_train_s, overhead_s, memory)


def best_workers(
    step_s: dict[int, float], unit_train_s: float, overhead_s: float, memory: int
) -> WorkersChoice:
    """The workers that run the most experiments per hour, from a step's seconds at each
    thread count (the largest is every core): W runs of cores/W threads finish W runs in
    overhead + unit · step(cores/W)/step(cores) seconds, where a run's overhead (sandbox
    start, data, evaluation) is taken not to shrink with threads. Runs at once contending
    for memory bandwidth are not measured, so the gain is an upper bound: more workers are
    chosen only when they win MIN_GAIN, and only as many as `memory` holds."""
    cores = max(step_s)

    def per_hour(t: int) -> float:
        return (cores // t) / (overhead_s + unit_train_s * step_s[t] / step_s[cores])

    best = cores  # one worker on every core, unless more win by MIN_GAIN
    for t in sorted(step_s, reverse=True):
        if cores // t * RUN_MEMORY <= memory and per_hour(t) >= MIN_GAIN * per_hour(best):
            best = t
    gain = per_hour(best) / per_hour(cores)
    return WorkersChoice(cores=cores, step_s=step_s, workers=cores // best, threads=best, gain=gain)
