"""plan: choose the next experiment.

Reads: goal, spec, the best config and value so far, recent results, the last failure kind,
lessons from memory, and the search policy's candidates. The first BASELINE_SEEDS experiments
are the unchanged baseline with different seeds (their spread is the noise floor). After
that the LLM (prompts/plan.md.j2) picks a candidate and may change its values, or with no
candidate proposes a diff of its own; the result is clipped into the search space, and a
config that memory says was already tried is never proposed: the next untried candidate
replaces it, and the notes say so. Writes: the proposal and trace notes.
Next: review.
"""

from __future__ import annotations

from collections.abc import Callable

from magnet.agent.state import ExperimentProposal, ResearchSpec
from magnet.prompts import render
from magnet.tools.llm import Llm
from magnet.tools.search.policy import Candidate
from magnet.tools.search.space import SPACE, clip

BASELINE_SEEDS = 2


def plan(
    goal: str,
    spec: ResearchSpec,
    n_done: int,
    best: dict | None,
    recent: list[str],
    lessons: str,
    candidates: list[Candidate],
    tried: Callable[[dict], bool],
    llm: Llm,
    remaining_seconds: float,
) -> tuple[ExperimentProposal, list[str], int]:
    """(proposal, notes for the trace, LLM tokens used). `best` is {config, value}."""
    if n_done < BASELINE_SEEDS:
        return (
            ExperimentProposal(
                hypothesis=f"baseline, seed {n_done}",
                config_diff={"seed": n_done},
                expected_effect="measures the noise floor",
            ),
            [],
            0,
        )
    base = best["config"] if best else {}
    prompt = render(
        "plan",
        goal=goal,
        spec=spec,
        best=best,
        recent=recent,
        lessons=lessons,
        candidates=[dict(diff=c.diff, reason=c.reason) for c in candidates],
        allowed_keys=sorted(SPACE),
        remaining_seconds=remaining_seconds,
    )
    answer = llm.ask("plan", prompt, ExperimentProposal)
    notes = list(answer.errors)
    proposal = answer.value
    if proposal is not None:
        chosen = proposal.candidate
        if chosen is not None and chosen >= len(candidates):
            notes.append(f"plan: there is no candidate {chosen}")
            chosen = None
        diff = proposal.config_diff
        if chosen is not None:
            diff, extra = _edit(candidates[chosen].diff, diff)
            if extra:
                notes.append(f"plan: kept candidate {chosen}'s settings only, not {extra}")
        diff, clip_notes = clip(diff, spec.search_task)
        notes += [f"plan: clipped {n}" for n in clip_notes]
        proposal = proposal.model_copy(update={"config_diff": diff, "candidate": chosen})
        if not diff or tried({**base, **diff}):
            notes.append("plan: the LLM's proposal was empty or already tried")
            proposal = None
    if proposal is None:
        fresh = next((c for c in candidates if not tried({**base, **c.diff})), None)
        if fresh is None:
            notes.append("plan: every candidate was already tried")
            return (
                ExperimentProposal(hypothesis="nothing new to try", config_diff={}),
                notes,
                answer.tokens,
            )
        notes.append(f"plan: using the policy's candidate ({fresh.reason})")
        proposal = ExperimentProposal(
            candidate=candidates.index(fresh), hypothesis=fresh.reason, config_diff=fresh.diff
        )
    return proposal, notes, answer.tokens


def _edit(candidate: dict, changes: dict) -> tuple[dict, list[str]]:
    """The candidate with the LLM's new values for its own keys, and the keys it tried to add:
    a small model on a grammar tends to fill in every allowed key, and those are not a choice."""
    kept = {k: v for k, v in changes.items() if k in candidate}
    return {**candidate, **kept}, sorted(set(changes) - set(candidate))
