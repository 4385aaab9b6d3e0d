"""run: the reviewed proposal as an experiment in the sandbox (sandboxes/experiment.py).

Reads: proposal, best, settings (steps, fixed), spec. A change of `merge` alone in a DiLoCo
session re-merges the best run's specialists (kind remerge); `augment=N` for a classifier
first has the LLM write N training examples for the best run's misclassified val texts.
Writes: current (the experiment: config, outcome, harness metrics). A resumed run continues
from the experiment's checkpoint. Next: evaluate.
"""

from __future__ import annotations

from magnet.agent.deps import Deps
from magnet.agent.state import Experiment, ResearchState

SEARCH_ONLY = ("augment", "merge")  # search keys that are not training settings


def run(state: ResearchState, deps: Deps) -> tuple[dict, str]:
    from magnet.sandboxes.experiment import ExperimentRequest, run_experiment

    spec, proposal, best = state.spec, state.proposal, state.best
    diff, config = state.compose(proposal.config_diff)
    n = len(state.experiments)
    remerge = spec.search_task == "diloco" and set(diff) == {"merge"} and best is not None
    request = ExperimentRequest(
        task=spec.task,
        data=_training_data(state, deps, config),
        steps=state.settings.steps,
        settings={k: v for k, v in config.items() if k not in SEARCH_ONLY},
        domains=spec.domains,
        merge=str(config.get("merge", "diloco")),
        remerge=best.run_dir if remerge else None,
    )
    exp_id = f"{state.session_id}-{n:03d}"
    work = state.session_dir(deps.home) / f"exp-{n:03d}"
    with deps.progress(exp_id, state.settings.steps) as on_metric:
        outcome = run_experiment(request, work, deps.sandbox_limits, on_metric=on_metric)
    exp = Experiment(
        id=exp_id,
        kind="remerge" if remerge else proposal.kind,
        hypothesis=proposal.hypothesis,
        diff=diff,
        config=config,
        status=outcome.sandbox.status,
        value=(outcome.harness or {}).get(spec.metric),
        harness=outcome.harness,
        seconds=outcome.sandbox.wall_s,
        harness_s=outcome.harness_s,
        run_dir=outcome.run_dir,
        precision=outcome.precision,
        sandbox=outcome.sandbox,
    )
    precision = f" · {exp.precision}" if exp.precision else ""
    return {"current": exp}, f"{exp.label} · {exp.status} · {exp.seconds:.0f} s{precision}"


def _training_data(state: ResearchState, deps: Deps, config: dict) -> str:
    """The spec's dataset, or it grown by `augment` failure-driven training examples: made
    once per session and size, from the best run's misclassified validation texts."""
    from magnet.tools.datasets.augment import failure_driven
    from magnet.tools.datasets.generated import is_generated
    from magnet.tools.evaluate import misclassified

    n, spec = int(config.get("augment") or 0), state.spec
    if not n or spec.task != "classify":
        return spec.dataset
    out = state.session_dir(deps.home) / f"data-augment-{n}"
    if not is_generated(out):
        best, weak = state.best, []
        if best:
            weak = misclassified(best.run_dir, _training_data(state, deps, best.config))
        made = failure_driven(deps.llm, spec.dataset, weak, n, out)
        text = (
            f"{made.kept} training examples written for {len(weak)} misclassified val texts "
            f"({made.batches} LLM batches; dropped {made.dropped or 'none'}) → {out.name}"
        )
        deps.traces.event(state.session_id, "run", "data", text, made.model_dump())
    return str(out)
