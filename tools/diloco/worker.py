"""One DiLoCo worker: `python -m magnet.tools.diloco.worker --spec F --store S --rank R` from
the one-machine launcher, or `torchrun ... -m magnet.tools.diloco.worker --spec F` on several.

Rank r trains on domain r % D with its own batches; every worker starts from the same
weights (same seed). Every H steps the workers sync with the outer step over gloo (DiLoCo),
or, in `dp` mode, average gradients every step (the data-parallel baseline). Each worker
writes workers/<rank>-<domain>/: metrics.jsonl, its last local model before the final sync
(its specialist) and worker.json (bytes sent). Rank 0 writes base/ first and merged/ last,
each renamed into place complete.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist

from magnet.tools.bitnet.checkpoint import FILENAME, save_weights
from magnet.tools.bitnet.model import build_model
from magnet.tools.bitnet.tasks import make_task
from magnet.tools.bitnet.trainer import Trainer
from magnet.tools.datasets import load_dataset
from magnet.tools.datasets.tokenizer import ByteTokenizer
from magnet.tools.diloco.outer import OuterStep
from magnet.tools.diloco.spec import DilocoSpec

# A collective waits this long for a peer; the launcher stops the others sooner when one dies.
TIMEOUT = timedelta(minutes=10)


def worker_dir(spec: DilocoSpec, rank: int) -> Path:
    return spec.out / "workers" / f"{rank}-{Path(spec.domain_of(rank)).name}"


def save_model(model: torch.nn.Module, cfg_json: str, out: Path) -> None:
    """config.json, tokenizer.json and weights, written beside `out` and renamed into place."""
    tmp = out.with_name(out.name + ".partial")
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "config.json").write_text(cfg_json)
    ByteTokenizer().save(tmp / "tokenizer.json")
    weights = {k: v.detach() for k, v in model.state_dict().items()}
    save_weights(tmp / FILENAME, weights, cfg_json)
    os.replace(tmp, out)


def run(spec: DilocoSpec, rank: int) -> dict:
    domain = spec.domain_of(rank)
    cfg = spec.train_config(domain)
    tok = ByteTokenizer()
    task = make_task(load_dataset(domain, "lm"), tok, cfg)
    cfg.model = cfg.model.model_copy(update=task.model_fields(tok))
    torch.manual_seed(cfg.seed)  # the same initial weights on every worker
    model = build_model("lm", cfg.model)
    if rank == 0:
        save_model(model, cfg.model_dump_json(indent=2), spec.out / "base")
    wdir = worker_dir(spec, rank)
    wdir.mkdir(parents=True, exist_ok=True)
    trainer = Trainer(model, task, cfg, wdir)
    trainer.gen.manual_seed(cfg.seed + 1 + rank)  # each worker its own batches
    outer = OuterStep(model, spec.outer_lr, spec.outer_momentum)
    sent, total, start = 0, cfg.steps, time.perf_counter()

    def all_reduce_mean(t: torch.Tensor) -> None:
        dist.all_reduce(t, op=dist.ReduceOp.AVG)

    def reduce_grads() -> None:
        nonlocal sent
        for p in model.parameters():
            if p.grad is not None:
                all_reduce_mean(p.grad)
                sent += p.grad.numel() * 4

    for step in range(1, total + 1):
        _, loss, tokens = trainer.step(reduce_grads if spec.mode == "dp" else None)
        if not math.isfinite(loss):
            raise FloatingPointError(f"rank {rank} ({domain}): loss is {loss} at step {step}")
        trainer.state["step"], trainer.state["tokens"] = step, trainer.state["tokens"] + tokens
        if step % cfg.log_every == 0:
            trainer.emit({"event": "train", "step": step, "loss": loss, "bytes_sent": sent})
        if spec.mode == "diloco" and step % spec.inner_steps == 0:
            if step == total:
                save_model(model, cfg.model_dump_json(indent=2), wdir / "specialist")
            sent += outer.sync(model, all_reduce_mean, spec.compression)
            print(
                f"rank {rank} ({Path(domain).name}): round {step // spec.inner_steps}/"
                f"{spec.rounds}, loss {loss:.3f}",
                file=sys.stderr,
                flush=True,
            )
    dist.barrier()  # every worker has finished before the merged model appears
    if rank == 0:
        save_model(model, cfg.model_dump_json(indent=2), spec.out / "merged")
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
    args = parser.parse_args(argv)
    spec = DilocoSpec.model_validate_json(args.spec.read_text())
    if "RANK" in os.environ:
        dist.init_process_group("gloo", timeout=TIMEOUT)
    else:
        store = dist.FileStore(str(args.store), spec.workers)
        dist.init_process_group(
            "gloo", store=store, rank=args.rank, world_size=spec.workers, timeout=TIMEOUT
        )
    try:
        run(spec, dist.get_rank())
    finally:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
