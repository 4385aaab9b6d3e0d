"""kill -9 of a research process mid-experiment; a new process resumes the session."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from magnet.agent.session import SessionRunner
from magnet.tools.bitnet.run_dir import RunDir
from magnet.tools.llm import Llm
from tests.conftest import TINY

INTAKE = '{"task": "lm", "dataset": "shakespeare", "metric": "bits_per_byte"}'
PLAN = '{"hypothesis": "a lower lr", "changes": [{"key": "lr", "value": 0.001}]}'
SETTINGS = {**TINY, "batch_size": 16, "seq_len": 128, "checkpoint_every": 10, "eval_every": 50}

STARTER = """
import os, sys, litellm
from pathlib import Path
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
real, replies = litellm.completion, ['{{"ok": true}}', {intake!r}]  # preflight, intake
litellm.completion = lambda **kw: real(**kw, mock_response=replies.pop(0))  # scripted LLM
from magnet.tools.llm import Llm
from magnet.agent.session import SessionRunner
from magnet.agent.state import Budget, Settings
runner = SessionRunner(Path(sys.argv[1]), Llm("openai/scripted"))
runner.start("write like Shakespeare", Settings(approve="auto", budget=Budget(max_experiments=3),
             fixed={settings!r}, steps=120, scaleup=0, workers={workers}))
"""


@pytest.mark.integration
def test_a_killed_session_resumes_without_losing_or_repeating_work(tmp_path, scripted_llm):
    home = tmp_path / "home"
    code = textwrap.dedent(STARTER).format(intake=INTAKE, settings=SETTINGS, workers=1)
    proc = subprocess.Popen([sys.executable, "-c", code, str(home)])
    in_flight = None
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        found = sorted(home.glob("sessions/*/exp-001/run/checkpoint.safetensors"))
        if found:
            in_flight = found[0].parents[1]
            break
        time.sleep(0.1)
    assert in_flight is not None, "the second experiment never checkpointed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    first = in_flight.parent / "exp-000" / "run" / "result.json"
    first_mtime = first.stat().st_mtime
    assert not (in_flight / "run" / "result.json").exists()

    scripted_llm(PLAN)
    runner = SessionRunner(home, Llm("openai/scripted"))
    sid = runner.traces.sessions()[0].id
    assert runner.traces.session(sid).status == "stopped"
    assert runner.resume(sid) is None
    done = runner.traces.session(sid)
    assert done.status == "done" and runner.finished(sid)
    # Resuming a finished session changes nothing: same status, summary and trace.
    events = runner.traces.events(sid)
    assert runner.resume(sid) is None
    assert runner.traces.session(sid) == done and runner.traces.events(sid) == events
    state = runner.state(sid)
    assert [e.diff for e in state.experiments] == [{"seed": 0}, {"seed": 1}, {"lr": 0.001}]
    assert first.stat().st_mtime == first_mtime  # the finished experiment was not re-run
    steps = [r.step for r in RunDir(in_flight / "run").metrics() if r.event == "train"]
    assert steps == list(range(1, 121))  # resumed from its checkpoint: no gap, no repeat
    assert state.settings.budget.max_experiments == 3 and state.stop_reason
    assert [r.kind for r in runner.deps.outbox.rows(sid)].count("experiment") == 3


@pytest.mark.integration
def test_a_session_killed_with_two_runs_in_flight_runs_each_once(tmp_path, scripted_llm):
    """kill -9 while the third experiment trains beside another: every finished run is kept,
    every unfinished one continues from its checkpoint, none runs twice."""
    home = tmp_path / "home"
    code = textwrap.dedent(STARTER).format(intake=INTAKE, settings=SETTINGS, workers=2)
    proc = subprocess.Popen([sys.executable, "-c", code, str(home)])
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if list(home.glob("sessions/*/exp-002/run/checkpoint.safetensors")):
            break
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    [session] = home.glob("sessions/*")
    results = {p.parents[1].name: p.stat().st_mtime for p in session.glob("exp-*/run/result.json")}
    assert "exp-002" not in results and len(results) >= 1  # one finished, one in flight or two

    scripted_llm(PLAN)
    runner = SessionRunner(home, Llm("openai/scripted"))
    sid = runner.traces.sessions()[0].id
    assert runner.resume(sid) is None and runner.finished(sid)
    state = runner.state(sid)
    assert sorted(e.number for e in state.experiments) == [0, 1, 2] and not state.running
    assert all(e.status == "ok" for e in state.experiments)
    for name, mtime in results.items():  # a finished run was not run again
        assert (session / name / "run" / "result.json").stat().st_mtime == mtime
    for e in state.experiments:  # each trained its 120 steps once: no gap, no repeat
        steps = [r.step for r in RunDir(e.run_dir).metrics() if r.event == "train"]
        assert steps == list(range(1, 121)), e.id
    assert [r.kind for r in runner.deps.outbox.rows(sid)].count("experiment") == 3
