import json

import pytest

from magnet.tools.bitnet.config import make_config
from magnet.tools.bitnet.train import TrainRequest, resume_run, train
from magnet.tools.bitnet.trainer import diverging, lr_at
from magnet.tools.errors import RunDirError
from tests.conftest import TINY


def test_two_stage_schedule():
    cfg = make_config(
        "lm",
        "x",
        steps=100,
        settings={"warmup_steps": 10, "lr": 0.001, "stage2_start": 0.5, "stage2_lr_scale": 0.2},
    )
    assert lr_at(cfg, 0, 0.0) == (pytest.approx(1e-4), 0.1)  # warmup
    assert lr_at(cfg, 10, 0.1)[0] < 1e-3
    lr_end1, wd1 = lr_at(cfg, 49, 0.4999)
    lr_start2, wd2 = lr_at(cfg, 50, 0.5)
    assert lr_end1 == pytest.approx(2e-4, rel=1e-3) and wd1 == 0.1
    assert lr_start2 == pytest.approx(2e-4) and wd2 == 0.0
    assert lr_at(cfg, 99, 0.99)[0] == pytest.approx(2e-4 * 0.02)  # linear to zero


def test_a_short_run_warms_up_within_a_tenth_of_itself():
    cfg = make_config("lm", "x", steps=13, settings={"warmup_steps": 30, "lr": 0.001})
    assert lr_at(cfg, 0, 0.0)[0] == pytest.approx(1e-3 / 30)
    assert lr_at(cfg, 2, 2 / 13)[0] == pytest.approx(
        lr_at(cfg.model_copy(update={"warmup_steps": 0}), 2, 2 / 13)[0]
    )


@pytest.mark.parametrize(
    "task,data", [("lm", "shakespeare"), ("classify", "sms-spam"), ("direction", "sp500")]
)
def test_each_task_trains_and_writes_a_complete_run_directory(tmp_path, task, data):
    out = tmp_path / "run"
    events = []
    result = train(
        TrainRequest(task=task, data=data, steps=12, out=out, settings={**TINY, "eval_every": 6}),
        events.append,
    )
    assert result.status == "completed" and result.steps == 12
    for name in (
        "config.json",
        "dataset.json",
        "metrics.jsonl",
        "checkpoint.safetensors",
        "result.json",
    ):
        assert (out / name).exists(), name
    records = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if r["event"] == "train"] == list(range(1, 13))
    assert [r["step"] for r in records if r["event"] == "eval"] == [6, 12]
    assert result.primary_value == result.val[result.primary_metric]
    assert "status: completed" in result.summary()
    assert any(e["event"] == "start" for e in events)


def test_lm_loss_goes_down():
    result = train(
        TrainRequest(
            task="lm", data="shakespeare", steps=40, settings={**TINY, "lr": 0.003, "batch_size": 8}
        )
    )
    records = [
        json.loads(x) for x in (result.run_dir / "metrics.jsonl").read_text().split("\n") if x
    ]
    losses = [r["loss"] for r in records if r["event"] == "train"]
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 1.0
    assert result.val["bits_per_byte"] < 6.0


def test_a_huge_learning_rate_ends_as_diverged_with_the_last_good_checkpoint(tmp_path):
    out = tmp_path / "run"
    result = train(
        TrainRequest(
            task="lm",
            data="shakespeare",
            steps=60,
            out=out,
            settings={
                **TINY,
                "lr": 50,
                "grad_clip": 1000000000.0,
                "warmup_steps": 0,
                "checkpoint_every": 1,
            },
        )
    )
    assert result.status == "diverged"
    assert "diverged at step" in result.message and result.steps < 60
    assert json.loads((out / "result.json").read_text())["status"] == "diverged"


def test_a_finished_run_directory_is_neither_reused_nor_resumed(tmp_path):
    out = tmp_path / "run"
    train(TrainRequest(task="direction", data="sp500", steps=2, out=out, settings=TINY))
    with pytest.raises(RunDirError, match="already exists"):
        train(TrainRequest(task="direction", data="sp500", steps=2, out=out, settings=TINY))
    with pytest.raises(RunDirError, match="already complete"):
        resume_run(out)


def test_bpe_tokenizer_is_saved_with_the_run(tmp_path):
    result = train(
        TrainRequest(
            task="lm",
            data="shakespeare",
            steps=2,
            out=tmp_path / "r",
            settings={**TINY, "tokenizer": "bpe", "bpe_vocab": 512},
        )
    )
    assert json.loads((tmp_path / "r" / "tokenizer.json").read_text())["model"]["type"] == "BPE"
    assert result.status == "completed"


def test_a_wall_time_budget_ends_the_run(tmp_path):
    result = train(
        TrainRequest(
            task="direction", data="sp500", budget_seconds=2.0, out=tmp_path / "r", settings=TINY
        )
    )
    assert result.status == "completed"
    assert 2.0 <= result.elapsed_s < 10 and result.steps > 1


def test_resume_of_a_damaged_run_directory_is_a_clear_error(tmp_path):
    out = tmp_path / "r"
    train(TrainRequest(task="direction", data="sp500", steps=2, out=out, settings=TINY))
    (out / "result.json").unlink()
    (out / "checkpoint.safetensors").write_bytes(b"not a checkpoint")
    with pytest.raises(RunDirError, match="cannot read checkpoint"):
        resume_run(out)
    (out / "config.json").write_text("{")
    with pytest.raises(RunDirError, match="no readable config.json") as e:
        resume_run(out)
    assert "\n" not in str(e.value)
    with pytest.raises(RunDirError, match="not a run directory"):
        resume_run(tmp_path / "missing")


def test_divergence_needs_a_large_relative_and_absolute_rise():
    assert not diverging(ema=0.35, best=0.1, factor=3)  # a classifier's bad batch
    assert diverging(ema=7.0, best=2.0, factor=3)  # an LM blowing up
    assert not diverging(ema=5.0, best=2.0, factor=3)
