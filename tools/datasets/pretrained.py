"""What the packaged local LLM knows about words: its tokenizer and its token embeddings.

    found = source()    # .tokenizer_json, .vectors (float16 [49152, 576]), .gram

A classifier trained from scratch on a few thousand short texts has never seen most of their
words more than a few times; the embedded planner model (SmolLM2-135M, `tools/local_models.py`)
was trained on trillions of tokens and places related words near each other. Its GGUF holds
both the BPE (vocabulary and merges) and the token embedding table (`token_embd`, Q8_0), read
here with the `gguf` library; nothing is downloaded. Reading the GGUF takes ~4 s, so the two
(and the table's Gram matrix, for its singular directions) are kept under the cache once
(`$MAGNET_CACHE/pretrained/`, written whole or not at all); a run then reads the rows of its
own tokens (~0.1 s, against ~0.9 s to load and decompose the whole table each time); a
sandboxed trainer, whose cache is read-only, reads the GGUF itself when the cache is cold.
The FLOPs that made these vectors are not this session's: they come with the package, as the
planner model does.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path
from typing import NamedTuple

import numpy as np

from magnet.tools.errors import DatasetError
from magnet.tools.paths import built_whole, cache_dir

SOURCE = "smollm2-135m-instruct"  # the embedded planner model (tools/local_models.py)
FILES = ("tokenizer.json", "embeddings.npy", "gram.npy")
LAYOUT = 2  # of the cached files: a cache from another layout is not read


class Source(NamedTuple):
    tokenizer_json: str  # the LLM's BPE, as `tokenizers` JSON
    vectors: np.ndarray  # its token embeddings [vocab, width], float16 (memory-mapped)
    gram: np.ndarray  # vectorsᵀ·vectors [width, width], float64: the table's singular directions


def source() -> Source:
    """The LLM's tokenizer and token embeddings, from the cache, else from the GGUF (then
    cached where the cache is writable)."""
    from magnet.tools.local_models import model_path

    gguf_file = model_path(SOURCE)
    name = f"{SOURCE}-{gguf_file.stat().st_size}-{LAYOUT}"
    return _load(gguf_file, cache_dir() / "pretrained" / name)


@functools.cache  # a session's harness reads them once
def _load(gguf_file: Path, where: Path) -> Source:
    try:
        return Source(
            (where / FILES[0]).read_text(),
            np.load(where / FILES[1], mmap_mode="r"),  # a run reads only its tokens' rows
            np.load(where / FILES[2]),
        )
    except (OSError, ValueError):
        pass
    tokenizer_json, vectors = _read_gguf(gguf_file)
    x = vectors.astype(np.float64)
    found = Source(tokenizer_json, vectors, x.T @ x)
    with contextlib.suppress(OSError):  # a read-only cache (the sandbox): kept in memory
        _write(where, found)
    return found


def projected(rows: np.ndarray, width: int, std: float = 0.02) -> np.ndarray:
    """The LLM's vectors of token ids `rows` as [len(rows), width] float32: their coordinates
    along the top `width` singular directions of the whole embedding table (zeros past its
    own width), scaled to `std`. A model of any width so starts from the directions that
    tell the LLM's tokens apart, at its own initial scale, whatever few tokens a dataset uses.
    Not centred: the mean direction carries meaning too (related words' raw vectors are the
    closer ones: dog–puppy 0.52 and dog–tax 0.17 raw, 0.30 and 0.36 centred)."""
    found = source()
    values, directions = np.linalg.eigh(found.gram)  # ascending
    k = min(width, len(values))
    basis = directions[:, ::-1][:, :k]
    scale = np.sqrt(values[::-1][:k].sum() / (len(found.vectors) * k))  # rms over the table
    out = np.zeros((len(rows), width), np.float32)
    out[:, :k] = np.asarray(found.vectors[rows], np.float64) @ basis
    return out * (std / scale)


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


def _write(where: Path, found: Source) -> None:
    with built_whole(where, lambda done: all((done / f).exists() for f in FILES)) as tmp:
        (tmp / FILES[0]).write_text(found.tokenizer_json)
        np.save(tmp / FILES[1], found.vectors)
        np.save(tmp / FILES[2], found.gram)
