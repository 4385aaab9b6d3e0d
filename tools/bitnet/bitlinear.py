"""BitLinear: the BitNet b1.58 linear layer (ternary weights, int8 activations, no bias).

Forward, per the b1.58 recipe:
    γ   = mean|W|                                    (per tensor)
    W_t = clip(round(W / γ), -1, 1)                  weights become γ·{-1, 0, 1}
    s   = 127 / max|x|                               (per token)
    x_q = clip(round(x · s), -128, 127) / s          activations on an int8 grid
    y   = x_q @ (γ·W_t)ᵀ
Backward is the straight-through estimator: both quantizers pass gradients unchanged, so the
full-precision latent weights W learn. The matmul runs in float on the dequantized values: on a
CPU that is where torch is fast; llama.cpp's TQ kernels run the true ternary arithmetic.
"""

from __future__ import annotations

import torch
from torch import nn

EPS = 1e-5


def weight_quant(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Ternary codes in {-1, 0, 1} and the per-tensor scale γ = mean|W|."""
    gamma = w.abs().mean().clamp(min=EPS)
    return (w / gamma).round_().clamp_(-1, 1), gamma


def activation_quant(x: torch.Tensor) -> torch.Tensor:
    """Per-token absmax int8 fake quantization (values on the int8 grid, float dtype)."""
    # max(max x, -min x) = max|x| without allocating |x|: half the time on large activations.
    absmax = x.amax(dim=-1, keepdim=True).maximum(-x.amin(dim=-1, keepdim=True))
    scale = 127.0 / absmax.clamp(min=EPS)
    return (x * scale).round_().clamp_(-128, 127).div_(scale)


class _Ste(torch.autograd.Function):
    """Quantize in forward, pass the gradient straight through in backward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, is_weight: bool) -> torch.Tensor:
        with torch.no_grad():
            if is_weight:
                codes, gamma = weight_quant(x)
                return codes.mul_(gamma)
            return activation_quant(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return grad, None


class BitLinear(nn.Linear):
    """Drop-in `nn.Linear` (always bias-free) that trains ternary weights."""

    def __init__(self, in_features: int, out_features: int, bias: bool = False, **kwargs) -> None:
        if bias:
            raise ValueError("BitLinear has no bias")
        super().__init__(in_features, out_features, bias=False, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(_Ste.apply(x, False))

    def project(self, x_q: torch.Tensor) -> torch.Tensor:
        """The layer on activations already on the int8 grid (see `shared_input`)."""
        return nn.functional.linear(x_q, _Ste.apply(self.weight, True))

    def ternary_weight(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The codes and scale an exporter writes (TQ2_0 stores γ·codes exactly)."""
        with torch.no_grad():
            return weight_quant(self.weight)


def shared_input(x: torch.Tensor, *layers: nn.Linear) -> list[torch.Tensor]:
    """Each layer applied to `x`, with `x` quantized once for all of them (q/k/v read the
    same input, and so do gate/up): the same values as calling each layer, fewer passes."""
    if all(isinstance(layer, BitLinear) for layer in layers):
        x_q = _Ste.apply(x, False)
        return [layer.project(x_q) for layer in layers]
    return [layer(x) for layer in layers]
