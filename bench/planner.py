"""Does the embedded LLM give usable answers, and how fast? Intake on fixed goals, plan on
states taken from real sessions, for each model named.

    python bench/planner.py [--models local/smollm2-135m-instruct,local/PATH.gguf]
    python bench/planner.py record [--data sms-spam,...] [--budget-minutes 3]

bench   For each model: every goal of bench/planner_goals.jsonl (written for this bench: the
        three task kinds, with and without a dataset or a path named, odd phrasings, other
        languages) through the intake (agent/goal.read_goal) in a folder holding the paths
        the goals name, and every state of bench/planner_states.jsonl through the plan's
        prompt and schema (agent/proposal). Prints one JSON object per model: the intake's
        valid-answer rate, the LLM's own task and dataset right (before the keyword rules),
        the intake's result right (after them), how often the keyword rules replaced it;
        the plan's valid-answer rate, keys per diff, answers with 1-3 keys, candidates in
        range, hypotheses that are words (plan keeps those) and that only echo the prompt;
        seconds per call (median and max, the model loaded beforehand).
record  Runs a real session per dataset (--approve auto, the chain off, one worker) and
        appends every plan state the LLM was asked about (the plan's context and the
        policy's candidates, as agent/proposal.choose received them) to
        bench/planner_states.jsonl. (Each session has a fresh memory, so the states in the
        repo hold no lessons: plan shows lessons from other sessions only.)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
GOALS = HERE / "planner_goals.jsonl"
STATES = HERE / "planner_states.jsonl"
DEFAULT_MODELS = "local/smollm2-135m-instruct"
PLAN_RATES = ("valid", "first_try", "one_to_three", "no_change", "in_range", "echo", "worded")


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class Timed:
    """An Llm that keeps each answer and its seconds: what the bench scores."""

    def __init__(self, llm) -> None:
        self.llm, self.answers = llm, []

    def __getattr__(self, name):
        return getattr(self.llm, name)

    def ask(self, *args, **kwargs):
        start = time.perf_counter()
        answer = self.llm.ask(*args, **kwargs)
        self.answers.append((answer, time.perf_counter() - start))
        return answer


def _given_paths(goals: list[dict], root: Path) -> None:
    """The files and folders the goals name, made in `root` (only their existence is read)."""
    from magnet.agent.goal import GENERATE
    from magnet.tools.datasets.builtin import BUILTINS

    for g in goals:
        name = g["dataset"]
        if name in BUILTINS or name == GENERATE:
            continue
        path = root / name
        if name.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.write_text("")


def intake(llm: Timed, goals: list[dict]) -> dict:
    from magnet.agent.goal import read_goal
    from magnet.tools.errors import UnsupportedGoal

    rows = []
    for g in goals:
        llm.answers.clear()
        try:
            spec = read_goal(g["goal"], llm)[0]
        except UnsupportedGoal:
            spec = None
        answer, seconds = llm.answers[0]
        own = answer.value
        domains = sorted(g.get("domains", []))  # merged: its first dataset is any of them
        right = spec is not None and spec.task == g["task"] and spec.target == g.get("target")
        right = right and sorted(spec.domains) == domains
        right = right and (bool(domains) or spec.dataset == g["dataset"])
        rows.append(
            dict(
                goal=g["goal"],
                valid=own is not None,
                first_try=own is not None and answer.attempts == 1,
                llm_task=own is not None and own.task == g["task"],
                llm_dataset=own is not None and own.dataset == g["dataset"],
                right=right,
                got=spec and f"{spec.task} {spec.dataset} {spec.target} {spec.domains}",
                seconds=seconds,
                errors=answer.errors,
            )
        )
    return dict(
        calls=len(rows),
        **_rates(rows, "valid", "first_try", "llm_task", "llm_dataset", "right"),
        **_seconds(rows),
        wrong=[f"{r['goal']!r} -> {r['got']}" for r in rows if not r["right"]],
        errors=[e for r in rows for e in r["errors"]],
    )


def plan(llm: Timed, states: list[dict]) -> dict:
    from magnet.agent.proposal import PlanContext, ask, prompt, worded
    from magnet.tools.search.policy import Candidate

    rows = []
    for s in states:
        ctx = PlanContext.model_validate(s["context"])
        candidates = [Candidate(c["diff"], c["reason"]) for c in s["candidates"]]
        text, answer = prompt(ctx, candidates), ask(ctx, candidates, llm)
        value = answer.value
        keys = len(value.config_diff) if value else None
        chosen = value.candidate if value else None
        rows.append(
            dict(
                valid=value is not None,
                first_try=value is not None and answer.attempts == 1,
                keys=keys,
                one_to_three=keys is not None and 1 <= keys <= 3,
                no_change=keys == 0 and chosen is not None,
                in_range=chosen is None or chosen < len(candidates),
                echo=value is not None and value.hypothesis.strip() in text,
                worded=value is not None and worded(value.hypothesis),
                seconds=llm.answers[-1][1],
                errors=answer.errors,
            )
        )
    keys = [r["keys"] for r in rows if r["keys"] is not None]
    return dict(
        calls=len(rows),
        **_rates(rows, *PLAN_RATES),
        keys_per_diff=dict(mean=round(statistics.mean(keys), 2), max=max(keys)) if keys else None,
        **_seconds(rows),
        errors=[e for r in rows for e in r["errors"]],
    )


def _rates(rows: list[dict], *names: str) -> dict:
    return {name: round(sum(bool(r[name]) for r in rows) / len(rows), 3) for name in names}


def _seconds(rows: list[dict]) -> dict:
    seconds = [r["seconds"] for r in rows]
    return dict(s_median=round(statistics.median(seconds), 2), s_max=round(max(seconds), 2))


def bench(args) -> None:
    from magnet.tools.llm import Llm

    goals, states = _lines(GOALS), _lines(STATES) if STATES.exists() else []
    here = Path.cwd()
    for model in args.models.split(","):
        llm = Llm(model)
        start = time.perf_counter()
        llm.check()  # loads the model: not part of any call's seconds
        loaded = time.perf_counter() - start
        timed = Timed(llm)
        with tempfile.TemporaryDirectory() as tmp:
            _given_paths(goals, Path(tmp))
            os.chdir(tmp)
            try:
                intake_result = intake(timed, goals)
            finally:
                os.chdir(here)
        result = dict(model=model, load_s=round(loaded, 1), intake=intake_result)
        result["plan"] = plan(timed, states) if states else "no states: run record first"
        print(json.dumps(result, indent=2), flush=True)


def record(args) -> None:
    """Real sessions whose plan states (what choose() was given) are appended to STATES."""
    import magnet.agent.nodes.plan as plan_node
    from magnet.agent.session import SessionRunner
    from magnet.agent.state import Budget, Settings
    from magnet.tools.llm import Llm

    sys.path.insert(0, str(HERE))
    from research import GOALS as TASK_GOALS
    from research import TASKS, source

    original, current = plan_node.choose, {}

    def recording(ctx, candidates, llm, tried):
        # No path of this machine in the repo: the dataset's relative to it, no run dir.
        text = json.dumps(ctx.model_dump(mode="json"))
        context = json.loads(text.replace(f"{HERE.parent.resolve()}/", ""))
        if context["best"]:
            context["best"]["run_dir"] = "run"
        line = dict(
            dataset=current["data"],
            context=context,
            candidates=[dict(diff=c.diff, reason=c.reason) for c in candidates],
        )
        with STATES.open("a") as out:
            out.write(json.dumps(line) + "\n")
        return original(ctx, candidates, llm, tried)

    plan_node.choose = recording
    for data in args.data.split(","):
        current["data"] = data
        with tempfile.TemporaryDirectory() as home:
            runner = SessionRunner(Path(home), Llm(args.model))
            settings = Settings(approve="auto", budget=Budget(wall_minutes=args.budget_minutes))
            runner.start(TASK_GOALS[TASKS[data]], settings, data=source(data))
        print(f"{data}: {sum(1 for _ in STATES.open())} states in all", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    rec = sub.add_parser("record", help="append plan states from real sessions")
    rec.add_argument("--data", default="sms-spam,shakespeare,emoji-groups,node-types,sp500")
    rec.add_argument("--budget-minutes", type=float, default=3)
    rec.add_argument("--model", default=None)
    parser.add_argument("--models", default=DEFAULT_MODELS, help="litellm models, comma-separated")
    args = parser.parse_args()
    record(args) if args.command == "record" else bench(args)


if __name__ == "__main__":
    main()
