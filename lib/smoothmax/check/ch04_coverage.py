"""Checks for the exercises of chapter 4, coverage and the pointer-generator."""

from __future__ import annotations

import numbers

import numpy as np

from ..coverage import coverage as _coverage, coverage_loss_grad as _coverage_loss_grad
from ..core import softmax
from ._core import (VALUE_ATOL, VALUE_RTOL, VALUES_TOLERANCE, Malformed, as_formula, call,
                    compare_arrays, exercise, is_sympy_object, values_close)

__all__ = ["cov_tv", "cov_grad_loop"]

# Points (x, y) at which a formula for min(x, y) is evaluated: both orders,
# a tie, zero and negative numbers.
_XY_POINTS = [(0.3, 0.7), (0.7, 0.3), (-1.2, 0.4), (2.5, -0.5), (2.0, 2.0), (0.0, 5.0), (-3.0, -1.0)]


def _forbidden_functions(answer):
    """Names of the case-splitting functions (Min, Max, ...) in a SymPy/str answer."""
    if isinstance(answer, str):
        import sympy
        try:
            answer = sympy.sympify(answer, locals={"x": sympy.Symbol("x"), "y": sympy.Symbol("y")})
        except Exception:
            return []          # as_formula reports the unreadable string
    if not is_sympy_object(answer):
        return []
    import sympy
    banned = (sympy.Min, sympy.Max, sympy.Piecewise, sympy.Heaviside)
    return sorted({type(node).__name__ for node in sympy.preorder_traversal(answer)
                   if isinstance(node, banned)})


@exercise("ex-cov-tv",
          tolerance=f"the formula {VALUES_TOLERANCE} at several points (x, y) of both orders, "
                    "a tie and negative numbers; any exact formula without Min, Max or a case "
                    "split passes")
def cov_tv(min_formula):
    """Check the key step of the total-variation identity: min(x, y) without a minimum.

    Parameters
    ----------
    min_formula : formula in ``x`` and ``y``
        An expression equal to ``min(x, y)`` for all real ``x``, ``y`` that
        uses no Min, Max or case split (``Abs`` is allowed): a SymPy
        expression, a string SymPy can read, or a function ``f(x, y)``.
    """
    banned = _forbidden_functions(min_formula)
    if banned:
        return False, (f"write min(x, y) without {', '.join(banned)} or another case split; "
                       "sums, products and Abs are allowed")
    f = as_formula(min_formula, ("x", "y"), what="min(x, y) as a formula in x and y")
    got = [f(x, y) for x, y in _XY_POINTS]
    lo = [min(x, y) for x, y in _XY_POINTS]
    hi = [max(x, y) for x, y in _XY_POINTS]
    if all(values_close(g, m) for g, m in zip(got, lo)):
        return True, ("min(x, y) = (x + y − |x − y|)/2; summed over i with Σ a_i = Σ c_i = 1 it gives "
                      "1 − ½ Σ |a_i − c_i|, one minus the total variation distance.")
    if all(values_close(g, m) for g, m in zip(got, hi)):
        return False, "that formula gives the larger of the two numbers, max(x, y), not the smaller"
    if all(values_close(g, 2 * m) for g, m in zip(got, lo)):
        return False, "that is twice the minimum: try x = y, where min(x, y) = x"
    agree = [values_close(g, m) for g, m in zip(got, lo)]
    below = [x <= y for x, y in _XY_POINTS]
    if all(a for a, b in zip(agree, below) if b) and not all(agree):
        return False, "right when x ≤ y, wrong when x > y: the formula must be symmetric in x and y"
    if all(a for a, b in zip(agree, below) if not b) and not all(agree):
        return False, "right when x ≥ y, wrong when x < y: the formula must be symmetric in x and y"
    (x, y), g = next(((p, g) for p, g, a in zip(_XY_POINTS, got, agree) if not a))
    return False, (f"at x = {x:g}, y = {y:g} your formula gives {g:.4g}, not the smaller of the two; "
                   "look for an expression that works in both cases x ≤ y and x > y")


# ------------------------------------------------------------- subgradient
def _exclusive(a, axis):
    c = np.cumsum(a, axis=axis)
    return c - a


def _later(d, axis=0):
    """Entry (t, i): the sum of d over the entries after t along `axis`."""
    flipped = np.flip(d, axis=axis)
    return np.flip(_exclusive(flipped, axis), axis=axis)


def _attention_cases():
    """Seeded attention matrices (steps, positions) away from the kinks a = c."""
    rng = np.random.default_rng(404)
    cases = []
    for name, shape, scale in [("a 5 × 6 attention matrix", (5, 6), 2.0),
                               ("a 7 × 4 matrix of sharp attention", (7, 4), 5.0),
                               ("a 3 × 9 matrix of flat attention", (3, 9), 0.5),
                               ("a single decoder step (1 × 5)", (1, 5), 2.0)]:
        while True:
            A = softmax(rng.normal(scale=scale, size=shape))
            C = _coverage(A)
            if A.shape[0] == 1 or np.abs(A - C)[1:].min() > 1e-3:
                break
        cases.append((name, A))
    return cases


def _typical_mistakes(A):
    """(hint, the subgradient that a typical mistake gives on A), in order."""
    C = _coverage(A)
    direct = (A < C).astype(float)
    via = (C < A).astype(float)
    C_incl = np.cumsum(A, axis=0)
    C_pos = _exclusive(A, axis=1)
    inclusive = "the coverage includes the current step: c^t sums the rows before t only (c^0 = 0)"
    axis = ("coverage and the indirect term run over the decoder steps (axis 0 of A, the earlier "
            "and later rows); you summed over the source positions")
    return [
        (inclusive, (A < C_incl).astype(float) + _later((C_incl < A).astype(float))),
        (inclusive, (A <= C_incl).astype(float) + _later((C_incl <= A).astype(float))),
        ("that is only the direct term [a_i^t < c_i^t]: row t also enters every later coverage "
         "vector c^{t'}, t' > t", direct),
        ("the indirect term sums over the later steps t' > t only, not t' = t", direct + _later(via) + via),
        ("the indicators are reversed: min(a, c) moves with a where a is the smaller one",
         via + _later(direct)),
        ("the sign is flipped: this is the gradient of minus the loss", -(direct + _later(via))),
        (axis, (A < C_pos).astype(float) + _later((C_pos < A).astype(float), axis=1)),
        (axis, direct + _later(via, axis=1)),
        (axis, direct + np.sum(_later(via), axis=1, keepdims=True) * np.ones_like(A)),
        (axis, direct + np.sum(via, axis=1, keepdims=True) * np.ones_like(A)),
    ]


@exercise("ex-cov-grad-loop",
          tolerance=f"each entry of the gradient {VALUES_TOLERANCE} on every test matrix "
                    "(integers, booleans summed, lists and arrays all pass; so does a "
                    "central-difference gradient with h ≈ 1e-6, as the test matrices have no "
                    "ties a = c)")
def cov_grad_loop(grad):
    """Check a function ``grad(A)`` for the gradient of the total coverage loss.

    Parameters
    ----------
    grad : function
        Takes attention ``A`` of shape ``(steps, source_len)`` (one
        distribution per row) and returns an array of the same shape, the
        subgradient of :math:`\\sum_t \\sum_i \\min(a_i^t, c_i^t)` with
        respect to ``A``, where :math:`c^t` is the sum of the rows before
        ``t``.  It is compared with ``smoothmax.coverage_loss_grad`` on
        seeded matrices with no ties :math:`a_i^t = c_i^t`.
    """
    if grad is None or grad is Ellipsis:
        raise Malformed("no answer yet: define a function grad(A) and pass it in")
    if isinstance(grad, numbers.Number) or isinstance(grad, (np.ndarray, list, tuple)):
        raise Malformed("pass the function itself, e.g. check.cov_grad_loop(coverage_grad_loops), "
                        "not its result")
    for name, A in _attention_cases():
        got = call(grad, A.copy(), what="your function")
        if got is None:
            raise Malformed("your function returned None: did it forget to `return`?")
        try:
            arr = np.asarray(got, dtype=float)
        except (TypeError, ValueError):
            arr = None         # compare_arrays says what is wrong with it
        if arr is not None and arr.shape == A.T.shape and arr.shape != A.shape:
            return False, (f"on {name} the result has shape {arr.shape}, transposed: rows are decoder "
                           "steps, columns source positions, like A")
        ok, message = compare_arrays(got, _coverage_loss_grad(A), what=f"the gradient on {name}",
                                     rtol=VALUE_RTOL, atol=VALUE_ATOL)
        if not ok:
            if arr is not None and arr.shape == A.shape and np.all(np.isfinite(arr)):
                for hint, wrong in _typical_mistakes(A):
                    if np.allclose(arr, wrong, rtol=1e-6, atol=1e-9):
                        return False, hint
            return False, message
    return True, ("agrees with smoothmax.coverage_loss_grad: [a_i^t < c_i^t] directly, plus "
                  "[c_i^{t'} < a_i^{t'}] for every later step t' > t.")
