"""record: the experiment (and the model, when it is the new best) into the ledger's outbox,
sent when a chain is configured; the search policy learns each rung-0 result.

Reads: current, best, spec. The outbox and the policy are keyed by experiment id, so a
resumed node records nothing twice; a chain that is down only delays the records.
Writes: experiments (current appended, without its metric stream), current (cleared).
Next: decide.
"""

from __future__ import annotations

from pathlib import Path

from magnet.agent.deps import Deps
from magnet.agent.state import ResearchState


def record(state: ResearchState, deps: Deps) -> tuple[dict, str]:
    from magnet.tools.chain.outbox import content_hash

    cur, sid = state.current, state.session_id
    payload = {
        "config": cur.config,
        "metrics": cur.harness,
        "verdict": cur.verdict,
        "metric": cur.value,  # the primary metric, which goes on-chain
    }
    deps.outbox.add(sid, cur.id, "experiment", content_hash("experiment", payload), payload)
    queued = ["experiment"]
    model = _model_file(cur.run_dir)
    if state.best is not None and state.best.experiment_id == cur.id and model:
        kind = "merge" if state.spec.search_task == "diloco" else "model"
        payload = {"path": str(model), "metric": cur.value}
        deps.outbox.add(sid, cur.id, kind, content_hash(kind, payload), payload)
        queued.append(kind)
    if deps.chain is not None:
        report = deps.chain.send(deps.outbox, sid)
        text = f"on-chain: sent {report.sent}, queued {report.pending}"
        deps.traces.event(
            sid, "record", "chain", text + (f" ({report.error})" if report.error else "")
        )
    if cur.rung == 0:  # TPE compares runs of one fidelity
        deps.policy(state).record(cur.id, cur.config, cur.value)
    if cur.sandbox is not None:  # the metric stream is in the run directory already
        cur = cur.model_copy(update={"sandbox": cur.sandbox.model_copy(update={"metrics": []})})
    update = {"experiments": [*state.experiments, cur], "current": None}
    return update, f"{cur.label} · queued for the ledger: {', '.join(queued)}"


def _model_file(run_dir: Path) -> Path | None:
    """The checkpoint a run left: a trained model's, or a DiLoCo run's merged model."""
    from magnet.tools.bitnet.run_dir import RunDir

    for path in (RunDir(run_dir).checkpoint, RunDir(run_dir / "merged").checkpoint):
        if path.exists():
            return path
    return None
