"""Checks for the exercises of chapter 3, label smoothing."""

from __future__ import annotations

import math

import numpy as np

from .. import losses
from ._core import (VALUE_ATOL, VALUE_RTOL, VALUES_TOLERANCE, Malformed, as_array, as_formula,
                    as_number, call, canonical_symbols, close, compare_arrays, digits_close,
                    digits_tolerance, exercise, is_sympy_object, matching_hint,
                    reject_unknown_functions, values_close)

__all__ = ["ls_prior", "ls_annotated", "ls_slider", "ls_floor"]

# ε may be written eps, epsilon, varepsilon (the chapter's SymPy name) or ε
_EPS_ALIASES = {"epsilon": "eps", "varepsilon": "eps", "\u03b5": "eps", "\u03f5": "eps"}
_NATURAL_LOG = "use the natural logarithm (losses and gaps are in nats)"


def _formula(answer, variables, aliases, what, without_k=""):
    """as_formula after renaming aliases; a symbol K gets its own message, `without_k`."""
    answer = canonical_symbols(answer, aliases, variables)
    if is_sympy_object(answer) and "K" not in variables:
        if any(str(s) == "K" for s in getattr(answer, "free_symbols", ())):
            raise Malformed(f"{what} should not contain K: {without_k}")
    return as_formula(reject_unknown_functions(answer, what), variables, what=what)


def _number(answer, what):
    """as_number (strings read by SymPy), with a message for functions SymPy does not know."""
    return as_number(reject_unknown_functions(answer, what), what, strings=True)


def _has_symbols(answer, variables, aliases) -> bool:
    """Whether `answer` is meant as a formula (a function, or an expression with symbols)."""
    if callable(answer) and not is_sympy_object(answer):
        return True
    answer = canonical_symbols(answer, aliases, variables)
    if isinstance(answer, str):       # SymPy could not read it: let as_formula say so
        return True
    return is_sympy_object(answer) and bool(getattr(answer, "free_symbols", None))


# ----------------------------------------------------------------- ex-ls-prior
_PRIOR_POINTS = [(eps, uy, uk) for eps in (0.05, 0.1, 0.3, 0.7)
                 for uy, uk in ((0.5, 0.3), (0.15, 0.05), (0.2, 0.6), (0.05, 0.5))]


def _prior_gap(eps, u_y, u_k):
    """z_y - z_k at the optimum: the log-ratio of the smoothed target with a 3-class prior."""
    u = np.array([u_y, u_k, 1.0 - u_y - u_k])
    q = (1 - eps) * np.eye(3)[0] + eps * u
    return float(np.log(q[0]) - np.log(q[1]))


@exercise("ex-ls-prior",
          tolerance=f"the gap {VALUES_TOLERANCE} at several points (ε, u(y), u(k)); any exact "
                    "formula passes")
def ls_prior(gap):
    """Check the optimal gap z_y − z_k with a class prior u.

    Parameters
    ----------
    gap : formula in ``eps``, ``u_y`` and ``u_k``
        The gap as a SymPy expression or string in symbols named ``eps`` (or
        ``varepsilon``), ``u_y`` = u(y) and ``u_k`` = u(k), or a function
        ``f(eps, u_y, u_k)``.
    """
    f = _formula(gap, ("eps", "u_y", "u_k"), {**_EPS_ALIASES, "uy": "u_y", "uk": "u_k"},
                 what="the gap, a formula in eps, u_y and u_k",
                 without_k="with a prior, u(k) takes the place of 1/K")
    got = [f(*p) for p in _PRIOR_POINTS]
    want = [_prior_gap(*p) for p in _PRIOR_POINTS]
    if all(values_close(g, w) for g, w in zip(got, want)):
        return True, ("z_y − z_k = log((1 − ε + εu(y)) / (εu(k))): rare classes end up further "
                      "below the target than frequent ones.")
    log = math.log
    hint = matching_hint(got, {
        "the target class also receives its share εu(y) of the smoothing mass":
            [log((1 - e) / (e * uk)) for e, uy, uk in _PRIOR_POINTS],
        "u(y) belongs to the target class y and u(k) to class k; yours are swapped":
            [log((1 - e + e * uk) / (e * uy)) for e, uy, uk in _PRIOR_POINTS],
        "the numerator is the target's probability q'(y), which involves u(y), not u(k)":
            [log((1 - e + e * uk) / (e * uk)) for e, uy, uk in _PRIOR_POINTS],
        "the wrong class k receives εu(k), not u(k)":
            [log((1 - e + e * uy) / uk) for e, uy, uk in _PRIOR_POINTS],
        "that is z_k − z_y; the gap z_y − z_k is positive for small ε": [-w for w in want],
        "logits are log-probabilities up to a common constant: the gap is the log of a ratio":
            [math.exp(w) for w in want],
        _NATURAL_LOG: [w / log(10) for w in want],
    }, rtol=1e-6)
    if hint:
        return False, hint
    if all(close(g, got[0], rtol=1e-12, atol=1e-12) for g in got):
        return False, "the gap depends on ε, u(y) and u(k); yours is a constant"
    for (e, uy, uk), g, w in zip(_PRIOR_POINTS, got, want):
        if not values_close(g, w):
            return False, (f"at ε = {e:g}, u(y) = {uy:g}, u(k) = {uk:g} the gap does not match: "
                           "write q'(y) and q'(k) from the smoothed target and compare their logs")
    return False, "the gap does not match"  # pragma: no cover (some point differs)


# ----------------------------------------------------------------- ex-ls-annotated
def _annotated_reference(target, V, eps, pad):
    """The Annotated Transformer's target, from the library's "others" convention on V - 1 tokens."""
    keep = np.delete(np.arange(V), pad)
    real = target != pad
    q = np.zeros((len(target), V))
    q_real = losses.smooth_labels(np.searchsorted(keep, target[real]), V - 1, eps,
                                  convention="others")
    q[np.ix_(real, keep)] = q_real
    return q


def _annotated_hints(target, V, eps, pad):
    rows = np.arange(len(target))
    is_pad = target == pad

    def fill(off, on, zero_column=True, zero_rows=True):
        q = np.full((len(target), V), float(off))
        q[rows, target] = on
        if zero_column:
            q[:, pad] = 0.0
        if zero_rows:
            q[is_pad] = 0.0
        return q

    uniform = losses.smooth_labels(target, V, eps)
    uniform_masked = uniform.copy()
    uniform_masked[:, pad] = 0.0
    uniform_masked[is_pad] = 0.0
    return {
        "the mass ε is shared by the V − 2 tokens that are neither the target nor padding":
            fill(eps / (V - 1), 1 - eps),
        "the padding column must be 0: padding is never a correct token":
            fill(eps / (V - 2), 1 - eps, zero_column=False),
        "rows whose target is the padding token are ignored: make them all zeros":
            fill(eps / (V - 2), 1 - eps, zero_rows=False),
        "that is the uniform convention (ε/V on every token); the Annotated Transformer puts "
        "exactly 1 − ε on the target and ε/(V − 2) on the other real tokens": uniform,
        "that is the uniform convention with padding removed; the Annotated Transformer puts "
        "exactly 1 − ε on the target and ε/(V − 2) on the other real tokens": uniform_masked,
        "the target token gets exactly 1 − ε, not 1 − ε plus its share of the fill":
            fill(eps / (V - 2), 1 - eps + eps / (V - 2)),
    }


def _annotated_cases():
    rng = np.random.default_rng(37)
    t12 = rng.integers(0, 12, 20)
    t12[[0, 5, 9]] = 7
    t40 = rng.integers(0, 40, 25)
    t40[[3, 4]] = 39
    return [
        ("the worked example (V = 5, padding 0, ε = 0.4)", np.array([2, 1, 0, 3, 3]), 5, 0.4, 0),
        ("V = 12, padding index 7, ε = 0.1", t12, 12, 0.1, 7),
        ("V = 40, padding index 39, ε = 0.25", t40, 40, 0.25, 39),
        ("V = 3, padding index 1, ε = 0.2", np.array([0, 1, 2, 2, 0]), 3, 0.2, 1),
    ]


def _eps_uniform_reference(eps, V):
    """The uniform ε over K = V - 1 tokens whose target equals "others" with `eps`.

    Both targets are affine in ε; matching the off-target probabilities, taken
    from the library, gives the uniform ε.
    """
    K = V - 1
    others_off = losses.smooth_labels(0, K, eps, convention="others")[1]
    uniform_off_per_eps = losses.smooth_labels(0, K, 1.0)[1]
    return float(others_off / uniform_off_per_eps)


_EPS_V_POINTS = [(eps, V) for eps in (0.05, 0.1, 0.3) for V in (4, 5, 12, 37_000)]
_VOCABULARIES = (5, 37_000)
# For V = 37000 the uniform ε differs from 0.1 in the sixth significant digit.
_EPS_DIGITS = 6


def _eps_uniform_hints(points):
    return {
        "that is the map from the uniform ε to the 'others' ε; here you need the inverse":
            [e * (V - 2) / (V - 1) for e, V in points],
        "the real tokens number K = V − 1 (padding is not a class); count with V − 1, not V":
            [e * V / (V - 1) for e, V in points],
        "the same ε gives different targets in the two conventions: match the probabilities "
        "of a wrong token": [e for e, V in points],
    }


def _check_eps_uniform(eps_uniform):
    if isinstance(eps_uniform, np.ndarray) and eps_uniform.shape == (2,):
        eps_uniform = list(eps_uniform)
    if isinstance(eps_uniform, dict) or (isinstance(eps_uniform, (tuple, list))
                                         and len(eps_uniform) == 2):
        if isinstance(eps_uniform, dict):
            missing = [V for V in _VOCABULARIES if V not in eps_uniform]
            if missing:
                raise Malformed("give the uniform ε for V = 5 and V = 37000, e.g. as a dict "
                                "{5: ..., 37000: ...}")
            values = {V: eps_uniform[V] for V in _VOCABULARIES}
        else:
            values = dict(zip(_VOCABULARIES, eps_uniform))
        points = [(0.1, V) for V in _VOCABULARIES]
        got = [_number(values[V], f"the uniform ε for V = {V}") for V in _VOCABULARIES]
        what = "values"
    elif _has_symbols(eps_uniform, ("eps", "V"), _EPS_ALIASES):
        f = _formula(eps_uniform, ("eps", "V"), _EPS_ALIASES,
                     what="the uniform ε, a formula in eps and V",
                     without_k="write the number of real tokens K as V − 1")
        points = _EPS_V_POINTS
        got = [f(e, V) for e, V in points]
        what = "formula"
    else:
        raise Malformed("give the uniform ε as a formula in eps and V, or as a dict "
                        "{5: ..., 37000: ...} for ε = 0.1")
    want = [_eps_uniform_reference(e, V) for e, V in points]
    if what == "values":
        right = [digits_close(g, w, _EPS_DIGITS) for g, w in zip(got, want)]
    else:
        right = [values_close(g, w) for g, w in zip(got, want)]
    if all(right):
        return True, ""
    hint = matching_hint(got, _eps_uniform_hints(points), rtol=1e-9 if what == "formula" else 1e-7)
    if hint:
        return False, hint
    if what == "values":
        for (e, V), g, w, ok in zip(points, got, want, right):
            if not ok:
                if close(g, w, rtol=1e-3):
                    return False, (f"the value for V = {V} is close, but not to {_EPS_DIGITS} "
                                   "significant digits: give more digits")
                return False, (f"the value for V = {V} does not match: match the probability of a "
                               "wrong token in the two conventions, with K = V − 1 tokens")
    return False, ("the formula does not match: match the probability of a wrong token in the two "
                   "conventions, with K = V − 1 real tokens")


@exercise("ex-ls-annotated",
          tolerance=f"each entry of the targets {VALUES_TOLERANCE}; the uniform ε as a formula "
                    f"{VALUES_TOLERANCE} at several (ε, V), or as values "
                    + digits_tolerance(_EPS_DIGITS))
def ls_annotated(at_targets, eps_uniform=None):
    """Check ``at_targets(target, V, eps, padding_idx)`` and the equivalent uniform ε.

    Parameters
    ----------
    at_targets : function
        ``at_targets(target, V, eps, padding_idx)`` with ``target`` an integer array of
        shape ``(N,)``, returning the Annotated Transformer's targets, shape ``(N, V)``.
    eps_uniform : formula or dict
        The ε of the uniform convention over the V − 1 real tokens that gives the same
        target as ε in the Annotated Transformer: a formula in ``eps`` and ``V`` (SymPy,
        string or function ``f(eps, V)``), or a dict ``{5: ..., 37000: ...}`` of values
        for ε = 0.1 (numbers, SymPy numbers or strings such as ``"0.4/3"``).
    """
    for name, target, V, eps, pad in _annotated_cases():
        got = call(at_targets, target.copy(), V, eps, pad, what="at_targets")
        ok, message = compare_arrays(got, _annotated_reference(target, V, eps, pad),
                                     what=f"at_targets on {name}", rtol=VALUE_RTOL, atol=VALUE_ATOL,
                                     hints=_annotated_hints(target, V, eps, pad))
        if not ok:
            arr = as_array(got)
            real = target != pad
            if (arr.shape == (len(target), V) and np.all(np.isfinite(arr))
                    and "differs" in message
                    and not np.allclose(arr[real].sum(axis=1), 1.0, rtol=1e-9)):
                message += "; the rows of real targets should sum to 1"
            return False, message
    if eps_uniform is None:
        return False, ("at_targets is right; now pass the equivalent uniform ε as well (a formula "
                       "in eps and V, or a dict {5: ..., 37000: ...})")
    ok, message = _check_eps_uniform(eps_uniform)
    if not ok:
        return False, message
    return True, ("at_targets matches the 'others' convention on the V − 1 real tokens, and the "
                  "uniform ε is ε(V − 1)/(V − 2): 0.1333 for V = 5, 0.1000027 for V = 37000.")


# ----------------------------------------------------------------- ex-ls-slider
_K_SLIDER = 10


def _others_gap(eps, K=_K_SLIDER):
    return float(losses.optimal_logit_gap(eps, K, convention="others"))


def _others_zero(K=_K_SLIDER):
    """The ε in (0, 1) where the decreasing "others" gap crosses 0 (bisection)."""
    lo, hi = 1e-12, 1.0 - 1e-12
    for _ in range(200):
        mid = (lo + hi) / 2
        if _others_gap(mid, K) > 0:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


_SLIDER_DIGITS = 4


@exercise("ex-ls-slider", tolerance="each number " + digits_tolerance(_SLIDER_DIGITS))
def ls_slider(eps_zero, gap_uniform=None):
    """Check the ε at which the "others" gap is 0 for K = 10, and the uniform gap there.

    Parameters
    ----------
    eps_zero : number
        The smoothing ε at which the optimal gap of the "others" convention is 0, K = 10.
    gap_uniform : number
        The optimal gap of the uniform convention at that ε, K = 10.

    Both may be numbers, SymPy numbers or strings such as ``"log(2)"``.
    """
    e0 = _others_zero()
    value = _number(eps_zero, "the ε where the 'others' gap is 0")
    if not 0 <= value <= 1:
        return False, "ε is a share of the probability mass: it lies between 0 and 1"
    if not digits_close(value, e0, _SLIDER_DIGITS):
        if value == 1:
            return False, ("at ε = 1 the *uniform* gap is 0; the 'others' convention gets there "
                           "sooner: when is 1 − ε equal to ε/(K − 1)?")
        if close(value, e0, rtol=1e-2):
            return False, (f"close, but not to {_SLIDER_DIGITS} significant digits: solve "
                           "1 − ε = ε/(K − 1) exactly")
        if _others_gap(value) > 0:
            return False, (f"at ε = {value:g} the 'others' gap is still positive: look at larger ε")
        return False, f"at ε = {value:g} the 'others' gap is already negative: look at smaller ε"
    if gap_uniform is None:
        return False, "the ε is right; now pass the uniform gap at that ε as the second argument"
    gap = _number(gap_uniform, "the uniform gap")
    want = float(losses.optimal_logit_gap(e0, _K_SLIDER))
    if digits_close(gap, want, _SLIDER_DIGITS):
        return True, (f"the 'others' target is uniform at ε = (K − 1)/K = {e0:.3g}, and the uniform "
                      "gap there is log(19/9), still positive.")
    hint = matching_hint([gap], {
        "that is the 'others' gap at that ε; the question asks for the uniform one": [0.0],
        _NATURAL_LOG: [want / math.log(10)],
        "use the natural logarithm (gaps are in nats, not bits)": [want / math.log(2)],
        "the gap is the logarithm of the ratio q'(y)/q'(k), not the ratio": [math.exp(want)],
        "that is the uniform gap at ε = 0.1, the slider's initial value; evaluate it at the ε "
        "of the first part": [float(losses.optimal_logit_gap(0.1, _K_SLIDER))],
    }, rtol=1e-3, atol=1e-9)
    if hint:
        return False, hint
    if close(gap, want, rtol=1e-2):
        return False, (f"close, but not to {_SLIDER_DIGITS} significant digits: compute it with "
                       "smoothmax.optimal_logit_gap")
    return False, ("the uniform gap does not match: evaluate log(1 + K(1 − ε)/ε), or "
                   "smoothmax.optimal_logit_gap(eps, 10), at that ε")


# ----------------------------------------------------------------- ex-ls-floor
_FLOOR_POINTS = [(2, 0.1), (10, 0.3), (1000, 0.1), (5, 0.05), (100, 0.5), (3, 0.9)]
_IMAGENET = (1000, 0.1)


def _floor(K, eps, convention="uniform"):
    """min_z H(q', softmax(z)) = H(q'): the library's loss at logits log q'."""
    q = losses.smooth_labels(0, K, eps, convention=convention)
    return float(losses.cross_entropy(np.log(q), 0, label_smoothing=eps, convention=convention))


def _floor_wrong(K, eps):
    """Typical wrong floors at (K, eps), by hint."""
    t, o = 1 - eps + eps / K, eps / K
    xlogx = lambda x: x * math.log(x)   # noqa: E731
    right = _floor(K, eps)
    return {
        "that is the floor of the 'others' convention (ε/(K − 1) on each wrong class); the "
        "exercise uses the uniform one, ε/K": _floor(K, eps, "others"),
        "each of the K − 1 wrong classes contributes its own term −(ε/K) log(ε/K)":
            -xlogx(t) - xlogx(o),
        "there are K − 1 wrong classes, not K": -xlogx(t) - K * xlogx(o),
        "in the uniform convention the target class gets 1 − ε + ε/K, not 1 − ε":
            -xlogx(1 - eps) - (K - 1) * xlogx(o),
        "the wrong classes contribute to the entropy too": -xlogx(t),
        "the sign is flipped: an entropy is positive": -right,
        _NATURAL_LOG: right / math.log(2),
        "use the natural logarithm (losses are in nats, not decimal digits)": right / math.log(10),
    }


# The 'others' floor and the one with 1 − ε on the target differ from the
# floor in the fourth and fifth significant digits for K = 1000, ε = 0.1.
_FLOOR_DIGITS = 6


@exercise("ex-ls-floor",
          tolerance="the value for K = 1000, ε = 0.1 " + digits_tolerance(_FLOOR_DIGITS)
                    + f"; a formula in K and ε {VALUES_TOLERANCE} at several (K, ε)")
def ls_floor(floor):
    """Check the smallest value of the smoothed loss (uniform convention).

    Parameters
    ----------
    floor : number or formula
        Either the number for Szegedy et al.'s setting K = 1000, ε = 0.1, or the floor
        as a formula in ``K`` and ``eps`` (SymPy expression, string, or a function
        ``f(K, eps)``).
    """
    variables = ("K", "eps")
    if _has_symbols(floor, variables, _EPS_ALIASES):
        f = _formula(floor, variables, _EPS_ALIASES, what="the floor, a formula in K and eps")
        points = _FLOOR_POINTS
        got = [f(K, e) for K, e in points]
    else:
        points = [_IMAGENET]
        got = [_number(canonical_symbols(floor, _EPS_ALIASES, variables),
                         "the floor for K = 1000, ε = 0.1")]
    want = [_floor(K, e) for K, e in points]
    if len(points) == 1:
        right = digits_close(got[0], want[0], _FLOOR_DIGITS)
    else:
        right = all(values_close(g, w) for g, w in zip(got, want))
    if right:
        value = _floor(*_IMAGENET)
        return True, (f"the floor H(q') is {value:.4f} nats for K = 1000, ε = 0.1: a smoothed "
                      "ImageNet loss around 1 is at the floor, not a sign of underfitting.")
    wrong = [_floor_wrong(K, e) for K, e in points]
    hint = matching_hint(got, {h: [w[h] for w in wrong] for h in wrong[0]},
                         rtol=1e-9 if len(points) > 1 else 2e-6)
    if hint:
        return False, hint
    if all(g == 0 for g in got):
        return False, "the smoothed target is not one-hot, so the loss cannot reach 0"
    if any(g < 0 for g in got):
        return False, "an entropy is never negative"
    if len(points) == 1:
        if close(got[0], want[0], rtol=1e-2):
            return False, (f"close, but not to {_FLOOR_DIGITS} significant digits: give the value "
                           "to full precision, not rounded")
        return False, ("the value does not match: the floor is the entropy H(q') of the smoothed "
                       "target, with 1 − ε + ε/K on the target and ε/K on each other class")
    for (K, e), g, w in zip(points, got, want):
        if not values_close(g, w):
            return False, (f"at K = {K}, ε = {e:g} the formula does not match: the floor is the "
                           "entropy H(q') of the smoothed target")
    return False, "the floor does not match"  # pragma: no cover
