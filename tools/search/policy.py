"""Candidates for the next experiment: failure rules first, then Optuna TPE suggestions.

    policy = SearchPolicy(home / "study.db", "session-1", BITS_PER_BYTE, task="lm")
    for c in policy.candidates(best_config, last_kind="diverged"):
        print(c.diff, c.reason)
    policy.record(exp_id, config_that_ran, value)   # every rung-0 experiment, once each
    policy.sized(default_config, expert_flops)       # the first idea: a shape for the budget

The study lives in SQLite, so it continues across a resume, and holds only real trials: each
experiment that ran, with every searched setting's value (its default where it set none) and
its metric, or FAIL. TPE samples from a scratch copy of it in memory, seeded by the number of
trials, so suggestions never leave asked-but-unrun trials behind. The space is broad (model
shape, batch, sequence length, schedule, tokenizer): experiments run at equal compute, so a
bigger model or batch is a trade-off the search may make, never free compute.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from magnet.tools.metrics import Metric
from magnet.tools.search.space import SEARCH_ONLY_DEFAULTS, SPACE, clip

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
MERGES = ("ties", "average")
# A sample's batch is halved until a step reads at most this many tokens (twice the default):
# at equal compute a huge batch costs steps, but it also costs memory the sandbox caps.
MAX_TOKENS_PER_STEP = 8192
ADDITIVE = ("n_layers", "augment")  # rules add to these; they multiply the rest
SAMPLER_NAMES = {"tpe": "TPE", "random": "random-search"}


@dataclass
class Candidate:
    diff: dict
    reason: str


class SearchPolicy:
    def __init__(
        self,
        storage: Path,
        name: str,
        metric: Metric,
        task: str,
        seed: int = 0,
        sampler: Literal["tpe", "random"] = "tpe",
        rules: bool = True,
    ) -> None:
        """`sampler` and `rules=False` make the plain searches a session is measured against."""
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        storage.parent.mkdir(parents=True, exist_ok=True)
        self._optuna, self.task, self.seed = optuna, task, seed
        self.sampler, self.rules = sampler, rules
        self.direction = "maximize" if metric.higher_is_better else "minimize"
        self.study = optuna.create_study(
            study_name=name,
            storage=f"sqlite:///{storage}",
            load_if_exists=True,
            direction=self.direction,
        )

    def candidates(self, base: dict, last_kind: str | None = None, n: int = 3) -> list[Candidate]:
        """Rule candidates for the last diagnosis (for merged specialists, other ways to
        merge them too), then TPE suggestions as changes from `base`, up to n."""
        rules = [
            self._rule(base, reason, change)
            for reason, change in (RULES.get(last_kind or "", []) if self.rules else [])
        ]
        if self.task == "diloco":  # specialists exist: other ways to combine them cost no training
            rules += [
                self._rule(base, f"combine the specialists by {m}", {"merge": m}) for m in MERGES
            ]
        found = [c for c in rules if c is not None][:n]
        for params in self._suggest(n - len(found)):
            diff = {k: v for k, v in params.items() if v != base.get(k, default(k))}
            if diff:
                found.append(Candidate(diff, f"{SAMPLER_NAMES[self.sampler]} suggestion"))
        return found

    def sized(self, settings: dict, flops: float) -> Candidate | None:
        """The config of `settings` reshaped for `flops` of training (tools/search/sizing.py):
        this policy's first idea for a language model or classifier; None for the plain
        samplers, other tasks, or when the shape is right already."""
        from magnet.tools.search.sizing import TOKENS_PER_PARAM, sized_for, tokens_per_param

        if not self.rules or self.task not in ("lm", "classify"):
            return None
        diff = sized_for(self.task, settings, flops)
        if not diff:
            return None
        now = tokens_per_param(self.task, settings, flops)
        reason = (
            f"a model sized for the expert's {flops:.2g} training FLOPs: about "
            f"{TOKENS_PER_PARAM:g} tokens per parameter instead of {now:.2g}"
        )
        if diff.get("tokenizer") == "bpe":
            vocab = diff.get("bpe_vocab", settings.get("bpe_vocab"))
            reason += f", each a subword (BPE {vocab}) carrying more text than a byte"
        if diff.get("tokenizer") == "smollm2":
            reason += ", in the packaged LLM's tokens, starting from its token embeddings"
        return Candidate(diff, reason)

    def record(self, experiment_id: str, config: dict, value: float | None) -> None:
        """A finished experiment as a trial, once per experiment id (a resumed session may
        record the same experiment again): every sampled setting's value, default or not."""
        key = f"recorded:{experiment_id}"
        if key in self.study.user_attrs:
            return
        dists = self._distributions()
        values = clip({k: config.get(k, default(k)) for k in dists}, self.task)[0]
        trial = self._optuna.trial
        self.study.add_trial(
            trial.create_trial(
                params=values,
                distributions={k: dists[k] for k in values},
                value=value,
                state=trial.TrialState.COMPLETE if value is not None else trial.TrialState.FAIL,
            )
        )
        self.study.set_user_attr(key, value)

    def _suggest(self, n: int) -> list[dict]:
        """n TPE samples from a scratch study holding the real trials: nothing asked is kept."""
        if n <= 0:
            return []
        dists = self._distributions()
        states = self._optuna.trial.TrialState
        done = [
            t
            for t in self.study.get_trials(deepcopy=False, states=(states.COMPLETE,))
            if t.distributions == {k: dists[k] for k in t.distributions}
            and set(t.params) == set(dists)
        ]
        samplers = self._optuna.samplers
        kind = samplers.TPESampler if self.sampler == "tpe" else samplers.RandomSampler
        sampler = kind(seed=self.seed + len(done))
        scratch = self._optuna.create_study(direction=self.direction, sampler=sampler)
        scratch.add_trials(done)
        return [_fit(scratch.ask(dists).params) for _ in range(n)]

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
        """Every searched setting that does something for this task, as Optuna sees it."""
        d = self._optuna.distributions
        out = {}
        for key, p in SPACE.items():
            if key in SEARCH_ONLY_DEFAULTS or self.task not in p.tasks:
                continue
            if p.choices:
                out[key] = d.CategoricalDistribution(p.options(self.task))
            elif p.integer:
                out[key] = d.IntDistribution(int(p.low), int(p.high))
            else:
                out[key] = d.FloatDistribution(p.low, p.high, log=p.log)
        return out


def _fit(params: dict) -> dict:
    """A sample whose step fits in memory (every width in SPACE takes every head count)."""
    params = dict(params)
    seq = params.get("seq_len", default("seq_len"))
    while params.get("batch_size", 0) > 1 and params["batch_size"] * seq > MAX_TOKENS_PER_STEP:
        params["batch_size"] //= 2
    return params


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
