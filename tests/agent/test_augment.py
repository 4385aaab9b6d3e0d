"""Failure-driven data in the research loop: proposed, reviewed, generated, trained on."""

import json
from pathlib import Path

import pytest

from magnet.agent.session import SessionRunner
from magnet.agent.state import Budget, Settings
from magnet.tools.datasets import load_dataset
from magnet.tools.llm import Llm
from magnet.tools.paths import magnet_home
from tests.conftest import TINY
from tests.tools.datasets.test_generate import HAM, SPAM, batch

INTAKE = '{"task": "classify", "dataset": "sms-spam", "metric": "balanced_accuracy"}'
AUGMENT = json.dumps(
    {
        "hypothesis": "more examples of what it confuses",
        "changes": [{"key": "augment", "value": 10}],
    }
)

AFTER = json.dumps(
    {"hypothesis": "a larger learning rate", "changes": [{"key": "lr", "value": 0.003}]}
)


@pytest.mark.integration
def test_an_augment_experiment_trains_on_generated_examples_for_the_weak_slice(scripted_llm):
    runner = SessionRunner(magnet_home(), Llm("openai/scripted"))
    # one more idea for a fourth run: when both 8-step seeds learn, none is run again
    calls = scripted_llm(INTAKE, AUGMENT, batch("ham", HAM), batch("spam", SPAM), AFTER)
    settings = Settings(
        approve="auto", steps=8, fixed=TINY, budget=Budget(max_experiments=4), scaleup=0
    )
    sid, pending = runner.start("classify scam messages", settings)
    assert pending is None
    done = runner.state(sid).experiments
    # the seeds first (a third when one is stuck on one class), then the idea
    n = next(i for i, e in enumerate(done) if e.diff == {"augment": 10})
    assert [e.diff for e in done[:n]] == [{"seed": s} for s in range(n)] and n in (2, 3)
    augmented = done[n]
    assert augmented.status == "ok" and augmented.value is not None
    data = magnet_home() / "sessions" / sid / "data-augment-10"
    ds = load_dataset(str(data), "classify")
    base = load_dataset("sms-spam", "classify")
    assert len(ds.train.texts) == len(base.train.texts) + 10
    assert ds.val.texts == base.val.texts and ds.test.texts == base.test.texts
    assert ds.card.generation[-1].split == "train" and ds.card.generation[-1].kept == 10
    prompt = calls[2][-1]["content"]
    assert "A model confused these" in prompt  # the best run's misclassified val texts
    [event] = [e for e in runner.traces.events(sid) if e.kind == "data"]
    assert event.text.startswith("10 training examples written for ")
    config = json.loads((Path(augmented.run_dir) / "config.json").read_text())
    assert config["data"] == str(data)
