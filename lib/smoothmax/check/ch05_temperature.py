"""Checks for the exercises of chapter 5, temperature, the smooth maximum and NormFace."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ..core import log_softmax, logsumexp, softmax
from ..losses import cross_entropy
from ..temperature import normface_loss_bound, normface_scale_for_probability, smooth_max
from ._core import (VALUES_TOLERANCE, Malformed, as_number, call, close, digits_close,
                    digits_tolerance, exercise, first_failure, values_close)

__all__ = ["temp_gap_bound", "temp_distill_code", "temp_slider"]


# ------------------------------------------------------------ gap slope
def _gap_slope_cases():
    rng = np.random.default_rng(505)
    x = np.array([1.0, 2.0, 3.0, 4.0])
    return [("z = (1, 2, 3, 4)", x, T) for T in (0.8, 0.3, 3.0)] + [
        ("z = (1, 2, 3, 4) shifted by 100", x + 100.0, 1.5),
        ("random scores, K = 6", rng.normal(scale=2.0, size=6), 0.5),
        ("random scores, K = 6", rng.normal(scale=2.0, size=6), 12.0),
        ("a tie for the maximum, z = (3, 3, 1)", np.array([3.0, 3.0, 1.0]), 1.0),
    ]


def _gap_slope_reference(z, T):
    """f'(T) = -sum_k a_k log a_k, from the library's softmax and log-softmax."""
    return float(-np.sum(softmax(z, temperature=T) * log_softmax(z, temperature=T)))


def _gap_slope_parts(z, T):
    """(log S, sum_k a_k d_k / T) with d_k = max(z) - z_k: f'(T) is their sum."""
    a = softmax(z, temperature=T)
    log_S = float(smooth_max(z, temperature=T) - np.max(z)) / T
    second = float(np.sum(a * (np.max(z) - z))) / T
    return log_S, second


@exercise("ex-temp-gap-bound",
          tolerance=f"the slope {VALUES_TOLERANCE} at several (z, T); a central difference of "
                    "the gap in T (h ≈ 1e-6 .. 1e-4) passes")
def temp_gap_bound(gap_slope):
    """Check a function ``gap_slope(z, T)``: the derivative in T of the gap T LSE(z/T) - max(z).

    Parameters
    ----------
    gap_slope : function
        Takes one score vector ``z`` (shape ``(K,)``) and a temperature
        ``T > 0`` and returns a number, :math:`f'(T)` for
        :math:`f(T) = T \\operatorname{LSE}(z/T) - \\max_i z_i`.
    """
    if gap_slope is None or gap_slope is Ellipsis:
        raise Malformed("no answer yet: define a function gap_slope(z, T) and pass it in")
    if not callable(gap_slope):
        raise Malformed("pass the function gap_slope itself, not a value: check.temp_gap_bound(gap_slope)")
    for name, z, T in _gap_slope_cases():
        got = call(gap_slope, z.copy(), T, what="gap_slope")
        if got is None:
            raise Malformed("gap_slope returned None: did it forget to `return`?")
        if isinstance(got, np.ndarray) and got.size > 1:
            raise Malformed(f"gap_slope returned an array of shape {got.shape}; it should return one "
                            "number, the slope at temperature T")
        value = as_number(got, "what gap_slope returns")
        expected = _gap_slope_reference(z, T)
        if values_close(value, expected):
            continue
        where = f"at {name}, T = {T:g}"
        log_S, second = _gap_slope_parts(z, T)
        gap = float(smooth_max(z, temperature=T) - np.max(z))
        mistakes = [
            (log_S, "that is only log S, the first term of the product rule: log S depends on T too"),
            (second, "that is only the term from differentiating log S: the product rule on T·log S "
                     "also gives log S itself"),
            (-expected, "the sign is off: the gap grows with T, so its slope is non-negative"),
            (log_S - second, "check the sign of the second term: d/dT e^{−d/T} = (d/T²) e^{−d/T}"),
            (gap, "that is the gap itself; the exercise needs its derivative with respect to T"),
            (float(smooth_max(z, temperature=T)), "that is the smooth maximum T·LSE(z/T), not the slope of the gap"),
            (float(logsumexp(z / T)), "that is LSE(z/T); differentiate T·log S with M = max(z) taken out"),
            (expected / math.log(2), "use the natural logarithm, as in LSE"),
        ]
        for wrong, hint in mistakes:
            if close(value, wrong, rtol=1e-6, atol=1e-12):
                return False, f"{where}: {hint}"
        direction = "too large" if value > expected else "too small"
        return False, (f"{where} the slope is {direction}; write the gap as T log S with "
                       "S = Σ_k exp(−(max z − z_k)/T) and use the product rule")
    return True, ("f'(T) is the entropy of softmax(z/T), which is ≥ 0: the gap never decreases "
                  "as T grows.")


# ------------------------------------------------------------ distillation
def _distill_reference(z, v, labels, T, alpha):
    p = softmax(v, temperature=T)
    return float(alpha * T ** 2 * cross_entropy(z / T, p) + (1 - alpha) * cross_entropy(z, labels))


def _distill_cases():
    rng = np.random.default_rng(606)
    cases = []
    for name, n, K, scale, T, alpha in [("a batch of 8 with K = 5, T = 4, α = 0.7", 8, 5, 2.0, 4.0, 0.7),
                                        ("a batch of 3 with K = 10, T = 20, α = 0.9", 3, 10, 3.0, 20.0, 0.9),
                                        ("one example with K = 4, T = 2.5, α = 0.3", 1, 4, 1.0, 2.5, 0.3),
                                        ("T = 1, α = 0.5", 6, 3, 2.0, 1.0, 0.5),
                                        ("α = 0 (hard labels only), T = 3", 5, 4, 2.0, 3.0, 0.0),
                                        ("α = 1 (soft targets only), T = 3", 5, 4, 2.0, 3.0, 1.0),
                                        ("large logits (spread of a few thousand), T = 2, α = 0.5",
                                         4, 6, 1000.0, 2.0, 0.5)]:
        z = rng.normal(scale=scale, size=(n, K))
        v = rng.normal(scale=scale, size=(n, K))
        labels = rng.integers(K, size=n)
        cases.append((name, z, v, labels, T, alpha))
    return cases


def _distill_mistakes(z, v, labels, T, alpha):
    p = softmax(v, temperature=T)
    soft = float(cross_entropy(z / T, p))
    hard = float(cross_entropy(z, labels))
    n = z.shape[0]
    entropy_p = float(-np.mean(np.sum(p * log_softmax(v, temperature=T), axis=-1)))
    q = softmax(z, temperature=T)
    return [
        (alpha * soft + (1 - alpha) * hard,
         "the factor T² on the soft term is missing: without it the soft gradient shrinks like 1/T²"),
        (alpha * T * soft + (1 - alpha) * hard, "the soft term is scaled by T; it needs T²"),
        (alpha * soft / T ** 2 + (1 - alpha) * hard, "the soft term is divided by T²; it should be multiplied"),
        ((1 - alpha) * T ** 2 * soft + alpha * hard, "α and 1 − α are swapped: α weights the soft term"),
        (alpha * T ** 2 * float(cross_entropy(z, p)) + (1 - alpha) * hard,
         "the student's log-probabilities must be at temperature T too: use z / T in the soft term"),
        (alpha * T ** 2 * float(cross_entropy(z / T, softmax(v))) + (1 - alpha) * hard,
         "the soft targets are the teacher's probabilities at temperature T, softmax(v / T)"),
        (alpha * T ** 2 * soft + (1 - alpha) * float(cross_entropy(z / T, labels)),
         "the hard loss uses the ordinary logits z (temperature 1)"),
        (alpha * T ** 2 * (soft - entropy_p) + (1 - alpha) * hard,
         "that is the KL divergence KL(p‖q); the exercise asks for the cross-entropy C_T = −Σ p log q "
         "(same gradient, a different value)"),
        (alpha * T ** 2 * float(-np.mean(np.sum(q * log_softmax(v, temperature=T), axis=-1)))
         + (1 - alpha) * hard,
         "p and q are swapped in the soft term: the teacher's p is the target, −Σ p log q"),
        (n * (alpha * T ** 2 * soft + (1 - alpha) * hard), "average over the batch instead of summing"),
        (n * alpha * T ** 2 * soft + (1 - alpha) * hard, "average the soft term over the batch too"),
        (alpha * T ** 2 * soft + n * (1 - alpha) * hard, "average the hard term over the batch too"),
    ]


@exercise("ex-temp-distill-code",
          tolerance=f"the loss {VALUES_TOLERANCE} on every test batch")
def temp_distill_code(distill_loss):
    """Check a function ``distill_loss(z, v, labels, T, alpha)``, the batch-mean distillation loss.

    Parameters
    ----------
    distill_loss : function
        Takes student logits ``z`` and teacher logits ``v`` of shape
        ``(n, K)``, integer ``labels`` of shape ``(n,)``, a temperature
        ``T`` and a weight ``alpha`` in [0, 1]; returns one number,
        :math:`\\alpha T^2 C_T + (1 - \\alpha) \\ell(z, y)` averaged over
        the batch.
    """
    if distill_loss is None or distill_loss is Ellipsis:
        raise Malformed("no answer yet: define distill_loss(z, v, labels, T, alpha) and pass it in")
    if not callable(distill_loss):
        raise Malformed("pass the function distill_loss itself, not a value")
    for name, z, v, labels, T, alpha in _distill_cases():
        got = call(distill_loss, z.copy(), v.copy(), labels.copy(), T, alpha, what="distill_loss")
        if isinstance(got, np.ndarray) and got.size > 1:
            raise Malformed(f"on {name} distill_loss returned an array of shape {got.shape}; "
                            "return the batch average, a single number")
        if got is None:
            raise Malformed("distill_loss returned None: did it forget to `return`?")
        value = as_number(got, "what distill_loss returns") if not _non_finite(got) else None
        if value is None:
            return False, (f"on {name} distill_loss returned a value that is not finite: compute "
                           "log-probabilities with smoothmax (cross_entropy, log_softmax), not log(softmax)")
        expected = _distill_reference(z, v, labels, T, alpha)
        if values_close(value, expected):
            continue
        for wrong, hint in _distill_mistakes(z, v, labels, T, alpha):
            if close(value, wrong, rtol=1e-8, atol=1e-12):
                return False, f"on {name}: {hint}"
        direction = "too large" if value > expected else "too small"
        return False, (f"on {name} the loss is {direction}; compare term by term with "
                       "α T² C_T + (1 − α) ℓ(z, y), each averaged over the batch")
    return True, "matches α T² C_T + (1 − α) ℓ(z, y) on batches, at several temperatures and weights."


def _non_finite(x) -> bool:
    try:
        return not math.isfinite(float(np.asarray(x, dtype=float).reshape(())))
    except (TypeError, ValueError):
        return False          # as_number explains what is wrong


# ------------------------------------------------------------ NormFace scales
# The scale grid of the NormFace slider in chapter 5 (its S_GRID).
_S_GRID = (1.0, 2.0, 4.0, 8.0, 12.0, 16.0, 32.0, 64.0)
_PROB = 0.9
_KS = (10, 10575)
_SCALE_DIGITS = 3


def _best_probability(scale, K):
    return float(np.exp(-normface_loss_bound(scale, K)))


def _two_scales(scales):
    if scales is None or scales is Ellipsis:
        raise Malformed("no answer yet: give the two scales, (s for K = 10, s for K = 10575)")
    if isinstance(scales, Mapping):
        missing = [K for K in _KS if K not in scales]
        if missing:
            raise Malformed(f"the dict should have the keys 10 and 10575 (the numbers of classes); "
                            f"{missing[0]} is missing")
        scales = [scales[K] for K in _KS]
    if isinstance(scales, (str, bytes)) or not hasattr(scales, "__len__"):
        raise Malformed("give two scales as a pair (s for K = 10, s for K = 10575)")
    scales = list(np.asarray(scales, dtype=object).ravel()) if isinstance(scales, np.ndarray) else list(scales)
    if len(scales) != 2:
        raise Malformed(f"give two scales, one for K = 10 and one for K = 10575; got {len(scales)}")
    return [as_number(s, f"the scale for K = {K}", strings=True) for s, K in zip(scales, _KS)]


def _scale_message(s, K):
    """None if s is the exact scale or the first sufficient grid value for K; else a hint."""
    exact = float(normface_scale_for_probability(_PROB, K))
    grid = min(g for g in _S_GRID if g >= exact)
    if digits_close(s, exact, _SCALE_DIGITS) or s == grid:
        return None
    if s <= 0:
        return f"K = {K}: a scale is positive"
    if close(s, exact, rtol=1e-2):
        return (f"K = {K}: close, but not to {_SCALE_DIGITS} significant digits; compute it with "
                "smoothmax.normface_scale_for_probability")
    if digits_close(s, exact * K / (K - 1), _SCALE_DIGITS):
        return f"K = {K}: the factor (K − 1)/K of the scale formula is missing"
    p = _best_probability(s, K)
    if s in _S_GRID and p > _PROB:
        return (f"K = {K}: s = {s:g} is enough, but it is not the smallest grid value at which "
                f"exp(-L) exceeds {_PROB:g}")
    if p < _PROB:
        return (f"K = {K}: at s = {s:g}, exp(-L) = {p:.3f} is below {_PROB:g}: not every example can "
                "reach it; the scale must be larger")
    return (f"K = {K}: at s = {s:g}, exp(-L) = {p:.4f} is above {_PROB:g}; the exact scale gives "
            "exactly 0.9")


@exercise("ex-temp-slider",
          tolerance="for each K, either the exact scale " + digits_tolerance(_SCALE_DIGITS)
                    + ", or exactly the smallest value of the slider's grid that reaches p = 0.9")
def temp_slider(scales):
    """Check the NormFace scales for a target probability 0.9 with K = 10 and K = 10575 classes.

    Parameters
    ----------
    scales : pair of numbers, or dict ``{10: s, 10575: s}``
        For each K either the exact scale (to three significant digits,
        ``smoothmax.normface_scale_for_probability``) or the smallest value
        on the slider's grid of scales that reaches it; numbers, SymPy numbers
        or strings such as ``"0.9*log(81)"``.
    """
    values = _two_scales(scales)
    exact = [float(normface_scale_for_probability(_PROB, K)) for K in _KS]
    wrong = [(s, K) for s, K in zip(values, _KS) if _scale_message(s, K) is not None]
    if wrong and len(wrong) == 2 and all(_scale_message(s, K) is None for s, K in zip(values[::-1], _KS)):
        return False, "the two scales are swapped: the first is for K = 10, the second for K = 10575"
    message = first_failure((_scale_message(s, K) is None, _scale_message(s, K) or "")
                            for s, K in zip(values, _KS))
    if message:
        return False, message
    grid = [min(g for g in _S_GRID if g >= e) for e in exact]
    return True, (f"exact scales {exact[0]:.3f} (K = 10) and {exact[1]:.3f} (K = 10575); the first grid "
                  f"values that reach p = 0.9 are {grid[0]:g} and {grid[1]:g}: the scale grows only "
                  "like log K.")
