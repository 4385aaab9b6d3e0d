import pytest

from magnet.tools.bitnet.config import DEFAULT_LR, DEFAULT_STEPS, make_config
from magnet.tools.errors import ConfigError


def test_defaults_follow_the_linear_kind():
    assert make_config("lm", "x").lr == DEFAULT_LR["ternary"]
    assert make_config("lm", "x", linear="fp").lr == DEFAULT_LR["fp"]
    assert make_config("lm", "x").steps == DEFAULT_STEPS


def test_overrides_reach_train_and_model_settings():
    cfg = make_config("lm", "x", overrides=["lr=1e-3", "d_model=512", "n-layers=6"])
    assert cfg.lr == 1e-3 and cfg.model.d_model == 512 and cfg.model.n_layers == 6


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(overrides=["colour=blue"]), "unknown override key 'colour'; known keys: batch_size"),
        (dict(overrides=["vocab_size=9"]), "unknown override key 'vocab_size'"),
        (dict(overrides=["lr"]), "not key=value"),
        (dict(overrides=["lr=fast"]), "lr: Input should be a valid number"),
        (dict(overrides=["d_model=100"]), "d_model=100 must be a multiple of 256"),
        (dict(steps=0), "steps: Input should be greater than 0"),
        (dict(budget_seconds=0), "budget_seconds: Input should be greater than 0"),
        (dict(steps=5, budget_seconds=5), "not both"),
    ],
)
def test_bad_settings_are_one_clear_error(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        make_config("lm", "x", **kwargs)
