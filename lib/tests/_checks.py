"""The shared harness of the exercise-check tests (``tests/test_check_chNN.py``).

Each chapter file declares its tables of ``(check, answer)`` right answers and
``(check, answer, fragment)`` wrong and malformed answers, plus the secrets no
message may reveal, and builds the three table-driven tests from them::

    harness = CheckHarness(unpack=True, texts=SECRET_TEXT, numbers=SECRET_NUMBERS)
    test_right_answers_pass = harness.right(RIGHT)
    test_wrong_answers_get_their_hint = harness.wrong(WRONG)
    test_malformed_answers_get_a_clear_message = harness.malformed(MALFORMED)

* ``leaks(message, texts, numbers)``: the secrets found in a message.
* ``boom``: a student function that raises ``RuntimeError("boom")``.
* ``case_ids(table)``: readable, unique test ids for the rows of a table.
* ``rounded(x, digits)``, ``truncated(x, digits)``: `x` to `digits` significant
  digits, as a student would type it.
* ``central_gradient(f, x, h)``: the central-difference gradient of a scalar
  function, the way the chapters check gradients (error ~ 1e-10 for h = 1e-6).

Import them with ``from _checks import ...`` (like ``_reference``).
"""

import math
import re
from collections import Counter

import numpy as np
import pytest

from smoothmax.check import Feedback

__all__ = ["RIGHT_MARK", "boom", "leaks", "case_ids", "rounded", "truncated", "central_gradient",
           "CheckHarness"]

RIGHT_MARK = "\u2714 Right"


def boom(*args, **kwargs):
    """A student function that is not finished."""
    raise RuntimeError("boom")


# ---------------------------------------------------------------- honest answers
def rounded(x, digits):
    """`x` rounded to `digits` significant digits."""
    return float(f"{float(x):.{digits}g}")


def truncated(x, digits):
    """`x` cut (towards zero) after `digits` significant digits."""
    x = float(x)
    scale = 10.0 ** (digits - 1 - math.floor(math.log10(abs(x))))
    return math.trunc(x * scale) / scale


def central_gradient(f, x, h=1e-6):
    """The central-difference gradient of the scalar function `f` at the array `x`."""
    x = np.array(x, dtype=float)
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        g[idx] = (float(f(x + e)) - float(f(x - e))) / (2 * h)
    return g


# ---------------------------------------------------------------- secrets
def _significant_digits(shown):
    mantissa = shown.split("e")[0]
    return len(mantissa.replace("-", "").replace(".", "").lstrip("0"))


def leaks(message, texts=(), numbers=()):
    """The secrets found in `message`: any of `texts`, or one of `numbers` shown
    to 1-6 significant digits.

    A rounding to fewer than 3 significant digits counts only when it is the
    exact value (0.9 shown as "0.9" is a leak; 0.1000027 shown as "0.1" reveals
    nothing).  A number counts only where it stands alone, not inside a longer
    one ("0.9" is not found in "10.9" or "0.95").
    """
    found = [text for text in texts if text in message]
    for x in numbers:
        x = float(x)
        for digits in range(1, 7):
            shown = f"{x:.{digits}g}"
            if _significant_digits(shown) < 3 and float(shown) != x:
                continue
            if shown not in found and re.search(rf"(?<![\d.]){re.escape(shown)}(?!\d)", message):
                found.append(shown)
    return found


# ---------------------------------------------------------------- test ids
def _describe(value, width=32):
    """A short readable label of an answer."""
    if value is None or value is Ellipsis:
        text = repr(value)
    elif isinstance(value, str):
        text = value
    elif isinstance(value, (bool, np.bool_)):
        text = str(bool(value))
    elif isinstance(value, (int, float, np.integer, np.floating)):
        text = f"{value:.4g}"
    elif isinstance(value, np.ndarray):
        text = "array" + ("()" if value.ndim == 0 else str(value.shape).replace(" ", ""))
    elif isinstance(value, (tuple, list)):
        text = ", ".join(_describe(v, width) for v in value)
        text = f"({text})" if isinstance(value, tuple) else f"[{text}]"
    elif isinstance(value, dict):
        text = "{" + ", ".join(f"{k}: {_describe(v, width)}" for k, v in value.items()) + "}"
    elif callable(value) and hasattr(value, "__name__"):
        text = value.__name__
    else:                                   # SymPy expressions and the like
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def case_ids(table, unpack=False):
    """``check-answer[-fragment]`` for each row; repeated ids get ``#2``, ``#3``..."""
    ids, seen = [], Counter()
    for fn, answer, *fragment in table:
        shown = ", ".join(_describe(a) for a in answer) if unpack else _describe(answer)
        case = "-".join([fn.__name__, shown, *fragment])
        seen[case] += 1
        ids.append(case if seen[case] == 1 else f"{case}#{seen[case]}")
    return ids


# ---------------------------------------------------------------- the tests
class CheckHarness:
    """Builds the table-driven tests of one chapter's checks.

    unpack: the answers are tuples of the check's arguments (``fn(*answer)``)
        rather than its single argument (``fn(answer)``).
    texts, numbers: the secrets no wrong or malformed answer's message may
        reveal (see ``leaks``); either sequences, or functions of the check
        returning the sequence for that check.
    """

    def __init__(self, *, unpack=False, texts=(), numbers=()):
        self.unpack = unpack
        self.texts = texts
        self.numbers = numbers

    def feedback(self, fn, answer):
        feedback = fn(*answer) if self.unpack else fn(answer)
        assert isinstance(feedback, Feedback), f"{fn.__name__} returned {feedback!r}"
        label = feedback.exercise
        assert label.removeprefix("ex-").replace("-", "_") == fn.__name__, label
        return feedback

    def leaks(self, fn, message):
        def for_check(secrets):
            return secrets(fn) if callable(secrets) else secrets
        return leaks(message, for_check(self.texts), for_check(self.numbers))

    def _parametrize(self, names, table):
        return pytest.mark.parametrize(names, table, ids=case_ids(table, self.unpack))

    def right(self, table):
        """Every ``(check, answer)`` in `table` is accepted."""
        @self._parametrize("fn, answer", table)
        def test_right_answers_pass(fn, answer):
            feedback = self.feedback(fn, answer)
            assert feedback.correct, feedback
            assert str(feedback).startswith(RIGHT_MARK), feedback
        return test_right_answers_pass

    def wrong(self, table):
        """Every ``(check, answer, hint)`` in `table` is rejected with its hint,
        and the message reveals no secret."""
        assert all(hint for *_, hint in table), "an empty hint fragment is found in every message"

        @self._parametrize("fn, answer, hint", table)
        def test_wrong_answers_get_their_hint(fn, answer, hint):
            feedback = self.feedback(fn, answer)
            assert not feedback.correct, feedback
            assert hint in feedback.message, feedback
            found = self.leaks(fn, feedback.message)
            assert not found, f"{feedback}\nreveals {found}"
        return test_wrong_answers_get_their_hint

    def tolerances(self, fns):
        """Every check in `fns` states its tolerance: ``check.tolerance`` gives the
        same sentence by name and by label, the docstring ends with it, and it
        reveals no secret."""
        from smoothmax import check

        @pytest.mark.parametrize("fn", fns, ids=[fn.__name__ for fn in fns])
        def test_each_check_states_its_tolerance(fn):
            sentence = fn.tolerance
            assert isinstance(sentence, str) and len(sentence.split()) >= 4, sentence
            assert check.tolerance(fn.__name__) == sentence
            assert check.tolerance(fn.exercise) == sentence
            assert check.tolerance(fn) == sentence
            assert fn.__doc__.rstrip().endswith(f"Tolerance: {sentence}"), fn.__doc__
            found = self.leaks(fn, sentence)
            assert not found, f"the tolerance of {fn.__name__} reveals {found}: {sentence}"
        return test_each_check_states_its_tolerance

    def malformed(self, table):
        """Every ``(check, answer, fragment)`` in `table` is rejected with a clear
        message containing `fragment`: no traceback, no "could not check" (a bug
        in the check), and no secret."""
        assert all(fragment for *_, fragment in table), "an empty fragment is found in every message"
        @self._parametrize("fn, answer, fragment", table)
        def test_malformed_answers_get_a_clear_message(fn, answer, fragment):
            feedback = self.feedback(fn, answer)
            assert not feedback.correct, feedback
            assert fragment in feedback.message, feedback
            assert "could not check" not in feedback.message, feedback
            assert "Traceback" not in str(feedback), feedback
            found = self.leaks(fn, feedback.message)
            assert not found, f"{feedback}\nreveals {found}"
        return test_malformed_answers_get_a_clear_message
