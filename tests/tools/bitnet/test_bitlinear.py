import pytest
import torch

from magnet.tools.bitnet.bitlinear import BitLinear, activation_quant, weight_quant


def test_weight_quant_matches_hand_computation():
    w = torch.tensor([[0.4, -0.2, 0.05], [-1.0, 0.0, 0.25]])
    codes, gamma = weight_quant(w.clone())
    # γ = mean|W| = (0.4+0.2+0.05+1.0+0+0.25)/6 = 1.9/6
    assert torch.isclose(gamma, torch.tensor(1.9 / 6))
    # W/γ = [[1.263, -0.632, 0.158], [-3.158, 0, 0.789]] → round, clip to [-1, 1]
    assert codes.tolist() == [[1.0, -1.0, 0.0], [-1.0, 0.0, 1.0]]


def test_activation_quant_is_per_token_absmax_int8():
    x = torch.tensor([[1.0, -0.5, 0.25], [0.01, 0.02, -0.04]])
    q = activation_quant(x.clone())
    for row_x, row_q in zip(x, q, strict=True):
        scale = 127 / row_x.abs().max()
        expected = (row_x * scale).round().clamp(-128, 127) / scale
        assert torch.allclose(row_q, expected)
    assert q[0, 0] == 1.0  # the absmax element is exact
    assert torch.allclose(q[0, 1] * 127, torch.tensor(-64.0))  # -63.5 rounds half to even → -64


def test_forward_weights_take_exactly_three_values():
    torch.manual_seed(0)
    layer = BitLinear(256, 8)
    codes, gamma = layer.ternary_weight()
    effective = codes * gamma
    values = set(effective.unique().tolist())
    assert values <= {-gamma.item(), 0.0, gamma.item()} and len(values) == 3
    # The layer's output is exactly the quantized activations times the ternary weights.
    x = torch.randn(4, 256)
    assert torch.allclose(layer(x), activation_quant(x.clone()) @ effective.T, atol=1e-5)


def test_gradients_reach_latent_weights_straight_through():
    torch.manual_seed(0)
    layer = BitLinear(256, 4)
    x = torch.randn(3, 256, requires_grad=True)
    layer(x).sum().backward()
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0
    # STE: d(sum(x_q W_qᵀ))/dW equals the gradient through the quantized activations.
    xq = activation_quant(x.detach().clone())
    assert torch.allclose(layer.weight.grad, torch.ones(3, 4).T @ xq, atol=1e-5)
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_bitlinear_refuses_a_bias():
    with pytest.raises(ValueError, match="no bias"):
        BitLinear(256, 4, bias=True)


@pytest.mark.parametrize("linear", ["ternary", "fp"])
def test_projections_that_share_an_input_quantize_it_once_with_identical_results(
    linear, monkeypatch
):
    from torch.nn import functional as F

    from magnet.tools.bitnet import bitlinear
    from magnet.tools.bitnet.model import (
        Attention,
        FeedForward,
        ModelConfig,
        apply_rope,
        rope_tables,
    )

    torch.manual_seed(0)
    cfg = ModelConfig(linear=linear, d_model=256, n_heads=4, ffn_dim=512, max_seq_len=8)
    attn, ffn = Attention(cfg), FeedForward(cfg)
    x = torch.randn(2, 8, 256, requires_grad=True)
    cos, sin = rope_tables(cfg, 8)

    def separately(x):  # each projection quantizing its own input, as before
        b, t, _ = x.shape
        q, k, v = (
            p(x).view(b, t, 4, 64).transpose(1, 2) for p in (attn.q_proj, attn.k_proj, attn.v_proj)
        )
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        h = attn.o_proj(attn.sub_norm(y.transpose(1, 2).reshape(b, t, -1)))
        return ffn.down_proj(ffn.sub_norm(F.silu(ffn.gate_proj(h)) * ffn.up_proj(h)))

    expected = separately(x)
    (grad_expected,) = torch.autograd.grad(expected.sum(), x)
    calls = []
    real = bitlinear.activation_codes
    monkeypatch.setattr(bitlinear, "activation_codes", lambda t: calls.append(1) or real(t))
    got = ffn(attn(x, cos, sin))
    (grad_got,) = torch.autograd.grad(got.sum(), x)
    assert torch.equal(got, expected)
    assert torch.allclose(grad_got, grad_expected, atol=1e-5)  # one GEMM: summation order
    assert len(calls) == (4 if linear == "ternary" else 0)  # q/k/v, o, gate/up, down: not 7
