"""A training experiment in the sandbox, judged by the harness.

    outcome = run_training(TrainRequest(task="lm", data="shakespeare", steps=100), work_dir)
    outcome.sandbox.status    # how the process ended
    outcome.harness           # val metrics the harness computed from the checkpoint

    outcome = run_diloco_experiment(DilocoSpec(domains=[...], out=Path()), work_dir)
    outcome.harness           # bits_per_byte (merged, mean over domains), the domain table

The experiment writes only `work_dir` (spec.json in, run/ out). Its own result.json is a
claim; `harness` is computed here, outside the sandbox, from the checkpoint and the
harness's own copy of the data. Safetensors and tokenizer JSON load without executing code.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from magnet.sandboxes.isolation import Level
from magnet.sandboxes.limits import Limits
from magnet.sandboxes.runner import SandboxResult, SandboxSpec, run_sandboxed
from magnet.tools.bitnet.train import TrainRequest
from magnet.tools.datasets import data_ref
from magnet.tools.diloco.report import score
from magnet.tools.diloco.spec import DilocoSpec
from magnet.tools.diloco.worker import ROUND_START, worker_dir
from magnet.tools.evaluate import evaluate_run

RUN = "run"


class ExperimentOutcome(BaseModel):
    sandbox: SandboxResult
    harness: dict | None = None
    harness_s: float = 0.0  # time the harness took to evaluate the checkpoint
    run_dir: Path


def run_training(
    request: TrainRequest,
    work_dir: Path,
    limits: Limits | None = None,
    level: Level | None = None,
    on_metric: Callable[[dict], None] | None = None,
) -> ExperimentOutcome:
    data = data_ref(request.data)
    work_dir.mkdir(parents=True, exist_ok=True)
    spec = request.model_copy(update={"data": data, "out": None})
    (work_dir / "spec.json").write_text(spec.model_dump_json())
    argv = [sys.executable, "-m", "magnet.tools.bitnet.train", "--spec", "spec.json", "--out", RUN]
    run_dir = work_dir / RUN
    return _experiment(
        SandboxSpec(
            argv=argv,
            work_dir=work_dir,
            limits=limits or Limits(),
            level=level,
            readonly=[Path(data)] if Path(data).exists() else [],
            metrics_file=f"{RUN}/metrics.jsonl",
            result_file=f"{RUN}/result.json",
        ),
        on_metric,
        lambda: evaluate_run(run_dir, "val", request.task, data),
    )


def run_diloco_experiment(
    spec: DilocoSpec,
    work_dir: Path,
    limits: Limits | None = None,
    level: Level | None = None,
    on_metric: Callable[[dict], None] | None = None,
) -> ExperimentOutcome:
    """Specialists and their DiLoCo merge, trained in the sandbox (the workers talk over the
    sandbox's own loopback); the harness evaluates the models it left, outside."""
    domains = [data_ref(d) for d in spec.domains]
    spec = spec.model_copy(update={"domains": domains, "out": Path(RUN)})
    work_dir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(work_dir / RUN, ignore_errors=True)  # a killed one starts over: no checkpoints
    (work_dir / "spec.json").write_text(spec.model_dump_json())
    judged = spec.model_copy(update={"out": work_dir / RUN})
    return _experiment(
        SandboxSpec(
            argv=[sys.executable, "-m", "magnet.tools.diloco.run", "--spec", "spec.json"]
            + ["--no-joint"],
            work_dir=work_dir,
            limits=limits or Limits(),
            level=level,
            readonly=[Path(d) for d in domains if Path(d).exists()],
            metrics_file=str(worker_dir(spec, 0) / "metrics.jsonl"),
            result_file=f"{RUN}/result.json",
        ),
        on_metric,
        lambda: score(judged),
    )


def run_merge_experiment(
    source: Path,
    domains: list[str],
    method: str,
    work_dir: Path,
    limits: Limits | None = None,
    level: Level | None = None,
) -> ExperimentOutcome:
    """The specialists of an earlier DiLoCo experiment (its run dir), merged again by
    `method` from the weights their last round started from: no training."""
    run_dir = work_dir / RUN
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    source = source.resolve()
    for name in ("base", "workers", ROUND_START):  # the harness scores the same layout
        (run_dir / name).symlink_to(source / name)
    argv = [sys.executable, "-m", "magnet.agent.cli", "merge", "--method", method]
    argv += ["--base", str(source / ROUND_START), "--out", f"{RUN}/merged"]
    for specialist in sorted(source.glob("workers/*/specialist")):
        argv += ["--specialists", str(specialist)]
    spec = DilocoSpec(domains=[data_ref(d) for d in domains], out=run_dir)
    return _experiment(
        SandboxSpec(
            argv=argv, work_dir=work_dir, limits=limits or Limits(), level=level, readonly=[source]
        ),
        None,
        lambda: score(spec),
    )


def _experiment(spec: SandboxSpec, on_metric, evaluate: Callable[[], dict]) -> ExperimentOutcome:
    """Run in the sandbox; then, if it ended well, the harness's own evaluation."""
    result = run_sandboxed(spec, on_metric)
    start = time.perf_counter()
    harness = evaluate() if result.status == "ok" else None
    return ExperimentOutcome(
        sandbox=result,
        harness=harness,
        harness_s=time.perf_counter() - start,
        run_dir=spec.work_dir / RUN,
    )
