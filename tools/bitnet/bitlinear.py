"""BitLinear: the BitNet b1.58 linear layer (ternary weights, int8 activations, no bias).

Forward, per the b1.58 recipe:
    γ   = mean|W|                                    (per tensor)
    W_t = clip(round(W / γ), -1, 1)                  weights become γ·{-1, 0, 1}
    s   = 127 / max|x|                               (per token)
    x_t = clip(round(x · s), -128, 127)              activations on the int8 grid
    y   = (x_t @ W_tᵀ) · γ / s
The matmul takes the integer codes themselves, so the quantizers stay exact in any float
format: integers up to 256 and {-1, 0, 1} are exact in bf16, and the sums (accumulated in
fp32 by the GEMM) are exact integers; only y is rounded, as every bf16 matmul output is.
Backward is the straight-through estimator: both quantizers pass gradients unchanged, so the
full-precision latent weights W learn. llama.cpp's TQ kernels run the same arithmetic.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from magnet.tools.bitnet.precision import compute_dtype

EPS = 1e-5


def weight_quant(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Ternary codes in {-1, 0, 1} and the per-tensor scale γ = mean|W|."""
    gamma = w.abs().mean().clamp(min=EPS)
    return (w / gamma).round_().clamp_(-1, 1), gamma


def activation_codes(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token absmax int8 codes (integers in [-128, 127], float dtype) and 1/s per token."""
    # max(max x, -min x) = max|x| without allocating |x|: half the time on large activations.
    absmax = x.amax(dim=-1, keepdim=True).maximum(-x.amin(dim=-1, keepdim=True)).clamp(min=EPS)
    return (x * (127.0 / absmax)).round_().clamp_(-128, 127), absmax / 127.0


def activation_quant(x: torch.Tensor) -> torch.Tensor:
    """The activations BitLinear computes with, as floats: codes / s."""
    codes, inv_scale = activation_codes(x)
    return codes * inv_scale


class _TernaryMatmul(torch.autograd.Function):
    """x @ [W_1; W_2; ...]ᵀ for ternary weights that share one input: x is quantized once and
    the projections run as one GEMM. Returns one output per weight."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, *weights: torch.Tensor) -> tuple[torch.Tensor, ...]:
        dtype = compute_dtype(x)
        codes, inv_scale = activation_codes(x)
        quantized = [weight_quant(w) for w in weights]
        w_codes = torch.cat([c for c, _ in quantized]).to(dtype)
        gammas = torch.cat([g.expand(len(c)) for c, g in quantized])  # γ per output column
        x_codes = codes.to(dtype)
        # The scales go on in fp32, so γ and 1/s are exact: only the GEMM output is rounded.
        y = F.linear(x_codes, w_codes).float().mul_(gammas).mul_(inv_scale)
        ctx.save_for_backward(x_codes, inv_scale, w_codes, gammas)
        ctx.x_dtype, ctx.w_dtype = x.dtype, weights[0].dtype
        ctx.sizes = [len(c) for c, _ in quantized]
        return tuple(y.split(ctx.sizes, dim=-1))

    @staticmethod
    def backward(ctx, *grads: torch.Tensor | None):
        x_codes, inv_scale, w_codes, gammas = ctx.saved_tensors
        dtype, sizes = x_codes.dtype, ctx.sizes
        if len(grads) == 1:
            grad = grads[0].to(dtype)
        else:
            batch = x_codes.shape[:-1]
            grad = torch.cat(
                [
                    torch.zeros(*batch, n, dtype=dtype) if g is None else g.to(dtype)
                    for g, n in zip(grads, sizes, strict=True)
                ],
                dim=-1,
            )
        # y = x_q @ (γ·W_t)ᵀ with x_q = codes / s. The scales go on whichever operand is
        # smaller: a pass over a large activation costs more than the GEMM's share here.
        grad_x = grad @ (w_codes * gammas[:, None].to(dtype))
        flat_grad, flat_codes = grad.flatten(0, -2), x_codes.flatten(0, -2)
        scale = inv_scale.flatten(0, -2).to(dtype)
        if flat_grad.shape[1] <= flat_codes.shape[1]:
            grad_w = (flat_grad * scale).T @ flat_codes
        else:
            grad_w = flat_grad.T @ (flat_codes * scale)
        return grad_x.to(ctx.x_dtype), *(g.to(ctx.w_dtype) for g in grad_w.split(sizes))


class BitLinear(nn.Linear):
    """Drop-in `nn.Linear` (always bias-free) that trains ternary weights."""

    def __init__(self, in_features: int, out_features: int, bias: bool = False, **kwargs) -> None:
        if bias:
            raise ValueError("BitLinear has no bias")
        super().__init__(in_features, out_features, bias=False, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _TernaryMatmul.apply(x, self.weight)[0]

    def ternary_weight(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The codes and scale an exporter writes (TQ2_0 stores γ·codes exactly)."""
        with torch.no_grad():
            return weight_quant(self.weight)


def shared_input(x: torch.Tensor, *layers: nn.Linear) -> list[torch.Tensor]:
    """Each layer applied to `x`, with `x` quantized once for all of them and one GEMM (q/k/v
    read the same input, and so do gate/up): the same values as calling each layer."""
    if all(isinstance(layer, BitLinear) for layer in layers):
        return list(_TernaryMatmul.apply(x, *(layer.weight for layer in layers)))
    return [layer(x) for layer in layers]
