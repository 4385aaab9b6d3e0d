"""Tokenizers: raw bytes (vocabulary 256, the default) or a byte-level BPE trained on train only.

A tokenizer saves itself as `tokenizer.json` in a run directory so that evaluation and export
use exactly the one training used.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from magnet.tools.errors import ConfigError


class ByteTokenizer:
    kind = "byte"
    vocab_size = 256

    def encode(self, text: str) -> np.ndarray:
        return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)

    def decode(self, ids) -> str:
        return bytes(int(i) for i in ids).decode("utf-8", errors="replace")

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"kind": "byte"}))


class BpeTokenizer:
    kind = "bpe"

    def __init__(self, tokenizer) -> None:
        self._tok = tokenizer
        self.vocab_size = tokenizer.get_vocab_size()

    @classmethod
    def train(cls, texts: list[str], vocab_size: int) -> BpeTokenizer:
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

    def decode(self, ids) -> str:
        return self._tok.decode([int(i) for i in ids])

    def save(self, path: Path) -> None:
        path.write_text(self._tok.to_str())


Tokenizer = ByteTokenizer | BpeTokenizer


def build_tokenizer(kind: str, train_texts: list[str], vocab_size: int) -> Tokenizer:
    if kind == "byte":
        return ByteTokenizer()
    if kind == "bpe":
        return BpeTokenizer.train(train_texts, vocab_size)
    raise ConfigError(f"unknown tokenizer '{kind}' (byte, bpe)")


def load_tokenizer(path: Path) -> Tokenizer:
    data = json.loads(path.read_text())
    if data.get("kind") == "byte":
        return ByteTokenizer()
    from tokenizers import Tokenizer as HfTokenizer

    return BpeTokenizer(HfTokenizer.from_str(path.read_text()))
