"""baselines: classical anchors on the session's own splits, computed by the harness.

A compressor's conditional bits per byte for a language model, TF-IDF + logistic regression
for a classifier, the majority class and a logistic regression for direction
(tools/harness/baselines.py). Unless the goal set a target, the session's target is to beat
the best of them on val: for a rate (balanced accuracy) by one standard error on that many val
examples, so a constant predictor's luck is no edge. A session merging several domains has
no single-corpus anchor yet: none.
Reads: spec, card. Writes: baselines, spec (target). Next: plan.
"""

from __future__ import annotations

from magnet.agent.deps import Deps
from magnet.agent.state import ResearchState


def baselines(state: ResearchState, deps: Deps) -> tuple[dict, str]:
    from magnet.tools.harness.baselines import best_of, classical_baselines

    spec = state.spec
    if spec.search_task == "diloco":
        return {}, "classical baselines: none for merged domains"
    try:
        found = classical_baselines(spec.task, spec.dataset, deps.home)
    except ValueError as e:  # e.g. a train split of one class: the search still runs
        return {}, f"classical baselines: none ({e})"
    best = best_of([b for b in found if b.metric == spec.metric])
    update: dict = {"baselines": found}
    parts = [b.describe() for b in found]
    if best is not None and spec.target is None:
        update["spec"] = spec.model_copy(update={"target": _beaten_at(best, state)})
        parts.append(f"target: beat {best.name} on val")
    return update, " · ".join(parts)


def _beaten_at(best, state: ResearchState) -> float:
    if not state.spec.objective.higher_is_better:  # bits, not a rate: no standard error
        return best.val
    from magnet.tools.harness.baselines import standard_error

    n_val = state.card.sizes.get("val", 0) if state.card else 0
    return min(best.val + standard_error(best.val, n_val), 1.0)
