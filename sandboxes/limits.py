"""Resource limits for a sandboxed experiment: rlimits, a pids cgroup, and a clean environment.

Everything here that runs in the child (`child_setup`) runs between fork and exec, so it only
makes system calls on objects prepared in the parent: no imports, no file opens.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import resource
import signal
import uuid
from pathlib import Path

from pydantic import BaseModel, Field

GIB = 1 << 30
PR_SET_PDEATHSIG = 1
# Parent variables that may pass into a sandbox; everything else (keys, tokens) stays out.
ENV_ALLOWED = ("PATH", "LANG", "LC_ALL", "TZ", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSW|PRIVATE|CREDENTIAL|MNEMONIC", re.IGNORECASE)
PIDS_ROOT = Path("/sys/fs/cgroup/pids")


class Limits(BaseModel):
    """What one experiment may use. torch needs an address space of at least 1 GiB."""

    wall_seconds: float = Field(600, gt=0, description="wall clock; the whole tree is killed")
    cpu_seconds: int | None = Field(None, gt=0, description="CPU time; default 2 × wall × cores")
    memory_bytes: int = Field(8 * GIB, ge=GIB, description="address-space cap (RLIMIT_AS)")
    max_processes: int = Field(256, gt=0, description="processes and threads (pids cgroup)")
    max_open_files: int = Field(1024, gt=16)
    max_file_bytes: int = Field(4 * GIB, gt=0, description="largest file it may write")
    max_output_bytes: int = Field(64 << 20, gt=0, description="stdout + stderr before a kill")

    def cpu_limit(self) -> int:
        return self.cpu_seconds or int(2 * self.wall_seconds * (os.cpu_count() or 1)) + 5


def clean_env(work_dir: Path, extra: dict[str, str]) -> dict[str, str]:
    """An allow-listed environment; an extra variable named like a secret is refused."""
    for name in extra:
        if SECRET_NAME.search(name):
            raise ValueError(f"refusing to pass '{name}' into the sandbox: it looks like a secret")
    env = {k: os.environ[k] for k in ENV_ALLOWED if k in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update(
        HOME=str(work_dir),
        TMPDIR="/tmp",
        PYTHONUNBUFFERED="1",
        HF_HUB_OFFLINE="1",
        TORCHDYNAMO_DISABLE="1",
        MAGNET_SANDBOXED="1",
    )
    env.update(extra)
    return env


class PidsCgroup:
    """A child pids cgroup (v1) under our own: caps processes and finds every one to kill.

    Where the controller is missing or not writable, `available` is False and the limit falls
    back to RLIMIT_NPROC, which the kernel does not enforce for root.
    """

    def __init__(self, max_processes: int) -> None:
        self.path: Path | None = None
        self.fd: int | None = None
        with contextlib.suppress(OSError, ValueError, StopIteration):
            line = next(
                x
                for x in Path("/proc/self/cgroup").read_text().splitlines()
                if x.split(":")[1] == "pids"
            )
            parent = PIDS_ROOT / line.split(":", 2)[2].lstrip("/")
            _remove_empty(_stale(parent))
            path = parent / f"magnet-{os.getpid()}-{uuid.uuid4().hex[:12]}"
            path.mkdir()
            self.path = path
            (path / "pids.max").write_text(str(max_processes))
            self.fd = os.open(path / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC)

    @property
    def available(self) -> bool:
        return self.fd is not None

    def limit_hit(self) -> bool:
        with contextlib.suppress(OSError, ValueError):
            events = (self.path / "pids.events").read_text().split()
            return int(events[events.index("max") + 1]) > 0
        return False

    def kill_all(self) -> None:
        """SIGKILL every process still in the cgroup, however it detached itself."""
        for _ in range(3):
            with contextlib.suppress(OSError):
                pids = [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
                if not pids:
                    return
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if self.path is not None:
            self.kill_all()
            for _ in range(50):  # the kernel empties the cgroup shortly after the kills
                try:
                    self.path.rmdir()
                    break
                except OSError:
                    os.sched_yield()


def child_setup(limits: Limits, cgroup: PidsCgroup):
    """The function subprocess runs in the child before exec."""
    libc = ctypes.CDLL(None, use_errno=True)
    prctl = libc.prctl
    rlimits = [
        (resource.RLIMIT_AS, limits.memory_bytes),
        (resource.RLIMIT_NOFILE, limits.max_open_files),
        (resource.RLIMIT_FSIZE, limits.max_file_bytes),
        # RLIMIT_NPROC counts every process of the user, so it is a backstop on top of what
        # runs already; the pids cgroup is the real limit (and the only one root obeys).
        (resource.RLIMIT_NPROC, limits.max_processes + (0 if cgroup.available else _user_tasks())),
        (resource.RLIMIT_CORE, 0),
    ]
    fd, cpu = cgroup.fd, limits.cpu_limit()

    def setup() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # our death takes the sandbox with it
        if fd is not None:
            os.write(fd, b"0")  # "0" moves the writing process into the cgroup
        for which, value in rlimits:
            resource.setrlimit(which, (value, value))
        # SIGXCPU at the soft limit; a process that ignores it (PID 1 does) gets SIGKILL later.
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))

    return setup


def _user_tasks() -> int:
    """Threads owned by our user right now (RLIMIT_NPROC counts threads too)."""
    uid, count = os.getuid(), 0
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and entry.stat().st_uid == uid:
                count += len(os.listdir(entry / "task"))
    return count


def _stale(parent: Path) -> list[Path]:
    """Our cgroups left behind by a harness that was killed: those of a process that is gone
    (a live one's, made by another thread a moment ago and still empty, are not)."""
    stale = []
    for path in parent.glob("magnet-*"):
        pid = path.name.split("-")[1]
        if not pid.isdigit() or not Path(f"/proc/{pid}").exists():
            stale.append(path)
    return stale


def _remove_empty(cgroups) -> None:
    """rmdir fails on a cgroup that still has processes: only empty ones go."""
    for path in cgroups:
        with contextlib.suppress(OSError):
            path.rmdir()
