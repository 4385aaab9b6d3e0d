"""report: the session as Markdown, the result first: the expert's test metric with its
interval against the classical baselines' (or, without a scale-up, the best val result), the
default config's rung-0 result, the schedule, then every experiment (rung, change, FLOPs,
metric, verdict), failures, the expert's config, and for merged specialists the per-domain
table. A direction model that does not beat the majority class by more than one standard
error is reported as "no edge found".

Reads: goal, spec, baselines, schedule, experiments, best, expert, noise, stop_reason.
Writes: report (the text), also saved as report.md in the session directory with the plot
of the val metric against cumulative training FLOPs beside it (compute.png), and the
session's summary. Next: the end.
"""

from __future__ import annotations

import math

from magnet.agent.deps import Deps
from magnet.agent.llm_calls import FALLBACKS
from magnet.agent.state import Experiment, ResearchState, describe

PLOT = "compute.png"
MAX_EXTRAPOLATION = 100  # times the session's compute: beyond it a log-linear fit says nothing


def report(state: ResearchState, deps: Deps) -> tuple[dict, str]:
    path = state.session_dir(deps.home) / "report.md"
    plotted = _plot(state, path.parent / PLOT)
    text = _markdown(state, _llm(state, deps), plotted)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    best = state.best.model_dump(mode="json") if state.best else None
    anchor = state.anchor()
    summary = {"best": best, "report": str(path), "stop_reason": state.stop_reason}
    if state.expert is not None:
        summary["expert"] = state.expert.model_dump(mode="json")
    if anchor is not None:
        summary["baseline"] = anchor.model_dump()
    deps.traces.update_session(state.session_id, status="done", summary=summary)
    return {"report": text}, f"report: {path}"


def _markdown(state: ResearchState, llm_lines: list[str], plotted: bool = False) -> str:
    spec, done, best = state.spec, state.experiments, state.best
    metric = spec.metric
    baseline = next((e for e in done if e.kind == "baseline" and e.rung == 0), None)
    lines = [f"# MAGNET report: {state.goal}", ""]
    lines += _expert(state) if state.expert else _versus_baselines(state)
    lines += [f"- classical baseline {b.describe()}" for b in state.baselines]
    if baseline and baseline.value is not None:
        lines.append(
            f"- default config, rung 0: val {baseline.value:.4g} {metric} "
            f"(noise floor between seeds {state.noise:.3g})"
        )
    lines += [
        f"- task: {spec.task} on `{spec.dataset}`, metric {metric}",
        f"- stopped: {state.stop_reason or 'not yet'}",
    ]
    if state.schedule:
        lines.append(f"- plan: {state.schedule.describe()}")
    precisions = sorted({e.precision for e in done if e.precision})
    if precisions:
        lines.append(f"- precision: {', '.join(precisions)}")
    lines += [
        "",
        "| # | rung | change | status | val " + metric + " | verdict | steps | FLOPs | seconds |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for e in done:
        value = "" if e.value is None else f"{e.value:.4g}"
        change = "baseline" if e.kind == "baseline" else describe(e.diff)
        rung = "scale-up" if e.kind == "scaleup" else e.rung
        flops = "" if e.flops is None else f"{e.flops:.3g}"
        lines.append(
            f"| {e.number} | {rung} | {change} | {e.status} | {value} | {e.verdict} "
            f"| {e.steps or ''} | {flops} | {e.seconds:.0f} |"
        )
    if plotted:
        lines += ["", f"![val {metric} against cumulative training compute]({PLOT})"]
    failures = [e for e in done if e.verdict == "failed"]
    if failures:
        lines += ["", "## Failures"]
        lines += [
            f"- {describe(e.diff)}: {e.diagnosis.summary if e.diagnosis else e.status}"
            for e in failures
        ]
    if best:
        title = "## Expert" if state.expert else "## Best"
        lines += ["", title, f"- config: {best.config}", f"- checkpoint: `{best.run_dir}`"]
        lines += _domains(next((e for e in done if e.id == best.experiment_id), None))
    return "\n".join([*lines, "", *llm_lines, "", _last_line(state)]) + "\n"


def _last_line(state: ResearchState) -> str:
    """The result in one line, last, where a terminal leaves it: the expert's test metric
    beside the strongest baseline's."""
    anchor, metric, expert = state.anchor(), state.spec.metric, state.expert
    if expert is not None:
        t = expert.test
        line = f"expert: test {metric} {t.value:.4g} [{t.low:.4g}, {t.high:.4g}]"
        if anchor is not None:
            interval = (
                f" [{anchor.test_low:.4g}, {anchor.test_high:.4g}]" if anchor.test_low else ""
            )
            line += f" · {anchor.name}: test {anchor.test:.4g}{interval}"
        return line
    if state.best is None:
        return "no expert: no run finished"
    line = f"best: val {metric} {state.best.value:.4g} (no scale-up, so no test score)"
    return line + (f" · {anchor.name}: val {anchor.val:.4g}" if anchor else "")


def _expert(state: ResearchState) -> list[str]:
    """The scaled-up winner on test, against the strongest baseline's test score."""
    expert, anchor = state.expert, state.anchor()
    exp = next(e for e in state.experiments if e.id == expert.experiment_id)
    compute = f", {exp.steps} steps, {exp.flops:.3g} FLOPs" if exp.flops else ""
    if exp.warm:
        parent = next(e for e in state.experiments if e.id == exp.parent)
        compute += f" from exp {parent.number}'s weights"
    lines = [f"- **expert**: {exp.label}{compute}: {expert.test.describe()}"]
    if anchor is not None:
        margin = state.spec.objective.gain(expert.test.value, anchor.test)
        verdict = _margin(margin)
        lines.append(
            f"- **against {anchor.name}**: test {anchor.test:.4g}: the expert {verdict}"
            + _edge(state, expert.test.value, expert.test.n)
        )
        if margin < 0:
            lines.append(f"- **what would pass it**: {_budget_to_pass(state)}")
    return lines


def _margin(margin: float) -> str:
    if margin == 0:
        return "ties it"
    return f"beats it by {margin:.4g}" if margin > 0 else f"falls short by {-margin:.4g}"


def _edge(state: ResearchState, value: float, n: int) -> str:
    """Direction: balanced accuracy within one standard error of the majority class's 0.5 is
    no edge, however it ranks."""
    from magnet.tools.harness.baselines import standard_error

    if state.spec.task != "direction" or value > 0.5 + standard_error(0.5, n):
        return ""
    return " · **no edge found** (within one standard error of the majority class)"


def _llm(state: ResearchState, deps: Deps) -> list[str]:
    """The last lines: how the LLM did, counted from the trace (so a resume loses nothing)."""
    calls = [e.data for e in deps.traces.events(state.session_id) if e.kind == "llm" and e.data]
    failed = [c for c in calls if not c.get("ok")]
    fell_back = [c for c in failed if c.get("fallback") == FALLBACKS["plan"]]
    off = [f"- the LLM was not used: {state.llm_off}"] if state.llm_off else []
    return [
        *off,
        f"LLM: {len(calls)} call{'' if len(calls) == 1 else 's'}, {len(failed)} failed, "
        f"{len(fell_back)} fell back to the policy",
        *picks(state),
    ]


def picks(state: ResearchState) -> list[str]:
    """Where the LLM's picks placed in rung 0 against the policy's own: each run's place among
    the rung's finished runs, 0 the best and 1 the worst, averaged per picker."""
    runs = state.spec.objective.ranked(
        (e for e in state.experiments if e.rung == 0 and e.ok), key=lambda e: e.value
    )
    places = {
        who: [i / (len(runs) - 1) for i, e in enumerate(runs) if e.picked_by == who]
        for who in ("llm", "policy")
    } if len(runs) > 1 else {}  # fmt: skip
    if not places.get("llm"):
        return []
    said = [f"{who} {len(p)} at {sum(p) / len(p):.2f}" for who, p in places.items() if p]
    return [f"rung 0, where the picks placed (0 best, 1 worst, of {len(runs)}): {', '.join(said)}"]


def _plot(state: ResearchState, path) -> bool:
    """The metric against cumulative compute, beside the report; False when there is nothing
    to plot (no FLOPs counted, e.g. merged specialists) or it cannot be written."""
    from magnet.tools.plots import metric_vs_compute

    points = state.compute_points()
    if not points:
        return False
    anchor = state.anchor()
    try:
        metric_vs_compute(
            points, state.spec.objective, path,
            anchor=(anchor.name, anchor.val) if anchor else None,
        )  # fmt: skip
    except OSError:  # e.g. a full disk: the report itself matters more
        return False
    return True


def _versus_baselines(state: ResearchState) -> list[str]:
    """Without an expert: the best val result against the strongest baseline's val."""
    anchor, best, metric = state.anchor(), state.best, state.spec.metric
    if anchor is None or best is None:
        return []
    margin = state.spec.objective.gain(best.value, anchor.val)
    verdict = _margin(margin)
    return [
        f"- **result**: best {metric} {best.value:.4g} on val against {anchor.name}'s "
        f"{anchor.val:.4g}: {verdict} (no scale-up, so no test score)"
        + _edge(state, best.value, state.card.sizes.get("val", 0) if state.card else 0)
    ] + ([f"- **what would pass it**: {_budget_to_pass(state)}"] if margin < 0 else [])


def _budget_to_pass(state: ResearchState) -> str:
    """Roughly what budget would reach the baseline's val: a line through the session's best
    val so far against log cumulative compute (the plot's points where the best improved),
    followed to the baseline at this session's own seconds per FLOP. Val only: the test split
    stays unseen."""
    objective, anchor = state.spec.objective, state.anchor()
    frontier: list[tuple[float, float]] = []
    for flops, value, _ in state.compute_points():
        if not frontier or objective.better(value, frontier[-1][1]):
            frontier.append((flops, value))
    if anchor is not None and frontier and not objective.better(anchor.val, frontier[-1][1]):
        return (
            f"not more compute: the best val ({frontier[-1][1]:.4g}) already reaches "
            f"{anchor.name}'s ({anchor.val:.4g}), so the test shortfall is the gap between "
            "the splits"
        )
    if len(frontier) < 2 or anchor is None:
        return "too few improving runs to draw the curve through"
    xs = [math.log(f) for f, _ in frontier]
    ys = [objective.gain(v, 0.0) for _, v in frontier]  # higher is better from here on
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / max(
        1e-12, sum((x - mx) ** 2 for x in xs)
    )
    total = state.compute_points()[-1][0]
    if slope <= 0:
        return "the curve does not get there: the best val stopped improving with compute"
    times = math.exp((objective.gain(anchor.val, 0.0) - my) / slope + mx) / total
    if times > MAX_EXTRAPOLATION:
        return f"the curve does not get there within {MAX_EXTRAPOLATION}x this session's compute"
    minutes = max(times, 1.0) * state.elapsed_s / 60
    return (
        f"about {times:.2g}x this session's compute, a budget of roughly {minutes:.0f} minutes "
        "on this machine (a log-linear fit of the best val against compute)"
    )


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
