"""Merging specialists trained from one base: DiLoCo outer step, average, task arithmetic, TIES.

    merged = merge(base, [python, shakespeare], "ties")          # dicts of name → tensor
    merge_dirs(base_dir, [dir_a, dir_b], "diloco", out_dir)      # model directories

Every method works on the full-precision latent weights (a ternary model's ternary values
are derived from them when it runs). With d_i = specialist_i - base:

    average          mean of the specialists
    task-arithmetic  base + scale · Σ d_i                                (Ilharco et al. 2023)
    ties             per tensor: keep each d_i's top `density` by magnitude, elect the sign
                     of Σ d_i, average only the entries that agree with it (Yadav et al. 2023)
    diloco           one Nesterov outer step on the mean pseudo-gradient (base - specialist),
                     lr 0.7, momentum 0.9 (Douillard et al. 2023)
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Literal

import torch

from magnet.tools.bitnet.checkpoint import read_weights, save_weights
from magnet.tools.bitnet.run_dir import CARD, CONFIG, TOKENIZER, RunDir
from magnet.tools.errors import MergeError

Method = Literal["diloco", "average", "task-arithmetic", "ties"]
METHODS: tuple[str, ...] = Method.__args__
Weights = dict[str, torch.Tensor]


def merge(
    base: Weights,
    specialists: list[Weights],
    method: Method,
    scale: float = 0.5,
    density: float = 0.2,
    outer_lr: float = 0.7,
    momentum: float = 0.9,
) -> Weights:
    """`scale` is task arithmetic's λ, `density` the share TIES keeps of each delta."""
    if not specialists:
        raise MergeError("no specialists to merge")
    for i, spec in enumerate(specialists):
        _check_fits(base, spec, f"specialist {i + 1}")
    out = {}
    for name, b in base.items():
        if not b.is_floating_point():  # counters and masks: identical in every model
            out[name] = b.clone()
            continue
        deltas = torch.stack([s[name].to(b.dtype) - b for s in specialists])
        out[name] = b + _combine(deltas, method, scale, density, outer_lr, momentum)
    return out


def _combine(deltas, method, scale, density, outer_lr, momentum) -> torch.Tensor:
    if method == "average":
        return deltas.mean(0)
    if method == "task-arithmetic":
        return scale * deltas.sum(0)
    if method == "ties":
        return _ties(deltas, density)
    if method == "diloco":
        # torch's own Nesterov SGD on the pseudo-gradient, from a zero momentum buffer.
        shared = torch.zeros_like(deltas[0], requires_grad=True)
        shared.grad = -deltas.mean(0)  # pseudo-gradient: base - specialist
        torch.optim.SGD([shared], lr=outer_lr, momentum=momentum, nesterov=momentum > 0).step()
        return shared.detach()
    raise MergeError(f"unknown merge method '{method}' ({', '.join(METHODS)})")


def _ties(deltas: torch.Tensor, density: float) -> torch.Tensor:
    flat = deltas.flatten(1)
    keep = max(1, int(round(density * flat.shape[1])))
    threshold = flat.abs().kthvalue(flat.shape[1] - keep + 1, dim=1, keepdim=True).values
    trimmed = torch.where(flat.abs() >= threshold, flat, torch.zeros_like(flat))
    sign = torch.sign(trimmed.sum(0))
    agree = (torch.sign(trimmed) == sign) & (trimmed != 0)
    total = (trimmed * agree).sum(0)
    return (total / agree.sum(0).clamp(min=1)).reshape(deltas.shape[1:])


def _check_fits(base: Weights, other: Weights, label: str) -> None:
    missing, extra = set(base) - set(other), set(other) - set(base)
    if missing or extra:
        some = sorted(missing or extra)[:3]
        raise MergeError(f"{label} has different tensors than the base (e.g. {some})")
    for name, b in base.items():
        if other[name].shape != b.shape:
            raise MergeError(
                f"{label}: '{name}' is {tuple(other[name].shape)}, the base's is {tuple(b.shape)}"
            )


def merge_dirs(
    base_dir: Path, specialist_dirs: list[Path], method: Method, out: Path, **options
) -> Path:
    """Merge model directories (config.json + checkpoint) into `out`, which appears only
    complete: it is written beside and renamed into place at the end."""
    config = _model_config(base_dir)
    for d in specialist_dirs:
        if _model_config(d) != config:
            raise MergeError(f"{d} has a different architecture than the base {base_dir}")
    merged = merge(
        read_weights(_checkpoint(base_dir)),
        [read_weights(_checkpoint(d)) for d in specialist_dirs],
        method,
        **options,
    )
    if out.exists():
        raise MergeError(f"{out} already exists")
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir(parents=True)
        for name in (CONFIG, TOKENIZER, CARD):
            if (base_dir / name).exists():
                shutil.copy(base_dir / name, tmp / name)
        save_weights(RunDir(tmp).checkpoint, merged, (base_dir / CONFIG).read_text())
        (tmp / "merge.json").write_text(
            json.dumps(
                {
                    "method": method,
                    "base": str(base_dir),
                    "specialists": [str(d) for d in specialist_dirs],
                    **options,
                },
                indent=2,
            )
        )
        os.replace(tmp, out)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise MergeError(f"cannot write {out}: {e}") from None
    return out


def _checkpoint(model_dir: Path) -> Path:
    path = RunDir(model_dir).checkpoint
    if not path.exists():
        raise MergeError(f"{model_dir} has no {path.name}")
    return path


def _model_config(model_dir: Path) -> dict:
    try:
        cfg = json.loads((model_dir / CONFIG).read_text())
    except (OSError, ValueError) as e:
        raise MergeError(f"{model_dir}: no readable {CONFIG} ({e})") from None
    return {"task": cfg.get("task"), "model": cfg.get("model")}
