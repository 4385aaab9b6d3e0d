"""A trained language model as a Hugging Face checkpoint: transformers' BitNet architecture.

    write_hf(model, tokenizer_json, out_dir)
    AutoModelForCausalLM.from_pretrained(out_dir)      # BitNetForCausalLM

config.json declares `quantization_config` {quant_method: bitnet, linear_class: autobitlinear,
quantization_mode: online}: transformers replaces each projection with AutoBitLinear, which
quantizes exactly as our BitLinear (weights to γ·{-1,0,1} with γ = mean|W|, activations per
token to int8), so model.safetensors holds the full-precision latent weights. An fp model
(linear=fp) is written without quantization_config. The tokenizer is saved as a
PreTrainedTokenizerFast (tokenizer.json) with the same byte-level vocabulary as the GGUF.
transformers wraps its BitNet quantizers in torch.compile: set TORCHDYNAMO_DISABLE=1 on a CPU
unless minutes of compiling are fine.
"""

from __future__ import annotations

import json
from pathlib import Path

from magnet.tools.export.gguf_file import BLOCK_TENSORS

# our parameter name (after layers.N.) → transformers' (after model.layers.N.)
HF_BLOCK = {
    "attn_norm.weight": "input_layernorm.weight",
    "attn.q_proj.weight": "self_attn.q_proj.weight",
    "attn.k_proj.weight": "self_attn.k_proj.weight",
    "attn.v_proj.weight": "self_attn.v_proj.weight",
    "attn.sub_norm.weight": "self_attn.attn_sub_norm.weight",
    "attn.o_proj.weight": "self_attn.o_proj.weight",
    "ffn_norm.weight": "post_attention_layernorm.weight",
    "ffn.gate_proj.weight": "mlp.gate_proj.weight",
    "ffn.up_proj.weight": "mlp.up_proj.weight",
    "ffn.sub_norm.weight": "mlp.ffn_sub_norm.weight",
    "ffn.down_proj.weight": "mlp.down_proj.weight",
}
assert HF_BLOCK.keys() == BLOCK_TENSORS.keys()


def write_hf(model, tokenizer: dict, out: Path) -> Path:
    from safetensors.torch import save_file

    cfg = model.cfg
    out.mkdir(parents=True, exist_ok=True)
    weights = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    tensors = {
        "model.embed_tokens.weight": weights["embed.weight"],
        "model.norm.weight": weights["backbone.norm.weight"],
    }
    for i in range(cfg.n_layers):
        for ours, theirs in HF_BLOCK.items():
            tensors[f"model.layers.{i}.{theirs}"] = weights[f"backbone.layers.{i}.{ours}"]
    save_file(tensors, out / "model.safetensors", metadata={"format": "pt"})
    (out / "config.json").write_text(json.dumps(_config(cfg), indent=1))
    _tokenizer(tokenizer).save_pretrained(out)
    return out


def _config(cfg) -> dict:
    config = {
        "architectures": ["BitNetForCausalLM"],
        "model_type": "bitnet",
        "vocab_size": cfg.vocab_size,
        "hidden_size": cfg.d_model,
        "intermediate_size": cfg.ffn_dim,
        "num_hidden_layers": cfg.n_layers,
        "num_attention_heads": cfg.n_heads,
        "num_key_value_heads": cfg.n_kv_heads or cfg.n_heads,
        "hidden_act": "silu",
        "max_position_embeddings": cfg.max_seq_len,
        "rms_norm_eps": cfg.norm_eps,
        "rope_theta": cfg.rope_theta,
        "tie_word_embeddings": True,
        "attention_bias": False,
        "bos_token_id": None,
        "eos_token_id": None,
        "pad_token_id": None,
        "torch_dtype": "float32",
    }
    if cfg.linear == "ternary":
        config["quantization_config"] = {
            "quant_method": "bitnet",
            "linear_class": "autobitlinear",
            "quantization_mode": "online",
        }
    return config


def _tokenizer(tokenizer: dict):
    """A PreTrainedTokenizerFast over the run's vocabulary in byte-level spelling."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from magnet.tools.export.gguf_file import vocabulary

    tokens, merges = vocabulary(tokenizer)
    bpe = models.BPE(
        vocab={t: i for i, t in enumerate(tokens)},
        merges=[tuple(m.split(" ")) for m in merges],
    )
    tok = Tokenizer(bpe)
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=tok)
