import subprocess
import sys

import pytest

from tests.conftest import TINY, magnet, words


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys, magnet.agent.cli; "
        "print(sorted(m for m in ('torch', 'tokenizers', 'safetensors') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert "train" in magnet("--help").stdout


def test_data_list_and_show():
    assert "sms-spam" in magnet("data", "list").stdout
    shown = magnet("data", "show", "sp500", "--json")
    assert shown.returncode == 0 and '"task": "direction"' in shown.stdout


@pytest.mark.parametrize(
    "args,message",
    [
        (["--task", "lm", "--data", "no-such-corpus"], "unknown dataset 'no-such-corpus'"),
        (["--task", "lm", "--data", "shakespeare", "colour=blue"], "unknown setting 'colour'"),
        (["--task", "lm", "--data", "shakespeare", "--steps", "0"], "greater than 0"),
        (["--task", "lm", "--data", "shakespeare", "--budget-seconds", "0"], "greater than 0"),
        (["--task", "classify", "--data", "{bad}"], "line 1: not valid JSON"),
        (["--task", "direction", "--data", "{prices}"], "close 'n/a' is not a number"),
        (["--task", "lm"], "--task and --data are required"),
    ],
)
def test_bad_input_is_one_error_line_and_leaves_no_run_directory(tmp_path, args, message):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    prices = tmp_path / "prices.csv"
    prices.write_text("date,close\n1,100\n2,n/a\n")
    args = [a.format(bad=bad, prices=prices) for a in args]
    home = tmp_path / "home"
    result = magnet("train", *args, home=home)
    assert result.returncode != 0
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:") and message in lines[0], result.stderr
    assert not (home / "runs").exists() or not any((home / "runs").iterdir())


def test_train_prints_the_summary(tmp_path):
    result = magnet(
        "train",
        "--task",
        "direction",
        "--data",
        "sp500",
        "--steps",
        "3",
        "--out",
        str(tmp_path / "run"),
        *words(TINY),
    )
    assert result.returncode == 0, result.stderr
    assert "status: completed" in result.stdout and "val_balanced_accuracy:" in result.stdout
