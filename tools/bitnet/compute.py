"""Training compute in FLOPs, so experiments are compared at equal compute, not equal steps.

    flops = train_flops(cfg)                         # the whole run of a TrainConfig
    steps = steps_for_flops(other_cfg, flops)        # the steps that give other_cfg as much

A step costs ≈ 6 · (non-embedding parameters + output head) FLOPs per token (forward and
backward of every matmul) plus attention's 6 · layers · seq_len · d_model per token (QKᵀ and
AV, halved for the causal mask). A step reads batch_size · seq_len tokens (the window for
direction; classifier batches are trimmed to their longest text, so theirs is an upper bound).
Changing batch, sequence length or model size then trades steps for size, never free compute.
"""

from __future__ import annotations

import functools

from magnet.tools.bitnet.config import TrainConfig

BYTE_VOCAB = 256


def flops_per_token(cfg: TrainConfig) -> float:
    m = cfg.model
    head = _vocab(cfg) * m.d_model if cfg.task == "lm" else 0
    attention = m.n_layers * cfg.seq_len * m.d_model
    return 6.0 * (m.non_embedding_params() + head + attention)


def tokens_per_step(cfg: TrainConfig) -> int:
    return cfg.batch_size * cfg.seq_len


def train_flops(cfg: TrainConfig, steps: int | None = None) -> float:
    """FLOPs of `steps` (default: the config's own) optimizer steps."""
    return flops_per_token(cfg) * tokens_per_step(cfg) * (steps or cfg.steps or 0)


def steps_for_flops(cfg: TrainConfig, flops: float) -> int:
    """The steps at which `cfg` spends `flops` (at least one)."""
    return max(1, round(flops / (flops_per_token(cfg) * tokens_per_step(cfg))))


def _vocab(cfg: TrainConfig) -> int:
    """The output head's width before the data is read: bytes, or the BPE's target size."""
    return cfg.bpe_vocab if cfg.tokenizer == "bpe" else BYTE_VOCAB


# What a run costs besides its steps (sandbox start, imports, data, the harness's evaluation),
# and the share of this machine's GEMM rate a training step reaches (bench/train_throughput.py
# measures 27-77% by size and precision; small models and short runs sit at the low end).
RUN_OVERHEAD_S = 6.0
TRAINER_SHARE = 0.25


def estimated_seconds(flops: float) -> float:
    """Wall seconds of a run of `flops` on this machine, before anything has run here."""
    return RUN_OVERHEAD_S + flops / (TRAINER_SHARE * gemm_rate())


@functools.cache
def gemm_rate() -> float:
    """FLOP/s of a 1024² matmul in the precision `auto` trains in, measured once (~0.2 s):
    the fastest of five timings, less swayed by a passing load than one timing (plans still
    vary between sessions: bench/research.py saw a unit estimated at 25-36 s)."""
    import time

    import torch

    from magnet.tools.bitnet.precision import resolve

    dtype = torch.bfloat16 if resolve("auto") == "bf16" else torch.float32
    a = torch.randn(1024, 1024, dtype=dtype)
    a @ a  # warm-up
    n, fastest = 4, float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            a @ a
        fastest = min(fastest, time.perf_counter() - start)
    return 2 * 1024**3 * n / fastest
