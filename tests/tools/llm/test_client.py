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
    # Grammar-constrained output always parses; the value may still fail the range check.
    assert answer.value is not None or "invalid answer" in answer.errors[0]
    assert answer.tokens > 0
