"""Programmatic data and `magnet data generate` as a user runs it."""

import json

import numpy as np

from magnet.tools.datasets import load_dataset
from magnet.tools.datasets.generate import Example
from magnet.tools.datasets.synthetic import fill_templates, regime_walk, with_noise
from tests.conftest import magnet
from tests.tools.datasets.test_generate import HAM, SPAM, batch

TEMPLATES = {
    "templates": {
        "spam": ["WIN {prize} now! Call {phone}", "URGENT: claim {prize} at {phone}"],
        "ham": ["see you at {time}, {name}", "{name}, running late, there by {time}"],
    },
    "slots": {
        "prize": ["a car", "cash", "a cruise", "a phone", "vouchers"],
        "phone": ["0800 111", "0900 222", "0700 333", "0906 444"],
        "time": ["6", "noon", "8pm", "10", "half past"],
        "name": ["Sam", "Jo", "Ali", "Kim", "Lee"],
    },
}


def test_templates_fill_every_slot_the_same_way_for_a_seed():
    a = fill_templates(TEMPLATES["templates"], TEMPLATES["slots"], 20, seed=3)
    assert a == fill_templates(TEMPLATES["templates"], TEMPLATES["slots"], 20, seed=3)
    assert [e.label for e in a[:4]] == ["ham", "spam", "ham", "spam"]
    assert not any("{" in e.text for e in a)


def test_noise_changes_a_few_characters_and_keeps_labels():
    text = "Can you pick up milk and bread on the way home tonight please?"
    [noisy] = with_noise([Example(text=text, label="ham")], rate=0.1, seed=1)
    assert noisy.label == "ham" and noisy.text != text
    assert abs(len(noisy.text) - len(text)) <= 6


def test_regime_walk_prices_are_positive_and_persistent():
    prices = regime_walk(3000, seed=0)
    assert all((prices[c] > 0).all() for c in ("close", "high", "low", "volume"))
    assert (prices["high"] >= prices["close"]).all() and (prices["low"] <= prices["close"]).all()
    r = np.diff(np.log(prices["close"]))
    vol = np.abs(r)
    assert np.corrcoef(vol[:-1], vol[1:])[0, 1] > 0.1  # regimes: calm and wild days cluster


def test_magnet_data_generate_templates_and_prices(tmp_path):
    spec = tmp_path / "t.json"
    spec.write_text(json.dumps(TEMPLATES))
    done = magnet("data", "generate", "--templates", spec, "--n", 300, "--out", tmp_path / "t")
    assert done.returncode == 0, done.stderr
    assert "kept of 300 asked; dropped {'duplicate':" in done.stdout
    shown = magnet("data", "show", tmp_path / "t", "--json")
    card = json.loads(shown.stdout)
    assert card["generation"][0]["generator"] == "templates" and card["labels"] == ["ham", "spam"]
    prices = magnet(
        "data", "generate", "--task", "direction", "--days", 600, "--out", tmp_path / "p"
    )
    assert prices.returncode == 0, prices.stderr
    assert load_dataset(str(tmp_path / "p")).card.task == "direction"
    again = magnet("data", "generate", "--task", "direction", "--out", tmp_path / "p")
    assert again.stderr.strip().endswith("exists and is not empty: choose another --out")


def test_magnet_data_generate_with_an_llm(scripted_llm, tmp_path):
    from typer.testing import CliRunner

    from magnet.agent.cli import app

    scripted_llm(batch("spam", SPAM[:3]), batch("ham", HAM[:3]))
    args = ["data", "generate", "--labels", "spam,ham", "--describe", "text messages"]
    args += ["--n", "6", "--model", "openai/scripted", "--out", str(tmp_path / "sms")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "6 kept of 6 asked; dropped none" in result.output
    assert load_dataset(str(tmp_path / "sms")).card.generation[0].kept == 6


def test_a_model_that_writes_nothing_usable_is_a_clear_error(scripted_llm, tmp_path):
    from typer.testing import CliRunner

    from magnet.agent.cli import app

    scripted_llm(*["{}"] * 6)
    args = ["data", "generate", "--labels", "spam,ham", "--describe", "text messages"]
    args += ["--model", "openai/scripted", "--out", str(tmp_path / "none")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0
    assert "gave 0 usable examples in 3 batches" in str(result.exception)
    assert not (tmp_path / "none").exists()


def test_magnet_data_augment_adds_noisy_copies_to_train_only(tmp_path):
    base = load_dataset("sms-spam", "classify")
    done = magnet("data", "augment", "sms-spam", "--noise", 1, "--out", tmp_path / "plus")
    assert done.returncode == 0, done.stderr
    grown = load_dataset(str(tmp_path / "plus"), "classify")
    assert grown.val.texts == base.val.texts and grown.test.texts == base.test.texts
    added = len(grown.train.texts) - len(base.train.texts)
    assert 0.9 * len(base.train.texts) < added <= len(base.train.texts)  # a few leaked: dropped
    assert grown.card.generation[-1].generator == "noise"
    nothing = magnet("data", "augment", "sms-spam", "--out", tmp_path / "x")
    assert nothing.stderr.strip().startswith("Error: say what to add")


def test_magnet_data_augment_paraphrases_through_the_llm(scripted_llm, tmp_path):
    from typer.testing import CliRunner

    from magnet.agent.cli import app
    from magnet.tools.datasets.generated import save_generated
    from magnet.tools.datasets.types import Generation

    rows = [Example(text=t, label="spam") for t in SPAM] + [
        Example(text=t, label="ham") for t in HAM
    ]
    base = save_generated(tmp_path / "sms", "classify", rows, Generation(generator="llm"))
    train = load_dataset(str(base)).train
    hams = [t for t, y in zip(train.texts, train.labels, strict=True) if y == 0]
    # The model echoes its sources (duplicates, dropped) and writes one real rewrite.
    echoed = [{"text": t, "label": "ham"} for t in hams]
    new = {"text": "Could you grab some groceries when you head back?", "label": "ham"}
    rewrites = {"examples": [*echoed, new]}
    calls = scripted_llm(json.dumps(rewrites), batch("spam", ["Claim the reward waiting for you"]))
    args = ["data", "augment", str(base), "--paraphrase", "2", "--model", "openai/scripted"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "plus")])
    assert result.exit_code == 0, result.output
    assert f"2 paraphrases; dropped {{'duplicate': {len(hams)}}}" in result.output
    prompt = calls[0][-1]["content"]
    assert (
        prompt.startswith("Rewrite each of these 1 texts") and sum(h in prompt for h in hams) == 1
    )
    grown = load_dataset(str(tmp_path / "plus"), "classify")
    assert len(grown.train.texts) == len(train.texts) + 2
