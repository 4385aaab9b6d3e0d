"""The DiLoCo outer step, independent of how workers talk to each other.

    outer = OuterStep(model, lr=0.7, momentum=0.9)
    ...H inner AdamW steps on the worker's own data...
    sent = outer.sync(model, all_reduce_mean, "int8")    # bytes this worker sent

The pseudo-gradient is the shared weights at the start of the round minus the worker's weights
now; `all_reduce_mean` averages it across workers (torch.distributed, torchft, or anything
that averages a tensor in place), and Nesterov SGD applies it to the shared weights, which
every worker then continues from. Ternary models sync their full-precision latent weights.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from magnet.tools.diloco.compress import Compression, roundtrip

AllReduce = Callable[[torch.Tensor], None]


class OuterStep:
    def __init__(self, model: torch.nn.Module, lr: float = 0.7, momentum: float = 0.9) -> None:
        self.shared = [p.detach().clone() for p in model.parameters()]
        self.opt = torch.optim.SGD(self.shared, lr=lr, momentum=momentum, nesterov=momentum > 0)

    @torch.no_grad()
    def sync(
        self, model: torch.nn.Module, all_reduce_mean: AllReduce, compression: Compression = "none"
    ) -> int:
        """Average the pseudo-gradients, step the shared weights, load them into `model`."""
        sent = 0
        for shared, local in zip(self.shared, model.parameters(), strict=True):
            delta, nbytes = roundtrip(shared - local, compression)
            all_reduce_mean(delta)
            shared.grad = delta
            sent += nbytes
        self.opt.step()
        for shared, local in zip(self.shared, model.parameters(), strict=True):
            local.copy_(shared)
        return sent
