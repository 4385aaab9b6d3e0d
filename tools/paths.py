"""Where MAGNET keeps its state: $MAGNET_HOME, by default ./.magnet."""

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def magnet_home() -> Path:
    return Path(os.environ.get("MAGNET_HOME", ".magnet"))


def cache_dir() -> Path:
    """Derived data (token ids, dataset manifests) that can always be built again; a sandboxed
    trainer is given its path read-only as $MAGNET_CACHE."""
    return Path(os.environ.get("MAGNET_CACHE") or magnet_home() / "cache")


@contextmanager
def built_whole(final: Path, complete: Callable[[Path], bool]) -> Iterator[Path]:
    """A fresh folder beside `final` to fill, renamed to `final` as a whole when the block
    ends: a killed or failed build leaves nothing under the final name. Where another
    process finished `final` first (`complete(final)`), its copy stands."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{final.name}.{os.getpid()}-{secrets.token_hex(3)}"
    tmp.mkdir()
    try:
        yield tmp
        try:
            tmp.rename(final)
        except OSError:
            if not complete(final):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
