"""Seeded, leakage-free train/val/test splits for documents, labelled texts and time series."""

from __future__ import annotations

import random
from collections import defaultdict

from magnet.tools.datasets.documents import Docs, Piece, cut
from magnet.tools.datasets.types import DOC_SEPARATOR
from magnet.tools.errors import DatasetError

# Fewer documents than this are joined and cut into contiguous ranges instead of split whole.
MIN_WHOLE_DOCUMENTS = 10


def split_documents(
    docs: list[Piece], val_frac: float, test_frac: float, seed: int
) -> tuple[Docs, Docs, Docs]:
    """Whole documents go to one split each; a handful of documents are joined and cut by
    character position (nothing is read: the cuts are ranges of the files)."""
    if len(docs) >= MIN_WHOLE_DOCUMENTS:
        order = list(range(len(docs)))
        random.Random(seed).shuffle(order)
        n_val, n_test = _counts(len(docs), val_frac, test_frac)
        picked = [(docs[i],) for i in order]
        return (
            Docs(picked[n_val + n_test :]),
            Docs(picked[:n_val]),
            Docs(picked[n_val : n_val + n_test]),
        )
    joined = [p for i, doc in enumerate(docs) for p in ((DOC_SEPARATOR, doc) if i else (doc,))]
    total = sum(len(p) for p in joined)
    n_val, n_test = _counts(total, val_frac, test_frac)
    if total - n_val - n_test < n_val:
        raise DatasetError(f"corpus too small to split: {total} characters")
    at = total - n_val - n_test
    return (
        Docs([cut(joined, 0, at)]),
        Docs([cut(joined, at, at + n_val)]),
        Docs([cut(joined, at + n_val, total)]),
    )


def dedupe_labeled(texts: list[str], labels: list[str]) -> tuple[list[str], list[str], int, int]:
    """Drop exact repeats (after stripping) so no message sits in two splits.

    Returns the kept texts and labels, the number of repeats dropped, and how many of those
    repeats carried a different label than the first occurrence (the first one wins).
    """
    first: dict[str, str] = {}
    kept_t, kept_l, conflicts = [], [], 0
    for text, label in zip(texts, labels, strict=True):
        key = text.strip()
        if key in first:
            conflicts += first[key] != label
            continue
        first[key] = label
        kept_t.append(text)
        kept_l.append(label)
    return kept_t, kept_l, len(texts) - len(kept_t), conflicts


def split_stratified(
    labels: list[int], val_frac: float, test_frac: float, seed: int
) -> tuple[list[int], list[int], list[int]]:
    """Indices per split, each class shuffled and cut in the same proportions."""
    by_class: dict[int, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        by_class[label].append(i)
    rng = random.Random(seed)
    train, val, test = [], [], []
    for label in sorted(by_class):
        idx = by_class[label]
        rng.shuffle(idx)
        n_val, n_test = _counts(len(idx), val_frac, test_frac)
        val += idx[:n_val]
        test += idx[n_val : n_val + n_test]
        train += idx[n_val + n_test :]
    for part in (train, val, test):
        rng.shuffle(part)
    return train, val, test


def split_ordered(n: int, val_frac: float, test_frac: float) -> tuple[range, range, range]:
    """Consecutive index ranges: the past trains, the future validates and tests."""
    n_val, n_test = _counts(n, val_frac, test_frac)
    cut = n - n_val - n_test
    return range(0, cut), range(cut, cut + n_val), range(cut + n_val, n)


def _counts(n: int, val_frac: float, test_frac: float) -> tuple[int, int]:
    """At least one item in val and test whenever there are three items or more."""
    if n < 3:
        raise DatasetError(f"too few examples to split into train/val/test: {n}")
    return max(1, round(n * val_frac)), max(1, round(n * test_frac))
