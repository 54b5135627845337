"""The packages import one way, bottom to top, and no two modules import each other.

Layers: the cell and search-space conversions with the shared types (``adapters``), then the
tabular and zero-cost data (``benchmarks``), then the optimizer adapters
(``adapters.optimizers``, ``adapters.examples``), then ``harness`` by job (running, reporting,
exports, dashboards, compare, the CLI), and on top ``hpo2nas``, the public API that re-exports
them. Every import counts,
also one inside a function: a lazy import is still a dependency.

A private module (a name part starting with ``_``) belongs to the package above it; only that
package and its subpackages import it. Everyone else goes through the package's public names.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("adapters", "benchmarks", "harness", "hpo2nas")


#: ``harness``'s subpackages, bottom to top (``harness/__init__.py`` says what each does).
HARNESS_JOBS = ("running", "reporting", "exports", "dashboards", "compare", "cli")


def layer(module: str) -> float:
    """The rank of a module: it may import only modules of its own rank or lower."""
    if module.startswith(("adapters.optimizers", "adapters.examples")):
        return 2
    parts = module.split(".")
    if parts[0] == "harness":
        job = parts[1] if len(parts) > 1 else ""
        return 3 + (HARNESS_JOBS.index(job) + 1) / 10 if job in HARNESS_JOBS else 3.9
    return {"adapters": 0, "benchmarks": 1, "hpo2nas": 4}[parts[0]]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (``from pkg import name`` counts ``pkg.name`` if a module)."""
    modules = {module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
                for alias in node.names:
                    targets.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycle_between_modules() -> None:
    assert cycles(import_graph()) == []


def test_imports_run_bottom_to_top() -> None:
    upward = sorted(
        f"{source} -> {target}"
        for source, targets in import_graph().items()
        for target in targets
        if layer(target) > layer(source)
    )
    assert upward == []


def private_owner(module: str) -> str | None:
    """The package a private module belongs to (the parts before its first ``_`` part), or None if public."""
    parts = module.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:i])
    return None


def private_imports(graph: dict[str, set[str]]) -> list[str]:
    """Imports of a private module from outside the package it belongs to."""
    found = []
    for source, targets in graph.items():
        for target in targets:
            owner = private_owner(target)
            if owner is not None and source != owner and not source.startswith(owner + "."):
                found.append(f"{source} -> {target}")
    return sorted(found)


def test_no_private_module_is_imported_across_packages() -> None:
    assert private_imports(import_graph()) == []


def test_the_private_import_finder_finds_one() -> None:
    """The checker itself: a sibling package's private module is caught, one's own is not."""
    graph = {"harness.running.runner": {"adapters.optimizers._optuna_study", "harness._x"},
             "adapters.optimizers._smac": {"adapters._cell", "adapters.optimizers._base"},
             "adapters.optimizers._zerocost": {"benchmarks.zerocost._table", "benchmarks.zerocost"}}
    assert private_imports(graph) == ["adapters.optimizers._zerocost -> benchmarks.zerocost._table",
                                      "harness.running.runner -> adapters.optimizers._optuna_study"]


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The checker itself: a planted cycle and an upward import are caught."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert layer("harness.cli") > layer("adapters.optimizers._smac") > layer("benchmarks") > layer("adapters._cell")
    assert layer("harness.cli.app") > layer("harness.compare") > layer("harness.exports.deepcave") > layer("harness.running.runner")


def test_harness_has_only_its_job_subpackages() -> None:
    """Every harness module sits in one of the named jobs (``__main__`` aside), so ranks are total."""
    loose = sorted(name for name in import_graph() if name.startswith("harness.")
                   and name.split(".")[1] not in HARNESS_JOBS and name != "harness.__main__")
    assert loose == []


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_is_walked(package: str) -> None:
    assert any(name.startswith(package) for name in import_graph())


#: The size rule for ``adapters`` and ``harness``: a module or function past these does more than one job.
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def oversized(paths: list[Path]) -> list[str]:
    """Modules over ``MAX_MODULE_LINES`` lines and functions (methods too) over ``MAX_FUNCTION_LINES``."""
    found = []
    for path in paths:
        text = path.read_text()
        name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        if len(text.splitlines()) > MAX_MODULE_LINES:
            found.append(f"{name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text, filename=str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{name}:{node.lineno} {node.name}: {length} lines")
    return found


def test_no_module_or_function_is_oversized() -> None:
    """Every module in adapters/ and harness/ stays within 400 lines and every function within 80."""
    assert oversized(sorted(p for pkg in ("adapters", "harness") for p in (ROOT / pkg).rglob("*.py"))) == []


def test_the_size_checker_finds_a_long_module_and_function(tmp_path: Path) -> None:
    """The checker itself: an 81-line function and a 401-line module are caught, 80 and 400 are not."""
    body = "\n".join(f"    x{i} = {i}" for i in range(79))
    long_fn, ok_fn = tmp_path / "long_fn.py", tmp_path / "ok_fn.py"
    long_fn.write_text(f"def f():\n{body}\n    return 0\n")
    ok_fn.write_text(f"def f():\n{body}\n")
    long_mod, ok_mod = tmp_path / "long_mod.py", tmp_path / "ok_mod.py"
    long_mod.write_text("x = 0\n" * 401)
    ok_mod.write_text("x = 0\n" * 400)
    found = oversized([long_fn, ok_fn, long_mod, ok_mod])
    assert found == [f"{long_fn}:1 f: 81 lines", f"{long_mod}: 401 lines"]
