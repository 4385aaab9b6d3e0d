"""The figures: a session's metric against the compute it had spent, and one run's curves.

    metric_vs_compute(points, BITS_PER_BYTE, path=out / "compute.png",
                      anchor=("xz -9e", 2.29))
    run_curve(RunDir(path).metrics(), "bits_per_byte", out / "curve.svg")
    metric_vs_budget(runs, "llm", Path("bench/research_scaling.png"))

Each point is one experiment: (cumulative training FLOPs when it finished, its val metric, its
group: "rung 0", "rung 1", …, "scale-up"). The line is the best so far; a dashed line marks
the classical baseline. Rendered with matplotlib's Agg backend: no display, nothing fetched;
the format follows the path's suffix (the report's PNG, the dashboard's SVG).
"""

from __future__ import annotations

import os
from pathlib import Path

from magnet.tools.metrics import Metric

Point = tuple[float, float, str]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def metric_vs_compute(
    points: list[Point],
    metric: Metric,
    path: Path,
    anchor: tuple[str, float] | None = None,
) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    for group in dict.fromkeys(g for _, _, g in points):  # in order of first appearance
        xs = [x for x, _, g in points if g == group]
        ys = [y for _, y, g in points if g == group]
        ax.scatter(xs, ys, label=group, marker="*" if group == "scale-up" else "o", s=60)
    best, line = None, []
    for x, y, _ in points:
        if metric.better(y, best):
            best = y
        line.append((x, best))
    if line:
        ax.step(*zip(*line, strict=True), where="post", color="grey", alpha=0.6, label="best")
    if anchor is not None:
        ax.axhline(anchor[1], linestyle="--", color="black", alpha=0.7, label=anchor[0])
    ax.set_xlabel("cumulative training FLOPs")
    ax.set_ylabel(f"val {metric.name}")
    ax.set_xscale("log")
    return _save(plt, fig, [ax], path)


def metric_vs_budget(runs: list[dict], policy: str, path: Path) -> Path:
    """bench/research.py's runs: per dataset, the policy's test metric (with its interval),
    the default config at the session's FLOPs and the classical baseline, against the budget."""
    plt = _pyplot()
    datasets = list(dict.fromkeys(r["data"] for r in runs))
    fig, axes = plt.subplots(
        1, len(datasets), figsize=(4.2 * len(datasets), 3.6), dpi=110, squeeze=False
    )
    for ax, data in zip(axes[0], datasets, strict=True):
        line = sorted((r for r in runs if r["data"] == data), key=lambda r: r["budget_minutes"])
        done = [(r["budget_minutes"], r["sessions"][policy]) for r in line]
        done = [(m, s) for m, s in done if s.get("test") is not None]
        if done:
            xs, ys = [m for m, _ in done], [s["test"] for _, s in done]
            err = [[y - s["low"] for (_, s), y in zip(done, ys, strict=True)],
                   [s["high"] - y for (_, s), y in zip(done, ys, strict=True)]]  # fmt: skip
            ax.errorbar(xs, ys, yerr=err, marker="o", capsize=3, label=f"session ({policy})")
        budgets = [r["budget_minutes"] for r in line]
        ax.plot(budgets, [r["default_same_flops"]["value"] for r in line], "s--",
                label="default config, same FLOPs")  # fmt: skip
        ax.axhline(line[0]["classical"]["test"], linestyle=":", color="black",
                   label=line[0]["classical"]["name"])  # fmt: skip
        ax.set_xscale("log", base=2)
        ax.set_xticks(budgets, [f"{m:g}" for m in budgets])
        ax.set_xlabel("budget (minutes)")
        ax.set_ylabel(f"test {line[0]['metric']}")
        ax.set_title(data)
    return _save(plt, fig, list(axes[0]), path)


def run_curve(records: list, metric: str, path: Path) -> Path:
    """Training loss over steps and, on a second axis, the validation metric at each eval."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.5), dpi=110)
    train = [(r.step, r.loss) for r in records if r.event == "train" and hasattr(r, "loss")]
    evals = [
        (r.step, getattr(r, metric))
        for r in records
        if r.event == "eval" and getattr(r, "split", "val") == "val" and hasattr(r, metric)
    ]
    if train:
        ax.plot(*zip(*train, strict=True), color="tab:blue", label="train loss")
    ax.set_xlabel("step")
    ax.set_ylabel("train loss")
    if evals:
        twin = ax.twinx()
        twin.plot(*zip(*evals, strict=True), "o-", color="tab:orange", label=f"val {metric}")
        twin.set_ylabel(f"val {metric}")
        twin.legend(fontsize=8, loc="upper center")
    return _save(plt, fig, [ax], path)


def _save(plt, fig, axes: list, path: Path) -> Path:
    for ax in axes:
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.{os.getpid()}.part")  # never a half-drawn file
    fig.savefig(part, format=path.suffix.lstrip("."))
    plt.close(fig)
    os.replace(part, path)
    return path
