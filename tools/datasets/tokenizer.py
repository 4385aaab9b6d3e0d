"""Tokenizers: raw bytes (vocabulary 256, the default), a byte-level BPE trained on train only,
or (classifiers) the packaged LLM's own BPE with its token embeddings (`smollm2`).

A tokenizer saves itself as `tokenizer.json` in a run directory so that evaluation and export
use exactly the one training used. BPE learns from a bounded, seeded sample of the training
documents (`bpe_sample_mb`), so its cost does not grow with the corpus; the same sample and
the same documents give the same tokenizer, whose fingerprint keys the token cache.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from magnet.tools.datasets.documents import Docs
from magnet.tools.errors import ConfigError


class ByteTokenizer:
    kind = "byte"
    vocab_size = 256

    def encode(self, text: str) -> np.ndarray:
        return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)

    def encode_many(self, text: str) -> np.ndarray:
        return self.encode(text)

    def decode(self, ids) -> str:
        return bytes(int(i) for i in ids).decode("utf-8", errors="replace")

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"kind": "byte"}))

    def fingerprint(self) -> str:
        return "byte"


class BpeTokenizer:
    kind = "bpe"

    def __init__(self, tokenizer) -> None:
        self._tok = tokenizer
        self.vocab_size = tokenizer.get_vocab_size()

    @classmethod
    def train(cls, texts: Iterator[str] | Sequence[str], vocab_size: int) -> BpeTokenizer:
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        tok.train_from_iterator(texts, trainer)
        return cls(tok)

    def encode(self, text: str) -> np.ndarray:
        return np.asarray(self._tok.encode(text).ids, dtype=np.int32)

    def encode_many(self, text: str) -> np.ndarray:
        """A long text line by line on every core (the byte-level pre-tokenizer splits at
        newlines anyway, so the ids are those of `encode`)."""
        lines = text.splitlines(keepends=True)
        ids = [e.ids for e in self._tok.encode_batch(lines)]
        return np.fromiter((i for row in ids for i in row), dtype=np.int32)

    def decode(self, ids) -> str:
        return self._tok.decode([int(i) for i in ids])

    def save(self, path: Path) -> None:
        path.write_text(self._tok.to_str())

    def fingerprint(self) -> str:
        return hashlib.sha256(self._tok.to_str().encode()).hexdigest()


class PretrainedTokenizer:
    """The packaged LLM's BPE (tools/datasets/pretrained.py) with its vocabulary cut to the
    tokens the training texts use, renumbered from 1 (0 stands for any other token): a
    classifier's embedding table then holds a few thousand rows, not 49,152. `embeddings`
    gives the LLM's own vectors for them, the model's starting embedding table. Classifiers
    only: a language model would score every unseen token as 0, losing its bytes."""

    kind = "smollm2"

    def __init__(self, tokenizer, keep: np.ndarray) -> None:
        self._tok, self.keep = tokenizer, keep.astype(np.int64)
        self._ids = np.zeros(tokenizer.get_vocab_size(), dtype=np.int32)
        self._ids[self.keep] = np.arange(1, len(self.keep) + 1)
        self.vocab_size = len(self.keep) + 1

    @classmethod
    def fit(cls, texts: Sequence[str]) -> PretrainedTokenizer:
        from tokenizers import Tokenizer as HfTokenizer

        from magnet.tools.datasets.pretrained import source

        tok = HfTokenizer.from_str(source().tokenizer_json)
        seen = {i for enc in tok.encode_batch(list(texts)) for i in enc.ids}
        return cls(tok, np.array(sorted(seen), dtype=np.int64))

    def encode(self, text: str) -> np.ndarray:
        return self._ids[np.asarray(self._tok.encode(text).ids, dtype=np.int64)]

    def encode_many(self, text: str) -> np.ndarray:
        return self.encode(text)

    def decode(self, ids) -> str:
        return self._tok.decode([int(self.keep[i - 1]) for i in ids if i > 0])

    def embeddings(self, width: int, std: float = 0.02) -> np.ndarray:
        """[vocab_size, width]: the LLM's vectors of the kept tokens projected to `width`
        (tools/datasets/pretrained.projected); row 0, the unseen token, zeros."""
        from magnet.tools.datasets.pretrained import projected

        out = np.zeros((self.vocab_size, width), np.float32)
        out[1:] = projected(self.keep, width, std)
        return out

    def save(self, path: Path) -> None:
        path.write_text(
            json.dumps({"kind": self.kind, "keep": self.keep.tolist(), "bpe": self._tok.to_str()})
        )

    def fingerprint(self) -> str:
        return hashlib.sha256(self._tok.to_str().encode() + self.keep.tobytes()).hexdigest()


Tokenizer = ByteTokenizer | BpeTokenizer | PretrainedTokenizer


def build_tokenizer(
    kind: str, train_texts: Sequence[str], vocab_size: int, sample_mb: float = 8.0, seed: int = 0
) -> Tokenizer:
    if kind == "byte":
        return ByteTokenizer()
    if kind == "bpe":
        return BpeTokenizer.train(sample(train_texts, int(sample_mb * 2**20), seed), vocab_size)
    if kind == "smollm2":
        return PretrainedTokenizer.fit(train_texts)
    raise ConfigError(f"unknown tokenizer '{kind}' (byte, bpe, smollm2)")


def sample(texts: Sequence[str], chars: int, seed: int = 0) -> Iterator[str]:
    """Documents in a seeded order until about `chars` characters: the whole of a small
    corpus, a bounded share of a large one (a long document contributes its start)."""
    docs = texts if isinstance(texts, Docs) else Docs([(t,) for t in texts])
    order = list(range(len(docs)))
    random.Random(seed).shuffle(order)
    left = chars
    for i in order:
        if left <= 0:
            return
        text = docs.head(i, left)
        left -= len(text)
        yield text


def load_tokenizer(path: Path) -> Tokenizer:
    data = json.loads(path.read_text())
    if data.get("kind") == "byte":
        return ByteTokenizer()
    from tokenizers import Tokenizer as HfTokenizer

    if data.get("kind") == PretrainedTokenizer.kind:
        return PretrainedTokenizer(HfTokenizer.from_str(data["bpe"]), np.array(data["keep"]))

    return BpeTokenizer(HfTokenizer.from_str(path.read_text()))
