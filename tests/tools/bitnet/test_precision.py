"""bf16 autocast: chosen from the CPU's flags, exact quantizers, fp32 loss, recorded and resumed."""

import pytest
import torch

from magnet.tools.bitnet import bitlinear
from magnet.tools.bitnet.bitlinear import (
    BitLinear,
    activation_codes,
    activation_quant,
    weight_quant,
)
from magnet.tools.bitnet.precision import autocast, has_bf16_flags, resolve
from magnet.tools.bitnet.train import TrainRequest, resume_run, train
from magnet.tools.harness.evaluate import evaluate_run
from tests.conftest import TINY


def test_native_bf16_is_read_from_the_cpu_flags():
    assert has_bf16_flags("processor\t: 0\nflags\t\t: fpu sse2 avx512f avx512_bf16 avx512bw\n")
    assert has_bf16_flags("flags\t: fpu amx_tile amx_bf16\n")
    assert not has_bf16_flags("flags\t: fpu sse2 avx2 avx512f avx512bw\n")
    assert not has_bf16_flags("")
    assert resolve("fp32") == "fp32" and resolve("bf16") == "bf16"
    assert resolve("auto") in ("fp32", "bf16")


def test_under_bf16_the_matmul_sees_exact_int8_activations_and_ternary_weights(monkeypatch):
    torch.manual_seed(0)
    layer = BitLinear(512, 64)
    x = torch.randn(2, 8, 512) * 3
    seen = []
    real = bitlinear.F.linear
    monkeypatch.setattr(
        bitlinear.F, "linear", lambda a, w: seen.append((a.clone(), w.clone())) or real(a, w)
    )
    with autocast("bf16"):
        y = layer(x)
    (a, w), (codes, inv_scale) = seen[0], activation_codes(x)
    assert a.dtype == w.dtype == torch.bfloat16
    # The operands are the integer codes themselves, exactly: bf16 holds integers up to 256.
    assert torch.equal(a.float(), codes) and a.abs().max() <= 128
    assert set(w.float().unique().tolist()) == {-1.0, 0.0, 1.0}
    assert torch.equal(w.float(), weight_quant(layer.weight.detach())[0])
    # Casting the dequantized activations to bf16, as plain autocast would, leaves the grid.
    off = activation_quant(x).bfloat16().double() / inv_scale.double() - codes.double()
    assert off.abs().max() > 0.01
    # y = codes @ W_tᵀ · γ / s, exact up to the bf16 rounding of the GEMM's output (8 bits);
    # γ and 1/s are applied in fp32.
    w_codes, gamma = weight_quant(layer.weight.detach())
    exact = (codes.double() @ w_codes.double().T) * gamma.double() * inv_scale.double()
    assert y.dtype == torch.float32
    assert ((y.double() - exact).abs() <= exact.abs() * 2**-8 + 1e-6).all()


def test_bf16_gradients_match_the_fp32_straight_through_gradients():
    torch.manual_seed(0)
    layers = [BitLinear(256, 32) for _ in range(2)]
    layers[1].load_state_dict(layers[0].state_dict())
    x = torch.randn(4, 16, 256)
    grads = []
    for layer, precision in zip(layers, ("fp32", "bf16"), strict=True):
        xi = x.clone().requires_grad_()
        with autocast(precision):
            y = layer(xi)
        (y.float() ** 2).sum().backward()
        assert layer.weight.grad.dtype == torch.float32 and xi.grad.dtype == torch.float32
        grads.append((layer.weight.grad, xi.grad))
    for fp32, bf16 in zip(*grads, strict=True):
        assert torch.allclose(bf16, fp32, rtol=0.05, atol=0.05 * fp32.abs().max().item())


class _Killed(Exception):
    pass


def test_precision_is_recorded_and_a_resume_under_another_one_says_so(tmp_path):
    out = tmp_path / "run"
    settings = {**TINY, "precision": "bf16", "checkpoint_every": 5, "log_every": 1}

    def kill_at_8(event):
        if event.get("step") == 8 and event["event"] == "train":
            raise _Killed

    with pytest.raises(_Killed):
        train(
            TrainRequest(task="lm", data="shakespeare", steps=12, out=out, settings=settings),
            kill_at_8,
        )
    assert '"precision": "bf16"' in (out / "config.json").read_text()

    events = []
    result = resume_run(out, events.append, precision="fp32")
    start = next(e for e in events if e["event"] == "start")
    assert start["precision"] == "fp32"
    assert start["note"] == "resumed under fp32; steps 1-5 ran under bf16"
    assert result.precision == "fp32" and "precision: fp32" in result.summary()


def test_a_bf16_run_is_scored_by_the_harness_as_the_trainer_scored_it(tmp_path):
    out = tmp_path / "run"
    settings = {**TINY, "precision": "bf16", "eval_every": 10}
    result = train(
        TrainRequest(task="lm", data="shakespeare", steps=10, out=out, settings=settings)
    )
    assert result.precision == "bf16" and "precision: bf16" in result.summary()
    harness = evaluate_run(out, "val", "lm", result.data)
    assert harness["bits_per_byte"] == pytest.approx(result.val["bits_per_byte"], rel=1e-6)


@pytest.mark.parametrize(
    "task,data", [("lm", "shakespeare"), ("classify", "sms-spam"), ("direction", "sp500")]
)
def test_the_loss_stays_fp32_under_bf16(task, data):
    from magnet.tools.bitnet.config import make_config
    from magnet.tools.bitnet.model import build_model
    from magnet.tools.bitnet.tasks import make_task
    from magnet.tools.datasets import load_dataset
    from magnet.tools.datasets.tokenizer import build_tokenizer

    cfg = make_config(task, data, settings={**TINY, "precision": "bf16"})
    ds = load_dataset(data, task)
    tok = None if task == "direction" else build_tokenizer("byte", [], 256, 1.0)
    harness_task = make_task(ds, tok, cfg)
    cfg.model = cfg.model.model_copy(update=harness_task.model_fields(tok))
    model = build_model(task, cfg.model)
    batch = harness_task.train_batch(torch.Generator().manual_seed(0))
    with autocast("bf16"):
        inputs = (batch[:, :-1],) if task == "lm" else batch[:-1]
        assert model(*inputs).dtype == torch.bfloat16  # the logits are bf16 ...
        loss = harness_task.loss(model, batch)
    assert loss.dtype == torch.float32 and torch.isfinite(loss)  # ... the loss is not
