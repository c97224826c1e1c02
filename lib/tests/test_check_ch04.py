"""Feedback of the chapter 4 exercise checks: right answers pass, typical wrong
answers get their hint, malformed answers get a message, and no message gives
the answer away."""

import numpy as np
import sympy as sp

from _checks import CheckHarness, central_gradient
import smoothmax
from smoothmax import check

x, y = sp.symbols("x y", real=True)


def _grad_loops(A):
    steps, n = A.shape
    C = smoothmax.coverage(A)
    G = np.zeros_like(A)
    for t in range(steps):
        for i in range(n):
            G[t, i] = float(A[t, i] < C[t, i])
            for s in range(t + 1, steps):
                G[t, i] += float(C[s, i] < A[s, i])
    return G


def _grad_vectorised(A):
    A = np.asarray(A)
    C = np.zeros_like(A)
    C[1:] = np.cumsum(A[:-1], axis=0)
    via = (C < A).astype(float)
    later = np.cumsum(via[::-1], axis=0)[::-1] - via
    return (A < C).astype(float) + later


def _grad_inclusive(A):
    C = np.cumsum(A, axis=0)                    # includes the current step
    G = (A < C).astype(float)
    via = (C < A).astype(float)
    return G + np.cumsum(via[::-1], axis=0)[::-1] - via


def _grad_direct_only(A):
    return (A < smoothmax.coverage(A)).astype(float)


def _grad_s_from_t(A):
    C = smoothmax.coverage(A)
    via = (C < A).astype(float)
    return (A < C).astype(float) + np.cumsum(via[::-1], axis=0)[::-1]


def _grad_wrong_axis(A):
    C = np.zeros_like(A)
    C[:, 1:] = np.cumsum(A[:, :-1], axis=1)     # coverage over positions
    via = (C < A).astype(float)
    return (A < C).astype(float) + np.cumsum(via[:, ::-1], axis=1)[:, ::-1] - via


def _grad_later_wrong_axis(A):
    C = smoothmax.coverage(A)
    via = (C < A).astype(float)
    return (A < C).astype(float) + np.cumsum(via[:, ::-1], axis=1)[:, ::-1] - via


def _raises(A):
    raise RuntimeError("not finished")


def _total_coverage_loss(A):
    # coverage by hand: smoothmax.coverage rejects the slightly negative entries of A ± h
    C = np.cumsum(A, axis=0) - A
    return float(np.sum(np.minimum(A, C)))


def _grad_central(A):
    """The subgradient by central differences, as the chapter checks it (no ties a = c)."""
    return central_gradient(_total_coverage_loss, A)


RIGHT = [
    (check.cov_tv, (x + y - sp.Abs(x - y)) / 2),
    (check.cov_tv, "(x + y - Abs(x - y))/2"),
    (check.cov_tv, "x + y - (x + y + Abs(y - x))/2"),
    (check.cov_tv, lambda x, y: (x + y - abs(x - y)) / 2),
    (check.cov_tv, (sp.Symbol("x", positive=True) + sp.Symbol("y") - sp.Abs(sp.Symbol("x", positive=True) - sp.Symbol("y"))) / 2),
    (check.cov_grad_loop, _grad_loops),
    (check.cov_grad_loop, _grad_vectorised),
    (check.cov_grad_loop, smoothmax.coverage_loss_grad),
    (check.cov_grad_loop, lambda A: smoothmax.coverage_loss_grad(A).tolist()),
    # more correct forms
    (check.cov_tv, "(x + y - sqrt((x - y)^2))/2"),
    (check.cov_tv, "x/2 + y/2 - Abs(y - x)/2"),
    (check.cov_tv, lambda x, y: 0.5 * (x + y) - 0.5 * np.abs(x - y)),
    (check.cov_tv, sp.Rational(1, 2) * (x + y) - sp.Abs(x - y) / 2),
    (check.cov_grad_loop, _grad_central),
    (check.cov_grad_loop, lambda A: _grad_loops(A).astype(int)),
    (check.cov_grad_loop, lambda A: np.asarray(_grad_loops(A), dtype=np.float32)),
]


# (check, wrong answer, a fragment of the expected hint)
WRONG = [
    (check.cov_tv, (x + y + sp.Abs(x - y)) / 2, "max(x, y)"),
    (check.cov_tv, x + y - sp.Abs(x - y), "twice the minimum"),
    (check.cov_tv, x, "right when x ≤ y"),
    (check.cov_tv, "y", "right when x ≥ y"),
    (check.cov_tv, sp.Min(x, y), "without Min"),
    (check.cov_tv, "min(x, y)", "without Min"),
    (check.cov_tv, sp.Piecewise((x, x < y), (y, True)), "without Piecewise"),
    (check.cov_tv, "x*y", "not the smaller of the two"),
    (check.cov_grad_loop, _grad_inclusive, "includes the current step"),
    (check.cov_grad_loop, lambda A: np.ones_like(A), "includes the current step"),
    (check.cov_grad_loop, _grad_direct_only, "only the direct term"),
    (check.cov_grad_loop, _grad_s_from_t, "t' > t only"),
    (check.cov_grad_loop, _grad_wrong_axis, "source positions"),
    (check.cov_grad_loop, _grad_later_wrong_axis, "source positions"),
    (check.cov_grad_loop, lambda A: -smoothmax.coverage_loss_grad(A), "sign"),
    (check.cov_grad_loop, lambda A: smoothmax.coverage_loss_grad(A) * 0.5, "differs from the reference"),
    (check.cov_grad_loop, lambda A: smoothmax.coverage_loss_grad(A).T, "transposed"),
]

# the expected formulas that no message may reveal
SECRETS = ["x + y - Abs", "(x + y", "|x − y|)/2", "Abs(x - y)", "[c_i^s < a_i^s]"]


# (check, malformed answer, a fragment of the message)
MALFORMED = [
    (check.cov_tv, None, "no answer yet"),
    (check.cov_tv, ..., "no answer yet"),
    (check.cov_tv, "x +* y", "could not read"),
    (check.cov_tv, "(a + b - Abs(a - b))/2", "may use only x, y"),
    (check.cov_tv, [x, y], "should be a SymPy expression"),
    (check.cov_tv, True, "not a boolean"),
    (check.cov_tv, lambda x, y: 1 / 0, "raised ZeroDivisionError"),
    (check.cov_tv, lambda x: x, "raised TypeError"),
    (check.cov_tv, lambda x, y: float("nan"), "NaN"),
    (check.cov_tv, lambda x, y: "small", "not a string"),
    (check.cov_grad_loop, None, "no answer yet"),
    (check.cov_grad_loop, np.zeros((5, 6)), "not its result"),
    (check.cov_grad_loop, "grad", "a function"),
    (check.cov_grad_loop, _raises, "raised RuntimeError: not finished"),
    (check.cov_grad_loop, lambda A: None, "forget to `return`"),
    (check.cov_grad_loop, lambda A: A[:, :1], "shape"),
    (check.cov_grad_loop, lambda A: np.full_like(A, np.nan), "NaN"),
    (check.cov_grad_loop, lambda A: "zeros", "array of numbers"),
    (check.cov_grad_loop, lambda A: [[1, 2], [3]], "array of numbers"),
    (check.cov_grad_loop, lambda: 0, "raised TypeError"),
]

harness = CheckHarness(texts=SECRETS)
test_right_answers_pass = harness.right(RIGHT)
test_wrong_answers_get_their_hint = harness.wrong(WRONG)
test_malformed_answers_get_a_clear_message = harness.malformed(MALFORMED)
test_each_check_states_its_tolerance = harness.tolerances([check.cov_tv, check.cov_grad_loop])


def test_checks_called_wrongly_explain_the_call():
    feedback = check.cov_grad_loop()
    assert not feedback.correct and "call it as cov_grad_loop(grad)" in feedback.message


def test_the_attention_cases_avoid_the_kinks_and_the_mistakes_differ():
    from smoothmax.check.ch04_coverage import _attention_cases, _typical_mistakes
    for name, A in _attention_cases():
        assert np.allclose(A.sum(axis=1), 1)
        if A.shape[0] > 1:
            assert np.abs(A - smoothmax.coverage(A))[1:].min() > 1e-3
            right = smoothmax.coverage_loss_grad(A)
            assert not any(np.allclose(w, right) for _, w in _typical_mistakes(A)), name


def test_the_student_function_gets_a_copy():
    def mutating(A):
        G = smoothmax.coverage_loss_grad(A)
        A[:] = 0
        return G
    assert check.cov_grad_loop(mutating)
    assert check.cov_grad_loop(smoothmax.coverage_loss_grad)
