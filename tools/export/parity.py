"""Do the exports generate what our torch model generates? Greedy decoding, token by token.

    report = parity(run_dir, "ROMEO:", gguf=path, hf=hf_dir)
    report.ok, report.backends["gguf"].agree

Our BitLinear quantizes activations per token to int8; llama.cpp's TQ kernels quantize them
per 256-value block (Q8_K), so logits differ slightly (~1e-2 nats). Greedy decoding may then
pick differently where the torch model's top two tokens are nearly tied: a difference counts
as parity when torch's own gap between the two picks is under TIE_NATS. After it the texts
differ by construction, so only the tokens before it are compared.
"""

from __future__ import annotations

from pathlib import Path

import torch
from pydantic import BaseModel

from magnet.tools.errors import ExportError

TIE_NATS = 0.1


class Backend(BaseModel):
    tokens: list[int]
    agree: int  # leading tokens equal to torch's
    tie_gap: float | None = None  # torch's log-prob gap where they first differ
    max_logprob_diff: float = 0.0  # over the agreeing tokens

    def ok(self, n: int) -> bool:
        return self.agree == n or (self.tie_gap is not None and self.tie_gap < TIE_NATS)


class Parity(BaseModel):
    prompt: str
    n: int
    torch: list[int]
    backends: dict[str, Backend]

    @property
    def ok(self) -> bool:
        return all(b.ok(self.n) for b in self.backends.values())

    def summary(self) -> str:
        parts = []
        for name, b in self.backends.items():
            text = f"{name} {b.agree}/{self.n} tokens agree"
            if b.agree < self.n:
                text += f" (then a near tie: torch's gap {b.tie_gap:.3f} nats)"
            parts.append(text + f", max |Δ log p| {b.max_logprob_diff:.4f}")
        return "; ".join(parts)


def parity(
    run_dir: Path, prompt: str, n: int = 32, gguf: Path | None = None, hf: Path | None = None
) -> Parity:
    from magnet.tools.bitnet.checkpoint import load_model
    from magnet.tools.bitnet.run_dir import RunDir

    model, cfg = load_model(run_dir)
    ids = [int(i) for i in RunDir(run_dir).tokenizer().encode(prompt)]
    n = min(n, cfg.model.max_seq_len - len(ids))  # positions it was trained on, no further
    if n < 1:
        raise ExportError(f"the prompt fills the model's {cfg.model.max_seq_len}-token context")
    ours, rows = _greedy(model, ids, n)
    backends = {}
    if gguf is not None:
        from magnet.tools.export.llama import greedy, llama_server

        picked = greedy(llama_server(gguf, n_ctx=len(ids) + n + 8), prompt, n)
        backends["gguf"] = _compare(ours, rows, [t for t, _ in picked], [lp for _, lp in picked])
    if hf is not None:
        tokens, lps = _hf_greedy(hf, prompt, n)
        backends["hf"] = _compare(ours, rows, tokens, lps)
    return Parity(prompt=prompt, n=n, torch=ours, backends=backends)


def _greedy(model, ids: list[int], n: int) -> tuple[list[int], list[torch.Tensor]]:
    """Tokens and each step's log-probabilities over the vocabulary."""
    tokens, rows, x = [], [], list(ids)
    with torch.no_grad():
        for _ in range(n):
            row = model(torch.tensor([x]))[0, -1].log_softmax(-1)
            tokens.append(int(row.argmax()))
            rows.append(row)
            x.append(tokens[-1])
    return tokens, rows


def _hf_greedy(path: Path, prompt: str, n: int) -> tuple[list[int], list[float]]:
    """transformers' own load of the export, its own tokenizer, greedy."""
    import torch._dynamo
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with torch._dynamo.config.patch(disable=True):  # its quantizers are torch.compile'd
        model = AutoModelForCausalLM.from_pretrained(path).eval()
        x = AutoTokenizer.from_pretrained(path)(prompt)["input_ids"]
        tokens, lps = [], []
        with torch.no_grad():
            for _ in range(n):
                row = model(torch.tensor([x])).logits[0, -1].log_softmax(-1)
                tokens.append(int(row.argmax()))
                lps.append(float(row.max()))
                x.append(tokens[-1])
    return tokens, lps


def _compare(ours: list[int], rows: list, theirs: list[int], lps: list[float]) -> Backend:
    agree = next((i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b), None)
    if agree is None:
        agree, gap = len(ours), None
    else:
        gap = float(rows[agree][ours[agree]] - rows[agree][theirs[agree]])
    diffs = [abs(float(rows[i][ours[i]]) - lps[i]) for i in range(agree)]
    return Backend(tokens=theirs, agree=agree, tie_gap=gap, max_logprob_diff=max(diffs, default=0))
