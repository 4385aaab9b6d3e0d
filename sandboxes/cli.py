"""`magnet sandbox`: which isolation levels work here, and running a command in one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from magnet.tools import console

app = typer.Typer(help="Isolated experiment execution.", no_args_is_help=True)


@app.command("check")
def check_command() -> None:
    """Print which isolation levels work on this machine, and why the others do not.

    Example: magnet sandbox check
    """
    from rich.table import Table

    from magnet.sandboxes.isolation import LEVELS, best_level, probe

    table = Table("level", "works", "detail")
    for level in LEVELS:
        works, why = probe(level)
        table.add_row(level, "yes" if works else "no", why)
    console.out.print(table)
    console.out.print(f"experiments will run under: {best_level()}", highlight=False)


@app.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run_command(
    ctx: typer.Context,
    work_dir: Annotated[Path, typer.Option(help="the only writable directory")] = Path(
        "sandbox-work"
    ),
    level: Annotated[
        Literal["bwrap", "unshare", "rlimits"] | None,
        typer.Option(help="isolation level (default: the strongest that works)"),
    ] = None,
    timeout: Annotated[float, typer.Option(help="wall-clock seconds")] = 600,
    memory_gb: Annotated[float, typer.Option(help="address-space cap in GiB (>= 1)")] = 8,
) -> None:
    """Run a command in the sandbox and print the result as JSON.

    Example: magnet sandbox run --timeout 5 -- python -c "print('hi')"
    """
    from magnet.sandboxes import Limits, SandboxSpec, run_sandboxed
    from magnet.tools.errors import ConfigError

    if not ctx.args:
        raise ConfigError("give the command after --, e.g. magnet sandbox run -- python -V")
    try:
        limits = Limits(wall_seconds=timeout, memory_bytes=int(memory_gb * (1 << 30)))
    except ValueError as e:
        raise ConfigError(f"invalid limits: {e.errors()[0]['msg']}") from None
    result = run_sandboxed(
        SandboxSpec(argv=ctx.args, work_dir=work_dir, limits=limits, level=level)
    )
    for warning in result.warnings:
        console.warning(warning)
    console.out.print_json(result.model_dump_json(exclude={"metrics"}))
    if result.status != "ok":
        raise typer.Exit(1)
