"""Run one experiment in a sandbox and report what happened as a typed result.

    from magnet.sandboxes import SandboxSpec, run_sandboxed
    result = run_sandboxed(SandboxSpec(argv=["python", "-c", "print(1)"], work_dir=Path("w")))
    result.status   # ok | failed | timeout | oom | killed | diverged

The experiment gets a clean environment, its work dir as the only writable place (bwrap),
rlimits, a pids cgroup, and a wall clock after which its whole process tree is killed. Its
metrics stream (a JSONL file in the work dir) reaches `on_metric` while it runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from magnet.sandboxes.isolation import Level, best_level, probe, wrap
from magnet.sandboxes.limits import Limits, PidsCgroup, child_setup, clean_env
from magnet.tools.errors import SandboxError

Status = Literal["ok", "failed", "timeout", "oom", "killed", "diverged"]
TAIL_BYTES = 16 << 10
POLL_S = 0.05
OOM_MARKERS = (
    "MemoryError",
    "Cannot allocate memory",
    "can't allocate memory",
    "std::bad_alloc",
    "out of memory",
)
# The source tree of this package: experiments import it, so bwrap must expose it.
PACKAGE_ROOT = Path(__file__).resolve().parents[1]


class SandboxSpec(BaseModel):
    argv: list[str] = Field(min_length=1, description="the command, run inside work_dir")
    work_dir: Path = Field(description="the only writable directory; created if missing")
    limits: Limits = Limits()
    level: Level | None = Field(None, description="isolation level; None = strongest here")
    readonly: list[Path] = Field([], description="extra paths the experiment may read")
    env: dict[str, str] = Field({}, description="extra environment; secret-like names refused")
    metrics_file: str | None = Field(None, description="JSONL in work_dir streamed to on_metric")
    diverged_exit: int | None = Field(
        None, description="the exit code by which the command says its loss diverged"
    )


class Artifact(BaseModel):
    path: str
    bytes: int


class SandboxResult(BaseModel):
    status: Status
    level: Level
    reason: str = Field("", description="why the status, in one line")
    exit_code: int | None
    signal: str | None = None
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    stdout_tail: str
    stderr_tail: str
    metrics: list[dict] = []
    artifacts: list[Artifact] = []
    warnings: list[str] = []
    work_dir: Path


def run_sandboxed(
    spec: SandboxSpec, on_metric: Callable[[dict], None] | None = None
) -> SandboxResult:
    level = spec.level or best_level()
    works, why = probe(level)
    if not works:
        raise SandboxError(f"isolation level '{level}' is not available: {why}")
    spec.work_dir.mkdir(parents=True, exist_ok=True)
    try:
        env = clean_env(spec.work_dir.resolve(), spec.env)
    except ValueError as e:
        raise SandboxError(str(e)) from None
    readonly = [Path(sys.prefix), Path(sys.base_prefix), PACKAGE_ROOT, *spec.readonly]
    cmd = wrap(level, spec.argv, spec.work_dir, readonly)
    cgroup = PidsCgroup(spec.limits.max_processes)
    try:
        return _supervise(spec, level, cmd, env, cgroup, on_metric or (lambda m: None))
    finally:
        cgroup.close()


def _supervise(spec, level, cmd, env, cgroup, on_metric) -> SandboxResult:
    start = time.perf_counter()
    try:
        proc = subprocess.Popen(
            cmd,
            cwd=spec.work_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=child_setup(spec.limits, cgroup),
        )
    except OSError as e:
        raise SandboxError(f"cannot start {spec.argv[0]!r}: {e.strerror or e}") from None
    out, err = _Tail(proc.stdout), _Tail(proc.stderr)
    stream = _MetricStream(spec.work_dir / spec.metrics_file if spec.metrics_file else None)
    try:
        status, usage, cause = _wait(proc.pid, spec, out, err, stream, on_metric, cgroup, start)
    except BaseException:  # Ctrl-C or a failing callback: the experiment goes too
        _kill_tree(proc.pid, cgroup)
        raise
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    _kill_tree(proc.pid, cgroup)  # nothing the experiment started outlives it
    out.join()
    err.join()
    stream.poll(on_metric)
    code, sig = _exit(status, level)
    result = SandboxResult(
        status="ok",
        level=level,
        exit_code=code,
        signal=sig and signal.Signals(sig).name,
        wall_s=round(wall, 3),
        cpu_s=round(usage.ru_utime + usage.ru_stime, 3),
        peak_rss_mb=round(usage.ru_maxrss / 1024, 1),
        stdout_tail=out.text(),
        stderr_tail=err.text(),
        metrics=stream.records,
        artifacts=_artifacts(spec.work_dir),
        work_dir=spec.work_dir,
        warnings=["no isolation: network and filesystem are reachable (resource limits only)"]
        if level == "rlimits"
        else [],
    )
    result.status, result.reason = _classify(spec, result, cause, sig, cgroup)
    return result


def _wait(pid, spec, out, err, stream, on_metric, cgroup, start):
    """Poll until the experiment exits or breaks a limit: (wait status, rusage, cause)."""
    deadline, cause = start + spec.limits.wall_seconds, ""
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return status, usage, cause
        stream.poll(on_metric)
        if time.perf_counter() > deadline:
            cause = "timeout"
        elif out.total + err.total > spec.limits.max_output_bytes:
            cause = "output"
        if cause:
            _kill_tree(pid, cgroup)
            _, status, usage = os.wait4(pid, 0)
            return status, usage, cause
        time.sleep(POLL_S)


def _classify(spec, r: SandboxResult, cause: str, sig: int | None, cgroup) -> tuple[Status, str]:
    limits = spec.limits
    if cause == "timeout":
        return "timeout", f"wall clock over {limits.wall_seconds:g} s"
    if cause == "output":
        return "killed", f"output over {limits.max_output_bytes} bytes"
    if sig == signal.SIGXCPU or (sig == signal.SIGKILL and r.cpu_s >= limits.cpu_limit()):
        return "timeout", f"CPU time over {limits.cpu_limit()} s"
    if any(marker in r.stderr_tail for marker in OOM_MARKERS):
        return "oom", f"out of memory (address space capped at {limits.memory_bytes} bytes)"
    if sig == signal.SIGXFSZ:
        return "killed", f"wrote a file over {limits.max_file_bytes} bytes"
    if sig is None and spec.diverged_exit is not None and r.exit_code == spec.diverged_exit:
        return "diverged", f"exited with code {r.exit_code}: the loss diverged"
    if r.exit_code == 0 and sig is None:
        return "ok", "exited 0"
    if cgroup.limit_hit():
        return "killed", f"hit the process limit ({limits.max_processes})"
    if sig is not None:
        return "killed", f"killed by {r.signal}"
    return "failed", f"exited with code {r.exit_code}"


def _exit(status: int, level: Level) -> tuple[int | None, int | None]:
    """(exit code, signal). bwrap reports a child killed by signal N as exit 128 + N."""
    if os.WIFSIGNALED(status):
        return None, os.WTERMSIG(status)
    code = os.WEXITSTATUS(status)
    if level == "bwrap" and code > 128 and code - 128 in signal.valid_signals():
        return None, code - 128
    return code, None


def _kill_tree(pid: int, cgroup: PidsCgroup) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    if cgroup.available:
        cgroup.kill_all()


def _artifacts(work_dir: Path) -> list[Artifact]:
    files = sorted(p for p in work_dir.rglob("*") if p.is_file() and not p.is_symlink())
    return [Artifact(path=str(p.relative_to(work_dir)), bytes=p.stat().st_size) for p in files]


class _Tail:
    """Drains a pipe on a thread, keeping the last TAIL_BYTES and counting the rest."""

    def __init__(self, pipe) -> None:
        self.pipe, self.total, self.buf = pipe, 0, bytearray()
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        for chunk in iter(lambda: self.pipe.read1(1 << 16), b""):
            self.total += len(chunk)
            self.buf += chunk
            del self.buf[:-TAIL_BYTES]

    def join(self) -> None:
        self.thread.join(timeout=5)
        self.pipe.close()

    def text(self) -> str:
        return self.buf.decode("utf-8", errors="replace")


class _MetricStream:
    """Reads complete new lines of a JSONL file as it grows; bad lines are skipped."""

    def __init__(self, path: Path | None) -> None:
        self.path, self.offset, self.records = path, 0, []

    def poll(self, on_metric: Callable[[dict], None]) -> None:
        if self.path is None or not self.path.exists():
            return
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self.offset += end
        for line in data[:end].splitlines():
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict):
                    self.records.append(record)
                    on_metric(record)
