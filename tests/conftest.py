"""Shared fixtures: an isolated MAGNET_HOME per test and a tiny model for fast training."""

import os
import subprocess
import sys

import pytest

# A model small enough that a 20-step run takes a few seconds on 2 cores.
TINY = {
    "n_layers": 1,
    "n_heads": 2,
    "d_model": 256,
    "ffn_dim": 256,
    "seq_len": 32,
    "batch_size": 4,
    "eval_batches": 2,
    "warmup_steps": 2,
    "log_every": 1,
}


def words(settings: dict) -> list[str]:
    """Settings as the command line takes them: key=value words."""
    return [f"{k}={v}" for k, v in settings.items()]


@pytest.fixture(autouse=True)
def magnet_home(tmp_path, monkeypatch, baseline_cache):
    home = tmp_path / "magnet-home"
    monkeypatch.setenv("MAGNET_HOME", str(home))
    monkeypatch.setenv("MAGNET_BASELINE_CACHE", str(baseline_cache))
    return home


@pytest.fixture(scope="session")
def baseline_cache(tmp_path_factory):
    """Classical baselines depend only on the data's content: compute each once per run
    (xz -9e over Shakespeare takes seconds; tests/tools/test_baselines.py uses its own)."""
    return tmp_path_factory.mktemp("baselines")


def magnet(*args, home=None, timeout=120) -> subprocess.CompletedProcess:
    """The real CLI in a fresh process, as a user would run it."""
    env = {**os.environ, **({"MAGNET_HOME": str(home)} if home else {})}
    return subprocess.run(
        [sys.executable, "-m", "magnet.agent.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


# The scripted LLM: replies are injected at the litellm boundary, nowhere else.
@pytest.fixture
def scripted_llm(monkeypatch):
    """`script(reply, ...)`: each litellm.completion call consumes one reply — a string that
    litellm returns as the model's content (its own `mock_response`), or an exception to raise.
    Returns the list of calls (their messages) for assertions."""
    import os

    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    from magnet.tools.llm.client import Ping

    real = litellm.completion
    replies: list = []
    calls: list = []

    def completion(**kwargs):
        if kwargs.get("response_format") is Ping:  # a session's preflight: the model is up
            return real(**kwargs, mock_response='{"ok": true}')
        calls.append(kwargs["messages"])
        reply = replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return real(**kwargs, mock_response=reply)

    monkeypatch.setattr(litellm, "completion", completion)

    def script(*new):
        replies.extend(new)
        return calls

    return script
