"""More training data: failure-driven generation, LLM paraphrases and typo noise.

    failure_driven(llm, "sms-spam", weak, 200, out)   # weak: misclassified val texts
    load_dataset(str(out), "classify")                # sms-spam's splits, train grown

`out` becomes a generated dataset extending `data` (its `base`): validation and test stay the
base's own, so scores stay comparable with runs on the base, and nothing generated may nearly
repeat a validation or test text (the leakage guard).
"""

from __future__ import annotations

from pathlib import Path

from magnet.tools.datasets.generate import GenerateRequest, generate
from magnet.tools.datasets.generated import add_to_train, is_generated, save_generated
from magnet.tools.datasets.types import Generation

WEAK_SHOWN = 8  # misclassified examples in one prompt


def failure_driven(llm, data: str, weak: list[dict], n: int, out: Path, seed: int = 0):
    """Generate `n` examples aimed at `weak` ({text, label}) into `out`'s train split;
    returns the Generation (what was asked, kept and dropped)."""
    from magnet.tools.datasets import load_dataset

    shown = [{"text": w["text"][:300], "label": w["label"]} for w in weak[:WEAK_SHOWN]]
    return _generate_into(llm, data, load_dataset(data, "classify"), n, out, seed, weak=shown)


def paraphrased(llm, data: str, n: int, out: Path, seed: int = 0):
    """The LLM rewrites `n` random train examples (balanced across labels) in other words,
    into `out`'s train split."""
    import random

    from magnet.tools.datasets import load_dataset

    ds = load_dataset(data, "classify")
    order = list(range(len(ds.train.texts)))
    random.Random(seed).shuffle(order)
    sources = [{"text": ds.train.texts[i], "label": ds.labels[ds.train.labels[i]]} for i in order]
    # Spares, for rewrites that are dropped.
    return _generate_into(llm, data, ds, n, out, seed, rewrite=sources[: 4 * n])


def _generate_into(llm, data: str, ds, n: int, out: Path, seed: int, **prompting) -> Generation:
    """n LLM examples for `data`'s labels (`ds`, loaded), kept off its val/test texts, into
    `out`'s train split."""
    request = GenerateRequest(
        task="classify",
        labels=ds.labels,
        describe=ds.card.description or f"texts like those of the {ds.card.name} dataset",
        n=n,
        seed=seed,
        holdout=ds.val.texts + ds.test.texts,
        **prompting,
    )
    examples, generation = generate(llm, request)
    generation = generation.model_copy(update={"split": "train"})
    _extend(out, data, examples, generation)
    return generation


def noisy_copies(data: str, copies: int, out: Path, rate: float = 0.05, seed: int = 0):
    """Typo'd copies of every train example, into `out`'s train split."""
    from magnet.tools.datasets import load_dataset
    from magnet.tools.datasets.generate import Example
    from magnet.tools.datasets.synthetic import with_noise

    ds = load_dataset(data, "classify")
    pairs = zip(ds.train.texts, ds.train.labels, strict=True)
    train = [Example(text=t, label=ds.labels[y]) for t, y in pairs]
    examples = with_noise(train, copies, rate, seed)
    generation = Generation(
        generator="noise", split="train", seed=seed, requested=len(examples), kept=len(examples)
    )
    _extend(out, data, examples, generation)
    return generation


def _extend(out: Path, data: str, examples, generation: Generation) -> None:
    if is_generated(out):
        add_to_train(out, examples, generation)
    else:
        save_generated(out, "classify", examples, generation, base=data)
