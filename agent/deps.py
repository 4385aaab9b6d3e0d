"""What the nodes use besides the state: stores, the LLM, the sandbox's limits, the ledger.

The same graph runs with a scripted LLM in tests; `progress` and `chain` are how the CLI
shows a training run and where contributions are sent. `progress` may be entered by several
runs at once (one per worker).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from magnet.agent.state import ResearchState
from magnet.agent.traces import TraceStore
from magnet.tools.llm import Llm


@dataclass
class Deps:
    home: Path
    llm: Llm
    traces: TraceStore
    sandbox_limits: Any = None  # a sandboxes.limits.Limits; None: its defaults
    memory_path: Path | None = None
    # (experiment id, steps; None for a timed run) → a context receiving each metrics record.
    progress: Callable[[str, int | None], AbstractContextManager] = lambda exp_id, steps: (
        nullcontext()
    )
    chain: Any = None  # a tools.chain.ledger.Ledger: record sends the outbox there; None: kept
    _policies: dict = field(default_factory=dict, repr=False)
    _workers: dict = field(default_factory=dict, repr=False)

    @cached_property
    def memory(self):
        from magnet.memory.store import FindingsStore

        return FindingsStore(self.memory_path or self.home / "memory")

    @cached_property
    def outbox(self):
        from magnet.tools.chain.outbox import Outbox

        return Outbox(self.traces.path)

    def policy(self, state: ResearchState):
        """The session's Optuna study, opened once per process (opening costs ~0.1 s)."""
        from magnet.tools.search.policy import SearchPolicy

        sid = state.session_id
        if sid not in self._policies:
            self._policies[sid] = SearchPolicy(
                state.session_dir(self.home) / "study.db",
                sid,
                state.spec.objective,
                state.spec.search_task,
                sampler="random" if state.settings.policy == "random" else "tpe",
                rules=state.settings.policy == "llm",
            )
        return self._policies[sid]

    def workers(self, state: ResearchState):
        """The session's pool of workers (tools/workers.py), made once per process: its runs
        in flight live here, their launches in the state."""
        from magnet.tools.workers import Workers

        sid = state.session_id
        if sid not in self._workers:
            self._workers[sid] = Workers(state.settings.workers)
        return self._workers[sid]
