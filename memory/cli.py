"""`magnet memory`: search, show and count the findings that experiments left behind."""

from __future__ import annotations

from typing import Annotated

import typer

from magnet.tools import console

app = typer.Typer(help="Research memory: findings from every session.", no_args_is_help=True)


@app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help="what to look for, in plain words")],
    goal: Annotated[str | None, typer.Option(help="only findings of this exact goal")] = None,
    dataset: Annotated[str | None, typer.Option(help="only findings on this dataset")] = None,
    verdict: Annotated[
        str | None, typer.Option(help="first | improved | no_change | worse | failed | rejected")
    ] = None,
    session: Annotated[str | None, typer.Option(help="only this session's findings")] = None,
    limit: Annotated[int, typer.Option(help="how many")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Findings nearest in meaning to QUERY.

    Example: magnet memory search "learning rate too high" --verdict failed
    """
    from rich.markup import escape
    from rich.table import Table

    from magnet.memory.store import FindingsStore

    hits = FindingsStore().search(
        query, goal=goal, dataset=dataset, verdict=verdict, session=session, limit=limit
    )
    if as_json:
        console.out.print_json(data=[h.model_dump() for h in hits])
        return
    table = Table("id", "distance", "verdict", "goal", "hypothesis / config")
    for h in hits:
        f = h.finding
        table.add_row(f.id, f"{h.distance:.3f}", f.verdict, escape(f.goal), escape(f.line()))
    console.out.print(table)


@app.command("show")
def show_command(finding_id: Annotated[str, typer.Argument(help="a finding id")]) -> None:
    """Print one finding as JSON.

    Example: magnet memory show 3f2a9c0d1b2e4f5a
    """
    from magnet.memory.store import FindingsStore

    console.out.print_json(FindingsStore().get(finding_id).model_dump_json())


@app.command("stats")
def stats_command() -> None:
    """How many findings, sessions and goals the store holds, by verdict.

    Example: magnet memory stats
    """
    from magnet.memory.store import FindingsStore

    console.out.print_json(data=FindingsStore().stats())
