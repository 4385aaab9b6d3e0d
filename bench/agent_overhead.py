"""Research-loop overhead: orchestration time per iteration without training or LLM time,
and the time to resume a session in a new runner.

    python bench/agent_overhead.py [--experiments 6]

LLM replies are scripted at the litellm boundary (litellm's own mock_response), so LLM time
is ~0; each experiment is a 1-step run, and its sandbox wall time and the harness's
evaluation of its checkpoint (reported apart: it is measurement, not orchestration) are
subtracted. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

import litellm  # noqa: E402

from magnet.agent.session import SessionRunner  # noqa: E402
from magnet.agent.state import Budget, Settings  # noqa: E402
from magnet.memory.embedding import load_model  # noqa: E402
from magnet.tools.llm import Llm  # noqa: E402

INTAKE = '{"task": "direction", "dataset": "sp500", "metric": "balanced_accuracy"}'
TINY = {"n_layers": 1, "n_heads": 2, "d_model": 256, "ffn_dim": 256, "batch_size": 4}
TINY |= {"eval_batches": 1}


def scripted(replies: list[str]):
    real = litellm.completion

    def completion(**kwargs):
        reply = replies.pop(0) if replies else '{"hypothesis": "x", "config_diff": {}}'
        return real(**kwargs, mock_response=reply)

    litellm.completion = completion


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=6)
    args = parser.parse_args()
    scripted([INTAKE])
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        runner = SessionRunner(home, Llm("openai/scripted"))
        load_model()  # the embedding model loads once per process: not per iteration
        t0 = time.perf_counter()
        settings = Settings(
            approve="auto", steps=1, fixed=TINY, budget=Budget(max_experiments=args.experiments)
        )
        sid, _ = runner.start("predict the S&P 500 direction", settings)
        total = time.perf_counter() - t0
        done = runner.state(sid).experiments
        sandbox = sum(e.seconds for e in done)
        ends = [e.ts for e in runner.traces.events(sid) if e.node == "record"]
        runs = [e.seconds + e.harness_s for e in done]
        per_iter = [b - a - r for a, b, r in zip(ends, ends[1:], runs[1:], strict=False)]
        harness = [e.harness_s for e in done]
        # Resume: a new runner on the finished session's checkpoint, as after a restart.
        t1 = time.perf_counter()
        again = SessionRunner(home, Llm("openai/scripted"))
        again.resume(sid)
        resume_s = time.perf_counter() - t1
    print(
        json.dumps(
            {
                "experiments": len(done),
                "session_s": round(total, 2),
                "sandbox_s": round(sandbox, 2),
                "overhead_per_iteration_s": round(statistics.median(per_iter), 3),
                "overhead_per_iteration_max_s": round(max(per_iter), 3),
                "harness_eval_s": round(statistics.median(harness), 3),
                "resume_s": round(resume_s, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
