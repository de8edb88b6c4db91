"""Imports in one direction: the package's import graph (module-level and function-level imports
of fasttsne modules, read from the source with ``ast``) has no cycle, and no module imports a
layer above its own."""
import ast
import os

import pytest

PACKAGE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fasttsne")

#: The layers, lowest first: a module may import its own layer and the ones before it. A module
#: belongs to the first layer with a prefix matching its dotted name; modules matching none
#: (front ends: tsne, sklearn, tl, cli, plotting, ..., and the package itself) may import anything.
LAYERS = [
    ("low-level helpers", ["fasttsne._ext", "fasttsne._params", "fasttsne._threads", "fasttsne._validation",
                           "fasttsne._sparse", "fasttsne._linalg", "fasttsne._version", "fasttsne._positions",
                           "fasttsne.registry", "fasttsne.progress", "fasttsne._npz", "fasttsne._scale"]),
    ("neighbours", ["fasttsne.neighbors", "fasttsne.nearest_neighbors"]),
    ("affinities", ["fasttsne.affinity", "fasttsne.initialization"]),
    ("gradients", ["fasttsne.gradients"]),
    ("optimisation", ["fasttsne.optim"]),
    ("persistence", ["fasttsne.persist"]),
    ("quality measures", ["fasttsne.quality"]),
    ("model", ["fasttsne.embedding", "fasttsne.partial"]),
]

#: Modules of the package that need an optional dependency (``fasttsne.dask`` needs dask). Like
#: the optional third-party packages, they may be imported inside a function from any layer
#: (``Embedding.transform`` hands a Dask array to ``fasttsne.dask``); such imports are not edges.
OPTIONAL_MODULES = {"fasttsne.dask"}


def module_files():
    """Dotted module name -> source path, for every .py file of the package."""
    modules = {}
    for root, _, files in os.walk(PACKAGE_DIR):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(root, f)
                rel = os.path.relpath(path, os.path.dirname(PACKAGE_DIR))[:-3].split(os.sep)
                if rel[-1] == "__init__":
                    rel = rel[:-1]
                modules[".".join(rel)] = path
    return modules


def imported_modules(name, path, known, in_functions_only=False):
    """The fasttsne modules ``name`` imports anywhere in its source (a set of dotted names);
    with ``in_functions_only``, those it imports inside a function.

    ``from X import y`` counts as an import of ``X.y`` when that is a module, else of ``X``.
    """
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
    in_functions = {id(inner) for outer in ast.walk(tree)
                    if isinstance(outer, (ast.FunctionDef, ast.AsyncFunctionDef)) for inner in ast.walk(outer)}
    found = set()
    for node in ast.walk(tree):
        if in_functions_only and id(node) not in in_functions:
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in known else module for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in known:  # "fasttsne._ext._knn" (compiled) -> "fasttsne._ext"
                t = t.rpartition(".")[0]
            if t in OPTIONAL_MODULES and id(node) in in_functions and not in_functions_only:
                continue
            if t.startswith("fasttsne") and t != name:
                found.add(t)
    return found


def import_graph():
    modules = module_files()
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def find_cycle(graph):
    """One cycle of ``graph`` as a list of names (first == last), or None."""
    state = {}
    stack = []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def layer_of(name):
    for i, (_, prefixes) in enumerate(LAYERS):
        if any(name == p or name.startswith(p + ".") for p in prefixes):
            return i
    return len(LAYERS)


def layer_violations(graph):
    return sorted(f"{a} ({LAYERS[layer_of(a)][0]}) imports {b} ({LAYERS[layer_of(b)][0]})"
                  for a, targets in graph.items() for b in targets if layer_of(b) > layer_of(a))


def test_the_graph_covers_the_package_and_its_imports():
    graph = import_graph()
    assert {"fasttsne.registry", "fasttsne.persist", "fasttsne.affinity.models"} <= set(graph)
    assert "fasttsne.registry" in graph["fasttsne.neighbors"]
    assert "fasttsne._linalg" in graph["fasttsne.neighbors._projection"]


def test_the_package_has_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_module_imports_a_layer_above_its_own():
    assert layer_violations(import_graph()) == []


@pytest.mark.parametrize("edges, expected", [
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
    ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
])
def test_find_cycle_reports_a_cycle_and_only_a_cycle(edges, expected):
    assert find_cycle(edges) == expected


def test_an_upward_import_is_reported():
    graph = {"fasttsne.neighbors.exact": {"fasttsne.affinity.base"}}
    assert layer_violations(graph) == ["fasttsne.neighbors.exact (neighbours) imports fasttsne.affinity.base "
                                       "(affinities)"]


def test_the_command_line_modules_are_front_ends_that_no_lower_layer_imports():
    graph = import_graph()
    cli = sorted(m for m in graph if m == "fasttsne.cli" or m.startswith("fasttsne.cli."))
    assert {"fasttsne.cli.app", "fasttsne.cli.reading", "fasttsne.cli.embed"} <= set(cli)
    assert all(layer_of(m) == len(LAYERS) for m in cli)
    importers = {a for a, targets in graph.items() if any(t in cli for t in targets)}
    assert importers <= set(cli) | {"fasttsne.__main__"}, importers - set(cli)


def test_package_modules_are_imported_at_module_level_except_optional_ones():
    modules = module_files()
    lazy = {name: sorted(imported_modules(name, path, modules, in_functions_only=True) - OPTIONAL_MODULES)
            for name, path in modules.items()}
    assert {name: found for name, found in lazy.items() if found} == {}
