"""The whole loop on real components; only the LLM's replies are scripted."""

import json
from contextlib import contextmanager
from pathlib import Path

import pytest

from magnet.agent.session import SessionRunner, saved_settings
from magnet.agent.state import Budget, Settings
from magnet.tools.bitnet.run_dir import RunDir
from magnet.tools.chain.ledger import Ledger
from magnet.tools.chain.verify import verify
from magnet.tools.llm import Llm
from tests.conftest import TINY

INTAKE = '{"task": "direction", "dataset": "sp500", "metric": "balanced_accuracy"}'
PLAN = '{"hypothesis": "a lower lr", "changes": [{"key": "lr", "value": 0.001}]}'


def start(runner, goal, approve, experiments, steps, fixed=TINY, scaleup=0.0, minutes=30):
    """A sp500 session of tiny models: (session id, pending card or None)."""
    budget = Budget(max_experiments=experiments, wall_minutes=minutes)
    settings = Settings(approve=approve, steps=steps, fixed=fixed, budget=budget, scaleup=scaleup)
    return runner.start(goal, settings)


@pytest.fixture
def runner(tmp_path):
    return SessionRunner(tmp_path / "home", Llm("openai/scripted"))


@pytest.mark.integration
def test_auto_approved_session_runs_to_a_report(runner, scripted_llm, tmp_path):
    runner.deps.chain = Ledger()  # a real anvil on 127.0.0.1, started per record
    scripted_llm(INTAKE, PLAN)
    sid, pending = start(
        runner, "predict tomorrow's S&P 500 direction", "auto", experiments=4, steps=6,
        scaleup=0.4, minutes=1.2,
    )  # fmt: skip
    assert pending is None
    state = runner.state(sid)
    done = state.experiments
    assert [e.diff for e in done[:3]] == [{"seed": 0}, {"seed": 1}, {"lr": 0.001}]
    assert [e.kind for e in done] == ["baseline", "baseline", "planned", "scaleup"]
    assert all(e.status == "ok" and e.value is not None for e in done)
    # Each run is judged against the best of its rung before it; the first has nothing to beat.
    assert done[0].best_before is None and done[1].best_before == done[0].value
    assert done[0].verdict == "first"
    # The winner of rung 0 is trained further and is the expert, scored once on test.
    expert = done[3]
    winner = max(done[:3], key=lambda e: e.value)
    assert expert.parent == winner.id and expert.steps > winner.steps
    assert expert.config == winner.config and expert.best_before == winner.value
    started = RunDir(expert.run_dir).config().init_from  # from the winner's trained weights
    assert started == str(Path(winner.run_dir).resolve())
    assert state.best.experiment_id == expert.id == state.expert.experiment_id
    test = state.expert.test
    assert test.split == "test" and test.unit == "days" and test.low <= test.value <= test.high
    assert state.stop_reason.startswith("the scale-up ran")
    assert state.schedule.rungs[0].configs == 3 and state.schedule.scaleup == 0.4
    report = state.report
    assert "# MAGNET report" in report and "| 2 | 0 | lr=0.001 | ok |" in report
    assert "| 3 | scale-up | " in report
    assert "![val balanced_accuracy against cumulative training compute](compute.png)" in report
    png = runner.deps.home / "sessions" / sid / "compute.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    # The expert's test score leads, against the classical anchors' test scores.
    assert report.splitlines()[2].startswith("- **expert**: exp 3 · scale-up")
    assert f"FLOPs from exp {winner.number}'s weights: " in report.splitlines()[2]
    assert "95% bootstrap over" in report and "- **against " in report
    assert "classical baseline majority class: val 0.5, test 0.5" in report
    assert state.spec.target > 0.5 and len(state.baselines) == 2
    events = runner.traces.events(sid)
    llm = [e for e in events if e.kind == "llm"]
    assert [(e.node, e.text) for e in llm] == [("intake", "LLM intake: answered")] * 1 + [
        ("plan", "LLM plan: answered")
    ]
    assert "\nLLM: 2 calls, 0 failed, 0 fell back to the policy\n" in report
    last = report.rstrip().splitlines()[-1]  # the result, where a terminal leaves it
    assert (
        last.startswith("expert: test balanced_accuracy ")
        and " · majority class: test 0.5 [" in last
    )
    events = [e for e in events if e.kind != "llm"]
    nodes = [e.node for e in events]
    assert nodes[:6] == ["intake", "data", "baselines", "decide", "decide", "plan"]
    assert nodes[-1] == "report"
    assert events[3].kind == "schedule" and "rung 0: 3 configs" in events[3].text
    assert all(e.text and "{" not in e.text for e in events if e.kind == "done")  # readable
    [judged] = [e.text for e in events if e.node == "evaluate" and "lr=0.001" in e.text]
    assert judged.startswith("exp 2 · lr=0.001 · ") and "balanced_accuracy · " in judged
    assert "(vs " in judged and "noise ±" in judged and judged.endswith(" s")
    rows = runner.deps.outbox.rows(sid)
    kinds = [r.kind for r in rows]
    assert kinds[0] == "dataset" and kinds.count("experiment") == 4
    assert 2 <= kinds.count("model") <= 4  # one per new best; the expert is one
    assert all(r.record_id is not None for r in rows)  # sent by the record node
    with Ledger().registry() as registry:
        assert {c.status for c in verify(runner.deps.outbox, registry, sid)} == {"ok"}
    assert runner.deps.memory.already_tried(done[2].config, "direction", "sp500")


@pytest.mark.integration
def test_nothing_runs_before_approval_and_a_rejection_goes_back_to_plan(runner, scripted_llm):
    scripted_llm(INTAKE)
    sid, card = start(runner, "predict the S&P 500 direction", "ask", experiments=1, steps=4)
    assert card.config_diff == {"seed": 0}
    assert card.responses == ["accept", "edit", "reject", "respond"]
    assert card.plan.startswith("rung 0: 1 config × 1 unit · no scale-up")
    session_dir = runner.deps.home / "sessions" / sid
    assert not list(session_dir.glob("exp-*"))  # nothing ran
    saved = saved_settings(runner.deps.home, sid)  # what `magnet approve` makes its runner from
    assert saved.model == "openai/scripted" and saved.chain is None and saved.steps == 4
    card = runner.resume(sid, {"action": "reject", "text": "use a smaller batch"})
    assert card is not None and not list(session_dir.glob("exp-*"))
    rejected = runner.deps.memory.search("batch", verdict="rejected", session=sid)
    assert [h.finding.analysis for h in rejected] == [
        "rejected by the reviewer: use a smaller batch"
    ]
    assert runner.resume(sid, {"action": "edit", "set": {"lr": 5e-9}}) is None
    done = runner.state(sid).experiments
    assert len(done) == 1 and done[0].config["lr"] == 1e-4  # edited, then clipped
    events = runner.traces.events(sid)
    assert any(e.node == "review" for e in events) is False  # review writes no trace itself
    assert runner.state(sid).feedback == []


def test_each_experiment_runs_the_requested_steps_and_shows_its_progress(tmp_path, scripted_llm):
    seen = []

    @contextmanager
    def progress(exp_id, steps):
        seen.append((exp_id, steps, []))
        yield seen[-1][2].append

    runner = SessionRunner(tmp_path / "home", Llm("openai/scripted"), progress=progress)
    scripted_llm(INTAKE)
    sid, _ = start(runner, "predict the S&P 500 direction", "auto", experiments=1, steps=5)
    run_dir = runner.state(sid).experiments[0].run_dir
    result = json.loads((Path(run_dir) / "result.json").read_text())
    assert result["steps"] == 5
    [(exp_id, steps, records)] = seen
    assert exp_id == f"{sid}-000" and steps == 5
    assert [r["step"] for r in records if r["event"] == "train"][-1] == 5


def test_fixed_settings_are_never_searched(runner, scripted_llm):
    scripted_llm(
        INTAKE,
        '{"hypothesis": "deeper", '
        '"changes": [{"key": "n_layers", "value": 6}, {"key": "lr", "value": 0.001}]}',
        '{"candidate": null, "hypothesis": "deeper", "changes": [{"key": "n_layers", "value": 6}]}',
    )
    sid, _ = start(runner, "predict the S&P 500 direction", "auto", experiments=4, steps=3)
    *_, third, last = runner.state(sid).experiments
    assert third.diff == {"lr": 0.001}  # n_layers is fixed by TINY (n_layers=1)
    result = json.loads((Path(third.run_dir) / "config.json").read_text())
    assert result["model"]["n_layers"] == 1
    # A proposal of fixed settings only is no proposal: not a rerun of the best.
    assert last.kind == "planned" and last.diff and "n_layers" not in last.diff
    assert last.config["n_layers"] == 1  # the fixed value, in the config memory stored
    assert runner.deps.memory.already_tried(last.config, "direction", "sp500").id == last.id
    notes = [e.text for e in runner.traces.events(sid) if e.kind == "note"]
    assert any("n_layers fixed for this session" in n for n in notes)


@pytest.mark.integration
def test_a_two_domain_goal_trains_specialists_and_can_merge_them_again(runner, scripted_llm):
    scripted_llm(
        '{"task": "lm", "dataset": "shakespeare", "metric": "bits_per_byte"}',
        '{"candidate": null, "hypothesis": "TIES", "changes": [{"key": "merge", "value": "ties"}]}',
    )
    sid, _ = start(runner, "one expert for Python code and Shakespeare", "auto", 3, steps=4)
    state = runner.state(sid)
    baseline, _, remerged = state.experiments
    harness = baseline.harness
    assert baseline.status == "ok" and set(harness["val_bits_per_byte"]["merged"]) == {
        "shakespeare",
        "python-stdlib",
    }
    merged = harness["val_bits_per_byte"]["merged"].values()
    assert baseline.value == pytest.approx(sum(merged) / 2)
    # A change of the merge method alone re-merges the best run's specialists: no training.
    assert remerged.diff == {"merge": "ties"} and remerged.status == "ok"
    assert remerged.kind == "remerge"
    method = json.loads((Path(remerged.run_dir) / "merged" / "merge.json").read_text())
    assert method["method"] == "ties" and remerged.value is not None
    assert "## Domains" in state.report and "retention" in state.report


def test_a_record_node_run_again_adds_no_second_trial_and_state_reloads_cleanly(
    runner, scripted_llm, tmp_path
):
    import warnings

    scripted_llm(INTAKE, PLAN)
    sid, _ = start(runner, "predict the S&P 500 direction", "auto", experiments=3, steps=3)
    cfg = {"configurable": {"thread_id": sid}}
    [before] = [s for s in runner.graph.get_state_history(cfg) if s.next == ("record",)][:1]
    runner.graph.invoke(None, before.config)  # as a resume re-runs the node
    study = runner.deps.policy(runner.state(sid)).study
    told = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert len(told) == 3  # each experiment once, the baseline seeds included
    assert [r.kind for r in runner.deps.outbox.rows(sid)].count("experiment") == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every class in the state is registered
        again = SessionRunner(tmp_path / "home", Llm("openai/scripted")).state(sid)
    assert again.experiments[-1].diff == {"lr": 0.001} and again.best is not None


def test_a_session_from_before_settings_held_the_llm_and_chain_reads_them_from_its_summary(
    runner, scripted_llm
):
    scripted_llm(INTAKE)
    sid, _ = start(runner, "predict the S&P 500 direction", "ask", experiments=1, steps=4)
    state = runner.state(sid)
    old = state.settings.model_copy(update={"model": None, "api_base": None, "chain": None})
    runner.graph.update_state(runner.config(sid), {"settings": old})
    assert saved_settings(runner.deps.home, sid).model is None  # no summary says otherwise
    summary = {"model": "openai/old", "api_base": "http://127.0.0.1:9/v1", "chain": {}}
    runner.traces.update_session(sid, summary=summary)
    saved = saved_settings(runner.deps.home, sid)
    assert (saved.model, saved.api_base, saved.chain) == ("openai/old", summary["api_base"], None)
    runner.traces.update_session(sid, summary={"chain": {"chain_id": 31337}})
    assert saved_settings(runner.deps.home, sid).chain == Ledger(chain_id=31337)
