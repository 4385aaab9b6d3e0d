"""LLM access for the agent and for tools that write data: litellm, and the embedded
llama.cpp provider behind `local/...` model strings."""

from magnet.tools.llm.client import Answer, Llm

__all__ = ["Answer", "Llm"]
