"""The run node gives every experiment the default config's compute, not its steps."""

import pytest

from magnet.agent.nodes.run import _equal_compute
from magnet.agent.state import ResearchSpec, ResearchState, Settings
from magnet.tools.bitnet.compute import train_flops
from magnet.tools.bitnet.config import make_config
from magnet.tools.harness.config import ExperimentConfig
from magnet.tools.search.schedule import Rung, Schedule


def _state(fixed=None, task="lm") -> ResearchState:
    """A schedule whose unit is the default config's compute at 100 steps."""
    spec = ResearchSpec(task=task, dataset="shakespeare", metric="bits_per_byte")
    unit = train_flops(make_config(task, "shakespeare", steps=100, settings=fixed or {}))
    schedule = Schedule(
        rungs=[Rung(configs=8, units=1)], budget_s=600, overhead_s=10, unit_train_s=20,
        unit_flops=unit,
    )  # fmt: skip
    return ResearchState(
        session_id="s", goal="g", spec=spec, settings=Settings(fixed=fixed or {}),
        schedule=schedule,
    )  # fmt: skip


def _compute(state: ResearchState, settings: dict) -> tuple[int, float | None]:
    return _equal_compute(state, ExperimentConfig.build("lm", "shakespeare", settings))


def test_a_bigger_batch_or_model_gets_fewer_steps_for_the_same_compute():
    state = _state()
    steps, budget = _compute(state, {})
    assert steps == 100
    assert _compute(state, {"batch_size": 32}) == (50, budget)  # default batch is 16
    wide, same = _compute(state, {"d_model": 512, "ffn_dim": 1536})
    assert same == budget and 20 < wide < 40
    assert _compute(state, {"lr": 0.01, "merge": "ties"}) == (100, budget)  # free knobs


def test_fixed_settings_set_the_reference():
    fixed = {"batch_size": 8}
    steps, budget = _compute(_state(fixed), {"batch_size": 8})
    assert steps == 100 and budget == pytest.approx(
        train_flops(make_config("lm", "x", steps=100, settings=fixed))
    )


def test_a_config_the_trainer_refuses_fails_with_its_words_and_starts_nothing(tmp_path):
    from magnet.agent.deps import Deps
    from magnet.agent.nodes.collect import collect
    from magnet.agent.nodes.run import run
    from magnet.agent.state import Proposal

    state = _state({"n_kv_heads": 4}).model_copy(
        update={"proposal": Proposal(kind="planned", hypothesis="h", config_diff={"n_heads": 2})}
    )
    deps = Deps(home=tmp_path, llm=None, traces=None)
    update, text = run(state, deps)
    assert "not started" in text and len(update["running"]) == 1
    update, text = collect(state.model_copy(update=update), deps)  # at once: nothing ran
    exp = update["current"]
    assert exp.status == "failed" and exp.sandbox is None and not exp.ok and not update["running"]
    assert exp.diagnosis.kind == "crash" and "n_kv_heads must divide" in exp.diagnosis.summary
    assert exp.config == {"n_heads": 2, "n_kv_heads": 4} and "not started" in text
    assert not (tmp_path / "sessions").exists()  # no run directory was made


def test_a_long_run_gets_a_wall_clock_from_the_rate_measured_not_the_default_timeout(tmp_path):
    from pathlib import Path

    from magnet.agent.deps import Deps
    from magnet.agent.nodes.run import _limits
    from magnet.agent.state import Experiment
    from magnet.sandboxes.limits import Limits

    deps = Deps(home=tmp_path, llm=None, traces=None, sandbox_limits=Limits(wall_seconds=600))
    state = _state()
    assert _limits(state, deps, 1e12) == deps.sandbox_limits  # nothing measured yet
    ran = Experiment(
        id="s-000", kind="baseline", diff={}, config={}, status="ok", value=1.0,
        seconds=40, flops=4e12, run_dir=Path("x"),
    )  # fmt: skip
    state = state.model_copy(update={"experiments": [ran]})
    assert _limits(state, deps, 4e12).wall_seconds == 600  # a unit: the default holds
    assert _limits(state, deps, 4e13).wall_seconds == 3 * 400  # ten units: 3 × 400 s


def test_the_scale_up_trains_for_the_seconds_left_and_counts_the_steps_it_ran(tmp_path):
    from magnet.agent.nodes.collect import _timed
    from magnet.agent.nodes.run import _scaled_up
    from magnet.agent.state import Experiment, Launch
    from magnet.tools.bitnet.compute import steps_for_flops
    from magnet.tools.bitnet.config import TrainConfig

    parent = Experiment(
        id="s-001", kind="planned", diff={}, config={}, status="ok", value=2.0, seconds=30,
        train_s=20, harness_s=2, flops=4e12, steps=100, run_dir=tmp_path,
    )  # fmt: skip
    state = _state().model_copy(update={"experiments": [parent], "elapsed_s": 200})
    config = ExperimentConfig.build("lm", "shakespeare", {})
    steps, flops, seconds = _scaled_up(state, config, parent, 100, 4e12)
    # 400 s of the 600 left, less a run's start-up and evaluation (30 - 20 + 2 × 2 s)
    assert seconds == pytest.approx(386)
    # the estimate at the measured 20 s per 4e12 FLOPs; the clock decides what it runs
    assert steps == steps_for_flops(config.train, 386 / 20 * 4e12)
    assert flops == pytest.approx(4e12 * steps / 100)
    timed = TrainConfig.model_validate(config.for_seconds(seconds).train.model_dump())
    assert (timed.steps, timed.budget_seconds) == (None, pytest.approx(386))
    launch = Launch(
        id="s-002", kind="scaleup", rung=1, diff={}, config={}, work_dir=tmp_path,
        steps=steps, flops=flops, train_seconds=seconds,
    )  # fmt: skip
    ran = [{"event": "train", "step": 50}, {"event": "checkpoint", "step": 2 * steps}]
    assert _timed(launch, ran) == {"steps": 2 * steps, "flops": pytest.approx(2 * flops)}
    assert _timed(launch.model_copy(update={"train_seconds": None}), ran) == {}
