"""Training FLOPs per token, per run, and the steps that spend a given compute."""

from magnet.tools.bitnet.compute import flops_per_token, steps_for_flops, train_flops
from magnet.tools.bitnet.config import make_config


def test_flops_are_six_per_parameter_and_token_plus_attention():
    cfg = make_config("lm", "x", steps=10, settings={"batch_size": 4, "seq_len": 128})
    m = cfg.model
    expected = 6 * (m.non_embedding_params() + 256 * m.d_model + m.n_layers * 128 * m.d_model)
    assert flops_per_token(cfg) == expected
    assert train_flops(cfg) == expected * 4 * 128 * 10
    assert steps_for_flops(cfg, train_flops(cfg)) == 10
    assert steps_for_flops(cfg, 1.0) == 1  # never zero steps
