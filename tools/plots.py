"""The report's figure: a session's metric against the compute it had spent, as a PNG.

    metric_vs_compute(points, "bits_per_byte", higher_is_better=False, path=out / "compute.png",
                      anchor=("xz -9e", 2.29))

Each point is one experiment: (cumulative training FLOPs when it finished, its val metric, its
group: "rung 0", "rung 1", …, "scale-up"). The line is the best so far; a dashed line marks
the classical baseline. Rendered with matplotlib's Agg backend: no display, nothing fetched.
"""

from __future__ import annotations

from pathlib import Path

Point = tuple[float, float, str]


def metric_vs_compute(
    points: list[Point],
    metric: str,
    higher_is_better: bool,
    path: Path,
    anchor: tuple[str, float] | None = None,
) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    for group in dict.fromkeys(g for _, _, g in points):  # in order of first appearance
        xs = [x for x, _, g in points if g == group]
        ys = [y for _, y, g in points if g == group]
        ax.scatter(xs, ys, label=group, marker="*" if group == "scale-up" else "o", s=60)
    best, line = None, []
    for x, y, _ in points:
        if best is None or (y > best) == higher_is_better:
            best = y
        line.append((x, best))
    if line:
        ax.step(*zip(*line, strict=True), where="post", color="grey", alpha=0.6, label="best")
    if anchor is not None:
        ax.axhline(anchor[1], linestyle="--", color="black", alpha=0.7, label=anchor[0])
    ax.set_xlabel("cumulative training FLOPs")
    ax.set_ylabel(f"val {metric}")
    ax.set_xscale("log")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
