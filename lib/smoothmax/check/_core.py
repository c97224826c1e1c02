"""The machinery behind the exercise self-checks: feedback, and comparisons of
numbers, formulas and functions that never raise and never reveal the answer.

A check function builds a :class:`Feedback` and returns it.  Anything a
student can pass (``None``, a string, a SymPy expression, a function that
raises, an array of the wrong shape, ...) ends in a ``Feedback`` whose message
says what is wrong with the *form* of the answer or gives a hint about its
*content*; the expected value is never part of a message.
"""

from __future__ import annotations

import decimal
import functools
import html
import math
import numbers
import warnings
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

__all__ = ["Feedback", "Malformed", "exercise", "as_number", "as_formula", "close",
           "call", "as_array", "compare_arrays", "digits_close", "digits_tolerance", "values_close",
           "VALUE_RTOL", "VALUE_ATOL", "VALUES_TOLERANCE", "parse_number"]


@dataclass(frozen=True)
class Feedback:
    """The verdict of a self-check.

    Truthy when the answer is right, so ``assert check.x(answer)`` works; in a
    notebook it displays as one line, "Right" or "Not yet" plus a hint.
    """

    exercise: str
    correct: bool
    message: str

    def __bool__(self) -> bool:
        return self.correct

    @property
    def verdict(self) -> str:
        return "Right" if self.correct else "Not yet"

    def __str__(self) -> str:
        mark = "\u2714" if self.correct else "\u2718"
        return f"{mark} {self.verdict} ({self.exercise}): {self.message}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        cls = "smx-check-right" if self.correct else "smx-check-wrong"
        mark = "\u2714" if self.correct else "\u2718"
        return (f'<p class="smx-check {cls}" role="status"><strong>{mark} {self.verdict}</strong> '
                f'({html.escape(self.exercise)}): {html.escape(self.message)}</p>')


class Malformed(Exception):
    """The answer has the wrong form; the message says what was expected."""


def exercise(label: str, tolerance: str):
    """Decorate a check: label its feedback and turn every failure into a message.

    The wrapped function returns ``Feedback`` or a ``(correct, message)`` pair.
    ``Malformed`` becomes "Not yet" with its message; any other exception
    (a bug in the check itself, or something exotic in the answer) becomes a
    "could not check" message instead of a traceback.

    `tolerance` is the one-sentence statement of what the check accepts
    ("to 4 significant digits (...)"), for the exercise text to quote; it is
    the check's ``tolerance`` attribute and ends its docstring.
    """
    if not tolerance or not tolerance.strip():
        raise ValueError(f"the check of {label} must state its tolerance")

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    result = fn(*args, **kwargs)
            except Malformed as exc:
                return Feedback(label, False, str(exc))
            except TypeError as exc:
                # The student called the check with the wrong arguments.
                if _is_signature_error(exc, fn):
                    return Feedback(label, False, f"call it as {fn.__name__}{_signature(fn)}: {exc}")
                return Feedback(label, False, f"could not check the answer ({type(exc).__name__}: {exc})")
            except Exception as exc:  # never show a traceback to a student
                return Feedback(label, False, f"could not check the answer ({type(exc).__name__}: {exc})")
            if isinstance(result, Feedback):
                return result
            correct, message = result
            return Feedback(label, bool(correct), message)
        wrapper.exercise = label
        wrapper.tolerance = tolerance
        wrapper.__doc__ = f"{(fn.__doc__ or '').rstrip()}\n\n    Tolerance: {tolerance}\n"
        return wrapper
    return decorate


def _signature(fn) -> str:
    import inspect
    return str(inspect.signature(fn))


def _is_signature_error(exc: TypeError, fn) -> bool:
    tb = exc.__traceback__
    # The error was raised by the call itself (no frame inside the check).
    return tb is not None and tb.tb_next is None


# ----------------------------------------------------------------- numbers
def as_number(answer, what: str = "the answer", *, strings: bool = False) -> float:
    """A real number from a Python/NumPy/SymPy number; ``Malformed`` otherwise.

    With ``strings=True`` (a number the student types in, not what a function
    returns) a string is read by :func:`parse_number`: ``"2*log(2)"``,
    ``"0.9"``, ``"9/10"``.
    """
    if answer is None or answer is Ellipsis:
        raise Malformed(f"no answer yet: replace the placeholder with {what}")
    if isinstance(answer, (bool, np.bool_)):
        raise Malformed(f"{what} should be a number, not a boolean")
    if isinstance(answer, str) and strings:
        answer = reject_unknown_functions(parse_number(answer, what), what)
    if isinstance(answer, (str, bytes)):
        raise Malformed(f"{what} should be a number, not a string; write e.g. 0.25 or sympy.log(2)")
    if isinstance(answer, decimal.Decimal):
        answer = float(answer)
    if (not isinstance(answer, (numbers.Number, np.ndarray, list, tuple, set, dict))
            and not is_sympy_object(answer) and hasattr(answer, "__array__")):
        try:                                # e.g. a 0-d tensor of another library
            answer = np.asarray(answer)
        except Exception:
            pass
    value = answer
    if is_sympy_object(answer):
        if getattr(answer, "free_symbols", None):
            names = ", ".join(sorted(str(s) for s in answer.free_symbols))
            raise Malformed(f"{what} should be a number, but it still contains the symbol(s) {names}")
        try:
            value = complex(answer.evalf(30))
        except (TypeError, ValueError):
            raise Malformed(f"{what} could not be evaluated to a number") from None
        if math.isnan(value.real) or math.isnan(value.imag):
            raise Malformed(f"{what} is NaN; check for 0/0 or log of a negative number")
        if value.imag != 0:
            raise Malformed(f"{what} should be real, got a complex number")
        value = value.real
    elif isinstance(answer, np.ndarray):
        if answer.size != 1:
            raise Malformed(f"{what} should be a single number, got an array of shape {answer.shape}")
        value = answer.reshape(()).item()
    elif isinstance(answer, (list, tuple, set, dict)):
        raise Malformed(f"{what} should be a single number, got a {type(answer).__name__}")
    if isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real):
        if value.imag != 0:
            raise Malformed(f"{what} should be real, got a complex number")
        value = value.real
    if not isinstance(value, numbers.Real):
        raise Malformed(f"{what} should be a number, got {type(answer).__name__}")
    value = float(value)
    if math.isnan(value):
        raise Malformed(f"{what} is NaN; check for 0/0 or log of a negative number")
    if math.isinf(value):
        raise Malformed(f"{what} is infinite; the answer is a finite number")
    return value


def close(value: float, expected: float, rtol: float = 1e-6, atol: float = 0.0) -> bool:
    return abs(value - expected) <= atol + rtol * abs(expected)


# ----------------------------------------------------------------- tolerances
# Values computed by a formula or a function: exact forms, other stable
# formulas and central differences with h ~ 1e-6 (error ~ 1e-10 .. 1e-7, more
# for logits in the hundreds) all pass; every typical mistake is off by far
# more than this.
VALUE_RTOL = 1e-6
VALUE_ATOL = 1e-6
VALUES_TOLERANCE = "within 1e-6·(1 + |reference|) of the reference"


def values_close(value: float, expected: float) -> bool:
    """``|value − expected| ≤ 1e-6 (1 + |expected|)``: the tolerance of computed values."""
    return close(value, expected, rtol=VALUE_RTOL, atol=VALUE_ATOL)


_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth"}


def digits_close(value: float, expected: float, digits: int) -> bool:
    """Whether `value` gives `expected` to `digits` significant digits.

    Accepted: an error of at most one unit in the `digits`-th significant
    digit of `expected`, so that both the rounded and the truncated value pass
    (3.955004 to 3 digits: 3.96 and 3.95), and any value with more digits.
    """
    if expected == 0:
        return value == 0
    unit = 10.0 ** (math.floor(math.log10(abs(expected))) - digits + 1)
    return abs(value - expected) <= unit * (1 + 1e-9)


def digits_tolerance(digits: int) -> str:
    """The sentence that states :func:`digits_close` with `digits`."""
    return (f"to {digits} significant digits (an error of at most one unit in the "
            f"{_ORDINALS.get(digits, f'{digits}th')} significant digit, so rounded and truncated "
            "values pass, and so does any value with more digits)")


# ----------------------------------------------------------------- strings
def _sympy_locals(variables: Sequence[str] = (), numbers_only: bool = False) -> dict:
    """The names a string answer may use: its variables, and log (= ln), exp, sqrt, pi, E."""
    import sympy
    local = {"log": sympy.log, "ln": sympy.log, "exp": sympy.exp, "sqrt": sympy.sqrt,
             "pi": sympy.pi, "E": sympy.E}
    if numbers_only:
        local["e"] = sympy.E
    local.update({v: sympy.Symbol(v) for v in variables})
    return local


def parse_number(text: str, what: str = "the answer"):
    """A SymPy expression read from a string such as ``"2*log(2)"``, ``"2 log 2"`` or ``"9/10"``.

    Only log (natural, also ``ln``), exp, sqrt, pi and E (or e) have a fixed
    meaning; any other name becomes a symbol, which :func:`as_number` reports.
    """
    import sympy
    from sympy.parsing.sympy_parser import (implicit_application, implicit_multiplication,
                                            parse_expr, standard_transformations, convert_xor)
    if not text.strip():
        raise Malformed(f"could not read {what} from the string {text!r}")
    try:
        return sympy.sympify(text, locals=_sympy_locals(numbers_only=True))
    except Exception:
        pass
    try:                      # "2 log 2": multiplication and application written by a space
        return parse_expr(text, local_dict=_sympy_locals(numbers_only=True),
                          transformations=standard_transformations
                          + (convert_xor, implicit_multiplication, implicit_application))
    except Exception:
        raise Malformed(f"could not read {what} from the string {text!r}") from None


# ----------------------------------------------------------------- formulas
def as_formula(answer, variables: Sequence[str], what: str = "the formula") -> Callable:
    """A numerical function of `variables` from a SymPy expression, a string or a callable.

    Strings are parsed by SymPy (``"1/(2*T)"``); symbols are matched by name,
    so ``sympy.Symbol("T", positive=True)`` and ``sympy.Symbol("T")`` both work.
    The returned function takes the variables positionally and returns a float.
    """
    if answer is None or answer is Ellipsis:
        raise Malformed(f"no answer yet: replace the placeholder with {what}")
    if isinstance(answer, (bool, np.bool_)):
        raise Malformed(f"{what} should be an expression in {', '.join(variables)}, not a boolean")
    if isinstance(answer, str):
        import sympy
        try:
            answer = sympy.sympify(answer, locals=_sympy_locals(variables))
        except (sympy.SympifyError, SyntaxError, TypeError, AttributeError, ValueError):
            raise Malformed(f"could not read {what} from the string {answer!r}") from None
    if isinstance(answer, numbers.Number) or is_sympy_object(answer):
        import sympy
        expr = sympy.sympify(answer)
        reject_unknown_functions(expr, what)
        if not isinstance(expr, sympy.Expr):
            raise Malformed(f"{what} should be an expression, got {type(answer).__name__}")
        unknown = sorted(str(s) for s in expr.free_symbols if str(s) not in variables)
        if unknown:
            raise Malformed(f"{what} may use only {', '.join(variables)}; it contains {', '.join(unknown)}")
        syms = [sympy.Symbol(v) for v in variables]
        expr = expr.subs({s: sympy.Symbol(str(s)) for s in expr.free_symbols})
        f = sympy.lambdify(syms, expr, modules="mpmath")
        return lambda *xs: as_number(f(*xs), what)
    if callable(answer):
        def f(*xs):
            value = call(answer, *xs, what="your function")
            if value is None:
                raise Malformed("your function returned None: did it forget to `return`?")
            return as_number(value, "what your function returns")
        return f
    raise Malformed(f"{what} should be a SymPy expression, a string or a function of "
                    f"{', '.join(variables)}; got {type(answer).__name__}")


# ----------------------------------------------------------------- functions
def call(fn, *args, what: str = "your function", **kwargs):
    """Call a student's function; any exception becomes a one-line ``Malformed``."""
    if fn is None or fn is Ellipsis:
        raise Malformed(f"no answer yet: define {what} and pass it in")
    if not callable(fn):
        raise Malformed(f"pass {what} itself (a function), not a value of type {type(fn).__name__}")
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        raise Malformed(f"{what} raised {type(exc).__name__}: {exc}") from None


def as_array(result, what: str = "the result") -> np.ndarray:
    """A float64 array from what a student's function returned; ``Malformed`` otherwise."""
    if result is None:
        raise Malformed(f"{what} is None: did the function forget to `return`?")
    try:
        arr = np.asarray(result, dtype=float)
    except (TypeError, ValueError):
        raise Malformed(f"{what} should be an array of numbers, got {type(result).__name__}") from None
    return arr


def compare_arrays(result, expected: np.ndarray, *, what: str = "the result",
                   rtol: float = 1e-9, atol: float = 1e-12, hints: Mapping[str, np.ndarray] | None = None):
    """``(correct, message)`` for an array a student computed.

    `hints` maps a hint to an array that a *typical wrong* computation gives;
    when the result matches one of them, its hint is the message.
    """
    arr = as_array(result, what)
    expected = np.asarray(expected, dtype=float)
    if arr.shape != expected.shape:
        return False, f"{what} has shape {arr.shape}; it should have shape {expected.shape}"
    if not np.all(np.isfinite(arr)):
        return False, f"{what} contains NaN or infinite values"
    if np.allclose(arr, expected, rtol=rtol, atol=atol):
        return True, ""
    for hint, wrong in (hints or {}).items():
        wrong = np.asarray(wrong, dtype=float)
        if wrong.shape == arr.shape and np.allclose(arr, wrong, rtol=1e-6, atol=1e-9):
            return False, hint
    err = float(np.max(np.abs(arr - expected)))
    scale = float(np.max(np.abs(expected))) or 1.0
    return False, (f"{what} has the right shape but differs from the reference by up to "
                   f"{err / scale:.1e} (relative to its largest entry)")


def first_failure(checks: Iterable[tuple[bool, str]]):
    """The first ``(False, message)`` of a sequence of checks, or ``None``."""
    for ok, message in checks:
        if not ok:
            return message
    return None


# ----------------------------------------------------------------- added for chapters 2 and 3
def is_sympy_object(obj) -> bool:
    """Whether `obj` is a SymPy object, including applied undefined functions such as
    ``sympify("f(x)")``, whose dynamically created class has no ``__module__``."""
    module = getattr(type(obj), "__module__", None) or ""
    if module.startswith("sympy"):
        return True
    import sys
    sympy = sys.modules.get("sympy")
    return sympy is not None and isinstance(obj, sympy.Basic)


def canonical_symbols(answer, aliases: Mapping[str, str], variables: Sequence[str] = ()):
    """`answer` with its symbols renamed to the names a check expects.

    `aliases` maps other accepted spellings to a canonical name, e.g.
    ``{"epsilon": "eps", "varepsilon": "eps", "ε": "eps"}``; `variables` are the
    canonical names (read as plain symbols in strings).  SymPy expressions and
    strings are renamed; anything else, and a string SymPy cannot read, is
    returned unchanged so that :func:`as_formula` reports what is wrong with it.
    """
    if isinstance(answer, str):
        import sympy
        local = _sympy_locals(variables)
        local.update({alias: sympy.Symbol(name) for alias, name in aliases.items()})
        try:
            return sympy.sympify(answer, locals=local)
        except Exception:
            return answer
    if is_sympy_object(answer) and getattr(answer, "free_symbols", None):
        import sympy
        swap = {s: sympy.Symbol(aliases[str(s)]) for s in answer.free_symbols if str(s) in aliases}
        return answer.xreplace(swap) if swap else answer
    return answer


def matching_hint(got: Sequence[float], hints: Mapping[str, Sequence[float]],
                  rtol: float = 1e-6, atol: float = 1e-12):
    """The first hint whose values (a typical wrong answer's) match `got`, or ``None``.

    `got` and each entry of `hints` are values at the same points (or one
    value each); values that are not finite never match.
    """
    got = [float(g) for g in got]
    for hint, wrong in hints.items():
        wrong = [float(w) for w in np.atleast_1d(np.asarray(wrong, dtype=float))]
        if len(wrong) == len(got) and all(
                math.isfinite(w) and close(g, w, rtol=rtol, atol=atol) for g, w in zip(got, wrong)):
            return hint
    return None


def reject_unknown_functions(answer, what: str = "the formula"):
    """Raise ``Malformed`` if a SymPy expression applies a function SymPy does not know.

    ``sympify("sigma(s) - t")`` makes ``sigma`` an undefined function, which
    :func:`as_formula` cannot evaluate; call this first (on an expression, e.g.
    the result of :func:`canonical_symbols`) to say so in words.
    """
    if is_sympy_object(answer) and hasattr(answer, "atoms"):
        from sympy.core.function import AppliedUndef
        unknown = sorted({str(f.func) for f in answer.atoms(AppliedUndef)})
        if unknown:
            raise Malformed(f"{what} uses the function(s) {', '.join(unknown)}, which SymPy does not "
                            "know: write them out with exp, log and arithmetic")
    return answer


__all__ += ["canonical_symbols", "matching_hint", "first_failure", "reject_unknown_functions",
            "is_sympy_object"]
