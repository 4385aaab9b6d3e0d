"""The config the policy reshapes for the compute the session's expert will get."""

import pytest

from magnet.tools.bitnet.config import make_config
from magnet.tools.metrics import BALANCED_ACCURACY, BITS_PER_BYTE
from magnet.tools.search.policy import SearchPolicy
from magnet.tools.search.sizing import SUBWORDS, TOKENS_PER_PARAM, sized_for, tokens_per_param

SEQ = {"seq_len": 128}
BYTES = {**SEQ, "tokenizer": "byte"}


def test_the_measured_budget_gets_the_measured_shape_and_more_compute_a_bigger_model():
    # 2.65e13 FLOPs is 600 steps of the default at seq_len 128, where 2 layers × FFN 512
    # beat the default by 0.28 bits per byte on Shakespeare, BPE 2048 by 0.14 more
    assert sized_for("lm", SEQ, 2.65e13) == {**SUBWORDS, "n_layers": 2, "ffn_dim": 512}
    assert sized_for("lm", BYTES, 2.65e13) == {"n_layers": 2, "ffn_dim": 512}
    assert tokens_per_param("lm", SEQ, 2.65e13) == pytest.approx(0.36, abs=0.01)
    sizes = []
    for flops in (1e13, 1e14, 1e15, 1e16):
        shape = {**SEQ, **sized_for("lm", SEQ, flops)}
        sizes.append(make_config("lm", "x", settings=shape).model.non_embedding_params())
        ratio = tokens_per_param("lm", shape, flops)
        assert TOKENS_PER_PARAM / 2 < ratio < TOKENS_PER_PARAM * 2 or flops == 1e13
    assert sizes == sorted(sizes) and sizes[-1] > 4 * sizes[0]


def test_settings_the_user_fixed_stay_and_a_shape_outside_the_space_stops_it():
    assert sized_for("lm", {**BYTES, "n_layers": 4}, 2.65e13) == {"ffn_dim": 512}
    assert sized_for("lm", {**SEQ, "d_model": 768}, 2.65e13) == {}
    fixed = {**SEQ, "n_layers": 2, "ffn_dim": 512, "d_model": 256}
    assert sized_for("lm", fixed, 2.65e13) == SUBWORDS
    assert sized_for("lm", {**fixed, "tokenizer": "byte"}, 2.65e13) == {}
    assert sized_for("lm", {**fixed, "bpe_vocab": 8192}, 2.65e13) == {"tokenizer": "bpe"}


def test_only_magnets_policy_sizes_and_only_text_models(tmp_path):
    sized = SearchPolicy(tmp_path / "a.db", "a", BITS_PER_BYTE, "lm").sized(SEQ, 2.65e13)
    assert sized.diff == {**SUBWORDS, "n_layers": 2, "ffn_dim": 512}
    assert "2.6e+13" in sized.reason and "instead of 0.36" in sized.reason
    assert "a subword (BPE 2048)" in sized.reason
    classifier = SearchPolicy(tmp_path / "e.db", "e", BALANCED_ACCURACY, "classify")
    sized = classifier.sized(SEQ, 2.65e13)
    assert sized.diff["tokenizer"] == "smollm2" and "bpe_vocab" not in sized.diff
    assert "the packaged LLM's tokens" in sized.reason
    plain = SearchPolicy(tmp_path / "b.db", "b", BITS_PER_BYTE, "lm", rules=False)
    assert plain.sized(SEQ, 2.65e13) is None
    series = SearchPolicy(tmp_path / "c.db", "c", BALANCED_ACCURACY, "direction")
    assert series.sized({}, 1e13) is None
    already = {**BYTES, "n_layers": 2, "ffn_dim": 512}
    assert SearchPolicy(tmp_path / "d.db", "d", BITS_PER_BYTE, "lm").sized(already, 2.65e13) is None
