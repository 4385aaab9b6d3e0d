"""Every LLM call of a session, as one trace line each: what failed and what replaced it.

The graph's node wrapper drains the Llm's calls after each node and writes them here; the
report counts them from the trace, so a resumed session loses none.
"""

from __future__ import annotations

from magnet.agent.traces import TraceStore
from magnet.tools.llm.client import Call

# What a node uses when its LLM call gives no answer.
FALLBACKS = {
    "intake": "the keyword rules",
    "plan": "the search policy's candidate",
    "run": "fewer written examples",
    "data": "fewer generated examples",
}


def trace_call(traces: TraceStore, sid: str, node: str, call: Call) -> None:
    """One trace line per LLM call; a failed one says what was used instead."""
    instead = FALLBACKS.get(node, "no answer")
    text = f"LLM {call.name}: answered" if call.ok else (
        f"LLM {call.name} failed ({call.error[:300]}); used {instead} instead"
    )  # fmt: skip
    data = {"name": call.name, "ok": call.ok, "fallback": None if call.ok else instead}
    traces.event(sid, node, "llm", text, data)
