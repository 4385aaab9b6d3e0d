"""Experiments run concurrently on a pool of workers; only the LLM's replies are scripted."""

import json

import pytest

from magnet.agent.session import SessionRunner
from magnet.agent.state import Budget, Settings
from magnet.tools.llm import Llm
from tests.conftest import TINY

INTAKE = '{"task": "direction", "dataset": "sp500", "metric": "balanced_accuracy"}'
PLANS = [
    json.dumps({"hypothesis": f"lr {lr}", "changes": [{"key": "lr", "value": lr}]})
    for lr in (0.001, 0.003)
]


@pytest.fixture
def ray_cluster():
    """A local Ray instance of 2 CPUs for one test; the session joins it with --ray auto."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield "auto"
    ray.shutdown()


@pytest.mark.integration
@pytest.mark.parametrize(
    "cluster", [None, pytest.param("ray_cluster", marks=pytest.mark.slow)], ids=["here", "ray"]
)
def test_two_workers_run_a_rung_at_once_and_the_scale_up_alone(
    tmp_path, scripted_llm, cluster, request
):
    address = cluster and request.getfixturevalue(cluster)
    runner = SessionRunner(tmp_path / "home", Llm("openai/scripted"))
    scripted_llm(INTAKE, *PLANS)
    budget = Budget(max_experiments=5, wall_minutes=1.0)
    settings = Settings(approve="auto", steps=40, fixed=TINY, budget=budget, scaleup=0.4, workers=2)
    settings = settings.model_copy(update={"ray": address})
    sid, pending = runner.start("predict tomorrow's S&P 500 direction", settings)
    assert pending is None
    state = runner.state(sid)
    done = state.experiments
    assert sorted(e.number for e in done) == list(range(5)) and not state.running
    assert all(e.status == "ok" and e.value is not None for e in done)
    assert [e.kind for e in done][-1] == "scaleup" and state.expert.experiment_id == done[-1].id
    events = [e for e in runner.traces.events(sid) if e.node in ("run", "collect")]
    order = [(e.node, e.text.split(" · ")[0]) for e in events]
    # the second seed starts before the first is collected: two in flight at once
    assert order[:3] == [("run", "exp 0"), ("run", "exp 1"), ("collect", "exp 0")] or order[:3] == [
        ("run", "exp 0"),
        ("run", "exp 1"),
        ("collect", "exp 1"),
    ]
    # the scale-up starts only once every search run was collected, and runs alone
    started = [i for i, (node, _) in enumerate(order) if node == "run"]
    assert sum(node == "collect" for node, _ in order[: started[-1]]) == 4
    assert "2 at once" in state.schedule.describe()
    ray_tasks = [e.text for e in events if "a Ray task" in e.text]
    assert ray_tasks == ([] if address is None else [e.text for e in events if e.node == "run"])
    if address:  # the search's runs on a CPU each, the scale-up on the whole node
        assert all("a Ray task of 1 CPU" in t for t in ray_tasks[:-1])
        assert "a Ray task of 2 CPUs" in ray_tasks[-1]


@pytest.mark.integration
def test_an_approved_run_starts_at_once_and_the_dashboard_says_which_worker_runs_it(tmp_path):
    from magnet.agent.ui.views import Board

    home = tmp_path / "home"
    runner = SessionRunner(home, Llm("openai/scripted"))
    budget = Budget(max_experiments=3, wall_minutes=2.0)
    settings = Settings(
        approve="ask", steps=200, fixed=TINY, budget=budget, scaleup=0, workers=2, policy="random"
    )
    sid, card = runner.start("predict tomorrow's S&P 500 direction", settings)
    assert card.hypothesis.startswith("baseline")
    card = runner.resume(sid, {"action": "accept"})  # the first seed starts; the next card comes
    assert card is not None and "seed" in [c.key for c in card.changes]
    [running] = Board(home).session(sid).running
    assert running.number == 0 and running.worker == "worker 1 of 2, 1 thread"
    assert runner.resume(sid, {"action": "accept", "rest_of_rung": True}) is None
    started = [e.text for e in runner.traces.events(sid) if e.node == "run"]
    assert "worker 1 of 2 (1 running)" in started[0] and "worker 2 of 2 (2 running)" in started[1]
    assert not Board(home).session(sid).running
