"""The dashboard's figures as SVG text: the session's metric against compute, a run's curve.

Drawn by tools/plots.py (matplotlib, Agg) into the session folder, so a figure is redrawn
only when what it shows has changed.
"""

from __future__ import annotations

from pathlib import Path

from magnet.agent.ui.views import Board
from magnet.tools.errors import SessionNotFound


def compute(board: Board, sid: str) -> str:
    from magnet.tools.plots import metric_vs_compute

    state = board.state(sid)
    points = state.compute_points() if state else []
    if not points:
        raise SessionNotFound(f"session '{sid}' has no finished experiment to plot yet")
    anchor = state.anchor()
    path = _figure(board, sid, f"compute-{len(points)}.svg")
    if not path.exists():
        metric_vs_compute(
            points, state.spec.objective, path,
            anchor=(anchor.name, anchor.val) if anchor else None,
        )  # fmt: skip
    return path.read_text()


def curve(board: Board, sid: str, number: int) -> str:
    """The training loss and the validation metric of experiment `number` over its steps."""
    from magnet.tools.bitnet.run_dir import RunDir
    from magnet.tools.plots import run_curve

    state = board.state(sid)
    found = [e for e in (state.experiments if state else []) if e.number == number]
    if not found:
        raise SessionNotFound(f"session '{sid}' has no experiment {number}")
    run = RunDir(found[0].run_dir)
    if not run.path.exists():
        raise SessionNotFound(f"experiment {number}'s run directory {run.path} is gone")
    records = run.metrics()
    path = _figure(board, sid, f"curve-{number}-{len(records)}.svg")
    if not path.exists():
        run_curve(records, state.spec.metric, path)
    return path.read_text()


def _figure(board: Board, sid: str, name: str) -> Path:
    return board.home / "sessions" / sid / "figures" / name
