"""Training throughput of the ternary LM against its fp baseline, and against this machine's GEMM.

    python bench/train_throughput.py [--steps 5] [--configs small,medium]

For each config (small ~5M and medium ~25M non-embedding parameters) the ternary and the fp
model of identical shape take turns, step by step, so both see the same machine load. Prints
one JSON object: per config the median step time of each, their ratio, tokens/s, and the
achieved FLOP/s (6·N·tokens/s, N = parameters in matmuls) as a share of the fp32 GEMM
throughput measured in the same run (before and after; the higher one counts).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
from torch.nn import functional as F

from magnet.tools.bitnet.model import ModelConfig, build_model

CONFIGS = {
    "small": dict(d_model=256, n_layers=6, n_heads=4, ffn_dim=768),
    "medium": dict(d_model=512, n_layers=7, n_heads=8, ffn_dim=1536),
}
BATCH, SEQ = 16, 256


def gemm_flops(n: int = 2048, reps: int = 5) -> float:
    """Best-of fp32 matmul throughput: the ceiling a training step can approach."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(reps))
    return 2 * n**3 / best


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _trainer(cfg: ModelConfig):
    torch.manual_seed(0)
    model = build_model("lm", cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1)
    tokens = torch.randint(0, cfg.vocab_size, (BATCH, SEQ + 1))

    def step() -> None:
        loss = F.cross_entropy(model(tokens[:, :-1]).flatten(0, 1), tokens[:, 1:].flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    return step


def bench_config(shape: dict, steps: int) -> dict:
    runs = {
        kind: _trainer(ModelConfig(linear=kind, max_seq_len=SEQ, **shape))
        for kind in ("ternary", "fp")
    }
    for step in runs.values():  # warm-up: allocator, thread pools
        step()
        step()
    times: dict[str, list[float]] = {kind: [] for kind in runs}
    for _ in range(steps):
        for kind, step in runs.items():
            times[kind].append(_timed(step))
    cfg = ModelConfig(**shape)
    n_matmul = cfg.non_embedding_params() + cfg.vocab_size * cfg.d_model
    out = {"non_embedding_params": cfg.non_embedding_params(), "tokens_per_step": BATCH * SEQ}
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
    args = parser.parse_args()
    before = gemm_flops()
    result = {name: bench_config(CONFIGS[name], args.steps) for name in args.configs.split(",")}
    after = gemm_flops()
    gemm = max(before, after)  # the machine is shared: take the better reading as the ceiling
    for res in result.values():
        for kind in ("ternary", "fp"):
            flops = res[kind].pop("flops")
            res[kind]["gflops"] = round(flops / 1e9, 1)
            res[kind]["fraction_of_gemm"] = round(flops / gemm, 3)
    print(
        json.dumps(
            {
                "threads": torch.get_num_threads(),
                "batch": BATCH,
                "seq_len": SEQ,
                "gemm_gflops": [round(before / 1e9, 1), round(after / 1e9, 1)],
                **result,
            }
        )
    )


if __name__ == "__main__":
    main()
