"""Golden renders: a change to a prompt shows up as a diff here, on purpose.

Regenerate after an intended change: MAGNET_UPDATE_GOLDEN=1 pytest tests/prompts
"""

import os
from pathlib import Path

import jinja2
import pytest

from magnet.agent.state import ResearchSpec
from magnet.prompts import names, render

GOLDEN = Path(__file__).parent / "golden"
EXAMPLES = {
    "intake": dict(
        goal="classify scam messages",
        datasets=[
            dict(name="sms-spam", task="classify", description="SMS ham vs spam"),
            dict(name="shakespeare", task="lm", description="38 plays"),
        ],
    ),
    "plan": dict(
        goal="classify scam messages",
        spec=ResearchSpec(task="classify", dataset="sms-spam", metric="balanced_accuracy"),
        best=dict(config={"lr": 0.002}, value=0.9123),
        recent=["[no_change] lr=0.003"],
        lessons="What worked:\n- [improved] class weights",
        candidates=[
            dict(diff={"lr": 0.001}, reason="lower lr (TPE)"),
            dict(diff={"n_layers": 6}, reason="deeper"),
        ],
        allowed_keys=["lr", "n_layers"],
        remaining_seconds=1234.4,
    ),
    "generate": dict(
        task="classify",
        describe="short text messages",
        label="spam",
        labels=["ham", "spam"],
        count=5,
        avoid=["WIN a prize now"],
        weak=[dict(text="Free entry in a weekly draw", label="spam")],
        rewrite=[],
    ),
}


def test_every_template_has_an_example():
    assert sorted(EXAMPLES) == names()


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_golden_render(name):
    text = render(name, **EXAMPLES[name])
    golden = GOLDEN / f"{name}.md"
    if os.environ.get("MAGNET_UPDATE_GOLDEN") == "1":
        golden.write_text(text)
    assert text == golden.read_text()


def test_a_missing_variable_is_an_error():
    with pytest.raises(jinja2.UndefinedError):
        render("plan", goal="x")
