"""Isolation levels, strongest first, and the command line that applies each one.

bwrap     bubblewrap: read-only root, one writable work dir, private /tmp, no network
          (loopback only), new PID/IPC/UTS namespaces, dies with its parent
unshare   util-linux unshare: no network, new PID namespace, killed with its parent;
          the filesystem stays writable
rlimits   resource limits only: no isolation from the network or the filesystem
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Literal

Level = Literal["bwrap", "unshare", "rlimits"]
LEVELS: tuple[Level, ...] = ("bwrap", "unshare", "rlimits")
TMP = Path("/tmp")


def wrap(level: Level, argv: list[str], work_dir: Path, readonly: list[Path]) -> list[str]:
    """The command that runs `argv` in `work_dir` under `level`."""
    if level == "bwrap":
        cmd = [
            "bwrap",
            "--ro-bind",
            "/",
            "/",
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            "--tmpfs",
            "/tmp",
        ]
        # The private /tmp hides whatever the harness keeps there (a venv, the data): bind
        # those back read-only, then the work dir read-write.
        for path in sorted({p.resolve() for p in readonly if _under(p.resolve(), TMP)}):
            if path.exists():
                cmd += ["--ro-bind", str(path), str(path)]
        # --as-pid-1: bwrap waits for the experiment itself, so its rusage (CPU, peak RSS)
        # reaches us; when it exits the namespace ends and takes every other process along.
        work = str(work_dir.resolve())
        return cmd + [
            "--bind",
            work,
            work,
            "--chdir",
            work,
            "--unshare-all",
            "--die-with-parent",
            "--new-session",
            "--as-pid-1",
            "--",
            *argv,
        ]
    if level == "unshare":
        return ["unshare", "--net", "--pid", "--fork", "--mount-proc", "--kill-child", "--", *argv]
    return list(argv)


@functools.cache
def probe(level: Level) -> tuple[bool, str]:
    """Whether `level` works here, and why not when it does not. Cached per process."""
    if level == "rlimits":
        return True, "always available; isolates nothing but resources"
    tool = "bwrap" if level == "bwrap" else "unshare"
    if shutil.which(tool) is None:
        hint = " (Debian package bubblewrap)" if tool == "bwrap" else " (util-linux)"
        return False, f"`{tool}` is not installed{hint}"
    cmd = wrap(level, [sys.executable, "-c", "pass"], TMP, [Path(sys.prefix)])
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, f"`{tool}` could not start: {e}"
    if run.returncode != 0:
        why = (run.stderr.strip().splitlines() or ["no message"])[-1]
        return False, f"`{tool}` fails here: {why}"
    return True, "works"


def best_level() -> Level:
    return next(level for level in LEVELS if probe(level)[0])


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
