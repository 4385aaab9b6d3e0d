"""DiLoCo against data-parallel training on the same token budget.

    python bench/diloco.py [--steps 1000] [--workers 2] [--data shakespeare]

Every configuration trains `workers` tiny ternary LMs for `steps` steps each on shards of one
dataset (own batches per worker) and evaluates the final shared model on its validation split:
data parallel (gradients all-reduced every step, the baseline, run first), DiLoCo at
H = 50, 100, 500, and H = 100 with bf16 and int8 pseudo-gradients. Bytes are what the
workers put into all-reduce (fp32: 4 bytes a value), summed over workers. Prints one JSON
object.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from magnet.tools.diloco.run import run_diloco
from magnet.tools.diloco.spec import DilocoSpec

MODEL = {"n_layers": 2, "d_model": 256, "ffn_dim": 512, "seq_len": 128, "batch_size": 8}
MODEL |= {"eval_batches": 8, "log_every": 50}
RUNS = [
    ("data-parallel", "dp", 1, "none"),
    ("diloco H=50", "diloco", 50, "none"),
    ("diloco H=100", "diloco", 100, "none"),
    ("diloco H=500", "diloco", 500, "none"),
    ("diloco H=100 bf16", "diloco", 100, "bf16"),
    ("diloco H=100 int8", "diloco", 100, "int8"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data", default="shakespeare")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, mode, h, compression in RUNS:
            spec = DilocoSpec(
                domains=[args.data],
                workers=args.workers,
                inner_steps=h if mode == "diloco" else args.steps,
                rounds=args.steps // h if mode == "diloco" else 1,
                mode=mode,
                compression=compression,
                settings=MODEL,
                out=Path(tmp) / name.replace(" ", "-"),
            )
            start = time.perf_counter()
            result = run_diloco(spec, joint=False)
            rows.append(
                {
                    "run": name,
                    "val_bits_per_byte": round(result["val_bits_per_byte"]["merged"][args.data], 4),
                    "bytes_sent": result["bytes_sent"],
                    "seconds": round(time.perf_counter() - start, 1),
                }
            )
    dp = rows[0]
    for row in rows:
        row["loss_vs_dp"] = round(row["val_bits_per_byte"] / dp["val_bits_per_byte"] - 1, 4)
        row["fewer_bytes_than_dp"] = round(dp["bytes_sent"] / row["bytes_sent"], 1)
    print(json.dumps({"steps": args.steps, "workers": args.workers, "runs": rows}, indent=1))


if __name__ == "__main__":
    main()
