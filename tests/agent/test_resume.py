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
PLAN = '{"hypothesis": "a lower lr", "config_diff": {"lr": 0.001}}'
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
             fixed={settings!r}, steps=120, scaleup=0))
"""


@pytest.mark.integration
def test_a_killed_session_resumes_without_losing_or_repeating_work(tmp_path, scripted_llm):
    home = tmp_path / "home"
    code = textwrap.dedent(STARTER).format(intake=INTAKE, settings=SETTINGS)
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
