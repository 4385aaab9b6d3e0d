"""CPU inference of one trained LM: GGUF TQ2_0, TQ1_0 and F16 in llama.cpp, and torch fp32.

    python bench/inference.py [--d-model 1024 --layers 8 --ffn 2816] [--tokens 128]

Trains the model a few steps (a real run directory; speed does not depend on how good the
weights are), exports it three ways, and decodes `--tokens` tokens greedily with 2 threads,
three times each, interleaved, so every format sees the same machine load. F16 is the
baseline: the goals are ternary projections <= 1/7 of its bytes and decode >= 1.5x its speed.
torch decodes without a KV cache (each token re-runs the context), as our parity check does.

Where the time goes in small models: the same measurement for a 256-wide model with 1 and 4
layers; decode time per token is fitted as fixed + per_layer x layers, and the fixed part
(embedding lookup, output head over the vocabulary, llama.cpp's per-token overhead) is
reported as a share. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

from magnet.tools.bitnet.checkpoint import load_model
from magnet.tools.bitnet.train import TrainRequest, train
from magnet.tools.export.export import export
from magnet.tools.export.llama import llama_server

TYPES = ("tq2_0", "tq1_0", "f16")
PROMPT = "ROMEO:\n"
PROJECTIONS = ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down")


def trained(out: Path, d_model: int, layers: int, ffn: int, heads: int, tokenizer: str) -> Path:
    settings = {"d_model": d_model, "n_layers": layers, "ffn_dim": ffn, "n_heads": heads}
    settings |= {"seq_len": 256, "batch_size": 2, "eval_batches": 1, "warmup_steps": 1}
    settings |= {"tokenizer": tokenizer, "bpe_vocab": 4096}
    train(TrainRequest(task="lm", data="shakespeare", steps=2, out=out, settings=settings))
    return out


def tensor_bytes(path: Path) -> dict:
    from gguf import GGUFReader

    out = {"projections": 0, "embedding": 0, "other": 0}
    for t in GGUFReader(path).tensors:
        part = t.name.split(".")
        if t.name.startswith("blk.") and part[2] in PROJECTIONS:
            out["projections"] += int(t.n_bytes)
        elif part[0] == "token_embd":
            out["embedding"] += int(t.n_bytes)
        else:
            out["other"] += int(t.n_bytes)
    return out


def decode_tps(server, tokens: int) -> float:
    reply = server.handle_completions(
        {"prompt": PROMPT, "n_predict": tokens, "temperature": 0, "top_k": 1, "ignore_eos": True}
    )
    return reply["timings"]["predicted_per_second"]


def torch_tps(run: Path, tokens: int) -> float:
    model, _ = load_model(run)
    x = torch.zeros(1, len(PROMPT), dtype=torch.long)
    start = time.perf_counter()
    with torch.no_grad():
        for _ in range(tokens):
            nxt = model(x)[:, -1].argmax(-1, keepdim=True)
            x = torch.cat([x, nxt], dim=1)
    return tokens / (time.perf_counter() - start)


def measure(run: Path, types, tokens: int, repeats: int) -> dict:
    files = {t: export(run, "gguf", run / f"{t}.gguf", t).path for t in types}
    servers = {t: llama_server(files[t], n_ctx=tokens + 64, threads=2) for t in types}
    for s in servers.values():
        decode_tps(s, 8)  # warm-up
    speeds = {t: [] for t in types}
    for _ in range(repeats):
        for t in types:
            speeds[t].append(decode_tps(servers[t], tokens))
    return {
        t: {
            "file_bytes": files[t].stat().st_size,
            "tensor_bytes": tensor_bytes(files[t]),
            "decode_tokens_per_s": round(statistics.median(speeds[t]), 1),
        }
        for t in types
    }


def breakdown(root: Path, tokens: int, repeats: int) -> dict:
    """Per-token decode time = fixed + per_layer x layers, fitted on 1 and 4 layers."""
    per_token = {}
    for layers in (1, 4):
        run = trained(root / f"small-{layers}", 256, layers, 768, 4, "bpe")
        got = measure(run, ("tq2_0", "f16"), tokens, repeats)
        per_token[layers] = {t: 1e3 / got[t]["decode_tokens_per_s"] for t in got}
    out = {"model": "d_model 256, ffn 768, BPE vocabulary 4096, 1 and 4 layers"}
    for t in ("tq2_0", "f16"):
        per_layer = (per_token[4][t] - per_token[1][t]) / 3
        fixed = per_token[1][t] - per_layer
        out[t] = {
            "ms_per_token_4_layers": round(per_token[4][t], 3),
            "fixed_ms": round(fixed, 3),
            "per_layer_ms": round(per_layer, 3),
            "fixed_share_at_4_layers": round(fixed / per_token[4][t], 2),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d-model", type=int, default=1024)
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--ffn", type=int, default=2816)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        run = trained(root / "main", args.d_model, args.layers, args.ffn, args.heads, "byte")
        formats = measure(run, TYPES, args.tokens, args.repeats)
        formats["torch_fp32"] = {"decode_tokens_per_s": round(torch_tps(run, args.tokens), 1)}
        f16 = formats["f16"]
        out = {
            "model": f"d_model {args.d_model}, {args.layers} layers, ffn {args.ffn}, bytes",
            "threads": 2,
            "decode_tokens": args.tokens,
            "formats": formats,
            "vs_f16": {
                t: {
                    "projection_bytes": round(
                        formats[t]["tensor_bytes"]["projections"]
                        / f16["tensor_bytes"]["projections"],
                        3,
                    ),
                    "decode_speedup": round(
                        formats[t]["decode_tokens_per_s"] / f16["decode_tokens_per_s"], 2
                    ),
                }
                for t in ("tq2_0", "tq1_0")
            },
            "small_model_breakdown": breakdown(root, args.tokens, args.repeats),
        }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
