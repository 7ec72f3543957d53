"""np.einsum in every form numpy accepts, rewritten to the einsum primitive's plain form
(explicit letters, one letter per axis of each operand, explicit output):

* the sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` becomes ``'ab,bc->ac'``;
* ``...`` becomes letters of its own, with the operands broadcast to a common ellipsis shape
  first (``broadcast_to``, whose adjoint sums back);
* a letter repeated within one operand (``'ii->i'``, ``'iij'``) takes that operand's diagonal
  first (a gather), so each letter names one axis;
* without ``->`` the output is numpy's: the ellipsis axes, then the letters used once, sorted.
"""
from __future__ import annotations

import string

import numpy as np

from ...errors import UnsupportedOperationError
from ..registry import implements
from ..tracer import Tracer, shape_of
from .contractions import einsum
from .rearranging import np_diagonal
from .reductions import np_broadcast_to
from .shape import np_reshape
from ._helpers import _reject

_LETTERS = string.ascii_letters


def _from_sublists(args):
    """einsum(op0, sub0, op1, sub1, ..., [sublist_out]) -> ('subscripts', operands)."""
    ops, terms = [], []
    args = list(args)
    while len(args) >= 2:
        ops.append(args.pop(0))
        terms.append(args.pop(0))
    out = args[0] if args else None

    def word(sub):
        return "".join("..." if s is Ellipsis else _LETTERS[int(s)] for s in sub)
    spec = ",".join(word(t) for t in terms)
    if out is not None:
        spec += "->" + word(out)
    return spec, ops


def _expand_ellipsis(ins, out, ops):
    used = set("".join(ins) + (out or ""))
    free = iter(c for c in _LETTERS if c not in used)
    ell_nd = []
    for term, op in zip(ins, ops):
        n_named = len(term.replace("...", ""))
        ell_nd.append(len(shape_of(op)) - n_named if "..." in term else 0)
    width = max(ell_nd) if ell_nd else 0
    ell = "".join(next(free) for _ in range(width))
    # the ellipsis axes broadcast across operands (right-aligned, as numpy does)
    ell_shapes = []
    for term, op, k in zip(ins, ops, ell_nd):
        if "..." in term:
            start = term.index("...")
            ell_shapes.append(tuple(shape_of(op))[start:start + k])
    common = np.broadcast_shapes(*ell_shapes) if ell_shapes else ()
    new_ins, new_ops = [], []
    for term, op, k in zip(ins, ops, ell_nd):
        if "..." not in term:
            new_ins.append(term)
            new_ops.append(op)
            continue
        start = term.index("...")
        s = tuple(shape_of(op))
        target = s[:start] + (1,) * (width - k) + s[start:start + k] + s[start + k:]
        if target != s:
            op = np_reshape(op, target)
        full = s[:start] + tuple(common) + s[start + k:]
        if tuple(shape_of(op)) != full:
            op = np_broadcast_to(op, full)
        new_ins.append(term.replace("...", ell))
        new_ops.append(op)
    if out is not None:
        out = out.replace("...", ell)
    return new_ins, out, new_ops, ell


def _take_diagonals(term, op):
    """Repeated letters within one operand: take the diagonal over each pair."""
    while len(set(term)) < len(term):
        c = next(ch for ch in term if term.count(ch) > 1)
        i = term.index(c)
        j = term.index(c, i + 1)
        op = np_diagonal(op, 0, i, j)            # the diagonal axis goes last
        term = term[:i] + term[i + 1:j] + term[j + 1:] + c
    return term, op


@implements(np.einsum)
def np_einsum(*operands, out=None, optimize=False, **kw):
    _reject("einsum", out=out, **{k: v for k, v in kw.items() if k != "dtype"})
    if not operands:
        raise ValueError("No input operands")
    if isinstance(operands[0], str):
        spec, ops = operands[0].replace(" ", ""), list(operands[1:])
    else:
        spec, ops = _from_sublists(operands)
    if "->" in spec:
        ins, res = spec.split("->")
    else:
        ins, res = spec, None
    ins = ins.split(",")
    if len(ins) != len(ops):
        raise ValueError(f"einsum: {len(ins)} subscripts for {len(ops)} operands")
    ops = [o if isinstance(o, Tracer) else np.asarray(o, dtype=float) for o in ops]
    ell = ""
    if "..." in spec:
        ins, res, ops, ell = _expand_ellipsis(ins, res, ops)
    if res is None:                              # numpy's implicit output
        letters = "".join(ins)
        res = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1
                                   and c not in ell))
    for k, (term, op) in enumerate(zip(ins, ops)):
        if len(term) != len(shape_of(op)):
            raise ValueError(f"einsum: operand {k} has {len(shape_of(op))} dimensions but the "
                             f"subscripts '{term}' name {len(term)}")
        ins[k], ops[k] = _take_diagonals(term, op)
    if len(set(res)) != len(res):
        raise UnsupportedOperationError("np.einsum with a repeated output index is not "
                                        "supported by adnb")
    return einsum(*ops, subscripts=",".join(ins) + "->" + res)
