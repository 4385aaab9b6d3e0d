"""Near-duplicate texts: MinHash over character 5-grams of the normalised text, with LSH.

    seen = NearDuplicates()
    seen.add("Win a FREE prize now!!")
    seen.match("win a free prize now")      # True: same words once case and spacing go

Two texts count as the same when the estimated Jaccard similarity of their 5-gram sets is at
least `threshold` (0.6: two changed words in a sentence; a different sentence is far
below). datasketch's LSH index finds candidates in ~constant time; each is then checked.
"""

from __future__ import annotations

import re

NUM_PERM = 64
SHINGLE = 5


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", "", text.lower())).strip()


class NearDuplicates:
    def __init__(self, threshold: float = 0.6) -> None:
        from datasketch import MinHashLSH

        self.threshold = threshold
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._hashes: dict[str, object] = {}  # normalised text → its MinHash

    def match(self, text: str) -> bool:
        key = normalise(text)
        if key in self._hashes:
            return True
        m = _minhash(key)
        # LSH candidates are only likely matches: the estimated similarity decides.
        return any(m.jaccard(self._hashes[c]) >= self.threshold for c in self._lsh.query(m))

    def add(self, text: str) -> None:
        key = normalise(text)
        if key not in self._hashes:
            self._hashes[key] = _minhash(key)
            self._lsh.insert(key, self._hashes[key])


def _minhash(key: str):
    from datasketch import MinHash

    m = MinHash(num_perm=NUM_PERM, seed=1)
    grams = {key[i : i + SHINGLE] for i in range(max(1, len(key) - SHINGLE + 1))}
    m.update_batch([g.encode() for g in grams])
    return m
