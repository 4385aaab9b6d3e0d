"""Isolated experiment execution: limits, no network, a typed result protocol."""

from magnet.sandboxes.isolation import LEVELS, Level, best_level, probe
from magnet.sandboxes.limits import Limits
from magnet.sandboxes.runner import SandboxResult, SandboxSpec, run_sandboxed

__all__ = [
    "LEVELS",
    "Level",
    "Limits",
    "SandboxResult",
    "SandboxSpec",
    "best_level",
    "probe",
    "run_sandboxed",
]
