"""Typed datasets: one class per task kind, each with a fixed train/val/test split and a card."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from magnet.tools.datasets.documents import Docs

Task = Literal["lm", "classify", "direction"]
SPLITS = ("train", "val", "test")


class Provenance(BaseModel):
    """Where a dataset comes from: what every loader knows before reading a byte."""

    name: str
    source: str = Field(description="where the content was read from")
    license: str
    description: str = ""


class Generation(BaseModel):
    """How a generated part of a dataset was made: enough to judge it and to make it again."""

    generator: Literal["llm", "templates", "regime-walk", "noise"]
    split: str = Field("all", description="all: split like any data; train: added to train")
    model: str = ""
    prompt_sha256: str = Field("", description="sha256 of the prompt template's source")
    seed: int = 0
    describe: str = ""
    requested: int = 0
    kept: int = 0
    dropped: dict[str, int] = Field({}, description="examples dropped, by reason")
    batches: int = 0
    failed_batches: int = 0
    tokens: int = 0
    seconds: float = 0.0


class DatasetCard(Provenance):
    """What a dataset is, where it came from, and a hash that pins its exact content."""

    task: Task
    sizes: dict[str, int] = Field(description="examples per split: documents, messages or days")
    n_bytes: int | None = Field(None, description="bytes of text, for text datasets")
    labels: list[str] = []
    sha256: str = Field(description="sha256 of the canonical content before splitting")
    notes: list[str] = Field([], description="what loading changed: duplicates, skipped files")
    generation: list[Generation] = Field([], description="generated parts, oldest first")


DOC_SEPARATOR = "\n\n"  # between documents when a split is read as one text


@dataclass
class TextDataset:
    """A corpus for language modelling: documents per split, read on demand."""

    card: DatasetCard
    train: Docs
    val: Docs
    test: Docs


@dataclass
class LabeledSplit:
    texts: list[str]
    labels: list[int]


@dataclass
class LabeledDataset:
    """Texts with class labels (indices into `labels`) per split."""

    card: DatasetCard
    labels: list[str]
    train: LabeledSplit
    val: LabeledSplit
    test: LabeledSplit


@dataclass
class SeriesSplit:
    x: np.ndarray  # [n, window, features] float32, normalised with train statistics
    y: np.ndarray  # [n] int64: 1 when the next day's close is above today's


@dataclass
class SeriesDataset:
    """Windows of past daily features labelled with the next day's direction, time-ordered."""

    card: DatasetCard
    feature_names: list[str]
    train: SeriesSplit
    val: SeriesSplit
    test: SeriesSplit
    labels: list[str] = field(default_factory=lambda: ["down", "up"])


Dataset = TextDataset | LabeledDataset | SeriesDataset
