"""The ``%%autodiff`` cell magic and ``%autodiff`` line magic (``%load_ext adnb``).

Thin sugar: each call parses its options, calls ``adnb.explore_cell`` / ``adnb.explore`` once and
displays (or, with ``-o``, returns) the resulting ``adnb.Exploration``. Everything the magic can
do, the plain Python call can do too; the magic's help (``%%autodiff?``) shows the expansion.
"""
from __future__ import annotations

import ast
import re
import sys

import numpy as np

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments

from .cell import CellOutputError
from .explore import MODES, ExploreUsageError, explore, explore_cell

__all__ = ["AutodiffMagics", "load_ipython_extension", "unload_ipython_extension",
           "split_line"]

_OPEN, _CLOSE = "([{", ")]}"
_USAGE = ("usage: %%autodiff [-m forward|reverse|both] [--out NAMES] [--seed-in SPEC] "
          "[--seed-out SPEC] [--show table,graph,code,cost] [--static] [-o] name=value ... "
          "(see %%autodiff?)")


def split_line(line):
    """Split a magic line at top-level whitespace, keeping brackets and quotes together.

    ``x=np.array([1.0, 2.0]) -m reverse`` gives ``["x=np.array([1.0, 2.0])", "-m", "reverse"]``.
    A token that is one quoted string loses its quotes.

    Raises:
        UsageError: unbalanced brackets or quotes.
    """
    tokens, cur, depth, quote = [], [], 0, None
    for ch in line:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
            cur.append(ch)
        elif ch in _OPEN:
            depth += 1
            cur.append(ch)
        elif ch in _CLOSE:
            depth -= 1
            if depth < 0:
                raise UsageError(f"unbalanced {ch!r} in: {line.strip()}")
            cur.append(ch)
        elif ch.isspace() and depth == 0:
            if cur:
                tokens.append("".join(cur))
                cur = []
        else:
            cur.append(ch)
    if quote or depth:
        raise UsageError(f"unbalanced {'quote' if quote else 'bracket'} in: {line.strip()}")
    if cur:
        tokens.append("".join(cur))
    out = []
    for t in tokens:
        if len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"" and t.count(t[0]) == 2:
            t = t[1:-1]
        out.append(t)
    return out


def _one_line(msg):
    return " ".join(str(msg).split())


@magics_class
class AutodiffMagics(Magics):
    """``%%autodiff`` / ``%autodiff``: see ``AutodiffMagics.autodiff``.

    Keeps, per notebook cell, the explorations it displayed last: re-running the cell closes
    their widgets (ipywidgets keeps every open widget alive), so memory stays flat however often
    a cell is re-run."""

    def __init__(self, shell=None, **kwargs):
        super().__init__(shell=shell, **kwargs)
        self._cell_key = None
        self._shown = {}            # cell id (or source) -> explorations displayed by that cell

    def pre_run_cell(self, info):
        """IPython event: remember which cell runs (its id in Jupyter, else its source)."""
        self._cell_key = getattr(info, "cell_id", None) or getattr(info, "raw_cell", None)

    @no_var_expand
    @magic_arguments()
    @argument("-m", "--mode", choices=MODES, default="both",
              help="which sweeps to show: forward (tangents), reverse (adjoints) or both "
                   "(default: both).")
    @argument("--out", metavar="NAMES", default=None,
              help="output variable(s), comma-separated (default: the variable(s) of the last "
                   "assignment in the cell). Cell magic only.")
    @argument("--seed-in", metavar="SPEC", default=None,
              help="forward-mode seeds ẋ: 'all' (default: one pass per scalar input, ẋ = e_j), "
                   "input names (x1 or x1,x2 or x[0]), or a vector r with one entry per scalar "
                   "input, e.g. [1,-1] or np.asarray(r) (one pass: J r). A bare name is an "
                   "input's name, not a variable.")
    @argument("--seed-out", metavar="SPEC", default=None,
              help="reverse-mode seeds ȳ: 'all' (default: one pass per scalar output), output "
                   "names, or a vector u with one entry per scalar output (one pass: uᵀJ).")
    @argument("--show", metavar="PARTS", default="table,graph",
              help="what to show, comma-separated from: table, graph, code, cost "
                   "(default: table,graph).")
    @argument("--static", action="store_true",
              help="show the static table and graph only, no interactive widget.")
    @argument("--predict", action="store_true",
              help="predict mode: the explorer asks for each value of the sweep (v̇_i or v̄_i) "
                   "before revealing it, checks the answer and names classic mistakes; with "
                   "--static, the blanks print as an exercise with the answers collapsed.")
    @argument("-o", dest="return_result", action="store_true",
              help="return the adnb.Exploration object instead of displaying it (like "
                   "%%timeit -o); it then becomes the cell's output (Out[n], _).")
    @argument("inputs", nargs="*", metavar="name=value",
              help="cell magic: the inputs, as name=value (a Python expression evaluated in "
                   "the notebook: x1=1.0, x=np.array([1.0, 2.0]), w=w0). Line magic: a call "
                   "f(arg, ...) of a function defined earlier.")
    @line_cell_magic
    def autodiff(self, line, cell=None):
        """Record a cell, or a function call, as an evaluation trace and explore its
        derivatives: the table of primals v_i, tangents v̇_i and adjoints v̄_i, the
        computational graph, and the Jacobian (Bishop & Bishop 2024, §8.2).

        Usage, cell magic::

          %%autodiff [options] name=value [name=value ...]
          code

        Usage, line magic::

          %autodiff [options] f(arg, ...)

        The cell magic runs the cell exactly once, with the named inputs traced: every
        elementary numpy operation becomes a node of the trace. Afterwards the inputs and the
        variables the cell assigned hold plain numbers or arrays (never traced values), and
        nothing else in the notebook's namespace has changed. The outputs are the variable(s)
        of the cell's last assignment, or those named by --out.

        By default each scalar input gets a forward pass (ẋ = e_j gives column j of the
        Jacobian, eq. 8.66) and each scalar output a reverse pass (ȳ = e_k gives row k).
        An array input x of shape (3,) counts as three scalar inputs x[0], x[1], x[2].

        The result is displayed as an interactive explorer (a widget: switch forward/reverse,
        step through the sweep, choose the seed, move the inputs, watch the Jacobian fill in),
        with a static table and graph for viewers without widgets (GitHub, nbconvert).
        Option values may not contain spaces unless bracketed or quoted.

        The magic is sugar for a plain Python call. The cell magic::

          %%autodiff -m reverse x1=1.0 x2=2.0
          y = x1 * x2 + np.exp(x1 * x2) - np.sin(x2)

        does the same as::

          e = adnb.explore_cell("y = x1 * x2 + np.exp(x1 * x2) - np.sin(x2)",
                                {"x1": 1.0, "x2": 2.0}, namespace=globals(),
                                mode="reverse", interactive=True)
          display(e)

        and ``%autodiff f(1.0, 2.0)`` does the same as
        ``display(adnb.explore(f, 1.0, 2.0, interactive=True))``. The options map to keyword
        arguments: --out to outputs=, --seed-in to tangent_seed=, --seed-out to output_seed=,
        --show to show=, --static to interactive=False, --predict to predict=True.

        Examples
        --------
        The book's example (8.49) at the point of Exercise 8.17::

          In [1]: %load_ext adnb

          In [2]: %%autodiff x1=1.0 x2=2.0
             ...: y = x1 * x2 + np.exp(x1 * x2) - np.sin(x2)

        Reverse mode only, two outputs (Figure 8.5), with the generated code and op counts::

          In [3]: %%autodiff -m reverse --out f1,f2 --show table,graph,code,cost x1=1.0 x2=2.0
             ...: v3 = x1 * x2
             ...: f1 = v3 + np.exp(v3) - np.sin(x2)
             ...: f2 = (v3 - np.sin(x2)) * np.exp(v3)

        One forward pass giving J r for r = (1, -1) (eq. 8.67), arrays as inputs::

          In [4]: %%autodiff -m forward --seed-in [1,-1] x=np.array([1.0, 2.0])
             ...: y = np.sum(np.sin(x) * x)

        A function defined earlier; keep the result object (like %timeit -o)::

          In [5]: def f(x1, x2):
             ...:     return x1 * x2 + np.exp(x1 * x2) - np.sin(x2)

          In [6]: e = %autodiff -o f(1.0, 2.0)

          In [7]: e.jacobian, e.forward.tangents, e.reverse.adjoints

        Predict each adjoint before the sweep reveals it (right/wrong, the rule with its
        numbers, the classic mistake the answer matches, a score)::

          In [8]: %%autodiff --predict -m reverse x1=1.0 x2=2.0
             ...: y = x1 * x2 + np.exp(x1 * x2) - np.sin(x2)

        Static output only (no widget)::

          In [9]: %%autodiff --static x=0.5
             ...: y = np.tanh(np.tanh(x))
        """
        __tracebackhide__ = True
        args = self._parse(line)
        ns = self.shell.user_ns
        ns.setdefault("np", np)         # as explore_cell's own namespace provides it
        kw = dict(mode=args.mode, show=args.show, interactive=not args.static,
                  location_names=self._cell_names(), predict=args.predict)
        try:
            kw["tangent_seed"] = self._seed(args.seed_in, ns, "--seed-in")
            kw["output_seed"] = self._seed(args.seed_out, ns, "--seed-out")
            if cell is None:
                if args.out is not None:
                    raise UsageError("--out applies to the cell magic %%autodiff; the line magic "
                                     "explores what the function returns")
                f, fargs, fkw = self._call(" ".join(args.inputs), ns)
                result = explore(f, *fargs, **fkw, **kw)
            else:
                inputs = self._inputs(args.inputs, ns)
                # the magic's line as a comment keeps line numbers those of the notebook cell
                code = f"# %%autodiff {line.strip()}\n" + self.shell.transform_cell(cell)
                number = self._cell_number()
                filename = self.shell.compile.cache(code, number)
                result = explore_cell(code, inputs, outputs=args.out, namespace=ns,
                                      filename=filename, cell_name=f"In[{number}]", **kw)
        except (ExploreUsageError, CellOutputError) as err:
            raise UsageError(_one_line(err)) from None
        self._release_previous(result)
        if args.return_result:
            return result
        from IPython.display import display
        display(result)
        return None

    def _cell_number(self):
        """The number of the cell running this magic, as its prompt shows it.

        The cell's code was compiled under a file name IPython maps to its number; that is
        the cell's own, whereas ``execution_count`` may already be the next one (ipykernel 7
        counts before the cell runs)."""
        fmap = getattr(self.shell.compile, "_filename_map", None) or {}
        frame = sys._getframe(1)
        while frame is not None:
            n = fmap.get(frame.f_code.co_filename)
            if isinstance(n, int):
                return n
            frame = frame.f_back
        return self.shell.execution_count

    def _release_previous(self, result):
        """Close the widgets this cell displayed on its previous run (they are no longer shown)."""
        key = self._cell_key
        if key is None:
            return
        for old in self._shown.pop(key, []):
            if old is not result:
                close = getattr(old, "close", None)
                if close is not None:
                    close()
        self._shown.setdefault(key, []).append(result)

    def _cell_names(self):
        """{temporary file name of a cell: "In[n]"} (IPython's own map, as its tracebacks use)."""
        fmap = getattr(self.shell.compile, "_filename_map", None) or {}
        return {fn: f"In[{n}]" for fn, n in fmap.items() if isinstance(n, int)}

    # -- parsing (no logic beyond turning text into the plain call's arguments) ---------------
    def _parse(self, line):
        tokens = split_line(line)
        try:
            return self.autodiff.parser.parse_intermixed_args(tokens)
        except UsageError as err:
            msg = _one_line(err)
            if "choose from" not in msg:
                msg += f"; {_USAGE}"
            raise UsageError(msg) from None

    @staticmethod
    def _eval(expr, ns, what):
        try:
            return eval(compile(expr, f"<autodiff {what}>", "eval"), ns)
        except SyntaxError as err:
            raise UsageError(f"{what}: {expr!r} is not a Python expression ({err.msg})") from None
        except Exception as err:
            raise UsageError(f"{what}: evaluating {expr!r} raised "
                             f"{type(err).__name__}: {_one_line(err)}") from None

    def _inputs(self, pairs, ns):
        if not pairs:
            raise UsageError("name the inputs as name=value, e.g. %%autodiff x1=1.0 x2=2.0 "
                             "(see %%autodiff?)")
        inputs = {}
        for p in pairs:
            name, eq, expr = p.partition("=")
            name = name.strip()
            if not eq or not name.isidentifier() or not expr.strip():
                raise UsageError(f"inputs are name=value pairs without spaces around '=', e.g. "
                                 f"x1=1.0 x=np.array([1.0, 2.0]); got {p!r}")
            if name in inputs:
                raise UsageError(f"input {name!r} is given twice")
            inputs[name] = self._eval(expr, ns, f"input {name}")
        return inputs

    def _seed(self, spec, ns, what):
        """'all' -> None; names (x1, x[0]) stay text for explore to resolve; numbers or any
        other expression (``[1,-1]``, ``np.ones(3)``) are evaluated to a vector."""
        if spec is None or spec == "all":
            return None
        pieces = [s.strip() for s in re.split(r",(?![^\[]*\])", spec)]
        if all(p and (p.isidentifier() or _is_label(p)) for p in pieces):
            return pieces
        try:
            return [float(p) for p in pieces]
        except ValueError:
            return self._eval(spec, ns, what)

    def _call(self, expr, ns):
        if not expr.strip():
            raise UsageError("%autodiff needs a call, e.g. %autodiff f(1.0, 2.0); for a cell use "
                             "%%autodiff x=1.0 (see %autodiff?)")
        try:
            node = ast.parse(expr.strip(), mode="eval").body
        except SyntaxError as err:
            raise UsageError(f"%autodiff: {expr!r} is not a Python expression ({err.msg})") from None
        if not isinstance(node, ast.Call):
            raise UsageError(f"%autodiff takes a call such as f(1.0, 2.0), got {expr!r}; to "
                             "explore a cell use %%autodiff name=value")

        def ev(n, what):
            return self._eval(ast.unparse(n), ns, what)
        f = ev(node.func, "function")
        fargs = []
        for a in node.args:
            if isinstance(a, ast.Starred):
                fargs.extend(ev(a.value, "argument"))
            else:
                fargs.append(ev(a, "argument"))
        fkw = {}
        for k in node.keywords:
            if k.arg is None:
                fkw.update(ev(k.value, "argument"))
            else:
                fkw[k.arg] = ev(k.value, f"argument {k.arg}")
        if not callable(f):
            raise UsageError(f"%autodiff: {ast.unparse(node.func)} is not a function")
        return f, fargs, fkw


def _is_label(p):
    """An element label such as x[0] or W[1,2]."""
    head, br, rest = p.partition("[")
    return bool(br) and head.isidentifier() and rest.endswith("]")


def load_ipython_extension(ipython):
    """Register ``%%autodiff`` and ``%autodiff`` (``%load_ext adnb``); make ``np`` (numpy)
    available if the notebook has no ``np`` yet, as ``explore_cell`` does."""
    magics = AutodiffMagics(ipython)
    ipython.register_magics(magics)
    ipython.events.register("pre_run_cell", magics.pre_run_cell)
    ipython.user_ns.setdefault("np", np)


def unload_ipython_extension(ipython):
    """Remove the magics again (``%unload_ext adnb``)."""
    mm = ipython.magics_manager
    for kind in ("line", "cell"):
        mm.magics[kind].pop("autodiff", None)
    magics = mm.registry.pop("AutodiffMagics", None)
    if magics is not None:
        try:
            ipython.events.unregister("pre_run_cell", magics.pre_run_cell)
        except ValueError:
            pass
