"""User data: a directory of text files, a JSONL or CSV of text + label, a CSV of OHLCV prices."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from magnet.tools.datasets.corpus import text_files
from magnet.tools.datasets.prices import read_prices_csv
from magnet.tools.datasets.series import direction_dataset
from magnet.tools.datasets.text import labeled_dataset
from magnet.tools.datasets.types import Dataset, Provenance, Task
from magnet.tools.errors import DatasetError


def load_user(path: Path, task: Task) -> Dataset:
    if task == "lm":
        return _text_files(path)
    if path.is_dir():
        raise DatasetError(f"{path}: a directory; task '{task}' needs a .jsonl or .csv file")
    if task == "direction":
        return direction_dataset(
            read_prices_csv(_read(path), path.name),
            _about(path, "daily prices from a user CSV"),
        )
    if path.suffix.lower() == ".jsonl":
        texts, labels = _jsonl_rows(path)
    elif path.suffix.lower() == ".csv":
        texts, labels = _csv_rows(path)
    else:
        raise DatasetError(f"{path}: expected a .jsonl or .csv file with text and label columns")
    return labeled_dataset(
        texts,
        labels,
        _about(path, "labelled texts from a user file"),
    )


def _text_files(path: Path) -> Dataset:
    """A file, or every file under a directory (hidden ones aside), each a document."""
    files = (
        [path]
        if path.is_file()
        else sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p.relative_to(path)))
    )
    return text_files(path, files, _about(path, "text files from a user directory"))


def _jsonl_rows(path: Path) -> tuple[list[str], list[str]]:
    rows = read_jsonl(path, ("text", "label"))
    return [str(r["text"]) for r in rows], [str(r["label"]) for r in rows]


def read_jsonl(path: Path, keys: tuple[str, ...]) -> list[dict]:
    """One JSON object a line (blank lines skipped), each with `keys`; clear errors by line."""
    rows = []
    for n, line in enumerate(_read(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise DatasetError(f"{path} line {n}: not valid JSON ({e.msg})") from None
        if not isinstance(row, dict) or any(k not in row for k in keys):
            wanted = " and ".join(f"'{k}'" for k in keys)
            raise DatasetError(f"{path} line {n}: expected an object with {wanted}")
        rows.append(row)
    return rows


def _csv_rows(path: Path) -> tuple[list[str], list[str]]:
    reader = csv.DictReader(io.StringIO(_read(path)))
    fields = {f.strip().lower(): f for f in reader.fieldnames or []}
    if "text" not in fields or "label" not in fields:
        found = ", ".join(reader.fieldnames or []) or "none"
        raise DatasetError(f"{path}: needs columns 'text' and 'label' (found: {found})")
    rows = list(reader)
    return [r[fields["text"]] or "" for r in rows], [r[fields["label"]] or "" for r in rows]


def _about(path: Path, description: str) -> Provenance:
    return Provenance(
        name=path.stem or path.name, source=str(path), license="user data", description=description
    )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: not a UTF-8 text file") from None


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") for part in rel.parts)
