"""`magnet serve`: an expert over HTTP on 127.0.0.1, OpenAI-style.

Language models run in llama.cpp (xllamacpp), whose server speaks the OpenAI API itself:
/v1/models, /v1/completions, /v1/chat/completions, streaming. A run directory is exported to
GGUF TQ2_0 first (reused while newer than the checkpoint). Text classifiers run in torch
behind a small stdlib server: /v1/models and /v1/classify.

    POST /v1/classify {"input": "WINNER! claim your prize"}     (or a list of texts)
    → {"object": "list", "model": ..., "data": [{"index": 0, "label": "spam",
                                                 "scores": {"ham": 0.03, "spam": 0.97}}]}
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from magnet.tools.errors import ExportError

HOST = "127.0.0.1"


def check_port(port: int) -> None:
    with socket.socket() as s:
        try:
            s.bind((HOST, port))
        except OSError:
            raise ExportError(
                f"port {port} is in use on {HOST}: pick another with --port"
            ) from None


def model_file(target: Path, on_export: Callable[[str], None] = print) -> tuple[str, Path]:
    """("gguf", file) for a GGUF or an LM run directory; ("classify", run dir) for a text
    classifier."""
    from magnet.tools.bitnet.run_dir import RunDir
    from magnet.tools.export.export import default_out, export

    if target.is_file() and target.suffix == ".gguf":
        return "gguf", target
    if not target.is_dir():
        raise ExportError(f"{target}: neither a run directory nor a .gguf file")
    cfg = RunDir(target).config()
    if cfg.task == "classify":
        return "classify", target
    if cfg.task != "lm":
        raise ExportError(f"{target} is a {cfg.task} model: serving it is not supported")
    kind = "tq2_0" if cfg.model.linear == "ternary" else "f16"
    gguf = default_out(target, "gguf", kind)
    checkpoint = RunDir(target).checkpoint
    if not gguf.exists() or (
        checkpoint.exists() and gguf.stat().st_mtime < checkpoint.stat().st_mtime
    ):
        on_export(f"exporting {target} to {gguf}")
        gguf = export(target, "gguf", linear_type=kind).path
    return "gguf", gguf


def serve_gguf(path: Path, port: int, name: str, threads: int = 2, n_ctx: int = 2048):
    """The llama.cpp server, listening until the process ends."""
    from magnet.tools.export.llama import llama_server

    check_port(port)
    return llama_server(path, n_ctx=n_ctx, threads=threads, port=port, name=name)


def classify_server(run_dir: Path, port: int) -> ThreadingHTTPServer:
    """/v1/classify for a text classifier; call serve_forever() on it."""
    check_port(port)
    classify, name = _classifier(run_dir)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path.rstrip("/") == "/v1/models":
                model = {"id": name, "object": "model", "owned_by": "magnet"}
                return self._send(200, {"object": "list", "data": [model]})
            self._send(404, _error(f"no route GET {self.path}"))

        def do_POST(self):
            if self.path.rstrip("/") != "/v1/classify":
                return self._send(404, _error(f"no route POST {self.path}"))
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                texts = body["input"]
                texts = [texts] if isinstance(texts, str) else texts
                if not texts or not all(isinstance(t, str) for t in texts):
                    raise ValueError
            except (ValueError, KeyError, TypeError):
                return self._send(400, _error('send {"input": "a text"} or a list of texts'))
            data = [{"index": i, **r} for i, r in enumerate(classify(texts))]
            self._send(200, {"object": "list", "model": name, "data": data})

        def _send(self, status: int, payload: dict) -> None:
            raw = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args) -> None:  # quiet: the CLI says where it listens
            pass

    return ThreadingHTTPServer((HOST, port), Handler)


def _classifier(run_dir: Path):
    import torch

    from magnet.tools.bitnet.checkpoint import load_model
    from magnet.tools.bitnet.run_dir import RunDir

    model, cfg = load_model(run_dir)
    labels, tok = RunDir(run_dir).card().labels, RunDir(run_dir).tokenizer()
    lock = threading.Lock()  # one forward at a time: torch already uses every core

    def classify(texts: list[str]) -> list[dict]:
        rows = [tok.encode(t)[: cfg.seq_len] for t in texts]
        width = max(max(len(r) for r in rows), 1)
        tokens = torch.zeros(len(rows), width, dtype=torch.long)
        for i, r in enumerate(rows):
            tokens[i, : len(r)] = torch.as_tensor(r.astype("int64"))
        lengths = torch.tensor([max(len(r), 1) for r in rows])
        with lock, torch.no_grad():
            probs = model(tokens, lengths).softmax(-1).tolist()
        return [
            {
                "label": labels[max(range(len(p)), key=p.__getitem__)],
                "scores": {label: round(q, 6) for label, q in zip(labels, p, strict=True)},
            }
            for p in probs
        ]

    return classify, served_name(run_dir)


def served_name(target: Path) -> str:
    """What /v1/models calls the expert: the run directory's name (or the GGUF's stem)."""
    target = target.resolve()
    return target.stem if target.suffix == ".gguf" else target.name


def _error(message: str) -> dict:
    return {"error": {"message": message, "type": "invalid_request_error"}}
