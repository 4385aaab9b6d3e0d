"""A generated dataset on disk, and loading it like any other.

    out/generation.json   {"name", "task", "base", "generation": [Generation, ...]}
    out/data.jsonl        {"text", "label"} per line (classify), {"text"} (lm) — split as usual
    out/prices.csv        close,high,low,volume (direction)
    out/train_extra.jsonl examples added to the train split only (failure-driven, noise)

`base` names another dataset (a built-in or a path) that this one extends: its splits are
used as they are and train_extra.jsonl joins its train split. Extra examples that nearly
repeat a validation or test text are dropped on load (the leakage guard), and the card says
how many.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from magnet.tools.datasets.types import Dataset, Generation, Provenance, Task
from magnet.tools.errors import DatasetError

META = "generation.json"


def is_generated(path: Path) -> bool:
    return path.is_dir() and (path / META).is_file()


def save_generated(
    out: Path,
    task: Task,
    data,
    generation: Generation,
    base: str | None = None,
) -> Path:
    """`data`: examples (classify, lm) or prices (direction). Written beside `out` and renamed
    into place; an existing non-empty `out` is refused, not overwritten."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DatasetError(f"{out} exists and is not empty: choose another --out")
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if task == "direction":
        rows = zip(*(data[c] for c in ("close", "high", "low", "volume")), strict=True)
        lines = ["close,high,low,volume"] + [",".join(f"{v:.6f}" for v in r) for r in rows]
        (tmp / "prices.csv").write_text("\n".join(lines) + "\n")
    elif base is None:
        _write_jsonl(tmp / "data.jsonl", data)
    else:
        _write_jsonl(tmp / "train_extra.jsonl", data)
    meta = {"name": out.name, "task": task, "base": base, "generation": [generation.model_dump()]}
    (tmp / META).write_text(json.dumps(meta, indent=1))
    if out.exists():
        out.rmdir()
    tmp.replace(out)
    return out


def add_to_train(path: Path, examples, generation: Generation) -> int:
    """Append examples to `path`'s train split only; returns how many lines it now holds."""
    meta = _meta(path)
    extra = path / "train_extra.jsonl"
    with extra.open("a") as f:
        for e in examples:
            f.write(json.dumps(e.model_dump()) + "\n")
    meta["generation"].append(generation.model_copy(update={"split": "train"}).model_dump())
    (path / META).write_text(json.dumps(meta, indent=1))
    return sum(1 for _ in extra.open())


def load_generated(path: Path, task: Task | None) -> Dataset:
    from magnet.tools.datasets import load_dataset
    from magnet.tools.datasets.prices import read_prices_csv
    from magnet.tools.datasets.series import direction_dataset
    from magnet.tools.datasets.text import labeled_dataset, text_dataset

    meta = _meta(path)
    if task is not None and task != meta["task"]:
        raise DatasetError(f"{path} was generated for task '{meta['task']}', not '{task}'")
    about = Provenance(
        name=meta["name"],
        source=str(path),
        license="generated",
        description=f"generated: {meta['generation'][0].get('describe') or meta['task']}",
    )
    if meta.get("base"):
        ds = load_dataset(meta["base"], meta["task"])
    elif meta["task"] == "direction":
        ds = direction_dataset(read_prices_csv((path / "prices.csv").read_text(), path.name), about)
    elif meta["task"] == "lm":
        rows = _read_jsonl(path / "data.jsonl")
        ds = text_dataset([(f"{i:06d}", r["text"]) for i, r in enumerate(rows)], about)
    else:
        rows = _read_jsonl(path / "data.jsonl")
        ds = labeled_dataset([r["text"] for r in rows], [r["label"] for r in rows], about)
    own = [Generation(**g) for g in meta["generation"]]
    ds.card.generation = (ds.card.generation if meta.get("base") else []) + own
    if (path / "train_extra.jsonl").exists():
        _join_train(ds, _read_jsonl(path / "train_extra.jsonl"))
    return ds


def _join_train(ds, rows: list[dict]) -> None:
    """Extra examples into train only, minus near duplicates of any val or test text."""
    from magnet.tools.datasets.dedupe import NearDuplicates
    from magnet.tools.datasets.types import LabeledDataset

    if not isinstance(ds, LabeledDataset):
        raise DatasetError("train_extra.jsonl extends classification data only")
    guard = NearDuplicates()
    for text in ds.val.texts + ds.test.texts:
        guard.add(text)
    h = hashlib.sha256(ds.card.sha256.encode())
    added = leaked = unknown = 0
    for r in rows:
        if r.get("label") not in ds.labels:
            unknown += 1
        elif guard.match(r["text"]):
            leaked += 1
        else:
            ds.train.texts.append(r["text"])
            ds.train.labels.append(ds.labels.index(r["label"]))
            h.update(r["label"].encode() + b"\t" + r["text"].encode() + b"\n")
            added += 1
    ds.card.sha256 = h.hexdigest()
    ds.card.sizes["train"] = len(ds.train.texts)
    ds.card.notes.append(
        f"train_extra: {added} added to train, {leaked} dropped as near duplicates of "
        f"val/test, {unknown} with an unknown label"
    )


def _meta(path: Path) -> dict:
    try:
        meta = json.loads((path / META).read_text())
        meta["task"], meta["generation"]  # noqa: B018 (required keys)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DatasetError(f"{path / META}: unreadable ({type(e).__name__}: {e})") from None
    return meta


def _write_jsonl(path: Path, examples) -> None:
    lines = [json.dumps({k: v for k, v in e.model_dump().items() if v != ""}) for e in examples]
    path.write_text("".join(line + "\n" for line in lines))


def _read_jsonl(path: Path) -> list[dict]:
    from magnet.tools.datasets.user import read_jsonl

    return read_jsonl(path, ("text",))
