"""Text corpora made of files: each file streamed once, the result remembered by the listing.

    ds = text_files(root, files, about)   # a TextDataset whose documents are the files

The first load reads every file once, in chunks (UTF-8 check, size, the card's sha256); a file
that is not UTF-8 or cannot be read is skipped and named in the card. The dataset (card and
split assignment, no text) is then kept under the cache, keyed by each file's path, size and
modification time, so a later load of an unchanged corpus reads no file at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import asdict
from pathlib import Path

from magnet.tools.datasets.documents import Docs, FileText
from magnet.tools.datasets.text import text_dataset
from magnet.tools.datasets.types import SPLITS, DatasetCard, Provenance, TextDataset
from magnet.tools.errors import DatasetError
from magnet.tools.paths import cache_dir


def text_files(
    root: Path, files: list[Path], about: Provenance, errors: str = "strict"
) -> TextDataset:
    key = _listing_key(root, files, errors, about)
    place = cache_dir() / "datasets" / f"{key}.json"
    if (kept := _load(place)) is not None:
        return kept
    docs, skipped = [], []
    for p in files:
        try:
            docs.append((_name(root, p), FileText.scan(p, errors)))
        except (UnicodeDecodeError, OSError) as e:
            skipped.append(_why(p, e))
    if not docs:
        why = f" ({len(skipped)} files skipped: {', '.join(skipped[:3])})" if skipped else ""
        raise DatasetError(f"{root}: no text files found{why}")
    notes = [f"skipped {len(skipped)} files: {', '.join(skipped[:5])}"] if skipped else []
    ds = text_dataset(docs, about, notes=notes)
    _save(place, ds)
    return ds


def _name(root: Path, path: Path) -> str:
    return str(path.relative_to(root)) if root.is_dir() else path.name


def _why(path: Path, e: Exception) -> str:
    if isinstance(e, UnicodeDecodeError):
        return f"{path.name} (not UTF-8 text)"
    return f"{path.name} ({getattr(e, 'strerror', None) or e})"


def _listing_key(root: Path, files: list[Path], errors: str, about: Provenance) -> str:
    listing = []
    for p in files:
        try:
            st = p.stat()
            listing.append((str(p), st.st_size, st.st_mtime_ns))
        except OSError:
            listing.append((str(p), -1, -1))
    blob = json.dumps([str(root.resolve()), errors, about.model_dump(), listing])
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _save(place: Path, ds: TextDataset) -> None:
    """Best effort: a cache that cannot be written (read-only, full) only costs a rescan."""
    splits = {s: [[_piece(p) for p in doc] for doc in getattr(ds, s).docs] for s in SPLITS}
    blob = json.dumps({"card": ds.card.model_dump(), "splits": splits})
    tmp = place.with_name(f".{place.name}.{os.getpid()}-{secrets.token_hex(3)}")
    try:
        place.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(blob)
        tmp.replace(place)
    except OSError:
        tmp.unlink(missing_ok=True)


def _load(place: Path) -> TextDataset | None:
    try:
        kept = json.loads(place.read_text())
        card = DatasetCard.model_validate(kept["card"])
        splits = [
            Docs([tuple(_unpiece(p) for p in doc) for doc in kept["splits"][s]]) for s in SPLITS
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return TextDataset(card, *splits)


def _piece(p) -> dict:
    return {"text": p} if isinstance(p, str) else {**asdict(p), "path": str(p.path)}


def _unpiece(d: dict):
    return d["text"] if "text" in d else FileText(**{**d, "path": Path(d["path"])})
