"""Self-checks for the book's exercises.

Each exercise whose answer is a number, a formula or a function has a check
here, named after the exercise's label (``ex-softmax-jvp`` ->
``check.softmax_jvp``).  Pass your answer; the check returns a
:class:`Feedback` that says "Right" or "Not yet" with a hint, and never shows
the expected answer.  A check never raises: a placeholder, a string, a
function that crashes or returns the wrong shape all get a message instead of
a traceback.

>>> from smoothmax import check
>>> check.softmax_eigen_bound(None)
✘ Not yet (ex-softmax-eigen-bound): no answer yet: replace the placeholder with the bound, a formula in T
>>> bool(check.softmax_eigen_bound("T/2"))
False

Formulas may be SymPy expressions, strings SymPy can read (``"1/(2*T)"``) or
Python functions; symbols are matched by name.  Numbers may be Python, NumPy
or SymPy numbers, or strings such as ``"2*log(2)"``.

Each check states what it accepts, for the exercise text to quote:

>>> check.tolerance("ce_slider")
'each loss to 4 significant digits (an error of at most one unit in the fourth significant digit, so rounded and truncated values pass, and so does any value with more digits)'
"""

from importlib import import_module as _import_module

from ._core import Feedback

# One module per chapter; each defines its own __all__.
_CHAPTERS = ["ch01_softmax", "ch02_cross_entropy", "ch03_label_smoothing", "ch04_coverage",
             "ch05_temperature"]

__all__ = ["Feedback"]
for _name in _CHAPTERS:
    _mod = _import_module(f".{_name}", __name__)
    globals().update({k: getattr(_mod, k) for k in _mod.__all__})
    __all__ += list(_mod.__all__)
del _name, _mod


__all__ += ["tolerance"]


def exercises() -> dict:
    """Map each exercise label to its check function."""
    return {globals()[k].exercise: globals()[k] for k in __all__ if k not in ("Feedback", "tolerance")}


def tolerance(check) -> str:
    """The sentence that says what a check accepts, e.g. "to 3 significant digits (...)".

    `check` is the check function, its name (``"temp_slider"``) or its
    exercise label (``"ex-temp-slider"``).
    """
    if callable(check) and hasattr(check, "tolerance"):
        return check.tolerance
    name = str(check).removeprefix("ex-").replace("-", "_")
    fn = globals().get(name)
    if name in __all__ and hasattr(fn, "tolerance"):
        return fn.tolerance
    raise KeyError(f"no exercise check named {check!r}; the checks are {sorted(exercises())}")
