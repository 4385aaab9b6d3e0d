"""Classical baselines on a dataset's own splits: compressor, TF-IDF + LR, majority class."""

import random

import pytest

from magnet.tools.harness import baselines
from magnet.tools.harness.baselines import best_of, classical_baselines, hit_rate_interval


@pytest.fixture(autouse=True)
def own_cache(monkeypatch):
    """These tests compute (and cache under their own home) rather than share the run's."""
    monkeypatch.delenv("MAGNET_BASELINE_CACHE")


def _corpus(path, alphabet: str, seed: int):
    """20 documents of 2 kB drawn from `alphabet`: the fewer letters, the fewer bits a byte."""
    rng = random.Random(seed)
    path.mkdir()
    for i in range(20):
        (path / f"doc{i:02d}.txt").write_text("".join(rng.choice(alphabet) for _ in range(2000)))
    return path


def test_the_compressor_baseline_is_conditional_bits_per_byte(tmp_path):
    two = classical_baselines("lm", str(_corpus(tmp_path / "ab", "ab", 0)), tmp_path)
    many = classical_baselines("lm", str(_corpus(tmp_path / "az", "abcdefghijklmnop", 0)), tmp_path)
    [b2], [b16] = two, many
    assert b2.metric == "bits_per_byte"
    # Random text over 2 letters carries 1 bit a byte, over 16 letters 4: xz gets close.
    assert 0.95 < b2.val < 1.5 and 0.95 < b2.test < 1.5
    assert 3.9 < b16.val < 5.0


def test_a_repeated_text_costs_almost_nothing_given_the_training_text(tmp_path):
    corpus = _corpus(tmp_path / "c", "abcdefgh", 1)
    shared = (corpus / "doc00.txt").read_text()
    for p in corpus.iterdir():  # every document the same: val and test repeat train
        p.write_text(shared + p.name)
    [b] = classical_baselines("lm", str(corpus), tmp_path)
    assert b.val < 0.2 and b.test < 0.2


def test_tfidf_logistic_regression_on_sms_spam_with_an_interval(tmp_path):
    [b] = classical_baselines("classify", "sms-spam", tmp_path)
    assert b.name == "TF-IDF + logistic regression"
    assert b.val > 0.93 and b.test > 0.93
    assert b.test_low < b.test < b.test_high and b.test_high - b.test_low < 0.1


def test_direction_baselines_and_the_majority_class(tmp_path):
    found = classical_baselines("direction", "sp500", tmp_path)
    majority = next(b for b in found if b.name == "majority class")
    assert majority.val == majority.test == 0.5  # balanced accuracy of a constant
    low, high = hit_rate_interval(0.5, 750)
    assert high - low == pytest.approx(2 * 1.96 * 0.5 / 750**0.5)
    assert best_of(found).val >= majority.val


def test_results_are_cached_by_the_dataset_content(tmp_path, monkeypatch):
    first = classical_baselines("classify", "sms-spam", tmp_path)
    monkeypatch.setattr(baselines, "_classify", lambda ds: pytest.fail("recomputed"))
    assert classical_baselines("classify", "sms-spam", tmp_path) == first
    [cached] = (tmp_path / "baselines").iterdir()
    cached.write_text("{not json")  # a damaged entry is recomputed, not trusted
    monkeypatch.undo()
    again = classical_baselines("classify", "sms-spam", tmp_path)
    assert [b.model_dump(exclude={"seconds"}) for b in again] == [
        b.model_dump(exclude={"seconds"}) for b in first
    ]
