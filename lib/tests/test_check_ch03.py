"""Feedback of the chapter 3 exercise checks: right answers pass, typical wrong
answers get their hint, malformed answers get a message (never a traceback), and
no message gives the answer away."""

import math

import numpy as np
import sympy as sp

from _checks import CheckHarness, boom, rounded, truncated
import smoothmax
from smoothmax import check

eps_s = sp.Symbol("varepsilon", positive=True)
u_y, u_k = sp.symbols("u_y u_k", positive=True)
K_s, V_s = sp.symbols("K V", positive=True)

GAP_PRIOR = sp.log((1 - eps_s + eps_s * u_y) / (eps_s * u_k))
EPS_U = {5: 0.1 * 4 / 3, 37_000: 0.1 * 36_999 / 36_998}
EPS_ZERO = 0.9
GAP_U_AT_ZERO = math.log(19 / 9)
FLOOR = float(-(0.9 + 1e-4) * np.log(0.9 + 1e-4) - 999 * 1e-4 * np.log(1e-4))
FLOOR_FORMULA = (-(1 - eps_s + eps_s / K_s) * sp.log(1 - eps_s + eps_s / K_s)
                 - (K_s - 1) * eps_s / K_s * sp.log(eps_s / K_s))


def at_targets(target, V, eps, padding_idx):
    target = np.asarray(target)
    q = np.zeros((len(target), V))
    for row, tg in enumerate(target):
        if tg == padding_idx:
            continue
        q[row] = eps / (V - 2)
        q[row, padding_idx] = 0.0
        q[row, tg] = 1.0 - eps
    return q


def at_targets_vectorised(target, V, eps, padding_idx):
    target = np.asarray(target)
    q = np.full((len(target), V), eps / (V - 2))
    q[np.arange(len(target)), target] = 1 - eps
    q[:, padding_idx] = 0.0
    q[target == padding_idx] = 0.0
    return q


def _at_variant(off, on_extra=0.0, zero_column=True, zero_rows=True):
    def at(target, V, eps, padding_idx):
        target = np.asarray(target)
        q = np.full((len(target), V), off(V, eps))
        q[np.arange(len(target)), target] = 1 - eps + on_extra * off(V, eps)
        if zero_column:
            q[:, padding_idx] = 0.0
        if zero_rows:
            q[target == padding_idx] = 0.0
        return q
    return at


def _at_uniform(target, V, eps, padding_idx):
    return smoothmax.smooth_labels(np.asarray(target), V, eps)


def _at_uniform_masked(target, V, eps, padding_idx):
    target = np.asarray(target)
    q = smoothmax.smooth_labels(target, V, eps)
    q[:, padding_idx] = 0.0
    q[target == padding_idx] = 0.0
    return q


def _floor(K, eps):
    t, o = 1 - eps + eps / K, eps / K
    return -t * math.log(t) - (K - 1) * o * math.log(o)


def _others_zero_by_bisection(K=10):
    """The ε where the 'others' gap is 0, found numerically as a student might."""
    lo, hi = 0.01, 0.99
    while hi - lo > 1e-10:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if smoothmax.optimal_logit_gap(mid, K, convention="others") > 0 else (lo, mid)
    return (lo + hi) / 2


RIGHT = [
    (check.ls_prior, (GAP_PRIOR,)),
    (check.ls_prior, ("log((1 - eps + eps*u_y)/(eps*u_k))",)),
    (check.ls_prior, ("log(1 - epsilon + epsilon*uy) - log(epsilon) - log(uk)",)),
    (check.ls_prior, ("log((1 - ε + ε*u_y)/(ε*u_k))",)),
    (check.ls_prior, (lambda eps, u_y, u_k: math.log((1 - eps + eps * u_y) / (eps * u_k)),)),
    (check.ls_annotated, (at_targets, EPS_U)),
    (check.ls_annotated, (at_targets_vectorised, "eps*(V - 1)/(V - 2)")),
    (check.ls_annotated, (at_targets, lambda eps, V: eps * (V - 1) / (V - 2))),
    (check.ls_annotated, (at_targets, eps_s * (V_s - 1) / (V_s - 2))),
    (check.ls_annotated, (at_targets, (EPS_U[5], EPS_U[37_000]))),
    (check.ls_slider, (EPS_ZERO, GAP_U_AT_ZERO)),
    (check.ls_slider, (sp.Rational(9, 10), sp.log(sp.Rational(19, 9)))),
    (check.ls_slider, (9 / 10, smoothmax.optimal_logit_gap(0.9, 10))),
    (check.ls_floor, (FLOOR,)),
    (check.ls_floor, (np.float64(FLOOR),)),
    (check.ls_floor, (FLOOR_FORMULA,)),
    (check.ls_floor, ("-(1 - eps + eps/K)*log(1 - eps + eps/K) - (K - 1)*eps/K*log(eps/K)",)),
    (check.ls_floor, (_floor,)),
    (check.ls_floor, (FLOOR_FORMULA.subs({K_s: 1000, eps_s: sp.Rational(1, 10)}),)),
    # more correct forms
    (check.ls_prior, ("ln(1 - eps + eps*u_y) - ln(eps*u_k)",)),
    (check.ls_prior, (lambda eps, u_y, u_k: np.log1p(eps * (u_y - 1)) - np.log(eps * u_k),)),
    (check.ls_annotated, (lambda *a: at_targets(*a).astype(np.float32), EPS_U)),
    (check.ls_annotated, (lambda *a: at_targets_vectorised(*a).tolist(), EPS_U)),
    (check.ls_annotated, (at_targets, {V: rounded(x, 6) for V, x in EPS_U.items()})),
    (check.ls_annotated, (at_targets, {V: truncated(x, 6) for V, x in EPS_U.items()})),
    (check.ls_annotated, (at_targets, {5: "0.4/3", 37_000: "0.1*36999/36998"})),
    (check.ls_annotated, (at_targets, {5: sp.Rational(2, 15), 37_000: sp.Rational(36_999, 369_980)})),
    (check.ls_annotated, (at_targets, np.array([EPS_U[5], EPS_U[37_000]]))),
    (check.ls_annotated, (at_targets, "eps*(1 + 1/(V - 2))")),
    (check.ls_slider, (rounded(EPS_ZERO, 4), rounded(GAP_U_AT_ZERO, 4))),
    (check.ls_slider, (EPS_ZERO, truncated(GAP_U_AT_ZERO, 4))),
    (check.ls_slider, ("0.9", "log(19/9)")),
    (check.ls_slider, ("9/10", "ln(1 + 10*0.1/0.9)")),
    (check.ls_slider, (_others_zero_by_bisection(), smoothmax.optimal_logit_gap(_others_zero_by_bisection(), 10))),
    (check.ls_slider, (np.float32(0.9), np.float32(GAP_U_AT_ZERO))),
    (check.ls_floor, (rounded(FLOOR, 6),)),
    (check.ls_floor, (truncated(FLOOR, 6),)),
    (check.ls_floor, (str(rounded(FLOOR, 6)),)),
    (check.ls_floor, ("-0.9001*log(0.9001) - 999*0.0001*log(0.0001)",)),
    (check.ls_floor, (np.array(FLOOR),)),
    (check.ls_floor, (lambda K, eps: float(-np.sum(smoothmax.smooth_labels(0, int(K), eps)
                                                   * np.log(smoothmax.smooth_labels(0, int(K), eps)))),)),
]


e, V = sp.symbols("eps V", positive=True)
# (check, wrong answer, a fragment of the expected hint)
WRONG = [
    # ex-ls-prior
    (check.ls_prior, (sp.log((1 - eps_s) / (eps_s * u_k)),), "its share"),
    (check.ls_prior, (sp.log((1 - eps_s + eps_s * u_k) / (eps_s * u_y)),), "swapped"),
    (check.ls_prior, (sp.log((1 - eps_s + eps_s * u_k) / (eps_s * u_k)),), "numerator"),
    (check.ls_prior, (sp.log((1 - eps_s + eps_s * u_y) / u_k),), "not u(k)"),
    (check.ls_prior, (-GAP_PRIOR,), "z_k − z_y"),
    (check.ls_prior, (sp.exp(GAP_PRIOR),), "log of a ratio"),
    (check.ls_prior, (GAP_PRIOR / sp.log(10),), "natural logarithm"),
    (check.ls_prior, (GAP_PRIOR + eps_s,), "does not match"),
    # ex-ls-annotated: the function
    (check.ls_annotated, (_at_variant(lambda V, eps: eps / (V - 1)), EPS_U), "V − 2 tokens"),
    (check.ls_annotated, (_at_variant(lambda V, eps: eps / (V - 2), zero_column=False), EPS_U),
     "padding column"),
    (check.ls_annotated, (_at_variant(lambda V, eps: eps / (V - 2), zero_rows=False), EPS_U),
     "all zeros"),
    (check.ls_annotated, (_at_uniform, EPS_U), "uniform convention (ε/V"),
    (check.ls_annotated, (_at_uniform_masked, EPS_U), "padding removed"),
    (check.ls_annotated, (_at_variant(lambda V, eps: eps / (V - 2), on_extra=1.0), EPS_U),
     "exactly 1 − ε"),
    (check.ls_annotated, (lambda *a: at_targets(*a) * 1.01, EPS_U), "sum to 1"),
    (check.ls_annotated, (lambda *a: at_targets(*a)[:, 1:], EPS_U), "shape"),
    (check.ls_annotated, (at_targets,), "now pass the equivalent uniform"),
    # ex-ls-annotated: the uniform eps
    (check.ls_annotated, (at_targets, e * (V - 2) / (V - 1)), "inverse"),
    (check.ls_annotated, (at_targets, e * V / (V - 1)), "V − 1, not V"),
    (check.ls_annotated, (at_targets, e), "different targets"),
    (check.ls_annotated, (at_targets, {5: 0.1, 37_000: 0.1}), "different targets"),
    (check.ls_annotated, (at_targets, {5: 0.1 * 3 / 4, 37_000: 0.1 * 36_998 / 36_999}), "inverse"),
    (check.ls_annotated, (at_targets, {5: 0.1333, 37_000: EPS_U[37_000]}), "more digits"),
    (check.ls_annotated, (at_targets, {5: EPS_U[5], 37_000: 0.2}), "V = 37000 does not match"),
    (check.ls_annotated, (at_targets, e * (V - 1) / V), "formula does not match"),
    # ex-ls-slider
    (check.ls_slider, (1.0, None), "sooner"),
    (check.ls_slider, (0.5, None), "look at larger ε"),
    (check.ls_slider, (0.95, None), "look at smaller ε"),
    (check.ls_slider, (0.901, None), "close"),
    (check.ls_slider, (1.5, None), "between 0 and 1"),
    (check.ls_slider, (EPS_ZERO, None), "now pass the uniform gap"),
    (check.ls_slider, (EPS_ZERO, 0.0), "'others' gap"),
    (check.ls_slider, (EPS_ZERO, GAP_U_AT_ZERO / math.log(10)), "natural logarithm"),
    (check.ls_slider, (EPS_ZERO, GAP_U_AT_ZERO / math.log(2)), "not bits"),
    (check.ls_slider, (EPS_ZERO, 19 / 9), "not the ratio"),
    (check.ls_slider, (EPS_ZERO, float(smoothmax.optimal_logit_gap(0.1, 10))), "initial value"),
    (check.ls_slider, (EPS_ZERO, 2.0), "does not match"),
    # ex-ls-floor: numbers
    (check.ls_floor, (float(smoothmax.cross_entropy(
        np.log(smoothmax.smooth_labels(0, 1000, 0.1, convention="others")), 0,
        label_smoothing=0.1, convention="others")),), "'others' convention"),
    (check.ls_floor, (-0.9001 * math.log(0.9001) - 1e-4 * math.log(1e-4),), "its own term"),
    (check.ls_floor, (-0.9001 * math.log(0.9001) - 1000 * 1e-4 * math.log(1e-4),), "not K"),
    (check.ls_floor, (-0.9 * math.log(0.9) - 999 * 1e-4 * math.log(1e-4),), "1 − ε + ε/K"),
    (check.ls_floor, (-0.9001 * math.log(0.9001),), "contribute"),
    (check.ls_floor, (-FLOOR,), "sign is flipped"),
    (check.ls_floor, (FLOOR / math.log(2),), "natural logarithm"),
    (check.ls_floor, (FLOOR / math.log(10),), "natural logarithm"),
    (check.ls_floor, (0,), "cannot reach 0"),
    (check.ls_floor, (-0.5,), "never negative"),
    (check.ls_floor, (1.0,), "does not match"),
    (check.ls_floor, (round(FLOOR, 3),), "full precision"),
    # ex-ls-floor: formulas
    (check.ls_floor, (-(1 - eps_s) * sp.log(1 - eps_s) - (K_s - 1) * eps_s / K_s * sp.log(eps_s / K_s),),
     "1 − ε + ε/K"),
    (check.ls_floor, (FLOOR_FORMULA.subs(K_s - 1, K_s),), "not K"),
    (check.ls_floor, ("-(1 - eps + eps/K)*log(1 - eps + eps/K) - eps/K*log(eps/K)",), "its own term"),
    (check.ls_floor, (FLOOR_FORMULA / sp.log(2),), "natural logarithm"),
    (check.ls_floor, (FLOOR_FORMULA + eps_s,), "at K = 2"),
]

SECRET_NUMBERS = [EPS_U[5], EPS_U[37_000], EPS_ZERO, GAP_U_AT_ZERO, FLOOR]
SECRET_TEXT = ["(1 − ε + εu(y)) / (εu(k))", "1 - eps + eps*u_y", "(V − 1)/(V − 2)",
               "(V - 1)/(V - 2)", "19/9", "(K − 1)/K", "9/10"]


# (check, malformed answer, a fragment of the expected message)
MALFORMED = [
    (check.ls_prior, (None,), "no answer yet"),
    (check.ls_prior, ("log(1 + K*(1 - eps)/eps)",), "should not contain K"),
    (check.ls_prior, ("log((1 - eps + eps*u(y))/(eps*u(k)))",), "does not know"),
    (check.ls_prior, ("log((1 - eps",), "could not read"),
    (check.ls_prior, ("log(q_y/q_k)",), "may use only eps, u_y, u_k"),
    (check.ls_prior, (boom,), "raised RuntimeError: boom"),
    (check.ls_prior, (lambda eps: eps,), "raised TypeError"),
    (check.ls_prior, (lambda *a: math.nan,), "NaN"),
    (check.ls_prior, (0.5,), "constant"),
    (check.ls_annotated, (None, None), "no answer yet"),
    (check.ls_annotated, (np.zeros((5, 5)), EPS_U), "pass at_targets itself"),
    (check.ls_annotated, (boom, EPS_U), "raised RuntimeError: boom"),
    (check.ls_annotated, (lambda target, V: None, EPS_U), "raised TypeError"),
    (check.ls_annotated, (lambda *a: None, EPS_U), "forget to `return`"),
    (check.ls_annotated, (lambda *a: [["a"]], EPS_U), "array of numbers"),
    (check.ls_annotated, (lambda *a: at_targets(*a) * np.nan, EPS_U), "NaN"),
    (check.ls_annotated, (at_targets, 0.13), "formula in eps and V, or as a dict"),
    (check.ls_annotated, (at_targets, {5: EPS_U[5]}), "V = 5 and V = 37000"),
    (check.ls_annotated, (at_targets, {5: "0.13 *", 37_000: 0.1}), "could not read"),
    (check.ls_annotated, (at_targets, {5: math.nan, 37_000: 0.1}), "NaN"),
    (check.ls_annotated, (at_targets, (0.1, 0.2, 0.3)), "formula in eps and V, or as a dict"),
    (check.ls_annotated, (at_targets, "eps*K/(K - 1)"), "V − 1"),
    (check.ls_annotated, (at_targets, "eps*(n - 1)/(n - 2)"), "may use only eps, V"),
    (check.ls_annotated, (at_targets, lambda eps: eps), "raised TypeError"),
    (check.ls_slider, (None, None), "no answer yet"),
    (check.ls_slider, ("eps", None), "symbol(s) eps"),
    (check.ls_slider, (math.nan, None), "NaN"),
    (check.ls_slider, (np.array([0.5, 0.9]), None), "single number"),
    (check.ls_slider, (EPS_ZERO, "log(2"), "could not read"),
    (check.ls_slider, (EPS_ZERO, math.inf), "infinite"),
    (check.ls_slider, (sp.Symbol("eps"), None), "symbol(s) eps"),
    (check.ls_floor, (None,), "no answer yet"),
    (check.ls_floor, ("banana",), "may use only K, eps"),
    (check.ls_floor, ("entropy(q)",), "does not know"),
    (check.ls_floor, ("-(1 - eps",), "could not read"),
    (check.ls_floor, (boom,), "raised RuntimeError: boom"),
    (check.ls_floor, (lambda K: K,), "raised TypeError"),
    (check.ls_floor, (lambda K, eps: math.nan,), "NaN"),
    (check.ls_floor, (math.nan,), "NaN"),
    (check.ls_floor, (np.ones(3),), "single number"),
    (check.ls_floor, ([1.0],), "single number"),
    (check.ls_floor, (True,), "boolean"),
    (check.ls_floor, (sp.Function("H")(K_s),), "does not know"),
    (check.ls_slider, (sp.Function("f")(1), None), "does not know"),
    (check.ls_slider, (EPS_ZERO, sp.Function("gap")(EPS_ZERO)), "does not know"),
    (check.ls_annotated, (at_targets, {5: sp.Function("f")(5), 37_000: 0.1}), "does not know"),
]

harness = CheckHarness(unpack=True, texts=SECRET_TEXT, numbers=SECRET_NUMBERS)
test_right_answers_pass = harness.right(RIGHT)
test_wrong_answers_get_their_hint = harness.wrong(WRONG)
test_malformed_answers_get_a_clear_message = harness.malformed(MALFORMED)
test_each_check_states_its_tolerance = harness.tolerances(
    [check.ls_prior, check.ls_annotated, check.ls_slider, check.ls_floor])


def test_the_digits_asked_for_separate_the_conventions():
    """6 digits for the values of ls_annotated and ls_floor: 0.1 is not the uniform ε for
    V = 37000, and the floors of the other conventions differ from it in the 4th or 5th digit."""
    assert not check.ls_annotated(at_targets, {5: EPS_U[5], 37_000: 0.1}).correct
    assert not check.ls_annotated(at_targets, {V: rounded(x, 5) for V, x in EPS_U.items()}).correct
    assert not check.ls_floor(rounded(FLOOR, 4)).correct
    assert check.ls_floor(rounded(FLOOR, 6)).correct
    assert not check.ls_slider(rounded(EPS_ZERO, 4), rounded(GAP_U_AT_ZERO, 3)).correct


def test_the_reference_values_come_from_the_library():
    from smoothmax.check.ch03_label_smoothing import (_annotated_reference, _eps_uniform_reference,
                                                      _floor, _others_zero, _prior_gap)
    assert math.isclose(_others_zero(), 0.9, rel_tol=1e-14)
    assert math.isclose(_floor(1000, 0.1), FLOOR, rel_tol=1e-13)
    for V in EPS_U:
        assert math.isclose(_eps_uniform_reference(0.1, V), EPS_U[V], rel_tol=1e-14)
    # the reference target is the chapter's formula eq-ls-annotated
    for V, pad in [(5, 0), (12, 7), (3, 1)]:
        target = np.arange(V).repeat(2)
        np.testing.assert_allclose(_annotated_reference(target, V, 0.3, pad),
                                   at_targets_vectorised(target, V, 0.3, pad), atol=1e-16)
    # the prior gap is where the smoothed loss is stationary
    u = np.array([0.5, 0.3, 0.2])
    q = 0.8 * np.eye(3)[0] + 0.2 * u
    z = np.log(q)
    assert np.abs(smoothmax.cross_entropy_grad(z, q)).max() < 1e-15
    assert math.isclose(_prior_gap(0.2, 0.5, 0.3), z[0] - z[1], rel_tol=1e-14)
