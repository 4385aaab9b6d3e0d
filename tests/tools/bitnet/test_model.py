import pytest
import torch
from pydantic import ValidationError

from magnet.tools.bitnet.bitlinear import BitLinear
from magnet.tools.bitnet.model import ModelConfig, build_model

SMALL = dict(d_model=256, n_layers=2, n_heads=4, ffn_dim=512, max_seq_len=16)


def test_ternary_and_fp_models_have_identical_shapes():
    torch.manual_seed(0)
    tern = build_model("lm", ModelConfig(linear="ternary", **SMALL))
    fp = build_model("lm", ModelConfig(linear="fp", **SMALL))
    assert _shapes(tern) == _shapes(fp)
    n_bit = sum(isinstance(m, BitLinear) for m in tern.modules())
    assert n_bit == 7 * SMALL["n_layers"]  # q k v o gate up down per block
    assert not any(isinstance(m, BitLinear) for m in fp.modules())


def _shapes(model):
    return {k: v.shape for k, v in model.state_dict().items()}


def test_bitnet_layout_has_subln_and_tied_embeddings():
    model = build_model("lm", ModelConfig(**SMALL))
    names = set(model.state_dict())
    for part in ("attn_norm", "attn.sub_norm", "ffn_norm", "ffn.sub_norm", "ffn.gate_proj"):
        assert f"backbone.layers.0.{part}.weight" in names
    assert not any("bias" in n for n in names if "layers" in n)
    tokens = torch.randint(0, 256, (2, 8))
    assert model(tokens).shape == (2, 8, 256)
    assert "lm_head.weight" not in names  # output reuses embed.weight


def test_causal_lm_does_not_look_ahead():
    torch.manual_seed(0)
    model = build_model("lm", ModelConfig(**SMALL)).eval()
    a = torch.randint(0, 256, (1, 12))
    b = a.clone()
    b[0, 8:] = (b[0, 8:] + 1) % 256
    with torch.no_grad():
        assert torch.allclose(model(a)[0, :8], model(b)[0, :8], atol=1e-5)


def test_classifier_ignores_padding():
    torch.manual_seed(0)
    model = build_model("classify", ModelConfig(n_classes=3, **SMALL)).eval()
    tokens = torch.randint(1, 256, (1, 6))
    padded = torch.cat([tokens, torch.zeros(1, 4, dtype=torch.long)], dim=1)
    with torch.no_grad():
        short = model(tokens, torch.tensor([6]))
        long = model(padded, torch.tensor([6]))
    assert short.shape == (1, 3)
    assert torch.allclose(short, long, atol=1e-5)


def test_series_classifier_shapes():
    model = build_model("direction", ModelConfig(n_features=3, **SMALL))
    assert model(torch.randn(5, 16, 3)).shape == (5, 2)


@pytest.mark.parametrize(
    "bad", [dict(d_model=300), dict(ffn_dim=100), dict(n_heads=3), dict(n_heads=4, n_kv_heads=3)]
)
def test_invalid_shapes_are_rejected(bad):
    with pytest.raises(ValidationError):
        ModelConfig(**{**SMALL, **bad})


def test_non_embedding_params_match_the_module():
    cfg = ModelConfig(**SMALL)
    model = build_model("lm", cfg)
    linear = sum(m.weight.numel() for m in model.modules() if isinstance(m, BitLinear))
    assert cfg.non_embedding_params() == linear


def test_dropout_acts_in_training_only():
    model = build_model("lm", ModelConfig(n_layers=1, d_model=256, ffn_dim=256, dropout=0.3))
    tokens = torch.randint(0, 256, (2, 16))
    model.train()
    assert not torch.equal(model(tokens), model(tokens))
    model.eval()
    assert torch.equal(model(tokens), model(tokens))
