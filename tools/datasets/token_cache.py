"""Tokenize a text dataset once: token ids per split in flat files, read through a memory map.

    splits = cached_tokens(dataset, tokenizer)           # under $MAGNET_HOME/cache/tokens
    splits["train"].ids[i : i + 257], splits["val"].bytes_per_token

One directory per (dataset content sha256, tokenizer fingerprint) holds `train.bin`,
`val.bin`, `test.bin` (uint8 for bytes, uint16 where the vocabulary fits as in nanoGPT's
train.bin, else uint32)
and `meta.json`. It is written in a temporary directory and renamed into place as a whole, so a
directory under its final name is complete: a killed or failed build (a full disk, a file that
changed while it was read) leaves nothing a later run would trust. Documents are joined with
DOC_SEPARATOR as a split is read for training; memory stays at one chunk of text however large
the corpus. Where the cache is read-only (a sandboxed trainer) and cold, the tokens go to
`fallback` instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from magnet.tools.datasets.documents import CHUNK
from magnet.tools.datasets.tokenizer import Tokenizer
from magnet.tools.datasets.types import DOC_SEPARATOR, SPLITS, TextDataset
from magnet.tools.errors import DatasetError
from magnet.tools.paths import built_whole, cache_dir

META = "meta.json"


class SplitMeta(BaseModel):
    tokens: int
    n_bytes: int


class CacheMeta(BaseModel):
    sha256: str
    tokenizer: str
    dtype: str
    splits: dict[str, SplitMeta]


class TokenSplit:
    """One split's ids (a read-only memory map) and its bytes per token."""

    def __init__(self, path: Path, dtype: str, meta: SplitMeta) -> None:
        self.ids = np.memmap(path, dtype=dtype, mode="r") if meta.tokens else np.zeros(0, dtype)
        self.bytes_per_token = meta.n_bytes / max(meta.tokens, 1)

    def __len__(self) -> int:
        return len(self.ids)


def cached_tokens(
    ds: TextDataset, tok: Tokenizer, root: Path | None = None, fallback: Path | None = None
) -> dict[str, TokenSplit]:
    """The splits' tokens, built on first use; `fallback` is where to build them when `root`
    cannot be written (None: that is an error)."""
    root = root or cache_dir() / "tokens"
    name = f"{ds.card.sha256[:24]}-{tok.fingerprint()[:16]}"
    for where in (root / name, fallback):
        if where is not None and (meta := _read_meta(where)) is not None:
            return _open(where, meta)
    try:
        return _open(root / name, _build(ds, tok, root / name))
    except PermissionError:
        if fallback is None:
            raise
    except OSError as e:
        if fallback is None or e.errno != 30:  # EROFS: a read-only cache in the sandbox
            raise DatasetError(f"cannot write the token cache in {root}: {e.strerror}") from None
    return _open(fallback, _build(ds, tok, fallback))


def _open(where: Path, meta: CacheMeta) -> dict[str, TokenSplit]:
    return {s: TokenSplit(where / f"{s}.bin", meta.dtype, meta.splits[s]) for s in SPLITS}


def _read_meta(where: Path) -> CacheMeta | None:
    """The directory's meta when it is complete and its files have the sizes it says."""
    try:
        meta = CacheMeta.model_validate_json((where / META).read_text())
        size = np.dtype(meta.dtype).itemsize
        if all(
            (where / f"{s}.bin").stat().st_size == m.tokens * size for s, m in meta.splits.items()
        ):
            return meta
    except (OSError, ValueError):
        pass
    return None


def _build(ds: TextDataset, tok: Tokenizer, final: Path) -> CacheMeta:
    dtype = (
        "uint8" if tok.vocab_size <= 256 else "uint16" if tok.vocab_size <= 1 << 16 else "uint32"
    )
    with built_whole(final, lambda where: _read_meta(where) is not None) as tmp:
        splits = {s: _write_split(getattr(ds, s), tok, dtype, tmp / f"{s}.bin") for s in SPLITS}
        meta = CacheMeta(
            sha256=ds.card.sha256, tokenizer=tok.fingerprint(), dtype=dtype, splits=splits
        )
        with (tmp / META).open("w") as f:
            f.write(meta.model_dump_json())
            f.flush()
            os.fsync(f.fileno())
    return meta


def _write_split(docs, tok: Tokenizer, dtype: str, path: Path) -> SplitMeta:
    separator = tok.encode(DOC_SEPARATOR).astype(dtype)
    tokens = n_bytes = 0
    with path.open("wb") as f:
        for i in range(len(docs)):
            if i:
                f.write(separator.tobytes())
                tokens, n_bytes = tokens + len(separator), n_bytes + len(DOC_SEPARATOR)
            for text in _lines_whole(docs.chunks(i)):
                ids = tok.encode_many(text)
                f.write(ids.astype(dtype).tobytes())
                tokens, n_bytes = tokens + len(ids), n_bytes + len(text.encode())
        f.flush()
        os.fsync(f.fileno())
    if not tokens:
        raise DatasetError(f"the {path.stem} split has no text to tokenize")
    return SplitMeta(tokens=tokens, n_bytes=n_bytes)


def _lines_whole(chunks):
    """Chunks cut after a newline where there is one, so a BPE word is rarely split in two."""
    rest = ""
    for chunk in chunks:
        chunk = rest + chunk
        cut = chunk.rfind("\n") + 1
        if cut == 0 and len(chunk) < 4 * CHUNK:  # a line that long is cut anyway
            rest = chunk
            continue
        cut = cut or len(chunk)
        rest = chunk[cut:]
        yield chunk[:cut]
    if rest:
        yield rest
