"""Failure analysis: from a sandbox result and its metrics, a structured diagnosis.

Deterministic rules, checked in order; the first that fits names the kind:

    crash         non-zero exit: the exception type, its message, the last frame in our code
    timeout       wall clock or CPU limit: how far it got
    oom           the address-space cap: the allocation that failed
    diverged      NaN or a loss blow-up: the step where it began
    overfitting   the validation metric falls from its best while training loss keeps falling
    underfitting  training loss still falling steeply at the end, or barely below its start
    first         finished, with nothing before it to compare with
    no_change     finished, but not better than the best so far beyond the noise floor
    improved      finished and better than the best so far beyond the noise floor

The last three are the run's verdict (tools/metrics.Metric.verdict), worse read as no_change.
"""

from __future__ import annotations

import math
import re
from typing import Literal

from pydantic import BaseModel, Field

from magnet.sandboxes.runner import SandboxResult
from magnet.tools.metrics import Metric

Kind = Literal[
    "crash",
    "timeout",
    "oom",
    "killed",
    "diverged",
    "overfitting",
    "underfitting",
    "first",
    "no_change",
    "improved",
]
FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<func>\S+)')
EXCEPTION = re.compile(
    r"^(?P<type>[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)\w*):?\s*"
    r"(?P<msg>.*)$"
)
OUR_CODE = ("/magnet/", "/tools/", "/agent/", "/memory/", "/sandboxes/")
DIRECTIONS = {
    "crash": ["fix the configuration the error names", "try the last working configuration"],
    "timeout": ["shorten the budget (fewer steps)", "use a smaller model", "raise the time limit"],
    "oom": [
        "use a smaller batch_size",
        "use a shorter seq_len",
        "use a smaller model",
        "raise the memory limit",
    ],
    "killed": ["lower the resource use the reason names", "raise that limit"],
    "diverged": ["lower the learning rate", "lengthen the warmup", "tighten grad_clip"],
    "overfitting": [
        "add more training data",
        "train for fewer steps",
        "use a smaller model",
        "raise weight_decay",
    ],
    "underfitting": [
        "train longer (larger budget)",
        "raise the learning rate",
        "use a larger model",
    ],
    "no_change": ["try a different direction: the change made no measurable difference"],
    "first": ["refine around this configuration"],
    "improved": ["refine around this configuration"],
}
OVERFIT_DROP = 0.02  # relative fall of the val metric from its best
UNDERFIT_GAIN = 0.05  # training loss fell less than this share of its start


class Diagnosis(BaseModel):
    kind: Kind
    summary: str = Field(description="one line a person or planner can read")
    evidence: list[str] = Field(description="the log lines or numbers the verdict rests on")
    directions: list[str] = Field(description="what to try next, most likely first")
    exception: str | None = None
    frame: str | None = Field(None, description="file:line in function, in our code")
    step: int | None = Field(None, description="where divergence began")


def analyze(
    result: SandboxResult,
    metric: Metric,
    value: float | None = None,
    best: float | None = None,
    noise: float = 0.0,
) -> Diagnosis:
    """`value` is the harness metric of this run, `best` the best so far, `noise` the seed
    spread; `metric` is the one named in the eval records."""
    train = [m for m in result.metrics if m.get("event") == "train"]
    evals = [m for m in result.metrics if m.get("event") == "eval" and metric.name in m]
    for rule in (_process, _divergence):
        found = rule(result, train)
        if found:
            return found
    return (
        _overfitting(train, evals, metric)
        or _underfitting(train)
        or _versus_best(value, best, noise, metric)
    )


def refused(error: str) -> Diagnosis:
    """A config the trainer refused before any process started (`error` names the value)."""
    return _make("crash", f"config refused before it ran: {error}", [error])


def lost(error: BaseException) -> Diagnosis:
    """The worker running an experiment raised or went away before the harness scored it."""
    words = f"{type(error).__name__}: {error}"
    return _make("crash", f"worker lost: {words}", [words])


def _process(r: SandboxResult, train: list[dict]) -> Diagnosis | None:
    last = f"last logged step: {train[-1]['step']}" if train else "no step was logged"
    if r.status == "timeout":
        return _make("timeout", f"stopped: {r.reason}", [r.reason, last])
    if r.status == "oom":
        line = _last_line(r.stderr_tail, ("MemoryError", "allocate", "bad_alloc", "memory"))
        return _make("oom", f"out of memory: {r.reason}", [x for x in (line, last) if x])
    if r.status == "killed":
        return _make("killed", f"stopped by the sandbox: {r.reason}", [r.reason, last])
    if r.status == "failed":
        exc, frame = _exception(r.stderr_tail)
        summary = f"crashed with {exc}" if exc else f"crashed: {r.reason}"
        evidence = [x for x in (exc, frame and f"at {frame}", r.reason) if x]
        return _make("crash", summary, evidence, exception=exc, frame=frame)
    return None


def _divergence(r: SandboxResult, train: list[dict]) -> Diagnosis | None:
    bad = next((m for m in train if not math.isfinite(m.get("loss", 0.0))), None)
    if r.status != "diverged" and bad is None:
        return None
    finite = [m for m in train if math.isfinite(m.get("loss", math.nan))]
    step = bad["step"] if bad else _blow_up_step(finite)
    evidence = [r.reason] if r.status == "diverged" else []
    if finite:
        low = min(finite, key=lambda m: m["loss"])
        evidence.append(f"lowest loss {low['loss']:.4g} at step {low['step']}")
    if step is not None:
        evidence.append(f"divergence began at step {step}")
    return _make("diverged", "the training loss diverged", evidence, step=step)


def _blow_up_step(train: list[dict]) -> int | None:
    """The first step after the minimum whose loss is more than twice the minimum."""
    if not train:
        return None
    i = min(range(len(train)), key=lambda k: train[k]["loss"])
    low = train[i]["loss"]
    return next((m["step"] for m in train[i:] if m["loss"] > 2 * low), train[-1]["step"])


def _overfitting(train, evals, metric: Metric) -> Diagnosis | None:
    if len(evals) < 3 or len(train) < 4:
        return None
    primary = metric.name
    best = metric.best(evals, key=lambda m: m[primary])
    last = evals[-1]
    drop = metric.gain(best[primary], last[primary]) / max(abs(best[primary]), 1e-9)
    after = [m["loss"] for m in train if m["step"] > best["step"]]
    falling = len(after) >= 2 and after[-1] < after[0]
    if drop < OVERFIT_DROP or not falling:
        return None
    evidence = [
        f"val {primary} best {best[primary]:.4g} at step {best['step']}, "
        f"{last[primary]:.4g} at step {last['step']}",
        f"train loss fell from {after[0]:.4g} to {after[-1]:.4g} meanwhile",
    ]
    return _make("overfitting", "validation got worse while training loss kept falling", evidence)


def _underfitting(train) -> Diagnosis | None:
    if len(train) < 4:
        return None
    losses = [m["loss"] for m in train]
    start, end = losses[0], losses[-1]
    gain = (start - end) / max(abs(start), 1e-9)
    tail = losses[-max(2, len(losses) // 5) :]
    still = (tail[0] - tail[-1]) / max(abs(tail[0]), 1e-9)
    if gain >= UNDERFIT_GAIN and still < 0.05:
        return None
    evidence = [
        f"train loss {start:.4g} → {end:.4g} ({gain:.0%} lower)",
        f"last {len(tail)} logged steps: {still:.1%} lower",
    ]
    return _make("underfitting", "training loss was still falling (or barely fell)", evidence)


def _versus_best(value, best, noise, metric: Metric) -> Diagnosis:
    primary = metric.name
    if value is None or best is None:
        return _make("first", f"first result: {primary} {_fmt(value)}", [])
    evidence = [f"{primary} {value:.4g} vs best {best:.4g} (noise floor {noise:.4g})"]
    if metric.verdict(value, "ok", best, noise) == "improved":
        return _make("improved", f"{primary} improved by {metric.gain(value, best):.4g}", evidence)
    return _make("no_change", f"{primary} not better than the best beyond noise", evidence)


def _exception(stderr: str) -> tuple[str | None, str | None]:
    lines = stderr.strip().splitlines()
    exc = next((ln.strip() for ln in reversed(lines) if EXCEPTION.match(ln.strip())), None)
    frames = [m for m in map(FRAME.search, lines) if m]
    ours = [m for m in frames if any(part in m["file"] for part in OUR_CODE)] or frames
    frame = f"{ours[-1]['file']}:{ours[-1]['line']} in {ours[-1]['func']}" if ours else None
    return exc, frame


def _last_line(text: str, needles: tuple[str, ...]) -> str | None:
    lines = [ln.strip() for ln in text.splitlines() if any(n in ln for n in needles)]
    return lines[-1] if lines else None


def _make(kind: Kind, summary: str, evidence: list[str], **extra) -> Diagnosis:
    return Diagnosis(
        kind=kind, summary=summary, evidence=evidence, directions=DIRECTIONS[kind], **extra
    )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"
