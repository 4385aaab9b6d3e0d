"""report: the session as Markdown: goal, baseline → best, experiments, failures, best config,
and for merged specialists the per-domain table.

Reads: goal, spec, experiments, best, stop_reason, lessons. Writes: report (the text), also
saved as report.md in the session directory. Next: the end.
"""

from __future__ import annotations


def report(state: dict) -> str:
    spec, done, best = state["spec"], state["experiments"], state.get("best")
    metric = spec["metric"]
    baseline = next((e for e in done if e["diff"].get("seed") == 0), None)
    lines = [
        f"# MAGNET report: {state['goal']}",
        "",
        f"- task: {spec['task']} on `{spec['dataset']}`, metric {metric}",
        f"- stopped: {state.get('stop_reason') or 'not yet'}",
    ]
    if baseline and baseline.get("value") is not None and best:
        change = {k: v for k, v in best["config"].items() if k != "seed"} or "baseline"
        lines.append(
            f"- baseline {baseline['value']:.4g} → best {best['value']:.4g} "
            f"(noise floor {state.get('noise', 0):.4g}) with {change}"
        )
    lines += ["", "| # | change | status | " + metric + " | verdict |", "|---|---|---|---|---|"]
    for i, e in enumerate(done, 1):
        value = "" if e.get("value") is None else f"{e['value']:.4g}"
        lines.append(f"| {i} | {e['diff']} | {e['status']} | {value} | {e['verdict']} |")
    failures = [e for e in done if e["verdict"] == "failed"]
    if failures:
        lines += ["", "## Failures"]
        lines += [
            f"- {e['diff']}: {e.get('diagnosis', {}).get('summary', e['status'])}" for e in failures
        ]
    if best:
        lines += [
            "",
            "## Best",
            f"- config: {best['config']}",
            f"- checkpoint: `{best['run_dir']}`",
        ]
        lines += _domains(next((e for e in done if e["id"] == best["experiment_id"]), {}))
    return "\n".join(lines) + "\n"


def _domains(experiment: dict) -> list[str]:
    """Specialists merged with DiLoCo: val bits per byte per domain, and retention."""
    harness = experiment.get("harness") or {}
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
