"""`magnet export`: a run's model as a GGUF for llama.cpp or a Hugging Face checkpoint.

export(run_dir, "gguf")                    # run_dir/export/model-tq2_0.gguf
export(run_dir, "hf", out=Path("expert"))  # expert/{config.json,model.safetensors,...}
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from magnet.tools.errors import ExportError
from magnet.tools.export.gguf_file import LinearType

Format = Literal["gguf", "hf"]


class Exported(BaseModel):
    path: Path
    format: Format
    linear_type: str  # tq2_0, tq1_0, f16 (GGUF projections) or latent-fp32 / fp32 (hf)
    bytes: int
    notes: list[str] = []


def default_out(run_dir: Path, fmt: Format, linear_type: LinearType) -> Path:
    return run_dir / "export" / (f"model-{linear_type}.gguf" if fmt == "gguf" else "hf")


def export(
    run_dir: Path, fmt: Format, out: Path | None = None, linear_type: LinearType = "tq2_0"
) -> Exported:
    from magnet.tools.bitnet.checkpoint import load_model

    model, cfg = load_model(run_dir)
    if cfg.task != "lm":
        raise ExportError(
            f"{run_dir} is a {cfg.task} model: only language models export (llama.cpp and "
            "transformers' BitNet are causal LMs); `magnet serve` answers /v1/classify for it"
        )
    notes = []
    if cfg.model.linear == "fp" and (fmt == "hf" or linear_type != "f16"):
        notes.append("an fp model (linear=fp) has no ternary weights: written in full precision")
        linear_type = "f16"
    out = out or default_out(run_dir, fmt, linear_type)
    tokenizer = _tokenizer_json(run_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "gguf":
        _write_atomically(out, lambda tmp: _gguf(model, tokenizer, tmp, linear_type))
        size = out.stat().st_size
    else:
        _write_atomically(out, lambda tmp: _hf(model, tokenizer, tmp))
        size = sum(f.stat().st_size for f in out.iterdir())
        linear_type = "latent-fp32" if cfg.model.linear == "ternary" else "fp32"
    return Exported(path=out, format=fmt, linear_type=linear_type, bytes=size, notes=notes)


def _gguf(model, tokenizer, path, linear_type):
    from magnet.tools.export.gguf_file import write_gguf

    write_gguf(model, tokenizer, path, linear_type)


def _hf(model, tokenizer, path):
    from magnet.tools.export.hf import write_hf

    write_hf(model, tokenizer, path)


def _tokenizer_json(run_dir: Path) -> dict:
    from magnet.tools.bitnet.run_dir import RunDir
    from magnet.tools.errors import RunDirError

    try:
        return RunDir(run_dir).tokenizer_json()
    except RunDirError as e:
        raise ExportError(str(e)) from None


def _write_atomically(out: Path, write) -> None:
    """Write beside `out` and rename into place: a failed export leaves no half file."""
    import shutil

    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True) if tmp.is_dir() else tmp.unlink(missing_ok=True)
    write(tmp)
    if out.is_dir():
        shutil.rmtree(out)
    tmp.replace(out)
