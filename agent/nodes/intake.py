"""intake: the goal becomes a ResearchSpec.

Reads: goal, the dataset given by flag. Asks agent/goal.py (the LLM, then keyword rules).
Writes: spec, tokens, feedback (how it was decided), experiments (none yet).
Next: review_data when no dataset fits and one is to be generated, else data.
"""

from __future__ import annotations

from magnet.agent.deps import Deps
from magnet.agent.goal import read_goal
from magnet.agent.state import ResearchState


def intake(state: ResearchState, deps: Deps) -> tuple[dict, str]:
    spec, notes, tokens = read_goal(state.goal, deps.llm, state.data)
    update = {"spec": spec, "tokens": state.tokens + tokens, "experiments": [], "feedback": notes}
    text = f"{spec.task} on {spec.dataset}, judged by {spec.metric}"
    if spec.domains:
        text += f"; specialists for {', '.join(spec.domains)} merged with DiLoCo"
    return update, text
