"""Does bf16 cost quality? fp32 and bf16 runs of the default config, same seeds, same splits.

    python bench/precision_quality.py [--steps 300] [--seeds 3] [--data shakespeare,sms-spam]

For each dataset and seed, one fp32 and one bf16 run of the trainer's defaults (same seed:
the same initial weights and batches), each scored by the harness on val and on test. Prints
one JSON object: per dataset and precision the test metric per seed, mean, range and wall
time; the per-seed bf16 − fp32 differences; and whether the bf16 mean lies within the fp32
seed-to-seed range of the fp32 mean (the issue's criterion).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from magnet.tools.bitnet.train import TrainRequest, train
from magnet.tools.harness.evaluate import evaluate_run

TASKS = {"shakespeare": "lm", "sms-spam": "classify", "sp500": "direction"}


def one_run(data: str, seed: int, precision: str, steps: int, root: Path) -> dict:
    task = TASKS[data]
    out = root / f"{data}-{precision}-{seed}"
    t0 = time.perf_counter()
    result = train(
        TrainRequest(
            task=task,
            data=data,
            steps=steps,
            out=out,
            settings={"seed": seed, "precision": precision},
        )
    )
    wall = time.perf_counter() - t0
    test = evaluate_run(out, "test", task, result.data)[result.primary_metric]
    return {
        "seed": seed,
        "metric": result.primary_metric,
        "val": result.primary_value,
        "test": test,
        "wall_s": round(wall, 1),
    }


def summarize(runs: list[dict]) -> dict:
    tests = [r["test"] for r in runs]
    return {
        "test": [round(t, 4) for t in tests],
        "mean": round(statistics.fmean(tests), 4),
        "range": round(max(tests) - min(tests), 4),
        "wall_s": round(statistics.fmean(r["wall_s"] for r in runs), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--data", default="shakespeare,sms-spam")
    args = parser.parse_args()
    report: dict = {"steps": args.steps, "seeds": args.seeds}
    with tempfile.TemporaryDirectory() as tmp:
        for data in args.data.split(","):
            runs = {"fp32": [], "bf16": []}
            for seed in range(args.seeds):
                for precision in runs:  # alternate, so both see the same machine load
                    runs[precision].append(one_run(data, seed, precision, args.steps, Path(tmp)))
            fp32, bf16 = summarize(runs["fp32"]), summarize(runs["bf16"])
            paired = [
                b["test"] - f["test"] for f, b in zip(runs["fp32"], runs["bf16"], strict=True)
            ]
            report[data] = {
                "metric": f"test {runs['fp32'][0]['metric']}",
                "fp32": fp32,
                "bf16": bf16,
                "bf16_minus_fp32": [round(d, 4) for d in paired],
                "bf16_within_fp32_spread": abs(bf16["mean"] - fp32["mean"]) <= fp32["range"],
                "wall_speedup": round(fp32["wall_s"] / bf16["wall_s"], 2),
            }
            print(json.dumps({data: report[data]}), flush=True)  # progress: one line a dataset
    print(json.dumps(report))


if __name__ == "__main__":
    main()
