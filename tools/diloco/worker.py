"""One DiLoCo worker: `python -m magnet.tools.diloco.worker --spec F --store S --rank R` from
the one-machine launcher, or `torchrun ... -m magnet.tools.diloco.worker --spec F` on several.

Rank r trains on domain r % D with its own batches; every worker starts from the same
weights (same seed). Every H steps the workers sync with the outer step over gloo (DiLoCo),
or, in `dp` mode, average gradients every step (the data-parallel baseline). Each worker
writes workers/<rank>-<domain>/: metrics.jsonl, its last local model before the final sync
(its specialist) and worker.json (bytes sent). Rank 0 writes base/ first, round-start/ (the
shared weights the last round started from) and merged/ last, each renamed into place
complete.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import sys
import time
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist

from magnet.tools.bitnet.checkpoint import save_weights
from magnet.tools.bitnet.model import build_model
from magnet.tools.bitnet.run_dir import CONFIG, TOKENIZER, RunDir
from magnet.tools.bitnet.tasks import make_task
from magnet.tools.bitnet.trainer import Trainer
from magnet.tools.datasets import load_dataset
from magnet.tools.datasets.tokenizer import ByteTokenizer
from magnet.tools.diloco.outer import OuterStep
from magnet.tools.diloco.spec import DilocoSpec

# The shared weights the specialists' last round started from: what other merges start from.
ROUND_START = "round-start"
# A collective waits this long for a peer; the launcher stops the others sooner when one dies.
TIMEOUT = timedelta(minutes=10)


def worker_dir(spec: DilocoSpec, rank: int) -> Path:
    return spec.out / "workers" / f"{rank}-{Path(spec.domain_of(rank)).name}"


def save_model(model: torch.nn.Module, cfg_json: str, out: Path, writer: str = "") -> None:
    """A model directory (config, tokenizer, weights), written beside `out` and renamed into
    place (an existing `out` stays: OSError)."""
    tmp = out.with_name(f"{out.name}.partial{writer}")
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / CONFIG).write_text(cfg_json)
    ByteTokenizer().save(tmp / TOKENIZER)
    weights = {k: v.detach() for k, v in model.state_dict().items()}
    save_weights(RunDir(tmp).checkpoint, weights, cfg_json)
    try:
        os.replace(tmp, out)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


class GlooEngine:
    """torch.distributed over gloo: every worker in every collective."""

    def __init__(self) -> None:
        self.rank = dist.get_rank()

    def all_reduce_mean(self, t: torch.Tensor) -> None:
        dist.all_reduce(t, op=dist.ReduceOp.AVG)

    def sync(self, outer: OuterStep, model: torch.nn.Module, compression) -> int:
        return outer.sync(model, self.all_reduce_mean, compression)

    def writes_merged(self) -> bool:
        dist.barrier()  # every worker has finished before the merged model appears
        return self.rank == 0


def run(spec: DilocoSpec, engine) -> dict:
    """Inner steps and syncs for this worker; `engine` is GlooEngine or ft.TorchftEngine."""
    rank = engine.rank
    domain = spec.domain_of(rank)
    cfg = spec.train_config(domain)
    tok = ByteTokenizer()
    task = make_task(load_dataset(domain, "lm"), tok, cfg)
    cfg.model = cfg.model.model_copy(update=task.model_fields(tok))
    torch.manual_seed(cfg.seed)  # the same initial weights on every worker
    model = build_model("lm", cfg.model)
    cfg_json = cfg.model_dump_json(indent=2)
    if rank == 0:
        save_model(model, cfg_json, spec.out / "base")
    wdir = worker_dir(spec, rank)
    wdir.mkdir(parents=True, exist_ok=True)
    trainer = Trainer(model, task, cfg, wdir)
    trainer.gen.manual_seed(cfg.seed + 1 + rank)  # each worker its own batches
    outer = OuterStep(model, spec.outer_lr, spec.outer_momentum)
    sent, total, start = 0, cfg.steps, time.perf_counter()

    def reduce_grads() -> None:
        nonlocal sent
        for p in model.parameters():
            if p.grad is not None:
                engine.all_reduce_mean(p.grad)
                sent += p.grad.numel() * 4

    last_round = total - spec.inner_steps  # the step the specialists' last round starts from
    if rank == 0 and spec.mode == "diloco" and last_round == 0:
        save_model(model, cfg_json, spec.out / ROUND_START)
    for step in range(1, total + 1):
        _, loss, tokens = trainer.step(reduce_grads if spec.mode == "dp" else None)
        if not math.isfinite(loss):
            raise FloatingPointError(f"rank {rank} ({domain}): loss is {loss} at step {step}")
        trainer.state["step"], trainer.state["tokens"] = step, trainer.state["tokens"] + tokens
        if step % cfg.log_every == 0:
            trainer.emit({"event": "train", "step": step, "loss": loss, "bytes_sent": sent})
        if spec.mode == "diloco" and step % spec.inner_steps == 0:
            if step == total:
                save_model(model, cfg_json, wdir / "specialist")
            sent += engine.sync(outer, model, spec.compression)
            if rank == 0 and step == last_round:
                save_model(model, cfg_json, spec.out / ROUND_START)
            print(
                f"rank {rank} ({Path(domain).name}): round {step // spec.inner_steps}/"
                f"{spec.rounds}, loss {loss:.3f}",
                file=sys.stderr,
                flush=True,
            )
    if engine.writes_merged():
        # Fault-tolerant survivors all offer it: the first one stays.
        with contextlib.suppress(OSError):
            save_model(model, cfg_json, spec.out / "merged", f"{rank}")
    info = {
        "rank": rank,
        "domain": domain,
        "steps": total,
        "tokens": trainer.state["tokens"],
        "bytes_sent": sent,
        "seconds": time.perf_counter() - start,
    }
    (wdir / "worker.json").write_text(json.dumps(info, indent=2))
    return info


def main(argv: list[str] | None = None) -> int:
    """Under torchrun (RANK etc. in the environment) the rendezvous is torchrun's; started
    by the one-machine launcher, it is a file store: then nothing listens but gloo's own
    sockets on the loopback interface."""
    parser = argparse.ArgumentParser(prog="python -m magnet.tools.diloco.worker")
    parser.add_argument("--spec", type=Path, required=True, help="DilocoSpec JSON")
    parser.add_argument("--store", type=Path, help="rendezvous file (without torchrun)")
    parser.add_argument("--rank", type=int, default=0)
    parser.add_argument("--lighthouse", help="torchft lighthouse address (fault tolerant)")
    args = parser.parse_args(argv)
    spec = DilocoSpec.model_validate_json(args.spec.read_text())
    (worker_dir(spec, args.rank)).mkdir(parents=True, exist_ok=True)
    (worker_dir(spec, args.rank) / "pid").write_text(str(os.getpid()))
    if args.lighthouse:
        from magnet.tools.diloco.ft import TorchftEngine

        engine = TorchftEngine(args.rank, args.lighthouse, TIMEOUT)
        try:
            run(spec, engine)
        finally:
            engine.close()
        return 0
    if "RANK" in os.environ:
        dist.init_process_group("gloo", timeout=TIMEOUT)
    else:
        store = dist.FileStore(str(args.store), spec.workers)
        dist.init_process_group(
            "gloo", store=store, rank=args.rank, world_size=spec.workers, timeout=TIMEOUT
        )
    try:
        run(spec, GlooEngine())
    finally:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
