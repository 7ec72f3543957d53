"""Exercise sheets for lecturers: a trace table with blanks, its answer key, the graph.

``adnb.exercise(f, *args, mode="reverse", blanks="all", seed=None)`` records f at args (or, with
``seed``, at other numbers drawn so that the trace keeps the same structure) and returns an
``Exercise``:

* ``.markdown()`` / ``.latex()`` — the table (eqs. 8.50–8.76 style) with blanks;
  ``.answers_markdown()`` / ``.answers_latex()`` — the key, each blank with its rule and numbers
  (``v̄3 = v̄5 ∂v5/∂v3 + v̄6 ∂v6/∂v3 = 1·7.38906 + 1·1 = 8.38906``);
* ``.svg()`` — the computational graph as a standalone SVG file (no numbers on it);
* ``.variant(seed)`` — the same sheet at other numbers, so every student gets their own;
* ``.save(directory)`` — all of it as files.
"""
from __future__ import annotations

import os

import numpy as np

from ..errors import ADNBError
from .latex import BLANK, to_latex_math, trace_latex, trace_markdown
from .predict import questions, symbol

__all__ = ["exercise", "Exercise", "structure"]

#: tries to find numbers that keep the trace's structure before giving up
VARIANT_TRIES = 50


def structure(trace):
    """What must not change between variants: each node's operation and parents, and the
    branches taken."""
    nodes = tuple((n.prim.name if n.prim else None, n.parents, n.shape) for n in trace.nodes)
    events = tuple((e.position, e.kind, bool(np.all(e.value))) for e in trace.events)
    return nodes, events, tuple(trace.outputs)


def _draw(rng, x):
    """Other numbers like x: same sign and shape, one decimal, magnitude 0.5–3."""
    shape = np.shape(x)
    sign = np.where(np.asarray(x) < 0, -1.0, 1.0)
    v = sign * np.round(rng.uniform(0.5, 3.0, size=shape), 1)
    return float(v) if shape == () else v


def _finite(trace, mode):
    with np.errstate(all="ignore"):
        values = [n.ans for n in trace.nodes]
        if mode == "forward":
            values += [t for t in trace.forward().tangents[0] if t is not None]
        elif mode == "reverse":
            values += [a for a in trace.reverse().adjoints[0] if a is not None]
        return all(np.all(np.isfinite(np.asarray(v, dtype=float))) for v in values)


def _variant_args(f, args, seed, mode, want):
    from ..core.api import trace as record
    import warnings
    rng = np.random.default_rng(seed)
    for _ in range(VARIANT_TRIES):
        new = tuple(_draw(rng, a) for a in args)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                t = record(f, *new)
            except (ArithmeticError, ValueError):
                continue
            if structure(t) == want and _finite(t, mode):
                return new, t
    raise ADNBError(f"no numbers found in {VARIANT_TRIES} tries for which {f.__name__} keeps "
                    "the trace's structure (same operations and branches, finite values): pass "
                    "the numbers yourself (seed=None) or a function without data-dependent "
                    "branches")


def _blank_indices(qs, blanks, rng):
    if blanks in ("all", None):
        return [q.index for q in qs]
    if isinstance(blanks, (int, np.integer)) and not isinstance(blanks, bool):
        derived = [q.index for q in qs if q.terms or q.mode == "primal"]
        n = min(int(blanks), len(derived))
        return sorted(rng.choice(derived, size=n, replace=False).tolist()) if n else []
    wanted = set()
    for b in blanks:
        if isinstance(b, (int, np.integer)):
            wanted.add(int(b))
        else:
            wanted.add(int("".join(c for c in str(b) if c.isdigit())) - 1)
    unknown = wanted - {q.index for q in qs}
    if unknown:
        raise ADNBError(f"blanks {sorted(f'v{i + 1}' for i in unknown)} are not entries of this "
                        "sweep (a node the seed does not reach, or not in the trace)")
    return sorted(wanted)


class Exercise:
    """A trace-table exercise (see ``exercise``).

    Attributes:
        f, args: the function and the numbers of this sheet.
        trace: the recorded ``Trace``; ``mode``: the column asked for.
        questions: the ``adnb.display.predict.Question`` of every blank, in sweep order.
        seed: the variant's seed (None: the numbers given).
    """

    def __init__(self, f, args, trace, mode, blanks, seed):
        self.f, self.args, self.trace, self.mode, self.seed = f, args, trace, mode, seed
        self._blanks_spec = blanks
        qs = questions(trace, mode)
        chosen = set(_blank_indices(qs, blanks, np.random.default_rng(seed)))
        self.questions = [q for q in qs if q.index in chosen]

    @property
    def blanks(self):
        """``(mode, node index)`` of every blank."""
        return [(self.mode, q.index) for q in self.questions]

    def _title(self, latex=False):
        what = {"primal": "values v_i", "forward": "tangents v̇_i (forward mode)",
                "reverse": "adjoints v̄_i (reverse mode)"}[self.mode]
        name = self.trace.function_name or "f"
        point = ", ".join(f"{n.name or n.label} = {_arg_text(n.ans)}"
                          for n in (self.trace.nodes[i] for i in self.trace.inputs))
        if latex:
            what = {"primal": r"values $v_i$", "forward": r"tangents $\dot{v}_i$ (forward mode)",
                    "reverse": r"adjoints $\bar{v}_i$ (reverse mode)"}[self.mode]
            name = r"\texttt{" + _tex_escape(name) + "}"
            point = _tex_escape(point)
        return f"Fill in the {what} of {name} at {point}."

    def markdown(self, answers=False):
        """The sheet in Markdown: instruction line, then the table (``____`` for blanks, or the
        numbers with ``answers=True``)."""
        table = trace_markdown(self.trace, self.mode, values=True,
                               blanks=() if answers else self.blanks)
        return f"{self._title()}\n\n{table}\n"

    def latex(self, answers=False):
        """The sheet in LaTeX (a ``tabular``; blanks as underlines)."""
        table = trace_latex(self.trace, self.mode, values=True,
                            blanks=() if answers else self.blanks)
        return f"{self._title(latex=True)}\n\n{table}\n"

    def answers_markdown(self):
        """The answer key: every blank with its rule and numbers."""
        lines = [f"Answers ({self._title()[len('Fill in the '):]})", ""]
        lines += [f"{k}. {q.explanation()}" for k, q in enumerate(self.questions, 1)]
        return "\n".join(lines) + "\n"

    def answers_latex(self):
        """The answer key in LaTeX (an ``enumerate`` of equations)."""
        user = [n.name for n in self.trace.nodes if n.name]
        items = [rf"  \item ${to_latex_math(q.explanation(), user)}$" for q in self.questions]
        return "\n".join([r"\begin{enumerate}", *items, r"\end{enumerate}"]) + "\n"

    def svg(self):
        """The computational graph as a standalone SVG file (XML prolog, no values on it)."""
        from .svg import graph_svg
        body = graph_svg(self.trace, values=False, edge_labels=self.mode != "primal")
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + body

    def variant(self, seed):
        """The same exercise at other numbers (same operations and branches), chosen by seed."""
        return exercise(self.f, *self.args, mode=self.mode, blanks=self._blanks_spec, seed=seed)

    def save(self, directory, stem="exercise"):
        """Write ``stem.md``, ``stem.tex``, ``stem_answers.md``, ``stem_answers.tex`` and
        ``stem.svg`` into directory. Returns the list of paths."""
        os.makedirs(directory, exist_ok=True)
        files = {f"{stem}.md": self.markdown(), f"{stem}.tex": self.latex(),
                 f"{stem}_answers.md": self.answers_markdown(),
                 f"{stem}_answers.tex": self.answers_latex(), f"{stem}.svg": self.svg()}
        paths = []
        for name, text in files.items():
            path = os.path.join(directory, name)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
            paths.append(path)
        return paths

    def _repr_html_(self):
        from .predict import exercise_html
        return exercise_html(self.trace, self.mode, qs=self.questions)

    def __str__(self):
        return self.markdown()

    __repr__ = __str__


def _tex_escape(text):
    import re
    return re.sub(r"([#$%&_{}])", r"\\\1", text).replace("…", r"\ldots{}").replace("−", "-")


def _arg_text(v):
    from ._format import short
    return short(v)


def exercise(f, *args, mode="reverse", blanks="all", seed=None):
    """An exercise sheet: the trace table of f at args with blanks, and its answer key.

    Args:
        f: a function adnb can trace (numbers and numpy arrays in, a scalar or a few outputs).
        *args: the point.
        mode: the column to fill in: ``"reverse"`` (adjoints v̄_i, from the output's seed
            down), ``"forward"`` (tangents v̇_i for ẋ = e1) or ``"primal"`` (values v_i).
        blanks: ``"all"`` (every entry of that column, seeds included), a number n (n entries
            chosen by ``seed`` among those computed by a rule, not seeds), or the entries to
            blank as labels or node indices (``["v̄3", "v̄2"]``, ``[2, 1]``).
        seed: None for the numbers given; an int for a variant: other numbers (same signs,
            one decimal, 0.5–3 in size) for which the trace has the same operations and
            branches — every student's sheet from their own seed.

    Returns:
        ``Exercise`` (``.markdown()``, ``.latex()``, ``.answers_markdown()``,
        ``.answers_latex()``, ``.svg()``, ``.variant(seed)``, ``.save(directory)``).

    Raises:
        ADNBError: if no variant keeps the structure, or a blank is not in the column.
    """
    from ..core.api import trace as record
    if mode not in ("primal", "forward", "reverse"):
        raise ADNBError(f"mode must be 'primal', 'forward' or 'reverse', not {mode!r}")
    t = record(f, *args)
    if seed is not None:
        args, t = _variant_args(f, args, seed, mode, structure(t))
    return Exercise(f, args, t, mode, blanks, seed)


# keep the names of the book's notation importable from here too
__all__ += ["BLANK", "symbol"]
