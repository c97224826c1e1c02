"""Checks for the exercises of chapter 1, softmax and its Jacobian."""

from __future__ import annotations

import math

import numpy as np

from .. import core
from ._core import (VALUE_ATOL, VALUE_RTOL, VALUES_TOLERANCE, Malformed, as_formula, as_number,
                    call, close, compare_arrays, exercise, values_close)

__all__ = ["softmax_two_classes", "softmax_jvp", "softmax_eigen_bound", "softmax_eigen_temperature"]

_Z_EXAMPLE = np.array([1.0, 2.0, 3.0, 4.0])


def _sigmoid(t):
    return 1.0 / (1.0 + math.exp(-t))


@exercise("ex-softmax-two-classes",
          tolerance=f"both eigenvalues {VALUES_TOLERANCE} at each of several points (z1, z2); "
                    "any exact formula passes, and so does an eigenvalue of a central-difference "
                    "Jacobian (h ≈ 1e-6)")
def softmax_two_classes(eigenvalues):
    """Check the two eigenvalues of the softmax Jacobian for K = 2.

    Parameters
    ----------
    eigenvalues : pair of formulas in ``z1``, ``z2``
        SymPy expressions, strings or functions ``f(z1, z2)``, in any order;
        a dict from SymPy's ``Matrix.eigenvals()`` is accepted as well.
    """
    if isinstance(eigenvalues, dict):
        eigenvalues = [k for k, mult in eigenvalues.items() for _ in range(int(mult))]
    if isinstance(eigenvalues, (str, bytes)) or not hasattr(eigenvalues, "__len__"):
        raise Malformed("give both eigenvalues, e.g. as a tuple (lambda_1, lambda_2)")
    if len(eigenvalues) != 2:
        raise Malformed(f"a 2 x 2 matrix has two eigenvalues (counted with multiplicity); got {len(eigenvalues)}")
    fs = [as_formula(e, ("z1", "z2"), what="an eigenvalue") for e in eigenvalues]
    points = [(0.3, -0.2), (2.0, 1.0), (-1.0, 1.5), (0.0, 0.0), (4.0, -3.0)]
    for z1, z2 in points:
        s = _sigmoid(z1 - z2)
        got = sorted(f(z1, z2) for f in fs)
        want = [0.0, 2 * s * (1 - s)]
        if all(values_close(g, w) for g, w in zip(got, want)):
            continue
        if values_close(got[0], 0.0) and values_close(got[1], s * (1 - s)):
            return False, ("the zero eigenvalue is right; the other one is off by a constant factor: "
                           "σ(1 − σ) multiplies a matrix whose own eigenvalues are not 0 and 1")
        if not any(values_close(g, 0.0) for g in got):
            return False, "J has rows summing to zero, so J·(1, 1) = 0: one eigenvalue must be 0"
        return False, (f"at z = ({z1:g}, {z2:g}) the eigenvalues do not match; write J as a scalar times "
                       "a constant matrix and find that matrix's eigenvalues")
    return True, "0 (eigenvector (1, 1), the shift direction) and 2σ(1 − σ) (eigenvector (1, −1))."


@exercise("ex-softmax-jvp",
          tolerance=f"each entry of J v {VALUES_TOLERANCE}, on every test batch; a central "
                    "difference of softmax along v (h ≈ 1e-6) passes")
def softmax_jvp(jvp):
    """Check a function ``jvp(z, v)`` returning the product J v, row by row."""
    rng = np.random.default_rng(2024)
    cases = [
        ("one vector of 5 scores", rng.normal(size=5), rng.normal(size=5)),
        ("a batch of shape (4, 6)", rng.normal(scale=3.0, size=(4, 6)), rng.normal(size=(4, 6))),
        ("a batch of shape (2, 3, 5)", rng.normal(scale=2.0, size=(2, 3, 5)), rng.normal(size=(2, 3, 5))),
        ("large scores (around 800)", 800.0 + rng.normal(size=(3, 4)), rng.normal(size=(3, 4))),
    ]
    for name, z, v in cases:
        got = call(jvp, z.copy(), v.copy(), what="jvp")
        a = core.softmax(z)
        hints = {
            "you kept only the diagonal a(1 − a) of J; the off-diagonal entries −a_i a_j matter":
                a * (1 - a) * v,
            "the dot product aᵀv must be taken separately for each row (axis=-1, keepdims=True)":
                a * (v - np.sum(a * v)),
            "that is a ⊙ v; the second term, −a (aᵀv), is missing": a * v,
        }
        ok, message = compare_arrays(got, core.softmax_jvp(z, v), what=f"jvp on {name}",
                                     rtol=VALUE_RTOL, atol=VALUE_ATOL, hints=hints)
        if not ok:
            if name.startswith("large") and not np.all(np.isfinite(np.asarray(got, dtype=float))):
                message += " (does your softmax subtract the maximum?)"
            return False, message
    return True, "agrees with smoothmax.softmax_jvp on vectors, batches and large scores."


@exercise("ex-softmax-eigen-bound",
          tolerance=f"the bound {VALUES_TOLERANCE} at several temperatures T; any exact formula passes")
def softmax_eigen_bound(bound):
    """Check the bound on the largest eigenvalue of the Jacobian at temperature ``T``.

    Parameters
    ----------
    bound : formula in ``T``
        A SymPy expression, a string such as ``"T**2"`` or a function ``f(T)``.
    """
    f = as_formula(bound, ("T",), what="the bound, a formula in T")
    temps = [0.1, 0.5, 1.0, 2.0, 7.0]
    got = [f(t) for t in temps]
    if all(values_close(g, 0.5 / t) for g, t in zip(got, temps)):
        return True, "λ_max(J_T) ≤ 1/(2T): the Jacobian at temperature T is J(z/T)/T."
    if all(close(g, got[0], rtol=1e-6) for g in got):
        return False, "the bound should depend on T: how does J_T relate to the Jacobian at z/T?"
    if all(close(g * t * t, got[0] * temps[0] ** 2, rtol=1e-6) for g, t in zip(got, temps)):
        return False, "the chain rule through z/T brings one factor 1/T, not two"
    if all(close(g / t, got[0] / temps[0], rtol=1e-6) for g, t in zip(got, temps)):
        return False, "the bound grows with T, but a high temperature makes the Jacobian smaller"
    return False, "start from the T = 1 bound and the relation between J_T and J at z/T"


def _lambda_max(temperature: float) -> float:
    J = core.softmax_jacobian(_Z_EXAMPLE, temperature=temperature)
    return float(np.linalg.eigvalsh(J)[-1])


def _peak_temperature() -> float:
    """Golden-section search for the maximiser of λ_max(J_T) over log T."""
    lo, hi = math.log(0.05), math.log(50.0)
    g = (math.sqrt(5) - 1) / 2
    for _ in range(80):
        a, b = hi - g * (hi - lo), lo + g * (hi - lo)
        if _lambda_max(math.exp(a)) < _lambda_max(math.exp(b)):
            lo = a
        else:
            hi = b
    return math.exp((lo + hi) / 2)


# The peak is flat: any T where lambda_max is within 1 % of its top value is
# the peak to the accuracy of a grid search (steps of 0.05 in T, or 5 % in log T).
_PEAK_SHARE = 0.99
_CLOSE_SHARE = 0.9


@exercise("ex-softmax-eigen-temperature",
          tolerance="any temperature at which λ_max(J_T) is within 1 % of its largest value, which "
                    "is what a grid search with steps of 0.05 in T (or 5 % in log T) finds: the "
                    "peak is flat")
def softmax_eigen_temperature(T_peak):
    """Check the temperature at which λ_max(J_T) peaks for z = (1, 2, 3, 4).

    Parameters
    ----------
    T_peak : number
        The temperature (a number, a SymPy number or a string such as ``"0.6"``).
    """
    value = as_number(T_peak, "the temperature of the peak", strings=True)
    if value <= 0:
        return False, "a temperature is positive"
    peak = _peak_temperature()
    share = _lambda_max(value) / _lambda_max(peak)
    if share >= _PEAK_SHARE:
        return True, (f"λ_max(J_T) peaks at T ≈ {peak:.3f}, with the value {_lambda_max(peak):.3f}; "
                      f"at your T it is within {1 - share:.1%} of that.")
    if share >= _CLOSE_SHARE:
        return False, (f"close, but λ_max there is {1 - share:.1%} below its largest value, not "
                       "within 1 %: refine your temperature grid near the peak")
    direction = "higher" if value < peak else "lower"
    return False, (f"λ_max(J_T) is still {'rising' if direction == 'higher' else 'falling'} at "
                   f"T = {value:.3g}: look at {direction} temperatures")
