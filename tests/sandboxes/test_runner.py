"""Real processes in real sandboxes: each limit is hit on purpose and must hold."""

import socket
import sys
import textwrap
import time
from pathlib import Path

import pytest

from magnet.sandboxes import Limits, SandboxSpec, probe, run_sandboxed
from magnet.tools.errors import SandboxError

ISOLATED = [lvl for lvl in ("bwrap", "unshare") if probe(lvl)[0]]
needs_bwrap = pytest.mark.skipif(not probe("bwrap")[0], reason=probe("bwrap")[1])
PY = sys.executable


def run(tmp_path, code, level=None, readonly=(), **limits):
    spec = SandboxSpec(
        argv=[PY, "-c", textwrap.dedent(code)],
        work_dir=tmp_path / "work",
        level=level,
        readonly=list(readonly),
        limits=Limits(**limits),
    )
    return run_sandboxed(spec)


@pytest.fixture
def server():
    """A listening socket on the host's loopback: reachable only without a network namespace."""
    sock = socket.create_server(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


CONNECT = """
import os
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2)
    print("connected")
except OSError as e:
    print("blocked", e)
"""


@pytest.mark.parametrize("level", ISOLATED)
def test_network_is_unreachable(tmp_path, server, level):
    result = run(tmp_path, CONNECT.format(port=server), level)
    assert result.status == "ok" and result.level == level
    assert "blocked" in result.stdout_tail


def test_without_isolation_the_same_connection_succeeds(tmp_path, server):
    result = run(tmp_path, CONNECT.format(port=server), "rlimits")
    assert "connected" in result.stdout_tail  # proves the test above can fail
    assert result.warnings


@needs_bwrap
def test_only_the_work_dir_is_writable_and_the_harness_is_readable(tmp_path):
    harness = tmp_path / "harness"
    harness.mkdir()
    (harness / "split.txt").write_text("val data")
    code = f"""
    from pathlib import Path
    print("read:", Path("{harness}/split.txt").read_text())
    for target in ["{harness}/split.txt", "{harness}/new.txt", "/etc/magnet-test", "{PY}"]:
        try:
            open(target, "a").write("x")
            print("WROTE", target)
        except OSError as e:
            print("denied", target, type(e).__name__)
    Path("mine.txt").write_text("ok")
    """
    result = run(tmp_path, code, "bwrap", readonly=[harness])
    assert result.status == "ok", result.stderr_tail
    assert "read: val data" in result.stdout_tail
    assert "WROTE" not in result.stdout_tail and result.stdout_tail.count("denied") == 4
    assert (harness / "split.txt").read_text() == "val data"
    assert [a.path for a in result.artifacts] == ["mine.txt"]


@pytest.mark.parametrize("level", [*ISOLATED, "rlimits"])
def test_memory_hog_is_stopped_as_oom(tmp_path, level):
    code = "chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 2**20))"
    result = run(tmp_path, code, level, memory_bytes=1 << 30, wall_seconds=60)
    assert result.status == "oom", (result.reason, result.stderr_tail)
    assert result.wall_s < 30


@pytest.mark.parametrize("level", ISOLATED)
def test_fork_bomb_is_stopped_at_the_process_limit(tmp_path, level):
    code = """
    import os, time
    children = 0
    try:
        while True:
            if os.fork() == 0:
                time.sleep(30)
                os._exit(0)
            children += 1
    except OSError as e:
        print("fork failed after", children, e)
        raise SystemExit(1)
    """
    result = run(tmp_path, code, level, max_processes=32, wall_seconds=30)
    assert result.status == "killed" and "process limit" in result.reason, result.stderr_tail
    assert "fork failed after" in result.stdout_tail
    assert result.wall_s < 15


def test_infinite_loop_is_stopped_by_the_wall_clock(tmp_path):
    result = run(tmp_path, "while True: pass", wall_seconds=1.5)
    assert result.status == "timeout" and "wall clock" in result.reason
    assert 1.5 <= result.wall_s < 4


def test_cpu_time_limit(tmp_path):
    result = run(tmp_path, "while True: pass", cpu_seconds=1, wall_seconds=30)
    assert result.status == "timeout" and "CPU time" in result.reason
    assert result.cpu_s >= 0.9 and result.wall_s < 10


def test_output_flood_is_capped(tmp_path):
    result = run(
        tmp_path, "while True: print('x' * 1000)", max_output_bytes=1 << 20, wall_seconds=30
    )
    assert result.status == "killed" and "output over" in result.reason
    assert len(result.stdout_tail) <= 16 << 10


def test_secrets_stay_outside(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-must-not-leak")
    monkeypatch.setenv("MAGNET_PRIVATE_KEY", "0xdeadbeef")
    result = run(tmp_path, "import os; print(sorted(os.environ))")
    assert "OPENAI_API_KEY" not in result.stdout_tail and "PRIVATE" not in result.stdout_tail
    assert "sk-must-not-leak" not in result.stdout_tail + result.stderr_tail
    with pytest.raises(SandboxError, match="looks like a secret"):
        run_sandboxed(SandboxSpec(argv=["true"], work_dir=tmp_path / "w", env={"HF_TOKEN": "x"}))


def test_exit_codes_crashes_and_usage_are_reported(tmp_path):
    result = run(
        tmp_path,
        "x = bytearray(200 * 2**20); x[::4096] = b'1' * (len(x) // 4096)\n"
        "sum(range(10**7))\nraise ValueError('boom')",
    )
    assert result.status == "failed" and result.exit_code == 1
    assert "ValueError: boom" in result.stderr_tail
    assert result.peak_rss_mb > 150 and result.cpu_s > 0.1


def test_metrics_stream_while_running(tmp_path):
    code = """
    import json, time
    with open("m.jsonl", "a") as f:
        for step in range(1, 4):
            f.write(json.dumps({"event": "train", "step": step}) + "\\n")
            f.flush()
            time.sleep(0.2)
    """
    seen = []
    spec = SandboxSpec(
        argv=[PY, "-c", textwrap.dedent(code)], work_dir=tmp_path / "w", metrics_file="m.jsonl"
    )
    result = run_sandboxed(spec, seen.append)
    assert [m["step"] for m in seen] == [1, 2, 3] and result.metrics == seen


def test_unknown_level_or_command_is_a_clear_error(tmp_path):
    with pytest.raises(SandboxError, match="cannot start"):
        run_sandboxed(
            SandboxSpec(argv=["/nonexistent/tool"], work_dir=tmp_path / "w", level="rlimits")
        )


def test_an_interrupted_harness_takes_the_experiment_down(tmp_path):
    code = """
    import json, os, time
    open("pid", "w").write(str(os.getpid()))
    with open("m.jsonl", "a") as f:
        f.write(json.dumps({"step": 1}) + "\\n")
    time.sleep(600)
    """
    spec = SandboxSpec(
        argv=[PY, "-c", textwrap.dedent(code)],
        work_dir=tmp_path / "w",
        level="rlimits",
        metrics_file="m.jsonl",
    )

    def interrupt(_):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sandboxed(spec, interrupt)
    pid = int((tmp_path / "w" / "pid").read_text())
    time.sleep(0.2)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_divergence_is_read_from_the_exit_code_never_from_a_file_the_run_wrote(tmp_path):
    claim = "open('result.json', 'w').write('{\"status\": \"diverged\"}'); raise SystemExit("

    def ended(code: int, diverged_exit: int | None = 3):
        spec = SandboxSpec(
            argv=[PY, "-c", f"{claim}{code})"], work_dir=tmp_path / f"w{code}{diverged_exit}",
            diverged_exit=diverged_exit,
        )  # fmt: skip
        return run_sandboxed(spec).status

    assert ended(3) == "diverged"
    assert ended(0) == "ok"  # the file's claim is not read
    assert ended(3, diverged_exit=None) == "failed" and ended(1) == "failed"
