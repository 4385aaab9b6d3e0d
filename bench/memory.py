"""Findings store throughput: adds per second, and search latency at 1k and 10k findings.

    python bench/memory.py [--sizes 1000,10000] [--queries 50]

Fills a fresh store under a temporary directory in batches of synthetic but varied findings,
timing adds (embedding included); at each size it times `search` (embedding the query
included) and `already_tried`. The model is loaded before timing starts. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time

from magnet.memory.embedding import load_model
from magnet.memory.findings import Finding
from magnet.memory.store import FindingsStore

WORDS = (
    "learning rate",
    "warmup",
    "batch size",
    "deeper model",
    "wider ffn",
    "bpe tokenizer",
    "weight decay",
    "class weights",
    "longer context",
    "grad clip",
    "two-stage schedule",
)
GOALS = ("classify scam messages", "python code expert", "shakespeare style", "sp500 direction")
VERDICTS = ("improved", "no_change", "worse", "failed")


def synthetic(i: int, rng: random.Random) -> Finding:
    a, b = rng.sample(WORDS, 2)
    return Finding(
        session_id=f"s{i % 50}",
        goal=rng.choice(GOALS),
        dataset="d",
        hypothesis=f"change {a} and {b} (variant {i})",
        config={"lr": rng.choice([1e-4, 3e-4, 1e-3, 3e-3]), "seed": i},
        verdict=rng.choice(VERDICTS),
        primary_metric="m",
        primary_value=rng.random(),
    )


def percentile(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    load_model()
    rng = random.Random(0)
    out: dict = {"queries": args.queries}
    with tempfile.TemporaryDirectory() as tmp:
        store = FindingsStore(tmp)
        count = 0
        for size in map(int, args.sizes.split(",")):
            t0 = time.perf_counter()
            while count < size:
                store.add_many([synthetic(count + k, rng) for k in range(min(100, size - count))])
                count = min(size, count + 100)
            add_s = time.perf_counter() - t0
            searches, tried = [], []
            for q in range(args.queries):
                t = time.perf_counter()
                store.search(f"what happened when we changed the {rng.choice(WORDS)}", limit=5)
                searches.append(time.perf_counter() - t)
                t = time.perf_counter()
                store.already_tried({"lr": 1e-3, "seed": q})
                tried.append(time.perf_counter() - t)
            out[str(size)] = {
                "adds_per_s": round((size - out.get("_last", 0)) / add_s, 1),
                "search_p50_ms": round(statistics.median(searches) * 1000, 1),
                "search_p95_ms": round(percentile(searches, 0.95) * 1000, 1),
                "already_tried_p95_ms": round(percentile(tried, 0.95) * 1000, 1),
            }
            out["_last"] = size
    out.pop("_last")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
