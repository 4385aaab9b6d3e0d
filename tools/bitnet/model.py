"""Models on one transformer backbone in llama.cpp's `bitnet` layout.

Block: x += o_proj(SubLN(attn(attn_norm(x)))); x += down(SubLN(silu(gate(h)) * up(h))),
h = ffn_norm(x). RMSNorm everywhere, RoPE in the NeoX (rotate-halves) layout, no biases.
`linear="ternary"` builds every projection as BitLinear, `linear="fp"` as nn.Linear: the
baseline of identical shape. Embeddings, norms and the classifier heads stay full precision.

    CausalLM          token embedding → blocks → norm → logits with the tied embedding
    TextClassifier    token embedding → blocks → norm → mean over real tokens → head
    SeriesClassifier  linear feature projection → blocks → norm → last step → head
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from pydantic import BaseModel, Field, model_validator
from torch import nn
from torch.nn import functional as F

from magnet.tools.bitnet.bitlinear import BitLinear, shared_input
from magnet.tools.bitnet.norm import RMSNorm

Linear = Literal["ternary", "fp"]


class ModelConfig(BaseModel):
    """Backbone shape. Ternary input widths (d_model, ffn_dim) are multiples of 256 (TQ2_0)."""

    linear: Linear = "ternary"
    d_model: int = Field(256, gt=0, description="residual width, a multiple of 256")
    n_layers: int = Field(4, gt=0)
    n_heads: int = Field(4, gt=0)
    n_kv_heads: int | None = Field(None, gt=0, description="grouped-query heads; None = n_heads")
    ffn_dim: int = Field(768, gt=0, description="SwiGLU hidden width, a multiple of 256")
    max_seq_len: int = Field(256, gt=1)
    rope_theta: float = Field(10000.0, gt=0)
    norm_eps: float = Field(1e-5, gt=0)
    vocab_size: int = Field(256, gt=0, description="tokens (language and text models)")
    n_classes: int = Field(2, gt=1, description="classes (classifiers)")
    n_features: int = Field(1, gt=0, description="inputs per time step (series models)")
    dropout: float = Field(0.0, ge=0, lt=1, description="on the inputs and each block's branches")

    @model_validator(mode="after")
    def _check_shapes(self) -> ModelConfig:
        for name in ("d_model", "ffn_dim"):
            if getattr(self, name) % 256:
                raise ValueError(f"{name}={getattr(self, name)} must be a multiple of 256")
        kv = self.n_kv_heads or self.n_heads
        if self.d_model % self.n_heads or self.n_heads % kv:
            raise ValueError("n_heads must divide d_model, and n_kv_heads must divide n_heads")
        if (self.d_model // self.n_heads) % 2:
            raise ValueError("head size d_model / n_heads must be even for RoPE")
        return self

    def non_embedding_params(self) -> int:
        kv = (self.n_kv_heads or self.n_heads) * (self.d_model // self.n_heads)
        attn = 2 * self.d_model * self.d_model + 2 * self.d_model * kv
        return self.n_layers * (attn + 3 * self.d_model * self.ffn_dim)


def _linear(cfg: ModelConfig, n_in: int, n_out: int) -> nn.Linear:
    return (BitLinear if cfg.linear == "ternary" else nn.Linear)(n_in, n_out, bias=False)


def rope_tables(cfg: ModelConfig, seq_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    head = cfg.d_model // cfg.n_heads
    inv = 1.0 / cfg.rope_theta ** (torch.arange(0, head, 2, dtype=torch.float32) / head)
    angles = torch.outer(torch.arange(seq_len, dtype=torch.float32), inv)
    return angles.cos().repeat(1, 2), angles.sin().repeat(1, 2)  # [T, head], NeoX halves


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    cos, sin = cos.to(x.dtype), sin.to(x.dtype)  # bf16 q/k times fp32 tables is a slow mix
    x1, x2 = x.chunk(2, dim=-1)
    return x * cos + torch.cat((-x2, x1), dim=-1) * sin


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.n_heads, self.n_kv = cfg.n_heads, cfg.n_kv_heads or cfg.n_heads
        self.head = cfg.d_model // cfg.n_heads
        self.q_proj = _linear(cfg, cfg.d_model, cfg.d_model)
        self.k_proj = _linear(cfg, cfg.d_model, self.n_kv * self.head)
        self.v_proj = _linear(cfg, cfg.d_model, self.n_kv * self.head)
        self.sub_norm = RMSNorm(cfg.d_model, eps=cfg.norm_eps)
        self.o_proj = _linear(cfg, cfg.d_model, cfg.d_model)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        q, k, v = shared_input(x, self.q_proj, self.k_proj, self.v_proj)
        q = q.view(b, t, self.n_heads, self.head).transpose(1, 2)
        k = k.view(b, t, self.n_kv, self.head).transpose(1, 2)
        v = v.view(b, t, self.n_kv, self.head).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        y = F.scaled_dot_product_attention(
            q, k, v, is_causal=True, enable_gqa=self.n_kv != self.n_heads
        )
        return self.o_proj(self.sub_norm(y.transpose(1, 2).reshape(b, t, -1)))


class FeedForward(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.gate_proj = _linear(cfg, cfg.d_model, cfg.ffn_dim)
        self.up_proj = _linear(cfg, cfg.d_model, cfg.ffn_dim)
        self.sub_norm = RMSNorm(cfg.ffn_dim, eps=cfg.norm_eps)
        self.down_proj = _linear(cfg, cfg.ffn_dim, cfg.d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, up = shared_input(x, self.gate_proj, self.up_proj)
        return self.down_proj(self.sub_norm(F.silu(gate) * up))


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.attn_norm = RMSNorm(cfg.d_model, eps=cfg.norm_eps)
        self.attn = Attention(cfg)
        self.ffn_norm = RMSNorm(cfg.d_model, eps=cfg.norm_eps)
        self.ffn = FeedForward(cfg)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        x = x + self.drop(self.attn(self.attn_norm(x), cos, sin))
        return x + self.drop(self.ffn(self.ffn_norm(x)))


class Backbone(nn.Module):
    """The blocks and the final norm; inputs and outputs are [batch, time, d_model]."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.norm = RMSNorm(cfg.d_model, eps=cfg.norm_eps)
        self.drop = nn.Dropout(cfg.dropout)
        cos, sin = rope_tables(cfg, cfg.max_seq_len)
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.shape[1]
        cos, sin = self.rope_cos[:t], self.rope_sin[:t]
        x = self.drop(x)
        for layer in self.layers:
            x = layer(x, cos, sin)
        return self.norm(x)


def init_weights(model: nn.Module, n_layers: int) -> None:
    """GPT-2 style: N(0, 0.02), residual output projections scaled by 1/sqrt(2·layers)."""
    for name, p in model.named_parameters():
        if p.dim() < 2:
            continue
        std = (
            0.02 / math.sqrt(2 * n_layers)
            if name.endswith(("o_proj.weight", "down_proj.weight"))
            else 0.02
        )
        nn.init.normal_(p, mean=0.0, std=std)


class CausalLM(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.backbone = Backbone(cfg)
        init_weights(self, cfg.n_layers)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits [batch, time, vocab] for next-token prediction."""
        return self.backbone(self.embed(tokens)) @ self.embed.weight.T


class TextClassifier(nn.Module):
    """Right-padded inputs: causal attention keeps padding from reaching real tokens."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.backbone = Backbone(cfg)
        self.head = nn.Linear(cfg.d_model, cfg.n_classes)
        init_weights(self, cfg.n_layers)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        h = self.backbone(self.embed(tokens))
        mask = torch.arange(tokens.shape[1], device=tokens.device)[None, :] < lengths[:, None]
        pooled = (h * mask[..., None]).sum(1) / lengths.clamp(min=1)[:, None]
        return self.head(pooled)


class SeriesClassifier(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.proj = nn.Linear(cfg.n_features, cfg.d_model)
        self.backbone = Backbone(cfg)
        self.head = nn.Linear(cfg.d_model, cfg.n_classes)
        init_weights(self, cfg.n_layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(self.proj(x))[:, -1])


def build_model(task: str, cfg: ModelConfig) -> nn.Module:
    return {"lm": CausalLM, "classify": TextClassifier, "direction": SeriesClassifier}[task](cfg)
