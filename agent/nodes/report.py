"""report: the session as Markdown: goal, the best result against the classical baselines,
default config → best, experiments, failures, best config, and for merged specialists the
per-domain table.

Reads: goal, spec, baselines, experiments, best, noise, stop_reason. Writes: report (the text), also
saved as report.md in the session directory, and the session's summary. Next: the end.
"""

from __future__ import annotations

from magnet.agent.deps import Deps
from magnet.agent.state import Experiment, ResearchState, describe
from magnet.tools.baselines import Baseline, best_of


def report(state: ResearchState, deps: Deps) -> tuple[dict, str]:
    text = _markdown(state)
    path = state.session_dir(deps.home) / "report.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    best = state.best.model_dump(mode="json") if state.best else None
    anchor = _anchor(state)
    summary = {"best": best, "report": str(path), "stop_reason": state.stop_reason}
    if anchor is not None:
        summary["baseline"] = anchor.model_dump()
    deps.traces.update_session(state.session_id, status="done", summary=summary)
    return {"report": text}, f"report: {path}"


def _markdown(state: ResearchState) -> str:
    spec, done, best = state.spec, state.experiments, state.best
    metric = spec.metric
    baseline = next((e for e in done if e.kind == "baseline"), None)
    lines = [f"# MAGNET report: {state.goal}", ""]
    lines += _versus_baselines(state)
    lines += [
        f"- task: {spec.task} on `{spec.dataset}`, metric {metric}",
        f"- stopped: {state.stop_reason or 'not yet'}",
    ]
    precisions = sorted({e.precision for e in done if e.precision})
    if precisions:
        lines.append(f"- precision: {', '.join(precisions)}")
    if baseline and baseline.value is not None and best:
        fixed = state.settings.fixed
        change = {k: v for k, v in best.config.items() if k != "seed" and k not in fixed}
        how = describe(change) if change else "the default config"
        lines.append(
            f"- default config {baseline.value:.4g} → best {best.value:.4g} "
            f"(noise floor {state.noise:.4g}) with {how}"
        )
    lines += [
        "",
        "| # | change | status | " + metric + " | verdict | steps | FLOPs | seconds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for e in done:
        value = "" if e.value is None else f"{e.value:.4g}"
        change = "baseline" if e.kind == "baseline" else describe(e.diff)
        flops = "" if e.flops is None else f"{e.flops:.3g}"
        lines.append(
            f"| {e.number} | {change} | {e.status} | {value} | {e.verdict} | {e.steps or ''} "
            f"| {flops} | {e.seconds:.0f} |"
        )
    failures = [e for e in done if e.verdict == "failed"]
    if failures:
        lines += ["", "## Failures"]
        lines += [
            f"- {describe(e.diff)}: {e.diagnosis.summary if e.diagnosis else e.status}"
            for e in failures
        ]
    if best:
        lines += ["", "## Best", f"- config: {best.config}", f"- checkpoint: `{best.run_dir}`"]
        lines += _domains(next((e for e in done if e.id == best.experiment_id), None))
    return "\n".join(lines) + "\n"


def _anchor(state: ResearchState) -> Baseline | None:
    """The classical baseline the session is measured against: the best in its metric."""
    return best_of([b for b in state.baselines if b.metric == state.spec.metric])


def _versus_baselines(state: ResearchState) -> list[str]:
    """The result first: the best experiment against the strongest classical baseline (val,
    the split both were chosen on), then every baseline with its test score."""
    anchor, best, metric = _anchor(state), state.best, state.spec.metric
    lines = []
    if anchor is not None and best is not None:
        margin = (best.value - anchor.val) * (1 if anchor.higher_is_better else -1)
        verdict = f"beats it by {margin:.4g}" if margin > 0 else f"falls short by {-margin:.4g}"
        lines.append(
            f"- **result**: best {metric} {best.value:.4g} on val against {anchor.name}'s "
            f"{anchor.val:.4g}: {verdict}"
        )
    lines += [f"- classical baseline {b.describe()}" for b in state.baselines]
    return lines


def _domains(experiment: Experiment | None) -> list[str]:
    """Specialists merged with DiLoCo: val bits per byte per domain, and retention."""
    harness = (experiment.harness if experiment else None) or {}
    if not harness.get("table"):
        return []
    from magnet.tools.diloco.report import retention_summary

    return [
        "",
        "## Domains (val bits per byte; merged with DiLoCo)",
        "",
        harness["table"],
        "",
        "retention = (base - merged) / (base - specialist): "
        + retention_summary(harness["retention"]),
    ]
