"""Documents read on demand: a corpus is a list of references, never all its text at once.

    docs = Docs([(FileText.scan(path),), ("an in-memory text",)])
    len(docs), docs[0]              # a document's text, read when asked for
    for chunk in docs.chunks(0): …  # a large document in pieces of about CHUNK characters

A document is a tuple of pieces, each a `str` or a `FileText` (a text file, or a character
range of one, read with Python's newline translation as `Path.read_text` does). A file that
changes after it was scanned is refused when it is read, so nothing built from it (a split,
a token cache) silently mixes two versions.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from magnet.tools.errors import DatasetError

CHUNK = 1 << 22  # characters read at a time (4 Mi): bounds memory for a document of any size


@dataclass(frozen=True)
class FileText:
    """A UTF-8 text file as scanned (its size in characters and bytes), or a range of it."""

    path: Path
    size: int = 0  # bytes on disk and modification time when scanned: a change is refused
    mtime_ns: int = 0
    chars: int = 0  # characters of the whole file after newline translation
    n_bytes: int = 0  # UTF-8 bytes of those characters
    blank: bool = True
    errors: str = "strict"
    start: int = 0
    end: int | None = None

    @classmethod
    def scan(cls, path: Path, errors: str = "strict") -> FileText:
        """Read the file once, in chunks: a UnicodeDecodeError for a file that is not UTF-8,
        an OSError for one that cannot be read."""
        stat = path.stat()
        chars = n_bytes = 0
        blank = True
        with path.open(encoding="utf-8", errors=errors) as f:
            while chunk := f.read(CHUNK):
                chars += len(chunk)
                n_bytes += len(chunk.encode())
                blank = blank and not chunk.strip()
        return cls(path, stat.st_size, stat.st_mtime_ns, chars, n_bytes, blank, errors)

    def __len__(self) -> int:
        return (self.chars if self.end is None else self.end) - self.start

    def cut(self, start: int, end: int) -> FileText:
        """Characters [start, end) of this piece."""
        return replace(self, start=self.start + start, end=self.start + end)

    def chunks(self) -> Iterator[str]:
        self._unchanged()
        left = len(self)
        with self.path.open(encoding="utf-8", errors=self.errors) as f:
            skip = self.start
            while skip:  # text files cannot seek to a character: read past the start
                skip -= len(f.read(min(skip, CHUNK)))
            while left > 0 and (chunk := f.read(min(left, CHUNK))):
                left -= len(chunk)
                yield chunk
        self._unchanged()

    def _unchanged(self) -> None:
        try:
            stat = self.path.stat()
        except OSError as e:
            raise DatasetError(f"{self.path}: cannot read it any more ({e.strerror})") from None
        if (stat.st_size, stat.st_mtime_ns) != (self.size, self.mtime_ns):
            raise DatasetError(f"{self.path} changed since the dataset was loaded; load it again")


Piece = str | FileText
Doc = tuple[Piece, ...]


def piece_chunks(piece: Piece) -> Iterator[str]:
    if isinstance(piece, str):
        for i in range(0, len(piece), CHUNK):
            yield piece[i : i + CHUNK]
    else:
        yield from piece.chunks()


class Docs(Sequence[str]):
    """A split's documents; indexing reads one, `chunks` streams one."""

    def __init__(self, docs: Sequence[Doc]) -> None:
        self.docs = list(docs.docs if isinstance(docs, Docs) else docs)  # never read to copy

    def __len__(self) -> int:
        return len(self.docs)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return Docs(self.docs[i])
        return "".join(self.chunks(i))

    def __eq__(self, other) -> bool:
        return list(self) == list(other)

    def chunks(self, i: int) -> Iterator[str]:
        for piece in self.docs[i]:
            yield from piece_chunks(piece)

    def head(self, i: int, n: int) -> str:
        """At most the first `n` characters of document `i`, reading no further."""
        out, left = [], n
        for chunk in self.chunks(i):
            out.append(chunk[:left])
            left -= len(out[-1])
            if left <= 0:
                break
        return "".join(out)


def cut(pieces: list[Piece], start: int, end: int) -> Doc:
    """Characters [start, end) of the pieces laid end to end."""
    out: list[Piece] = []
    at = 0
    for p in pieces:
        lo, hi = max(start - at, 0), min(end - at, len(p))
        if lo < hi:
            out.append(p[lo:hi] if isinstance(p, str) else p.cut(lo, hi))
        at += len(p)
    return tuple(out)
