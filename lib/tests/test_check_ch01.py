"""Feedback of the chapter 1 exercise checks: right answers pass, typical wrong
answers get their hint, and no message gives the answer away."""

import numpy as np
import sympy as sp

from _checks import CheckHarness
import smoothmax
from smoothmax import check
from smoothmax.check.ch01_softmax import _lambda_max, _peak_temperature

z1, z2, T = sp.symbols("z1 z2 T", real=True)
sigma = 1 / (1 + sp.exp(-(z1 - z2)))


def _jvp_right(z, v):
    a = smoothmax.softmax(z)
    return a * (v - np.sum(a * v, axis=-1, keepdims=True))


def _jvp_naive(z, v):  # overflows for large scores
    e = np.exp(z)
    a = e / e.sum(axis=-1, keepdims=True)
    return a * (v - np.sum(a * v, axis=-1, keepdims=True))


RIGHT = [
    (check.softmax_two_classes, (0, 2 * sigma * (1 - sigma))),
    (check.softmax_two_classes, ["2*exp(z1 - z2)/(1 + exp(z1 - z2))**2", "0"]),
    (check.softmax_two_classes, sp.Matrix([[1, -1], [-1, 1]]).multiply_elementwise(
        sp.ones(2, 2) * sigma * (1 - sigma)).eigenvals()),
    (check.softmax_jvp, _jvp_right),
    (check.softmax_jvp, smoothmax.softmax_jvp),
    (check.softmax_eigen_bound, 1 / (2 * T)),
    (check.softmax_eigen_bound, "0.5/T"),
    (check.softmax_eigen_bound, lambda T: 1 / (2 * T)),
    (check.softmax_eigen_temperature, 0.617),
    (check.softmax_eigen_temperature, np.float64(0.613)),
]


# (check, wrong answer, a fragment of the expected hint)
WRONG = [
    (check.softmax_two_classes, (0, sigma * (1 - sigma)), "constant factor"),
    (check.softmax_two_classes, (sigma, 1 - sigma), "one eigenvalue must be 0"),
    (check.softmax_two_classes, (0, 2 * sigma), "do not match"),
    (check.softmax_two_classes, (0,), "two eigenvalues"),
    (check.softmax_two_classes, "0, 2", "give both eigenvalues"),
    (check.softmax_two_classes, (0, "2*x"), "contains x"),
    (check.softmax_jvp, lambda z, v: (lambda a: a * (1 - a) * v)(smoothmax.softmax(z)), "only the diagonal"),
    (check.softmax_jvp, lambda z, v: (lambda a: a * (v - np.sum(a * v)))(smoothmax.softmax(z)), "each row"),
    (check.softmax_jvp, lambda z, v: smoothmax.softmax(z) * v, "second term"),
    (check.softmax_jvp, _jvp_naive, "subtract the maximum"),
    (check.softmax_jvp, lambda z, v: v[..., :1], "shape"),
    (check.softmax_eigen_bound, 0.5, "depend on T"),
    (check.softmax_eigen_bound, 1 / (2 * T**2), "not two"),
    (check.softmax_eigen_bound, T / 2, "grows with T"),
    (check.softmax_eigen_bound, sp.log(T), "start from"),
    (check.softmax_eigen_temperature, 0.3, "higher temperatures"),
    (check.softmax_eigen_temperature, 3.0, "lower temperatures"),
    (check.softmax_eigen_temperature, 0.75, "within 1 %"),
    (check.softmax_eigen_temperature, "0.5", "within 1 %"),
    (check.softmax_eigen_temperature, -1.0, "positive"),
]

# the expected numbers and formulas that no wrong answer may reveal
SECRET_NUMBERS = [_peak_temperature()]
SECRET_TEXT = ["0.617", "0.61", "1/(2T)", "1/(2*T)", "2σ(1 − σ)", "2*sigma"]

harness = CheckHarness(texts=SECRET_TEXT, numbers=SECRET_NUMBERS)
test_right_answers_pass = harness.right(RIGHT)
test_wrong_answers_get_their_hint = harness.wrong(WRONG)


def test_the_peak_temperature_is_where_the_eigenvalue_peaks():
    t = _peak_temperature()
    assert _lambda_max(t) > max(_lambda_max(t * 1.001), _lambda_max(t / 1.001))
