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
    spec, notes, tokens = read_goal("classify scam messages", LLM)
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
        '"domains": ["shakespeare", "shakespeare", "sms-spam"]}',
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


def test_the_intake_schema_caps_what_a_small_model_can_repeat():
    from magnet.agent.state import ResearchSpec

    props = ResearchSpec.model_json_schema()["properties"]
    assert props["domains"]["maxItems"] == 4 and props["labels"]["maxItems"] == 12
    assert props["domain"]["maxLength"] == 60
    assert props["metric"]["enum"] == ["bits_per_byte", "balanced_accuracy"]
