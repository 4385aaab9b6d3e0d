"""`magnet data`: list the built-in datasets and show a dataset's card."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from magnet.tools import console

app = typer.Typer(help="Built-in and user datasets.", no_args_is_help=True)
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
    name: Annotated[str, typer.Argument(help="built-in name, or a path to user data")],
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
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        elif isinstance(value, list):
            value = "; ".join(map(str, value))
        table.add_row(key, "" if value is None else str(value))
    console.out.print(table)
