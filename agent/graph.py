"""The research loop as a LangGraph StateGraph over ResearchState; compiled by the caller.

    intake → (review_data →) data → baselines → decide → plan → review ⟲ → run
                                                 ↑ │ ↑ └→ report  │         │ (a worker is free:
                                                 │ │ └────────────┘         │  decide again)
                                                 │ │ (nothing to propose;   ↓
                                                 │ │  reject, respond)    collect → evaluate
                                                 │ └─ (wait) ───────────→    ↑         ↓
                                                 │                                  analyze
                                                 │    (a rejected idea: review → remember) ↓
                                                 └──────────────── record ←──────── remember

run starts the approved experiment on a worker and returns: with a worker still free,
decide chooses the next one at once (settings.workers runs in flight at most); collect waits
for the first of them to finish and hands it to evaluate. With one worker every run is
collected as soon as it starts, as before pools existed.

Each node is agent/nodes/<node>.py: `node(state, deps) -> (update, text)`; the wrapper here
writes the text as the node's line in the session's trace. Side effects happen in data, run,
collect, remember and record only, and each is safe to repeat after a resume (an experiment
resumes from its checkpoint; memory, the outbox and the policy are keyed by experiment id).
"""

from __future__ import annotations

import time

from langgraph.graph import END, START, StateGraph

from magnet.agent.deps import Deps
from magnet.agent.goal import GENERATE
from magnet.agent.llm_calls import trace_call
from magnet.agent.nodes.analyze import analyze
from magnet.agent.nodes.baselines import baselines
from magnet.agent.nodes.collect import collect
from magnet.agent.nodes.data import data
from magnet.agent.nodes.decide import decide
from magnet.agent.nodes.evaluate import evaluate
from magnet.agent.nodes.intake import intake
from magnet.agent.nodes.plan import plan
from magnet.agent.nodes.record import record
from magnet.agent.nodes.remember import remember
from magnet.agent.nodes.report import report
from magnet.agent.nodes.review import review
from magnet.agent.nodes.review_data import review_data
from magnet.agent.nodes.run import run
from magnet.agent.state import ResearchState

NODES = [
    intake, review_data, data, baselines, plan, review, run, collect, evaluate, analyze, remember,
    record, decide, report,
]  # fmt: skip


def build_graph(deps: Deps) -> StateGraph:
    g = StateGraph(ResearchState)
    for node in NODES:
        g.add_node(node.__name__, _traced(node, deps))
    g.add_edge(START, "intake")
    g.add_conditional_edges("intake", _needs_data_review, ["review_data", "data"])
    g.add_edge("review_data", "data")
    g.add_edge("data", "baselines")
    g.add_edge("baselines", "decide")
    g.add_conditional_edges("plan", _planned, ["review", "decide"])
    g.add_conditional_edges("review", _reviewed, ["run", "remember", "decide"])
    g.add_conditional_edges("run", _started, ["decide", "collect"])
    g.add_edge("collect", "evaluate")
    g.add_edge("evaluate", "analyze")
    g.add_edge("analyze", "remember")
    g.add_conditional_edges("remember", _ran, ["record", "decide"])
    g.add_edge("record", "decide")
    g.add_conditional_edges("decide", _decided, ["plan", "collect", "report"])
    g.add_edge("report", END)
    return g


def _needs_data_review(state: ResearchState) -> str:
    return "review_data" if state.spec.dataset == GENERATE else "data"


def _decided(state: ResearchState) -> str:
    """The report when stopping; collect when the next move waits on a run in flight."""
    if state.stop_reason:
        return "report"
    return "collect" if state.move is not None and state.move.kind == "wait" else "plan"


def _started(state: ResearchState) -> str:
    """decide again while a worker is free; else collect waits for a run to finish."""
    return "decide" if len(state.running) < state.settings.workers else "collect"


def _planned(state: ResearchState) -> str:
    """A proposal to review; with none (rung 0 closed), decide chooses again."""
    return "review" if state.proposal is not None else "decide"


def _reviewed(state: ResearchState) -> str:
    """run what was approved; a rejected idea goes to memory first; the rest to decide."""
    if state.review.action in ("accept", "edit"):
        return "run"
    idea = state.review.action == "reject" and state.proposal.parent is None
    return "remember" if idea else "decide"


def _ran(state: ResearchState) -> str:
    return "record" if state.current is not None else "decide"


def _traced(node, deps: Deps):
    """The node, with its one-line text (and its update, for `--json`) written to the trace."""
    from pydantic_core import to_jsonable_python

    name = node.__name__

    def traced(state: ResearchState) -> dict:
        deps.llm.disabled = state.llm_off  # the preflight's verdict, across a resume too
        deps.llm.drain()
        start = time.perf_counter()
        update, text = node(state, deps)
        # the session's working seconds: a review's wait for a person is not in them
        update = {**update, "elapsed_s": state.elapsed_s + time.perf_counter() - start}
        for call in deps.llm.drain():
            trace_call(deps.traces, state.session_id, name, call)
        if text is not None:  # the review nodes re-run on resume: they write nothing
            shown = {k: v for k, v in update.items() if k not in ("experiments", "report")}
            data = to_jsonable_python(shown, exclude_none=True, fallback=str)
            sandbox = (data.get("current") or {}).get("sandbox") or {}
            sandbox.pop("metrics", None)  # metrics.jsonl has them
            deps.traces.event(state.session_id, name, "done", text, data)
        return update

    traced.__name__ = name
    return traced
