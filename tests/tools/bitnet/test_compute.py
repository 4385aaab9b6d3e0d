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


def test_classifier_and_direction_steps_count_the_tokens_their_batches_really_hold():
    from magnet.tools.bitnet.compute import expected_longest, tokens_per_step
    from magnet.tools.datasets import load_dataset

    assert expected_longest([2, 4], 1) == 3.0  # one row: the mean length
    assert expected_longest([2, 4], 2) == 3.5  # the longer of two: 4 unless both are short
    assert 99 < expected_longest(list(range(1, 101)), 200) <= 100
    days = load_dataset("sp500", "direction").train.x.shape[1]
    direction = make_config("direction", "sp500", settings={"batch_size": 8, "seq_len": 256})
    assert tokens_per_step(direction) == 8 * days and days < 256  # the window, not seq_len
    texts = load_dataset("sms-spam", "classify").train.texts
    lengths = [min(max(len(t.encode()), 1), 256) for t in texts]
    sms = make_config("classify", "sms-spam", settings={"batch_size": 16, "seq_len": 256})
    assert tokens_per_step(sms) == 16 * expected_longest(lengths, 16) < 16 * 256
    assert train_flops(sms) < train_flops(make_config("classify", "x", settings={"batch_size": 16}))
