import torch

from magnet.tools.diloco.compress import roundtrip
from magnet.tools.diloco.outer import OuterStep


def test_compression_bytes_and_error():
    t = torch.linspace(-1, 1, 1001)
    same, n = roundtrip(t, "none")
    assert same is t and n == 4004
    half, n = roundtrip(t, "bf16")
    assert n == 2002 and (half - t).abs().max() < 1e-2
    q, n = roundtrip(t, "int8")
    assert n == 1001 + 4 and (q - t).abs().max() <= 1 / 127 / 2 + 1e-6


def test_an_outer_step_moves_the_shared_weights_toward_the_mean_of_the_workers():
    model = torch.nn.Linear(3, 1, bias=False)
    start = model.weight.detach().clone()
    outer = OuterStep(model, lr=1.0, momentum=0.0)
    with torch.no_grad():
        model.weight.add_(1.0)  # this worker's inner steps
    others = torch.full_like(start, -1.0)  # another worker moved the other way, as much

    def all_reduce_mean(delta):  # two workers: this one's delta and the other's (+1)
        delta.copy_((delta + (start - (start + others))) / 2)

    sent = outer.sync(model, all_reduce_mean)
    assert sent == 3 * 4
    assert torch.allclose(model.weight, start)  # the moves cancel: back at the start
    assert torch.allclose(outer.shared[0], model.weight)
