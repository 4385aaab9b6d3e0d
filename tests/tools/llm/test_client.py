import pytest
from pydantic import BaseModel, Field

from magnet.tools.llm import Llm


class Proposal(BaseModel):
    hypothesis: str
    lr: float = Field(gt=0, le=0.1)


def test_a_valid_answer_is_parsed_and_its_tokens_counted(scripted_llm):
    scripted_llm('{"hypothesis": "higher lr", "lr": 0.003}')
    answer = Llm("openai/scripted").ask("plan", "propose", Proposal)
    assert answer.value == Proposal(hypothesis="higher lr", lr=0.003)
    assert answer.attempts == 1 and answer.tokens > 0 and answer.errors == []


@pytest.mark.parametrize(
    "bad",
    [
        '{"hypothesis": "x", "lr": 5}',  # out of range
        "Sure! Here is a plan: raise the lr.",  # not JSON
        "I cannot help with that.",
    ],
)  # refusal text
def test_an_invalid_answer_is_retried_with_the_error(scripted_llm, bad):
    calls = scripted_llm(bad, '{"hypothesis": "fixed", "lr": 0.01}')
    answer = Llm("openai/scripted").ask("plan", "propose", Proposal)
    assert answer.value.hypothesis == "fixed" and answer.attempts == 2
    assert "invalid answer" in answer.errors[0]
    assert "That answer is invalid" in calls[1][-1]["content"]


def test_two_invalid_answers_give_none(scripted_llm):
    scripted_llm("{}", '{"lr": -1}')
    answer = Llm("openai/scripted").ask("plan", "propose", Proposal)
    assert answer.value is None and answer.attempts == 2 and len(answer.errors) == 2


def test_a_provider_exception_ends_the_attempts(scripted_llm):
    scripted_llm(RuntimeError("connection refused"))
    answer = Llm("openai/scripted").ask("plan", "propose", Proposal)
    assert answer.value is None and answer.attempts == 1
    assert "RuntimeError: connection refused" in answer.errors[0]


def test_the_model_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("MAGNET_MODEL", "anthropic/claude-x")
    assert Llm().model == "anthropic/claude-x"
    assert Llm("openai/m").model == "openai/m"


@pytest.mark.slow
def test_the_embedded_local_model_answers_schema_valid_json():
    answer = Llm("local/smollm2-135m-instruct").ask(
        "plan", "Propose a learning rate for a small model.", Proposal
    )
    # Grammar-constrained output always parses (an answer cut short does not): the value
    # may still fail a range check, which is the only error allowed here.
    assert not [e for e in answer.errors if "Invalid JSON" in e], answer.errors
    assert answer.tokens > 0


@pytest.fixture
def openai_server():
    """A keyless OpenAI-compatible endpoint on 127.0.0.1 (as Ollama or llama.cpp serve one):
    answers every chat completion with one scripted JSON reply and records the headers."""
    import json

    reply = {
        "id": "x",
        "object": "chat.completion",
        "created": 0,
        "model": "smol",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": '{"hypothesis": "h", "lr": 0.001}'},
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
    }
    server, url, seen = _serving(200, "application/json", json.dumps(reply).encode())
    yield url, seen
    server.shutdown()


def test_a_keyless_local_server_gets_a_placeholder_key_or_magnet_api_key(
    openai_server, monkeypatch
):
    url, seen = openai_server
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("MAGNET_API_KEY", raising=False)
    answer = Llm("openai/smol", api_base=url).ask("plan", "propose", Proposal)
    assert answer.value == Proposal(hypothesis="h", lr=0.001), answer.errors
    assert seen[-1]["authorization"] == "Bearer no-key"
    monkeypatch.setenv("MAGNET_API_KEY", "sk-local-secret")
    answer = Llm("openai/smol", api_base=url).ask("plan", "propose", Proposal)
    assert answer.value is not None and seen[-1]["authorization"] == "Bearer sk-local-secret"
    assert not any("sk-local-secret" in e for e in answer.errors)


def test_a_server_that_is_not_listening_is_a_connection_error_not_missing_credentials(
    monkeypatch,
):
    import socket

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with socket.socket() as s:  # a free loopback port, closed again: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    llm = Llm("openai/smol", api_base=f"http://127.0.0.1:{port}/v1")
    answer = llm.ask("plan", "propose", Proposal)
    assert answer.value is None and len(answer.errors) == 1
    assert "Missing credentials" not in answer.errors[0]
    assert "Connection" in answer.errors[0]


def _serving(status: int, content_type: str, body: bytes):
    """An HTTP server on 127.0.0.1 that answers every request with one fixed response:
    (server, its /v1 URL, the headers of each request it got)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen.append({k.lower(): v for k, v in self.headers.items()})
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1", seen


@pytest.mark.parametrize(
    ("status", "content_type", "body", "says"),
    [
        (401, "application/json", b'{"error": {"message": "invalid api key"}}', "invalid api key"),
        (200, "text/html", b"<html><body>a login page</body></html>", "Error"),
        (None, None, None, "Connection"),  # nothing listens on the port
    ],
)
def test_the_preflight_fails_in_one_line_naming_the_model_the_url_and_the_reason(
    status, content_type, body, says, monkeypatch
):
    import socket

    from magnet.tools.errors import LlmError

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    if status is None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            server, url = None, f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    else:
        server, url, _ = _serving(status, content_type, body)
    llm = Llm("openai/smol", api_base=url)
    with pytest.raises(LlmError) as e:
        llm.check()
    message = str(e.value)
    assert "\n" not in message and says in message
    assert message.startswith(f"the LLM openai/smol at {url} gave no usable answer")
    if server:
        server.shutdown()


def test_a_disabled_llm_asks_nothing_and_calls_are_logged_for_the_trace(scripted_llm):
    calls = scripted_llm('{"hypothesis": "h", "lr": 0.001}', "not json", "still not")
    llm = Llm("openai/scripted")
    assert llm.ask("plan", "propose", Proposal).value is not None
    assert llm.ask("plan", "propose", Proposal).value is None
    logged = llm.drain()
    assert [(c.name, c.ok) for c in logged] == [("plan", True), ("plan", False)]
    assert "invalid answer" in logged[1].error and llm.drain() == []
    llm.disabled = "its preflight failed"
    answer = llm.ask("plan", "propose", Proposal)
    assert answer.value is None and "LLM not used (its preflight failed)" in answer.errors[0]
    assert len(calls) == 3 and llm.drain() == []  # nothing was sent


@pytest.mark.integration
def test_the_local_model_served_by_llama_cpp_over_http_plans_through_litellm(monkeypatch):
    """The embedded SmolLM2, served as `magnet serve` serves a GGUF (llama.cpp's OpenAI-
    compatible server on 127.0.0.1), reached as `openai/NAME` + api_base, keyless."""
    from magnet.agent.goal import read_goal
    from magnet.agent.proposal import PlanContext, choose
    from magnet.tools.local_models import model_path
    from magnet.tools.search.policy import Candidate
    from tests.tools.export.test_serve import free_port, serving

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("MAGNET_API_KEY", raising=False)
    with serving(model_path("smollm2-135m-instruct"), free_port()) as url:
        llm = Llm("openai/smol", api_base=url)
        llm.check()
        spec, notes, tokens = read_goal("classify scam messages", llm)
        assert spec.task == "classify" and tokens > 0
        ctx = PlanContext(goal="classify scam messages", session_id="s", spec=spec)
        candidates = [Candidate({"lr": 0.001}, "lower lr"), Candidate({"batch_size": 32}, "b")]
        proposal, notes, tokens = choose(ctx, candidates, llm, lambda diff: None)
        assert tokens > 0 and proposal.config_diff
        assert all(c.name in ("preflight", "intake", "plan") for c in llm.drain())
