"""One whole session on the embedded local model: nothing scripted (slow: ~1-2 minutes)."""

import json

import pytest

from tests.conftest import TINY, magnet, words


@pytest.mark.slow
def test_a_session_on_the_local_model_runs_to_a_report(tmp_path):
    home = tmp_path / "home"
    settings = [a for s in words(TINY) for a in ("--set", s)]
    result = magnet(
        "research",
        "classify scam messages",
        "--approve",
        "auto",
        "--max-experiments",
        "3",
        "--steps",
        "20",
        "--scale-up",
        "0",
        *settings,
        home=home,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    assert "# MAGNET report" in result.stdout
    [session] = json.loads(magnet("sessions", "--json", home=home).stdout)
    shown = json.loads(magnet("show", session["id"], "--json", home=home).stdout)
    assert session["status"] == "done" and len(shown["experiments"]) == 3
    intake = next(e for e in shown["trace"] if e["node"] == "intake")
    assert intake["data"]["spec"]["dataset"] == "sms-spam"
    planned = shown["experiments"][2]
    assert planned["status"] == "ok" and "seed" not in planned["diff"]
    assert intake["data"]["tokens"] > 0  # the local model answered through litellm
