"""A training experiment in the sandbox, judged by the harness.

    outcome = run_training(TrainRequest(task="lm", data="shakespeare", steps=100), work_dir)
    outcome.sandbox.status    # how the process ended
    outcome.harness           # val metrics the harness computed from the checkpoint

The experiment writes only `work_dir` (spec.json in, run/ out). Its own result.json is a
claim; `harness` is computed here, outside the sandbox, from the checkpoint and the
harness's own copy of the data. Safetensors and tokenizer JSON load without executing code.
"""

from __future__ import annotations

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
    result = run_sandboxed(
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
    )
    run_dir = work_dir / RUN
    start = time.perf_counter()
    harness = evaluate_run(run_dir, "val", request.task, data) if result.status == "ok" else None
    return ExperimentOutcome(
        sandbox=result, harness=harness, harness_s=time.perf_counter() - start, run_dir=run_dir
    )
