"""Layers point one way: the agent uses tools, memory and sandboxes; they never use the agent
(not by import, not by running `python -m magnet.agent...` in a subprocess)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOWER = ("tools", "memory", "sandboxes")


def agent_references(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names = [node.value] if node.value.startswith("magnet.agent") else []
        found += [f"{path}:{node.lineno}: {n}" for n in names if _agent(n)]
    return found


def _agent(name: str) -> bool:
    return name == "magnet.agent" or name.startswith("magnet.agent.")


def test_tools_memory_and_sandboxes_never_use_the_agent():
    files = [p for layer in LOWER for p in (ROOT / layer).rglob("*.py")]
    assert len(files) > 50
    assert [ref for p in files for ref in agent_references(p)] == []


def test_the_check_finds_an_import_of_the_agent(tmp_path):
    bad = tmp_path / "probe.py"
    bad.write_text("from magnet.agent.state import Budget\nARGV = ['-m', 'magnet.agent.cli']\n")
    assert len(agent_references(bad)) == 2
