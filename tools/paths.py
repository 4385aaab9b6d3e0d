"""Where MAGNET keeps its state: $MAGNET_HOME, by default ./.magnet."""

import os
from pathlib import Path


def magnet_home() -> Path:
    return Path(os.environ.get("MAGNET_HOME", ".magnet"))


def cache_dir() -> Path:
    """Derived data (token ids, dataset manifests) that can always be built again; a sandboxed
    trainer is given its path read-only as $MAGNET_CACHE."""
    return Path(os.environ.get("MAGNET_CACHE") or magnet_home() / "cache")
