"""The layout's borders (STYLE.md): no import cycle, and a domain that never reads files.

The domain is every module outside ``io/``, ``commands/``, ``cli.py``, ``report/`` and
``render/`` (and the public-API ``__init__``/``__main__``): it must not import ``pmargin.io``
and must not open, read or write a file. Imports inside functions count: a deferred import
still ties two modules together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pmargin"
#: packages and modules that may read or write files, or join loaders to the library
OUTSIDE_DOMAIN = ("io", "commands", "report", "render", "cli.py", "__init__.py", "__main__.py")
#: calls that open, read or write a file (by attribute or function name)
FILE_CALLS = {
    "open",
    "read_text",
    "read_bytes",
    "write_text",
    "write_bytes",
    "read_csv",
    "read_json",
    "read_parquet",
    "read_excel",
    "to_csv",
    "to_json",
    "load",
    "loadtxt",
    "genfromtxt",
    "safe_load",
    "iterdir",
    "glob",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """pmargin modules that ``name`` imports anywhere in its body (absolute or relative)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {t for t in targets if t in known and t != name}
    return found


def import_graph() -> dict[str, set[str]]:
    known = modules()
    names = set(known)
    return {name: imported_modules(name, path, names) for name, path in known.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path [a, b, ..., a], or None. A package's ``__init__`` importing its
    own submodules is not a cycle by itself (the submodule importing the package back is)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def domain_modules() -> dict[str, Path]:
    def outside(path: Path) -> bool:
        relative = path.relative_to(PACKAGE)
        return relative.parts[0] in OUTSIDE_DOMAIN

    return {n: p for n, p in modules().items() if not outside(p)}


def test_the_package_has_no_import_cycle():
    assert find_cycle(import_graph()) is None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_domain_is_not_empty_and_excludes_loaders():
    domain = domain_modules()
    assert {"pmargin.engine", "pmargin.portfolio_margin", "pmargin.margin.deribit"} <= set(domain)
    assert not any(name.startswith(("pmargin.io", "pmargin.commands")) for name in domain)


@pytest.mark.parametrize("name", sorted(domain_modules()))
def test_the_domain_imports_nothing_from_io(name):
    graph = import_graph()
    assert not {m for m in graph[name] if m == "pmargin.io" or m.startswith("pmargin.io.")}


@pytest.mark.parametrize("name", sorted(domain_modules()))
def test_the_domain_opens_no_file(name):
    tree = ast.parse(domain_modules()[name].read_text(encoding="utf-8"))
    calls = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            function = node.func
            called = function.attr if isinstance(function, ast.Attribute) else None
            if isinstance(function, ast.Name):
                called = function.id
            if called in FILE_CALLS:
                calls.add(f"{called} (line {node.lineno})")
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            if any(n in ("yaml", "csv", "importlib.resources") for n in names):
                calls.add(f"import of a file-format module (line {node.lineno})")
            if (
                isinstance(node, ast.ImportFrom)
                and node.module == "importlib"
                and any(a.name == "resources" for a in node.names)
            ):
                calls.add(f"importlib.resources (line {node.lineno})")
    assert not calls, f"{name} reads or writes files: {sorted(calls)}"
