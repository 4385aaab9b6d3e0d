"""A goal no dataset fits: the agent proposes generating one, the reviewer decides."""

import pytest

from magnet.agent.session import SessionRunner
from magnet.agent.state import Budget, Settings
from magnet.tools.datasets import load_dataset
from magnet.tools.errors import UnsupportedGoal
from magnet.tools.llm import Llm
from magnet.tools.paths import magnet_home
from tests.conftest import TINY
from tests.tools.datasets.test_generate import batch

GOAL = "classify descriptions of safe vs unsafe videos"
SAFE = [
    "A cooking tutorial showing how to bake sourdough bread at home",
    "Highlights from a local youth football match on a sunny afternoon",
    "A calm walk through a botanical garden with birdsong",
    "A teacher explains fractions with paper pizza slices",
    "Unboxing a new set of watercolour paints and testing them",
]
UNSAFE = [
    "A stunt where teenagers jump between moving train carriages",
    "Instructions for mixing household chemicals into toxic gas",
    "A street fight filmed outside a bar with people badly hurt",
    "A dare to eat laundry detergent pods on camera",
    "Someone climbing a skyscraper without ropes or any safety gear",
]


def start(runner, approve="ask"):
    budget = Budget(max_experiments=1)
    return runner.start(GOAL, Settings(approve=approve, steps=4, fixed=TINY, budget=budget))


@pytest.mark.integration
def test_the_reviewer_sees_the_generation_first_and_the_session_trains_on_it(scripted_llm):
    runner = SessionRunner(magnet_home(), Llm("openai/scripted"))
    scripted_llm(RuntimeError("no intake today"))  # the keyword-free fallback decides
    sid, card = start(runner)
    assert card.config_diff == {"generate": 200}
    assert "labelled safe, unsafe" in card.hypothesis
    assert runner.state(sid).spec.dataset == "generate"

    calls = scripted_llm(batch("safe", SAFE), batch("unsafe", UNSAFE))
    card = runner.resume(sid, {"action": "edit", "set": {"generate": 10}})
    assert card.config_diff == {"seed": 0}  # on to the baseline's review
    assert len(calls) == 3 and 'class "safe"' in calls[1][-1]["content"]  # after intake
    spec = runner.state(sid).spec
    ds = load_dataset(spec.dataset, "classify")
    assert ds.labels == ["safe", "unsafe"] and sum(ds.card.sizes.values()) == 10
    assert ds.card.generation[0].model == "openai/scripted"
    [event] = [e for e in runner.traces.events(sid) if e.kind == "generated"]
    assert event.text.startswith("generated 10 of 10 examples")
    assert runner.resume(sid, {"action": "accept"}) is None
    assert runner.state(sid).experiments[0].status == "ok"


def test_declining_the_generation_is_a_clear_error(scripted_llm):
    runner = SessionRunner(magnet_home(), Llm("openai/scripted"))
    scripted_llm(RuntimeError("no intake today"))
    sid, card = start(runner)
    with pytest.raises(UnsupportedGoal, match="generating one was declined"):
        runner.resume(sid, {"action": "reject", "text": "I will bring data"})
    assert runner.traces.session(sid).status == "stopped"
