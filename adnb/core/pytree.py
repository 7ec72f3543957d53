"""Pytrees: nested tuples, lists, dicts and namedtuples of arrays, as JAX has them.

``tree_flatten(tree) -> (leaves, treedef)``. Dict entries are ordered by sorted key (JAX's
order), so a tangent or cotangent dict is matched to its primal by KEY, whatever order its keys
were written in. ``treedef(leaves)`` rebuilds the structure (namedtuples included);
``treedef == other`` compares structures and ``str(treedef)`` shows one (``{'a': *, 'b': *}``)
for error messages.
"""
from __future__ import annotations

from ..errors import ADNBError

__all__ = ["tree_flatten", "TreeDef", "StructureMismatchError", "check_same_structure"]


class StructureMismatchError(ADNBError, ValueError):
    """A tangent/cotangent whose tree structure differs from the primal's or output's."""


def _sorted_keys(d):
    try:
        return sorted(d)
    except TypeError:           # keys of mixed types: insertion order
        return list(d)


class TreeDef:
    """The shape of a pytree: its node types and keys, with ``*`` for each leaf."""
    __slots__ = ("kind", "meta", "children", "n_leaves")

    def __init__(self, kind, meta, children):
        self.kind = kind            # None: a leaf; else tuple/list/dict/a namedtuple class
        self.meta = meta            # dict keys (in flattening order)
        self.children = children
        self.n_leaves = 1 if kind is None else sum(c.n_leaves for c in children)

    def __call__(self, values):
        values = list(values)
        if len(values) != self.n_leaves:
            raise StructureMismatchError(
                f"{len(values)} leaves given for the structure {self} ({self.n_leaves} leaves)")
        return self._build(values, 0)[0]

    def _build(self, values, i):
        if self.kind is None:
            return values[i], i + 1
        out = []
        for c in self.children:
            v, i = c._build(values, i)
            out.append(v)
        if self.kind is dict:
            return dict(zip(self.meta, out)), i
        if self.kind in (tuple, list):
            return self.kind(out), i
        return self.kind(*out), i          # a namedtuple: fields positionally

    def __eq__(self, other):
        return (isinstance(other, TreeDef) and self.kind is other.kind
                and self.meta == other.meta and self.children == other.children)

    def __hash__(self):
        return hash((self.kind, self.meta, tuple(self.children)))

    def __repr__(self):
        if self.kind is None:
            return "*"
        inner = [repr(c) for c in self.children]
        if self.kind is dict:
            return "{" + ", ".join(f"{k!r}: {c}" for k, c in zip(self.meta, inner)) + "}"
        if self.kind is list:
            return "[" + ", ".join(inner) + "]"
        if self.kind is tuple:
            return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"
        fields = getattr(self.kind, "_fields", ())
        return f"{self.kind.__name__}(" + ", ".join(f"{f}={c}" for f, c in zip(fields, inner)) + ")"


_LEAF = TreeDef(None, None, ())


def tree_flatten(tree):
    """Leaves of a nested tuple/list/dict/namedtuple, and the ``TreeDef`` that rebuilds it."""
    leaves = []
    return leaves, _flatten(tree, leaves)


def _flatten(tree, leaves):
    t = type(tree)
    if t is dict or isinstance(tree, dict):
        keys = _sorted_keys(tree)
        return TreeDef(dict, tuple(keys), tuple(_flatten(tree[k], leaves) for k in keys))
    if t is tuple or t is list or isinstance(tree, (tuple, list)):
        kind = t if t in (tuple, list) or hasattr(t, "_fields") else (
            tuple if isinstance(tree, tuple) else list)
        return TreeDef(kind, None, tuple(_flatten(c, leaves) for c in tree))
    leaves.append(tree)
    return _LEAF


def check_same_structure(given, expected, what, of_what):
    """Raise ``StructureMismatchError`` naming both structures unless they agree."""
    if given != expected:
        raise StructureMismatchError(
            f"the {what} has the structure {given}, but the {of_what} has {expected}; they must "
            "match (dicts by key, as in JAX).")
