"""llama.cpp in this process (xllamacpp): load a GGUF, generate, or serve it over HTTP.

server = llama_server(path)                   # in-process: server.handle_completions({...})
server = llama_server(path, port=8000)        # also an OpenAI-compatible API on 127.0.0.1
greedy(server, "ROMEO:", 32)                  # [(token id, logprob), ...]
"""

from __future__ import annotations

import os
from pathlib import Path

from magnet.tools.errors import ExportError


def llama_server(
    path: Path, n_ctx: int = 4096, threads: int = 2, port: int | None = None, name: str = ""
):
    """A llama.cpp server over `path`; with `port` it also listens there, on 127.0.0.1 only,
    naming the model `name` in /v1/models."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.n_ctx = n_ctx
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    # llama.cpp logs stay off the user's terminal unless MAGNET_DEBUG=1 asks for them.
    params.verbosity = 1 if os.environ.get("MAGNET_DEBUG") == "1" else -1
    params.use_jinja = True  # the GGUF's own chat template, whatever it is
    if name:
        params.model_alias = {name}
    if port is not None:
        params.port = port  # xllamacpp binds 127.0.0.1 unless told otherwise
    try:
        return xllamacpp.Server(params)
    except RuntimeError:
        where = f" on 127.0.0.1:{port}" if port is not None else ""
        hint = "" if params.verbosity > 0 else " (MAGNET_DEBUG=1 shows llama.cpp's log)"
        raise ExportError(f"llama.cpp could not load {path}{where}{hint}") from None


def greedy(server, prompt: str | list[int], n: int) -> list[tuple[int, float]]:
    """n tokens by greedy decoding (end of text ignored), with their log-probabilities."""
    reply = server.handle_completions(
        {
            "prompt": prompt,
            "n_predict": n,
            "temperature": 0,
            "top_k": 1,
            "ignore_eos": True,
            "n_probs": 1,
            "cache_prompt": False,
        }
    )
    if "error" in reply:
        raise ExportError(f"llama.cpp: {reply['error'].get('message', reply['error'])}")
    return [(c["id"], c["logprob"]) for c in reply["choices"][0]["logprobs"]["content"]]
