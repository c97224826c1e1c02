"""Every exercise check, whatever it is given, returns a Feedback and never raises.

The per-chapter files test_check_chNN.py hold the right and wrong answers of
each check; this file feeds every check the malformed answers a student can
produce and checks the Feedback object itself.
"""

import inspect
import math

import numpy as np
import pytest
import sympy as sp

from _checks import CheckHarness, boom, case_ids, leaks
from smoothmax import check
from smoothmax.check import Feedback
from smoothmax.check._core import Malformed, as_number, digits_close, digits_tolerance, exercise

CHECKS = sorted(check.exercises().items())
each_check = pytest.mark.parametrize("label, fn", CHECKS, ids=[label for label, _ in CHECKS])

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
    "function that raises": boom,
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


@each_check
@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_malformed_answers_get_a_message_not_a_traceback(label, fn, kind):
    feedback = fn(MALFORMED[kind])
    assert isinstance(feedback, Feedback)
    assert feedback.exercise == label
    assert not feedback.correct, f"{label} accepted {kind}"
    assert feedback.message and "Traceback" not in feedback.message
    assert "could not check" not in feedback.message, f"{label} on {kind}: {feedback.message}"


@each_check
def test_calling_with_the_wrong_arguments_explains_the_call(label, fn):
    feedback = fn(None, None, None, None, None, None, None, None)
    assert not feedback.correct
    assert feedback.message.startswith(f"call it as {fn.__name__}(")


@each_check
def test_each_check_documents_what_to_pass(label, fn):
    # the check's own docstring (the decorator appends the tolerance to every one)
    own = fn.__wrapped__.__doc__ or ""
    assert own.strip(), f"{label} has no docstring of its own"
    for name in inspect.signature(fn).parameters:
        assert name in own, f"{label} does not document its argument {name}"
    assert fn.__name__ == label.removeprefix("ex-").replace("-", "_")


def test_tolerance_by_name_label_or_function_and_unknown_names():
    assert check.tolerance("temp_slider") == check.tolerance("ex-temp-slider") == \
        check.tolerance(check.temp_slider) == check.temp_slider.tolerance
    assert "3 significant digits" in check.tolerance("temp_slider")
    with pytest.raises(KeyError, match="no exercise check named 'banana'"):
        check.tolerance("banana")
    with pytest.raises(KeyError):
        check.tolerance("Feedback")
    assert sorted(check.exercises()) == sorted(label for label, _ in CHECKS)
    assert len(CHECKS) == 17


def test_an_exercise_must_state_its_tolerance():
    with pytest.raises(ValueError, match="must state its tolerance"):
        exercise("ex-silent", tolerance=" ")


def test_digits_close_accepts_rounded_and_truncated_values_only():
    exact = 3.9550042392051954
    assert digits_close(3.95, exact, 3) and digits_close(3.96, exact, 3)   # truncated, rounded
    assert digits_close(3.955, exact, 4) and digits_close(exact, exact, 6)
    assert not digits_close(3.94, exact, 3) and not digits_close(3.97, exact, 3)
    assert not digits_close(3.95, exact, 4)
    assert digits_close(0.0008683, 0.0008683034886523246, 4)
    assert not digits_close(0.000868, 0.0008683034886523246, 4)
    assert digits_close(0.0, 0.0, 3) and not digits_close(1e-300, 0.0, 3)
    assert "3 significant digits" in digits_tolerance(3) and "third" in digits_tolerance(3)


@pytest.mark.parametrize("text, value", [("2*log(2)", 2 * math.log(2)), ("2 log 2", 2 * math.log(2)),
                                         ("ln(4)", math.log(4)), ("9/10", 0.9), ("e^2", math.e ** 2),
                                         ("E**2", math.e ** 2), ("sqrt(2)*pi", math.sqrt(2) * math.pi),
                                         (" 0.25 ", 0.25), ("1e-3", 1e-3)])
def test_typed_numbers_are_read_by_sympy(text, value):
    assert math.isclose(as_number(text, strings=True), value, rel_tol=1e-15)
    with pytest.raises(Malformed, match="not a string"):
        as_number(text)                      # what a function returns must be a number


def test_feedback_is_truthy_only_when_right_and_escapes_html():
    right = Feedback("ex-x", True, "fine")
    wrong = Feedback("ex-x", False, "a < b & c")
    assert right and not wrong
    assert str(right).startswith("\u2714 Right (ex-x)")
    assert str(wrong).startswith("\u2718 Not yet (ex-x)")
    assert "a &lt; b &amp; c" in wrong._repr_html_()
    assert 'role="status"' in right._repr_html_()


def test_a_bug_inside_a_check_becomes_a_message():
    @exercise("ex-broken", tolerance="exactly")
    def broken(answer):
        return {}["missing"]

    feedback = broken(1.0)
    assert not feedback.correct
    assert feedback.message.startswith("could not check the answer (KeyError")


# ---------------------------------------------------------------- the harness of test_check_chNN.py
def test_leaks_finds_formulas_and_standalone_numbers():
    assert leaks("use 2*log(2) here", texts=["2*log(2)", "log(4)"]) == ["2*log(2)"]
    assert leaks("it is 1.39", numbers=[2 * math.log(2)]) == ["1.39"]
    assert leaks("it is 1.3863.", numbers=[2 * math.log(2)]) == ["1.3863"]
    assert leaks("ε = 0.9 exactly", numbers=[0.9]) == ["0.9"]
    assert leaks("s = 3.7e+04", numbers=[37_000.0]) == ["3.7e+04"]


def test_leaks_ignores_short_roundings_and_longer_numbers():
    assert leaks("ε = 0.1, not 0.13", numbers=[0.1000027, 0.13333]) == []
    assert leaks("10.9 and 0.95 and 1.390", numbers=[0.9, 1.39]) == []
    assert leaks("no secrets", texts=["x"], numbers=[1.0]) == []


@exercise("ex-leaky", tolerance="exactly")
def leaky(answer):
    """A check whose wrong-answer hint gives the answer away."""
    return answer == 0.617, "not yet: it is near 0.617" if answer > 0 else "positive, please"


def test_the_harness_fails_a_check_that_leaks_or_lacks_its_hint():
    harness = CheckHarness(texts=["near"], numbers=[0.6171])
    harness.right([(leaky, 0.617)])(leaky, 0.617)
    harness.wrong([(leaky, -1.0, "positive")])(leaky, -1.0, "positive")
    with pytest.raises(AssertionError, match="reveals"):
        harness.wrong([(leaky, 0.5, "not yet")])(leaky, 0.5, "not yet")
    with pytest.raises(AssertionError):
        harness.wrong([(leaky, -1.0, "too small")])(leaky, -1.0, "too small")
    with pytest.raises(AssertionError):
        harness.right([(leaky, 0.5)])(leaky, 0.5)
    with pytest.raises(AssertionError, match="reveals"):
        harness.malformed([(leaky, 0.5, "not yet")])(leaky, 0.5, "not yet")


def test_the_harness_unpacks_and_checks_the_label():
    def plain(a, b):
        return Feedback("ex-plain", a == b, "fine" if a == b else "differ")

    @exercise("ex-other", tolerance="exactly")
    def mislabelled(answer):
        return True, "fine"

    harness = CheckHarness(unpack=True)
    harness.right([(plain, (1, 1))])(plain, (1, 1))
    harness.wrong([(plain, (1, 2), "differ")])(plain, (1, 2), "differ")
    with pytest.raises(AssertionError, match="ex-other"):
        harness.right([(mislabelled, (1,))])(mislabelled, (1,))


def test_case_ids_are_readable_and_unique():
    table = [(leaky, 0.5, "hint"), (leaky, 0.5, "hint"), (leaky, "a  b", "hint"), (leaky, boom, "x")]
    assert case_ids(table) == ["leaky-0.5-hint", "leaky-0.5-hint#2", "leaky-a b-hint", "leaky-boom-x"]
    assert case_ids([(leaky, (None, np.zeros((2, 3))))], unpack=True) == ["leaky-None, array(2,3)"]
