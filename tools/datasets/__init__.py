"""Datasets: built-in offline corpora and user files, each split once, with a dataset card.

from magnet.tools.datasets import load_dataset
ds = load_dataset("shakespeare", task="lm")
"""

from __future__ import annotations

from pathlib import Path

from magnet.tools.datasets.builtin import BUILTINS
from magnet.tools.datasets.types import (
    Dataset,
    DatasetCard,
    LabeledDataset,
    SeriesDataset,
    Task,
    TextDataset,
)
from magnet.tools.errors import DatasetError

__all__ = [
    "data_ref",
    "BUILTINS",
    "Dataset",
    "DatasetCard",
    "LabeledDataset",
    "SeriesDataset",
    "Task",
    "TextDataset",
    "load_dataset",
]


def load_dataset(name_or_path: str, task: Task | None = None) -> Dataset:
    """A built-in dataset by name, or user data at a path read for `task`."""
    if name_or_path in BUILTINS:
        builtin = BUILTINS[name_or_path]
        if task is not None and task != builtin.task:
            raise DatasetError(
                f"dataset '{name_or_path}' is for task '{builtin.task}', not '{task}'"
            )
        return builtin.load()
    path = Path(name_or_path).expanduser()
    if not path.exists():
        names = ", ".join(BUILTINS)
        raise DatasetError(
            f"unknown dataset '{name_or_path}': not a built-in ({names}) nor an existing path"
        )
    from magnet.tools.datasets.generated import is_generated, load_generated

    if is_generated(path):  # it knows its task
        return load_generated(path, task)
    if task is None:
        raise DatasetError(f"{path}: say which task the file is for (lm, classify, direction)")
    from magnet.tools.datasets.user import load_user

    return load_user(path, task)


def data_ref(name_or_path: str) -> str:
    """How a run records its data: a built-in name as is, an existing path made absolute."""
    path = Path(name_or_path).expanduser()
    if name_or_path in BUILTINS or not path.exists():
        return name_or_path
    return str(path.resolve())
