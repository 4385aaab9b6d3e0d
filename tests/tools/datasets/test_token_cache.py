import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from magnet.tools.datasets import load_dataset
from magnet.tools.datasets.token_cache import cached_tokens
from magnet.tools.datasets.tokenizer import ByteTokenizer, build_tokenizer, sample
from magnet.tools.datasets.types import DOC_SEPARATOR
from magnet.tools.errors import DatasetError


def corpus(root, files=12, lines=200):
    root.mkdir()
    for i in range(files):
        (root / f"part{i:02d}.txt").write_text(
            "".join(f"line {j} of part {i}: the quick brown fox\n" for j in range(lines))
        )
    return root


def test_a_corpus_is_tokenized_once_into_a_memory_map(tmp_path, magnet_home):
    ds = load_dataset(str(corpus(tmp_path / "c")), "lm")
    first = cached_tokens(ds, ByteTokenizer())
    train = first["train"]
    assert isinstance(train.ids, np.memmap) and train.ids.dtype == np.uint8
    assert bytes(train.ids.astype(np.uint8)) == DOC_SEPARATOR.join(ds.train).encode()
    assert train.bytes_per_token == 1.0
    [made] = (magnet_home / "cache" / "tokens").iterdir()
    stamp = (made / "meta.json").stat().st_mtime_ns
    again = cached_tokens(load_dataset(str(tmp_path / "c"), "lm"), ByteTokenizer())
    assert (made / "meta.json").stat().st_mtime_ns == stamp  # read, not rebuilt
    assert np.array_equal(again["val"].ids, first["val"].ids)
    with pytest.raises(ValueError):  # nobody writes through the map
        again["val"].ids[0] = 1


def test_bpe_learns_from_a_bounded_sample_and_keys_its_own_cache(tmp_path, magnet_home):
    ds = load_dataset(str(corpus(tmp_path / "c")), "lm")
    assert sum(len(t) for t in sample(ds.train, 5000)) <= 5000
    a = build_tokenizer("bpe", ds.train, 300, sample_mb=0.01)
    b = build_tokenizer("bpe", ds.train, 300, sample_mb=0.01)
    assert a.fingerprint() == b.fingerprint() != build_tokenizer("bpe", ds.train, 400).fingerprint()
    tokens = cached_tokens(ds, a)
    assert tokens["test"].bytes_per_token > 1.5  # merges learned from the sample apply
    assert len(list((magnet_home / "cache" / "tokens").iterdir())) == 1


def test_a_file_changed_while_it_is_cached_leaves_no_cache(tmp_path, magnet_home):
    root = corpus(tmp_path / "c")
    ds = load_dataset(str(root), "lm")
    with (root / "part03.txt").open("a") as f:
        f.write("one more line\n")
    with pytest.raises(DatasetError, match="part03.txt changed since the dataset was loaded"):
        cached_tokens(ds, ByteTokenizer())
    assert list((magnet_home / "cache" / "tokens").iterdir()) == []
    fresh = load_dataset(str(root), "lm")  # the listing changed: scanned again, a new hash
    assert fresh.card.sha256 != ds.card.sha256


FULL_DISK = """
import resource, signal, sys
from magnet.tools.datasets import load_dataset
from magnet.tools.datasets.token_cache import cached_tokens
from magnet.tools.datasets.tokenizer import ByteTokenizer
from magnet.tools.errors import MagnetError
ds = load_dataset(sys.argv[1], "lm")
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (16384, 16384))
try:
    cached_tokens(ds, ByteTokenizer())
except MagnetError as e:
    print(e)
    sys.exit(1)
"""


def test_a_write_that_fails_leaves_no_half_written_cache(tmp_path, magnet_home):
    root = corpus(tmp_path / "c", lines=400)  # ~17 KB per file: the train split passes 16 KB
    load_dataset(str(root), "lm")  # its manifest is written before the limit
    run = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(root)],
        capture_output=True,
        text=True,
        env={**os.environ, "MAGNET_HOME": str(magnet_home)},
    )
    assert run.returncode == 1, run.stderr
    assert "cannot write the token cache" in run.stdout and "File too large" in run.stdout
    assert list((magnet_home / "cache" / "tokens").iterdir()) == []
    ok = cached_tokens(load_dataset(str(root), "lm"), ByteTokenizer())  # a later run rebuilds
    assert len(ok["train"]) == len(DOC_SEPARATOR.join(load_dataset(str(root), "lm").train))


def bytes_read() -> int:
    """What this process has read through system calls so far (the kernel's count)."""
    io = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return int(io["rchar"])


def test_an_unchanged_corpus_is_not_read_again(tmp_path):
    root = corpus(tmp_path / "c", lines=2000)  # ~1 MB
    first = load_dataset(str(root), "lm")
    before = bytes_read()
    again = load_dataset(str(root), "lm")
    assert bytes_read() - before < 100_000  # the kept manifest, not the corpus
    assert again.card == first.card and again.val.docs == first.val.docs
    part = root / "part00.txt"
    stat = part.stat()
    part.write_text(part.read_text().replace("quick", "QUICK"))  # same size
    os.utime(part, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert load_dataset(str(root), "lm").card.sha256 == first.card.sha256  # the listing decides
    part.write_text("new text\n")
    assert load_dataset(str(root), "lm").card.sha256 != first.card.sha256


def test_evaluation_windows_stay_inside_a_split_of_any_length():
    from magnet.tools.bitnet.tasks import evenly_spaced

    for last in (1000, 399_999_800, 2**31 + 5):  # float32 would round the second one up
        starts = evenly_spaced(last, 256)
        assert starts[0] == 0 and starts[-1] == last and bool((starts <= last).all())
