from pathlib import Path

from magnet.sandboxes.runner import SandboxResult
from magnet.tools.harness.failures import analyze
from magnet.tools.metrics import BALANCED_ACCURACY, BITS_PER_BYTE, metric

TRACEBACK = """Traceback (most recent call last):
  File "/usr/lib/python3.11/runpy.py", line 198, in _run_module_as_main
  File "/src/tools/bitnet/tasks.py", line 51, in train_batch
    starts = torch.randint(0, len(data) - t, (self.cfg.batch_size,), generator=gen)
  File "/venv/lib/python3.11/site-packages/torch/random.py", line 12, in randint
RuntimeError: random_ expects 'from' to be less than 'to', but got from=0 >= to=-5
"""


def result(status="ok", stderr="", metrics=(), reason=""):
    return SandboxResult(
        status=status,
        level="bwrap",
        reason=reason,
        exit_code=0,
        wall_s=1.0,
        cpu_s=1.0,
        peak_rss_mb=10.0,
        stdout_tail="",
        stderr_tail=stderr,
        metrics=list(metrics),
        work_dir=Path("w"),
    )


def train(losses, start=1):
    return [{"event": "train", "step": start + i, "loss": x} for i, x in enumerate(losses)]


def evals(values, every=10, key="bits_per_byte"):
    return [{"event": "eval", "step": every * (i + 1), key: v} for i, v in enumerate(values)]


def test_crash_names_the_exception_and_the_frame_in_our_code():
    d = analyze(result("failed", TRACEBACK, reason="exited with code 1"), BITS_PER_BYTE)
    assert d.kind == "crash"
    assert d.exception.startswith("RuntimeError: random_ expects")
    assert d.frame == "/src/tools/bitnet/tasks.py:51 in train_batch"


def test_timeout_and_oom_and_killed():
    t = analyze(result("timeout", reason="wall clock over 5 s", metrics=train([3, 2])), metric("x"))
    assert t.kind == "timeout" and "last logged step: 2" in t.evidence
    oom = "numpy.core._exceptions.MemoryError: Unable to allocate"
    o = analyze(result("oom", oom), metric("x"))
    assert o.kind == "oom" and "smaller batch_size" in o.directions[0]
    k = analyze(result("killed", reason="hit the process limit (32)"), metric("x"))
    assert k.kind == "killed" and "process limit" in k.summary


def test_divergence_finds_where_it_began():
    losses = [5.0, 4.0, 3.0, 2.5, 2.4, 2.6, 6.0, 30.0]
    d = analyze(result("diverged", metrics=train(losses), reason="diverged"), BITS_PER_BYTE)
    assert d.kind == "diverged" and d.step == 7  # first loss above twice the minimum 2.4
    nan = analyze(result("ok", metrics=train([3.0, 2.0, float("nan")])), BITS_PER_BYTE)
    assert nan.kind == "diverged" and nan.step == 3
    assert "lower the learning rate" in d.directions


def test_overfitting_from_the_validation_curve():
    metrics = train([3.0 - 0.05 * i for i in range(40)]) + evals([2.0, 1.8, 1.9, 2.1])
    d = analyze(result(metrics=metrics), BITS_PER_BYTE)
    assert d.kind == "overfitting" and "more training data" in d.directions[0]


def test_underfitting_when_loss_still_falls_steeply():
    metrics = train([5.0 - 0.1 * i for i in range(20)]) + evals([3.0, 2.9])
    d = analyze(result(metrics=metrics), BITS_PER_BYTE)
    assert d.kind == "underfitting" and "train longer" in d.directions[0]


def test_improvement_must_beat_the_noise_floor():
    flat = train([2.0, 1.5, 1.2, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1])
    same = analyze(result(metrics=flat), BALANCED_ACCURACY, value=0.91, best=0.90, noise=0.02)
    assert same.kind == "no_change"
    better = analyze(result(metrics=flat), BALANCED_ACCURACY, value=0.95, best=0.90, noise=0.02)
    assert better.kind == "improved"
    lower_is_better = analyze(result(metrics=flat), BITS_PER_BYTE, value=2.5, best=2.6, noise=0.01)
    assert lower_is_better.kind == "improved"


def test_a_first_run_is_first_not_improved():
    flat = train([2.0, 1.5, 1.2, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1])
    first = analyze(result(metrics=flat), BITS_PER_BYTE, value=2.5)
    assert first.kind == "first" and first.summary == "first result: bits_per_byte 2.5"
