"""adnb's files import in one direction: no import cycle between them (read from the source with
``ast``, every import statement counted, the ones inside functions too), and the layers hold --
``adnb/core`` imports nothing from display, widgets, IPython or plotting.

The core runs tracer → registry → primitives → sweeps → api; display imports core; widgets import
display. The one exception allowed: a presentation hook -- ``_repr_*`` (``Trace._repr_html_``) or
``to_latex`` -- may import display lazily, so a result shows (or writes) itself.
"""
from __future__ import annotations

import ast
import os

import pytest

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "adnb")

# Cycles that other work in progress removes (issue 12): the files in each, by name. Delete an
# entry when its cycle is gone -- the test then fails if it comes back.
# methods of core objects that hand the object to display, like _repr_html_ (issue 16's
# Trace.to_latex writes the book's table)
PRESENTATION_HOOKS = {"to_latex"}

KNOWN_CYCLES: list = [
]


def _modules():
    mods = {}
    for dirpath, _, files in os.walk(ROOT):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, os.path.dirname(ROOT))[:-3].replace(os.sep, ".")
                mods[rel[:-len(".__init__")] if rel.endswith(".__init__") else rel] = path
    return mods


def _imports(mod, path, mods):
    """Modules of adnb that ``mod`` imports (outside presentation hooks)."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    package = mod if path.endswith("__init__.py") else mod.rpartition(".")[0]
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and (node.name.startswith("_repr_")
                                                  or node.name in PRESENTATION_HOOKS):
            skip.update(id(n) for n in ast.walk(node))
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in mods:
                    found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("adnb"):
                continue
            subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in mods]
            found.update(subs)
            if len(subs) < len(node.names) and target in mods:
                found.add(target)           # names from the package or module itself
    found.discard(mod)
    return found


def import_graph():
    mods = _modules()
    return {m: _imports(m, p, mods) for m, p in mods.items()}


def cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles_between_adnb_files():
    found = cycles(import_graph())
    unknown = [c for c in found if c not in KNOWN_CYCLES]
    assert not unknown, f"import cycles: {unknown}"


@pytest.mark.parametrize("cycle", KNOWN_CYCLES, ids=lambda c: "+".join(c))
@pytest.mark.xfail(reason="being removed by issue 12's other half; delete the entry once gone",
                   strict=True)
def test_known_cycles_are_gone(cycle):
    assert cycle not in cycles(import_graph())


def test_core_imports_only_core():
    for mod, deps in import_graph().items():
        if mod.startswith("adnb.core"):
            outside = {d for d in deps if not d.startswith("adnb.core") and d != "adnb.errors"}
            assert not outside, f"{mod} imports {outside}"


def test_the_checker_sees_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
