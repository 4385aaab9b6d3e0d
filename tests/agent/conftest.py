"""The scripted LLM: replies are injected at the litellm boundary, nowhere else."""

import pytest


@pytest.fixture
def scripted_llm(monkeypatch):
    """`script(reply, ...)`: each litellm.completion call consumes one reply — a string that
    litellm returns as the model's content (its own `mock_response`), or an exception to raise.
    Returns the list of calls (their messages) for assertions."""
    import os

    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    real = litellm.completion
    replies: list = []
    calls: list = []

    def completion(**kwargs):
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
