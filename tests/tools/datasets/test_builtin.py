import numpy as np
import pytest

from magnet.tools.datasets import BUILTINS, load_dataset
from magnet.tools.errors import DatasetError


def test_every_builtin_loads_offline_with_a_card():
    for name, builtin in BUILTINS.items():
        ds = load_dataset(name)
        card = ds.card
        assert card.name == name and card.task == builtin.task
        assert len(card.sha256) == 64 and card.license
        assert all(card.sizes[s] > 0 for s in ("train", "val", "test"))


def test_splits_are_fixed_by_the_seed():
    a, b = load_dataset("shakespeare"), load_dataset("shakespeare")
    assert a.val == b.val and a.card.sha256 == b.card.sha256


def test_lm_documents_do_not_cross_splits():
    ds = load_dataset("python-stdlib")
    assert not set(ds.train) & set(ds.val) and not set(ds.train) & set(ds.test)
    assert ds.card.sizes["train"] > 10 * ds.card.sizes["val"]


def test_sms_spam_has_no_message_in_two_splits():
    ds = load_dataset("sms-spam")
    assert ds.labels == ["ham", "spam"]
    train = {t.strip() for t in ds.train.texts}
    for split in (ds.val, ds.test):
        assert not train & {t.strip() for t in split.texts}
    assert any("duplicates dropped" in n for n in ds.card.notes)
    # Stratified: spam is a similar share of every split.
    shares = [np.mean(s.labels) for s in (ds.train, ds.val, ds.test)]
    assert max(shares) - min(shares) < 0.02


def test_sp500_is_split_in_time_order_and_standardised_on_train():
    ds = load_dataset("sp500")
    assert ds.train.x.shape[1:] == (32, 3)
    assert set(np.unique(ds.train.y)) == {0, 1}
    assert abs(ds.train.x[:, -1, 0].mean()) < 0.1 and abs(ds.train.x[:, -1, 0].std() - 1) < 0.1
    # Consecutive windows: the last day of sample i is the second-to-last day of sample i+1.
    assert np.allclose(ds.val.x[1:, -2], ds.val.x[:-1, -1])


def test_builtin_for_the_wrong_task_is_refused():
    with pytest.raises(DatasetError, match="is for task 'classify'"):
        load_dataset("sms-spam", task="lm")


def test_unknown_name_lists_the_builtins():
    with pytest.raises(DatasetError, match="unknown dataset 'nope'.*shakespeare"):
        load_dataset("nope", task="lm")
