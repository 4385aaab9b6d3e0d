"""The report's estimate of the budget that would pass the classical baseline."""

from pathlib import Path

from magnet.agent.nodes.report import _budget_to_pass, _versus_baselines, picks
from magnet.agent.state import Best, Experiment, ResearchSpec, ResearchState
from magnet.tools.harness.baselines import Baseline


def _state(values: list[float], xz: float) -> ResearchState:
    """Runs of 1e12 FLOPs each with the given val bits/byte, over 600 working seconds."""
    runs = [
        Experiment(
            id=f"s-{n:03d}",
            kind="planned",
            rung=0,
            diff={},
            config={},
            status="ok",
            value=v,
            flops=1e12,
            run_dir=Path("x"),
        )  # fmt: skip
        for n, v in enumerate(values)
    ]
    best = min(runs, key=lambda e: e.value)
    return ResearchState(
        session_id="s", goal="g", experiments=runs, elapsed_s=600,
        spec=ResearchSpec(task="lm", dataset="shakespeare", metric="bits_per_byte"),
        baselines=[Baseline(name="xz", metric="bits_per_byte", val=xz, test=xz)],
        best=Best(experiment_id=best.id, config={}, value=best.value, run_dir=Path("x")),
    )  # fmt: skip


def test_a_curve_that_improves_per_doubling_says_how_much_compute_passes_the_baseline():
    # Best val at 1, 2 and 4e12 cumulative FLOPs: 3.0, 2.9, 2.8 (-0.1 a doubling; a worse run
    # between them is not on the curve). xz's 2.6 is two more doublings: 4x of the 4e12 here.
    state = _state([3.0, 2.9, 3.1, 2.8], xz=2.6)
    said = _budget_to_pass(state)
    assert said.startswith("about 4x this session's compute")
    assert "roughly 40 minutes" in said  # 4x the session's 600 s
    assert "what would pass it" in "\n".join(_versus_baselines(state))


def test_a_flat_or_far_curve_says_it_does_not_get_there():
    assert "does not get there within 100x" in _budget_to_pass(_state([3.0, 2.99], xz=2.0))
    assert "too few improving runs" in _budget_to_pass(_state([3.0, 3.1], xz=2.0))
    beaten = _state([3.0, 2.5], xz=2.6)  # the session beats xz: nothing to estimate
    assert "what would pass it" not in "\n".join(_versus_baselines(beaten))


def test_a_val_already_past_the_baseline_is_not_sent_to_more_compute():
    # emoji-groups in the wide bench: val past TF-IDF's, test short of it; the fit said "0.91x"
    said = _budget_to_pass(_state([3.0, 2.5], xz=2.6))
    assert said.startswith("not more compute: the best val (2.5) already reaches xz's (2.6)")


def test_the_report_says_where_the_llms_picks_placed_against_the_policys():
    # Five rung-0 runs, bits/byte: the LLM's picks are the best (2.5) and the second (2.9);
    # the policy's the two worst (3.1, 3.2); the seed (3.0) is nobody's: places 0 and 0.25 against
    # 0.75 and 1.
    state = _state([3.0, 2.5, 3.1, 2.9, 3.2], xz=2.0)
    for e, who in zip(state.experiments, [None, "llm", "policy", "llm", "policy"], strict=True):
        e.picked_by = who
    assert picks(state) == [
        "rung 0, where the picks placed (0 best, 1 worst, of 5): llm 2 at 0.12, policy 2 at 0.88"
    ]
    for e in state.experiments:
        e.picked_by = None if e.picked_by == "llm" else e.picked_by
    assert picks(state) == []  # no LLM pick: nothing to compare
