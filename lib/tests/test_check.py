"""Every exercise check, whatever it is given, returns a Feedback and never raises.

The per-chapter files test_check_chNN.py hold the right and wrong answers of
each check; this file feeds every check the malformed answers a student can
produce and checks the Feedback object itself.
"""

import math

import numpy as np
import pytest
import sympy as sp

from smoothmax import check
from smoothmax.check import Feedback

CHECKS = sorted(check.exercises().items())


def _raises(*args, **kwargs):
    raise RuntimeError("boom")


MALFORMED = {
    "None": None,
    "Ellipsis": ...,
    "empty string": "",
    "unparsable string": "1/(2*",
    "word": "banana",
    "bool": True,
    "complex": 1 + 2j,
    "nan": math.nan,
    "inf": math.inf,
    "empty list": [],
    "dict": {"a": 1},
    "object": object(),
    "nan array": np.array([np.nan]),
    "matrix": np.eye(3),
    "sympy symbol": sp.Symbol("banana"),
    "sympy nan": sp.nan,
    "function that raises": _raises,
    "function returning None": lambda *a, **k: None,
    "function returning a string": lambda *a, **k: "x",
    "function returning NaN": lambda *a, **k: math.nan,
    "function of no arguments": lambda: 1.0,
    "unknown sympy function": sp.sympify("f(x)"),
    "string with an unknown function": "sigma(x) + 1",
}


def test_there_are_checks_for_every_chapter():
    chapters = {fn.__module__.rsplit(".", 1)[1][:4] for _, fn in CHECKS}
    assert chapters == {"ch01", "ch02", "ch03", "ch04", "ch05"}


@pytest.mark.parametrize("label, fn", CHECKS, ids=[label for label, _ in CHECKS])
@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_malformed_answers_get_a_message_not_a_traceback(label, fn, kind):
    feedback = fn(MALFORMED[kind])
    assert isinstance(feedback, Feedback)
    assert feedback.exercise == label
    assert not feedback.correct, f"{label} accepted {kind}"
    assert feedback.message and "Traceback" not in feedback.message
    assert "could not check" not in feedback.message, f"{label} on {kind}: {feedback.message}"


@pytest.mark.parametrize("label, fn", CHECKS, ids=[label for label, _ in CHECKS])
def test_calling_with_the_wrong_arguments_explains_the_call(label, fn):
    feedback = fn(None, None, None, None, None, None, None, None)
    assert not feedback.correct
    assert feedback.message.startswith(f"call it as {fn.__name__}(")


@pytest.mark.parametrize("label, fn", CHECKS, ids=[label for label, _ in CHECKS])
def test_each_check_documents_what_to_pass(label, fn):
    assert fn.__doc__ and fn.__doc__.strip()
    assert fn.__name__ == label.removeprefix("ex-").replace("-", "_")


def test_feedback_is_truthy_only_when_right_and_escapes_html():
    right = Feedback("ex-x", True, "fine")
    wrong = Feedback("ex-x", False, "a < b & c")
    assert right and not wrong
    assert str(right).startswith("\u2714 Right (ex-x)")
    assert str(wrong).startswith("\u2718 Not yet (ex-x)")
    assert "a &lt; b &amp; c" in wrong._repr_html_()
    assert 'role="status"' in right._repr_html_()


def test_a_bug_inside_a_check_becomes_a_message():
    from smoothmax.check._core import exercise

    @exercise("ex-broken")
    def broken(answer):
        return {}["missing"]

    feedback = broken(1.0)
    assert not feedback.correct
    assert feedback.message.startswith("could not check the answer (KeyError")
