"""Content hashes: one canonical JSON for settings and records, and files by their bytes.

    canonical_sha256({"lr": 1e-3, "n": 16.0}) == canonical_sha256({"n": 16, "lr": 0.001})

Memory keys configs by it (never run twice) and the ledger pins experiment records with it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def canonical_json(value) -> str:
    """Sorted keys, no spaces, `-` in keys read as `_`, integral floats as ints."""
    return json.dumps(_normalise(value), sort_keys=True, separators=(",", ":"), default=str)


def canonical_sha256(value) -> str:
    """The same settings hash the same, whatever their order or spelling (1e-3 == 0.001)."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _normalise(value):
    if isinstance(value, dict):
        return {str(k).replace("-", "_"): _normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
