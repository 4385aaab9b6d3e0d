"""Training throughput of the ternary LM against its fp baseline, in fp32 and bf16, and against
this machine's GEMM.

    python bench/train_throughput.py [--steps 5] [--configs small,medium] [--precisions fp32,bf16]

For each config (small ~5M and medium ~24M non-embedding parameters) and precision, the
ternary and the fp model of identical shape take turns, step by step, so both see the same
machine load. Prints one JSON object: per config and precision the median step time of each,
their ratio, tokens/s, and the achieved FLOP/s (6·N·tokens/s, N = parameters in matmuls) as a
share of the GEMM throughput of that precision measured in the same run (before and after;
the higher one counts); per config the bf16 speed-up over fp32; and what `precision=auto`
picks on this CPU.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
from torch.nn import functional as F

from magnet.tools.bitnet.model import ModelConfig, build_model
from magnet.tools.bitnet.precision import autocast, native_bf16, resolve

CONFIGS = {
    "small": dict(d_model=256, n_layers=6, n_heads=4, ffn_dim=768),
    "medium": dict(d_model=512, n_layers=7, n_heads=8, ffn_dim=1536),
}
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
BATCH, SEQ = 16, 256


def gemm_flops(precision: str, n: int = 2048, reps: int = 5) -> float:
    """Best-of matmul throughput in a precision: the ceiling a training step can approach."""
    a, b = (torch.randn(n, n, dtype=DTYPES[precision]) for _ in range(2))
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(reps))
    return 2 * n**3 / best


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _trainer(cfg: ModelConfig, precision: str):
    """One training step as the trainer takes it: autocast forward, fp32 loss and AdamW."""
    torch.manual_seed(0)
    model = build_model("lm", cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1)
    tokens = torch.randint(0, cfg.vocab_size, (BATCH, SEQ + 1))

    def step() -> None:
        with autocast(precision):
            logits = model(tokens[:, :-1]).float()
            loss = F.cross_entropy(logits.flatten(0, 1), tokens[:, 1:].flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    return step


def bench_config(shape: dict, precision: str, steps: int) -> dict:
    runs = {
        kind: _trainer(ModelConfig(linear=kind, max_seq_len=SEQ, **shape), precision)
        for kind in ("ternary", "fp")
    }
    for step in runs.values():  # warm-up: allocator, thread pools, oneDNN kernels
        step()
        step()
    times: dict[str, list[float]] = {kind: [] for kind in runs}
    for _ in range(steps):
        for kind, step in runs.items():
            times[kind].append(_timed(step))
    cfg = ModelConfig(**shape)
    n_matmul = cfg.non_embedding_params() + cfg.vocab_size * cfg.d_model
    out = {}
    for kind, ts in times.items():
        med = statistics.median(ts)
        tps = BATCH * SEQ / med
        out[kind] = {
            "step_s": round(med, 4),
            "tokens_per_s": round(tps),
            "flops": 6 * n_matmul * tps,
        }
    out["ternary_over_fp_step"] = round(out["ternary"]["step_s"] / out["fp"]["step_s"], 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--configs", default="small,medium")
    parser.add_argument("--precisions", default="fp32,bf16")
    args = parser.parse_args()
    precisions = args.precisions.split(",")
    before = {p: gemm_flops(p) for p in precisions}
    result: dict = {}
    for name in args.configs.split(","):
        cfg = ModelConfig(**CONFIGS[name])
        result[name] = {"non_embedding_params": cfg.non_embedding_params()}
        for p in precisions:
            result[name][p] = bench_config(CONFIGS[name], p, args.steps)
    after = {p: gemm_flops(p) for p in precisions}
    for res in result.values():
        for p in precisions:
            gemm = max(before[p], after[p])  # the machine is shared: the better reading counts
            for kind in ("ternary", "fp"):
                flops = res[p][kind].pop("flops")
                res[p][kind]["gflops"] = round(flops / 1e9, 1)
                res[p][kind]["fraction_of_gemm"] = round(flops / gemm, 3)
        if {"fp32", "bf16"} <= set(precisions):
            res["bf16_speedup"] = {
                kind: round(res["fp32"][kind]["step_s"] / res["bf16"][kind]["step_s"], 3)
                for kind in ("ternary", "fp")
            }
    gemm_report = {p: [round(before[p] / 1e9, 1), round(after[p] / 1e9, 1)] for p in precisions}
    print(
        json.dumps(
            {
                "threads": torch.get_num_threads(),
                "batch": BATCH,
                "seq_len": SEQ,
                "native_bf16": native_bf16(),
                "auto_precision": resolve("auto"),
                "gemm_gflops": gemm_report,
                **result,
            }
        )
    )


if __name__ == "__main__":
    main()
