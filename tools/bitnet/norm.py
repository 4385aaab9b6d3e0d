"""RMSNorm with a hand-written backward, computed in fp32 whatever the input's dtype.

torch's RMSNorm forward is fused, but its backward is composed of elementwise ops (pow, mean,
several muls) and, for a bf16 input with an fp32 weight, also its forward: on a CPU those run
near memory speed at best and far below it in bf16, and in a bf16 training step they cost
more than the matmuls. Here the forward is one norm reduction and two passes, the backward
about eight fp32 passes; the output is fp32 (the residual stream's dtype), the values the
same as nn.RMSNorm's to fp32 rounding.
"""

from __future__ import annotations

import torch
from torch import nn


class _RmsNorm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
        xf = x.float()
        rstd = torch.rsqrt(xf.pow(2).mean(-1, keepdim=True).add_(eps))
        ctx.save_for_backward(x, rstd, weight)
        return (xf * rstd).mul_(weight)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, rstd, weight = ctx.saved_tensors
        grad = grad.float()
        xhat = x.float() * rstd
        grad_w = (grad * xhat).flatten(0, -2).sum(0)
        gw = grad * weight
        # d/dx of x·rstd·w: rstd · (gw − x̂ · mean(gw · x̂))
        dot = torch.linalg.vecdot(gw, xhat, dim=-1).unsqueeze(-1).div_(x.shape[-1])
        grad_x = gw.sub_(xhat.mul_(dot)).mul_(rstd)
        return grad_x.to(x.dtype), grad_w, None


class RMSNorm(nn.RMSNorm):
    """nn.RMSNorm (same parameters and state dict) with the fp32 forward and backward above."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        eps = self.eps if self.eps is not None else torch.finfo(torch.float32).eps
        return _RmsNorm.apply(x, self.weight, eps)
