"""A model shaped for the compute it will get, before anything is searched.

    diff = sized_for("lm", {"seq_len": 128}, flops=3.9e13)
    # {"tokenizer": "bpe", "bpe_vocab": 2048, "n_layers": 2, "ffn_dim": 512}:
    # subword tokens, ≈ 3 training tokens per non-embedding parameter

At a fixed training compute C ≈ 6·N·D, a model of N parameters sees D tokens; too big a model
sees too few tokens to learn from, too small a one stops improving (Hoffmann et al., 2022). A
CPU budget of minutes buys 1e13-1e14 FLOPs, where the default model (3.4M parameters) sees
well under one token per parameter. Measured here on Shakespeare at 2.65e13 FLOPs (val bits per
byte, one run each): the default 2.50, 2 layers × FFN 512 (2.4 tokens per parameter) 2.22,
1 layer × FFN 512 (9 per parameter) 2.27; hence TOKENS_PER_PARAM, and at least two layers.

A subword token carries about three bytes of text for nearly the FLOPs of a byte token, so
the sized config reads SUBWORDS. Measured at the same 2.65e13 FLOPs with 2 layers × FFN 512:
bytes 2.22, BPE 2048 2.08 (learning rate 8e-3 and batch 8 on top: 2.06 in 10% more seconds;
on bytes they gave 2.29 in twice the seconds).

A classifier reads the packaged LLM's tokens instead (PRETRAINED: its BPE, and its token
embeddings as the starting table, tools/datasets/pretrained.py). Measured against BPE 2048
with 2 layers × FFN 512, 600 steps, 2 seeds, val balanced accuracy
(bench/pretrained_embeddings.json): emoji-groups 0.750 → 0.773 (+0.023, seeds' spread 0.010),
sms-spam 0.952 → 0.956 (+0.005, within its spread of 0.023); no bench set lost.
"""

from __future__ import annotations

import math

from magnet.tools.search.space import SPACE

TOKENS_PER_PARAM = 3.0
MIN_LAYERS = 2
SHAPE_KEYS = ("d_model", "n_layers", "ffn_dim")
SUBWORDS = {"tokenizer": "bpe", "bpe_vocab": 2048}
PRETRAINED = {"tokenizer": "smollm2"}


def tokens_for(task: str) -> dict:
    """The sized config's tokenizer: the LLM's for a classifier, SUBWORDS for the rest."""
    return PRETRAINED if task == "classify" else SUBWORDS


def sized_for(task: str, settings: dict, flops: float) -> dict:
    """`tokens_for(task)` and the shape (d_model, n_layers, ffn_dim in the search space, FFN
    2-4× the width) whose tokens per parameter at `flops` come closest to TOKENS_PER_PARAM,
    as a change from `settings`; what `settings` holds already stays (a tokenizer set there
    keeps its vocabulary too). Empty when nothing would change."""
    from magnet.tools.bitnet.config import make_config

    keep = "tokenizer" in settings  # the user's tokenizer, with or without its vocabulary
    subwords = {} if keep else {k: v for k, v in tokens_for(task).items() if k not in settings}
    settings = {**settings, **subwords}
    fixed = {k: settings[k] for k in SHAPE_KEYS if k in settings}

    def distance(shape: dict) -> float:
        return abs(
            math.log(tokens_per_param(task, {**settings, **shape}, flops) / TOKENS_PER_PARAM)
        )

    shapes = [s for s in _shapes() if all(s[k] == v for k, v in fixed.items())]
    if not shapes:
        return {}
    best = min(shapes, key=lambda s: (distance(s), -s["n_layers"]))
    base = make_config(task, "sizing", settings=settings).model
    return {**subwords, **{k: v for k, v in best.items() if getattr(base, k) != v}}


def tokens_per_param(task: str, settings: dict, flops: float) -> float:
    """Training tokens per non-embedding parameter of this config at `flops`."""
    from magnet.tools.bitnet.compute import flops_per_token
    from magnet.tools.bitnet.config import make_config

    cfg = make_config(task, "sizing", settings=settings)
    return flops / flops_per_token(cfg) / cfg.model.non_embedding_params()


def _shapes() -> list[dict]:
    layers = range(MIN_LAYERS, int(SPACE["n_layers"].high) + 1)
    return [
        {"d_model": d, "n_layers": n, "ffn_dim": f}
        for d in SPACE["d_model"].choices
        for n in layers
        for f in SPACE["ffn_dim"].choices
        if 2 * d <= f <= 4 * d
    ]
