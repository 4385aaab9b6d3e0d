"""The `magnet` command line. Each tool brings its own sub-command; this module mounts them
and turns a MagnetError into one `Error: ...` line and exit code 1.

    magnet data list
    magnet train --task lm --data shakespeare --steps 200
"""

from __future__ import annotations

import os
import sys

import typer

from magnet.agent import research_cli
from magnet.agent.ui.cli import ui_command
from magnet.memory.cli import app as memory_app
from magnet.sandboxes.cli import app as sandbox_app
from magnet.tools import console
from magnet.tools.bitnet.cli import train_command
from magnet.tools.chain.cli import app as chain_app
from magnet.tools.datasets.cli import app as data_app
from magnet.tools.diloco.cli import diloco_command, merge_command
from magnet.tools.errors import MagnetError
from magnet.tools.export.cli import export_command, serve_command

# Locals can hold API keys: tracebacks show them only when asked for.
DEBUG = os.environ.get("MAGNET_DEBUG") == "1"

app = typer.Typer(
    help="MAGNET: an autonomous researcher that trains ternary BitNet b1.58 experts on CPUs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=DEBUG,
)
app.add_typer(data_app, name="data")
app.command("train")(train_command)
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(memory_app, name="memory")
app.command("diloco")(diloco_command)
app.command("merge")(merge_command)
app.add_typer(chain_app, name="chain")
app.command("export")(export_command)
app.command("serve")(serve_command)
for name, command in research_cli.COMMANDS.items():
    app.command(name)(command)
app.command("ui")(ui_command)


def main() -> None:
    try:
        app()
    except MagnetError as e:
        console.error(str(e))
        sys.exit(1)


if __name__ == "__main__":
    main()
