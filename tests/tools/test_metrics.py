import math

from magnet.tools import metrics
from magnet.tools.metrics import BALANCED_ACCURACY as ACC
from magnet.tools.metrics import BITS_PER_BYTE as BITS


def test_bits_per_byte():
    assert metrics.bits_per_byte(math.log(2), 1.0) == 1.0
    assert metrics.bits_per_byte(math.log(2) * 4, 2.0) == 2.0


def test_classification_metrics_by_hand():
    y_true = [0, 0, 0, 0, 1, 1]
    y_pred = [0, 0, 0, 1, 1, 0]
    m = metrics.classification_metrics(y_true, y_pred, ["ham", "spam"])
    assert m["confusion"] == [[3, 1], [1, 1]]
    assert m["accuracy"] == 4 / 6
    assert m["balanced_accuracy"] == (3 / 4 + 1 / 2) / 2
    # ham: precision 3/4, recall 3/4 → F1 0.75; spam: precision 1/2, recall 1/2 → 0.5
    assert m["f1"] == {"ham": 0.75, "spam": 0.5}
    assert m["f1_macro"] == 0.625


def test_always_up_has_a_high_hit_rate_but_chance_balanced_accuracy():
    m = metrics.direction_metrics([1, 1, 1, 0], [1, 1, 1, 1])
    assert m["hit_rate"] == 0.75 and m["balanced_accuracy"] == 0.5 and m["up_rate"] == 1.0


def test_verdict_against_the_best_and_the_noise_floor():
    assert ACC.verdict(0.95, "ok", 0.90, 0.02) == "improved"
    assert ACC.verdict(0.91, "ok", 0.90, 0.02) == "no_change"
    assert ACC.verdict(0.85, "ok", 0.90, 0.02) == "worse"
    assert BITS.verdict(2.5, "ok", 2.6, 0.01) == "improved"  # lower is better
    assert ACC.verdict(None, "ok", 0.9, 0.0) == "failed"
    assert ACC.verdict(0.9, "timeout", None, 0.0) == "failed"
    assert ACC.verdict(0.9, "ok", None, 0.0) == "first"  # nothing to improve on


def test_noise_floor_is_the_baseline_spread():
    assert metrics.noise_floor([0.9]) == 0.0
    assert abs(metrics.noise_floor([0.90, 0.94, 0.91]) - 0.04) < 1e-12


def test_a_metric_knows_which_way_is_better():
    assert metrics.metric("bits_per_byte") == BITS and not BITS.higher_is_better
    assert metrics.metric("hit_rate").higher_is_better and metrics.metric("loss") != ACC
    assert BITS.better(1.9, 2.0) and not BITS.better(2.0, 2.0) and BITS.better(9.0, None)
    assert ACC.better(0.9, 0.8) and not ACC.better(0.8, 0.9)
    assert BITS.gain(1.9, 2.0) > 0 > ACC.gain(0.8, 0.9)
    assert BITS.reached(2.0, 2.0) and not BITS.reached(2.1, 2.0) and ACC.reached(0.95, 0.9)
    assert BITS.ranked([2.1, 1.9, 2.0]) == [1.9, 2.0, 2.1] and ACC.best([0.1, 0.7, 0.3]) == 0.7
    runs = [("a", 0.5), ("b", 0.9), ("c", 0.9)]
    assert [r for r, _ in ACC.ranked(runs, key=lambda r: r[1])] == ["b", "c", "a"]  # stable
    assert ACC.best([]) is None
