"""The findings store: chromadb on disk under $MAGNET_HOME/memory, searched by meaning.

    store = FindingsStore()
    store.add(Finding(session_id="s1", goal="classify scam messages", dataset="sms-spam",
                      config={"lr": 1e-3}, verdict="improved", primary_metric="balanced_accuracy",
                      primary_value=0.93))
    store.already_tried({"lr": 0.001}, "classify", "sms-spam")   # that finding: canonical hash
    store.lessons("detect spam SMS")         # what worked and what failed, for a planner prompt

Each finding is one chromadb record: the embedded text (`Finding.document()`), flat metadata
for filters, and the whole finding as JSON. chromadb commits every add to SQLite before it
returns, so a kill loses at most the add in flight.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from pydantic import BaseModel

from magnet.memory.findings import Finding
from magnet.tools.errors import MemoryStoreError
from magnet.tools.hashing import canonical_sha256
from magnet.tools.paths import magnet_home

COLLECTION = "findings"
RELATED = 0.75  # cosine distance under which an earlier finding counts as related to a goal


class Hit(BaseModel):
    finding: Finding
    distance: float


class FindingsStore:
    def __init__(self, path: Path | str | None = None) -> None:
        import chromadb
        from chromadb.config import Settings

        from magnet.memory.embedding import MiniLMEmbedding

        self.path = Path(path) if path else magnet_home() / "memory"
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(
                path=str(self.path), settings=Settings(anonymized_telemetry=False)
            )
            self._col = client.get_or_create_collection(
                COLLECTION, embedding_function=MiniLMEmbedding()
            )
        except (OSError, ValueError) as e:
            raise MemoryStoreError(f"cannot open the findings store at {self.path}: {e}") from None

    def add(self, finding: Finding) -> str:
        return self.add_many([finding])[0]

    def add_many(self, findings: list[Finding]) -> list[str]:
        """One chromadb write for the batch: the texts are embedded together."""
        self._col.add(
            ids=[f.id for f in findings],
            documents=[f.document() for f in findings],
            metadatas=[_metadata(f) for f in findings],
        )
        return [f.id for f in findings]

    def has(self, finding_id: str) -> bool:
        return bool(self._col.get(ids=[finding_id], include=[])["ids"])

    def get(self, finding_id: str) -> Finding:
        got = self._col.get(ids=[finding_id], include=["metadatas"])
        if not got["ids"]:
            raise MemoryStoreError(f"no finding with id '{finding_id}'")
        return Finding.model_validate_json(got["metadatas"][0]["finding"])

    def search(
        self,
        text: str,
        *,
        goal: str | None = None,
        dataset: str | None = None,
        verdict: str | None = None,
        session: str | None = None,
        limit: int = 5,
    ) -> list[Hit]:
        filters = {"goal": goal, "dataset": dataset, "verdict": verdict, "session_id": session}
        clauses = [{k: v} for k, v in filters.items() if v is not None]
        where = clauses[0] if len(clauses) == 1 else ({"$and": clauses} if clauses else None)
        n = min(limit, self._col.count())
        if n == 0:
            return []
        res = self._col.query(
            query_texts=[text], n_results=n, where=where, include=["metadatas", "distances"]
        )
        return [
            Hit(finding=Finding.model_validate_json(m["finding"]), distance=d)
            for m, d in zip(res["metadatas"][0], res["distances"][0], strict=True)
        ]

    def similar_configs(self, config: dict, limit: int = 5) -> list[Hit]:
        """Findings whose settings read most like `config` (nearest first)."""
        text = "config: " + ", ".join(f"{k}={v}" for k, v in sorted(config.items()))
        return self.search(text, limit=limit)

    def already_tried(self, config: dict, task: str, dataset: str) -> Finding | None:
        """The earliest finding of exactly this config for this task and dataset, if any: a
        config tried on one dataset says nothing about another."""
        where = {"config_hash": canonical_sha256(config), "task": task, "dataset": dataset}
        got = self._col.get(
            where={"$and": [{k: v} for k, v in where.items()]}, include=["metadatas"]
        )
        found = [Finding.model_validate_json(m["finding"]) for m in got["metadatas"]]
        return min(found, key=lambda f: f.created_at, default=None)

    def lessons(
        self, goal: str, limit: int = 8, max_chars: int = 1500, besides: str | None = None
    ) -> str:
        """A bounded digest of related findings from every session but `besides` (whose own
        runs its planner already sees): worked, then failed."""
        hits = [
            h
            for h in self.search(goal, limit=4 * limit)
            if h.distance < RELATED and h.finding.session_id != besides
        ][:limit]
        worked = [h.finding.line() for h in hits if h.finding.verdict == "improved"]
        failed = [h.finding.line() for h in hits if h.finding.verdict not in ("improved", "first")]
        lines = []
        if worked:
            lines += ["What worked:", *(f"- {x}" for x in worked)]
        if failed:
            lines += ["What did not:", *(f"- {x}" for x in failed)]
        digest = "\n".join(lines)
        return digest if len(digest) <= max_chars else digest[: max_chars - 1] + "…"

    def stats(self) -> dict:
        metas = self._col.get(include=["metadatas"])["metadatas"]
        return {
            "findings": len(metas),
            "sessions": len({m["session_id"] for m in metas}),
            "goals": len({m["goal"] for m in metas}),
            "verdicts": dict(Counter(m["verdict"] for m in metas)),
            "path": str(self.path),
        }


def _metadata(finding: Finding) -> dict:
    """Flat fields for `where` filters, plus the whole finding as JSON."""
    meta = {
        "session_id": finding.session_id,
        "goal": finding.goal,
        "dataset": finding.dataset,
        "task": finding.task,
        "verdict": finding.verdict,
        "config_hash": finding.config_hash,
        "created_at": finding.created_at,
        "finding": finding.model_dump_json(),
    }
    if finding.primary_value is not None:
        meta["primary_value"] = finding.primary_value
    return meta
