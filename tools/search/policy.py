"""Candidates for the next experiment: failure rules first, then Optuna TPE suggestions.

    policy = SearchPolicy(home / "study.db", "session-1", higher_is_better=False, task="lm")
    for c in policy.candidates(best_config, last_kind="diverged"):
        print(c.diff, c.reason)
    policy.record(exp_id, diff_that_ran, value)   # every finished experiment, once each

The study lives in SQLite, so it continues across a resume. TPE suggestions come from asked
trials; the one that is run is told its value, the others are closed as FAIL ("not chosen"),
which TPE ignores.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from magnet.tools.search.space import SPACE, clip

# Diagnosis kind → changes to the current configuration, with the reason shown to the planner.
# A number multiplies the current value (n_layers: adds to it); a string replaces it.
SUBWORD = ("a subword tokenizer puts more text in each step", {"tokenizer": "bpe"})
RULES: dict[str, list[tuple[str, dict]]] = {
    "diverged": [
        ("divergence: lower the learning rate", {"lr": 0.3}),
        ("divergence: longer warmup", {"warmup_steps": 2.0}),
    ],
    "oom": [
        ("out of memory: halve the batch", {"batch_size": 0.5}),
        ("out of memory: shorter sequences", {"seq_len": 0.5}),
    ],
    "timeout": [("timeout: fewer layers", {"n_layers": -1})],
    "overfitting": [
        ("overfitting: more training data, written for the weak slice", {"augment": 200}),
        ("overfitting: more weight decay", {"weight_decay": 2.0}),
        ("overfitting: fewer layers", {"n_layers": -1}),
    ],
    "underfitting": [
        ("underfitting: higher learning rate", {"lr": 2.0}),
        (f"underfitting: {SUBWORD[0]}", SUBWORD[1]),
        ("underfitting: more layers", {"n_layers": 2}),
    ],
    "no_change": [
        (f"no measurable change, so a different direction: {SUBWORD[0]}", SUBWORD[1]),
        ("no measurable change, so a different direction: twice the batch", {"batch_size": 2.0}),
    ],
}
# TPE tunes the optimiser only: its early trials are random, and a random model size or
# batch can cost many times the baseline. Size changes come from the failure rules and the
# planner.
TPE_KEYS = ("lr", "warmup_steps", "weight_decay")
MERGES = ("ties", "average")
# What a setting is when no experiment changed it: the trainer's own defaults, plus the two
# search keys that are not training settings.
SEARCH_ONLY_DEFAULTS = {"merge": "diloco", "augment": 0}
ADDITIVE = ("n_layers", "augment")  # rules add to these; they multiply the rest


@dataclass
class Candidate:
    diff: dict
    reason: str
    trial: int | None = None  # the Optuna trial it came from


class SearchPolicy:
    def __init__(
        self, storage: Path, name: str, higher_is_better: bool, task: str, seed: int = 0
    ) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        storage.parent.mkdir(parents=True, exist_ok=True)
        self._optuna, self.task = optuna, task
        self.study = optuna.create_study(
            study_name=name,
            storage=f"sqlite:///{storage}",
            load_if_exists=True,
            direction="maximize" if higher_is_better else "minimize",
            sampler=optuna.samplers.TPESampler(seed=seed),
        )

    def candidates(self, base: dict, last_kind: str | None = None, n: int = 3) -> list[Candidate]:
        """Rule candidates for the last diagnosis (for merged specialists, other ways to
        merge them too), then TPE suggestions, up to n."""
        self._close_unchosen()
        rules = [
            self._rule(base, reason, change) for reason, change in RULES.get(last_kind or "", [])
        ]
        if self.task == "diloco":  # specialists exist: other ways to combine them cost no training
            rules += [
                self._rule(base, f"combine the specialists by {m}", {"merge": m}) for m in MERGES
            ]
        found = [c for c in rules if c is not None][:n]
        for _ in range(n - len(found)):
            trial = self.study.ask(self._distributions())
            found.append(Candidate(dict(trial.params), "TPE suggestion", trial.number))
        return found

    def record(
        self, experiment_id: str, diff: dict, value: float | None, trial: int | None = None
    ) -> None:
        """A finished experiment: its own trial is told, any other run is added as a trial,
        once per experiment id (a resumed session may record the same experiment again)."""
        key = f"recorded:{experiment_id}"
        if key in self.study.user_attrs:
            return
        states = self._optuna.trial.TrialState
        params = {k: v for k, v in clip(diff)[0].items() if k in self._distributions()}
        if trial is not None:
            if value is None:
                self.study.tell(trial, state=states.FAIL)
            else:
                self.study.tell(trial, value)
        elif value is not None:
            dists = {k: d for k, d in self._distributions().items() if k in params}
            self.study.add_trial(
                self._optuna.trial.create_trial(params=params, distributions=dists, value=value)
            )
        self.study.set_user_attr(key, value)

    def _rule(self, base: dict, reason: str, change: dict) -> Candidate | None:
        """None when the rule changes nothing here (no such setting for the task, or the
        value is already in place)."""
        diff = {}
        for key, factor in change.items():
            current = base.get(key, default(key))
            if isinstance(factor, str):
                diff[key] = factor
            else:
                diff[key] = current + factor if key in ADDITIVE else current * factor
        diff = {k: v for k, v in clip(diff, self.task)[0].items() if v != base.get(k, default(k))}
        return Candidate(diff, reason) if diff else None

    def _distributions(self) -> dict:
        d = self._optuna.distributions
        out = {}
        for key, p in SPACE.items():
            if key not in TPE_KEYS:
                continue
            if p.choices:
                out[key] = d.CategoricalDistribution(p.choices)
            elif p.integer:
                out[key] = d.IntDistribution(int(p.low), int(p.high))
            else:
                out[key] = d.FloatDistribution(p.low, p.high, log=p.log)
        return out

    def _close_unchosen(self) -> None:
        running = self._optuna.trial.TrialState.RUNNING
        for t in self.study.get_trials(deepcopy=False, states=(running,)):
            self.study.tell(t.number, state=self._optuna.trial.TrialState.FAIL)


def default(key: str):
    """A search key's value in a config that does not set it: TrainConfig's and
    ModelConfig's own defaults (the ternary learning rate), or the search-only ones."""
    from magnet.tools.bitnet.config import DEFAULT_LR, TrainConfig
    from magnet.tools.bitnet.model import ModelConfig

    if key in SEARCH_ONLY_DEFAULTS:
        return SEARCH_ONLY_DEFAULTS[key]
    if key == "lr":
        return DEFAULT_LR["ternary"]
    for model in (TrainConfig, ModelConfig):
        if key in model.model_fields:
            return model.model_fields[key].default
    raise KeyError(key)
