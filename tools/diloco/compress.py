"""Pseudo-gradient compression for transport: what a worker sends instead of fp32.

    sent, nbytes = roundtrip(delta, "int8")   # the values the others receive, and the bytes

none   fp32, 4 bytes a value
bf16   2 bytes a value (bfloat16 keeps fp32's range, so no scale is needed)
int8   1 byte a value + one fp32 scale per tensor (absmax / 127, round to nearest)

`roundtrip` returns what decoding the encoded tensor gives back, so training sees exactly
the loss of precision that the transport would cause.
"""

from __future__ import annotations

from typing import Literal

import torch

Compression = Literal["none", "bf16", "int8"]


def roundtrip(t: torch.Tensor, kind: Compression) -> tuple[torch.Tensor, int]:
    if kind == "none":
        return t, t.numel() * 4
    if kind == "bf16":
        return t.to(torch.bfloat16).to(t.dtype), t.numel() * 2
    if kind == "int8":
        scale = t.abs().max().clamp(min=1e-12) / 127
        q = (t / scale).round().clamp(-127, 127).to(torch.int8)
        return q.to(t.dtype) * scale, t.numel() + 4
    raise ValueError(f"unknown compression '{kind}' (none, bf16, int8)")
