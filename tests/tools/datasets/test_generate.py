"""LLM-made datasets, with the LLM scripted at the litellm boundary: what is kept and why."""

import json

import pytest

from magnet.tools.datasets import load_dataset
from magnet.tools.datasets.generate import GenerateRequest, generate
from magnet.tools.datasets.generated import add_to_train, save_generated
from magnet.tools.datasets.types import Generation
from magnet.tools.llm import Llm

SPAM = [
    "WINNER!! You have been selected for a cash prize, reply CLAIM now",
    "Your parcel is held at customs, pay the 2 pound fee at this link today",
    "Congratulations, your number won a free cruise: call 0906 555 to book",
    "Final notice: your bank account is locked, confirm your PIN here",
    "You are due a tax refund of 480 pounds, submit your card details now",
]
HAM = [
    "Running ten minutes late, start without me",
    "Can you pick up milk and bread on the way home?",
    "Happy birthday! Dinner at ours on Saturday?",
    "The meeting moved to room 4 after lunch",
    "Did you see the match last night? What a finish",
]


def batch(label, texts):
    return json.dumps({"examples": [{"text": t, "label": label} for t in texts]})


def request(**kw):
    return GenerateRequest(
        task="classify",
        labels=["spam", "ham"],
        describe="text messages",
        n=kw.pop("n", 10),
        batch_size=5,
        **kw,
    )


def test_batches_alternate_labels_and_fill_each_class(scripted_llm):
    calls = scripted_llm(batch("spam", SPAM), batch("ham", HAM))
    examples, gen = generate(Llm("openai/scripted"), request())
    assert [e.label for e in examples] == ["spam"] * 5 + ["ham"] * 5
    assert (gen.kept, gen.batches, gen.failed_batches, gen.dropped) == (10, 2, 0, {})
    assert 'class "spam"' in calls[0][-1]["content"] and 'class "ham"' in calls[1][-1]["content"]
    assert gen.model == "openai/scripted" and len(gen.prompt_sha256) == 64
    assert gen.tokens > 0


def test_bad_items_duplicates_and_partial_batches_are_dropped_with_reasons(scripted_llm):
    messy = json.dumps(
        {
            "examples": [
                {"text": SPAM[0], "label": "SPAM "},  # kept: the label as the request spells it
                {"text": SPAM[0].upper() + "!!", "label": "spam"},  # exact after normalising
                {"text": SPAM[0].replace("cash", "big cash"), "label": "spam"},  # near
                {"text": "", "label": "spam"},
                {"text": "hi", "label": "spam"},
                {"text": "Example 3:", "label": "spam"},
                {"text": "Dear [insert name], you won", "label": "spam"},
                {"text": "A message about something else entirely", "label": "other"},
                {"label": "spam"},  # no text: the item is invalid, the batch is not
            ]
        }
    )
    scripted_llm(messy, batch("ham", HAM[:2]), batch("spam", SPAM[1:4]), batch("ham", HAM[2:5]))
    examples, gen = generate(Llm("openai/scripted"), request(n=8))
    assert [e.label for e in examples] == ["spam", "ham", "ham", *["spam"] * 3, *["ham"] * 2]
    assert gen.dropped == {
        "duplicate": 2,
        "empty": 2,
        "too_short": 1,
        "boilerplate": 2,
        "label_not_in_set": 1,
        "over_target": 1,  # the class was full
    }


def test_nonsense_answers_stop_after_three_failures_in_a_row(scripted_llm):
    scripted_llm(batch("spam", SPAM[:2]), *["not json at all"] * 6)
    examples, gen = generate(Llm("openai/scripted"), request())
    assert len(examples) == 2 and gen.failed_batches == 3 and gen.batches == 4


def test_the_token_budget_stops_generation(scripted_llm):
    scripted_llm(batch("spam", SPAM[:2]), batch("ham", HAM[:2]))
    examples, gen = generate(Llm("openai/scripted"), request(token_budget=1))
    assert gen.batches == 1 and len(examples) == 2


def test_a_near_duplicate_of_a_holdout_text_is_dropped(scripted_llm):
    held = ["Congratulations, your number won a free cruise: call 0906 555 to book now"]
    scripted_llm(batch("spam", SPAM), batch("ham", HAM))
    examples, gen = generate(Llm("openai/scripted"), request(holdout=held))
    assert gen.dropped == {"near_duplicate_of_holdout": 1}
    assert SPAM[2] not in [e.text for e in examples]


def test_saved_data_loads_with_its_provenance_and_train_extras_join_train_only(
    scripted_llm, tmp_path
):
    scripted_llm(batch("spam", SPAM), batch("ham", HAM))
    examples, gen = generate(Llm("openai/scripted"), request())
    out = save_generated(tmp_path / "sms", "classify", examples, gen)
    ds = load_dataset(str(out))
    assert ds.labels == ["ham", "spam"] and sum(ds.card.sizes.values()) == 10
    assert ds.card.generation[0].model == "openai/scripted" and ds.card.license == "generated"

    leak = ds.val.texts[0] + " !"
    extra = [type(examples[0])(text=leak, label="spam")]
    extra.append(type(examples[0])(text="Claim your voucher before midnight tonight", label="spam"))
    add_to_train(out, extra, Generation(generator="llm", requested=2, kept=2))
    again = load_dataset(str(out), "classify")
    assert len(again.train.texts) == len(ds.train.texts) + 1  # the leak stayed out
    assert again.val.texts == ds.val.texts and again.card.sha256 != ds.card.sha256
    assert "1 added to train, 1 dropped as near duplicates of val/test" in again.card.notes[-1]
    assert [g.split for g in again.card.generation] == ["all", "train"]


def test_bad_requests_and_existing_output_are_clear_errors(tmp_path):
    from magnet.tools.errors import DatasetError

    with pytest.raises(ValueError, match="two or more distinct labels"):
        GenerateRequest(task="classify", labels=["a", " a "], describe="x y z", n=5)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(DatasetError, match="exists and is not empty"):
        save_generated(tmp_path / "full", "classify", [], Generation(generator="llm"))
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"


def test_an_lm_corpus_is_passages_without_labels(scripted_llm, tmp_path):
    passages = SPAM + HAM + ["The mill by the river burned in 1903.", "Two ferries ran daily."]
    scripted_llm(json.dumps({"examples": [{"text": p} for p in passages]}))
    request = GenerateRequest(task="lm", describe="local history notes", n=12, batch_size=12)
    examples, gen = generate(Llm("openai/scripted"), request)
    assert gen.kept == 12 and all(e.label == "" for e in examples)
    out = save_generated(tmp_path / "notes", "lm", examples, gen)
    assert '"label"' not in (out / "data.jsonl").read_text()
    ds = load_dataset(str(out), "lm")
    assert ds.card.task == "lm" and len(ds.train) + len(ds.val) + len(ds.test) == 12
