"""A pool of workers that run a session's experiments at once, each job in its own thread.

    pool = Workers(2)
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
