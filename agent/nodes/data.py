"""data: the session's dataset, loaded (or, after review, written by the LLM) and recorded.

Reads: spec, data_review. A generated dataset is written once into the session directory
(tools/datasets/generate.py); declining it is an UnsupportedGoal.
Writes: spec (a generated dataset's path), card; a dataset record in the ledger's outbox.
Next: baselines.
"""

from __future__ import annotations

from magnet.agent.deps import Deps
from magnet.agent.goal import GENERATE
from magnet.agent.nodes.review_data import GENERATE_N
from magnet.agent.state import ResearchState


def data(state: ResearchState, deps: Deps) -> tuple[dict, str]:
    from magnet.tools.datasets import data_ref, load_dataset

    spec = state.spec
    if spec.dataset == GENERATE:
        spec = spec.model_copy(update={"dataset": _generated(state, deps)})
    card = load_dataset(spec.dataset, spec.task).card
    # The card's sha256 is the dataset record's content hash (tools/chain/outbox.py).
    payload = {"dataset": data_ref(spec.dataset), "task": spec.task, "name": card.name}
    sid = state.session_id
    deps.outbox.add(sid, f"{sid}-data", "dataset", card.sha256, payload)
    sizes = " · ".join(f"{split} {n}" for split, n in card.sizes.items())
    return {"spec": spec, "card": card}, f"{card.name}: {sizes}"


def _generated(state: ResearchState, deps: Deps) -> str:
    """The LLM writes the dataset the reviewer accepted, into the session, once."""
    from magnet.tools.datasets.generate import GenerateRequest, generate
    from magnet.tools.datasets.generated import is_generated, save_generated
    from magnet.tools.errors import UnsupportedGoal

    out = state.session_dir(deps.home) / "data-generated"
    if is_generated(out):
        return str(out)
    reply = state.data_review
    if reply is None or reply.action not in ("accept", "edit"):
        raise UnsupportedGoal("no dataset fits the goal and generating one was declined: --data")
    try:  # a reviewer's edit: any number, kept sensible
        n = min(max(int(reply.set.get("generate", GENERATE_N)), 10), 100_000)
    except (TypeError, ValueError):
        n = GENERATE_N
    spec = state.spec
    request = GenerateRequest(
        task="classify", labels=spec.labels, describe=spec.domain or state.goal, n=n
    )
    examples, made = generate(deps.llm, request)
    save_generated(out, "classify", examples, made)  # a dataset too small fails on load
    text = f"generated {made.kept} of {n} examples ({made.batches} LLM batches, dropped "
    text += f"{made.dropped or 'none'})"
    deps.traces.event(state.session_id, "data", "generated", text, made.model_dump())
    return str(out)
