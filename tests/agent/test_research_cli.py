"""The research commands as a user runs them: separate processes on one MAGNET_HOME.

The LLM here is unreachable (a closed local port), so intake falls back to its keyword rules
and the first two plans are baselines, which need no LLM: nothing is scripted.
"""

import json
import os
import re
import subprocess
import sys
import time

import pytest

from magnet.agent.traces import TraceStore
from tests.conftest import TINY, magnet, words

GOAL = "predict the S&P 500 direction"
NO_LLM = ["--model", "openai/unreachable", "--api-base", "http://127.0.0.1:9"]


def sessions(home) -> list[dict]:
    result = magnet("sessions", "--json", home=home)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_an_llm_that_fails_its_preflight_stops_the_session_before_anything_is_made(tmp_path):
    home = tmp_path / "home"
    refused = magnet("research", GOAL, *NO_LLM, home=home)
    [line] = refused.stderr.strip().splitlines()  # one line, nothing else
    assert refused.returncode == 1 and line.startswith("Error: the LLM openai/unreachable at ")
    assert "at http://127.0.0.1:9 gave no usable answer" in line and "Connection" in line
    assert "Give Feedback" not in refused.stdout + refused.stderr  # litellm's own banner
    assert "--llm-optional" in line and sessions(home) == []
    bad = magnet("research", GOAL, "--scale-up", "1.5", home=home)
    assert bad.returncode == 2 and "Invalid value for '--scale-up'" in bad.stderr


def test_a_plain_search_policy_needs_no_llm(tmp_path):
    home = tmp_path / "home"
    started = magnet("research", GOAL, *NO_LLM, "--policy", "random", "--steps", "3", home=home)
    assert started.returncode == 0, started.stderr  # the unreachable LLM is never asked
    card = " ".join(started.stdout.split())
    assert "LLM not used: --policy random: its sampler alone, no failure rules" in card
    assert sessions(home)[0]["status"] == "waiting"
    # --workers auto (the default): a probe of this machine chose, said in the trace
    assert re.search(
        r"--workers auto: \d workers? of \d threads? \(a step [\d.]+ s on 1", started.stderr
    )
    bad = magnet("research", GOAL, "--policy", "bayes", home=home)
    assert bad.returncode == 2 and "Invalid value for '--policy'" in bad.stderr


@pytest.mark.integration
def test_review_from_other_processes_approve_reject_watch_show(tmp_path):
    home = tmp_path / "home"
    settings = [a for s in words(TINY) for a in ("--set", s)]
    started = magnet(
        "research",
        GOAL,
        "--max-experiments",
        "2",
        "--steps",
        "3",
        "--scale-up",
        "0",
        *settings,
        *NO_LLM,
        "--llm-optional",
        "--workers",
        "1",
        home=home,
    )  # fmt: skip  (one at a time: each approval runs its experiment to the end)
    assert started.returncode == 0, started.stderr
    [session] = sessions(home)
    sid = session["id"]
    assert session["status"] == "waiting"
    assert f"magnet approve {sid}" in started.stdout and "baseline, seed 0" in started.stdout
    assert "plan: rung 0: 2 configs × 1 unit · no scale-up" in started.stdout
    # The LLM failed its preflight: said in the card and the trace, and the session went on.
    card = " ".join(started.stdout.split())  # the console wraps long lines
    assert (
        "LLM not used: going on with the search policy alone (--llm-optional): the LLM "
        "openai/unreachable at http://127.0.0.1:9 gave no usable answer" in card
    )
    assert "LLM not used: going on with the search policy alone" in started.stderr
    assert "intake" in started.stderr  # the live trace

    rejected = magnet("reject", sid, "--reason", "not yet", home=home)
    assert rejected.returncode == 0 and "waiting for review" in rejected.stdout
    assert json.loads(magnet("show", sid, "--json", home=home).stdout)["experiments"] == []

    # watch, from another process, follows the approved run and ends at the next review.
    approving = subprocess.Popen(
        [sys.executable, "-m", "magnet.agent.cli", "approve", sid, "--set", "lr=0.001"],
        env={**os.environ, "MAGNET_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    store = TraceStore(home / "magnet.db")
    while store.session(sid).status == "waiting" and approving.poll() is None:
        time.sleep(0.05)
    watched = magnet("watch", sid, "--interval", "0.2", home=home)
    assert approving.wait(timeout=120) == 0, approving.stderr.read()
    assert f"session {sid}: waiting for review" in watched.stdout
    assert " run done" in watched.stderr and " plan done" in watched.stderr

    shown = json.loads(magnet("show", sid, "--json", home=home).stdout)
    [first] = shown["experiments"]
    assert first["config"]["lr"] == 0.001 and shown["pending_review"]["config_diff"] == {"seed": 1}
    finished = magnet("approve", sid, home=home)
    assert finished.returncode == 0 and "# MAGNET report" in finished.stdout
    assert "- the LLM was not used: going on with the search policy alone" in finished.stdout
    assert "LLM: 0 calls, 0 failed, 0 fell back to the policy" in finished.stdout
    assert sessions(home)[0]["status"] == "done"
    full = magnet("watch", sid, "--json", home=home)
    events = [json.loads(x) for x in full.stdout.splitlines() if x.startswith("{")]
    assert events[0]["node"] == "intake" and events[-1]["node"] == "report"
    assert all(e["text"] for e in events) and "experiments" not in events[-1]["data"]
    again = magnet("approve", sid, home=home)
    assert again.returncode == 1 and "is done: no card to answer (report: " in again.stderr
    resumed = magnet("resume", sid, home=home)
    assert resumed.returncode == 0 and f"session {sid} is done; nothing to resume" in resumed.stdout
    assert sessions(home)[0]["status"] == "done"  # not "stopped", as it used to read


def test_unknown_session_is_one_error_line(tmp_path):
    for command in (["show", "nope"], ["resume", "nope"], ["reject", "nope", "--reason", "x"]):
        result = magnet(*command, home=tmp_path / "home")
        assert result.returncode == 1
        assert result.stderr.strip() == "Error: no session 'nope' (see `magnet sessions`)"
