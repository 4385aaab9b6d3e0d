"""The user's goal → a ResearchSpec (task, dataset, metric, target), for the intake node.

    spec, notes, tokens = read_goal("classify scam messages", llm)

Asks the LLM (prompts/intake.md.j2) to choose among the datasets there are
(agent/schemas.goal_answer); keyword rules fill in when the LLM fails, and a dataset named by
flag, by a path in the goal or by a keyword overrules the LLM's choice (a small model
guesses). A goal that names several language domains ("Python code and
Shakespeare") gets one specialist per domain, merged with DiLoCo (spec.domains). A goal
nothing can serve is an UnsupportedGoal naming what is supported.
"""

from __future__ import annotations

import re
from pathlib import Path

from magnet.agent.schemas import goal_answer
from magnet.agent.state import ResearchSpec
from magnet.prompts import render
from magnet.tools.datasets.builtin import BUILTINS
from magnet.tools.errors import UnsupportedGoal
from magnet.tools.llm import Llm

GENERATE = "generate"  # the dataset of a classification goal no data fits: written by the LLM
# "safe vs unsafe", "as spam or ham", "into positive, negative or neutral"
LABELS = (
    re.compile(r"\b([\w-]+)\s+(?:vs\.?|versus)\s+([\w-]+)", re.IGNORECASE),
    re.compile(
        r"\b(?:as|into)\s+((?:[\w-]+\s*,\s*)*[\w-]+),?\s+(?:or|and)\s+([\w-]+)", re.IGNORECASE
    ),
)
# The longest answer goal_answer allows, less its dataset's name, with room for whitespace
# (tests/agent/test_goal.py): the JSON always closes.
INTAKE_TOKENS = 360
NUMBER = r"\d+(?:\.\d+)?"
METRICS = {"lm": "bits_per_byte", "classify": "balanced_accuracy", "direction": "balanced_accuracy"}
# Keyword → built-in dataset, checked in order; the first match wins.
KEYWORDS: list[tuple[str, str]] = [
    (r"\b(scam|spam|phishing|fraud|sms|message)", "sms-spam"),
    (r"\b(s&p|sp500|stock|market|price|trading|direction)", "sp500"),
    (r"\b(shakespeare|poetry|poem|play|verse|literature)", "shakespeare"),
    (r"\b(python|code|coding|program|software|stdlib)", "python-stdlib"),
]


def read_goal(
    goal: str, llm: Llm, dataset: str | None = None
) -> tuple[ResearchSpec, list[str], int]:
    """(spec, notes for the trace, LLM tokens used)."""
    if not goal.strip():
        raise UnsupportedGoal("the goal is empty: say what the expert should do")
    paths = _paths(goal)
    fallback = _from_keywords(goal, dataset, paths)
    named = None if dataset else _generated(goal)
    # No data named, and no built-in fits or has the classes the goal names: generate data.
    if named and (fallback is None or not _has_labels(fallback.dataset, named.labels)):
        fallback = named
    answer = _ask(goal, llm, paths)
    notes = list(answer.errors)
    spec = _spec(goal, answer.value) if answer.value else None
    if spec is None or not _usable(spec):
        if fallback is None:
            raise UnsupportedGoal(_unsupported(goal))
        notes.append(f"intake: keyword rules chose {fallback.task} on {fallback.dataset}")
        spec = fallback
    elif fallback is not None and spec.dataset != fallback.dataset:
        same_task = spec.task == fallback.task
        # A flag, or a keyword in the goal, is firmer evidence than a small model's guess.
        notes.append(
            f"intake: the LLM chose {spec.dataset}; using {fallback.dataset} "
            f"({'the --data flag' if dataset else 'keywords in the goal'})"
        )
        spec = fallback.model_copy(update={"target": spec.target if same_task else None})
    domains = [] if dataset else _domains(goal)
    if len(domains) >= 2:
        notes.append(
            f"intake: the goal names {len(domains)} domains ({', '.join(domains)}): "
            "a specialist each, merged with DiLoCo"
        )
        spec = spec.model_copy(update={"task": "lm", "dataset": domains[0], "domains": domains})
    else:
        # A goal whose keywords name one dataset names one domain: more is the model's guess.
        usable = _usable_domains(spec.domains) if spec.task == "lm" and fallback is None else []
        spec = spec.model_copy(update={"domains": usable})
    if spec.target is None:
        spec = spec.model_copy(update={"target": _stated_target(goal, spec.task)})
    return spec, notes, answer.tokens


def _ask(goal: str, llm: Llm, paths: list[str]):
    """The LLM's answer, choosing among the built-ins, generated data and the paths the goal
    names (each offered with the task it can serve)."""
    offered = [
        dict(name=b.about.name, task=b.task, description=b.about.description)
        for b in BUILTINS.values()
    ]
    offered.append(
        dict(name=GENERATE, task="classify", description="write labelled examples when no "
             "dataset fits a classification goal; give the classes in labels")
    )  # fmt: skip
    for path in paths:
        kind = "lm" if Path(path).is_dir() else "classify or direction"
        offered.append(dict(name=path, task=kind, description="the data the goal names"))
    lm = [b.about.name for b in BUILTINS.values() if b.task == "lm"]
    names = [d["name"] for d in offered]
    tokens = INTAKE_TOKENS + max(map(len, names))
    prompt = render("intake", goal=goal, datasets=offered)
    return llm.ask("intake", prompt, goal_answer(names, lm), max_tokens=tokens)


def _spec(goal: str, answer) -> ResearchSpec:
    """The LLM's answer as a spec: a built-in's task is its own, generated data is
    classified, the metric follows the task and the subject is the goal's own words."""
    task = BUILTINS[answer.dataset].task if answer.dataset in BUILTINS else answer.task
    task = "classify" if answer.dataset == GENERATE else task
    return ResearchSpec(
        task=task,
        dataset=answer.dataset,
        domain=goal[:120],
        metric=METRICS[task],
        target=answer.target if _stated(goal, answer.target) else None,
        domains=list(answer.domains),
        labels=_classes(answer.labels),
    )


def _stated(goal: str, target: float | None) -> bool:
    """Whether the goal states this target (a small model invents one; a target it reaches at
    once would end the session)."""
    numbers = [float(x) for x in re.findall(NUMBER, goal)]
    return target is not None and any(abs(target - x) < 1e-9 for x in numbers)


# "target 0.97", "below 2.0 bits per byte", "95% accuracy": a number next to a target's words
TARGET = re.compile(
    rf"(?:target|accuracy|below|under|above|at least|reach)\D{{0,24}}?({NUMBER})(%?)"
    rf"|({NUMBER})\s*(%|bits)",
    re.IGNORECASE,
)


def _stated_target(goal: str, task: str) -> float | None:
    """The target a goal states in words the LLM missed, if it fits the task's metric."""
    for m in TARGET.finditer(goal):
        number, unit = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        value = float(number) / (100 if unit == "%" else 1)
        if (0 < value <= 8) if task == "lm" else (0 < value <= 1):
            return value
    return None


def _has_labels(dataset: str, labels: list[str]) -> bool:
    """Whether the data has the classes a goal names: a built-in's description names them
    all ("ham vs spam"); a path the goal names is the user's word."""
    if dataset not in BUILTINS:
        return True
    return all(label in BUILTINS[dataset].about.description.lower() for label in labels)


def _paths(goal: str) -> list[str]:
    """The words of the goal that are files or folders on disk."""
    words = (w.strip("\"'`.,;:!?()") for w in goal.split())
    found = (w for w in words if w and ("/" in w or "." in w) and Path(w).exists())
    return list(dict.fromkeys(found))


def _domains(goal: str) -> list[str]:
    """Every built-in language dataset the goal names by keyword."""
    return [
        ds
        for pattern, ds in KEYWORDS
        if BUILTINS[ds].task == "lm" and re.search(pattern, goal, re.IGNORECASE)
    ]


def _usable_domains(names: list[str]) -> list[str]:
    """The LLM's domains that are language datasets, if two or more of them are."""
    usable = [
        n for n in dict.fromkeys(names) if _usable(ResearchSpec(task="lm", dataset=n, metric=""))
    ]
    return usable if len(usable) >= 2 else []


def _from_keywords(goal: str, dataset: str | None, paths: list[str]) -> ResearchSpec | None:
    keyword = (ds for pattern, ds in KEYWORDS if re.search(pattern, goal, re.IGNORECASE))
    name = dataset or next(iter(paths), None) or next(keyword, None)
    if name is None:
        return None
    if name in BUILTINS:
        task = BUILTINS[name].task
    elif Path(name).is_dir():
        task = "lm"
    elif Path(name).suffix.lower() in (".jsonl", ".csv"):
        task = "direction" if re.search(KEYWORDS[1][0], goal, re.IGNORECASE) else "classify"
    else:
        raise UnsupportedGoal(f"dataset '{name}' is neither a built-in nor a usable path")
    return ResearchSpec(task=task, dataset=name, domain=goal[:60], metric=METRICS[task])


def _generated(goal: str) -> ResearchSpec | None:
    """A classification goal that names its classes, when no dataset fits: generate one."""
    for pattern in LABELS:
        if m := pattern.search(goal):
            labels = _classes([*m.group(1).split(","), m.group(2)])
            if len(labels) >= 2:
                return ResearchSpec(
                    task="classify",
                    dataset=GENERATE,
                    domain=goal[:120],
                    metric=METRICS["classify"],
                    labels=labels,
                )
    return None


def _classes(words: list[str]) -> list[str]:
    """Class names as a spec keeps them: lower case, once each, in order."""
    return list(dict.fromkeys(w.strip().lower() for w in words if w.strip()))


def _usable(spec: ResearchSpec) -> bool:
    if spec.dataset == GENERATE:
        return spec.task == "classify" and len(set(spec.labels)) >= 2
    if spec.dataset in BUILTINS:
        return BUILTINS[spec.dataset].task == spec.task
    return Path(spec.dataset).exists()


def _unsupported(goal: str) -> str:
    names = ", ".join(f"{b.about.name} ({b.task})" for b in BUILTINS.values())
    return (
        f"cannot tell what to train for '{goal}'. Supported: language/code experts, text "
        f"classification, next-day price direction; built-in data: {names}; or pass "
        "--data PATH"
    )
