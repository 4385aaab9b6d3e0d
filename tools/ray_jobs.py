"""Experiments as Ray tasks, on a cluster the user started (`ray start --head`, then
`ray start --address HEAD:6379` on each other machine).

    connect("auto")                                  # or "HOST:PORT"; a clear error if none
    outcome = run_on_ray(request, work_dir, limits, cpus=1)   # like run_experiment

A task runs exactly `run_experiment` (the sandbox, then the harness) on whichever node has
`cpus` free, in a directory of its own: nodes share no disk. What the run reads from this
machine travels with the task (the work dir, for a run resumed from its checkpoint; a
scale-up's parent weights; a data file or generated data directory) and the finished work
dir comes back into `work_dir`, with the outcome's paths pointing there, so the session
reads a Ray run exactly as a local one. A task whose worker or node dies is run once more
by Ray on another; a second loss raises, which the session makes a failed experiment.
"""

from __future__ import annotations

import functools
import io
import shutil
import socket
import tarfile
import tempfile
from pathlib import Path

from magnet.sandboxes.limits import Limits
from magnet.tools.errors import MagnetError
from magnet.tools.harness.experiment import ExperimentOutcome, ExperimentRequest

CONNECT_TIMEOUT_S = 5.0
# What one task may carry to a node through Ray's object store (its data, a parent's
# weights): far more than a CPU run trains on in a session, far less than a node's memory.
MAX_INPUT_BYTES = 2 << 30


class RayError(MagnetError):
    """No Ray cluster where one was asked for, or a task it could not run."""


@functools.cache
def connect(address: str) -> dict[str, float]:
    """Join the Ray cluster at `address` ("auto": the one this machine runs) once per
    process; its resources. An address that does not answer fails in seconds."""
    import ray

    if address != "auto":
        _reachable(address)
    if not ray.is_initialized():
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise RayError(f"no Ray cluster at {address}: {e}".splitlines()[0]) from e
    return ray.cluster_resources()


def largest_node_cpus() -> int:
    """The CPUs of the biggest node: the most one run can have."""
    import ray

    alive = [n for n in ray.nodes() if n.get("Alive")]
    return max((int(n["Resources"].get("CPU", 0)) for n in alive), default=1) or 1


def run_on_ray(
    request: ExperimentRequest, work_dir: Path, limits: Limits | None, cpus: int
) -> ExperimentOutcome:
    """`run_experiment` as a Ray task with `cpus` CPUs; returns when it has ended."""
    import ray

    task = _task(cpus)
    inputs = {"work": _pack(work_dir)} | _inputs(request)
    limits_json = limits.model_dump(mode="json") if limits else None
    try:
        answer, there, packed = ray.get(
            task.remote(request.model_dump(mode="json"), inputs, limits_json)
        )
    except ray.exceptions.RayError as e:
        raise RayError(f"the Ray task was lost twice: {type(e).__name__}") from e
    if work_dir.exists():
        shutil.rmtree(work_dir)
    _unpack(packed, work_dir)
    # the node's paths become this machine's
    return ExperimentOutcome.model_validate_json(answer.replace(there, str(work_dir)))


@functools.cache
def _task(cpus: int):
    import ray

    # max_retries: a worker or node that dies mid-run costs one more try elsewhere, not two
    return ray.remote(num_cpus=cpus, max_retries=1, retry_exceptions=False)(_on_a_node)


def _on_a_node(request_json: dict, inputs: dict[str, bytes], limits_json: dict | None):
    """On a Ray worker: unpack the inputs, run, and pack the work dir to send back."""
    from magnet.tools.harness.experiment import run_experiment

    root = Path(tempfile.mkdtemp(prefix="magnet-ray-"))
    try:
        local = {name: _unpack(blob, root / name) for name, blob in inputs.items() if blob}
        request = ExperimentRequest.model_validate(request_json)
        train = request.config.train.model_copy(
            update={k: str(local[k]) for k in ("data", "init_from") if k in local}
        )
        config = request.config.model_copy(update={"train": train})
        request = request.model_copy(update={"config": config})
        if "remerge" in local:
            request = request.model_copy(update={"remerge": local["remerge"]})
        work = root / "work"
        limits = Limits.model_validate(limits_json) if limits_json else None
        outcome = run_experiment(request, work, limits)
        return outcome.model_dump_json(), str(work), _pack(work)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _inputs(request: ExperimentRequest) -> dict[str, bytes]:
    """The paths of this machine the run reads, packed; a built-in dataset's name is not one."""
    train = request.config.train
    paths = {"data": train.data, "init_from": train.init_from, "remerge": request.remerge}
    paths = {k: Path(p) for k, p in paths.items() if p and Path(p).exists()}
    size = sum(map(_size, paths.values()))
    if size > MAX_INPUT_BYTES:  # checked before anything is read into memory
        raise RayError(
            f"this run's inputs ({', '.join(map(str, paths.values()))}) are {size >> 20} MiB; "
            f"a Ray task carries at most {MAX_INPUT_BYTES >> 20} MiB to its node"
        )
    return {k: _pack(p) for k, p in paths.items()}


def _size(path: Path) -> int:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files)


def _pack(path: Path) -> bytes:
    """A file or directory as tar bytes (empty when it does not exist)."""
    if not path.exists():
        return b""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(path, arcname=path.name)
    return buffer.getvalue()


def _unpack(blob: bytes, where: Path) -> Path:
    """What `_pack` packed, at `where` (its one top-level entry renamed to it)."""
    where.parent.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(dir=where.parent) as tmp,
        tarfile.open(fileobj=io.BytesIO(blob)) as tar,
    ):
        tar.extractall(tmp, filter="data")
        [entry] = Path(tmp).iterdir()
        entry.rename(where)
    return where


def _reachable(address: str) -> None:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise RayError(f"a Ray address is HOST:PORT or auto, not {address!r}")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as e:
        raise RayError(f"no Ray cluster at {address}: {e.strerror or e}") from e
