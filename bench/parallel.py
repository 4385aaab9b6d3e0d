"""Experiments per hour: one worker on every core, a worker per core, and the same on Ray.

    python bench/parallel.py [--data shakespeare] [--runs 4] [--steps 40] [--set key=value]

The same rung both ways, in one run: `--runs` configs of the default config (seeds 0, 1, …,
with the --set values) at `--steps`, each through the session's own path (the worker pool of
tools/workers.py, the sandbox, the harness's val evaluation). First one worker with all the
cores' torch threads, runs one after another; then as many workers as cores, one thread
each; then the worker per core again, each run a task on a local Ray cluster of this
machine's CPUs that the bench starts (tools/ray_jobs.py: its inputs and run dir travel
through Ray's object store, as they would between machines). Prints one JSON object: per
layout its wall seconds, experiments per hour and each seed's val metric; the speed-up of
the pool; Ray's overhead per experiment (its wall against the same pool's here, times the
workers, over the runs); what `--workers auto` chooses for these runs (its probe, with the
one-worker layout's training and other seconds per run) and the gain it expects, beside the
measured one; and the largest difference between one seed's metric on one thread
or several (they differ only in the order of float sums: far inside the seeds' spread).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

TASKS = {"shakespeare": "lm", "python-stdlib": "lm", "sms-spam": "classify", "sp500": "direction"}


def layout(args, workers: int, threads: int | None, work: Path, on_ray: bool = False) -> dict:
    """The rung on `workers` workers of `threads` threads (as Ray tasks of that many CPUs with
    `on_ray`): wall seconds and each metric."""
    from magnet.tools.bitnet.config import parse_settings
    from magnet.tools.harness.config import ExperimentConfig
    from magnet.tools.harness.experiment import ExperimentRequest, run_experiment
    from magnet.tools.ray_jobs import run_on_ray
    from magnet.tools.workers import Workers

    def job(request, out):
        if on_ray:
            return lambda: run_on_ray(request, out, None, cpus=threads or os.cpu_count())
        return lambda: run_experiment(request, out)

    task = TASKS[args.data]
    pool, keys = Workers(workers), []
    start = time.perf_counter()
    for seed in range(args.runs):
        settings = {**parse_settings(args.set), "seed": seed}
        config = ExperimentConfig.build(task, args.data, settings, args.steps)
        request = ExperimentRequest(config=config, threads=threads)
        pool.start(str(seed), job(request, work / f"w{workers}-ray{on_ray}-seed{seed}"))
        keys.append(str(seed))
    values, train_s, metric = {}, [], None
    while keys:
        key, outcome = pool.wait(keys)
        keys.remove(key)
        if isinstance(outcome, BaseException) or outcome.harness is None:
            raise SystemExit(f"seed {key} failed with {workers} workers: {outcome}")
        metric = next(iter(outcome.harness))
        values[int(key)] = outcome.harness[metric]
        metrics = (outcome.run_dir / "metrics.jsonl").read_text().splitlines()
        train_s.append(
            next(r["elapsed_s"] for r in map(json.loads, reversed(metrics)) if "elapsed_s" in r)
        )
        done = f"{time.perf_counter() - start:.0f} s"
        where = " on Ray" * on_ray
        print(
            f"{workers} × {threads or 'all'} threads{where}: seed {key} done at {done}",
            file=sys.stderr,
        )
    wall = time.perf_counter() - start
    return {
        "workers": workers,
        "ray": on_ray,
        "threads": threads or os.cpu_count(),
        "wall_s": round(wall, 1),
        "experiments_per_hour": round(args.runs / wall * 3600, 1),
        "train_s_per_run": round(sum(train_s) / len(train_s), 1),
        "metric": metric,
        "values": [values[s] for s in sorted(values)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="shakespeare", choices=sorted(TASKS))
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--set", action="append", default=[], help="key=value for every run")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    import ray

    with tempfile.TemporaryDirectory() as tmp:
        one = layout(args, 1, None, Path(tmp))
        pool = layout(args, cores, 1, Path(tmp))
        ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False)
        on_ray = layout(args, cores, 1, Path(tmp), on_ray=True)
        ray.shutdown()
    # what --workers auto would choose for these runs, and the gain it expects
    from magnet.tools.workers import choose_workers

    train_s = one["train_s_per_run"]
    choice = choose_workers(train_s, one["wall_s"] / args.runs - train_s, cores)
    differ = max(abs(a - b) for a, b in zip(one["values"], pool["values"], strict=True))
    seeds = max(one["values"]) - min(one["values"])
    print(
        json.dumps(
            {
                "data": args.data,
                "runs": args.runs,
                "steps": args.steps,
                "cores": cores,
                "one_worker": one,
                "a_worker_per_core": pool,
                "a_worker_per_core_on_ray": on_ray,
                "speedup": round(one["wall_s"] / pool["wall_s"], 3),
                "ray_overhead_s_per_experiment": round(
                    (on_ray["wall_s"] - pool["wall_s"]) * cores / args.runs, 2
                ),
                "workers_auto": {
                    "workers": choice.workers,
                    "threads": choice.threads,
                    "step_s": choice.step_s,
                    "estimated_gain": round(choice.gain, 3),
                },
                "same_seed_max_difference": round(differ, 5),
                "seeds_spread": round(seeds, 5),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
