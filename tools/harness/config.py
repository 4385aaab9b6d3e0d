"""One experiment's configuration, typed once where a proposal becomes an experiment.

    config = ExperimentConfig.build("lm", "shakespeare", {"tokenizer": "bpe", "merge": "ties"})
    config.train            # the trainer's validated TrainConfig: the sandbox gets it as it is
    config.merge            # "ties": read by the search and the harness, never by the trainer
    config.with_steps(420)  # the same config at the steps equal compute gives it
    config.for_seconds(600) # or trained for a time instead (the session's scale-up)

People, the LLM and the search write settings as flat `key=value` pairs (the coordinates
the search and memory compare); they become a TrainConfig here and nowhere else.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from magnet.tools.bitnet.config import TrainConfig, make_config
from magnet.tools.datasets.types import Task
from magnet.tools.search.space import SEARCH_ONLY_DEFAULTS
from magnet.tools.settings import Scalar


def trainer_settings(settings: dict) -> dict:
    """`settings` less the search-only keys: what the trainer takes."""
    return {k: v for k, v in settings.items() if k not in SEARCH_ONLY_DEFAULTS}


class ExperimentConfig(BaseModel):
    settings: dict[str, Scalar] = Field(description="everything set, flat, search-only included")
    train: TrainConfig = Field(description="the trainer's config, validated from `settings`")

    @classmethod
    def build(
        cls, task: Task, data: str, settings: dict, steps: int | None = None
    ) -> ExperimentConfig:
        """Raises ConfigError, naming the value, for a config the trainer would refuse."""
        train = make_config(task, data, steps=steps, settings=trainer_settings(settings))
        return cls(settings=dict(settings), train=train)

    @property
    def merge(self) -> str:
        return str(self.settings.get("merge", SEARCH_ONLY_DEFAULTS["merge"]))

    @property
    def augment(self) -> int:
        return int(self.settings.get("augment") or 0)

    def with_steps(self, steps: int) -> ExperimentConfig:
        return self.model_copy(update={"train": self.train.model_copy(update={"steps": steps})})

    def for_seconds(self, seconds: float) -> ExperimentConfig:
        """The same config trained for `seconds` of wall time, its schedule following the
        clock (the trainer's budget_seconds), instead of for a number of steps."""
        train = self.train.model_copy(update={"steps": None, "budget_seconds": seconds})
        return self.model_copy(update={"train": train})
