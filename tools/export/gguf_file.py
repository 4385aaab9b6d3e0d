"""A trained language model as a GGUF file that llama.cpp runs (architecture `bitnet`).

    write_gguf(run_dir, out, linear_type="tq2_0")   # or "tq1_0", or "f16" (a reference)

Ternary projections γ·{-1, 0, 1} are stored in TQ2_0 or TQ1_0: the codes exactly, γ as each
256-block's f16 scale (relative error <= 2^-11). A separate F32 `.scale` tensor would keep γ
exact, but costs llama.cpp one more op per projection: ~20% of decode speed on small models,
for log-probabilities that moved by less than 0.001. Embeddings are F16 (the output head is
tied to them), norms F32. The tokenizer goes into the metadata as a
GPT-2 style byte-level vocabulary, so llama.cpp tokenizes text itself: the byte tokenizer is
that vocabulary with no (effective) merges, a BPE one brings its merges. An fp model
(linear=fp) is written with F16 projections: llama.cpp runs it, but it is not ternary.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from magnet.tools.errors import ExportError

LinearType = Literal["tq2_0", "tq1_0", "f16"]
ARCH = "bitnet"

# our parameter name (after layers.N.) → llama.cpp's (after blk.N.)
BLOCK_TENSORS = {
    "attn_norm.weight": "attn_norm.weight",
    "attn.q_proj.weight": "attn_q.weight",
    "attn.k_proj.weight": "attn_k.weight",
    "attn.v_proj.weight": "attn_v.weight",
    "attn.sub_norm.weight": "attn_sub_norm.weight",
    "attn.o_proj.weight": "attn_output.weight",
    "ffn_norm.weight": "ffn_norm.weight",
    "ffn.gate_proj.weight": "ffn_gate.weight",
    "ffn.up_proj.weight": "ffn_up.weight",
    "ffn.sub_norm.weight": "ffn_sub_norm.weight",
    "ffn.down_proj.weight": "ffn_down.weight",
}
# The models are not chat-tuned: a chat becomes a plain transcript ("user: ...\nassistant:"),
# which suits script-like corpora (speaker: line) and gives /v1/chat/completions a prompt.
CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)
PROJECTIONS = {name for name in BLOCK_TENSORS if name.endswith("proj.weight")}


def write_gguf(model, tokenizer: dict, out: Path, linear_type: LinearType = "tq2_0") -> Path:
    """Write `model` (a CausalLM, weights loaded) with its tokenizer (tokenizer.json's
    content) to `out`; returns `out`."""
    import gguf

    cfg = model.cfg
    if cfg.linear == "fp" and linear_type != "f16":
        raise ExportError("an fp model has no ternary weights: export it with --type f16")
    writer = gguf.GGUFWriter(str(out), ARCH)
    _hyperparameters(writer, cfg)
    _tokenizer(writer, tokenizer)
    weights = {k: v.detach().float() for k, v in model.state_dict().items()}
    writer.add_tensor("token_embd.weight", weights["embed.weight"].numpy().astype(np.float16))
    writer.add_tensor("output_norm.weight", weights["backbone.norm.weight"].numpy())
    for i in range(cfg.n_layers):
        for ours, theirs in BLOCK_TENSORS.items():
            w = weights[f"backbone.layers.{i}.{ours}"]
            name = f"blk.{i}.{theirs}"
            if ours not in PROJECTIONS:
                writer.add_tensor(name, w.numpy())
            elif linear_type == "f16":
                writer.add_tensor(name, _effective(w, cfg.linear).numpy().astype(np.float16))
            else:
                _ternary(writer, name, w, linear_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out


def _hyperparameters(writer, cfg) -> None:
    writer.add_context_length(cfg.max_seq_len)
    writer.add_embedding_length(cfg.d_model)
    writer.add_block_count(cfg.n_layers)
    writer.add_feed_forward_length(cfg.ffn_dim)
    writer.add_head_count(cfg.n_heads)
    writer.add_head_count_kv(cfg.n_kv_heads or cfg.n_heads)
    writer.add_rope_dimension_count(cfg.d_model // cfg.n_heads)
    writer.add_rope_freq_base(cfg.rope_theta)
    writer.add_layer_norm_rms_eps(cfg.norm_eps)
    writer.add_vocab_size(cfg.vocab_size)


def _effective(w: torch.Tensor, linear: str) -> torch.Tensor:
    """What the layer multiplies by: γ·codes for a ternary layer, W for an fp one."""
    if linear == "fp":
        return w
    from magnet.tools.bitnet.bitlinear import weight_quant

    codes, gamma = weight_quant(w)
    return codes * gamma


def _ternary(writer, name: str, w: torch.Tensor, linear_type: LinearType) -> None:
    from gguf import GGMLQuantizationType
    from gguf.quants import quantize

    qtype = GGMLQuantizationType[linear_type.upper()]
    packed = quantize(_effective(w, "ternary").numpy().astype(np.float32), qtype)
    writer.add_tensor(name, packed, raw_shape=packed.shape, raw_dtype=qtype)


def _tokenizer(writer, tokenizer) -> None:
    tokens, merges = vocabulary(tokenizer)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("gpt-2")
    writer.add_token_list(tokens)
    writer.add_token_types([1] * len(tokens))  # all normal: the models have no special tokens
    # The gguf package writes no empty array and llama.cpp needs merges: the byte vocabulary
    # gets one that never applies, as GPT-2's pre-tokenizer splits a letter from a digit.
    writer.add_token_merges(merges or ["a 1"])
    # No BOS/EOS in training: none is added, and "end" is the NUL byte, which text never holds.
    nul = tokens.index(_byte_chars()[0])
    writer.add_bos_token_id(nul)
    writer.add_eos_token_id(nul)
    writer.add_add_bos_token(False)
    writer.add_add_eos_token(False)
    writer.add_chat_template(CHAT_TEMPLATE)


def vocabulary(tokenizer: dict) -> tuple[list[str], list[str]]:
    """Tokens in id order, in GPT-2's byte-to-character spelling, and the merges, from a
    run's tokenizer.json."""
    if tokenizer.get("kind") == "byte":
        return list(_byte_chars()), []
    spec = tokenizer["model"]
    tokens = [""] * len(spec["vocab"])
    for text, i in spec["vocab"].items():
        tokens[i] = text
    merges = [m if isinstance(m, str) else " ".join(m) for m in spec["merges"]]
    return tokens, merges


@cache
def _byte_chars() -> tuple[str, ...]:
    """GPT-2's printable character for each byte value (what byte-level BPE vocabularies hold)."""
    printable = [*range(33, 127), *range(161, 173), *range(174, 256)]
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return tuple(chars[b] for b in range(256))
