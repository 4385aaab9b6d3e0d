"""Which float format the matmuls of training and evaluation run in.

    precision = resolve("auto")          # "bf16" on a CPU with native bf16, else "fp32"
    with autocast(precision):
        loss = task.loss(model, batch)   # matmuls in bf16; latent weights stay fp32

bf16 autocast roughly halves a step on CPUs with AVX-512 BF16 or AMX; elsewhere torch
emulates bf16 and it is slower than fp32, so `auto` asks the CPU once. Latent weights,
optimizer state and the loss stay fp32 in every mode (the tasks compute the loss on fp32
logits), and BitLinear keeps its quantizers exact under bf16 (bitlinear.py).
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path
from typing import Literal

import torch

Precision = Literal["auto", "fp32", "bf16"]
Resolved = Literal["fp32", "bf16"]
BF16_FLAGS = {"avx512_bf16", "amx_bf16"}  # native bf16 dot products on x86


@functools.cache
def native_bf16() -> bool:
    """The CPU runs bf16 dot products natively (read once from /proc/cpuinfo; False where
    that file does not exist, as on macOS: fp32 is the safe choice there)."""
    try:
        return has_bf16_flags(Path("/proc/cpuinfo").read_text())
    except OSError:
        return False


def has_bf16_flags(cpuinfo: str) -> bool:
    """The first `flags` line of a /proc/cpuinfo text names a native bf16 instruction set."""
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return bool(BF16_FLAGS & set(line.split(":", 1)[-1].split()))
    return False


def resolve(precision: Precision) -> Resolved:
    if precision == "auto":
        return "bf16" if native_bf16() else "fp32"
    return precision


def autocast(precision: Precision) -> contextlib.AbstractContextManager:
    """bf16 autocast on the CPU, or nothing for fp32 (`auto` resolved here)."""
    if resolve(precision) == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def compute_dtype(x: torch.Tensor) -> torch.dtype:
    """The dtype a matmul on `x` runs in here: autocast's, when it is on."""
    if torch.is_autocast_enabled("cpu"):
        return torch.get_autocast_dtype("cpu")
    return x.dtype
