"""Start-to-exit time of an empty Python experiment under each isolation level.

    python bench/sandbox_overhead.py [--reps 20]

Runs `python -c pass` as a plain subprocess (the baseline) and through `run_sandboxed` at
each level that works here, interleaved so all see the same machine load. Prints one JSON
object: median and p90 seconds per mode and the median added over the baseline, in ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from magnet.sandboxes import LEVELS, SandboxSpec, probe, run_sandboxed

ARGV = [sys.executable, "-c", "pass"]


def _plain(_: Path) -> None:
    subprocess.run(ARGV, check=True)


def _sandboxed(level: str):
    def run(work: Path) -> None:
        result = run_sandboxed(SandboxSpec(argv=ARGV, work_dir=work, level=level))
        assert result.status == "ok", result.stderr_tail

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    args = parser.parse_args()
    modes = {"plain": _plain} | {lvl: _sandboxed(lvl) for lvl in LEVELS if probe(lvl)[0]}
    times: dict[str, list[float]] = {m: [] for m in modes}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.reps + 2):
            for mode, fn in modes.items():
                t0 = time.perf_counter()
                fn(Path(tmp) / f"{mode}-{rep}")
                if rep >= 2:  # the first two are warm-up
                    times[mode].append(time.perf_counter() - t0)
    base = statistics.median(times["plain"])
    out = {"reps": args.reps, "unavailable": [lvl for lvl in LEVELS if lvl not in modes]}
    for mode, ts in times.items():
        out[mode] = {
            "median_s": round(statistics.median(ts), 4),
            "p90_s": round(sorted(ts)[int(0.9 * (len(ts) - 1))], 4),
            "added_ms": round((statistics.median(ts) - base) * 1000, 1),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
