"""Shared fixtures: an isolated MAGNET_HOME per test and a tiny model for fast training."""

import pytest

# A model small enough that a 20-step run takes a few seconds on 2 cores.
TINY = [
    "n_layers=1",
    "n_heads=2",
    "d_model=256",
    "ffn_dim=256",
    "seq_len=32",
    "batch_size=4",
    "eval_batches=2",
    "warmup_steps=2",
    "log_every=1",
]


@pytest.fixture(autouse=True)
def magnet_home(tmp_path, monkeypatch):
    home = tmp_path / "magnet-home"
    monkeypatch.setenv("MAGNET_HOME", str(home))
    return home
