"""What the packaged local LLM knows about words: its tokenizer and its token embeddings.

    tokenizer_json, vectors = source()     # tokenizers JSON, float16 [49152, 576]

A classifier trained from scratch on a few thousand short texts has never seen most of their
words more than a few times; the embedded planner model (SmolLM2-135M, `tools/local_models.py`)
was trained on trillions of tokens and places related words near each other. Its GGUF holds
both the BPE (vocabulary and merges) and the token embedding table (`token_embd`, Q8_0), read
here with the `gguf` library; nothing is downloaded. Reading the GGUF takes ~4 s, so the two
are kept under the cache once (`$MAGNET_CACHE/pretrained/`, written whole or not at all); a
sandboxed trainer, whose cache is read-only, reads the GGUF itself when the cache is cold.
The FLOPs that made these vectors are not this session's: they come with the package, as the
planner model does.
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import shutil
from pathlib import Path

import numpy as np

from magnet.tools.errors import DatasetError
from magnet.tools.paths import cache_dir

SOURCE = "smollm2-135m-instruct"  # the embedded planner model (tools/local_models.py)
TOKENIZER, VECTORS = "tokenizer.json", "embeddings.npy"


def source() -> tuple[str, np.ndarray]:
    """(the LLM's tokenizer as `tokenizers` JSON, its token embeddings [vocab, width] in
    float16), from the cache, else from the GGUF (then cached where the cache is writable)."""
    from magnet.tools.local_models import model_path

    gguf_file = model_path(SOURCE)
    return _load(gguf_file, cache_dir() / "pretrained" / f"{SOURCE}-{gguf_file.stat().st_size}")


@functools.cache  # a session's harness reads them once
def _load(gguf_file: Path, where: Path) -> tuple[str, np.ndarray]:
    try:
        return (where / TOKENIZER).read_text(), np.load(where / VECTORS)
    except (OSError, ValueError):
        pass
    tokenizer_json, vectors = _read_gguf(gguf_file)
    with contextlib.suppress(OSError):  # a read-only cache (the sandbox): kept in memory
        _write(where, tokenizer_json, vectors)
    return tokenizer_json, vectors


def projected(rows: np.ndarray, width: int, std: float = 0.02) -> np.ndarray:
    """The LLM's vectors of token ids `rows` as [len(rows), width] float32: their coordinates
    along the top `width` singular directions of the whole embedding table (zeros past its
    own width), scaled to `std`. A model of any width so starts from the directions that
    tell the LLM's tokens apart, at its own initial scale, whatever few tokens a dataset uses."""
    vectors = source()[1]
    basis, scale = _principal(width)
    out = np.zeros((len(rows), width), np.float32)
    out[:, : basis.shape[1]] = vectors[rows].astype(np.float32) @ basis
    return out * (std / scale)


@functools.cache
def _principal(width: int) -> tuple[np.ndarray, float]:
    """(the table's top-`width` singular directions [d, k], its coordinates' root mean square
    along them). Not centred: the mean direction carries meaning too (related words' raw
    vectors are the closer ones: dog–puppy 0.52 and dog–tax 0.17 raw, 0.30 and 0.36 centred)."""
    x = source()[1].astype(np.float32)
    values, vectors = np.linalg.eigh(x.T @ x)  # ascending
    k = min(width, x.shape[1])
    basis = vectors[:, ::-1][:, :k]
    return basis, float(np.sqrt(values[::-1][:k].sum() / (len(x) * k)))


def _read_gguf(path: Path) -> tuple[str, np.ndarray]:
    import gguf
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    try:
        reader = gguf.GGUFReader(path)
        tokens = reader.fields["tokenizer.ggml.tokens"].contents()
        merges = [tuple(m.split(" ", 1)) for m in reader.fields["tokenizer.ggml.merges"].contents()]
        embd = next(t for t in reader.tensors if t.name == "token_embd.weight")
        vectors = gguf.quants.dequantize(embd.data, embd.tensor_type).astype(np.float16)
    except (KeyError, StopIteration, ValueError) as e:
        raise DatasetError(f"{path} holds no usable tokenizer and token embeddings: {e}") from None
    tok = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=merges))
    # SmolLM2's own pre-tokenization: digits one by one, then GPT-2's byte-level split.
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(False)]
    )
    tok.decoder = decoders.ByteLevel()
    return tok.to_str(), vectors


def _write(where: Path, tokenizer_json: str, vectors: np.ndarray) -> None:
    where.parent.mkdir(parents=True, exist_ok=True)
    tmp = where.parent / f".{where.name}.{os.getpid()}-{secrets.token_hex(3)}"
    tmp.mkdir()
    try:
        (tmp / TOKENIZER).write_text(tokenizer_json)
        np.save(tmp / VECTORS, vectors)
        try:
            tmp.rename(where)
        except OSError:
            if not (where / VECTORS).exists():  # not another process's finished copy
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
