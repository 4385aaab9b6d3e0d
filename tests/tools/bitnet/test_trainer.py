import json

import pytest
import torch

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


def _task_and_model(task: str, data: str, settings: dict):
    """The trainer's config, task, a fresh model and the tokenizer, as `train` makes them."""
    from magnet.tools.bitnet.model import build_model
    from magnet.tools.bitnet.tasks import make_task
    from magnet.tools.bitnet.train import _prepared

    cfg, dataset, tok = _prepared(TrainRequest(task=task, data=data, settings=settings))
    harness_task = make_task(dataset, tok, cfg)
    cfg.model = cfg.model.model_copy(update=harness_task.model_fields(tok))
    return cfg, harness_task, build_model(task, cfg.model), tok


def test_keep_best_ends_with_the_best_evals_weights_not_the_last(tmp_path):
    from magnet.tools.bitnet.run_dir import RunDir
    from magnet.tools.bitnet.trainer import Trainer
    from magnet.tools.harness.evaluate import evaluate_run

    cfg, task, model, tok = _task_and_model("lm", "shakespeare", {**TINY, "keep_best": True})
    RunDir(tmp_path).write_setup(cfg, tok=tok)
    trainer = Trainer(model, task, cfg, tmp_path)
    trainer._evaluate()  # the first eval is the best so far: its weights are kept
    first = trainer.state["val"]["bits_per_byte"]
    with torch.no_grad():  # weights gone bad, as after an overfitting stretch
        for p in model.parameters():
            p.add_(torch.randn_like(p))
    trainer.state["step"] = 10
    trainer._evaluate()
    last = trainer.state["val"]["bits_per_byte"]
    assert last > first + 1
    outcome = trainer._finish("completed", 0.0, trainer._restore_best())
    assert outcome.message == (
        f"kept the weights of step 0 (bits_per_byte {first:.4g}); the last step's was {last:.4g}"
    )
    assert outcome.val["bits_per_byte"] == first
    # the checkpoint holds those weights: the harness's own evaluation finds the same value
    harness = evaluate_run(tmp_path, "val", "lm", "shakespeare")["bits_per_byte"]
    assert harness == pytest.approx(first, rel=1e-4)


def test_label_smoothing_raises_the_loss_of_a_confident_classifier():
    losses = []
    for smoothing in (0.0, 0.2):
        settings = {**TINY, "label_smoothing": smoothing, "class_weighted": False}
        _, task, model, _ = _task_and_model("classify", "sms-spam", settings)
        with torch.no_grad():
            model.head.bias.copy_(torch.tensor([20.0, 0.0]))  # all but certain of class 0
        # a batch of mostly the majority class: smoothing costs it more than it saves the rest
        losses.append(task.loss(model, task.train_batch(torch.Generator().manual_seed(0))).item())
    assert losses[1] > losses[0]


def test_a_classifier_with_the_llm_tokenizer_starts_from_the_llms_vectors(tmp_path):
    from magnet.tools.bitnet.checkpoint import load_checkpoint
    from magnet.tools.bitnet.model import build_model
    from magnet.tools.bitnet.run_dir import RunDir
    from magnet.tools.errors import ConfigError

    settings = {**TINY, "tokenizer": "smollm2", "lr": 1e-9, "eval_every": 5}
    out = tmp_path / "r"
    train(TrainRequest(task="classify", data="sms-spam", steps=1, out=out, settings=settings))
    run = RunDir(tmp_path / "r")
    tok, cfg = run.tokenizer(), run.config()
    assert tok.kind == "smollm2" and cfg.model.vocab_size == tok.vocab_size < 20_000
    model = build_model("classify", cfg.model)
    load_checkpoint(run.checkpoint, model)
    start = torch.from_numpy(tok.embeddings(cfg.model.d_model))
    assert torch.allclose(model.embed.weight, start, atol=1e-6)  # one step at lr 1e-9
    with pytest.raises(ConfigError, match="for classifiers"):
        train(TrainRequest(task="lm", data="shakespeare", steps=1, settings=settings))
