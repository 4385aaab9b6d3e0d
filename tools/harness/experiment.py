"""An experiment in the sandbox, judged by the harness: training, specialists merged with
DiLoCo, or a re-merge of earlier specialists; `run_experiment` is the one entry for all three.

    config = ExperimentConfig.build("lm", "shakespeare", {"n_layers": 2}, steps=100)
    outcome = run_experiment(ExperimentRequest(config=config), work_dir)
    outcome.sandbox.status    # how the process ended
    outcome.harness           # val metrics the harness computed from the checkpoint

    config = ExperimentConfig.build("lm", "shakespeare", {"merge": "ties"}, steps=100)
    request = ExperimentRequest(config=config, domains=["shakespeare", "python-stdlib"])
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

from pydantic import BaseModel, Field

from magnet.sandboxes.isolation import Level
from magnet.sandboxes.limits import Limits
from magnet.sandboxes.runner import SandboxResult, SandboxSpec, run_sandboxed
from magnet.tools.bitnet.run_dir import METRICS, RunDir
from magnet.tools.bitnet.train import DIVERGED_EXIT, TrainRequest, prepare
from magnet.tools.datasets import data_ref
from magnet.tools.diloco.report import score
from magnet.tools.diloco.spec import DilocoSpec
from magnet.tools.diloco.worker import ROUND_START, worker_dir
from magnet.tools.errors import MagnetError, RunDirError
from magnet.tools.harness.config import ExperimentConfig, trainer_settings
from magnet.tools.harness.evaluate import evaluate_run
from magnet.tools.paths import cache_dir

RUN = "run"
DILOCO_ROUNDS = 2  # outer steps per merged-specialists experiment


class ExperimentRequest(BaseModel):
    """One experiment of any kind: its config trains on `config.train.data` for
    `config.train.steps`; with domains, specialists merged by `config.merge`."""

    config: ExperimentConfig
    domains: list[str] = Field([], description="2+: a specialist each, merged with DiLoCo")
    remerge: Path | None = Field(None, description="merge this DiLoCo run's specialists again")
    threads: int | None = Field(
        None, ge=1, description="the trainer's torch threads (a worker's share); None: all cores"
    )


class ExperimentOutcome(BaseModel):
    sandbox: SandboxResult
    harness: dict | None = None
    harness_s: float = 0.0  # time the harness took to evaluate the checkpoint
    run_dir: Path
    precision: str | None = Field(None, description="bf16 | fp32, as the run's config records")


def run_experiment(
    request: ExperimentRequest,
    work_dir: Path,
    limits: Limits | None = None,
    on_metric: Callable[[dict], None] | None = None,
) -> ExperimentOutcome:
    """Train, train specialists and merge them, or only re-merge (no training)."""
    merge = request.config.merge
    if request.remerge is not None:
        return run_merge_experiment(request.remerge, request.domains, merge, work_dir, limits)
    if len(request.domains) >= 2:
        return _specialists(request, work_dir, limits, on_metric)
    train = TrainRequest(config=request.config.train, final_eval=False)  # the harness scores it
    return run_training(train, work_dir, limits, on_metric=on_metric, threads=request.threads)


def _specialists(request: ExperimentRequest, work_dir, limits, on_metric) -> ExperimentOutcome:
    """Specialists per domain merged with DiLoCo (`steps` split into DILOCO_ROUNDS rounds),
    then merged again by `merge` when that is not the outer step."""
    config = request.config
    rounds = min(DILOCO_ROUNDS, config.train.steps)
    spec = DilocoSpec(
        domains=request.domains,
        inner_steps=config.train.steps // rounds,
        rounds=rounds,
        settings=trainer_settings(config.settings),  # each domain's config is made from them
        out=work_dir,
    )
    trained = run_diloco_experiment(spec, work_dir, limits, on_metric=on_metric)
    if config.merge == "diloco" or trained.sandbox.status != "ok":
        return trained
    merged = run_merge_experiment(
        trained.run_dir, request.domains, config.merge, work_dir / "remerge", limits
    )
    merged.sandbox.wall_s += trained.sandbox.wall_s  # the budget counts the training too
    merged.sandbox.metrics = trained.sandbox.metrics
    return merged


def run_training(
    request: TrainRequest,
    work_dir: Path,
    limits: Limits | None = None,
    level: Level | None = None,
    on_metric: Callable[[dict], None] | None = None,
    threads: int | None = None,
) -> ExperimentOutcome:
    """The trainer in the sandbox on `threads` torch threads (torch reads OMP_NUM_THREADS when
    it starts; None: every core), then the harness's val evaluation of its checkpoint."""
    data = data_ref(request.config.data)
    work_dir.mkdir(parents=True, exist_ok=True)
    config = request.config.model_copy(update={"data": data})
    spec = request.model_copy(update={"config": config, "out": None})
    (work_dir / "spec.json").write_text(spec.model_dump_json())
    argv = [sys.executable, "-m", "magnet.tools.bitnet.train", "--spec", "spec.json", "--out", RUN]
    run_dir = work_dir / RUN
    env, cache = _shared_tokens(spec)
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    outcome = _experiment(
        SandboxSpec(
            argv=argv,
            work_dir=work_dir,
            limits=limits or Limits(),
            level=level,
            env=env,
            readonly=([Path(data)] if Path(data).exists() else []) + cache + _init(spec),
            metrics_file=f"{RUN}/{METRICS}",
            diverged_exit=DIVERGED_EXIT,
        ),
        on_metric,
        lambda: evaluate_run(run_dir, "val", config.task, data),
    )
    return _with_final_eval(outcome, config.steps)


def _with_final_eval(outcome: ExperimentOutcome, steps: int | None) -> ExperimentOutcome:
    """The harness's val as the metric stream's last eval record, at the run's last step: the
    trainer skips its own there (final_eval), and the overfitting rule reads the whole curve."""
    metrics = outcome.sandbox.metrics
    evals = [m["step"] for m in metrics if m.get("event") == "eval"]
    if outcome.harness is not None and steps and (not evals or evals[-1] < steps):
        metrics.append({"event": "eval", "step": steps, "split": "val", **outcome.harness})
    return outcome


def _shared_tokens(request: TrainRequest) -> tuple[dict[str, str], list[Path]]:
    """Text is tokenized here, once, into the shared cache, which the trainer then reads
    (read-only under bubblewrap): no experiment tokenizes a corpus again. A classifier with
    the packaged LLM's tokenizer finds that LLM's vectors there, read from its GGUF once."""
    if request.config.task != "lm" and request.config.tokenizer != "smollm2":
        return {}, []
    try:
        prepare(request)
    except MagnetError:  # the trainer meets the same problem and reports it as the run's
        return {}, []
    cache = cache_dir().resolve()
    return {"MAGNET_CACHE": str(cache)}, [cache]


def _init(request: TrainRequest) -> list[Path]:
    """The run whose weights the trainer starts from (init_from), which it reads only."""
    init = request.config.init_from
    return [Path(init).resolve()] if init else []


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
            metrics_file=str(worker_dir(spec, 0) / METRICS),
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
    argv = [sys.executable, "-m", "magnet.tools.diloco.cli", "--method", method]
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
    run = RunDir(spec.work_dir / RUN)
    return ExperimentOutcome(
        sandbox=result,
        harness=harness,
        harness_s=time.perf_counter() - start,
        run_dir=run.path,
        precision=_precision(run),
    )


def _precision(run: RunDir) -> str | None:
    """What the run's config says it ran in; the experiment wrote it, so it may be damaged."""
    try:
        return run.config().precision if run.started else None
    except RunDirError:
        return None
