"""`magnet export` and `magnet serve`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Literal

import typer

from magnet.tools import console

PARITY_PROMPT = "The "


def export_command(
    run_dir: Annotated[Path, typer.Argument(help="a run directory (magnet train --out)")],
    format: Annotated[
        Literal["gguf", "hf"],
        typer.Option("--format", help="gguf: llama.cpp; hf: transformers (BitNet)"),
    ] = "gguf",
    out: Annotated[
        Path | None, typer.Option(help="file (gguf) or directory (hf); default RUN_DIR/export/")
    ] = None,
    type: Annotated[
        Literal["tq2_0", "tq1_0", "f16"],
        typer.Option("--type", help="GGUF type of the ternary projections"),
    ] = "tq2_0",
    check: Annotated[
        bool, typer.Option(help="greedy-decode 32 tokens in torch and in the export, compare")
    ] = True,
) -> None:
    """Export a trained language model for llama.cpp (GGUF) or transformers (Hugging Face).

    Example: magnet export runs/lm-shakespeare --format gguf --type tq2_0
    """
    from magnet.tools.errors import ExportError
    from magnet.tools.export.export import export
    from magnet.tools.export.parity import parity

    done = export(run_dir, format, out, type)
    for note in done.notes:
        console.line(f"note: {note}", stderr=True)
    console.line(f"{done.path} ({done.format}, {done.linear_type}, {done.bytes / 1e6:.2f} MB)")
    if check:
        files = {"gguf": done.path} if format == "gguf" else {"hf": done.path}
        report = parity(run_dir, PARITY_PROMPT, **files)
        console.line(f"parity: {report.summary()}")
        if not report.ok:
            raise ExportError("the export does not generate what the torch model generates")


def serve_command(
    target: Annotated[Path, typer.Argument(help="a run directory or a .gguf file")],
    port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 8000,
    threads: Annotated[int, typer.Option(help="CPU threads for llama.cpp")] = 2,
) -> None:
    """Serve an expert over an OpenAI-compatible HTTP API on 127.0.0.1.

    Language models run in llama.cpp (/v1/models, /v1/completions, /v1/chat/completions,
    streaming); text classifiers answer on /v1/classify. Runs until Ctrl-C.

    Example: magnet serve runs/lm-shakespeare --port 8000
    """
    from magnet.tools.export.serve import (
        HOST,
        classify_server,
        model_file,
        serve_gguf,
        served_name,
    )

    kind, path = model_file(target, on_export=lambda m: console.line(m, stderr=True))
    url = f"http://{HOST}:{port}/v1"
    if kind == "classify":
        server = classify_server(path, port)
        console.line(f"serving {path} (classifier) on {url} (POST /v1/classify)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            server.shutdown()
        return
    server = serve_gguf(path, port, served_name(target), threads)  # noqa: F841 (kept alive)
    console.line(f"serving {path} on {url} (OpenAI-compatible)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
