"""The research loop as a LangGraph StateGraph; built here, compiled by the caller.

    intake → data → plan → review ⟲ → run → evaluate → analyze → remember → record → decide
                     ↑                                                              │
                     └──────────────────────── continue ────────────────────────────┘→ report

Nodes are thin: each calls a tool or a function in agent/nodes/ and returns its part of the
state; every node also writes an event to the session's trace store. Side effects happen in
run/remember/record only, and each is safe to repeat after a resume (the experiment resumes
from its checkpoint; memory and the outbox are keyed by experiment id).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph

from magnet.agent.nodes.decide import stop_reason
from magnet.agent.nodes.intake import GENERATE, intake
from magnet.agent.nodes.plan import BASELINE_SEEDS, plan
from magnet.agent.nodes.report import report
from magnet.agent.nodes.review import review
from magnet.agent.state import Budget, ResearchSpec
from magnet.agent.traces import TraceStore
from magnet.tools.evaluate import noise_floor, verdict
from magnet.tools.llm import Llm

DILOCO_ROUNDS = 2  # outer steps per merged-specialists experiment
GENERATE_N = 200  # examples the LLM writes when no dataset fits (the review may change it)


class ResearchState(TypedDict, total=False):
    session_id: str
    goal: str
    data: str | None
    approve: str
    budget: dict
    base_overrides: list[str]
    steps: int
    spec: dict
    card: dict
    higher_is_better: bool
    tokens: int
    experiments: list[dict]
    best: dict | None
    noise: float
    feedback: list[str]
    proposal: dict | None
    review: dict | None
    remaining_seconds: float
    current: dict | None
    stop_reason: str | None
    report: str | None


@dataclass
class Deps:
    """What the nodes use; the same graph runs with a scripted LLM in tests."""

    home: Path
    llm: Llm
    traces: TraceStore
    sandbox_limits: Any = None
    memory_path: Path | None = None
    # (experiment id, steps) → a context whose value receives each metrics record, or None.
    progress: Callable[[str, int], AbstractContextManager] = lambda exp_id, steps: nullcontext()
    chain: Any = None  # a tools.chain.ledger.Ledger: record sends the outbox there; None: kept
    _policies: dict = field(default_factory=dict, repr=False)

    @cached_property
    def memory(self):
        from magnet.memory.store import FindingsStore

        return FindingsStore(self.memory_path or self.home / "memory")

    def policy(self, state: dict):
        """The session's Optuna study, opened once per process (opening costs ~0.1 s)."""
        from magnet.tools.search.policy import SearchPolicy

        sid = state["session_id"]
        if sid not in self._policies:
            self._policies[sid] = SearchPolicy(
                self.home / "sessions" / sid / "study.db",
                sid,
                state["higher_is_better"],
                ResearchSpec(**state["spec"]).search_task,
            )
        return self._policies[sid]


def build_graph(deps: Deps) -> StateGraph:
    g = StateGraph(ResearchState)
    for name, fn in NODES.items():
        g.add_node(name, _traced(name, fn, deps))
    g.add_edge(START, "intake")
    for a, b in [
        ("intake", "data"),
        ("data", "plan"),
        ("plan", "review"),
        ("run", "evaluate"),
        ("evaluate", "analyze"),
        ("analyze", "remember"),
        ("remember", "record"),
        ("record", "decide"),
        ("report", END),
    ]:
        g.add_edge(a, b)
    g.add_conditional_edges(
        "review",
        lambda s: "run" if s["review"]["action"] in ("accept", "edit") else "plan",
        ["run", "plan"],
    )
    g.add_conditional_edges(
        "decide", lambda s: "report" if s.get("stop_reason") else "plan", ["report", "plan"]
    )
    return g


def _traced(name, fn, deps: Deps):
    def node(state: ResearchState) -> dict:
        update = fn(state, deps)
        if name != "review":  # review re-runs on resume: it writes nothing, not even a trace
            shown = {k: v for k, v in update.items() if k not in ("experiments", "report")}
            deps.traces.event(state["session_id"], name, "done", shown)
        return update

    return node


def _intake(state, deps):
    spec, notes, tokens = intake(state["goal"], deps.llm, state.get("data"))
    return {
        "spec": spec.model_dump(),
        "higher_is_better": spec.metric != "bits_per_byte",
        "tokens": state.get("tokens", 0) + tokens,
        "experiments": [],
        "feedback": notes,
        "budget": state.get("budget") or Budget().model_dump(),
    }


def _data(state, deps):
    from magnet.tools.datasets import data_ref, load_dataset

    spec = state["spec"]
    if spec["dataset"] == GENERATE:
        spec = {**spec, "dataset": _generated_data(state, deps)}
    card = load_dataset(spec["dataset"], spec["task"]).card
    # The card's sha256 is the dataset record's content hash (tools/chain/outbox.py).
    payload = {"dataset": data_ref(spec["dataset"]), "task": spec["task"], "name": card.name}
    sid = state["session_id"]
    deps.traces.outbox_add(sid, f"{sid}-data", "dataset", card.sha256, payload)
    return {"spec": spec, "card": card.model_dump()}


def _generated_data(state, deps) -> str:
    """No dataset fits the goal: after review, the LLM writes one (tools/datasets/generate.py)
    into the session. Nothing happens before the review answers: this node re-runs on resume."""
    from magnet.agent.nodes.review import review_data
    from magnet.tools.datasets.generate import GenerateRequest, generate
    from magnet.tools.datasets.generated import is_generated, save_generated
    from magnet.tools.errors import UnsupportedGoal

    spec, sid = state["spec"], state["session_id"]
    out = deps.home / "sessions" / sid / "data-generated"
    if is_generated(out):
        return str(out)
    describe = spec["domain"] or state["goal"]
    reply = review_data(state, GENERATE_N, spec["labels"], describe)
    if reply["action"] not in ("accept", "edit"):
        raise UnsupportedGoal("no dataset fits the goal and generating one was declined: --data")
    try:  # a reviewer's edit: any number, kept sensible
        n = min(max(int((reply.get("set") or {}).get("generate", GENERATE_N)), 10), 100_000)
    except (TypeError, ValueError):
        n = GENERATE_N
    request = GenerateRequest(task="classify", labels=spec["labels"], describe=describe, n=n)
    examples, made = generate(deps.llm, request)
    save_generated(out, "classify", examples, made)  # a dataset too small fails on load
    text = f"generated {made.kept} of {n} examples ({made.batches} LLM batches, dropped "
    text += f"{made.dropped or 'none'})"
    deps.traces.event(sid, "data", "generated", {"text": text, "generation": made.model_dump()})
    return str(out)


def _plan(state, deps):
    if (state.get("review") or {}).get("action") == "reject":
        _remember_rejection(state, deps)
    done, best = state["experiments"], state.get("best")
    spec = ResearchSpec(**state["spec"])
    last_kind = (done[-1].get("diagnosis") or {}).get("kind") if done else None
    base = best["config"] if best else {}
    candidates = (
        deps.policy(state).candidates(base, last_kind) if len(done) >= BASELINE_SEEDS else []
    )
    remaining = state["budget"]["wall_minutes"] * 60 - sum(e["seconds"] for e in done)
    recent = [f"[{e['verdict']}] {e['diff']}" for e in done[-5:]] + state.get("feedback", [])
    proposal, notes, tokens = plan(
        state["goal"],
        spec,
        len(done),
        best,
        recent,
        deps.memory.lessons(state["goal"]),
        candidates,
        deps.memory.already_tried,  # this session's runs too: remember precedes record
        deps.llm,
        remaining,
    )
    for note in notes:
        deps.traces.event(state["session_id"], "plan", "note", {"text": note})
    return {
        "proposal": proposal.model_dump(),
        "tokens": state.get("tokens", 0) + tokens,
        "remaining_seconds": remaining,
        "feedback": [],
    }


def _remember_rejection(state, deps):
    """A rejected config is a finding too: it is never proposed again, and lessons show why."""
    from magnet.memory.findings import Finding, config_hash

    spec, proposal = state["spec"], state["proposal"]
    config = {**(state.get("best") or {}).get("config", {}), **proposal["config_diff"]}
    finding = Finding(
        id=f"{state['session_id']}-{len(state['experiments']):03d}-rejected-"
        + config_hash(config)[:8],
        session_id=state["session_id"],
        goal=state["goal"],
        dataset=spec["dataset"],
        task=spec["task"],
        hypothesis=proposal["hypothesis"],
        config=config,
        primary_metric=spec["metric"],
        verdict="rejected",
        analysis=f"rejected by the reviewer: {state['review'].get('text') or 'no reason given'}",
    )
    if not deps.memory.has(finding.id):  # plan re-runs after a resume
        deps.memory.add(finding)


def _review(state, deps):
    update = review(state)
    reply = update["review"]
    if reply["action"] == "edit":
        from magnet.tools.search.space import clip

        diff = {
            **state["proposal"]["config_diff"],
            **clip(reply.get("set", {}), ResearchSpec(**state["spec"]).search_task)[0],
        }
        update["proposal"] = {**state["proposal"], "config_diff": diff}
    elif reply["action"] in ("reject", "respond"):
        update["feedback"] = [f"reviewer {reply['action']}: {reply.get('text', '')}"]
    return update


def _run(state, deps):
    from magnet.sandboxes.experiment import run_training
    from magnet.tools.bitnet.train import TrainRequest

    n = len(state["experiments"])
    # The user's --set values are fixed: never searched, and applied last so they win.
    fixed = {o.partition("=")[0].strip().replace("-", "_") for o in state["base_overrides"]}
    diff = {k: v for k, v in state["proposal"]["config_diff"].items() if k not in fixed}
    config = {**(state.get("best") or {}).get("config", {}), **diff}
    overrides = [f"{k}={v}" for k, v in config.items() if k != "augment"]
    overrides += state["base_overrides"]
    spec = state["spec"]
    work = deps.home / "sessions" / state["session_id"] / f"exp-{n:03d}"
    exp_id = f"{state['session_id']}-{n:03d}"
    with deps.progress(exp_id, state["steps"]) as on_metric:
        if ResearchSpec(**spec).search_task == "diloco":
            outcome = _run_diloco(state, diff, config, work, deps, on_metric)
        else:
            data = _training_data(state, deps, config)
            request = TrainRequest(
                task=spec["task"], data=data, steps=state["steps"], overrides=overrides
            )
            outcome = run_training(request, work, deps.sandbox_limits, on_metric=on_metric)
    value = (outcome.harness or {}).get(spec["metric"])
    return {
        "current": {
            "id": exp_id,
            "diff": diff,
            "config": config,
            "hypothesis": state["proposal"]["hypothesis"],
            "status": outcome.sandbox.status,
            "value": value,
            "harness": outcome.harness,
            "seconds": outcome.sandbox.wall_s,
            "harness_s": outcome.harness_s,
            "run_dir": str(outcome.run_dir),
            "sandbox": outcome.sandbox.model_dump(mode="json", exclude={"metrics"}),
            "metrics": outcome.sandbox.metrics,
        }
    }


def _training_data(state, deps, config: dict) -> str:
    """The spec's dataset, or it grown by `augment` failure-driven training examples: made
    once per session and size, from the best run's misclassified validation texts."""
    from magnet.tools.datasets.augment import failure_driven
    from magnet.tools.datasets.generated import is_generated
    from magnet.tools.evaluate import misclassified

    n, spec, sid = int(config.get("augment") or 0), state["spec"], state["session_id"]
    if not n or spec["task"] != "classify":
        return spec["dataset"]
    out = deps.home / "sessions" / sid / f"data-augment-{n}"
    if not is_generated(out):
        best = state.get("best")
        weak = []
        if best:
            weak = misclassified(Path(best["run_dir"]), _training_data(state, deps, best["config"]))
        made = failure_driven(deps.llm, spec["dataset"], weak, n, out)
        text = (
            f"{made.kept} training examples written for {len(weak)} misclassified val texts "
            f"({made.batches} LLM batches; dropped {made.dropped or 'none'}) → {out.name}"
        )
        deps.traces.event(sid, "run", "data", {"text": text, "generation": made.model_dump()})
    return str(out)


def _run_diloco(state, diff, config, work, deps, on_metric):
    """Specialists per domain merged with DiLoCo (`steps` split into DILOCO_ROUNDS rounds),
    then merged by `merge` when that is not the outer step. A change of `merge` alone
    re-merges the best experiment's specialists: no training."""
    from magnet.sandboxes.experiment import run_diloco_experiment, run_merge_experiment
    from magnet.tools.diloco.spec import DilocoSpec

    domains, best = state["spec"]["domains"], state.get("best")
    method = config.get("merge", "diloco")
    if set(diff) == {"merge"} and best:
        return run_merge_experiment(
            Path(best["run_dir"]), domains, method, work, deps.sandbox_limits
        )
    steps = state["steps"]
    rounds = min(DILOCO_ROUNDS, steps)
    overrides = [f"{k}={v}" for k, v in config.items() if k != "merge"] + state["base_overrides"]
    spec = DilocoSpec(
        domains=domains, inner_steps=steps // rounds, rounds=rounds, overrides=overrides, out=work
    )
    trained = run_diloco_experiment(spec, work, deps.sandbox_limits, on_metric=on_metric)
    if method == "diloco" or trained.sandbox.status != "ok":
        return trained
    merged = run_merge_experiment(
        trained.run_dir, domains, method, work / "remerge", deps.sandbox_limits
    )
    merged.sandbox.wall_s += trained.sandbox.wall_s  # the budget counts the training too
    merged.sandbox.metrics = trained.sandbox.metrics
    return merged


def _evaluate(state, deps):
    cur, best = dict(state["current"]), state.get("best")
    hib = state["higher_is_better"]
    baselines = [
        e["value"]
        for e in state["experiments"] + [cur]
        if "seed" in e["diff"] and e["value"] is not None
    ]
    noise = noise_floor(baselines)  # first, so that a baseline seed is judged as noise
    cur["best_before"] = best and best["value"]  # analyze compares with this, not the new best
    cur["verdict"] = verdict(cur["value"], cur["status"], best and best["value"], noise, hib)
    update: dict = {"current": cur, "noise": noise}
    if cur["value"] is not None and (best is None or (cur["value"] > best["value"]) == hib):
        update["best"] = {
            "config": cur["config"],
            "value": cur["value"],
            "run_dir": cur["run_dir"],
            "experiment_id": cur["id"],
        }
    return update


def _analyze(state, deps):
    from magnet.sandboxes.runner import SandboxResult
    from magnet.tools.failures import analyze

    cur = dict(state["current"])
    result = SandboxResult(**{**cur["sandbox"], "metrics": cur["metrics"]})
    d = analyze(
        result,
        state["spec"]["metric"],
        state["higher_is_better"],
        cur["value"],
        cur["best_before"],
        state.get("noise", 0.0),
    )
    cur["diagnosis"] = d.model_dump()
    return {"current": cur}


def _remember(state, deps):
    from magnet.memory.findings import Finding

    cur, spec = state["current"], state["spec"]
    finding = Finding(
        id=cur["id"],
        session_id=state["session_id"],
        goal=state["goal"],
        dataset=spec["dataset"],
        task=spec["task"],
        hypothesis=cur["hypothesis"],
        config=cur["config"],
        metrics=cur["harness"] or {},
        primary_metric=spec["metric"],
        primary_value=cur["value"],
        verdict=cur["verdict"],
        analysis=cur["diagnosis"]["summary"],
    )
    if not deps.memory.has(finding.id):  # a resumed node must not add it twice
        deps.memory.add(finding)
    return {}


def _record(state, deps):
    """Queue the experiment (and the model, when it is the new best) for the ledger; send
    the outbox when a chain is configured. A chain that is down only delays the records."""
    from magnet.tools.chain.outbox import content_hash

    cur, sid = state["current"], state["session_id"]
    payload = {
        "config": cur["config"],
        "metrics": cur["harness"],
        "verdict": cur["verdict"],
        "metric": cur["value"],  # the primary metric, which goes on-chain
    }
    deps.traces.outbox_add(
        sid, cur["id"], "experiment", content_hash("experiment", payload), payload
    )
    model = _model_file(Path(cur["run_dir"]))
    if (state.get("best") or {}).get("experiment_id") == cur["id"] and model:
        kind = "merge" if ResearchSpec(**state["spec"]).search_task == "diloco" else "model"
        payload = {"path": str(model), "metric": cur["value"]}
        deps.traces.outbox_add(sid, cur["id"], kind, content_hash(kind, payload), payload)
    if deps.chain is not None:
        report = deps.chain.send(deps.traces, sid)
        text = f"on-chain: sent {report.sent}, queued {report.pending}"
        deps.traces.event(
            sid, "record", "chain", {"text": text + (f" ({report.error})" if report.error else "")}
        )
    done = state["experiments"] + [{k: v for k, v in cur.items() if k not in ("metrics",)}]
    if cur["verdict"] != "failed" and "seed" not in cur["diff"]:
        deps.policy(state).record(cur["diff"], cur["value"])
    return {"experiments": done, "current": None}


def _model_file(run_dir: Path) -> Path | None:
    """The checkpoint a run left: a trained model's, or a DiLoCo run's merged model."""
    from magnet.tools.bitnet.checkpoint import FILENAME

    for path in (run_dir / FILENAME, run_dir / "merged" / FILENAME):
        if path.exists():
            return path
    return None


def _decide(state, deps):
    return {"stop_reason": stop_reason(state)}


def _report(state, deps):
    text = report(state)
    path = deps.home / "sessions" / state["session_id"] / "report.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    deps.traces.update_session(
        state["session_id"],
        status="done",
        summary={
            "best": state.get("best"),
            "report": str(path),
            "stop_reason": state.get("stop_reason"),
        },
    )
    return {"report": text}


NODES = {
    "intake": _intake,
    "data": _data,
    "plan": _plan,
    "review": _review,
    "run": _run,
    "evaluate": _evaluate,
    "analyze": _analyze,
    "remember": _remember,
    "record": _record,
    "decide": _decide,
    "report": _report,
}
