"""Memory and time of training data as the corpus grows: tokenize once, read windows.

    python bench/data_scale.py [--sizes-mb 10,100,1000] [--tokenizers byte,bpe] [--steps 50]
                               [--work DIR] [--inmemory-max-mb 100]

For each size a corpus directory is built from Shakespeare (its paragraphs shuffled, seeded,
into files of about 1 MB), and for each tokenizer, in a fresh MAGNET_HOME, each in its own
process:
  cold      the harness's preparation of a run (scan the files, train BPE on its sample,
            tokenize every split into the cache): seconds, MB of text per second, peak RSS
  train     a training run of --steps on the warm cache: seconds and peak RSS
  eval      one harness evaluation of that run's checkpoint on val: seconds inside the call
            (what the harness pays per checkpoint; data_s: of which getting the data ready,
            the part that could grow with the corpus), and the process's peak RSS
  inmemory  the same-run reference for the data path this replaced: the splits read whole,
            joined and tokenized into one int64 tensor (sizes up to --inmemory-max-mb only)
Prints one JSON object with a row per size and tokenizer, and the issue's goals checked.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
what, data, tokenizer, steps, out = sys.argv[1:6]
settings = {"tokenizer": tokenizer}
import torch  # before the clock starts: a harness or trainer process has it already
start = time.perf_counter()
if what == "cold":
    from magnet.tools.bitnet.train import TrainRequest, prepare
    start = time.perf_counter()
    prepare(TrainRequest(task="lm", data=data, steps=int(steps), settings=settings))
elif what == "train":
    from magnet.tools.bitnet.train import TrainRequest, train
    from pathlib import Path
    train(TrainRequest(task="lm", data=data, steps=int(steps), settings=settings, out=Path(out)))
elif what == "eval":
    from pathlib import Path
    from magnet.tools.bitnet.run_dir import RunDir
    from magnet.tools.bitnet.tasks import make_task
    from magnet.tools.datasets import load_dataset
    from magnet.tools.harness.evaluate import evaluate_run
    run = RunDir(Path(out))
    start = time.perf_counter()
    make_task(load_dataset(data, "lm"), run.tokenizer(), run.config())
    data_s = time.perf_counter() - start  # the part that could grow with the corpus
    start = time.perf_counter()
    evaluate_run(Path(out), "val", "lm", data)
elif what == "inmemory":
    import numpy as np, torch
    from magnet.tools.datasets import load_dataset
    from magnet.tools.datasets.tokenizer import build_tokenizer
    from magnet.tools.datasets.types import DOC_SEPARATOR
    ds = load_dataset(data, "lm")
    tok = build_tokenizer(tokenizer, ds.train, 4096)  # the same 8 MB sample: the data path differs
    for split in (ds.train, ds.val, ds.test):
        torch.from_numpy(tok.encode(DOC_SEPARATOR.join(split)).astype(np.int64))
seconds = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
extra = {"data_s": round(data_s, 3)} if what == "eval" else {}
print(json.dumps({"seconds": round(seconds, 2), "peak_rss_mb": round(rss)} | extra))
"""


def build_corpus(root: Path, mb: int, seed: int = 0) -> int:
    """Files of ~1 MB of shuffled Shakespeare paragraphs, `mb` MB in all: its bytes."""
    from magnet.tools.datasets import load_dataset

    paragraphs = [p for play in load_dataset("shakespeare", "lm").train for p in play.split("\n\n")]
    rng = random.Random(seed)
    root.mkdir(parents=True)
    total, n = 0, 0
    while total < mb * 2**20:
        rng.shuffle(paragraphs)
        text, size = [], 0
        for p in paragraphs:
            text.append(p)
            size += len(p) + 2
            if size >= 2**20:
                break
        data = "\n\n".join(text).encode()
        (root / f"part{n:05d}.txt").write_bytes(data)
        total, n = total + len(data), n + 1
    return total


def child(what: str, data: Path, tokenizer: str, steps: int, out: Path, home: Path) -> dict:
    env = {**os.environ, "MAGNET_HOME": str(home)}
    argv = [sys.executable, "-c", CHILD, what, str(data), tokenizer, str(steps), str(out)]
    wall = time.perf_counter()
    run = subprocess.run(argv, capture_output=True, text=True, env=env)
    if run.returncode != 0:
        return {"error": run.stderr.strip().splitlines()[-1] if run.stderr.strip() else "failed"}
    return json.loads(run.stdout.strip().splitlines()[-1]) | {
        "wall_s": round(time.perf_counter() - wall, 2)
    }


def read_seconds(root: Path) -> float:
    start = time.perf_counter()
    for p in sorted(root.iterdir()):
        p.read_bytes()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes-mb", default="10,100,1000")
    parser.add_argument("--tokenizers", default="byte,bpe")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--inmemory-max-mb", type=int, default=100)
    parser.add_argument("--work", type=Path, default=None, help="default: a temporary directory")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="magnet-data-scale-"))
    rows = []
    try:
        for mb in map(int, args.sizes_mb.split(",")):
            corpus = work / f"corpus-{mb}mb"
            n_bytes = build_corpus(corpus, mb)
            read_s = read_seconds(corpus)
            for tokenizer in args.tokenizers.split(","):
                home = work / f"home-{mb}-{tokenizer}"
                run_dir = home / "run"
                row = {"mb": round(n_bytes / 2**20), "tokenizer": tokenizer}
                row["read_all_s"] = round(read_s, 2)
                row["cold"] = child("cold", corpus, tokenizer, args.steps, run_dir, home)
                if "seconds" in row["cold"]:
                    row["cold"]["mb_per_s"] = round(n_bytes / 2**20 / row["cold"]["seconds"], 1)
                row["train"] = child("train", corpus, tokenizer, args.steps, run_dir, home)
                row["eval"] = child("eval", corpus, tokenizer, args.steps, run_dir, home)
                if mb <= args.inmemory_max_mb:
                    row["inmemory"] = child("inmemory", corpus, tokenizer, 0, run_dir, home)
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
                shutil.rmtree(home, ignore_errors=True)
            shutil.rmtree(corpus, ignore_errors=True)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    goals = {
        "train_peak_rss_under_2gb_at_largest": all(
            r["train"].get("peak_rss_mb", 1e9) < 2048 for r in rows if r["mb"] == rows[-1]["mb"]
        ),
        "warm_eval_under_5s_everywhere": all(r["eval"].get("seconds", 1e9) < 5 for r in rows),
        "warm_eval_data_under_1s_everywhere": all(r["eval"].get("data_s", 1e9) < 1 for r in rows),
        "cold_bytes_at_least_20mb_per_s": all(
            r["cold"].get("mb_per_s", 0) >= 20 for r in rows if r["tokenizer"] == "byte"
        ),
    }
    print(json.dumps({"steps": args.steps, "rows": rows, "goals": goals}, indent=1))


if __name__ == "__main__":
    main()
