import pytest

from magnet.tools.bitnet.config import DEFAULT_LR, DEFAULT_STEPS, make_config, parse_settings
from magnet.tools.errors import ConfigError


def test_defaults_follow_the_linear_kind():
    assert make_config("lm", "x").lr == DEFAULT_LR["ternary"]
    assert make_config("lm", "x", linear="fp").lr == DEFAULT_LR["fp"]
    assert make_config("lm", "x").steps == DEFAULT_STEPS


def test_settings_reach_train_and_model_settings():
    cfg = make_config("lm", "x", settings={"lr": 0.001, "d_model": 512, "n-layers": 6})
    assert cfg.lr == 1e-3 and cfg.model.d_model == 512 and cfg.model.n_layers == 6


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(settings={"colour": "blue"}), "unknown setting 'colour'; known keys: batch_size"),
        (dict(settings={"vocab_size": 9}), "unknown setting 'vocab_size'"),
        (dict(settings={"lr": "fast"}), "lr: Input should be a valid number"),
        (dict(settings={"d_model": 100}), "d_model=100 must be a multiple of 256"),
        (dict(steps=0), "steps: Input should be greater than 0"),
        (dict(budget_seconds=0), "budget_seconds: Input should be greater than 0"),
        (dict(steps=5, budget_seconds=5), "not both"),
    ],
)
def test_bad_settings_are_one_clear_error(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        make_config("lm", "x", **kwargs)


def test_command_line_settings_are_parsed_once_into_typed_values():
    assert parse_settings(["lr=1e-3", "n-layers=2", "tokenizer=bpe", "class_weighted=false"]) == {
        "lr": 0.001,
        "n_layers": 2,
        "tokenizer": "bpe",
        "class_weighted": False,
    }
    for bad, message in ((["lr"], "not key=value"), (["lr=fast"], "valid number")):
        with pytest.raises(ConfigError, match=message):
            parse_settings(bad)


def test_a_train_request_refuses_a_setting_the_trainer_does_not_have():
    from magnet.tools.bitnet.train import TrainRequest

    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        TrainRequest(task="lm", data="shakespeare", settings={"colour": "red"})
