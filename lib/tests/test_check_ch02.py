"""Feedback of the chapter 2 exercise checks: right answers pass, typical wrong
answers get their hint, malformed answers get a message (never a traceback), and
no message gives the answer away."""

import math

import numpy as np
import sympy as sp

from _checks import CheckHarness, boom, central_gradient, rounded, truncated
import smoothmax
from smoothmax import check

s, t = sp.symbols("s t", real=True)
sigma = 1 / (1 + sp.exp(-s))
bce = -t * sp.log(sigma) - (1 - t) * sp.log(1 - sigma)
Y_MULTI = np.array([1.0, 1.0, 0.0, 0.0])
INFIMUM = 2 * math.log(2)


def _logits(m, c=1.0):
    return c * np.array([m, 0.0, -1.0, -2.0])


LOSS_C1 = float(smoothmax.cross_entropy(_logits(2), 0))
LOSS_C3 = float(smoothmax.cross_entropy(_logits(2, 3.0), 0)) / 3


def _softmax_rows(Z):
    Z = np.asarray(Z, dtype=float)
    e = np.exp(Z - Z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _ce_grad_mean(Z, labels):
    G = smoothmax.softmax(np.asarray(Z, dtype=float), axis=-1)
    G[np.arange(len(labels)), labels] -= 1.0
    return G / len(labels)


def _ce_grad_mean_onehot(Z, labels):
    Z = np.asarray(Z, dtype=float)
    return (_softmax_rows(Z) - np.eye(Z.shape[1])[labels]) / Z.shape[0]


def _ce_grad_mean_naive(Z, labels):  # overflows for large logits
    e = np.exp(Z)
    return (e / e.sum(axis=1, keepdims=True) - np.eye(Z.shape[1])[labels]) / Z.shape[0]


def _ce_grad_mean_columns(Z, labels):  # the fancy-indexing slip
    G = smoothmax.softmax(Z)
    G[:, labels] -= 1.0
    return G / Z.shape[0]


def _bce(s, t):
    return -t * math.log(1 / (1 + math.exp(-s))) - (1 - t) * math.log(1 - 1 / (1 + math.exp(-s)))


def _dl_ds_central(s, t, h=1e-6):
    return (_bce(s + h, t) - _bce(s - h, t)) / (2 * h)


def _d2l_ds2_second_difference(s, t, h=1e-4):
    return (_bce(s + h, t) - 2 * _bce(s, t) + _bce(s - h, t)) / h ** 2


def _d2l_ds2_central(s, t, h=1e-6):
    sig = lambda u: 1 / (1 + math.exp(-u))     # noqa: E731
    return ((sig(s + h) - t) - (sig(s - h) - t)) / (2 * h)


def _multi_hot_loss(z):
    return -np.sum(Y_MULTI * smoothmax.log_softmax(z))


def _gradient_central(z):
    """Part (a) as the chapter checks it: central differences, h = 1e-6."""
    return central_gradient(_multi_hot_loss, z)


def _ce_grad_mean_central(Z, labels):
    return central_gradient(lambda U: smoothmax.cross_entropy(U, labels), Z)


LOSS_C1_EXPR = sp.log(1 + sp.exp(-2) + sp.exp(-3) + sp.exp(-4))
LOSS_C3_EXPR = sp.log(1 + sp.exp(-6) + sp.exp(-9) + sp.exp(-12)) / 3

RIGHT = [
    (check.ce_binary, (sp.diff(bce, s), sp.diff(bce, s, 2))),
    (check.ce_binary, ("1/(1 + exp(-s)) - t", "exp(-s)/(1 + exp(-s))**2")),
    (check.ce_binary, (lambda s, t: 1 / (1 + math.exp(-s)) - t,
                       lambda s, t: math.exp(-s) / (1 + math.exp(-s)) ** 2)),
    (check.ce_binary, (sigma - sp.Symbol("t", positive=True), sigma * (1 - sigma))),
    (check.ce_unnormalised, (lambda z: 2 * smoothmax.softmax(z) - Y_MULTI, INFIMUM)),
    (check.ce_unnormalised, (lambda z: Y_MULTI.sum() * _softmax_rows(z) - Y_MULTI, sp.log(4))),
    (check.ce_unnormalised, (lambda z: 2 * smoothmax.cross_entropy_grad(z, Y_MULTI / 2),
                             np.float64(INFIMUM))),
    (check.ce_batch, (_ce_grad_mean,)),
    (check.ce_batch, (_ce_grad_mean_onehot,)),
    (check.ce_batch, (lambda Z, labels: smoothmax.cross_entropy_grad(Z, labels),)),
    (check.ce_slider, (LOSS_C1, LOSS_C3)),
    (check.ce_slider, (np.float64(LOSS_C1), np.array(LOSS_C3))),
    # more correct forms
    (check.ce_binary, ("exp(s)/(1 + exp(s)) - t", "exp(s)/(1 + exp(s))^2")),
    (check.ce_binary, (_dl_ds_central, _d2l_ds2_second_difference)),
    (check.ce_binary, (_dl_ds_central, _d2l_ds2_central)),
    (check.ce_binary, (lambda s, t: 1 / (1 + np.exp(-s)) - t, lambda s, t: 1 / (2 + 2 * np.cosh(s)))),
    (check.ce_unnormalised, (_gradient_central, INFIMUM)),
    (check.ce_unnormalised, (lambda z: (2 * smoothmax.softmax(z) - Y_MULTI).tolist(), "2*log(2)")),
    (check.ce_unnormalised, (lambda z: 2 * smoothmax.softmax(z) - Y_MULTI, "2 log 2")),
    (check.ce_unnormalised, (lambda z: 2 * smoothmax.softmax(z) - Y_MULTI, "ln(4)")),
    (check.ce_unnormalised, (lambda z: 2 * smoothmax.softmax(z) - Y_MULTI, -2 * sp.log(sp.Rational(1, 2)))),
    (check.ce_unnormalised, (lambda z: 2 * smoothmax.softmax(z) - Y_MULTI, rounded(INFIMUM, 4))),
    (check.ce_unnormalised, (lambda z: 2 * smoothmax.softmax(z) - Y_MULTI, truncated(INFIMUM, 4))),
    (check.ce_unnormalised, (lambda z: 2 * smoothmax.softmax(z) - Y_MULTI,
                             _multi_hot_loss(np.array([0.0, 0.0, -30.0, -30.0])))),   # the limit
    (check.ce_batch, (_ce_grad_mean_central,)),
    (check.ce_batch, (lambda Z, labels: _ce_grad_mean(Z, labels).tolist(),)),
    (check.ce_slider, (rounded(LOSS_C1, 4), rounded(LOSS_C3, 4))),
    (check.ce_slider, (truncated(LOSS_C1, 4), truncated(LOSS_C3, 4))),
    (check.ce_slider, (LOSS_C1_EXPR, LOSS_C3_EXPR)),
    (check.ce_slider, ("log(1 + exp(-2) + exp(-3) + exp(-4))", str(LOSS_C3_EXPR))),
    (check.ce_slider, (str(rounded(LOSS_C1, 4)), f"{LOSS_C3:.4e}")),
]


# (check, wrong answer, a fragment of the expected hint)
WRONG = [
    # ex-ce-binary
    (check.ce_binary, (t - sigma, None), "sign is flipped"),
    (check.ce_binary, (-t / sigma + (1 - t) / (1 - sigma), None), "dℓ/dσ"),
    (check.ce_binary, (sigma, None), "target t is missing"),
    (check.ce_binary, (sigma - t + s, None), "off at s ="),
    (check.ce_binary, (sigma - t, None), "now pass d²ℓ/ds²"),
    (check.ce_binary, (sigma - t, -sigma * (1 - sigma)), "convex"),
    (check.ce_binary, (sigma - t, 2 * sigma * (1 - sigma)), "constant factor"),
    (check.ce_binary, (sigma - t, sigma * (1 - sigma) + t), "should not depend on t"),
    (check.ce_binary, (sigma - t, sigma), "does not match"),
    # ex-ce-unnormalised
    (check.ce_unnormalised, (lambda z: smoothmax.softmax(z) - Y_MULTI, INFIMUM),
     "assumes the target sums to 1"),
    (check.ce_unnormalised, (lambda z: smoothmax.softmax(z) - Y_MULTI / 2, INFIMUM),
     "normalised target"),
    (check.ce_unnormalised, (lambda z: Y_MULTI - 2 * smoothmax.softmax(z), INFIMUM), "sign is flipped"),
    (check.ce_unnormalised, (lambda z: 2 * np.exp(z) / np.exp(z).sum() - Y_MULTI, INFIMUM),
     "subtract the maximum"),
    (check.ce_unnormalised, (lambda z: 3 * smoothmax.softmax(z) - Y_MULTI, INFIMUM),
     "does not sum to zero"),
    (check.ce_unnormalised, (lambda z: Y_MULTI[:3], INFIMUM), "shape"),
    (check.ce_unnormalised, (lambda z: 2 * smoothmax.softmax(z) - Y_MULTI,), "now pass the infimum"),
    (check.ce_unnormalised, (lambda z: 2 * smoothmax.softmax(z) - Y_MULTI, math.log(2)),
     "twice the normalised"),
    (check.ce_unnormalised, (lambda z: 2 * smoothmax.softmax(z) - Y_MULTI, 2.0), "natural logarithm"),
    (check.ce_unnormalised, (lambda z: 2 * smoothmax.softmax(z) - Y_MULTI, 0), "positive"),
    (check.ce_unnormalised, (lambda z: 2 * smoothmax.softmax(z) - Y_MULTI, 3.0), "gets below that"),
    (check.ce_unnormalised, (lambda z: 2 * smoothmax.softmax(z) - Y_MULTI, 1.0), "never gets that low"),
    # ex-ce-batch
    (check.ce_batch, (lambda Z, labels: smoothmax.cross_entropy_grad(Z, labels, reduction="sum"),), "*sum*"),
    (check.ce_batch, (lambda Z, labels: -_ce_grad_mean(Z, labels),), "sign is flipped"),
    (check.ce_batch, (lambda Z, labels: _ce_grad_mean(Z, labels) * len(Z) / Z.shape[1],),
     "number of classes"),
    (check.ce_batch, (lambda Z, labels: _ce_grad_mean(Z, labels) / Z.shape[1],), "N·K"),
    (check.ce_batch, (lambda Z, labels: smoothmax.softmax(Z) / len(Z),), "one-hot part is missing"),
    (check.ce_batch, (_ce_grad_mean_columns,), "its own label"),
    (check.ce_batch, (lambda Z, labels: (smoothmax.softmax(Z, axis=0)
                                         - np.eye(Z.shape[1])[labels]) / len(Z),),
     "axis=-1"),
    (check.ce_batch, (_ce_grad_mean_naive,), "subtract the maximum"),
    (check.ce_batch, (lambda Z, labels: _ce_grad_mean(Z, labels)[:, :-1],), "shape"),
    (check.ce_batch, (lambda Z, labels: _ce_grad_mean(Z, labels) + 0.01,), "differs from the reference"),
    (check.ce_batch, (lambda Z, labels: smoothmax.softmax(Z) - np.eye(len(Z))[labels],),
     "K = Z.shape[1]"),
    # ex-ce-slider
    (check.ce_slider, (float(smoothmax.cross_entropy(_logits(2), 1)), LOSS_C3), "target is class 1"),
    (check.ce_slider, (LOSS_C1 / math.log(10), LOSS_C3), "natural logarithm"),
    (check.ce_slider, (LOSS_C3, LOSS_C1), "swapped"),
    (check.ce_slider, (-1.0, LOSS_C3), "positive"),
    (check.ce_slider, (0.5, LOSS_C3), "does not match"),
    (check.ce_slider, (LOSS_C1,), "now pass the loss at κ = 3"),
    (check.ce_slider, (LOSS_C1, 3 * LOSS_C3), "divide"),
    (check.ce_slider, (LOSS_C1, LOSS_C1), "multiplies the logits"),
    (check.ce_slider, (LOSS_C1, float(smoothmax.cross_entropy(_logits(2, 3.0), 2)) / 3),
     "target is class 1"),
    (check.ce_slider, (LOSS_C1, 0.01), "scale the logits"),
]

# the expected numbers and formulas that no wrong answer may reveal
SECRET_NUMBERS = [INFIMUM, LOSS_C1, LOSS_C3]
SECRET_TEXT = ["2 log 2", "2log2", "2*log(2)", "log(4)", "2a − y", "2a - y", "2*a - y",
               "σ(s) − t", "σ(s)(1 − σ(s))", "np.arange(N), labels]"]


GOOD_GRAD = lambda z: 2 * smoothmax.softmax(z) - Y_MULTI  # noqa: E731

# (check, malformed answer, a fragment of the expected message)
MALFORMED = [
    (check.ce_binary, (None,), "no answer yet"),
    (check.ce_binary, ("1/(1 + exp(-s)", None), "could not read"),
    (check.ce_binary, ("sigma(s) - t", None), "does not know"),
    (check.ce_binary, ("x + s", None), "may use only s, t"),
    (check.ce_binary, (boom, None), "raised RuntimeError: boom"),
    (check.ce_binary, (lambda s, t: math.nan, None), "NaN"),
    (check.ce_binary, (lambda s, t: None, None), "forget to `return`"),
    (check.ce_binary, (sigma - t, "x**"), "could not read"),
    (check.ce_binary, (sigma - t, lambda s: s), "raised TypeError"),
    (check.ce_binary, ([sigma - t, sigma], None), "should be a SymPy expression"),
    (check.ce_unnormalised, (None, None), "no answer yet"),
    (check.ce_unnormalised, (np.zeros(4), INFIMUM), "pass gradient itself"),
    (check.ce_unnormalised, (boom, INFIMUM), "raised RuntimeError: boom"),
    (check.ce_unnormalised, (lambda z: None, INFIMUM), "forget to `return`"),
    (check.ce_unnormalised, (lambda z: "grad", INFIMUM), "array of numbers"),
    (check.ce_unnormalised, (lambda z: np.full(4, np.nan), INFIMUM), "NaN"),
    (check.ce_unnormalised, (lambda z: np.zeros((4, 4)), INFIMUM), "shape"),
    (check.ce_unnormalised, (GOOD_GRAD, "2 log"), "could not read"),
    (check.ce_unnormalised, (GOOD_GRAD, "2*log(x)"), "symbol(s) x"),
    (check.ce_unnormalised, (GOOD_GRAD, "entropy(y)"), "does not know"),
    (check.ce_unnormalised, (GOOD_GRAD, math.nan), "NaN"),
    (check.ce_unnormalised, (GOOD_GRAD, math.inf), "infinite"),
    (check.ce_unnormalised, (GOOD_GRAD, sp.Symbol("x")), "symbol(s) x"),
    (check.ce_unnormalised, (GOOD_GRAD, [1.0, 2.0]), "single number"),
    (check.ce_batch, (None,), "no answer yet"),
    (check.ce_batch, (boom,), "raised RuntimeError: boom"),
    (check.ce_batch, (lambda Z: Z,), "raised TypeError"),
    (check.ce_batch, (lambda Z, labels: None,), "forget to `return`"),
    (check.ce_batch, (lambda Z, labels: np.full_like(Z, np.nan),), "NaN"),
    (check.ce_batch, (lambda Z, labels: _ce_grad_mean(Z, labels).T,), "shape"),
    (check.ce_batch, ("ce_grad_mean",), "pass ce_grad_mean itself"),
    (check.ce_slider, (None, None), "no answer yet"),
    (check.ce_slider, ("1 +", None), "could not read"),
    (check.ce_slider, ("loss", None), "symbol(s) loss"),
    (check.ce_slider, (b"0.185", None), "not a string"),
    (check.ce_slider, (np.array([LOSS_C1, LOSS_C3]), None), "single number"),
    (check.ce_slider, (LOSS_C1, math.nan), "NaN"),
    (check.ce_slider, (LOSS_C1, True), "boolean"),
    (check.ce_slider, (lambda m, c: 1.0, None), "should be a number"),
    (check.ce_slider, (sp.Function("loss")(1), None), "does not know"),
    (check.ce_unnormalised, (GOOD_GRAD, sp.Function("f")(sp.Symbol("x"))), "does not know"),
]

harness = CheckHarness(unpack=True, texts=SECRET_TEXT, numbers=SECRET_NUMBERS)
test_right_answers_pass = harness.right(RIGHT)
test_wrong_answers_get_their_hint = harness.wrong(WRONG)
test_malformed_answers_get_a_clear_message = harness.malformed(MALFORMED)
test_each_check_states_its_tolerance = harness.tolerances(
    [check.ce_binary, check.ce_unnormalised, check.ce_batch, check.ce_slider])


def test_issue_12_ce_unnormalised_accepts_the_string_2_log_2_and_a_gradient_off_by_2e_10():
    """Issue #12, item 10: "2*log(2)" and a finite-difference gradient (off by ~2e-10) pass."""
    off = lambda z: GOOD_GRAD(z) + 2e-10 * np.array([1.0, -1.0, 1.0, -1.0])   # noqa: E731
    for infimum in ["2*log(2)", "2 log 2", "log(4)", sp.sympify("2*log(2)")]:
        feedback = check.ce_unnormalised(off, infimum)
        assert feedback.correct, (infimum, feedback)
    z = np.array([0.5, -1.0, 2.0, 0.0])
    error = np.abs(_gradient_central(z) - GOOD_GRAD(z)).max()
    assert 1e-12 < error < 1e-8                    # a real finite-difference error ...
    assert check.ce_unnormalised(_gradient_central, "2*log(2)").correct   # ... that passes


def test_numbers_are_checked_to_four_significant_digits():
    for digits, accepted in [(4, True), (5, True), (3, False)]:
        answer = (GOOD_GRAD, rounded(INFIMUM, digits))
        assert check.ce_unnormalised(*answer).correct == accepted, digits
        answer = (rounded(LOSS_C1, digits), rounded(LOSS_C3, digits))
        assert check.ce_slider(*answer).correct == accepted, digits


def test_the_checks_do_not_modify_or_keep_the_students_arrays():
    seen = []

    def grad_mean(Z, labels):
        seen.append((Z, labels))
        out = _ce_grad_mean(Z, labels)
        Z[...] = np.nan                     # vandalise the input: the check must not care
        return out

    assert check.ce_batch(grad_mean)
    assert len(seen) == 4

    def sum_gradient_vandal(Z, labels):       # wrong (the sum), and it vandalises its input
        out = smoothmax.cross_entropy_grad(Z, labels, reduction="sum")
        Z[...] = np.nan
        return out

    # the hint is computed from the check's own logits, which the student cannot touch
    feedback = check.ce_batch(sum_gradient_vandal)
    assert not feedback.correct and "*sum*" in feedback.message, feedback


def test_the_reference_values_come_from_the_library():
    from smoothmax.check.ch02_cross_entropy import _unnormalised_infimum, _binary_reference
    assert math.isclose(_unnormalised_infimum(), INFIMUM, rel_tol=1e-15)
    for s_, t_ in [(-2.0, 0.3), (1.5, 1.0)]:
        p = 1 / (1 + math.exp(-s_))
        first, second = _binary_reference(s_, t_)
        assert math.isclose(first, p - t_, rel_tol=1e-12, abs_tol=1e-15)
        assert math.isclose(second, p * (1 - p), rel_tol=1e-12)
