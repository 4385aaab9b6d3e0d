"""What each task feeds the model, how it scores a batch, and how the harness evaluates it.

A task object owns the tokenized splits; the trainer only asks it for batches and metrics:

    task.train_batch(generator)   a batch drawn with the trainer's seeded generator
    task.loss(model, batch)       mean training loss (a scalar fp32 tensor, under autocast too)
    task.evaluate(model, split)   harness metrics on "val" or "test", deterministic
    task.tokens(batch)            tokens (or time steps) in a batch, for throughput
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from magnet.tools import metrics
from magnet.tools.bitnet.config import TrainConfig
from magnet.tools.datasets.token_cache import cached_tokens
from magnet.tools.datasets.tokenizer import Tokenizer
from magnet.tools.datasets.types import (
    Dataset,
    LabeledDataset,
    SeriesDataset,
    TextDataset,
)
from magnet.tools.errors import DatasetError

EVAL_BATCH = 64
LM_EVAL_BATCH = 16  # windows × seq_len × vocab logits: keep the harness's peak memory small


class LmTask:
    """Random windows of seq_len + 1 tokens from the concatenated train documents, read from
    the token cache's memory maps: memory does not grow with the corpus."""

    primary = metrics.BITS_PER_BYTE.name

    def __init__(
        self, ds: TextDataset, tok: Tokenizer, cfg: TrainConfig, fallback: Path | None = None
    ) -> None:
        self.cfg = cfg
        self.splits, self.bytes_per_token = {}, {}
        for name, split in cached_tokens(ds, tok, fallback=fallback).items():
            if len(split) < cfg.seq_len + 2:
                raise DatasetError(
                    f"{name} split has {len(split)} tokens; seq_len is {cfg.seq_len}"
                )
            self.splits[name] = split.ids
            self.bytes_per_token[name] = split.bytes_per_token

    def model_fields(self, tok: Tokenizer) -> dict:
        return {"vocab_size": tok.vocab_size, "max_seq_len": self.cfg.seq_len}

    def train_batch(self, gen: torch.Generator) -> torch.Tensor:
        data, t = self.splits["train"], self.cfg.seq_len + 1
        starts = torch.randint(0, len(data) - t, (self.cfg.batch_size,), generator=gen)
        return _windows(data, starts, t)

    def loss(self, model, batch: torch.Tensor) -> torch.Tensor:
        logits = model(batch[:, :-1])
        return F.cross_entropy(logits.float().flatten(0, 1), batch[:, 1:].flatten())

    def tokens(self, batch: torch.Tensor) -> int:
        return batch[:, 1:].numel()

    @torch.no_grad()
    def window_losses(self, model, split: str) -> torch.Tensor:
        """Mean loss of each of evenly spaced windows over the split, the same ones every time."""
        data, t = self.splits[split], self.cfg.seq_len + 1
        n = min(self.cfg.eval_batches * self.cfg.batch_size, len(data) // t)
        starts = evenly_spaced(len(data) - t, n)
        losses = []
        for chunk in starts.split(LM_EVAL_BATCH):
            batch = _windows(data, chunk, t)
            logits = model(batch[:, :-1]).float().flatten(0, 1)  # contiguous: a fast loss
            per_token = F.cross_entropy(logits, batch[:, 1:].flatten(), reduction="none")
            losses.append(per_token.view(len(chunk), -1).mean(1))
        return torch.cat(losses)

    def evaluate(self, model, split: str) -> dict:
        loss = self.window_losses(model, split).mean().item()
        return {
            "loss": loss,
            "bits_per_byte": metrics.bits_per_byte(loss, self.bytes_per_token[split]),
        }


def evenly_spaced(last: int, n: int) -> torch.Tensor:
    """`n` window starts from 0 to `last`, exact however long the split (float32 steps of a
    split of 400M tokens are 32 apart: a rounded-up start would give a short window)."""
    return torch.from_numpy(np.linspace(0, last, n).astype(np.int64))


def _windows(ids: np.ndarray, starts: torch.Tensor, t: int) -> torch.Tensor:
    """[len(starts), t] int64 token windows; only these are read from the memory map."""
    return torch.from_numpy(np.stack([ids[s : s + t] for s in starts.tolist()]).astype(np.int64))


class ClassifyTask:
    """Texts as right-padded token rows, truncated to seq_len; mean-pooled by the model."""

    primary = metrics.BALANCED_ACCURACY.name

    def __init__(self, ds: LabeledDataset, tok: Tokenizer, cfg: TrainConfig) -> None:
        self.cfg, self.labels = cfg, ds.labels
        self.splits = {
            name: self._encode(getattr(ds, name), tok) for name in ("train", "val", "test")
        }
        counts = torch.bincount(self.splits["train"][2], minlength=len(ds.labels)).float()
        self.weight = (
            counts.sum() / (len(counts) * counts.clamp(min=1)) if cfg.class_weighted else None
        )

    def _encode(self, split, tok: Tokenizer):
        rows = [tok.encode(t)[: self.cfg.seq_len] for t in split.texts]
        tokens = torch.zeros(len(rows), self.cfg.seq_len, dtype=torch.long)
        for i, r in enumerate(rows):
            tokens[i, : len(r)] = torch.from_numpy(r.astype(np.int64))
        lengths = torch.tensor([max(len(r), 1) for r in rows])
        return tokens, lengths, torch.tensor(split.labels)

    def model_fields(self, tok: Tokenizer) -> dict:
        return {
            "vocab_size": tok.vocab_size,
            "max_seq_len": self.cfg.seq_len,
            "n_classes": len(self.labels),
        }

    def train_batch(self, gen: torch.Generator):
        tokens, lengths, y = self.splits["train"]
        idx = torch.randint(0, len(y), (self.cfg.batch_size,), generator=gen)
        width = int(lengths[idx].max())  # trim shared padding: right-padded + causal is exact
        return tokens[idx, :width], lengths[idx], y[idx]

    def loss(self, model, batch) -> torch.Tensor:
        tokens, lengths, y = batch
        return F.cross_entropy(
            model(tokens, lengths).float(), y, weight=self.weight,
            label_smoothing=self.cfg.label_smoothing,
        )  # fmt: skip

    def tokens(self, batch) -> int:
        return int(batch[1].sum())

    @torch.no_grad()
    def predict(self, model, split: str) -> torch.Tensor:
        tokens, lengths, y = self.splits[split]
        preds = []
        for i in range(0, len(y), EVAL_BATCH):
            ln = lengths[i : i + EVAL_BATCH]
            preds.append(model(tokens[i : i + EVAL_BATCH, : int(ln.max())], ln).argmax(-1))
        return torch.cat(preds)

    def evaluate(self, model, split: str) -> dict:
        y = self.splits[split][2]
        preds = self.predict(model, split)
        return metrics.classification_metrics(y.numpy(), preds.numpy(), self.labels)


class DirectionTask:
    """Windows of standardised daily features; the label is tomorrow's direction."""

    primary = metrics.BALANCED_ACCURACY.name

    def __init__(self, ds: SeriesDataset, tok: Tokenizer | None, cfg: TrainConfig) -> None:
        self.cfg = cfg
        self.splits = {
            name: (torch.from_numpy(getattr(ds, name).x), torch.from_numpy(getattr(ds, name).y))
            for name in ("train", "val", "test")
        }
        self.n_features, self.window = ds.train.x.shape[2], ds.train.x.shape[1]

    def model_fields(self, tok: Tokenizer | None) -> dict:
        return {"n_features": self.n_features, "max_seq_len": self.window, "n_classes": 2}

    def train_batch(self, gen: torch.Generator):
        x, y = self.splits["train"]
        idx = torch.randint(0, len(y), (self.cfg.batch_size,), generator=gen)
        return x[idx], y[idx]

    def loss(self, model, batch) -> torch.Tensor:
        x, y = batch
        return F.cross_entropy(model(x).float(), y, label_smoothing=self.cfg.label_smoothing)

    def tokens(self, batch) -> int:
        return batch[0].shape[0] * batch[0].shape[1]

    @torch.no_grad()
    def predict(self, model, split: str) -> torch.Tensor:
        x = self.splits[split][0]
        return torch.cat(
            [model(x[i : i + EVAL_BATCH]).argmax(-1) for i in range(0, len(x), EVAL_BATCH)]
        )

    def evaluate(self, model, split: str) -> dict:
        y = self.splits[split][1]
        return metrics.direction_metrics(y.numpy(), self.predict(model, split).numpy())


def make_task(ds: Dataset, tok: Tokenizer | None, cfg: TrainConfig, fallback: Path | None = None):
    """`fallback`: where a trainer that cannot write the shared token cache puts its tokens
    (its own run directory); the harness never passes one, so it never reads an experiment's."""
    kinds = {
        "lm": (TextDataset, partial(LmTask, fallback=fallback)),
        "classify": (LabeledDataset, ClassifyTask),
        "direction": (SeriesDataset, DirectionTask),
    }
    data_type, task_type = kinds[cfg.task]
    if not isinstance(ds, data_type):
        raise DatasetError(
            f"dataset '{ds.card.name}' is for task '{ds.card.task}', not '{cfg.task}'"
        )
    return task_type(ds, tok, cfg)
