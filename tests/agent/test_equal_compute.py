"""The run node gives every experiment the default config's compute, not its steps."""

import pytest

from magnet.agent.nodes.run import _equal_compute
from magnet.agent.state import ResearchSpec, ResearchState, Settings
from magnet.tools.bitnet.compute import train_flops
from magnet.tools.bitnet.config import make_config


def _state(fixed=None, task="lm") -> ResearchState:
    spec = ResearchSpec(task=task, dataset="shakespeare", metric="bits_per_byte")
    return ResearchState(
        session_id="s", goal="g", spec=spec, settings=Settings(steps=100, fixed=fixed or {})
    )


def test_a_bigger_batch_or_model_gets_fewer_steps_for_the_same_compute():
    state = _state()
    steps, budget = _equal_compute(state, {})
    assert steps == 100
    assert _equal_compute(state, {"batch_size": 32}) == (50, budget)  # default batch is 16
    wide, same = _equal_compute(state, {"d_model": 512, "ffn_dim": 1536})
    assert same == budget and 20 < wide < 40
    assert _equal_compute(state, {"lr": 0.01}) == (100, budget)  # free knobs keep the steps


def test_fixed_settings_set_the_reference_and_bad_configs_keep_the_steps():
    fixed = {"batch_size": 8}
    steps, budget = _equal_compute(_state(fixed), {"batch_size": 8})
    assert steps == 100 and budget == pytest.approx(
        train_flops(make_config("lm", "x", steps=100, settings=fixed))
    )
    assert _equal_compute(_state(), {"d_model": 300}) == (100, None)  # the trainer says why


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
