"""Prompt templates, one jinja2 file per LLM call (`<call>.md.j2`), rendered strictly.

    from magnet.prompts import render
    text = render("plan", goal=..., best=..., candidates=[...])

A missing variable is an error (StrictUndefined), never a silently empty line.
"""

from __future__ import annotations

import functools
from pathlib import Path

HERE = Path(__file__).parent


@functools.cache
def _environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )


def render(name: str, **variables) -> str:
    return _environment().get_template(f"{name}.md.j2").render(**variables)


def names() -> list[str]:
    return sorted(p.name.removesuffix(".md.j2") for p in HERE.glob("*.md.j2"))


def source(name: str) -> str:
    """A template's text as written (its hash pins what a generated dataset was asked)."""
    return (HERE / f"{name}.md.j2").read_text()
