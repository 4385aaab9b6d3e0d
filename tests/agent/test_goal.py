import json

import pytest

from magnet.agent.goal import read_goal
from magnet.tools.errors import UnsupportedGoal
from magnet.tools.llm import Llm

LLM = Llm("openai/scripted")


def test_the_llm_spec_is_used_when_it_fits(scripted_llm):
    scripted_llm(
        '{"task": "classify", "dataset": "sms-spam", "domain": "scams", '
        '"metric": "accuracy", "target": 0.95}'
    )
    spec, notes, tokens = read_goal("classify scam messages to 0.95", LLM)
    assert (spec.task, spec.dataset, spec.target) == ("classify", "sms-spam", 0.95)
    assert spec.metric == "balanced_accuracy"  # the harness metric, whatever the LLM said
    assert notes == [] and tokens > 0


def test_nonsense_from_the_llm_falls_back_to_keywords(scripted_llm):
    scripted_llm('{"task": "lm", "dataset": "imagenet", "metric": "x"}', "no idea")
    spec, notes, _ = read_goal("build a ternary Python-code expert", LLM)
    assert (spec.task, spec.dataset) == ("lm", "python-stdlib")
    assert any("keyword rules" in n for n in notes)


def test_a_dataset_flag_wins(scripted_llm, tmp_path):
    data = tmp_path / "msgs.jsonl"
    data.write_text('{"text": "hi", "label": "ham"}\n')
    scripted_llm('{"task": "classify", "dataset": "sms-spam", "metric": "m"}')
    spec, notes, _ = read_goal("classify my messages", LLM, dataset=str(data))
    assert spec.dataset == str(data) and spec.task == "classify"


def test_an_unsupported_goal_says_what_is_supported(scripted_llm):
    scripted_llm(RuntimeError("offline"))
    with pytest.raises(UnsupportedGoal, match="Supported: language/code experts"):
        read_goal("segment MRI images of the brain", LLM)
    with pytest.raises(UnsupportedGoal, match="empty"):
        read_goal("   ", LLM)


def test_keywords_in_the_goal_overrule_a_small_models_guess(scripted_llm):
    scripted_llm('{"task": "lm", "dataset": "python-stdlib", "metric": "bits_per_byte"}')
    spec, notes, _ = read_goal("predict the S&P 500 direction", LLM)
    assert (spec.task, spec.dataset) == ("direction", "sp500")
    assert any("the LLM chose python-stdlib" in n for n in notes)


def test_a_goal_naming_two_language_domains_merges_specialists(scripted_llm):
    scripted_llm('{"task": "lm", "dataset": "python-stdlib", "metric": "bits_per_byte"}')
    spec, notes, _ = read_goal("an expert for Python code and Shakespeare", LLM)
    assert spec.domains == ["shakespeare", "python-stdlib"] and spec.search_task == "diloco"
    assert (spec.task, spec.dataset) == ("lm", "shakespeare")
    assert any("merged with DiLoCo" in n for n in notes)


def test_the_llms_domains_count_only_when_they_are_two_language_datasets(scripted_llm):
    scripted_llm(
        '{"task": "lm", "dataset": "shakespeare", "metric": "bits_per_byte", '
        '"domains": ["shakespeare", "shakespeare"]}',
        '{"task": "classify", "dataset": "sms-spam", "metric": "balanced_accuracy", '
        '"domains": ["shakespeare", "python-stdlib"]}',
    )
    one, _, _ = read_goal("write like Shakespeare", LLM)
    assert one.domains == [] and one.search_task == "lm"
    scam, _, _ = read_goal("classify scam messages", LLM)
    assert scam.domains == []


def test_a_guessed_second_domain_does_not_start_a_merge(scripted_llm):
    """The goal's keywords name one dataset: the model's extra domains are a guess."""
    scripted_llm(
        '{"task": "lm", "dataset": "shakespeare", "metric": "bits_per_byte", '
        '"domains": ["shakespeare", "python-stdlib"]}'
    )
    spec, _, _ = read_goal("build a ternary Shakespeare language model", LLM)
    assert (spec.dataset, spec.domains) == ("shakespeare", [])


def test_a_target_the_goal_does_not_state_is_dropped(scripted_llm):
    """A small model invents targets; one it reached at once would end the session."""
    scripted_llm('{"task": "lm", "dataset": "shakespeare", "target": 3.5}')
    spec, _, _ = read_goal("write like Shakespeare", LLM)
    assert spec.target is None


def test_a_path_in_the_goal_is_its_dataset(scripted_llm, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes").mkdir()
    scripted_llm('{"task": "classify", "dataset": "sms-spam"}')
    spec, notes, _ = read_goal("train a language model on notes/", LLM)
    assert (spec.task, spec.dataset) == ("lm", "notes/")
    assert any("the LLM chose sms-spam" in n for n in notes)


def test_the_intake_schema_offers_only_what_exists_and_always_closes():
    """Every choice is an enum; the longest answer the grammar allows fits the tokens asked
    for (a token is at least one character), with room for whitespace, so it always closes."""
    from magnet.agent.goal import INTAKE_TOKENS
    from magnet.agent.schemas import goal_answer

    path = "d" * 100 + ".csv"
    schema = goal_answer(["sms-spam", "generate", path], ["shakespeare", "python-stdlib"])
    props = schema.model_json_schema()["properties"]
    assert props["dataset"]["enum"] == ["sms-spam", "generate", path]
    assert props["domains"]["items"]["enum"] == ["shakespeare", "python-stdlib"]
    longest = dict(
        task="direction",
        dataset=path,
        labels=["x" * props["labels"]["items"]["maxLength"]] * props["labels"]["maxItems"],
        target=-1.234567890123456e-100,
        domains=["python-stdlib"] * props["domains"]["maxItems"],
    )
    assert len(json.dumps(longest)) <= INTAKE_TOKENS + len(path) - 40


def test_a_target_stated_in_words_the_llm_missed_is_kept(scripted_llm):
    scripted_llm(*['{"task": "classify", "dataset": "sms-spam"}'] * 2, RuntimeError("offline"))
    assert read_goal("flag fraudulent sms, target 0.97", LLM)[0].target == 0.97
    assert read_goal("spam filter at 95% balanced accuracy", LLM)[0].target == 0.95
    spec = read_goal("get below 2.0 bits per byte on Shakespeare", LLM)[0]  # keyword rules
    assert (spec.dataset, spec.target) == ("shakespeare", 2.0)


def test_classes_a_built_in_lacks_are_generated_not_taken_from_a_keyword(scripted_llm):
    scripted_llm(RuntimeError("offline"))
    spec = read_goal("detect toxic vs friendly chat messages", LLM)[0]
    assert (spec.dataset, spec.labels) == ("generate", ["toxic", "friendly"])
    spec = read_goal("classify messages as spam or ham", LLM)[0]  # the built-in's own classes
    assert spec.dataset == "sms-spam"
