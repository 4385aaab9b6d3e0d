"""The research graph's state: typed models, checkpointed after every node.

    ResearchState        one session: goal, settings, spec, experiments, best, the open proposal
      Settings           what the user fixed at the start: approval, steps, --set values, budget,
                         the planner's LLM and the chain
      ResearchSpec       the goal made precise (intake)
      Proposal           the next experiment as planned (plan), possibly edited (review)
      ReviewReply        a person's answer to a card: accept | edit | reject | respond
      Experiment         one run: kind, rung, diff, full config, outcome, harness metrics, verdict
      Move               what decide chose next: seed | search | promote | scaleup | stop
      Best               the best experiment so far
      Expert             the session's result: the scaled-up winner, scored once on test

`ResearchState.compose(diff)` is the one way a proposed change becomes the config that runs:
the best config (a promotion's: its parent's), then the change, then the fixed settings,
which always win; the run node types it once (tools/harness/config.py, ExperimentConfig).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, Field

from magnet.sandboxes.runner import SandboxResult, Status
from magnet.tools.chain.ledger import Ledger
from magnet.tools.datasets.types import DatasetCard
from magnet.tools.harness.baselines import Baseline, best_of
from magnet.tools.harness.failures import Diagnosis
from magnet.tools.metrics import Metric, Score, Verdict, metric, one_class
from magnet.tools.search.schedule import Schedule
from magnet.tools.settings import Scalar
from magnet.tools.workers import WorkersChoice

# sized: the default config reshaped for the expert's compute, the policy's prior
ExperimentKind = Literal["baseline", "sized", "planned", "remerge", "promoted", "scaleup"]
ProposalKind = Literal["baseline", "sized", "planned", "promoted", "scaleup"]
Action = Literal["accept", "edit", "reject", "respond"]
PickedBy = Literal["llm", "policy"] | None
PICKED_BY = "planned: llm where the LLM's answer departs from the policy's first candidate"


class Budget(BaseModel):
    max_experiments: int | None = Field(
        None, gt=0, description="a cap on experiments, the seeds included; None: the minutes"
    )
    wall_minutes: float = Field(30, gt=0, description="wall-clock minutes for the session")
    llm_tokens: int = Field(200_000, gt=0, description="prompt + completion tokens")


class Settings(BaseModel):
    approve: Literal["ask", "auto"] = "ask"
    steps: int | None = Field(
        None,
        gt=0,
        description="an expert's override: a unit is the default config at these "
        "steps; None: the unit is chosen from the budget",
    )
    fixed: dict[str, Scalar] = Field(
        {}, description="--set values: every experiment, never searched"
    )
    budget: Budget = Budget()
    scaleup: float = Field(
        0.4, ge=0, lt=1, description="share of the wall minutes that trains the winner further"
    )
    llm_optional: bool = Field(
        False, description="an LLM that fails its preflight: go on with the search policy alone"
    )
    model: str | None = Field(None, description="the planner's LLM as litellm names it")
    api_base: str | None = Field(None, description="where that LLM is served")
    chain: Ledger | None = Field(None, description="where contributions are recorded; None: off")
    policy: Literal["llm", "tpe", "random"] = Field(
        "llm",
        description="llm: the LLM picks among the failure rules' and TPE's candidates; tpe or "
        "random: that sampler alone, no rules and no LLM (the baselines a session must beat)",
    )
    workers: int = Field(
        1, ge=1, description="experiments run at once, each on its share of the cores"
    )
    ray: str | None = Field(
        None, description="a Ray cluster's address (or auto) the experiments run on; None: here"
    )
    auto_workers: bool = Field(
        False, description="--workers auto: the workers chosen by a probe at the first plan"
    )
    workers_choice: WorkersChoice | None = Field(
        None, description="what --workers auto measured and chose"
    )


class ResearchSpec(BaseModel):
    """What the user asked for, made precise (agent/goal.py)."""

    task: Literal["lm", "classify", "direction"]
    dataset: str  # a built-in dataset's name, "generate", or a path
    domain: str = ""  # the subject, in the goal's words
    metric: str  # bits_per_byte for lm, balanced_accuracy otherwise
    target: float | None = None  # stop when the metric reaches this
    domains: list[str] = []  # 2+ LM datasets merged with DiLoCo, else empty
    labels: list[str] = []  # the classes of generated data

    @property
    def search_task(self) -> str:
        """What the search space is cut for: "diloco" when specialists are merged."""
        return "diloco" if len(self.domains) >= 2 else self.task

    @property
    def objective(self) -> Metric:
        """The metric with its direction: every comparison of two values goes through it."""
        return metric(self.metric)


class Proposal(BaseModel):
    kind: ProposalKind
    hypothesis: str
    config_diff: dict[str, Scalar] = Field(description="the change from the best config")
    expected_effect: str = ""
    estimated_seconds: float = 60
    rung: int = Field(0, description="the successive-halving rung (tools/search/schedule.py)")
    parent: str | None = Field(None, description="promoted, scaleup: the experiment retrained")
    picked_by: PickedBy = Field(None, description=PICKED_BY)


class ReviewReply(BaseModel):
    action: Action
    set: dict[str, Scalar] = Field({}, description="edit: new values")
    text: str = Field("", description="reject / respond: why")
    rest_of_rung: bool = Field(
        False, description="accept / edit: accept every later card of this rung unasked"
    )

    @classmethod
    def parse(
        cls, action: str, words: list[str] | None = None, text: str = "", rest_of_rung=False
    ) -> ReviewReply:
        """A person's answer as the CLI and the dashboard take it (`words`: an edit's
        "key=value" settings); a ConfigError for an unknown action, an edit that sets
        nothing, or a reject or respond that does not say why."""
        from magnet.tools.errors import ConfigError
        from magnet.tools.settings import parse_pairs

        if action not in get_args(Action):
            raise ConfigError(f"no action '{action}'; one of: {', '.join(get_args(Action))}")
        values, text = parse_pairs(words) if action == "edit" else {}, text.strip()
        if action == "edit" and not values:
            raise ConfigError("an edit needs at least one key=value setting")
        if action in ("reject", "respond") and not text:
            raise ConfigError(f"say why you {action}: the planner reads it")
        return cls(action=action, set=values, text=text, rest_of_rung=rest_of_rung)


class Experiment(BaseModel):
    id: str
    kind: ExperimentKind
    rung: int = Field(0, description="-1: it ran at a unit the plan has since chosen again")
    parent: str | None = Field(None, description="promoted, scaleup: the experiment retrained")
    warm: bool = Field(False, description="scaleup: it started from its parent's weights")
    hypothesis: str = ""
    picked_by: PickedBy = Field(None, description=PICKED_BY)
    diff: dict[str, Scalar] = Field(description="what changed from the best config before it")
    config: dict[str, Scalar] = Field(description="everything set, the fixed settings included")
    status: Status = Field(description="how the sandboxed process ended")
    value: float | None = Field(None, description="the harness's primary metric on val")
    harness: dict | None = Field(None, description="every harness metric")
    seconds: float = 0.0
    train_s: float | None = Field(None, description="of seconds, those its training steps took")
    harness_s: float = 0.0
    run_dir: Path
    data: str | None = Field(None, description="what it trained on: the dataset, or it augmented")
    precision: str | None = Field(None, description="what the run's matmuls ran in")
    steps: int | None = Field(None, description="optimizer steps: equal compute, not equal steps")
    flops: float | None = Field(None, description="training FLOPs (tools/bitnet/compute.py)")
    sandbox: SandboxResult | None = Field(
        None, description="kept until the analysis is done; none for a config never started"
    )
    best_before: float | None = None
    verdict: Verdict | None = None
    diagnosis: Diagnosis | None = None

    @property
    def number(self) -> int:
        return int(self.id.rsplit("-", 1)[1])

    @property
    def label(self) -> str:
        """`exp 3 · tokenizer=bpe`, `exp 6 · rung 1 · tokenizer=bpe`, `exp 8 · scale-up · …`."""
        change = describe(self.diff) if self.kind != "baseline" else "baseline"
        if self.rung < 0:
            return f"exp {self.number} · at a superseded unit · {change}"
        if self.kind == "scaleup":
            return f"exp {self.number} · scale-up · {change}"
        return f"exp {self.number} · {f'rung {self.rung} · ' if self.rung else ''}{change}"

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.value is not None

    @property
    def stuck(self) -> bool:
        """A classifier that ended predicting one class for every val example."""
        return self.harness is not None and one_class(self.harness)


class Launch(BaseModel):
    """An approved experiment on a worker, from run until collect takes its outcome: what
    the Experiment will say of it, and the request that (re)starts it after a resume."""

    id: str
    kind: ExperimentKind
    rung: int
    parent: str | None = None
    warm: bool = False
    hypothesis: str = ""
    picked_by: PickedBy = None
    diff: dict[str, Scalar]
    config: dict[str, Scalar]
    work_dir: Path = Field(description="the experiment's work dir (its run dir inside)")
    worker: int = Field(1, ge=1, description="its slot in the pool: 1 to settings.workers")
    data: str | None = None
    steps: int | None = None
    flops: float | None = None
    unit_flops: float | None = Field(None, description="the schedule's unit when it started")
    train_seconds: float | None = Field(
        None, description="trains this long (the scale-up): steps and FLOPs are estimates till then"
    )
    request: dict = Field({}, description="the ExperimentRequest, as JSON")
    limits: dict | None = Field(None, description="the sandbox's Limits, as JSON")
    refused: str | None = Field(None, description="the trainer's words for a config never run")

    @property
    def number(self) -> int:
        return int(self.id.rsplit("-", 1)[1])


class Move(BaseModel):
    """What decide chose to run next (agent/rungs.py); plan makes it a proposal. `wait`: the
    next step needs a run still in flight to finish first."""

    kind: Literal["seed", "search", "promote", "scaleup", "wait", "stop"]
    rung: int = 0
    parent: Experiment | None = Field(None, description="promote, scaleup: the run retrained")
    reason: str = ""


class Best(BaseModel):
    experiment_id: str
    config: dict[str, Scalar]
    value: float
    run_dir: Path


class Expert(BaseModel):
    """The session's result: the experiment export and serve use, scored once on test."""

    experiment_id: str
    run_dir: Path
    val: float
    test: Score


class ResearchState(BaseModel):
    session_id: str
    goal: str
    data: str | None = Field(None, description="a dataset the user named by flag")
    settings: Settings = Settings()
    spec: ResearchSpec | None = None
    card: DatasetCard | None = None
    baselines: list[Baseline] = Field([], description="classical anchors on the same splits")
    schedule: Schedule | None = Field(None, description="rungs and scale-up, fixed at the start")
    planned_at: int = Field(-1, description="the finished runs the schedule was last checked at")
    declined: list[str] = Field([], description="experiments the reviewer would not retrain")
    accepted_rung: int | None = Field(None, description="a rung the reviewer accepted whole")
    tokens: int = Field(0, description="LLM tokens used")
    llm_off: str | None = Field(None, description="why the LLM is not used (its preflight)")
    experiments: list[Experiment] = []
    best: Best | None = None
    expert: Expert | None = None
    noise: float = Field(0.0, description="the baseline seeds' spread")
    feedback: list[str] = Field([], description="for the next plan: notes, review answers")
    move: Move | None = Field(None, description="between decide and plan")
    proposal: Proposal | None = None
    data_review: ReviewReply | None = None
    review: ReviewReply | None = None
    remaining_seconds: float = 0.0
    elapsed_s: float = Field(0.0, description="the session's working seconds: its nodes' time")
    running: list[Launch] = Field([], description="started, not yet collected")
    current: Experiment | None = Field(None, description="between collect and record")
    stop_reason: str | None = None
    report: str | None = None

    def compose(self, diff: dict, base: dict | None = None) -> tuple[dict, dict]:
        """(the change less the fixed settings, the full config that runs): `base` (by
        default the best config), then the change, then the fixed settings."""
        fixed = self.settings.fixed
        change = {k: v for k, v in diff.items() if k not in fixed}
        if base is None:
            base = self.best.config if self.best else {}
        return change, {**base, **change, **fixed}

    @property
    def next_number(self) -> int:
        """The number the next experiment gets: those finished and those in flight."""
        return len(self.experiments) + len(self.running)

    def session_dir(self, home: Path) -> Path:
        return home / "sessions" / self.session_id

    def anchor(self) -> Baseline | None:
        """The classical baseline the session is measured against: the best in its metric."""
        return best_of([b for b in self.baselines if b.metric == self.spec.metric])

    def compute_points(self) -> list[tuple[float, float, str]]:
        """Each finished experiment's (cumulative training FLOPs, val metric, group)."""
        points, total = [], 0.0
        for e in self.experiments:
            total += e.flops or 0
            if e.flops and e.value is not None:
                group = "scale-up" if e.kind == "scaleup" else f"rung {e.rung}"
                points.append((total, e.value, group))
        return points


def describe(diff: dict, digits: int = 4) -> str:
    """`lr=0.001 tokenizer=bpe`; `as is` for no change."""
    return " ".join(f"{k}={shown(v, digits)}" for k, v in diff.items()) or "as is"


def shown(value, digits: int = 4) -> str:
    """A setting's value for people: floats to `digits` significant digits (`0.0007447`)."""
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)


# What the checkpointer may rebuild from its saved state (LangGraph refuses unknown classes).
SERIALIZED = [
    (__name__, name)
    for name in (
        "Budget",
        "Settings",
        "ResearchSpec",
        "Proposal",
        "ReviewReply",
        "Experiment",
        "Launch",
        "Move",
        "Best",
        "Expert",
        "ResearchState",
    )
] + [
    ("magnet.tools.metrics", "Score"),
    ("magnet.tools.chain.ledger", "Ledger"),
    ("magnet.tools.search.schedule", "Schedule"),
    ("magnet.tools.search.schedule", "Rung"),
    ("magnet.tools.datasets.types", "DatasetCard"),
    ("magnet.tools.harness.baselines", "Baseline"),
    ("magnet.sandboxes.runner", "SandboxResult"),
    ("magnet.tools.harness.failures", "Diagnosis"),
]
