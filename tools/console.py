"""The one Rich console pair every command prints through: results on stdout, the rest on stderr."""

from rich.console import Console
from rich.markup import escape

out = Console()
err = Console(stderr=True)


def error(message: str) -> None:
    err.print(f"[bold red]Error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def warning(message: str) -> None:
    err.print(f"[yellow]Warning:[/] {escape(message)}", highlight=False, soft_wrap=True)


def line(text: str, stderr: bool = False) -> None:
    """Plain text as is: no markup, no highlighting, never wrapped (paths stay whole)."""
    (err if stderr else out).print(text, markup=False, highlight=False, soft_wrap=True)
