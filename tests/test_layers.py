"""Layers point one way: the agent uses tools, memory and sandboxes; they never use the agent
(not by import, not by running `python -m magnet.agent...` in a subprocess). sandboxes/ is
isolation only: of tools/ it uses the errors and the console. No two parts of the library
import each other, even lazily (a CLI module is a client of its part, and is left out)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOWER = ("tools", "memory", "sandboxes")
TOP = ("agent", "tools", "memory", "sandboxes", "prompts")
SANDBOXES_MAY_USE = {"magnet.tools.errors", "magnet.tools.console"}


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


def imported_modules(path: Path) -> set[str]:
    """Every magnet module a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            # `from magnet.tools import console` imports the module magnet.tools.console
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return {n for n in found if n.startswith("magnet.")}


def part(module: str) -> str:
    """The part of the library a module belongs to: tools.<name> inside tools/, else the
    top-level folder (magnet.tools.bitnet.train → tools.bitnet)."""
    names = module.split(".")[1:]
    return ".".join(names[:2]) if names[0] == "tools" and len(names) > 1 else names[0]


def module_of(path: Path) -> str:
    names = list(path.relative_to(ROOT).with_suffix("").parts)
    return "magnet." + ".".join(names[:-1] if names[-1] == "__init__" else names)


def part_graph(files: list[Path]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in files:
        if path.name == "cli.py":
            continue
        here = part(module_of(path))
        graph.setdefault(here, set()).update(
            p for p in map(part, imported_modules(path)) if p not in (here, "tools")
        )
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each cycle found by a depth-first walk, as the path that closes it."""
    found, done = [], set()

    def walk(node: str, path: list[str]) -> None:
        if node in path:
            found.append(path[path.index(node) :] + [node])
            return
        if node in done:
            return
        for nxt in sorted(graph.get(node, ())):
            walk(nxt, [*path, node])
        done.add(node)

    for node in sorted(graph):
        walk(node, [])
    return found


def _within(module: str, allowed: set[str]) -> bool:
    return any(module == a or module.startswith(a + ".") for a in allowed)


def library_files() -> list[Path]:
    return [p for top in TOP for p in (ROOT / top).rglob("*.py")]


def test_tools_memory_and_sandboxes_never_use_the_agent():
    files = [p for layer in LOWER for p in (ROOT / layer).rglob("*.py")]
    assert len(files) > 50
    assert [ref for p in files for ref in agent_references(p)] == []


def test_the_check_finds_an_import_of_the_agent(tmp_path):
    bad = tmp_path / "probe.py"
    bad.write_text("from magnet.agent.state import Budget\nARGV = ['-m', 'magnet.agent.cli']\n")
    assert len(agent_references(bad)) == 2


def test_sandboxes_use_nothing_of_tools_but_errors_and_the_console():
    used = {
        f"{p.name}: {m}"
        for p in (ROOT / "sandboxes").rglob("*.py")
        for m in imported_modules(p)
        if m.startswith("magnet.tools.") and not _within(m, SANDBOXES_MAY_USE)
    }
    assert used == set()


def test_no_two_parts_of_the_library_import_each_other():
    graph = part_graph(library_files())
    assert {"tools.harness", "tools.bitnet", "sandboxes"} <= set(graph)
    assert cycles(graph) == []


def test_the_check_finds_a_cycle():
    graph = {"tools.bitnet": {"tools.harness"}, "tools.harness": {"sandboxes", "tools.bitnet"}}
    assert cycles(graph) == [["tools.bitnet", "tools.harness", "tools.bitnet"]]
    assert part("magnet.tools.bitnet.tasks") == "tools.bitnet" and part("magnet.agent.x") == "agent"
