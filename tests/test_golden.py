"""Golden numbers: the worked examples of ../shared/reference/bishop-ch8.md §10, asserted exactly
(rel 1e-12) against values read off adnb's own trace, sweeps and API.

The reference numbers are typed in here from the reference document, not recomputed with any adnb
helper, so these tests are independent of the code they check (autograd's test_direct.py).
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

import adnb

REL = 1e-12


def close(actual, expected, rel=REL, what=""):
    """Relative comparison; an expected 0 needs an exact 0 (None counts as 0: 'not reached')."""
    a = 0.0 if actual is None else float(np.asarray(actual))
    if expected == 0.0:
        assert a == 0.0, f"{what}: {a!r}, expected 0"
    else:
        assert math.isclose(a, expected, rel_tol=rel), f"{what}: {a!r}, expected {expected!r}"


# ---- §10.1 / §10.2: the book's example (8.49) + (8.65), in the book's order v1..v8 ----------------

def book(x1, x2):
    v3 = x1 * x2
    v4 = np.sin(x2)
    v5 = np.exp(v3)
    v6 = v3 - v4
    v7 = v5 + v6
    v8 = v5 * v6
    return v7, v8


# columns of the §10.1 table: primal, v̇ (ẋ=e1), v̇ (ẋ=e2), v̄ (f1), v̄ (f2), for v1..v8
TABLE_1_2 = [
    (1.0, 1.0, 0.0, 16.7781121978613, 30.8966371987274),
    (2.0, 0.0, 1.0, 8.805202935477793, 18.523250920003058),
    (2.0, 2.0, 1.0, 8.38905609893065, 15.4483185993637),
    (0.9092974268256817, 0.0, -0.4161468365471424, -1.0, -7.38905609893065),
    (7.38905609893065, 14.7781121978613, 7.38905609893065, 1.0, 1.0907025731743183),
    (1.0907025731743183, 2.0, 1.4161468365471424, 1.0, 7.38905609893065),
    (8.47975867210497, 16.7781121978613, 8.805202935477793, 1.0, 0.0),
    (8.05926250043305, 30.8966371987274, 18.523250920003058, 0.0, 1.0),
]
E2 = math.exp(2.0)
E10 = math.exp(10.0)


@pytest.fixture(scope="module")
def book_trace_1_2():
    t = adnb.trace(book, 1.0, 2.0)
    return t, t.forward(), t.reverse()


def test_trace_structure_is_the_books(book_trace_1_2):
    t, _, _ = book_trace_1_2
    assert len(t.nodes) == 8 and t.inputs == [0, 1] and t.outputs == [6, 7]
    assert [n.label for n in t.nodes] == [f"v{i}" for i in range(1, 9)]
    assert [n.prim.name if n.prim else None for n in t.nodes] == \
        [None, None, "mul", "sin", "exp", "sub", "add", "mul"]
    # Figure 8.4/8.5: pa(i) and ch(i); fan-out at v2 (→ v3, v4) and v3 (→ v5, v6)
    assert [t.parents(i) for i in range(8)] == [[], [], [0, 1], [1], [2], [2, 3], [4, 5], [4, 5]]
    assert [t.children(i) for i in range(8)] == [[2], [2, 3], [4, 5], [5], [6, 7], [6, 7], [], []]
    assert t.n_ops == 6


@pytest.mark.parametrize("row", range(8), ids=[f"v{i}" for i in range(1, 9)])
def test_table_10_1_every_column(book_trace_1_2, row):
    t, fwd, rev = book_trace_1_2
    primal, t_e1, t_e2, a_f1, a_f2 = TABLE_1_2[row]
    close(t.nodes[row].ans, primal, what=f"primal v{row + 1}")
    assert fwd.passes == 2 and rev.passes == 2
    close(fwd.tangents[0][row], t_e1, what=f"tangent v{row + 1}, ẋ=e1")
    close(fwd.tangents[1][row], t_e2, what=f"tangent v{row + 1}, ẋ=e2")
    close(rev.adjoints[0][row], a_f1, what=f"adjoint v{row + 1}, f1")
    close(rev.adjoints[1][row], a_f2, what=f"adjoint v{row + 1}, f2")


def test_closed_forms_10_1(book_trace_1_2):
    _, fwd, rev = book_trace_1_2
    close(fwd.tangents[0][6], 2 + 2 * E2, what="∂f1/∂x1 = x2(1+e^{x1x2})")
    close(rev.adjoints[0][1], 1 + E2 - math.cos(2.0), what="∂f1/∂x2")
    close(rev.adjoints[0][2], E2 + 1, what="v̄3 (f1) = e²+1")
    close(rev.adjoints[1][5], E2, what="v̄6 (f2) = e²")
    close(rev.adjoints[1][4], 2 - math.sin(2.0), what="v̄5 (f2) = 2 − sin 2")
    close(rev.adjoints[1][2], E2 * (3 - math.sin(2.0)), what="v̄3 (f2) = e²(3 − sin 2)")


def test_output_tangents_and_gradients_are_jacobian_columns_and_rows(book_trace_1_2):
    _, fwd, rev = book_trace_1_2
    J = np.array([[16.7781121978613, 8.805202935477793],
                  [30.8966371987274, 18.523250920003058]])
    for j in range(2):
        for k, v in enumerate(fwd.output_tangents(j)):
            close(v, J[k, j], what=f"J[{k},{j}] by forward pass {j}")
    for k in range(2):
        for j, v in enumerate(rev.gradient(k)):
            close(v, J[k, j], what=f"J[{k},{j}] by reverse pass {k}")


def _book_vec(x):
    v7, v8 = book(x[0], x[1])
    return np.stack([v7, v8])


def _f1_vec(x):
    return book(x[0], x[1])[0]


@pytest.mark.parametrize("jac", [adnb.jacfwd, adnb.jacrev], ids=["jacfwd", "jacrev"])
def test_jacobian_10_1(jac):
    J = np.asarray(jac(_book_vec)(np.array([1.0, 2.0])))
    expected = [[16.7781121978613, 8.805202935477793], [30.8966371987274, 18.523250920003058]]
    assert J.shape == (2, 2)
    np.testing.assert_allclose(J, expected, rtol=REL, atol=0)


def test_jacobian_two_scalar_inputs_tuple_output():
    J = adnb.jacrev(book, argnums=(0, 1))(1.0, 2.0)
    expected = [[16.7781121978613, 8.805202935477793], [30.8966371987274, 18.523250920003058]]
    for k in range(2):
        for j in range(2):
            close(J[k][j], expected[k][j], what=f"jacrev J[{k}][{j}]")
    J = adnb.jacfwd(book, argnums=(0, 1))(1.0, 2.0)
    for k in range(2):
        for j in range(2):
            close(J[k][j], expected[k][j], what=f"jacfwd J[{k}][{j}]")


def test_jvp_r_10_1():
    expected = (7.972909262383508, 12.373386278724341)
    out, jr = adnb.jvp(book, (1.0, 2.0), (1.0, -1.0))       # one forward pass, ẋ = r
    close(out[0], 8.47975867210497, what="f1")
    close(out[1], 8.05926250043305, what="f2")
    for k in range(2):
        close(jr[k], expected[k], what=f"(J r)[{k}] by jvp")
    fwd = adnb.trace(book, 1.0, 2.0).forward(seeds=[1.0, -1.0])
    assert fwd.passes == 1
    for k, v in enumerate(fwd.output_tangents(0)):
        close(v, expected[k], what=f"(J r)[{k}] by trace.forward(seeds=r)")


def test_vjp_u_10_1():
    expected = (78.5713865953161, 45.85170477548391)
    out, pullback = adnb.vjp(book, 1.0, 2.0)
    ut_j = pullback((1.0, 2.0))                              # one reverse pass, (v̄7, v̄8) = u
    for j in range(2):
        close(ut_j[j], expected[j], what=f"(uᵀJ)[{j}] by vjp")
    rev = adnb.trace(book, 1.0, 2.0).reverse(seeds=[1.0, 2.0])
    assert rev.passes == 1
    for j, v in enumerate(rev.gradient(0)):
        close(v, expected[j], what=f"(uᵀJ)[{j}] by trace.reverse(seeds=u)")


HESSIAN_1_2 = [[29.556224395722601, 23.167168296791951], [23.167168296791951, 8.2983535257563319]]


def test_hessian_10_1():
    H = np.asarray(adnb.hessian(_f1_vec)(np.array([1.0, 2.0])))
    np.testing.assert_allclose(H, HESSIAN_1_2, rtol=REL, atol=0)
    np.testing.assert_allclose(H, [[4 * E2, 3 * E2 + 1], [3 * E2 + 1, E2 + math.sin(2.0)]],
                               rtol=REL, atol=0)


@pytest.mark.parametrize("method", ["forward-over-reverse", "reverse-over-forward"])
@pytest.mark.parametrize("point, expected", [
    ((1.0, 2.0), (6.3890560989306502, 14.868814771035619)),
    ((2.0, 5.0), (308369.52112729403, 154187.21948792168)),
], ids=["(1,2)", "(2,5)"])
def test_hvp_both_orderings(method, point, expected):
    hv = np.asarray(adnb.hvp(_f1_vec, np.array(point), np.array([1.0, -1.0]), method=method))
    np.testing.assert_allclose(hv, expected, rtol=REL, atol=0)


def test_hvp_closed_form_1_2():
    hv = adnb.hvp(_f1_vec, np.array([1.0, 2.0]), np.array([1.0, -1.0]))
    np.testing.assert_allclose(hv, [E2 - 1, 2 * E2 + 1 - math.sin(2.0)], rtol=REL, atol=0)


# ---- §10.2: the same functions at Baydin's point (2, 5) --------------------------------------------

def test_table_10_2_baydin_point():
    t = adnb.trace(book, 2.0, 5.0)
    fwd, rev = t.forward(), t.reverse()
    primal = {3: 10.0, 4: -0.9589242746631385, 5: 22026.465794806718, 6: 10.958924274663138,
              7: 22037.42471908138, 8: 241386.37068374464}
    for i, v in primal.items():
        close(t.nodes[i - 1].ans, v, what=f"primal v{i}")
    e1 = {3: 5.0, 5: 110132.32897403359, 6: 5.0, 7: 110137.32897403359, 8: 1317064.182392757}
    for i, v in e1.items():
        close(fwd.tangents[0][i - 1], v, what=f"tangent v{i}, ẋ=e1")
    e2 = {3: 2.0, 4: 0.28366218546322625, 5: 44052.931589613436, 6: 1.7163378145367738,
          7: 44054.64792742797, 8: 520577.59753171686}
    for i, v in e2.items():
        close(fwd.tangents[1][i - 1], v, what=f"tangent v{i}, ẋ=e2")
    adj = {3: E10 + 1, 2: 44054.64792742797, 1: 110137.32897403359}
    for i, v in adj.items():
        close(rev.adjoints[0][i - 1], v, what=f"adjoint v{i}, f1")
    close(adj[3], 22027.465794806718)


def test_v6_dot_e2_at_2_5_equals_baydin_x2_bar():
    # both functions contain x1 x2 − sin x2 (§10.3 note)
    t_b = adnb.trace(book, 2.0, 5.0).forward()
    g = adnb.grad(lambda x1, x2: np.log(x1) + x1 * x2 - np.sin(x2), argnums=1)(2.0, 5.0)
    close(t_b.tangents[1][5], g, what="v̇6 (e2) vs Baydin x̄2")
    close(g, 2 - math.cos(5.0))


# ---- §10.3: Baydin et al. (2018): y = ln x1 + x1 x2 − sin x2 at (2, 5) -----------------------------

def baydin(x1, x2):
    v1 = np.log(x1)
    v2 = x1 * x2
    v3 = np.sin(x2)
    v4 = v1 + v2
    v5 = v4 - v3
    return v5


BAYDIN_TABLE = [   # primal, ẋ=e1, ẋ=e2, adjoint (ȳ=1), in trace order v−1, v0, v1..v5
    (2.0, 1.0, 0.0, 5.5),
    (5.0, 0.0, 1.0, 1.7163378145367738),
    (0.6931471805599453, 0.5, 0.0, 1.0),
    (10.0, 5.0, 2.0, 1.0),
    (-0.9589242746631385, 0.0, 0.28366218546322625, -1.0),
    (10.693147180559945, 5.5, 2.0, 1.0),
    (11.652071455223084, 5.5, 1.7163378145367738, 1.0),
]


def test_table_10_3_baydin():
    t = adnb.trace(baydin, 2.0, 5.0)
    assert [n.prim.name if n.prim else None for n in t.nodes] == \
        [None, None, "log", "mul", "sin", "add", "sub"]
    fwd, rev = t.forward(), t.reverse()
    assert rev.passes == 1
    for i, (p, te1, te2, a) in enumerate(BAYDIN_TABLE):
        close(t.nodes[i].ans, p, what=f"primal node {i}")
        close(fwd.tangents[0][i], te1, what=f"tangent node {i}, e1")
        close(fwd.tangents[1][i], te2, what=f"tangent node {i}, e2")
        close(rev.adjoints[0][i], a, what=f"adjoint node {i}")
    g = adnb.grad(baydin, argnums=(0, 1))(2.0, 5.0)
    close(g[0], 5.5)
    close(g[1], 2 - math.cos(5.0))


# ---- §10.4: the softplus network (8.47) ------------------------------------------------------------

def softplus(a):
    return np.log1p(np.exp(a))


def softplus_net(x, w1, b1, w2, b2):
    u1 = w1 * x
    a1 = u1 + b1
    z = softplus(a1)
    u2 = w2 * z
    a2 = u2 + b2
    y = softplus(a2)
    return y


SP_POINT = (1.5, 0.8, -0.3, 1.2, 0.5)
# trace order: x w1 b1 w2 b2 | u1 a1 exp(a1) z u2 a2 exp(a2) y
SP = {"u1": 5, "a1": 6, "z": 8, "u2": 9, "a2": 10, "y": 12}


def test_softplus_net_10_4_trace():
    t = adnb.trace(softplus_net, *SP_POINT)
    assert [n.prim.name if n.prim else None for n in t.nodes][5:] == \
        ["mul", "add", "exp", "log1p", "mul", "add", "exp", "log1p"]
    primal = {"u1": 1.2000000000000002, "a1": 0.9000000000000001, "z": 1.2411538747320878,
              "u2": 1.4893846496785053, "a2": 1.9893846496785053, "y": 2.1175839730963104}
    for k, v in primal.items():
        close(t.nodes[SP[k]].ans, v, what=f"primal {k}")
    fwd = t.forward()                      # seed 1 is ẇ1 = 1
    tangent_w1 = {"u1": 1.5, "a1": 1.5, "z": 1.066424253937506, "u2": 1.279709104725007,
                  "a2": 1.279709104725007, "y": 1.1257319730060193}
    for k, v in tangent_w1.items():
        close(fwd.tangents[1][SP[k]], v, what=f"tangent {k}, ẇ1=1")
    rev = t.reverse()
    adjoints = {"a2": 0.8796780212389944, "u2": 0.8796780212389944, "z": 1.0556136254867932,
                "a1": 0.7504879820040129, "u1": 0.7504879820040129, "y": 1.0}
    for k, v in adjoints.items():
        close(rev.adjoints[0][SP[k]], v, what=f"adjoint {k}")
    gradient = (0.6003903856032103, 1.1257319730060193, 0.7504879820040129, 1.0918157845774337,
                0.8796780212389944)
    for j, v in enumerate(rev.gradient(0)):
        close(v, gradient[j], what=f"∂y/∂{['x', 'w1', 'b1', 'w2', 'b2'][j]}")


def test_softplus_net_10_4_api_and_eq_8_48():
    g = adnb.grad(softplus_net, argnums=(0, 1, 2, 3, 4))(*SP_POINT)
    np.testing.assert_allclose(g, (0.6003903856032103, 1.1257319730060193, 0.7504879820040129,
                                   1.0918157845774337, 0.8796780212389944), rtol=REL, atol=0)
    x, w1, b1, w2, b2 = SP_POINT
    e1 = math.exp(w1 * x + b1)
    eq_8_48 = (w2 * x * math.exp(w1 * x + b1 + b2 + w2 * math.log(1 + e1))
               / ((1 + e1) * (1 + math.exp(b2 + w2 * math.log(1 + e1)))))
    close(g[1], eq_8_48, what="(8.48)")
    y, t_w1 = adnb.jvp(softplus_net, SP_POINT, (0.0, 1.0, 0.0, 0.0, 0.0))
    close(y, 2.1175839730963104, what="y")
    close(t_w1, 1.1257319730060193, what="ẏ (ẇ1=1)")


# ---- §10.6: the logistic map (Exercise 8.14) -------------------------------------------------------

LOGISTIC_EXACT = [   # n, L_n(3/10), L_n'(3/10)
    (1, Fraction(3, 10), Fraction(1)),
    (2, Fraction(21, 25), Fraction(8, 5)),
    (3, Fraction(336, 625), Fraction(-544, 125)),
    (4, Fraction(388416, 390625), Fraction(102272, 78125)),
    (5, Fraction(3432043776, 152587890625), Fraction(-157992649216, 30517578125)),
]


def logistic(x, n):
    L = x
    for _ in range(n - 1):
        L = 4.0 * L * (1.0 - L)
    return L


def test_logistic_exact_values_are_consistent():
    # the table itself, by the recurrences L_{n+1} = 4 L_n (1 − L_n), L'_{n+1} = 4 L'_n (1 − 2 L_n)
    for (n, L, dL), (_, L1, dL1) in zip(LOGISTIC_EXACT, LOGISTIC_EXACT[1:]):
        assert L1 == 4 * L * (1 - L) and dL1 == 4 * dL * (1 - 2 * L)


@pytest.mark.parametrize("n, L, dL", LOGISTIC_EXACT, ids=[f"L{n}" for n, _, _ in LOGISTIC_EXACT])
def test_logistic_map_10_6(n, L, dL):
    x = 0.3
    value, g = adnb.value_and_grad(logistic)(x, n)
    close(value, float(L), what=f"L{n}")
    close(g, float(dL), what=f"L{n}' by reverse mode")
    _, t = adnb.jvp(lambda x: logistic(x, n), (x,), (1.0,))
    close(t, float(dL), what=f"L{n}' by forward mode")
    tr = adnb.trace(lambda x: logistic(x, n), x)   # n stays a Python int (not an input)
    if n > 1:
        close(tr.forward().output_tangents(0)[0], float(dL), what=f"L{n}' by trace.forward")
        close(tr.reverse().gradient(0)[0], float(dL), what=f"L{n}' by trace.reverse")


# ---- §10.5: finite differences for ∂f1/∂x1 at (1, 2) ----------------------------------------------

FD_TABLE = {   # ε: (forward error, central error), truncation-dominated entries only
    1e-1: (1.58e0, 9.87e-2),
    1e-2: (1.49e-1, 9.85e-4),
    1e-3: (1.48e-2, 9.85e-6),
    1e-4: (1.48e-3, 9.85e-8),
    1e-5: (1.48e-4, 1.0e-9),
}
EXACT_DF1_DX1 = 2 + 2 * E2


def _f1_array(x):
    return x[0] * x[1] + np.exp(x[0] * x[1]) - np.sin(x[1])


@pytest.mark.parametrize("eps", sorted(FD_TABLE), ids=[f"{e:g}" for e in sorted(FD_TABLE)])
def test_finite_difference_errors_10_5(eps):
    x, e1 = np.array([1.0, 2.0]), np.array([1.0, 0.0])
    fwd_err = abs(adnb.forward_difference(_f1_array, x, e1, eps=eps) - EXACT_DF1_DX1)
    cen_err = abs(adnb.central_difference(_f1_array, x, e1, eps=eps) - EXACT_DF1_DX1)
    expected_fwd, expected_cen = FD_TABLE[eps]
    assert fwd_err == pytest.approx(expected_fwd, rel=0.01 if eps > 1e-5 else 0.05)
    assert cen_err == pytest.approx(expected_cen, rel=0.01 if eps > 1e-5 else 0.05)


def test_finite_difference_slopes_and_round_off_10_5():
    x, e1 = np.array([1.0, 2.0]), np.array([1.0, 0.0])

    def err(method, eps):
        d = getattr(adnb, method)(_f1_array, x, e1, eps=eps)
        return abs(d - EXACT_DF1_DX1)
    fwd = [err("forward_difference", e) for e in (1e-4, 1e-3, 1e-2, 1e-1)]
    cen = [err("central_difference", e) for e in (1e-3, 1e-2, 1e-1)]
    slope_fwd = np.polyfit(np.log10([1e-4, 1e-3, 1e-2, 1e-1]), np.log10(fwd), 1)[0]
    slope_cen = np.polyfit(np.log10([1e-3, 1e-2, 1e-1]), np.log10(cen), 1)[0]
    assert abs(slope_fwd - 1.0) < 0.1 and abs(slope_cen - 2.0) < 0.1
    # round-off: below the optimum the error grows again as ε shrinks (Fig 8.2)
    assert err("forward_difference", 1e-12) > err("forward_difference", 1e-8)
    assert err("central_difference", 1e-12) > err("central_difference", 1e-6)
