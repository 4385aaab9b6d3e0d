"""The training loop: AdamW, warmup + two-stage schedule, evaluation, checkpoints, divergence.

    trainer = Trainer(model, task, cfg, run_dir, on_event)
    outcome = trainer.run()        # resumes from run_dir/checkpoint.safetensors if present

Stage 1 (up to `stage2_start` of the budget) follows a cosine from the peak LR down to
`stage2_lr_scale`·peak with weight decay; stage 2 decays linearly from there to zero with no
weight decay (the BitNet b1.58 recipe). Progress is steps/steps or elapsed/budget_seconds.
With `keep_best` (early stopping) every eval that beats the best so far saves its weights, and a
run whose last eval is worse ends with them: its checkpoint holds the best eval's weights.
Every record also goes to metrics.jsonl; resuming drops records after the checkpoint's step,
so the file reads as one uninterrupted run. Forward passes and evaluation run under the
config's precision (precision.py); the checkpoint records it, and a run resumed under another
precision says so in its start record.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from magnet.tools import metrics
from magnet.tools.bitnet.checkpoint import load_checkpoint, save_checkpoint, save_weights
from magnet.tools.bitnet.config import TrainConfig
from magnet.tools.bitnet.precision import autocast, resolve
from magnet.tools.bitnet.run_dir import RunDir

EMA = 0.1  # smoothing of the loss used for divergence detection
WARMUP_SHARE = 0.1  # of a run's budget: the most its warmup may take
MIN_RISE = 1.0  # nats: near-zero losses (classifiers) triple on one bad batch without diverging


@dataclass
class Outcome:
    status: str  # "completed" | "diverged"
    step: int
    elapsed_s: float
    tokens: int
    train_loss: float
    val: dict
    message: str = ""


def diverging(ema: float, best: float, factor: float) -> bool:
    """The smoothed loss is `factor` times its best and at least MIN_RISE nats above it."""
    return ema > factor * best and ema - best > MIN_RISE


def lr_at(cfg: TrainConfig, step: int, progress: float) -> tuple[float, float]:
    """(learning rate, weight decay) at an optimizer step and budget progress in [0, 1].

    Warmup ends after `warmup_steps` or WARMUP_SHARE of the run, whichever comes first: a
    rung-0 run of 13 steps under the default 30 never reached its learning rate (the default
    config's val bits/byte on Shakespeare: 5.76 with the full warmup, 4.82 capped)."""
    warm = 1.0
    if cfg.warmup_steps:
        warm = min(1.0, max((step + 1) / cfg.warmup_steps, progress / WARMUP_SHARE))
    low = cfg.lr * cfg.stage2_lr_scale
    if progress < cfg.stage2_start:
        p = progress / cfg.stage2_start
        return warm * (low + (cfg.lr - low) * 0.5 * (1 + math.cos(math.pi * p))), cfg.weight_decay
    p = (progress - cfg.stage2_start) / max(1e-9, 1 - cfg.stage2_start)
    return warm * low * max(0.0, 1 - p), 0.0


class Trainer:
    def __init__(
        self,
        model: torch.nn.Module,
        task,
        cfg: TrainConfig,
        run_dir: Path,
        on_event: Callable[[dict], None] | None = None,
        final_eval: bool = True,
    ) -> None:
        self.model, self.task, self.cfg, self.dir = model, task, cfg, run_dir
        self.final_eval = final_eval
        self.files = RunDir(run_dir)
        self.on_event = on_event or (lambda record: None)
        self.opt = torch.optim.AdamW(
            model.parameters(), lr=cfg.lr, betas=(0.9, 0.95), weight_decay=cfg.weight_decay
        )
        self.gen = torch.Generator().manual_seed(cfg.seed)
        self.precision = resolve(cfg.precision)
        self.state = {
            "step": 0,
            "elapsed_s": 0.0,
            "tokens": 0,
            "ema": None,
            "best_ema": None,
            "val": {},
            "best": None,  # keep_best: {"step", "val"} of the best eval so far
            "precision": self.precision,
        }

    def run(self) -> Outcome:
        if self.files.checkpoint.exists():
            self.state = load_checkpoint(self.files.checkpoint, self.model, self.opt, self.gen)
        elif self.cfg.init_from:  # weights only: a fresh optimizer and schedule
            load_checkpoint(RunDir(Path(self.cfg.init_from)).checkpoint, self.model)
        self.files.keep_metrics_until(self.state["step"])
        note = self._precision_note()
        self.on_event(
            {
                "event": "start",
                "run_dir": str(self.dir),
                "step": self.state["step"],
                "elapsed_s": self.state["elapsed_s"],
                "total": self.cfg.steps,
                "budget_seconds": self.cfg.budget_seconds,
                "precision": self.precision,
                **({"note": note} if note else {}),
            }
        )
        clock0 = time.perf_counter() - self.state["elapsed_s"]
        window_tokens, window_start, loss = 0, time.perf_counter(), float("nan")
        while not self._done():
            lr, loss, tokens = self.step()
            if self._diverged(loss):
                # The checkpoint on disk predates the bad step: it is the last good state.
                step = self.state["step"]
                return self._finish(
                    "diverged", loss, f"training diverged at step {step} (loss {loss:.4g})"
                )
            self.state["step"] += 1
            self.state["tokens"] += tokens
            self.state["elapsed_s"] = time.perf_counter() - clock0
            window_tokens += tokens
            step = self.state["step"]
            if step % self.cfg.log_every == 0:
                now = time.perf_counter()
                rate = window_tokens / (now - window_start)
                self.emit(
                    {
                        "event": "train",
                        "step": step,
                        "loss": loss,
                        "lr": lr,
                        "tokens_per_s": rate,
                        "elapsed_s": round(now - clock0, 3),
                    }
                )
                window_tokens, window_start = 0, now
            if step % self.cfg.eval_every == 0:
                self._evaluate()
            if step % self.cfg.checkpoint_every == 0:
                self._checkpoint()
            self.state["elapsed_s"] = time.perf_counter() - clock0
        if self.state["step"] % self.cfg.eval_every:
            if self.final_eval or self.state.get("best"):  # keep_best: is the last better?
                self._evaluate()
            else:  # the harness scores the checkpoint; an earlier step's val is not this model's
                self.state["val"] = {}
        return self._finish("completed", loss, self._restore_best())

    def step(self, reduce_grads: Callable[[], None] | None = None) -> tuple[float, float, int]:
        """One optimizer step on a fresh batch: (learning rate, loss, tokens). The caller
        advances state["step"]; `reduce_grads` runs between backward and clipping (data
        parallel training averages the gradients there)."""
        lr, wd = lr_at(self.cfg, self.state["step"], self._progress())
        for group in self.opt.param_groups:
            group["lr"], group["weight_decay"] = lr, wd
        batch = self.task.train_batch(self.gen)
        self.model.train()
        with autocast(self.precision):
            loss = self.task.loss(self.model, batch)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if reduce_grads is not None:
            reduce_grads()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.opt.step()
        return lr, loss.item(), self.task.tokens(batch)

    def _precision_note(self) -> str:
        """Say so when a checkpoint trained under one precision resumes under another
        (checkpoints from before precisions were recorded ran in fp32)."""
        before = self.state.get("precision", "fp32")
        self.state["precision"] = self.precision
        if before == self.precision or not self.state["step"]:
            return ""
        step = self.state["step"]
        return f"resumed under {self.precision}; steps 1-{step} ran under {before}"

    def _done(self) -> bool:
        if self.cfg.steps is not None:
            return self.state["step"] >= self.cfg.steps
        return self.state["elapsed_s"] >= self.cfg.budget_seconds

    def _progress(self) -> float:
        if self.cfg.steps is not None:
            return self.state["step"] / self.cfg.steps
        return min(1.0, self.state["elapsed_s"] / self.cfg.budget_seconds)

    def _diverged(self, loss: float) -> bool:
        """Non-finite loss, or a smoothed loss far above the best smoothed loss so far."""
        if not math.isfinite(loss):
            return True
        prev, best = self.state["ema"], self.state["best_ema"]
        ema = loss if prev is None else (1 - EMA) * prev + EMA * loss
        self.state["ema"], self.state["best_ema"] = ema, ema if best is None else min(best, ema)
        past_warmup = self.state["step"] >= self.cfg.warmup_steps
        return past_warmup and best is not None and diverging(ema, best, self.cfg.diverge_factor)

    def _evaluate(self) -> None:
        self.model.eval()
        with autocast(self.precision):
            self.state["val"] = self.task.evaluate(self.model, "val")
        self.emit(
            {"event": "eval", "step": self.state["step"], "split": "val", **self.state["val"]}
        )
        if self.cfg.keep_best:
            self._keep_if_best()

    def _keep_if_best(self) -> None:
        """Save this eval's weights when its val is at least as good as every earlier one's
        (a tie keeps the later, more trained weights)."""
        objective, best = metrics.metric(self.task.primary), self.state.get("best")
        value = self.state["val"].get(self.task.primary)
        if value is None or (best is not None and not objective.reached(value, best["val"])):
            return
        weights = {k: v.detach() for k, v in self.model.state_dict().items()}
        save_weights(self.files.best, weights, self.cfg.model_dump_json())
        self.state["best"] = {"step": self.state["step"], "val": value, "all": self.state["val"]}

    def _restore_best(self) -> str:
        """keep_best: the best eval's weights when the last eval is worse; says so."""
        best = self.state.get("best")
        if not self.cfg.keep_best or best is None or best["step"] == self.state["step"]:
            return ""
        load_checkpoint(self.files.best, self.model)
        last = self.state["val"].get(self.task.primary)
        self.state["val"] = best["all"]
        return (
            f"kept the weights of step {best['step']} ({self.task.primary} {best['val']:.4g}); "
            f"the last step's was {last:.4g}"
        )

    def _checkpoint(self) -> None:
        save_checkpoint(
            self.files.checkpoint,
            self.model,
            self.opt,
            self.gen,
            self.cfg.model_dump_json(),
            self.state,
        )
        self.on_event({"event": "checkpoint", "step": self.state["step"]})

    def _finish(self, status: str, loss: float, message: str) -> Outcome:
        if status == "completed":
            self._checkpoint()  # a diverged run keeps its last good checkpoint
        return Outcome(
            status,
            self.state["step"],
            self.state["elapsed_s"],
            self.state["tokens"],
            loss,
            self.state["val"],
            message,
        )

    def emit(self, record: dict) -> None:
        """Append a record to metrics.jsonl and pass it on."""
        self.files.append_metric(record)
        self.on_event(record)
