import math

from magnet.tools.bitnet.config import override_keys
from magnet.tools.diloco.merge import METHODS
from magnet.tools.metrics import BALANCED_ACCURACY, BITS_PER_BYTE
from magnet.tools.search.policy import SearchPolicy
from magnet.tools.search.space import SPACE, clip


def test_every_searchable_key_is_a_training_setting_the_merge_method_or_augment():
    assert set(SPACE) - {"merge", "augment"} <= set(override_keys())
    assert SPACE["merge"].choices == METHODS and SPACE["merge"].tasks == ("diloco",)
    assert SPACE["augment"].tasks == ("classify",)  # the agent makes the data, then trains


def test_overfitting_proposes_data_for_the_weak_slice_first_for_classifiers(tmp_path):
    from magnet.tools.search.policy import SearchPolicy

    policy = SearchPolicy(tmp_path / "s.db", "s", BALANCED_ACCURACY, "classify")
    first = policy.candidates({"augment": 200}, "overfitting")[0]
    assert first.diff == {"augment": 400} and "weak slice" in first.reason
    lm = SearchPolicy(tmp_path / "l.db", "l", BITS_PER_BYTE, "lm")
    assert "augment" not in lm.candidates({}, "overfitting")[0].diff


def test_clip_keeps_values_in_range_and_says_what_changed():
    clean, notes = clip(
        {
            "lr": 5,
            "batch_size": 20,
            "tokenizer": "wordpiece",
            "colour": "red",
            "n_layers": 3.6,
            "grad_clip": math.nan,
            "weight_decay": 0.05,
        }
    )
    assert clean == {
        "lr": 0.01,
        "batch_size": 16,
        "tokenizer": "byte",
        "n_layers": 4,
        "weight_decay": 0.05,
    }
    assert "dropped unknown key 'colour'" in notes and "lr: 5 → 0.01" in notes
    assert any("grad_clip" in n for n in notes)


def test_failure_rules_come_first(tmp_path):
    policy = SearchPolicy(tmp_path / "study.db", "s", BITS_PER_BYTE, task="lm")
    found = policy.candidates({"lr": 4e-3, "batch_size": 32}, last_kind="diverged", n=3)
    assert found[0].diff == {"lr": 4e-3 * 0.3} and "lower the learning rate" in found[0].reason
    assert found[1].diff == {"warmup_steps": 60}
    assert found[2].reason == "TPE suggestion" and found[2].diff
    assert set(found[2].diff) <= set(SPACE) - {"augment", "merge", "class_weighted"}
    oom = policy.candidates({"batch_size": 32}, last_kind="oom", n=1)
    assert oom[0].diff == {"batch_size": 16}


def test_the_plain_searches_have_no_rules_and_name_their_sampler(tmp_path):
    for sampler, reason in (("random", "random-search suggestion"), ("tpe", "TPE suggestion")):
        plain = SearchPolicy(
            tmp_path / f"{sampler}.db", "s", BITS_PER_BYTE, "lm", sampler=sampler, rules=False
        )
        found = plain.candidates({"lr": 4e-3}, last_kind="diverged", n=3)
        assert len(found) == 3 and {c.reason for c in found} == {reason}
    for i in range(3):
        plain.record(f"e{i}", {"lr": 1e-3 * (i + 1)}, 2.0 - i / 10)
    assert len(plain.study.trials) == 3


def test_a_rule_that_changes_nothing_here_is_skipped(tmp_path):
    lm = SearchPolicy(tmp_path / "lm.db", "s", BITS_PER_BYTE, task="lm")
    found = lm.candidates({}, last_kind="no_change", n=2)
    assert [c.diff for c in found] == [{"tokenizer": "bpe"}, {"batch_size": 32}]
    found = lm.candidates({"tokenizer": "bpe"}, last_kind="no_change", n=1)
    assert found[0].diff == {"batch_size": 32}  # bpe is in place already
    series = SearchPolicy(tmp_path / "s.db", "s", BALANCED_ACCURACY, task="direction")
    assert series.candidates({}, last_kind="no_change", n=1)[0].diff == {"batch_size": 32}
    merged = SearchPolicy(tmp_path / "d.db", "s", BITS_PER_BYTE, task="diloco")
    found = merged.candidates({"merge": "ties"}, last_kind="improved", n=2)
    assert found[0].diff == {"merge": "average"} and found[1].reason == "TPE suggestion"


def test_clip_drops_settings_the_task_does_not_use():
    clean, notes = clip({"tokenizer": "bpe", "lr": 1e-3}, task="direction")
    assert clean == {"lr": 1e-3} and notes == ["dropped 'tokenizer': it does nothing for direction"]


def test_the_llms_tokenizer_is_offered_to_classifiers_alone(tmp_path):
    assert clip({"tokenizer": "smollm2"}, task="classify")[0] == {"tokenizer": "smollm2"}
    clean, notes = clip({"tokenizer": "smollm2"}, task="lm")
    assert clean == {"tokenizer": "byte"} and notes == ["tokenizer: 'smollm2' → 'byte'"]
    lm = SearchPolicy(tmp_path / "s.db", "s", BITS_PER_BYTE, task="lm")
    assert lm._distributions()["tokenizer"].choices == ("byte", "bpe")


def test_the_study_holds_only_real_trials_with_every_setting_and_persists(tmp_path):
    path = tmp_path / "study.db"
    first = SearchPolicy(path, "s", BITS_PER_BYTE, task="lm")
    first.record("s-000", {"lr": 2e-3}, 2.9)
    suggestion = first.candidates({}, n=1)[0]
    first.record("s-001", suggestion.diff, 2.7)
    first.record("s-002", {"n_layers": 8}, None)  # a failed run
    unused = first.candidates({}, n=2)  # suggested, never run: nothing of them is kept
    again = SearchPolicy(path, "s", BITS_PER_BYTE, task="lm")  # e.g. after a resume
    trials = again.study.trials
    assert [t.state.name for t in trials] == ["COMPLETE", "COMPLETE", "FAIL"] and len(unused) == 2
    space = {k for k, p in SPACE.items() if "lm" in p.tasks} - {"augment", "merge"}
    assert all(set(t.params) == space for t in trials)  # defaults filled in
    assert trials[0].params["lr"] == 2e-3 and trials[0].params["n_layers"] == 4
    assert again.study.best_value == 2.7
    # Suggestions depend on the trials alone, so a resumed session proposes the same ones.
    assert [c.diff for c in again.candidates({}, n=2)] == [c.diff for c in unused]


def test_a_suggestion_never_reads_more_tokens_per_step_than_memory_allows(tmp_path):
    from magnet.tools.search.policy import MAX_TOKENS_PER_STEP, default

    policy = SearchPolicy(tmp_path / "s.db", "s", BITS_PER_BYTE, task="lm")
    for c in policy.candidates({}, n=30):
        batch, seq = (c.diff.get(k, default(k)) for k in ("batch_size", "seq_len"))
        assert batch * seq <= MAX_TOKENS_PER_STEP


def test_an_experiment_recorded_again_after_a_resume_adds_no_second_trial(tmp_path):
    path = tmp_path / "study.db"
    SearchPolicy(path, "s", BITS_PER_BYTE, task="lm").record("s-002", {"lr": 1e-3}, 2.8)
    again = SearchPolicy(path, "s", BITS_PER_BYTE, task="lm")  # the node re-runs
    again.record("s-002", {"lr": 1e-3}, 2.8)
    assert len(again.study.trials) == 1


def test_defaults_come_from_the_trainers_own_config():
    from magnet.tools.bitnet.config import DEFAULT_LR, TrainConfig
    from magnet.tools.bitnet.model import ModelConfig
    from magnet.tools.search.policy import default

    assert default("lr") == DEFAULT_LR["ternary"] and default("merge") == "diloco"
    assert default("batch_size") == TrainConfig.model_fields["batch_size"].default
    assert default("n_layers") == ModelConfig().n_layers
