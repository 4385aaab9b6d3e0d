from magnet.agent.nodes.plan import BASELINE_SEEDS, plan
from magnet.agent.state import ResearchSpec
from magnet.tools.llm import Llm
from magnet.tools.search.policy import Candidate

SPEC = ResearchSpec(task="classify", dataset="sms-spam", metric="balanced_accuracy")
CANDIDATES = [Candidate({"lr": 0.001}, "lower lr"), Candidate({"n_layers": 6}, "deeper")]
BEST = {"config": {"lr": 0.002}, "value": 0.9}


def run(tried=lambda c: False, n_done=BASELINE_SEEDS):
    return plan(
        "classify scam messages",
        SPEC,
        n_done,
        BEST,
        [],
        "",
        CANDIDATES,
        tried,
        Llm("openai/scripted"),
        600,
    )


def test_the_first_experiments_are_baseline_seeds(scripted_llm):
    calls = scripted_llm()
    proposals = [run(n_done=i)[0] for i in range(BASELINE_SEEDS)]
    assert [p.config_diff for p in proposals] == [{"seed": i} for i in range(BASELINE_SEEDS)]
    assert calls == []  # no LLM call for a baseline


def test_the_llm_changes_only_its_candidates_settings_and_values_are_clipped(scripted_llm):
    scripted_llm(
        '{"candidate": 0, "hypothesis": "much lower lr", '
        '"config_diff": {"lr": 1e-9, "n_layers": 1, "colour": "red"}, "estimated_seconds": 30}'
    )
    proposal, notes, tokens = run()
    assert proposal.config_diff == {"lr": 1e-4} and proposal.candidate == 0 and tokens > 0
    assert "plan: kept candidate 0's settings only, not ['colour', 'n_layers']" in notes
    assert any("lr: 1e-09 → 0.0001" in n for n in notes)


def test_without_a_candidate_the_llm_diff_stands_alone(scripted_llm):
    scripted_llm(
        '{"candidate": 7, "hypothesis": "wider", '
        '"config_diff": {"d_model": 512, "colour": "red", "tokenizer": "bpe"}}'
    )
    proposal, notes, _ = run()
    assert proposal.config_diff == {"d_model": 512, "tokenizer": "bpe"}
    assert proposal.candidate is None and "plan: there is no candidate 7" in notes
    assert any("dropped unknown key 'colour'" in n for n in notes)


def test_an_already_tried_proposal_is_replaced_by_an_untried_candidate(scripted_llm):
    scripted_llm('{"hypothesis": "lower lr", "config_diff": {"lr": 0.001}}')
    tried = {(("lr", 0.001),)}
    proposal, notes, _ = run(tried=lambda c: tuple(sorted(c.items())) in tried)
    assert proposal.config_diff == {"n_layers": 6} and proposal.candidate == 1
    assert any("already tried" in n for n in notes)


def test_invalid_llm_answers_fall_back_to_the_policy(scripted_llm):
    scripted_llm("not json", "still not json")
    proposal, notes, _ = run()
    assert proposal.config_diff == {"lr": 0.001}
    assert any("invalid answer" in n for n in notes)
    assert any("policy's candidate" in n for n in notes)
