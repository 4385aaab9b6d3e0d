import math

from magnet.tools import evaluate


def test_bits_per_byte():
    assert evaluate.bits_per_byte(math.log(2), 1.0) == 1.0
    assert evaluate.bits_per_byte(math.log(2) * 4, 2.0) == 2.0


def test_classification_metrics_by_hand():
    y_true = [0, 0, 0, 0, 1, 1]
    y_pred = [0, 0, 0, 1, 1, 0]
    m = evaluate.classification_metrics(y_true, y_pred, ["ham", "spam"])
    assert m["confusion"] == [[3, 1], [1, 1]]
    assert m["accuracy"] == 4 / 6
    assert m["balanced_accuracy"] == (3 / 4 + 1 / 2) / 2
    # ham: precision 3/4, recall 3/4 → F1 0.75; spam: precision 1/2, recall 1/2 → 0.5
    assert m["f1"] == {"ham": 0.75, "spam": 0.5}
    assert m["f1_macro"] == 0.625


def test_always_up_has_a_high_hit_rate_but_chance_balanced_accuracy():
    m = evaluate.direction_metrics([1, 1, 1, 0], [1, 1, 1, 1])
    assert m["hit_rate"] == 0.75 and m["balanced_accuracy"] == 0.5 and m["up_rate"] == 1.0


def test_verdict_against_the_best_and_the_noise_floor():
    assert evaluate.verdict(0.95, "ok", 0.90, 0.02, True) == "improved"
    assert evaluate.verdict(0.91, "ok", 0.90, 0.02, True) == "no_change"
    assert evaluate.verdict(0.85, "ok", 0.90, 0.02, True) == "worse"
    assert evaluate.verdict(2.5, "ok", 2.6, 0.01, False) == "improved"  # lower is better
    assert evaluate.verdict(None, "ok", 0.9, 0.0, True) == "failed"
    assert evaluate.verdict(0.9, "timeout", None, 0.0, True) == "failed"
    assert evaluate.verdict(0.9, "ok", None, 0.0, True) == "first"  # nothing to improve on


def test_noise_floor_is_the_baseline_spread():
    assert evaluate.noise_floor([0.9]) == 0.0
    assert abs(evaluate.noise_floor([0.90, 0.94, 0.91]) - 0.04) < 1e-12
