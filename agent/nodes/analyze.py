"""analyze: why an experiment went as it did (tools/harness/failures.py).

Reads: current (its sandbox result and metric stream), spec, noise. Deterministic rules:
crash, timeout, out of memory, divergence, over/underfitting, no change beyond noise.
Writes: current.diagnosis (a config refused before it ran comes diagnosed). Next: remember.
"""

from __future__ import annotations

from magnet.agent.deps import Deps
from magnet.agent.state import ResearchState


def analyze(state: ResearchState, deps: Deps) -> tuple[dict, str]:
    from magnet.tools.harness.failures import analyze as diagnose

    cur, spec = state.current, state.spec
    d = cur.diagnosis or diagnose(
        cur.sandbox, spec.objective, cur.value, cur.best_before, state.noise
    )
    return {"current": cur.model_copy(update={"diagnosis": d})}, f"{cur.label} · {d.summary}"
