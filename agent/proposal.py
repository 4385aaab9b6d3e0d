"""The plan node's choice: the LLM picks and edits a search-policy candidate, nothing it says
is trusted as a value, and nothing already tried for this task and dataset runs again.

    proposal, notes, tokens = choose(context, candidates, llm, tried)

The LLM (prompts/plan.md.j2) picks a candidate by index and may change that candidate's own
values, or with no candidate proposes a diff of its own. The diff is clipped into the search
space and loses the session's fixed settings; if it is empty or was tried (`tried` returns the
earlier finding), the first untried candidate replaces it, and the notes say so.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pydantic import BaseModel

from magnet.agent.schemas import ExperimentProposal, proposal_answer
from magnet.agent.state import Best, Experiment, Proposal, ResearchSpec, describe, shown
from magnet.memory.findings import Finding
from magnet.prompts import render
from magnet.tools.llm import Answer, Llm
from magnet.tools.search.policy import Candidate
from magnet.tools.search.space import SPACE, clip

# Significant digits of the settings the LLM is shown. SmolLM2 reads a digit a token and
# prompt tokens are most of a plan call's seconds (about 5.5 ms each on 2 cores); two digits
# place a value well enough to choose by, and an answer that echoes one is no change (_edit).
DIGITS = 2


class PlanContext(BaseModel):
    """What the planner is shown."""

    goal: str
    session_id: str
    spec: ResearchSpec
    best: Best | None = None
    recent: list[str] = []
    lessons: str = ""
    fixed: dict = {}
    remaining_seconds: float = 0.0


def choose(
    ctx: PlanContext,
    candidates: list[Candidate],
    llm: Llm,
    tried: Callable[[dict], Finding | bool | None],
) -> tuple[Proposal, list[str], int]:
    """(proposal, notes for the trace, LLM tokens used); `tried(diff)` → the finding of that
    change's full config if memory has one, True if it is running now (no finding yet)."""
    answer = ask(ctx, candidates, llm)
    notes = list(answer.errors)
    proposal = _checked(answer.value, candidates, ctx, notes) if answer.value else None
    if proposal is not None:
        earlier = tried(proposal.config_diff) if proposal.config_diff else None
        if not proposal.config_diff or earlier:
            notes.append(
                "plan: the LLM's proposal was empty or already tried" + _seen(earlier, ctx)
            )
            proposal = None
    if proposal is None:
        return _fresh(candidates, tried, ctx, notes), notes, answer.tokens
    # The LLM's share of the research: where its answer departs from the policy's first pick.
    departs = not candidates or proposal.config_diff != candidates[0].diff
    return (
        proposal.model_copy(update={"picked_by": "llm" if departs else "policy"}),
        notes,
        answer.tokens,
    )


def ask(ctx: PlanContext, candidates: list[Candidate], llm: Llm) -> Answer:
    """The LLM's answer to the plan's prompt, its candidate index held to those shown. (A
    grammar of the task's keys alone gave SmolLM2 longer answers, 2.46 changes against 2.15,
    and no faster calls: 5.3-5.9 s against 4.6-5.0 s, median of bench/planner.py's states.)"""
    return llm.ask("plan", prompt(ctx, candidates), proposal_answer(len(candidates)))


def keys(ctx: PlanContext) -> list[str]:
    """The settings the prompt names as changeable: those that do something for the task,
    less the session's fixed ones (the grammar offers every key; plan drops the rest)."""
    task = ctx.spec.search_task
    return sorted(k for k, p in SPACE.items() if task in p.tasks and k not in ctx.fixed)


def prompt(ctx: PlanContext, candidates: list[Candidate]) -> str:
    """What the LLM is asked (prompts/plan.md.j2)."""
    return render(
        "plan",
        goal=ctx.goal,
        spec=ctx.spec,
        best=ctx.best and dict(config=describe(ctx.best.config, DIGITS), value=ctx.best.value),
        recent=ctx.recent,
        lessons=ctx.lessons,
        candidates=[dict(diff=describe(c.diff, DIGITS), reason=c.reason) for c in candidates],
        allowed_keys=keys(ctx),
        remaining_seconds=ctx.remaining_seconds,
    )


def _checked(
    answer: ExperimentProposal, candidates: list[Candidate], ctx: PlanContext, notes: list[str]
) -> Proposal:
    """The LLM's answer as a proposal: its candidate's keys only, clipped, fixed keys out."""
    chosen, diff = answer.candidate, answer.config_diff
    if chosen is not None and chosen >= len(candidates):
        notes.append(f"plan: there is no candidate {chosen}")
        chosen = None
    if chosen is not None:
        diff, extra = _edit(candidates[chosen].diff, diff)
        if extra:
            notes.append(f"plan: kept candidate {chosen}'s settings only, not {extra}")
    diff, clip_notes = clip(diff, ctx.spec.search_task)
    notes += [f"plan: clipped {n}" for n in clip_notes]
    if held := sorted(set(diff) & set(ctx.fixed)):
        notes.append(f"plan: {', '.join(held)} fixed for this session (--set): not changed")
        diff = {k: v for k, v in diff.items() if k not in ctx.fixed}
    hypothesis = answer.hypothesis
    if not worded(hypothesis):
        hypothesis = candidates[chosen].reason if chosen is not None else "the LLM's own change"
        notes.append(f"plan: the LLM's hypothesis {answer.hypothesis[:40]!r} is not words")
    return Proposal(
        kind="planned",
        hypothesis=hypothesis,
        config_diff=diff,
        expected_effect=answer.expected_effect,
    )


def recent(e: Experiment) -> str:
    """An experiment as the plan's recent list shows it: `[worse] 2.41: lr=0.0056 n_layers=3`."""
    value = "no result" if e.value is None else shown(e.value)
    return f"[{e.verdict}] {value}: {describe(e.diff, DIGITS)}"


def worded(text: str) -> bool:
    """Whether a hypothesis is words at all: a small model also writes "1.0.0.1.1…"."""
    return len(re.findall(r"[A-Za-z]{2,}", text)) >= 3


def _fresh(candidates, tried, ctx: PlanContext, notes: list[str]) -> Proposal:
    for c in candidates:
        earlier = tried(c.diff)
        if earlier is None:
            notes.append(f"plan: using the policy's candidate ({c.reason})")
            return Proposal(
                kind="planned", hypothesis=c.reason, config_diff=c.diff, picked_by="policy"
            )
        notes.append(f"plan: {describe(c.diff)} was tried already{_seen(earlier, ctx)}")
    notes.append("plan: every candidate was already tried")
    return Proposal(kind="planned", hypothesis="nothing new to try", config_diff={})


def _seen(earlier: Finding | bool | None, ctx: PlanContext) -> str:
    """Where a result that is reused instead of run again came from."""
    if earlier is True:
        return " (it is running now)"
    if not isinstance(earlier, Finding) or earlier.session_id == ctx.session_id:
        return ""
    value = "" if earlier.primary_value is None else f": {earlier.primary_value:.4g}"
    return f" (in session {earlier.session_id}{value}; that result stands)"


def _edit(candidate: dict, changes: dict) -> tuple[dict, list[str]]:
    """The candidate with the LLM's new values for its own keys, and the keys it tried to add:
    a small model on a grammar tends to fill in every allowed key, and those are not a choice.
    A value as the prompt showed it (DIGITS) is the candidate's own, not a change."""
    kept = {
        k: v
        for k, v in changes.items()
        if k in candidate and shown(v, DIGITS) != shown(candidate[k], DIGITS)
    }
    return {**candidate, **kept}, sorted(set(changes) - set(candidate))
