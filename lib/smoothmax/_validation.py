"""Private input-validation helpers shared by the public functions of smoothmax.

Every helper takes the *name* of the argument it checks, so that each error
message says which argument is wrong, e.g. ``ValueError("z contains NaN")``.
The helpers are deliberately small and composable so that later chapters
(cross-entropy, label smoothing, coverage, ...) can reuse them.

Conventions
-----------
* ``TypeError``  -- the argument has the wrong *kind* (strings, objects,
  complex numbers, booleans, a non-integer axis, ...).
* ``ValueError`` -- the argument has the right kind but a bad *value*
  (NaN, empty, out-of-range axis, non-positive temperature, wrong shape, ...).
"""

import math
import numbers
import operator

import numpy as np

__all__ = [
    "_as_float_array",
    "_require_ndim",
    "_reject_empty",
    "_reject_masked_array",
    "_reject_nan",
    "_reject_posinf",
    "_reject_nonfinite_above",
    "_reject_nonfinite",
    "_finite_range",
    "_normalize_axis",
    "_real_scalar",
    "_real_param_array",
    "_unit_interval_array",
    "_class_count_array",
    "_check_broadcast",
    "_positive_finite_scalar",
    "_check_same_shape",
    "_check_logits",
    "_reject_all_masked",
]

# dtype kinds that can be converted to float64 without losing meaning:
# signed/unsigned integers and real floating point.
_NUMERIC_KINDS = frozenset("iuf")


def _as_float_array(x, name):
    """Convert `x` to a float64 ndarray (always a new array or a float64 view).

    Integers and real floats are accepted (and cast to float64).  Booleans,
    complex numbers, strings, bytes, datetimes and object arrays raise
    ``TypeError`` naming `name`; ragged nested sequences raise ``ValueError``.
    """
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be a real numeric array, got {type(x).__name__}")
    _reject_masked_array(x, name)
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:  # ragged lists, weird objects
        raise ValueError(f"{name} could not be converted to an array: {exc}") from None
    kind = arr.dtype.kind
    if kind == "b":
        raise TypeError(f"{name} must be a real numeric array, got booleans "
                        f"(convert explicitly, e.g. {name}.astype(float))")
    if kind == "c":
        raise TypeError(f"{name} must be real, got complex dtype {arr.dtype}")
    if kind not in _NUMERIC_KINDS:
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    return arr.astype(np.float64, copy=False)


def _reject_masked_array(x, name):
    """Reject ``numpy.ma`` input: ``np.asarray`` would silently drop its mask."""
    if isinstance(x, np.ma.MaskedArray):
        hint = (f" ({name}.filled(-np.inf) masks those classes)"
                if name in ("z", "logits", "scores") else "")
        raise TypeError(f"{name} is a numpy.ma masked array, whose mask would be "
                        f"ignored; pass a plain array{hint}")


def _require_ndim(x, name, min_ndim=1):
    """Reject arrays with fewer than `min_ndim` dimensions (e.g. 0-d scalars)."""
    if x.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s) "
                         f"(a class axis), got a {x.ndim}-d array")


def _reject_empty(x, name, axis=None):
    """Reject an empty array, or an array whose `axis` has length 0."""
    if x.size == 0:
        where = "" if axis is None else f" (shape {x.shape}, axis {axis})"
        raise ValueError(f"{name} is empty{where}")


def _reject_nan(x, name):
    """Reject any NaN entry."""
    if np.isnan(x).any():
        raise ValueError(f"{name} contains NaN")


def _reject_posinf(x, name):
    """Reject any ``+inf`` entry (``-inf`` is allowed)."""
    if (x == np.inf).any():
        raise ValueError(f"{name} contains +inf, which is not a meaningful logit "
                         f"(use -inf to mask a class instead)")


def _reject_nonfinite_above(x, name):
    """Reject NaN and ``+inf`` in one pass over `x` (``-inf`` is allowed).

    ``x < inf`` is False exactly for NaN and ``+inf``; only when that cheap
    test fails do we look again to produce the precise message.
    """
    if not (x < np.inf).all():
        _reject_nan(x, name)
        _reject_posinf(x, name)


def _reject_nonfinite(x, name):
    """Reject NaN and +-inf entries (for arguments such as tangent vectors)."""
    if not np.isfinite(x).all():
        _reject_nan(x, name)
        raise ValueError(f"{name} contains inf; all entries must be finite")


def _finite_range(x, name):
    """Return ``(min, max)`` of `x` as floats, rejecting NaN and ``+inf``.

    Two reductions over the flattened array (NaN propagates through both), so
    the caller gets the value range for free with the NaN check.  ``-inf``
    is allowed (``min`` is then ``-inf``).
    """
    lo = float(np.min(x))
    hi = float(np.max(x))
    if math.isnan(lo) or math.isnan(hi):
        raise ValueError(f"{name} contains NaN")
    if hi == math.inf:
        raise ValueError(f"{name} contains +inf, which is not a meaningful logit "
                         f"(use -inf to mask a class instead)")
    return lo, hi


def _normalize_axis(axis, ndim, name="axis"):
    """Return `axis` as a non-negative int in ``range(ndim)``.

    Raises ``TypeError`` for non-integers (floats, bools, tuples, None) and
    ``ValueError`` for an integer out of range.
    """
    if isinstance(axis, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer, got {axis!r}")
    try:
        ax = operator.index(axis)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {axis!r}") from None
    if not -ndim <= ax < ndim:
        raise ValueError(f"{name}={ax} is out of bounds for an array with {ndim} "
                         f"dimension(s)")
    return ax % ndim


def _real_scalar(value, name, what):
    """Return a real scalar (Python/NumPy number or 0-d array) as a Python float.

    `what` describes the valid values for the messages, e.g. "a finite number
    > 0".  ``TypeError`` for strings, booleans, complex numbers and other
    non-real types; ``ValueError`` for arrays with more than one element.  The
    caller checks the range.
    """
    if isinstance(value, (bool, np.bool_, str, bytes)):
        raise TypeError(f"{name} must be {what}, got {value!r}")
    if isinstance(value, np.ndarray):
        if value.ndim != 0:
            raise ValueError(f"{name} must be a scalar, got an array of shape "
                             f"{value.shape}")
        if value.dtype.kind not in _NUMERIC_KINDS:
            raise TypeError(f"{name} must be {what}, got dtype {value.dtype}")
        value = value[()]
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {what}, got {type(value).__name__}")
    return float(value)


def _positive_finite_scalar(value, name):
    """Return `value` as a Python float, requiring a finite real number > 0.

    Accepts Python/NumPy real scalars and 0-d real arrays.  Raises
    ``TypeError`` for strings, booleans, complex numbers and other types, and
    ``ValueError`` for arrays with more than one element, NaN, infinities and
    values <= 0.
    """
    val = _real_scalar(value, name, "a finite number > 0")
    if not (math.isfinite(val) and val > 0.0):
        raise ValueError(f"{name} must be a finite number > 0, got {val!r}")
    return val


def _check_same_shape(a, b, name_a, name_b):
    """Require ``a.shape == b.shape`` (no broadcasting)."""
    if a.shape != b.shape:
        raise ValueError(f"{name_b} must have the same shape as {name_a}, got "
                         f"{b.shape} and {a.shape}")


def _check_logits(z, name="z", axis=-1):
    """Validate an array of logits and its class axis.

    Returns ``(x, axis, lo, hi)``: `x` a float64 ndarray (at least 1-d, a
    non-empty class axis, no NaN, no ``+inf``), `axis` normalised to a
    non-negative int, and the global ``min``/``max`` of `x` (computed anyway
    by the NaN check; callers use them to detect masked entries and overflow
    risk; both 0.0 for an empty batch, e.g. shape ``(0, K)``, which is
    accepted).
    ``-inf`` entries (masked classes) are allowed here; a slice that is
    *entirely* ``-inf`` must be rejected by the caller with
    :func:`_reject_all_masked` once the row maxima are known (this saves a
    pass over the data).
    """
    x = _as_float_array(z, name)
    _require_ndim(x, name)
    ax = _normalize_axis(axis, x.ndim)
    if x.shape[ax] == 0:
        raise ValueError(f"{name} is empty along its class axis (shape {x.shape}, "
                         f"axis {ax})")
    if x.size == 0:                  # an empty batch: an empty result
        return x, ax, 0.0, 0.0
    lo, hi = _finite_range(x, name)
    return x, ax, lo, hi


def _reject_all_masked(row_max, name, axis=None):
    """Reject if any slice maximum is ``-inf`` (every class masked)."""
    if (row_max == -np.inf).any():
        along = "" if axis is None else f" along axis {axis}"
        raise ValueError(f"{name} has a slice{along} whose entries are all -inf "
                         f"(every class masked); its softmax is undefined")


# ---------------------------------------------------------------------------
# Helpers added for the losses (chapter 2: cross-entropy, label smoothing)
# ---------------------------------------------------------------------------

__all__ += [
    "_choice",
    "_unit_interval_scalar",
    "_integer_at_least",
    "_check_class_indices",
    "_check_probability_rows",
]


def _choice(value, name, options):
    """Return `value` if it is one of the strings `options`.

    ``TypeError`` if `value` is not a string, ``ValueError`` (listing the
    options) if it is an unknown string.
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {', '.join(map(repr, options))}, "
                        f"got {value!r}")
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}, "
                         f"got {value!r}")
    return value


def _unit_interval_scalar(value, name):
    """Return `value` as a Python float in the closed interval [0, 1].

    ``TypeError`` for strings, booleans, complex numbers and other non-real
    types; ``ValueError`` for arrays with more than one element, NaN and
    values outside [0, 1].
    """
    val = _real_scalar(value, name, "a number in [0, 1]")
    if not 0.0 <= val <= 1.0:        # also False for NaN
        raise ValueError(f"{name} must be a number in [0, 1], got {val!r}")
    return val


def _integer_at_least(value, name, minimum):
    """Return `value` as a Python int ``>= minimum``.

    ``TypeError`` for non-integers (floats, booleans, strings, None),
    ``ValueError`` for integers below `minimum`.
    """
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    try:
        val = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {value!r}") from None
    if val < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {val}")
    return val


def _check_class_indices(t, num_classes, name):
    """Validate an integer ndarray `t` of class indices in ``range(num_classes)``.

    The caller has already checked that the dtype is integer (floats are
    *not* accepted as indices: in smoothmax a float target means
    probabilities).  ``ValueError`` names `name` and the offending index.
    """
    if t.size == 0:
        return
    lo = t.min()
    if lo < 0:
        raise ValueError(f"{name} contains the negative class index {int(lo)}; "
                         f"class indices must lie in [0, {num_classes - 1}]")
    hi = t.max()
    if hi >= num_classes:
        raise ValueError(f"{name} contains the class index {int(hi)}, out of range "
                         f"for {num_classes} classes (indices must lie in "
                         f"[0, {num_classes - 1}])")


def _check_probability_rows(y, name, axis, rtol_per_class=1e-6):
    """Validate float64 `y` as probability vectors along `axis`.

    Entries must be finite and ``>= 0``; each slice along `axis` must sum to
    1 within ``rtol_per_class * K`` (K the length of `axis`).  Returns the
    row sums (keepdims).
    """
    if not np.isfinite(y).all():
        _reject_nan(y, name)
        raise ValueError(f"{name} contains inf; probabilities must be finite")
    if (y < 0).any():
        raise ValueError(f"{name} contains negative entries (min {float(y.min())!r}); "
                         f"probabilities must be >= 0")
    K = y.shape[axis]
    s = np.sum(y, axis=axis, keepdims=True)
    tol = rtol_per_class * K
    bad = np.abs(s - 1.0) > tol
    if bad.any():
        worst = float(s[bad].flat[0])
        raise ValueError(f"{name} has a slice along axis {axis} summing to {worst!r}; "
                         f"probability vectors must sum to 1 within {tol:g} "
                         f"(1e-6 * K, K = {K})")
    return s


def _real_param_array(value, name, what):
    """A real parameter that may be a scalar or an array (broadcast by the
    caller), as a float64 ndarray.

    `what` describes the valid values for the messages.  ``TypeError`` for
    strings, booleans, complex numbers and objects; ``ValueError`` for
    ragged input.  The caller checks the range.
    """
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be {what}, got {type(value).__name__}")
    _reject_masked_array(value, name)
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name} could not be converted to an array: {exc}") from None
    if arr.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(f"{name} must be {what}, got dtype {arr.dtype}")
    return arr.astype(np.float64, copy=False)


def _unit_interval_array(value, name):
    """`value` as a float64 array with every entry in [0, 1]."""
    e = _real_param_array(value, name, "a real number or array in [0, 1]")
    if np.isnan(e).any():
        raise ValueError(f"{name} contains NaN; {name} must lie in [0, 1]")
    if e.size and not ((e >= 0.0).all() and (e <= 1.0).all()):
        bad = e[(e < 0.0) | (e > 1.0)].flat[0]
        raise ValueError(f"{name} must lie in [0, 1], got {float(bad)!r}")
    return e


def _check_broadcast(a, b, name_a, name_b):
    """Require that arrays `a` and `b` broadcast together (ValueError naming both)."""
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{name_a} and {name_b} could not be broadcast together: "
                         f"shapes {a.shape} and {b.shape}") from None


def _class_count_array(value, name):
    """`value` as a float64 array of whole numbers >= 2 (class counts)."""
    k = _real_param_array(value, name, "an integer or an array of integers")
    bad = ~np.isfinite(k) | (k != np.floor(k))
    if bad.any():
        raise ValueError(f"{name} must be integers, got {float(k[bad].flat[0])!r}")
    if k.size and (k < 2).any():
        raise ValueError(f"{name} must be >= 2, got {k[k < 2].flat[0]!r}")
    return k
