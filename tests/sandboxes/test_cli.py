import json

from magnet.sandboxes import probe
from tests.conftest import magnet


def test_check_lists_every_level_with_a_reason():
    out = magnet("sandbox", "check")
    assert out.returncode == 0
    for level in ("bwrap", "unshare", "rlimits"):
        assert level in out.stdout
    best = next(lvl for lvl in ("bwrap", "unshare", "rlimits") if probe(lvl)[0])
    assert f"experiments will run under: {best}" in out.stdout


def test_run_prints_the_result_and_fails_with_the_command(tmp_path):
    ok = magnet(
        "sandbox", "run", "--work-dir", tmp_path / "a", "--", "python3", "-c", "print('hello')"
    )
    assert ok.returncode == 0 and json.loads(ok.stdout)["stdout_tail"] == "hello\n"
    bad = magnet(
        "sandbox",
        "run",
        "--work-dir",
        tmp_path / "b",
        "--timeout",
        "1",
        "--",
        "python3",
        "-c",
        "while True: pass",
    )
    assert bad.returncode == 1 and json.loads(bad.stdout)["status"] == "timeout"
