"""`magnet diloco` (train specialists and merge them) and `magnet merge` (merge existing ones)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer

from magnet.tools import console

MethodName = Literal["diloco", "average", "task-arithmetic", "ties"]


def diloco_command(
    domains: Annotated[
        list[str], typer.Option("--domains", help="LM datasets, e.g. python-stdlib shakespeare")
    ],
    more: Annotated[
        list[str] | None,
        typer.Argument(help="more domains, then key=value training settings", show_default=False),
    ] = None,
    workers: Annotated[int, typer.Option(help="a multiple of the domains (0: one each)")] = 0,
    inner_steps: Annotated[int, typer.Option(help="H: AdamW steps between syncs")] = 100,
    rounds: Annotated[int, typer.Option(help="R: outer steps (syncs)")] = 3,
    compression: Annotated[
        Literal["none", "bf16", "int8"], typer.Option(help="pseudo-gradient transport")
    ] = "none",
    outer_lr: Annotated[float, typer.Option(help="outer Nesterov SGD learning rate")] = 0.7,
    fault_tolerant: Annotated[
        bool,
        typer.Option(
            help="torchft: the others go on when a worker dies (its servers listen on every "
            "interface)"
        ),
    ] = False,
    joint: Annotated[
        bool, typer.Option(help="also train one model on the mixture, same steps")
    ] = True,
    out: Annotated[Path | None, typer.Option(help="output directory")] = None,
) -> None:
    """Train one specialist per domain from a shared base with DiLoCo, and merge them.

    One process per worker, gloo on the loopback interface; every H steps they sync.

    A sync averages the pseudo-gradients and takes an outer Nesterov step.

    Prints val bits per byte per domain: base, specialists, merged, joint; and retention.

    Example: magnet diloco --domains python-stdlib shakespeare --inner-steps 50 n_layers=2
    """
    from magnet.tools.bitnet.config import parse_settings
    from magnet.tools.diloco.report import retention_summary
    from magnet.tools.diloco.run import run_diloco
    from magnet.tools.diloco.spec import DilocoSpec
    from magnet.tools.errors import ConfigError, first_problem
    from magnet.tools.paths import magnet_home

    extra = more or []
    settings = [a for a in extra if "=" in a]
    names = domains + [a for a in extra if "=" not in a]
    if len(names) < 2:
        raise ConfigError("give at least two domains to merge (--domains A B)")
    target = out or magnet_home() / "diloco" / _stamp()
    try:
        spec = DilocoSpec(
            domains=names,
            workers=workers,
            inner_steps=inner_steps,
            rounds=rounds,
            compression=compression,
            outer_lr=outer_lr,
            fault_tolerant=fault_tolerant,
            settings=parse_settings(settings),
            out=target,
        )
    except ValueError as e:
        raise ConfigError(first_problem(e)) from None
    result = run_diloco(spec, joint)
    console.out.print(result["table"], markup=False, highlight=False)
    lost = f"\nworkers lost: {result['lost_workers']}" if result["lost_workers"] else ""
    console.out.print(
        f"retention: {retention_summary(result['retention'])}\n"
        f"bytes sent: {result['bytes_sent']:,}{lost}\nout: {target}",
        highlight=False,
    )


def merge_command(
    base: Annotated[Path, typer.Option(help="model directory the specialists started from")],
    specialists: Annotated[list[Path], typer.Option(help="specialist model directories")],
    out: Annotated[Path, typer.Option(help="merged model directory to create")],
    method: Annotated[MethodName, typer.Option(help="how to combine them")] = "diloco",
    scale: Annotated[float, typer.Option(help="task arithmetic: λ on the summed deltas")] = 0.5,
    density: Annotated[float, typer.Option(help="TIES: share of each delta kept")] = 0.2,
    domains: Annotated[
        list[str] | None, typer.Option(help="LM datasets to evaluate the merge on")
    ] = None,
) -> None:
    """Merge specialists trained from one base into one model directory.

    Example: magnet merge --base D/base --specialists A --specialists B --method ties --out M
    """
    from magnet.tools.diloco.merge import merge_dirs

    merge_dirs(base, specialists, method, out, scale=scale, density=density)
    console.out.print(f"merged {len(specialists)} specialists ({method}) into {out}")
    if domains:
        from magnet.tools.diloco.report import evaluate_models

        models = {"base": base, **{str(s): s for s in specialists}, "merged": out}
        table = evaluate_models(models, domains)
        console.out.print_json(json.dumps(table))


def _stamp() -> str:
    import secrets
    import time

    return f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


if __name__ == "__main__":  # the sandbox runs a re-merge as `python -m magnet.tools.diloco.cli`
    typer.run(merge_command)
