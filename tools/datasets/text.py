"""Build text datasets (language modelling, classification) from loaded documents or rows."""

from __future__ import annotations

import hashlib
from collections import Counter

from magnet.tools.datasets.documents import Piece, piece_chunks
from magnet.tools.datasets.splits import dedupe_labeled, split_documents, split_stratified
from magnet.tools.datasets.types import (
    DatasetCard,
    LabeledDataset,
    LabeledSplit,
    Provenance,
    TextDataset,
)
from magnet.tools.errors import DatasetError

LM_VAL_FRAC = LM_TEST_FRAC = 0.05
CLS_VAL_FRAC = CLS_TEST_FRAC = 0.1
MIN_PER_CLASS = 3


def text_dataset(
    docs: list[tuple[str, Piece]],
    about: Provenance,
    *,
    seed: int = 0,
    notes: list[str] | None = None,
) -> TextDataset:
    """`docs` holds (document name, text or scanned file) pairs in a fixed order; empty
    documents are dropped. Files are streamed, never held whole."""
    docs = [(n, p) for n, p in docs if not _blank(p)]
    if not docs:
        raise DatasetError(f"{about.source}: no non-empty text found")
    h = hashlib.sha256()
    for doc_name, piece in docs:
        h.update(doc_name.encode() + b"\0")
        for chunk in piece_chunks(piece):
            h.update(chunk.encode())
        h.update(b"\0")
    pieces = [p for _, p in docs]
    train, val, test = split_documents(pieces, LM_VAL_FRAC, LM_TEST_FRAC, seed)
    card = DatasetCard(
        **about.model_dump(),
        task="lm",
        sizes={"train": len(train), "val": len(val), "test": len(test)},
        n_bytes=sum(len(p.encode()) if isinstance(p, str) else p.n_bytes for p in pieces),
        sha256=h.hexdigest(),
        notes=notes or [],
    )
    return TextDataset(card, train, val, test)


def _blank(piece: Piece) -> bool:
    return not piece.strip() if isinstance(piece, str) else piece.blank


def labeled_dataset(
    texts: list[str],
    labels: list[str],
    about: Provenance,
    *,
    seed: int = 0,
) -> LabeledDataset:
    """Exact duplicates are dropped before a stratified split, so no text is in two splits."""
    unlabeled = sum(not label.strip() for label in labels)
    if unlabeled:
        raise DatasetError(f"{about.source}: {unlabeled} rows have no label")
    pairs = [(t, lab.strip()) for t, lab in zip(texts, labels, strict=True) if t.strip()]
    if not pairs:
        raise DatasetError(f"{about.source}: no non-empty text found")
    h = hashlib.sha256()
    for text, label in pairs:
        h.update(label.encode() + b"\t" + text.encode() + b"\n")
    kept_t, kept_l, dropped, conflicts = dedupe_labeled(*map(list, zip(*pairs, strict=True)))
    names = sorted(set(kept_l))
    if len(names) < 2:
        raise DatasetError(f"{about.source}: needs at least two labels, found {names}")
    counts = Counter(kept_l)
    rare = [f"{n!r} ({counts[n]})" for n in names if counts[n] < MIN_PER_CLASS]
    if rare:
        raise DatasetError(f"{about.source}: labels with fewer than {MIN_PER_CLASS} texts: {rare}")
    ids = [names.index(lab) for lab in kept_l]
    parts = split_stratified(ids, CLS_VAL_FRAC, CLS_TEST_FRAC, seed)
    splits = [LabeledSplit([kept_t[i] for i in p], [ids[i] for i in p]) for p in parts]
    notes = [f"{dropped} exact duplicates dropped ({conflicts} with a different label)"]
    card = DatasetCard(
        **about.model_dump(),
        task="classify",
        sizes={s: len(p) for s, p in zip(("train", "val", "test"), parts, strict=True)},
        n_bytes=sum(len(t.encode()) for t in kept_t),
        labels=names,
        sha256=h.hexdigest(),
        notes=notes + [f"{n}: {counts[n]}" for n in names],
    )
    return LabeledDataset(card, names, *splits)
