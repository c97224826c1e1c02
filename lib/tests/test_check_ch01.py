"""Feedback of the chapter 1 exercise checks: right answers pass, typical wrong
answers get their hint, and no message gives the answer away."""

from decimal import Decimal
from fractions import Fraction

import numpy as np
import sympy as sp

from _checks import CheckHarness, rounded, truncated
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


def _fd_jacobian(z1, z2, h=1e-6):
    """The softmax Jacobian for K = 2 by central differences."""
    z = np.array([z1, z2], dtype=float)
    J = np.empty((2, 2))
    for j in range(2):
        e = np.zeros(2)
        e[j] = h
        J[:, j] = (smoothmax.softmax(z + e) - smoothmax.softmax(z - e)) / (2 * h)
    return J


def _jvp_central(z, v, h=1e-6):
    """J v as the derivative of softmax along v, by central differences."""
    return (smoothmax.softmax(z + h * v) - smoothmax.softmax(z - h * v)) / (2 * h)


def _grid_peak(temperatures):
    lam = [_lambda_max(t) for t in temperatures]
    return float(temperatures[int(np.argmax(lam))])


GRID_005 = _grid_peak(np.arange(0.05, 5.0, 0.05))          # 0.6
SOLUTION_GRID = _grid_peak(np.logspace(-1.5, 2, 300))       # the solution's grid
z1p, z2p = sp.symbols("z1 z2", positive=True)

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
    # more correct forms
    (check.softmax_two_classes, [0.0, 2 * sigma * (1 - sigma)]),
    (check.softmax_two_classes, ("0", "2*exp(z1)*exp(z2)/(exp(z1) + exp(z2))^2")),
    (check.softmax_two_classes, (sp.Integer(0), 2 * sp.exp(z1p - z2p) / (1 + sp.exp(z1p - z2p)) ** 2)),
    (check.softmax_two_classes, np.array([0, 2 * sigma * (1 - sigma)], dtype=object)),
    (check.softmax_two_classes, (lambda z1, z2: 0.0,
                                 lambda z1, z2: 2 / (np.exp((z1 - z2) / 2) + np.exp((z2 - z1) / 2)) ** 2)),
    (check.softmax_two_classes, (lambda z1, z2: np.linalg.eigvalsh(_fd_jacobian(z1, z2))[0],
                                 lambda z1, z2: np.linalg.eigvalsh(_fd_jacobian(z1, z2))[1])),
    (check.softmax_jvp, _jvp_central),
    (check.softmax_jvp, lambda z, v: _jvp_right(z, v).tolist()),
    (check.softmax_jvp, lambda z, v: (smoothmax.softmax_jacobian(z) @ v[..., None])[..., 0]),
    (check.softmax_eigen_bound, "1/2/T"),
    (check.softmax_eigen_bound, "T^(-1)/2"),
    (check.softmax_eigen_bound, sp.Rational(1, 2) / sp.Symbol("T", positive=True)),
    (check.softmax_eigen_bound, lambda T: np.float64(0.5) / T),
    (check.softmax_eigen_temperature, GRID_005),
    (check.softmax_eigen_temperature, SOLUTION_GRID),
    (check.softmax_eigen_temperature, _grid_peak(np.logspace(-2, 2, 50))),
    (check.softmax_eigen_temperature, rounded(_peak_temperature(), 2)),
    (check.softmax_eigen_temperature, truncated(_peak_temperature(), 2)),
    (check.softmax_eigen_temperature, 0.66),
    (check.softmax_eigen_temperature, "0.617"),
    (check.softmax_eigen_temperature, sp.Float("0.62")),
    (check.softmax_eigen_temperature, np.array([0.6])),
    (check.softmax_eigen_temperature, Fraction(31, 50)),
    (check.softmax_eigen_temperature, Decimal("0.62")),
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
test_each_check_states_its_tolerance = harness.tolerances(
    [check.softmax_two_classes, check.softmax_jvp, check.softmax_eigen_bound,
     check.softmax_eigen_temperature])


def test_issue_12_softmax_eigen_temperature_accepts_the_peak_of_a_0_05_grid():
    """Issue #12, item 10: a grid with steps of 0.05 finds 0.6 (the peak is 0.617, and flat)."""
    assert abs(GRID_005 - 0.6) < 1e-9
    assert abs(_peak_temperature() - 0.617) < 5e-4
    feedback = check.softmax_eigen_temperature(GRID_005)
    assert feedback.correct, feedback
    assert check.softmax_eigen_temperature(0.6).correct


def test_the_tolerance_of_the_peak_is_one_percent_of_the_eigenvalue():
    top = _lambda_max(_peak_temperature())
    for T in np.geomspace(0.2, 2.0, 41):
        assert check.softmax_eigen_temperature(T).correct == (_lambda_max(T) >= 0.99 * top), T


def test_the_peak_temperature_is_where_the_eigenvalue_peaks():
    t = _peak_temperature()
    assert _lambda_max(t) > max(_lambda_max(t * 1.001), _lambda_max(t / 1.001))
