from magnet.agent.proposal import PlanContext, choose, keys, prompt
from magnet.agent.state import Best, ResearchSpec
from magnet.memory.findings import Finding
from magnet.tools.llm import Llm
from magnet.tools.search.policy import Candidate

SPEC = ResearchSpec(task="classify", dataset="sms-spam", metric="balanced_accuracy")
CANDIDATES = [Candidate({"lr": 0.001}, "lower lr"), Candidate({"n_layers": 6}, "deeper")]
BEST = Best(experiment_id="s-001", config={"lr": 0.002}, value=0.9, run_dir="run")


def run(tried=lambda diff: None, fixed=None):
    ctx = PlanContext(
        goal="classify scam messages",
        session_id="s",
        spec=SPEC,
        best=BEST,
        fixed=fixed or {},
        remaining_seconds=600,
    )
    return choose(ctx, CANDIDATES, Llm("openai/scripted"), tried)


def earlier(session: str) -> Finding:
    return Finding(
        session_id=session, goal="g", dataset="sms-spam", verdict="worse", primary_value=0.81
    )


def test_the_llm_changes_only_its_candidates_settings_and_values_are_clipped(scripted_llm):
    scripted_llm(
        '{"candidate": 0, "hypothesis": "much lower lr", '
        '"changes": [{"key": "lr", "value": 1e-09}, {"key": "n_layers", "value": 1}, '
        '{"key": "colour", "value": "red"}]}'
    )
    proposal, notes, tokens = run()
    assert proposal.config_diff == {"lr": 1e-4} and proposal.kind == "planned" and tokens > 0
    assert "plan: kept candidate 0's settings only, not ['colour', 'n_layers']" in notes
    assert any("lr: 1e-09 → 0.0001" in n for n in notes)


def test_without_a_candidate_the_llm_diff_stands_alone(scripted_llm):
    scripted_llm(
        '{"candidate": 7, "hypothesis": "wider", '
        '"changes": [{"key": "d_model", "value": 512}, {"key": "colour", "value": "red"}, '
        '{"key": "tokenizer", "value": "bpe"}]}'
    )
    proposal, notes, _ = run()
    assert proposal.config_diff == {"d_model": 512, "tokenizer": "bpe"}
    assert "plan: there is no candidate 7" in notes
    assert any("dropped unknown key 'colour'" in n for n in notes)


def test_an_already_tried_proposal_is_replaced_by_an_untried_candidate(scripted_llm):
    scripted_llm('{"hypothesis": "lower lr", "changes": [{"key": "lr", "value": 0.001}]}')
    proposal, notes, _ = run(tried=lambda diff: earlier("s") if diff == {"lr": 0.001} else None)
    assert proposal.config_diff == {"n_layers": 6}
    assert any("already tried" in n for n in notes)
    assert not any("in session" in n for n in notes)  # this session's own run: nothing to say


def test_a_proposal_running_now_on_another_worker_is_replaced_not_a_crash(scripted_llm):
    # tried() answers True for a config in flight: a session crashed on it in the wide bench
    scripted_llm('{"hypothesis": "lower lr", "changes": [{"key": "lr", "value": 0.001}]}')
    proposal, notes, _ = run(tried=lambda diff: diff == {"lr": 0.001} or None)
    assert proposal.config_diff == {"n_layers": 6}
    assert "plan: the LLM's proposal was empty or already tried (it is running now)" in notes


def test_a_result_reused_from_an_earlier_session_is_named_in_the_notes(scripted_llm):
    scripted_llm('{"hypothesis": "lower lr", "changes": [{"key": "lr", "value": 0.001}]}')
    proposal, notes, _ = run(tried=lambda diff: earlier("old") if diff == {"lr": 0.001} else None)
    assert proposal.config_diff == {"n_layers": 6}
    assert any("in session old: 0.81; that result stands" in n for n in notes)


def test_a_change_of_fixed_settings_only_is_no_proposal(scripted_llm):
    scripted_llm(
        '{"candidate": null, "hypothesis": "deeper", "changes": [{"key": "n_layers", "value": 6}]}'
    )
    proposal, notes, _ = run(fixed={"n_layers": 1})
    assert proposal.config_diff == {"lr": 0.001}  # the policy's first candidate instead
    assert any("n_layers fixed for this session" in n for n in notes)


def test_invalid_llm_answers_fall_back_to_the_policy(scripted_llm):
    scripted_llm("not json", "still not json")
    proposal, notes, _ = run()
    assert proposal.config_diff == {"lr": 0.001}
    assert any("invalid answer" in n for n in notes)
    assert any("policy's candidate" in n for n in notes)


def test_when_everything_was_tried_the_proposal_is_empty_and_says_so(scripted_llm):
    scripted_llm('{"hypothesis": "lower lr", "changes": [{"key": "lr", "value": 0.001}]}')
    proposal, notes, _ = run(tried=lambda diff: earlier("s"))
    assert proposal.config_diff == {}  # the plan node ends the session on this
    assert notes[-1] == "plan: every candidate was already tried"


def test_a_hypothesis_that_is_not_words_is_the_candidates_reason(scripted_llm):
    scripted_llm(
        '{"candidate": 1, "changes": [], "hypothesis": "1.0.0.0.1.1.1.1", "expected_effect": ""}'
    )
    proposal, notes, _ = run()
    assert (proposal.config_diff, proposal.hypothesis) == ({"n_layers": 6}, "deeper")
    assert proposal.picked_by == "llm"  # not the policy's first candidate
    assert "plan: the LLM's hypothesis '1.0.0.0.1.1.1.1' is not words" in notes


def test_the_llm_taking_the_policys_first_candidate_is_the_policys_pick(scripted_llm):
    scripted_llm('{"candidate": 0, "changes": [], "hypothesis": "a lower lr trains steadier"}')
    proposal, _, _ = run()
    assert (proposal.config_diff, proposal.picked_by) == ({"lr": 0.001}, "policy")
    assert proposal.hypothesis == "a lower lr trains steadier"


def test_the_plan_schema_offers_the_candidates_indexes_and_three_changes_at_most():
    from magnet.agent.schemas import proposal_answer

    schema = proposal_answer(2).model_json_schema()
    assert schema["properties"]["candidate"]["anyOf"][0] == {"enum": [0, 1]}
    changes = schema["properties"]["changes"]
    assert changes["maxItems"] == 3
    lr = next(p for p in changes["items"]["anyOf"] if p["properties"]["key"] == {"const": "lr"})
    assert lr["properties"]["value"] == {"type": "number"}


def test_the_plan_names_only_the_keys_that_do_something_and_are_not_fixed():
    ctx = PlanContext(goal="g", session_id="s", spec=SPEC, fixed={"lr": 0.01})
    offered = keys(ctx)
    assert "lr" not in offered and "merge" not in offered  # fixed; DiLoCo only
    assert {"augment", "class_weighted", "n_layers"} <= set(offered)
    assert f"Allowed keys: {', '.join(offered)}." in prompt(ctx, CANDIDATES)


def test_an_answer_echoing_a_value_as_the_prompt_showed_it_is_no_change(scripted_llm):
    # the prompt shows 0.0012345 as 0.0012: copying it back is the policy's pick, unrounded
    candidates = [Candidate({"lr": 0.0012345, "n_layers": 3}, "tpe")]
    scripted_llm(
        '{"candidate": 0, "hypothesis": "a smaller step should train steadier", '
        '"changes": [{"key": "lr", "value": 0.0012}, {"key": "n_layers", "value": 4}]}'
    )
    ctx = PlanContext(goal="g", session_id="s", spec=SPEC)
    assert "lr=0.0012 n_layers=3" in prompt(ctx, candidates)
    proposal, _, _ = choose(ctx, candidates, Llm("openai/scripted"), lambda diff: None)
    assert proposal.config_diff == {"lr": 0.0012345, "n_layers": 4}
    assert proposal.picked_by == "llm"  # n_layers is its own change
