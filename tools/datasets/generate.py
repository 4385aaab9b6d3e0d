"""Datasets an LLM writes: label-conditioned examples to classify, or domain text for an LM.

    request = GenerateRequest(task="classify", labels=["safe", "unsafe"],
                              describe="short descriptions of online videos", n=500)
    examples, generation = generate(llm, request)       # llm: tools.llm.Llm (any litellm model)
    save_generated(out_dir, "classify", examples, generation)   # tools/datasets/generated.py
    load_dataset(str(out_dir), "classify")                       # split like any user data

Batches ask for one label at a time, always the one furthest below its share of `n` (class
balance). Every example is validated (length, label in the set, no placeholder boilerplate)
and dropped when it is an exact or near duplicate of one kept before or of a `holdout` text
(the leakage guard: validation and test items of the data it will join). Generation stops at
`n`, at the token budget, or after too many failed batches in a row; what was kept is a valid
dataset even from a weak model, and the card says what was dropped and why.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import Counter
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from magnet.tools.datasets.dedupe import NearDuplicates, normalise
from magnet.tools.datasets.types import Generation

SYSTEM = "You write training data for small models. Answer with JSON that matches the schema."
MAX_FAILED_IN_A_ROW = 3
AVOID = 5  # recent examples shown to the model as "do not repeat"
BOILERPLATE = re.compile(
    r"lorem ipsum|\bas an ai\b|\[(insert|your|name)|<[a-z_ ]+>|\{[a-z_ ]+\}"
    r"|^(example|sample|text|message|passage)\s*\d*\s*[:.]?\s*$",
    re.IGNORECASE,
)


class GenerateRequest(BaseModel):
    task: Literal["classify", "lm"]
    describe: str = Field(min_length=3, description="what the texts are, in plain words")
    labels: list[str] = Field([], description="classify: the classes, two or more")
    n: int = Field(gt=0, le=100_000, description="examples (classify) or passages (lm)")
    batch_size: int = Field(10, gt=0, le=50)
    token_budget: int = Field(500_000, gt=0, description="LLM tokens, prompts included")
    min_chars: int = Field(8, ge=1)
    max_chars: int = Field(2000, gt=1)
    seed: int = 0
    holdout: list[str] = Field([], description="texts nothing generated may nearly repeat")
    weak: list[dict] = Field([], description="misclassified {text, label} to learn from")
    rewrite: list[dict] = Field(
        [], description="{text, label} to say again in other words (paraphrase augmentation)"
    )

    @field_validator("labels")
    @classmethod
    def _clean(cls, labels: list[str]) -> list[str]:
        return list(dict.fromkeys(label.strip() for label in labels if label.strip()))

    @model_validator(mode="after")
    def _labels_fit_task(self) -> GenerateRequest:
        if self.task == "classify" and len(self.labels) < 2:
            raise ValueError("classify needs two or more distinct labels")
        if self.task == "lm" and self.labels:
            raise ValueError("lm text has no labels")
        return self


class Candidate(BaseModel):
    text: str = ""
    label: str = ""


class Batch(BaseModel):
    """What the LLM answers; lenient per item, so one bad example costs only itself."""

    examples: list[Candidate]


class Example(BaseModel):
    text: str
    label: str = ""


def generate(
    llm, request: GenerateRequest, on_batch: Callable[[Generation], None] | None = None
) -> tuple[list[Example], Generation]:
    from magnet.prompts import render, source

    start = time.perf_counter()
    labels = request.labels or [""]
    target = -(-request.n // len(labels))  # each label's share, rounded up
    gen = Generation(
        generator="llm",
        model=llm.model,
        prompt_sha256=hashlib.sha256(source("generate").encode()).hexdigest(),
        seed=request.seed,
        describe=request.describe,
        requested=request.n,
    )
    kept: list[Example] = []
    dropped: Counter = Counter()
    seen, guard = NearDuplicates(), NearDuplicates()
    for text in request.holdout:
        guard.add(text)
    queues = {lab: [r for r in request.rewrite if r.get("label") == lab] for lab in labels}
    for r in request.rewrite:
        seen.add(r["text"])  # a "paraphrase" that repeats its source adds nothing
    failed = 0
    while len(kept) < request.n and gen.tokens < request.token_budget:
        counts = Counter(e.label for e in kept)
        open_labels = [lab for lab in labels if not request.rewrite or queues[lab]]
        if not open_labels:
            break  # every text to rewrite has had its turn
        label = min(open_labels, key=lambda lab: counts[lab])
        want = min(request.batch_size, target - counts[label], request.n - len(kept))
        sources = queues[label][:want]
        del queues[label][:want]
        prompt = render(
            "generate",
            task=request.task,
            describe=request.describe,
            label=label,
            labels=labels,
            count=len(sources) or want,
            avoid=[e.text[:200] for e in kept if e.label == label][-AVOID:],
            weak=request.weak,
            rewrite=[r["text"][:300] for r in sources],
        )
        answer = llm.ask(
            "generate", prompt, Batch, system=SYSTEM, temperature=0.9, max_tokens=256 * want
        )
        gen.batches += 1
        gen.tokens += answer.tokens
        if answer.value is None:
            gen.failed_batches += 1
            failed += 1
        else:
            failed = 0
            _keep(answer.value.examples, request, labels, target, kept, dropped, seen, guard)
        gen.kept, gen.dropped = len(kept), dict(dropped)
        gen.seconds = round(time.perf_counter() - start, 2)
        if on_batch:
            on_batch(gen)
        if failed >= MAX_FAILED_IN_A_ROW:
            break
    return kept, gen


def _keep(candidates, request, labels, target, kept, dropped, seen, guard) -> None:
    """Validate and de-duplicate a batch into `kept`, counting what is dropped and why."""
    for c in candidates:
        reason = _problem(c, request, labels) or _repeat(c.text, seen, guard)
        label = _label(c, labels)
        if reason is None and (
            len(kept) >= request.n or sum(e.label == label for e in kept) >= target
        ):
            reason = "over_target"
        if reason:
            dropped[reason] += 1
            continue
        kept.append(Example(text=c.text.strip(), label=label))
        seen.add(c.text)


def _label(c: Candidate, labels: list[str]) -> str:
    """The label as the request spells it (the model may change case or add spaces)."""
    wanted = {label.lower(): label for label in labels}
    return wanted.get(c.label.strip().lower(), "") if labels != [""] else ""


def _problem(c: Candidate, request: GenerateRequest, labels: list[str]) -> str | None:
    text = c.text.strip()
    if not text:
        return "empty"
    if len(text) < request.min_chars:
        return "too_short"
    if len(text) > request.max_chars:
        return "too_long"
    if labels != [""] and not _label(c, labels):
        return "label_not_in_set"
    if BOILERPLATE.search(text) or not normalise(text):
        return "boilerplate"
    return None


def _repeat(text: str, seen: NearDuplicates, guard: NearDuplicates) -> str | None:
    if guard.match(text):
        return "near_duplicate_of_holdout"
    if seen.match(text):
        return "duplicate"
    return None
