"""Predict mode: ask for the number a sweep is about to reveal, check it, explain it.

Pure logic (no IPython, no widgets), used by the explorer's predict toggle, by
``adnb.testing.compare`` and by the exercise sheets:

* ``questions(trace, mode, ...)`` — the blanks of a sweep in the order it fills them: v_i
  (``"primal"``), v̇_i (``"forward"``, the input seeds first) or v̄_i (``"reverse"``, the output
  seed first, then decreasing index);
* ``check(question, answer)`` — a ``Verdict``: right or wrong under ``accepts``' tolerance, the
  rule with its numbers (``v̄3 = v̄5 ∂v5/∂v3 + v̄6 ∂v6/∂v3 = 1·7.38906 + 1·1 = 8.38906``) and the
  classic mistakes the answer matches (``diagnose``);
* ``PredictSession`` — questions, answers and the score line (right / wrong / revealed);
* ``exercise_html(...)`` — the static fallback: the blanks as an exercise, answers in a
  collapsed ``<details>`` block (all text escaped).

The classic mistakes recognised (each names the numbers that give it away):

* ``forgotten``: a child's contribution left out of a fan-out sum (eq. 8.69; forward mode: a
  parent's term left out of eq. 8.57);
* ``overwritten``: only one child's contribution kept — the adjoint assigned (``=``) instead of
  accumulated (``+=``), the bug of tinygrad 2020;
* ``wrong_value``: a local partial evaluated at the wrong value (cos(v2) taken as sin(v2), exp's
  partial at v3 rather than v5 = exp(v3), a product's partial taken as its own factor);
* ``seeds``: forward and reverse seeds mixed up (ẋ = e2 instead of e1, the tangent given for an
  adjoint or the other way round, the output's seed v̄ = 1 forgotten).
"""
from __future__ import annotations

import html as _html
import re
from dataclasses import dataclass, field

import numpy as np

from ._format import short
from ._rules import jvp_text, vjp_text
from .sweep import adjoint_terms, quiet, sweep_steps, tangent_terms

__all__ = ["RTOL", "ATOL", "accepts", "parse_answer", "Question", "Mistake", "Verdict",
           "questions", "check", "diagnose", "PredictSession", "exercise_html", "symbol",
           "predict_table"]

#: An answer is right when |answer − value| ≤ max(RTOL·|value|, ATOL): three significant digits
#: are enough (16.8 for 16.7781, 0.909 for 0.909297), and a 0 must be typed as (nearly) 0.
RTOL = 5e-3
ATOL = 1e-6

_BAR, _DOT = "\u0304", "\u0307"
_MODES = ("primal", "forward", "reverse")


def symbol(label, mode):
    """``v3`` → ``v3`` (primal), ``v̇3`` (forward), ``v̄3`` (reverse)."""
    mark = {"primal": "", "forward": _DOT, "reverse": _BAR}[mode]
    return label[:1] + mark + label[1:]


def accepts(answer, expected, rtol=RTOL, atol=ATOL):
    """True if ``answer`` matches ``expected`` to the documented tolerance (elementwise for
    arrays, which must have the same shape)."""
    a = np.asarray(answer, dtype=float)
    e = np.asarray(0.0 if expected is None else expected, dtype=float)
    if a.shape != e.shape:
        return False
    with quiet():
        return bool(np.all(np.abs(a - e) <= np.maximum(rtol * np.abs(e), atol)))


def parse_answer(text):
    """A typed answer as a float (or a float array for ``"1, 2; 3, 4"``-style input).

    Raises:
        ValueError: with a message saying what to type.
    """
    if isinstance(text, (int, float, np.ndarray)):
        return text
    s = str(text).strip().replace("\u2212", "-").replace("\u00b7", "*")
    if not s:
        raise ValueError("type a number, e.g. 8.389")
    try:
        if ";" in s:
            return np.array([[float(x) for x in row.split(",")] for row in s.split(";")])
        if "," in s or s.startswith("["):
            return np.array([float(x) for x in s.strip("[]").replace(",", " ").split()])
        return float(s)
    except ValueError:
        raise ValueError(f"could not read {s!r} as a number: type e.g. 8.389 or -0.416") from None


@dataclass
class Question:
    """One blank: the value of ``symbol`` that the sweep reveals at ``step``.

    Attributes:
        mode: ``"primal"``, ``"forward"`` or ``"reverse"``.
        index: node index (the book's v_i is index + 1).
        column: seed column (forward: ``ForwardResult.tangents[column]``; reverse: adjoints).
        step: the sweep step that reveals it (``adnb.display.sweep.sweep_steps``).
        symbol: ``"v̄3"`` etc.
        expected: the value (0.0 for a node the seed does not reach).
        rule: the rule in symbols (``v̄3 = v̄5 ∂v5/∂v3 + v̄6 ∂v6/∂v3``).
        book: the rule as the book writes it (``v̄3 = v̄5 · v5 + v̄6``) or ``""``.
        numbers: the rule with its numbers (``1·7.38906 + 1·1``).
        terms: the values of the terms of the sum (for ``diagnose``).
    """
    mode: str
    index: int
    column: int
    step: int
    symbol: str
    expected: object
    rule: str
    book: str = ""
    numbers: str = ""
    terms: list = field(default_factory=list, repr=False)
    context: dict = field(default_factory=dict, repr=False)

    def explanation(self):
        """``v̄3 = v̄5 ∂v5/∂v3 + v̄6 ∂v6/∂v3 = v̄5 · v5 + v̄6 = 1·7.38906 + 1·1 = 8.38906``."""
        if not self.terms:          # a seed, a value, or a node the seed does not reach
            if self.mode == "primal":
                return f"{self.rule} = {short(self.expected)}  {self.numbers}".rstrip()
            return self.rule
        parts = [self.rule]
        if self.book and self.book != self.rule.split(" = ", 1)[-1]:
            parts.append(self.book)
        value = _num(self.expected)
        if self.numbers and self.numbers != value:
            parts.append(self.numbers)
        parts.append(value)
        return " = ".join(parts)


@dataclass
class Mistake:
    """A classic mistake the answer matches: ``kind`` (forgotten, overwritten, wrong_value,
    seeds) and a sentence with the numbers."""
    kind: str
    text: str


@dataclass
class Verdict:
    """The outcome of one answer."""
    question: Question
    answer: object
    correct: bool
    mistakes: list = field(default_factory=list)

    @property
    def message(self):
        q = self.question
        if self.correct:
            return f"✓ right: {q.symbol} = {short(q.expected)}   ({q.explanation()})"
        lines = [f"✗ {q.symbol} is {short(q.expected)}, not {short(self.answer)}.",
                 f"  {q.explanation()}"]
        lines += [f"  Classic mistake — {m.text}" for m in self.mistakes]
        return "\n".join(lines)

    def html(self):
        """The verdict as escaped HTML (``<div class="adnb-verdict adnb-right|adnb-wrong">``)."""
        cls = "adnb-right" if self.correct else "adnb-wrong"
        body = "<br>".join(_html.escape(line.strip()) for line in self.message.split("\n"))
        return f'<div class="adnb-verdict {cls}">{body}</div>'


# ---- the questions of a sweep -------------------------------------------------------------

def _names(trace):
    return [n.label for n in trace.nodes]


def _num(v):
    return short(v, digits=6).replace("-", "−")


def _factor(v):
    """A number inside a product: negative ones in parentheses, ``1·(−0.416147)``."""
    t = _num(v)
    return f"({t})" if t.startswith("−") else t


def _primal_question(trace, i, step):
    node = trace.nodes[i]
    names = _names(trace)
    args = ", ".join(f"{names[p]} = {_num(a)}" for p, a in zip(node.parents, node.args) if p >= 0)
    rule = f"{node.label} = {node.formula(names)}"
    return Question("primal", i, 0, step, node.label, node.ans, rule,
                    numbers=f"(with {args})" if args else "")


def _forward_question(trace, fwd, s, i, step):
    node = trace.nodes[i]
    names = _names(trace)
    sym = symbol(node.label, "forward")
    tangents = fwd.tangents[s]
    value = tangents[i] if tangents[i] is not None else 0.0
    if node.prim is None:
        seed = fwd.seeds[s].get(i, 0.0) if s < len(fwd.seeds) else 0.0
        rule = f"{sym} = {_num(value)} (the seed {fwd.labels[s]})"
        return Question("forward", i, s, step, sym, value, rule, numbers="",
                        context={"seed": seed})
    terms = tangent_terms(trace, tangents, i)
    symbolic, book, numbers = [], [], []
    for t in terms:
        p = names[t.other]
        symbolic.append(f"∂{node.label}/∂{p} {symbol(p, 'forward')}")
        book.append(jvp_text(node, t.argnum, names, symbol(p, "forward")))
        numbers.append(f"{_factor(t.partial)}·{_factor(tangents[t.other])}" if t.partial is not None
                       else _num(t.value))
    rule = f"{sym} = " + (" + ".join(symbolic) if symbolic else "0 (no seeded input reaches it)")
    return Question("forward", i, s, step, sym, value, rule, " + ".join(book),
                    " + ".join(numbers), terms)


def _reverse_question(trace, rev, s, i, step):
    node = trace.nodes[i]
    names = _names(trace)
    sym = symbol(node.label, "reverse")
    adj = rev.adjoints[s]
    value = adj[i] if adj[i] is not None else 0.0
    terms = adjoint_terms(trace, rev, s, i)
    symbolic, book, numbers = [], [], []
    for t in terms:
        if t.other < 0:
            label = rev.labels[s]
            plain = label.isidentifier() and len(terms) == 1
            symbolic.append(f"{_num(t.value)} (the seed: ∂{label}/∂{label})" if plain
                            else f"{_num(t.value)} (the seed {label})")
            book.append(_num(t.value))
            numbers.append(_num(t.value))
            continue
        child = trace.nodes[t.other]
        cb = symbol(child.label, "reverse")
        symbolic.append(f"{cb} ∂{child.label}/∂{node.label}")
        book.append(vjp_text(child, t.argnum, names, cb))
        numbers.append(f"{_factor(adj[t.other])}·{_factor(t.partial)}" if t.partial is not None
                       else _num(t.value))
    if len(terms) == 1 and terms[0].other < 0:
        return Question("reverse", i, s, step, sym, value, f"{sym} = {symbolic[0]}")
    rule = f"{sym} = " + (" + ".join(symbolic) if symbolic else "0 (it does not reach the output)")
    return Question("reverse", i, s, step, sym, value, rule, " + ".join(book),
                    " + ".join(numbers), terms)


def questions(trace, mode, forward=None, reverse=None, column=0):
    """The blanks of one sweep, in the order the sweep fills them.

    Args:
        trace: an explore-mode ``Trace`` (``adnb.trace``).
        mode: ``"primal"`` (v_i of every operation), ``"forward"`` (v̇_i, the input seeds
            first) or ``"reverse"`` (v̄_i from the output's seed down).
        forward, reverse: the sweep results (computed with the default seeds if not given).
        column: which seed column (ẋ = e1 is 0, ẋ = e2 is 1; f1 is 0 ...).

    Returns:
        list of ``Question``, each with the ``step`` of ``sweep_steps`` that reveals it.
    """
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, not {mode!r}")
    out = []
    with quiet():
        if mode == "primal":
            ops = [n.index for n in trace.nodes if n.prim is not None]
            return [_primal_question(trace, i, k + 1) for k, i in enumerate(ops)]
        if mode == "forward":
            forward = forward if forward is not None else trace.forward()
            for step, nodes in enumerate(sweep_steps(trace, "forward", forward)):
                out += [_forward_question(trace, forward, column, i, step) for i in nodes]
        else:
            reverse = reverse if reverse is not None else trace.reverse()
            for step, nodes in enumerate(sweep_steps(trace, "reverse", reverse)):
                out += [_reverse_question(trace, reverse, column, i, step) for i in nodes]
    for q in out:
        q.context.setdefault("forward", forward)
        q.context.setdefault("reverse", reverse)
        q.context["trace"] = trace
    return out


# ---- checking and the classic mistakes ------------------------------------------------------

def check(question, answer, rtol=RTOL, atol=ATOL):
    """Check an answer (a number, or text as ``parse_answer`` reads it).

    Returns:
        ``Verdict``: ``correct`` under ``accepts(answer, question.expected, rtol, atol)``; a
        wrong answer carries the classic mistakes it matches (``diagnose``).

    Raises:
        ValueError: if the text is not a number (the message says what to type).
    """
    value = parse_answer(answer)
    if accepts(value, question.expected, rtol, atol):
        return Verdict(question, value, True)
    return Verdict(question, value, False, diagnose(question, value, rtol, atol))


def _total(values):
    total = 0.0
    for v in values:
        if v is not None:
            total = total + v
    return total


def diagnose(question, answer, rtol=RTOL, atol=ATOL):
    """The classic mistakes a wrong answer matches (see the module docstring).

    Returns:
        list of ``Mistake`` (empty if the answer matches none).
    """
    with quiet():
        if question.mode == "primal":
            return []
        found = _sum_mistakes(question, answer, rtol, atol)
        found += _wrong_value_mistakes(question, answer, rtol, atol)
        found += _seed_mistakes(question, answer, rtol, atol)
    return found


def _term_name(question, t):
    trace = question.context["trace"]
    if t.other < 0:
        return "the seed"
    other = trace.nodes[t.other].label
    if question.mode == "reverse":
        return f"{symbol(other, 'reverse')} ∂{other}/∂{trace.nodes[question.index].label}"
    return f"∂{trace.nodes[question.index].label}/∂{other} {symbol(other, 'forward')}"


def _sum_mistakes(question, answer, rtol, atol):
    terms = [t for t in question.terms if t.value is not None]
    if len(terms) < 2:
        return []
    found = []
    total = _total(t.value for t in terms)
    edge = "child" if question.mode == "reverse" else "parent"
    for t in terms:
        if accepts(answer, total - t.value, rtol, atol):
            found.append(Mistake("forgotten", (
                f"a {edge} forgotten in the sum: {question.symbol} adds {len(terms)} terms, "
                f"your answer leaves out {_term_name(question, t)} = {_num(t.value)}.")))
            break
    if question.mode == "reverse":
        for t in terms:
            if t.other >= 0 and accepts(answer, t.value, rtol, atol):
                found.append(Mistake("overwritten", (
                    f"the adjoint overwritten instead of accumulated: your answer is "
                    f"{_term_name(question, t)} = {_num(t.value)} alone, one contribution; "
                    f"{question.symbol} must add (+=) the contributions of all its children.")))
                break
    return found


def _alternatives(node, k):
    """Values a learner may wrongly use for the local partial ∂v/∂(argument k): each
    argument's value, the node's own value, and the function itself instead of its derivative
    (sin for cos), with a description of each."""
    trace_names = {}
    alts = []
    for j, (p, a) in enumerate(zip(node.parents, node.args)):
        name = f"v{p + 1}" if p >= 0 else "the constant"
        trace_names[j] = name
        if np.size(a) == np.size(node.ans) or np.ndim(a) == 0:
            alts.append((a, f"{name}'s value {_num(a)}"))
    alts.append((node.ans, f"{node.label}'s value {_num(node.ans)}"))
    name = node.prim.name
    x = node.args[0] if node.args else None
    extra = {"sin": (np.sin, "sin"), "cos": (np.cos, "cos"), "exp": (np.exp, "exp"),
             "tanh": (np.tanh, "tanh"), "log": (np.log, "ln")}
    if name in extra and x is not None:
        fn, fname = extra[name]
        alts.append((-fn(x) if name == "cos" else fn(x), f"the function {fname} instead of its derivative"))
    if name == "sin" and x is not None:
        alts.append((-np.cos(x), "−cos (the sign of the derivative)"))
    if name == "cos" and x is not None:
        alts.append((np.sin(x), "+sin (the sign of the derivative)"))
    if name in ("mul",) and len(node.args) == 2:
        alts.append((node.args[k], f"{trace_names[k]}'s own value (a product's partial is the "
                                   "other factor)"))
    return alts


def _wrong_value_mistakes(question, answer, rtol, atol):
    trace = question.context["trace"]
    terms = [t for t in question.terms if t.value is not None]
    total = _total(t.value for t in terms)
    for t in terms:
        if t.other < 0 or t.partial is None:
            continue
        if question.mode == "reverse":
            node, k = trace.nodes[t.other], t.argnum
            weight = question.context["reverse"].adjoints[question.column][t.other]
        else:
            node, k = trace.nodes[question.index], t.argnum
            weight = question.context["forward"].tangents[question.column][t.other]
        if weight is None:
            continue
        p_sym = f"∂{node.label}/∂{trace.nodes[node.parents[k]].label}" if node.parents[k] >= 0 \
            else f"∂{node.label}/∂(constant)"
        for alt, what in _alternatives(node, k):
            if accepts(alt, t.partial, rtol, atol):
                continue
            if accepts(answer, total - t.value + weight * alt, rtol, atol):
                return [Mistake("wrong_value", (
                    f"a partial taken at the wrong value: {p_sym} = {_num(t.partial)} here, "
                    f"your answer uses {what}."))]
    return []


def _seed_mistakes(question, answer, rtol, atol):
    ctx, i, s = question.context, question.index, question.column
    found = []
    if question.mode == "forward":
        fwd = ctx["forward"]
        for c, tangents in enumerate(fwd.tangents):
            if c != s and accepts(answer, tangents[i], rtol, atol):
                found.append(Mistake("seeds", (
                    f"seeds mixed up: {_num(answer)} is {question.symbol} for the seed "
                    f"{fwd.labels[c]}, this sweep's seed is {fwd.labels[s]} (ẋ_j = 1 for the "
                    f"input differentiated by, 0 for the others).")))
                return found
        rev = ctx.get("reverse") or ctx["trace"].reverse()
        for c, adj in enumerate(rev.adjoints):
            if accepts(answer, adj[i], rtol, atol):
                found.append(Mistake("seeds", (
                    f"forward and reverse mixed up: {_num(answer)} is the adjoint "
                    f"{symbol(ctx['trace'].nodes[i].label, 'reverse')} (∂f/∂v_i); forward mode "
                    f"asks for the tangent (∂v_i/∂x for the seed {fwd.labels[s]}).")))
                return found
    else:
        rev = ctx["reverse"]
        seed = rev.seeds[s].get(i) if s < len(rev.seeds) else None
        if seed is not None and not any(t.other >= 0 for t in question.terms) \
                and not accepts(answer, seed, rtol, atol):
            found.append(Mistake("seeds", (
                f"the output's seed: reverse mode starts with {question.symbol} = ∂f/∂f = "
                f"{_num(seed)} at the output (forward mode seeds the inputs instead).")))
            return found
        fwd = ctx.get("forward") or ctx["trace"].forward()
        for c, tangents in enumerate(fwd.tangents):
            if accepts(answer, tangents[i], rtol, atol):
                found.append(Mistake("seeds", (
                    f"forward and reverse mixed up: {_num(answer)} is the tangent "
                    f"{symbol(ctx['trace'].nodes[i].label, 'forward')} for {fwd.labels[c]} "
                    f"(∂v_i/∂x); reverse mode asks for the adjoint ∂f/∂v_i.")))
                return found
    return found


# ---- a session: questions, answers, score ---------------------------------------------------

class PredictSession:
    """Predict, then see: the questions of one sweep and the learner's score.

    Args:
        trace: an explore-mode ``Trace``.
        mode: ``"primal"``, ``"forward"`` or ``"reverse"``.
        forward, reverse, column: as for ``questions``.
        rtol, atol: the tolerance of ``accepts``.

    ``answer(text)`` checks the current question (a right answer moves on), ``reveal()`` shows
    it and moves on; ``score_line`` is ``"Score: 2 right · 1 wrong · 1 revealed"``.
    """

    def __init__(self, trace, mode, forward=None, reverse=None, column=0, rtol=RTOL, atol=ATOL):
        self.trace, self.mode, self.column = trace, mode, column
        self.rtol, self.atol = rtol, atol
        self.questions = questions(trace, mode, forward, reverse, column)
        self.position = 0
        self.right = self.wrong = self.revealed = 0
        self.history = []

    @property
    def current(self):
        """The question being asked, or None when every blank is filled."""
        return self.questions[self.position] if self.position < len(self.questions) else None

    @property
    def finished(self):
        return self.current is None

    def question_at_step(self, step):
        """The first unanswered question the sweep reveals at ``step`` (None if none)."""
        for q in self.questions[self.position:]:
            if q.step == step:
                return q
        return None

    def answer(self, text):
        """Check ``text`` against the current question; a right answer moves to the next one.

        Returns:
            ``Verdict``. Raises ValueError for text that is not a number (not counted).
        """
        q = self.current
        if q is None:
            raise ValueError("every blank is filled: nothing left to predict")
        verdict = check(q, text, self.rtol, self.atol)
        if verdict.correct:
            self.right += 1
            self.position += 1
        else:
            self.wrong += 1
        self.history.append(verdict)
        return verdict

    def reveal(self):
        """Show the current question's answer and move on (counted as revealed)."""
        q = self.current
        if q is None:
            return None
        self.revealed += 1
        self.position += 1
        return q

    @property
    def score_line(self):
        return f"Score: {self.right} right · {self.wrong} wrong · {self.revealed} revealed"

    def _repr_html_(self):
        return exercise_html(self.trace, self.mode, qs=self.questions)


# ---- the static fallback: an exercise with collapsed answers --------------------------------

def exercise_html(trace, mode="reverse", forward=None, reverse=None, column=0, qs=None):
    """The blanks of a sweep as an exercise, the answers (with their rules) in a collapsed
    ``<details>`` block — what predict mode shows where widgets do not run. All text escaped.

    Returns:
        str: ``<div class="adnb-predict-static">`` with an ordered list of blanks.
    """
    qs = questions(trace, mode, forward, reverse, column) if qs is None else qs
    esc = _html.escape
    what = {"primal": "values v_i", "forward": "tangents v̇_i", "reverse": "adjoints v̄_i"}[mode]
    items = "".join(f"<li><code>{esc(q.symbol)} = ____</code></li>" for q in qs)
    answers = "".join(f"<li><code>{esc(q.explanation())}</code></li>" for q in qs)
    return (f'<div class="adnb-predict-static"><p>Predict the {esc(what)} in the order the '
            f'sweep computes them:</p><ol>{items}</ol><details><summary>Answers</summary>'
            f'<ol>{answers}</ol></details></div>')


# ---- the table with the blanks still to predict ------------------------------------------------

_ROW = re.compile(r'(<tr class="[^"]*" data-node="(\d+)">)(.*?)(</tr>)', re.S)
_NUM_CELL = re.compile(r'<td class="adnb-num[^"]*"[^>]*>.*?</td>', re.S)


def _blank_row(row_html, cell):
    """Replace the number in the ``cell``-th numeric cell of a row by a blank."""
    cells = list(_NUM_CELL.finditer(row_html))
    if cell >= len(cells):
        return row_html
    m = cells[cell]
    blank = '<td class="adnb-num adnb-blank" title="predict this value">?</td>'
    return row_html[:m.start()] + blank + row_html[m.end():]


def predict_table(session):
    """The trace table as the learner sees it in predict mode: the sweep stopped at the current
    question's step (``adnb.display.html.trace_table``), the value of every question still open
    at that step shown as ``?`` (``td.adnb-blank``); the primal mode blanks every value not
    predicted yet. Escaped as ``trace_table`` escapes.

    Returns:
        str (HTML).
    """
    from .html import trace_table
    trace, mode, q = session.trace, session.mode, session.current
    open_ = [x.index for x in session.questions[session.position:]
             if q is None or mode == "primal" or x.step == q.step]
    if mode == "primal":
        html = trace_table(trace, mode="primal")
        cell = 0
    else:
        res = session.questions[0].context[mode]
        c = session.column
        step = q.step if q is not None else None
        if mode == "forward":
            one = type(res)(trace, [res.seeds[c]], [res.tangents[c]], [res.labels[c]])
            html = trace_table(trace, forward=one, mode="forward", step=step)
        else:
            one = type(res)(trace, [res.seeds[c]], [res.adjoints[c]], [res.labels[c]])
            html = trace_table(trace, reverse=one, mode="reverse", step=step)
        cell = 1
    if q is None:
        return html
    wanted = set(open_)
    return _ROW.sub(lambda m: _blank_row(m.group(0), cell) if int(m.group(2)) in wanted
                    else m.group(0), html)
