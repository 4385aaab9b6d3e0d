"""`magnet data`: list the built-in datasets and show a dataset's card."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from magnet.tools import console

app = typer.Typer(help="Built-in, user and generated datasets.", no_args_is_help=True)
TaskName = Literal["lm", "classify", "direction"]


@app.command("list")
def list_command() -> None:
    """List the built-in offline datasets.

    Example: magnet data list
    """
    from rich.table import Table

    from magnet.tools.datasets.builtin import BUILTINS

    table = Table("name", "task", "license", "description")
    for b in BUILTINS.values():
        table.add_row(b.about.name, b.task, b.about.license, b.about.description)
    console.out.print(table)


@app.command("show")
def show_command(
    name: Annotated[
        str, typer.Argument(help="built-in name, a path to user data, or a generated dataset")
    ],
    task: Annotated[TaskName | None, typer.Option(help="task a user file is read for")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the card as JSON")] = False,
) -> None:
    """Load a dataset and print its card: source, license, split sizes, sha256.

    Example: magnet data show sms-spam
    """
    from rich.table import Table

    from magnet.tools.datasets import load_dataset

    card = load_dataset(name, task).card
    if as_json:
        console.out.print_json(card.model_dump_json())
        return
    table = Table(show_header=False)
    for key, value in card.model_dump().items():
        if key == "generation":
            value = "; ".join(
                f"{g['generator']} {g['model']} ({g['split']}): kept {g['kept']} of "
                f"{g['requested']}, dropped {g['dropped'] or 'none'}"
                for g in value
            )
        elif isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        elif isinstance(value, list):
            value = "; ".join(map(str, value))
        table.add_row(key, "" if value is None else str(value))
    console.out.print(table)


@app.command("generate")
def generate_command(
    out: Annotated[Path, typer.Option(help="new directory for the dataset")],
    task: Annotated[TaskName, typer.Option(help="classify, lm or direction")] = "classify",
    labels: Annotated[str, typer.Option(help="classify: comma-separated classes")] = "",
    describe: Annotated[str, typer.Option(help="what the texts are, in plain words")] = "",
    n: Annotated[int, typer.Option(help="examples (classify) or passages (lm)")] = 200,
    model: Annotated[
        str | None, typer.Option(help="litellm model (default $MAGNET_MODEL or the local one)")
    ] = None,
    api_base: Annotated[str | None, typer.Option(help="OpenAI-compatible server URL")] = None,
    templates: Annotated[
        Path | None,
        typer.Option(
            help='classify without an LLM: JSON {"templates": {label: [...]}, '
            '"slots": {name: [...]}}'
        ),
    ] = None,
    days: Annotated[int, typer.Option(help="direction: days of synthetic prices")] = 2500,
    holdout: Annotated[
        str | None,
        typer.Option(help="dataset whose val/test texts nothing generated may nearly repeat"),
    ] = None,
    batch_size: Annotated[int, typer.Option(help="examples per LLM call")] = 10,
    token_budget: Annotated[int, typer.Option(help="LLM tokens at most")] = 500_000,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Make a dataset with an LLM, from templates, or as synthetic prices.

    The LLM writes labelled examples or domain text (validated, de-duplicated, class-balanced);
    --templates slot-fills without one; --task direction makes regime-switching prices.

    Example: magnet data generate --task classify --labels safe,unsafe
             --describe "one-line descriptions of online videos" --n 500 --out data/videos
    """
    from magnet.tools.datasets import load_dataset
    from magnet.tools.datasets.generated import save_generated
    from magnet.tools.datasets.types import Generation

    if task == "direction":
        from magnet.tools.datasets.synthetic import regime_walk

        data = regime_walk(days, seed)
        generation = Generation(generator="regime-walk", seed=seed, requested=days, kept=days)
    elif templates is not None:
        data, generation = _from_templates(templates, n, seed)
    else:
        data, generation = _from_llm(
            task, labels, describe, n, model, api_base, holdout, batch_size, token_budget, seed
        )
    path = save_generated(out, task, data, generation)
    card = load_dataset(str(path)).card  # proves it loads, and shows the split it gets
    console.line(
        f"{path}: {generation.kept} kept of {generation.requested} asked; "
        f"dropped {generation.dropped or 'none'}; splits {card.sizes}"
    )


def _from_llm(task, labels, describe, n, model, api_base, holdout, batch_size, budget, seed):
    from magnet.tools.datasets import load_dataset
    from magnet.tools.datasets.generate import GenerateRequest, generate
    from magnet.tools.errors import ConfigError, DatasetError, first_problem
    from magnet.tools.llm import Llm

    held = []
    if holdout:
        ds = load_dataset(holdout, "classify" if task == "classify" else "lm")
        held = ds.val.texts + ds.test.texts if task == "classify" else [*ds.val, *ds.test]
    try:
        request = GenerateRequest(
            task=task,
            describe=describe,
            labels=labels.split(",") if labels else [],
            n=n,
            batch_size=batch_size,
            token_budget=budget,
            seed=seed,
            holdout=held,
        )
    except ValueError as e:
        raise ConfigError(f"data generate: {first_problem(e, hide=('value',))}") from None

    def progress(g) -> None:
        console.line(
            f"batch {g.batches}: kept {g.kept}/{g.requested}, dropped {sum(g.dropped.values())}"
            f", {g.failed_batches} failed batches, {g.tokens} tokens, {g.seconds:.0f} s",
            stderr=True,
        )

    examples, generation = generate(Llm(model, api_base, max_tokens=2048), request, progress)
    if len({e.label for e in examples}) < (2 if task == "classify" else 1) or len(examples) < 3:
        raise DatasetError(
            f"the model gave {len(examples)} usable examples in {generation.batches} batches "
            f"(dropped: {generation.dropped or 'none'}): too few for a dataset"
        )
    return examples, generation


def _from_templates(path: Path, n: int, seed: int):
    import json

    from magnet.tools.datasets.dedupe import normalise
    from magnet.tools.datasets.synthetic import fill_templates
    from magnet.tools.datasets.types import Generation
    from magnet.tools.errors import DatasetError

    try:
        spec = json.loads(path.read_text())
        filled = fill_templates(spec["templates"], spec.get("slots", {}), n, seed)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise DatasetError(f"{path}: not a templates file ({type(e).__name__}: {e})") from None
    examples = list({normalise(e.text): e for e in filled}.values())  # few slot combinations
    dropped = {"duplicate": n - len(examples)} if len(examples) < n else {}
    generation = Generation(
        generator="templates", seed=seed, requested=n, kept=len(examples), dropped=dropped
    )
    return examples, generation


@app.command("augment")
def augment_command(
    data: Annotated[
        str, typer.Argument(help="classification dataset: built-in, path or generated")
    ],
    out: Annotated[Path, typer.Option(help="directory of the grown dataset (created or extended)")],
    from_run: Annotated[
        Path | None,
        typer.Option(help="failure-driven: write examples for this run's misclassified val texts"),
    ] = None,
    n: Annotated[int, typer.Option(help="failure-driven examples to write")] = 100,
    paraphrase: Annotated[int, typer.Option(help="LLM rewrites of random train examples")] = 0,
    noise: Annotated[int, typer.Option(help="typo'd copies of every train example")] = 0,
    model: Annotated[
        str | None, typer.Option(help="litellm model for --from-run and --paraphrase")
    ] = None,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Grow a classification dataset's train split; validation and test stay as they are.

    Adds examples aimed at what a run gets wrong (--from-run), LLM paraphrases (--paraphrase)
    and typo'd copies (--noise).

    Example: magnet data augment sms-spam --from-run runs/spam --n 200 --out data/spam-plus
    """
    from magnet.tools.datasets import load_dataset
    from magnet.tools.datasets.augment import failure_driven, noisy_copies, paraphrased
    from magnet.tools.errors import ConfigError
    from magnet.tools.llm import Llm

    if from_run is None and not noise and not paraphrase:
        raise ConfigError("say what to add: --from-run RUN, --paraphrase N and/or --noise N")
    llm = Llm(model, max_tokens=2048)
    if from_run is not None:
        from magnet.tools.bitnet.run_dir import RunDir
        from magnet.tools.harness.evaluate import misclassified

        weak = misclassified(from_run, RunDir(from_run).config().data)
        made = failure_driven(llm, data, weak, n, out, seed)
        console.line(
            f"{made.kept} examples for {len(weak)} misclassified val texts; "
            f"dropped {made.dropped or 'none'}"
        )
    if paraphrase:
        made = paraphrased(llm, data, paraphrase, out, seed)
        console.line(f"{made.kept} paraphrases; dropped {made.dropped or 'none'}")
    if noise:
        made = noisy_copies(data, noise, out, seed=seed)
        console.line(f"{made.kept} noisy copies")
    card = load_dataset(str(out), "classify").card
    console.line(f"{out}: splits {card.sizes}; {card.notes[-1]}")
