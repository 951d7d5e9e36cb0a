"""Import cycles in core/: the graph of every ``import`` between its modules (at any depth, even inside a function).

A deferred import inside a function hides a cycle from the interpreter but not
from a reader: the modules still depend on each other. Imports under
``if TYPE_CHECKING:`` (annotations only) are not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in node.body:
                lines.update(range(sub.lineno, (sub.end_lineno or sub.lineno) + 1))
    return lines


def import_graph(package: str = "core") -> nx.DiGraph:
    g = nx.DiGraph()
    files = sorted((ROOT / package).rglob("*.py"))
    known = {_module(f) for f in files}
    for f in files:
        mod = _module(f)
        is_pkg = f.name == "__init__.py"
        g.add_node(mod)
        tree = ast.parse(f.read_text(encoding="utf-8"))
        skip = _type_checking_lines(tree)
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skip:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = mod.split(".") if is_pkg else mod.split(".")[:-1]
                if node.level:
                    base = base[: len(base) - (node.level - 1)]
                    prefix = ".".join(base + ([node.module] if node.module else []))
                else:
                    prefix = node.module or ""
                targets = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in known else prefix for a in node.names]
            for t in targets:
                while t and t not in known:
                    t = t.rpartition(".")[0]
                if t and t != mod and not mod.startswith(t + "."):  # a package's own __init__ is not a cycle
                    g.add_edge(mod, t)
    return g


def cycles(g: nx.DiGraph) -> list[set[str]]:
    return [c for c in nx.strongly_connected_components(g) if len(c) > 1]


def test_the_graph_sees_a_deferred_import():
    g = import_graph()
    assert g.has_edge("core.cli.engine_commands", "core.engine")  # imported inside cmd_simulate
    assert g.has_edge("core.io", "core.network")


def test_io_network_and_writers_form_no_cycle():
    g = import_graph()
    for c in cycles(g):
        assert not c & {"core.io", "core.network", "core.writers"}, sorted(c)


def test_cli_sub_commands_never_import_back_from_the_cli_package():
    g = import_graph()
    for c in cycles(g):
        assert not any(m.startswith("core.cli") for m in c), sorted(c)
    subs = [m for m in g if m.startswith("core.cli.")]
    assert {"core.cli.common", "core.cli.data_commands", "core.cli.engine_commands", "core.cli.montecarlo_commands"} <= set(subs)
    for m in subs:
        assert not g.has_edge(m, "core.cli"), m


def test_core_has_no_import_cycle():
    assert cycles(import_graph()) == []


def test_dashboard_state_does_not_import_the_app():
    g = import_graph("dashboard")
    assert g.has_node("dashboard.state") and g.has_edge("dashboard.app", "dashboard.state")
    assert not nx.has_path(g, "dashboard.state", "dashboard.app")
