"""Launch a DiLoCo run on this machine: one process per worker, gloo on the loopback
interface with a file rendezvous (torchrun's store would listen on every interface), then the
joint baseline and the per-domain table.

    result = run_diloco(DilocoSpec(domains=["python-stdlib", "shakespeare"], out=Path("d")))

The same worker code runs on several machines under torchrun with its rendezvous arguments;
this launcher covers one machine. Writes out/: spec.json, base/, workers/*/specialist/, merged/,
joint/ (trained on the mixture with the same number of steps × batch), result.json last.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from magnet.tools.bitnet.run_dir import RESULT
from magnet.tools.datasets import load_dataset
from magnet.tools.diloco.spec import DilocoSpec
from magnet.tools.errors import DistributedError, RunDirError


def run_diloco(spec: DilocoSpec, joint: bool = True) -> dict:
    for domain in spec.domains:
        load_dataset(domain, "lm")  # unknown or non-LM data fails before anything starts
        spec.train_config(domain)
    if spec.out.exists() and any(spec.out.iterdir()):
        raise RunDirError(f"{spec.out} already exists and is not empty")
    spec.out.mkdir(parents=True, exist_ok=True)
    (spec.out / "spec.json").write_text(spec.model_dump_json(indent=2))
    lost = _launch(spec)
    if joint:
        _train_joint(spec)
    return _report(spec, joint, lost)


def _launch(spec: DilocoSpec) -> list[int]:
    """One process per worker; their progress lines pass through. When one fails, the
    others are stopped and its error is raised (fault tolerant: the others go on); the ranks
    lost."""
    logs = spec.out / "logs"
    logs.mkdir(exist_ok=True)
    threads = max(1, (os.cpu_count() or 1) // spec.workers)
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": str(threads)}
    store = spec.out / "rendezvous"
    if spec.fault_tolerant:
        from magnet.tools.diloco.ft import start_lighthouse

        lighthouse = start_lighthouse()
        meet = ["--lighthouse", lighthouse.address()]
    else:
        meet = ["--store", str(store)]
    procs, files = [], []
    for rank in range(spec.workers):
        log = open(logs / f"rank-{rank}.log", "w+")  # noqa: SIM115 (closed below)
        cmd = [sys.executable, "-m", "magnet.tools.diloco.worker", "--spec"]
        cmd += [str(spec.out / "spec.json"), "--rank", str(rank), *meet]
        procs.append(subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT))
        files.append(log)
    try:
        lost = _follow(procs, files, tolerate=spec.fault_tolerant)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        for f in files:
            f.close()
        store.unlink(missing_ok=True)
        if spec.fault_tolerant:
            lighthouse.shutdown()
    if not (spec.out / "merged").exists():
        raise DistributedError("no DiLoCo worker finished")
    return lost


def _follow(procs, files, tolerate: bool) -> list[int]:
    """Wait for the workers, passing on their progress lines; the ranks that failed. A
    failure stops the run with its error, unless `tolerate`d (fault-tolerant mode)."""
    offsets, lost = [0] * len(files), []
    while True:
        for i, f in enumerate(files):
            f.seek(offsets[i])
            for line in f.read().splitlines():
                if line.startswith("rank "):
                    print(line, file=sys.stderr, flush=True)
            offsets[i] = f.tell()
        codes = [p.poll() for p in procs]
        for i, code in enumerate(codes):
            if code not in (None, 0) and i not in lost:
                files[i].seek(0)
                cause = _cause(files[i].read().splitlines())
                if not tolerate:
                    raise DistributedError(f"DiLoCo worker {i} failed: {cause}")
                print(f"worker {i} is gone ({cause}); the others go on", file=sys.stderr)
                lost.append(i)
        if all(c is not None for c in codes):
            return lost
        time.sleep(0.2)


def _cause(lines: list[str]) -> str:
    """The exception line of a traceback, else the last line."""
    lines = [re.sub(r"^\[rank\d+\]:\s*", "", line).strip() for line in lines]
    for line in reversed(lines):
        head = line.split(":", 1)[0]
        if head.endswith(("Error", "Exception")) and " " not in head:
            return line
    return lines[-1] if lines else "no output"


def _train_joint(spec: DilocoSpec) -> None:
    """One model on the mixture, batches taken from the domains in turn, with the workers'
    total number of steps."""
    import torch

    from magnet.tools.bitnet.model import build_model
    from magnet.tools.bitnet.tasks import make_task
    from magnet.tools.bitnet.trainer import Trainer
    from magnet.tools.datasets.tokenizer import ByteTokenizer
    from magnet.tools.diloco.worker import save_model

    cfg = spec.train_config(spec.domains[0])
    cfg.steps = spec.inner_steps * spec.rounds * spec.workers
    cfg.eval_every = cfg.checkpoint_every = cfg.steps + 1  # the table evaluates it at the end
    tok = ByteTokenizer()
    tasks = [make_task(load_dataset(d, "lm"), tok, cfg) for d in spec.domains]
    cfg.model = cfg.model.model_copy(update=tasks[0].model_fields(tok))
    torch.manual_seed(cfg.seed)
    model = build_model("lm", cfg.model)
    work = spec.out / "joint.run"
    work.mkdir(exist_ok=True)
    mixture = _Mixture(tasks)
    trainer = Trainer(model, mixture, cfg, work)
    for step in range(1, cfg.steps + 1):
        _, loss, tokens = trainer.step()
        trainer.state["step"] = step
        if step % cfg.log_every == 0:
            trainer.emit({"event": "train", "step": step, "loss": loss})
        if step % spec.inner_steps == 0:
            print(f"joint: step {step}/{cfg.steps}, loss {loss:.3f}", file=sys.stderr, flush=True)
    save_model(model, cfg.model_dump_json(indent=2), spec.out / "joint")


class _Mixture:
    """The domains' tasks in turn, one batch each."""

    def __init__(self, tasks) -> None:
        self.tasks, self.turn = tasks, 0

    def train_batch(self, gen):
        task = self.tasks[self.turn % len(self.tasks)]
        self.turn += 1
        return task.train_batch(gen)

    def loss(self, model, batch):
        return self.tasks[0].loss(model, batch)

    def tokens(self, batch) -> int:
        return self.tasks[0].tokens(batch)


def _report(spec: DilocoSpec, joint: bool, lost: list[int]) -> dict:
    import json

    from magnet.tools.diloco.report import score
    from magnet.tools.diloco.worker import worker_dir

    workers = [
        json.loads((worker_dir(spec, r) / "worker.json").read_text())
        for r in range(spec.workers)
        if r not in lost
    ]
    result = {
        "spec": spec.model_dump(mode="json"),
        **score(spec, joint),
        "bytes_sent": sum(w["bytes_sent"] for w in workers),
        "worker_seconds": max(w["seconds"] for w in workers),
        "lost_workers": lost,
    }
    tmp = spec.out / "result.json.tmp"
    tmp.write_text(json.dumps(result, indent=2))
    os.replace(tmp, spec.out / RESULT)
    return result


def main(argv: list[str] | None = None) -> int:
    """`python -m magnet.tools.diloco.run --spec spec.json [--no-joint]`: the sandbox entry.
    Exit 0 when the run finished, 2 with one `Error:` line."""
    import argparse

    from pydantic import ValidationError

    from magnet.tools.errors import MagnetError

    parser = argparse.ArgumentParser(prog="python -m magnet.tools.diloco.run")
    parser.add_argument("--spec", type=Path, required=True, help="DilocoSpec JSON")
    parser.add_argument("--no-joint", action="store_true", help="skip the mixture baseline")
    args = parser.parse_args(argv)
    try:
        spec = DilocoSpec.model_validate_json(args.spec.read_text())
        run_diloco(spec, joint=not args.no_joint)
    except (MagnetError, OSError, ValidationError) as e:
        print(f"Error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
