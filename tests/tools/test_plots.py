"""The bench's scaling figure draws from bench/research.py's own run records."""

from magnet.tools.plots import metric_vs_budget


def _run(data: str, minutes: float, test: float | None, metric: str) -> dict:
    session = {} if test is None else {"test": test, "low": test - 0.02, "high": test + 0.02}
    return {
        "data": data, "budget_minutes": minutes, "metric": metric,
        "sessions": {"llm": session},
        "default_same_flops": {"value": 2.5},
        "classical": {"name": "xz -9e", "test": 2.3},
    }  # fmt: skip


def test_one_panel_per_dataset_and_a_failed_session_left_out(tmp_path):
    runs = [
        _run("shakespeare", 8, 2.1, "bits_per_byte"),
        _run("shakespeare", 4, 2.3, "bits_per_byte"),
        _run("sms-spam", 4, None, "balanced_accuracy"),  # ended without an expert
    ]
    path = metric_vs_budget(runs, "llm", tmp_path / "scaling.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert metric_vs_budget(runs[:1], "llm", tmp_path / "one.png").stat().st_size > 0
