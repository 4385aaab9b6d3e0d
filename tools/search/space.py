"""The settings an experiment may change, their ranges, and clipping of proposed values.

A small LLM proposes config diffs; nothing it says is trusted as a value. `clip` keeps known
keys only, coerces types, and moves each value into its range (or to the nearest choice),
saying what it changed so the trace can show it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Param:
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False
    choices: tuple = ()
    tasks: tuple = ("lm", "classify", "direction", "diloco")  # where it changes anything
    only: tuple = ()  # (choice, tasks) pairs: a choice offered to those tasks alone

    def options(self, task: str | None = None) -> tuple:
        """The choices for `task` (every choice when no task is named)."""
        barred = {c for c, tasks in self.only if task is not None and task not in tasks}
        return tuple(c for c in self.choices if c not in barred)

    def schema(self) -> dict:
        if self.choices:
            return {"enum": list(self.choices)}
        return {"type": "integer" if self.integer else "number"}

    def clip(self, value, task: str | None = None) -> object:
        if self.choices:
            choices = self.options(task)
            if value in choices:
                return value
            numeric = [c for c in choices if isinstance(c, int | float)]
            if numeric and isinstance(value, int | float) and not isinstance(value, bool):
                return min(numeric, key=lambda c: abs(c - value))
            return choices[0]
        number = float(value)
        if not math.isfinite(number):
            raise ValueError("not a finite number")
        number = min(max(number, self.low), self.high)
        return int(round(number)) if self.integer else number


# Series windows are fixed by the dataset; merged specialists share the byte vocabulary.
TEXT = ("lm", "classify", "diloco")
SPACE: dict[str, Param] = {
    "lr": Param(1e-4, 1e-2, log=True),
    "warmup_steps": Param(0, 200, integer=True),
    "weight_decay": Param(0.0, 0.3),
    "grad_clip": Param(0.3, 2.0),
    "stage2_start": Param(0.5, 0.95),
    "stage2_lr_scale": Param(0.1, 1.0),
    "batch_size": Param(choices=(8, 16, 32, 64)),
    "seq_len": Param(choices=(64, 128, 256, 512), tasks=TEXT),
    "n_layers": Param(1, 8, integer=True),
    "d_model": Param(choices=(256, 512)),
    "n_heads": Param(choices=(2, 4, 8)),
    "ffn_dim": Param(choices=(256, 512, 768, 1024, 1536)),
    # smollm2: the packaged LLM's BPE and token embeddings (tools/datasets/pretrained.py),
    # for classifiers only (a language model would lose the bytes of unseen tokens).
    "tokenizer": Param(
        choices=("byte", "bpe", "smollm2"),
        tasks=("lm", "classify"),
        only=(("smollm2", ("classify",)),),
    ),  # fmt: skip
    "bpe_vocab": Param(choices=(1024, 2048, 4096, 8192), tasks=("lm", "classify")),
    "class_weighted": Param(choices=(True, False), tasks=("classify",)),
    # Failure-driven examples the LLM writes for the best run's misclassified validation
    # texts, added to the train split only (agent/nodes/run.py, tools/datasets/augment.py).
    "augment": Param(0, 1000, integer=True, tasks=("classify",)),
    # How merged specialists' final model is made from their last round (diloco: the sync).
    "merge": Param(choices=("diloco", "average", "task-arithmetic", "ties"), tasks=("diloco",)),
}


# The keys above the trainer never reads (the harness and the run node do), with their
# values when no experiment sets them.
SEARCH_ONLY_DEFAULTS: dict[str, str | int] = {"merge": "diloco", "augment": 0}


MAX_CHANGES = 3  # settings one proposal may change: an idea, not every setting at once


def changes_schema() -> dict:
    """JSON schema of a proposal's changes: at most MAX_CHANGES {key, value} pairs, each key
    a searchable one with its own values. A grammar built from it keeps a small model from
    inventing keys or changing all of them."""
    pairs = [
        {
            "type": "object",
            "properties": {"key": {"const": key}, "value": p.schema()},
            "required": ["key", "value"],
            "additionalProperties": False,
        }
        for key, p in SPACE.items()
    ]
    return {"type": "array", "items": {"anyOf": pairs}, "maxItems": MAX_CHANGES}


def clip(diff: dict, task: str | None = None) -> tuple[dict, list[str]]:
    """(the usable diff, notes on every key dropped or value changed); with `task`, keys
    that do nothing for it are dropped too."""
    clean, notes = {}, []
    for key, value in diff.items():
        param = SPACE.get(key)
        if param is None:
            notes.append(f"dropped unknown key '{key}'")
            continue
        if task and task not in param.tasks:
            notes.append(f"dropped '{key}': it does nothing for {task}")
            continue
        try:
            fixed = param.clip(value, task)
        except (TypeError, ValueError):
            notes.append(f"dropped {key}={value!r}: not a valid value")
            continue
        if fixed != value:
            notes.append(f"{key}: {value!r} → {fixed!r}")
        clean[key] = fixed
    return clean, notes
