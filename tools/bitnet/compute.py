"""Training compute in FLOPs, so experiments are compared at equal compute, not equal steps.

    flops = train_flops(cfg)                         # the whole run of a TrainConfig
    steps = steps_for_flops(other_cfg, flops)        # the steps that give other_cfg as much

A step costs ≈ 6 · (non-embedding parameters + output head) FLOPs per token (forward and
backward of every matmul) plus attention's 6 · layers · width · d_model per token (QKᵀ and
AV, halved for the causal mask). A step reads batch_size rows of `width` tokens, counted in
the task's own tokens: an LM window is seq_len; a direction window is the dataset's (days);
a classifier batch is trimmed to its longest text, so its width is the expected longest of
batch_size training texts in the config's tokens (at most seq_len). Changing batch, sequence
length or model size then trades steps for size, never free compute.
"""

from __future__ import annotations

import functools

import numpy as np

from magnet.tools.bitnet.config import TrainConfig

BYTE_VOCAB = 256


def flops_per_token(cfg: TrainConfig) -> float:
    m = cfg.model
    head = _vocab(cfg) * m.d_model if cfg.task == "lm" else 0
    attention = m.n_layers * width(cfg) * m.d_model
    return 6.0 * (m.non_embedding_params() + head + attention)


def tokens_per_step(cfg: TrainConfig) -> float:
    return cfg.batch_size * width(cfg)


def train_flops(cfg: TrainConfig, steps: int | None = None) -> float:
    """FLOPs of `steps` (default: the config's own) optimizer steps."""
    return flops_per_token(cfg) * tokens_per_step(cfg) * (steps or cfg.steps or 0)


def steps_for_flops(cfg: TrainConfig, flops: float) -> int:
    """The steps at which `cfg` spends `flops` (at least one)."""
    return max(1, round(flops / (flops_per_token(cfg) * tokens_per_step(cfg))))


def width(cfg: TrainConfig) -> float:
    """Tokens per row of a training batch (see the module's docstring); seq_len for data
    that cannot be read here (a name no dataset has: only tests and sizing use those)."""
    if cfg.task == "lm":
        return float(cfg.seq_len)
    return _data_width(
        cfg.task, cfg.data, cfg.tokenizer, cfg.bpe_vocab, cfg.bpe_sample_mb, cfg.seq_len,
        cfg.batch_size,
    )  # fmt: skip


@functools.cache
def _data_width(task, data, tokenizer, bpe_vocab, sample_mb, seq_len, batch) -> float:
    from magnet.tools.datasets import load_dataset
    from magnet.tools.datasets.tokenizer import build_tokenizer
    from magnet.tools.errors import MagnetError

    try:
        ds = load_dataset(data, task)
    except MagnetError:
        return float(seq_len)
    if task == "direction":
        return float(ds.train.x.shape[1])
    tok = build_tokenizer(tokenizer, ds.train.texts, bpe_vocab, sample_mb)
    lengths = [min(max(len(tok.encode(t)), 1), seq_len) for t in ds.train.texts]
    return expected_longest(lengths, batch)


def expected_longest(lengths: list[int], batch: int) -> float:
    """E[the longest of `batch` rows drawn with replacement]: P(longest ≤ the i-th shortest)
    is (i/n)^batch."""
    ordered = np.sort(np.asarray(lengths, dtype=np.float64))
    cdf = (np.arange(1, len(ordered) + 1) / len(ordered)) ** batch
    return float(np.sum(ordered * np.diff(cdf, prepend=0.0)))


def _vocab(cfg: TrainConfig) -> int:
    """The output head's width before the data is read: bytes, or the BPE's target size."""
    return cfg.bpe_vocab if cfg.tokenizer == "bpe" else BYTE_VOCAB


# The share of this machine's GEMM rate a training step reaches (bench/train_throughput.py
# measures 27-77% by size and precision; small models and short runs sit at the low end).
TRAINER_SHARE = 0.25


def seconds_per_flop() -> float:
    """Training seconds per FLOP on this machine, before any run has measured it."""
    return 1.0 / (TRAINER_SHARE * gemm_rate())


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


def step_seconds(threads: int, repeats: int = 1) -> float:
    """Seconds of one optimizer step of the default LM config on `threads` torch threads,
    in the precision `auto` trains in (the fastest of `repeats` after a warm-up): how well
    a small run uses more threads, which decides how many should run at once."""
    import time

    import torch

    from magnet.tools.bitnet.model import CausalLM, ModelConfig
    from magnet.tools.bitnet.precision import autocast

    fields = TrainConfig.model_fields
    batch, seq_len = fields["batch_size"].default, fields["seq_len"].default
    model = CausalLM(ModelConfig(max_seq_len=seq_len))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    tokens = torch.randint(0, BYTE_VOCAB, (batch, seq_len + 1))
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        fastest = float("inf")
        for i in range(repeats + 1):
            start = time.perf_counter()
            with autocast("auto"):
                logits = model(tokens[:, :-1])
            loss = torch.nn.functional.cross_entropy(
                logits.float().flatten(0, 1), tokens[:, 1:].flatten()
            )
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            if i:  # the first step warms up: allocations, kernel choice
                fastest = min(fastest, time.perf_counter() - start)
        return fastest
    finally:
        torch.set_num_threads(before)
