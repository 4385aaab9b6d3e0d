"""One-file training checkpoints in safetensors: weights, optimizer, RNG and trainer state.

Tensors:  model.<param>            full-precision latent weights (ternary is derived from them)
          optim.<i>.<key>          AdamW moments and step per parameter index
          rng.torch, rng.data      the global torch RNG and the trainer's batch generator
Metadata: config (TrainConfig JSON), state (trainer counters JSON), param_groups (JSON)

Writes go to a temporary file that replaces the checkpoint atomically, so a kill mid-write
leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from magnet.tools.errors import RunDirError


def save_checkpoint(
    path: Path,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    gen: torch.Generator,
    config_json: str,
    state: dict,
) -> None:
    tensors = {f"model.{k}": v.detach().contiguous() for k, v in model.state_dict().items()}
    opt = optimizer.state_dict()
    for idx, slots in opt["state"].items():
        for key, value in slots.items():
            tensors[f"optim.{idx}.{key}"] = torch.as_tensor(value).contiguous()
    tensors["rng.torch"] = torch.get_rng_state()
    tensors["rng.data"] = gen.get_state()
    meta = {
        "config": config_json,
        "state": json.dumps(state),
        "param_groups": json.dumps(opt["param_groups"]),
    }
    _write(path, tensors, meta)


def save_weights(path: Path, weights: dict[str, torch.Tensor], config_json: str) -> None:
    """A checkpoint of weights only (a merged model): loads like any other, no optimizer."""
    tensors = {f"model.{k}": v.contiguous() for k, v in weights.items()}
    _write(path, tensors, {"config": config_json, "state": "{}", "param_groups": "[]"})


def read_weights(path: Path) -> dict[str, torch.Tensor]:
    """The model tensors of a checkpoint, without building a model."""
    try:
        with safe_open(str(path), framework="pt") as f:
            return {k[6:]: f.get_tensor(k) for k in f.keys() if k.startswith("model.")}  # noqa: SIM118
    except Exception as e:  # safetensors raises its own error type, not OSError
        raise RunDirError(f"{path}: cannot read checkpoint ({e})") from None


def _write(path: Path, tensors: dict, meta: dict) -> None:
    tmp = path.with_suffix(".tmp")
    try:
        save_file(tensors, str(tmp), metadata=meta)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:  # e.g. a full disk: the previous checkpoint is still intact
        tmp.unlink(missing_ok=True)
        raise RunDirError(f"cannot write checkpoint {path}: {e.strerror or e}") from None


def load_model(run_dir: Path):
    """(model in eval mode, TrainConfig) of a run or model directory: config.json and the
    checkpoint's weights; clear errors for a directory that lacks either."""
    from magnet.tools.bitnet.model import build_model
    from magnet.tools.bitnet.run_dir import RunDir

    run = RunDir(run_dir)
    cfg = run.config()
    if not run.checkpoint.exists():
        raise RunDirError(f"{run_dir}: no {run.checkpoint.name} (has it saved a checkpoint yet?)")
    model = build_model(cfg.task, cfg.model)
    load_checkpoint(run.checkpoint, model)
    return model.eval(), cfg


def load_checkpoint(
    path: Path,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    gen: torch.Generator | None = None,
) -> dict:
    """Restore in place; returns the trainer state saved with the checkpoint."""
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata()
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (not a dict)
    except Exception as e:  # safetensors raises its own error type, not OSError
        raise RunDirError(f"{path}: cannot read checkpoint ({e})") from None
    try:
        model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    except RuntimeError as e:  # missing, unexpected or mis-shaped tensors
        first = str(e).strip().splitlines()[-1].strip()
        raise RunDirError(f"{path}: checkpoint does not fit the model ({first})") from None
    if optimizer is not None:
        state: dict[int, dict] = {}
        for k, v in tensors.items():
            if k.startswith("optim."):
                _, idx, key = k.split(".", 2)
                state.setdefault(int(idx), {})[key] = v
        optimizer.load_state_dict(
            {"state": state, "param_groups": json.loads(meta["param_groups"])}
        )
    if gen is not None:
        torch.set_rng_state(tensors["rng.torch"])
        gen.set_state(tensors["rng.data"])
    return json.loads(meta["state"])
