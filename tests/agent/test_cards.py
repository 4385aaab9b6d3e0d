"""The review card and its answer: one type each for the nodes, the CLI and the dashboard."""

import pytest

from magnet.agent.cards import Card
from magnet.agent.state import ReviewReply
from magnet.tools.errors import ConfigError


def test_a_card_saved_before_cards_were_typed_reads_as_one():
    saved = {
        "proposal": {"kind": "planned", "hypothesis": "h", "config_diff": {"lr": 0.004, "seed": 0}},
        "diff_vs_best": {"lr": {"from": None, "to": 0.004}, "seed": {"from": 0, "to": 0}},
        "estimated_seconds": 30,
        "remaining_seconds": 900,
        "plan": "rung 0: 7 configs × 1 unit",
        "llm_off": "",
        "responses": ["accept", "edit", "reject", "respond"],
    }
    card = Card.model_validate(saved)
    assert card.kind == "planned" and card.config_diff == {"lr": 0.004, "seed": 0}
    assert [(c.key, c.shown_before, c.shown_after) for c in card.changes] == [
        ("lr", "default", "0.004"),
        ("seed", "0", "0"),
    ]
    assert [c.key for c in card.changed] == ["lr"]  # seed 0 → 0 changes nothing
    data = Card.model_validate({"proposal": {"hypothesis": "g", "config_diff": {"generate": 9}}})
    assert data.kind == "data" and data.remaining_seconds == 0
    assert Card.model_validate(card.model_dump(mode="json")) == card  # round trip, as saved now


def test_a_reply_is_parsed_once_with_a_clear_error_for_what_cannot_be_answered():
    edit = ReviewReply.parse("edit", ["lr=0.002", "n-layers=3"], rest_of_rung=True)
    assert edit.set == {"lr": 0.002, "n_layers": 3} and edit.rest_of_rung
    assert ReviewReply.parse("accept", ["lr=9"]).set == {}  # words only count for an edit
    assert ReviewReply.parse("reject", text="  too slow ").text == "too slow"
    for args, message in [
        (("edit", []), "at least one key=value"),
        (("reject", None, "  "), "say why you reject"),
        (("respond",), "say why you respond"),
        (("approve",), "no action 'approve'; one of: accept, edit, reject, respond"),
        (("edit", ["lr"]), "'lr' is not key=value"),
    ]:
        with pytest.raises(ConfigError, match=message):
            ReviewReply.parse(*args)
