"""Feedback of the chapter 5 exercise checks: right answers pass, typical wrong
answers get their hint, malformed answers get a message, and no message gives
the answer away."""

import math

import numpy as np
import sympy as sp

from _checks import CheckHarness, rounded, truncated
import smoothmax
from smoothmax import check


# ---------------------------------------------------------------- gap slope
def _entropy(z, T):
    a = smoothmax.softmax(z, temperature=T)
    return -np.sum(a * np.log(a))


def _gap_slope_from_the_proof(z, T):
    # f'(T) = log S + sum_k a_k d_k / T
    d = np.max(z) - z
    S = np.sum(np.exp(-d / T))
    return np.log(S) + np.sum(d / T * np.exp(-d / T) / S)


def _central_difference(z, T, h=1e-6):
    return (smoothmax.smooth_max(z, temperature=T + h) - smoothmax.smooth_max(z, temperature=T - h)) / (2 * h)


def _log_S(z, T):
    return (smoothmax.smooth_max(z, temperature=T) - np.max(z)) / T


def _second_term(z, T):
    a = smoothmax.softmax(z, temperature=T)
    return np.sum(a * (np.max(z) - z)) / T


# ---------------------------------------------------------------- distillation
def _distill(z, v, labels, T, alpha):
    p = smoothmax.softmax(v, temperature=T)
    soft = smoothmax.cross_entropy(z / T, p)
    hard = smoothmax.cross_entropy(z, labels)
    return alpha * T ** 2 * soft + (1 - alpha) * hard


def _distill_log_softmax(z, v, labels, T, alpha):
    p = smoothmax.softmax(v, temperature=T)
    soft = -np.mean(np.sum(p * smoothmax.log_softmax(z, temperature=T), axis=1))
    hard = -np.mean(smoothmax.log_softmax(z)[np.arange(len(labels)), labels])
    return float(alpha * T * T * soft + (1 - alpha) * hard)


def _distill_variant(*, t_power=2, swap_alpha=False, z_at_T=True, p_at_T=True, hard_at_T=False,
                     kl=False, reduce=np.mean, swap_pq=False, naive=False):
    def f(z, v, labels, T, alpha):
        a_soft, a_hard = (1 - alpha, alpha) if swap_alpha else (alpha, 1 - alpha)
        p = smoothmax.softmax(v, temperature=T if p_at_T else 1.0)
        logq = smoothmax.log_softmax(z, temperature=T if z_at_T else 1.0)
        if naive:
            logq = np.log(smoothmax.softmax(z, temperature=T))
        if swap_pq:
            p, logq = np.exp(logq), np.log(p)
        soft = -np.sum(p * logq, axis=1)
        if kl:
            soft = soft + np.sum(p * np.log(p), axis=1)
        logits = z / T if hard_at_T else z
        hard = -(np.log(smoothmax.softmax(logits)) if naive else smoothmax.log_softmax(logits))
        hard = hard[np.arange(len(labels)), labels]
        return float(reduce(a_soft * T ** t_power * soft + a_hard * hard))
    return f


# ---------------------------------------------------------------- NormFace
EXACT = [float(smoothmax.normface_scale_for_probability(0.9, K)) for K in (10, 10575)]


RIGHT = [
    (check.temp_gap_bound, _entropy),
    (check.temp_gap_bound, _gap_slope_from_the_proof),
    (check.temp_gap_bound, _central_difference),
    (check.temp_gap_bound, lambda z, T: np.array([_entropy(z, T)])),
    (check.temp_distill_code, _distill),
    (check.temp_distill_code, _distill_log_softmax),
    (check.temp_distill_code, lambda *args: np.asarray(_distill(*args))),   # a 0-d array
    (check.temp_slider, tuple(EXACT)),
    (check.temp_slider, (4, 12)),
    (check.temp_slider, [4.0, EXACT[1]]),
    (check.temp_slider, {10575: 12.0, 10: 4.0}),
    (check.temp_slider, np.array(EXACT)),
    (check.temp_slider, (round(EXACT[0], 4), round(EXACT[1], 3))),
    # more correct forms
    (check.temp_gap_bound, lambda z, T: _central_difference(z, T, h=1e-4)),
    (check.temp_gap_bound, lambda z, T: float(_entropy(z, T))),
    (check.temp_gap_bound, lambda z, T: np.float32(_entropy(z, T))),
    (check.temp_distill_code, lambda *args: float(_distill(*args))),
    (check.temp_distill_code, _distill_variant()),
    (check.temp_slider, (3.955, 11.46)),
    (check.temp_slider, (3.95, 11.5)),
    (check.temp_slider, (rounded(EXACT[0], 3), rounded(EXACT[1], 3))),
    (check.temp_slider, (truncated(EXACT[0], 3), truncated(EXACT[1], 3))),
    (check.temp_slider, ("3.955", "11.46")),
    (check.temp_slider, {10: "0.9*log(81)", 10575: "12"}),
    (check.temp_slider, (sp.Rational(9, 10) * sp.log(81), 12)),
    (check.temp_slider, np.array([3.96, 11.5])),
    (check.temp_slider, [4, 11.46]),
]


# (check, wrong answer, a fragment of the expected hint)
WRONG = [
    (check.temp_gap_bound, _log_S, "only log S"),
    (check.temp_gap_bound, _second_term, "product rule"),
    (check.temp_gap_bound, lambda z, T: -_entropy(z, T), "sign is off"),
    (check.temp_gap_bound, lambda z, T: _log_S(z, T) - _second_term(z, T), "sign of the second term"),
    (check.temp_gap_bound, lambda z, T: smoothmax.smooth_max(z, temperature=T) - np.max(z), "the gap itself"),
    (check.temp_gap_bound, lambda z, T: smoothmax.smooth_max(z, temperature=T), "smooth maximum"),
    (check.temp_gap_bound, lambda z, T: smoothmax.logsumexp(z / T), "LSE(z/T)"),
    (check.temp_gap_bound, lambda z, T: _entropy(z, T) / math.log(2), "natural logarithm"),
    (check.temp_gap_bound, lambda z, T: 2 * _entropy(z, T), "too large"),
    (check.temp_gap_bound, lambda z, T: 0.0, "too small"),
    (check.temp_distill_code, _distill_variant(t_power=0), "factor T² on the soft term is missing"),
    (check.temp_distill_code, _distill_variant(t_power=1), "scaled by T"),
    (check.temp_distill_code, _distill_variant(t_power=-2), "divided by T²"),
    (check.temp_distill_code, _distill_variant(swap_alpha=True), "swapped"),
    (check.temp_distill_code, _distill_variant(z_at_T=False), "z / T"),
    (check.temp_distill_code, _distill_variant(p_at_T=False), "softmax(v / T)"),
    (check.temp_distill_code, _distill_variant(hard_at_T=True), "ordinary logits"),
    (check.temp_distill_code, _distill_variant(kl=True), "KL divergence"),
    (check.temp_distill_code, _distill_variant(swap_pq=True), "p and q are swapped"),
    (check.temp_distill_code, _distill_variant(reduce=np.sum), "instead of summing"),
    (check.temp_distill_code, _distill_variant(naive=True), "not finite"),
    (check.temp_distill_code, lambda *args: 1.01 * _distill(*args), "too large"),
    (check.temp_slider, (12, 4), "swapped"),
    (check.temp_slider, (3.93, 12), "close"),
    (check.temp_slider, (4, 11.36), "close"),
    (check.temp_slider, (2, 12), "must be larger"),
    (check.temp_slider, (4, 8), "must be larger"),
    (check.temp_slider, (8, 12), "not the smallest grid value"),
    (check.temp_slider, (4, 16), "not the smallest grid value"),
    (check.temp_slider, (4, 13.0), "above 0.9"),
    (check.temp_slider, (math.log(81), 12), "factor (K − 1)/K"),
    (check.temp_slider, (4, -1.0), "positive"),
    (check.temp_slider, (float(smoothmax.normface_scale_for_probability(0.99, 10)), 12), "above 0.9"),
]


def _secrets(fn):
    """What no message of a check may say."""
    if fn is check.temp_gap_bound:      # f'(T) is the entropy of softmax(z/T)
        return ["entropy", "-Σ a log a", "−Σ a log a"]
    if fn is check.temp_distill_code:   # the reference values of the cases
        from smoothmax.check.ch05_temperature import _distill_cases, _distill_reference
        return [f"{_distill_reference(*case[1:]):.3g}" for case in _distill_cases()]
    return ["3.955", "3.96", "11.46", "11.5"] + [f"{e:.2f}" for e in EXACT] + [f"{e:.3g}" for e in EXACT]


def _secret_numbers(fn):
    """The expected numbers no message of a check may show to 3 or more digits."""
    if fn is check.temp_distill_code:
        from smoothmax.check.ch05_temperature import _distill_cases, _distill_reference
        return [_distill_reference(*case[1:]) for case in _distill_cases()]
    return EXACT if fn is check.temp_slider else []


def test_the_slider_hints_do_not_name_the_grid_answer():
    for answer in [(2, 12), (8, 12), (4, 8), (4, 16), (4, 13.0)]:
        message = check.temp_slider(answer).message
        wrong_k = 10 if "K = 10:" in message else 10575
        right_grid = {10: "4", 10575: "12"}[wrong_k]
        assert f"s = {right_grid} " not in message and f"try {right_grid}" not in message


# (check, malformed answer, a fragment of the message)
MALFORMED = [
    (check.temp_gap_bound, None, "no answer yet"),
    (check.temp_gap_bound, 0.7, "not a value"),
    (check.temp_gap_bound, lambda z, T: None, "forget to `return`"),
    (check.temp_gap_bound, lambda z, T: 1 / 0, "raised ZeroDivisionError"),
    (check.temp_gap_bound, lambda z: 0.0, "raised TypeError"),
    (check.temp_gap_bound, lambda z, T: smoothmax.softmax(z), "array of shape"),
    (check.temp_gap_bound, lambda z, T: "0.5", "not a string"),
    (check.temp_gap_bound, lambda z, T: float("nan"), "NaN"),
    (check.temp_gap_bound, lambda z, T: float("inf"), "infinite"),
    (check.temp_distill_code, None, "no answer yet"),
    (check.temp_distill_code, 1.5, "not a value"),
    (check.temp_distill_code, lambda z, v, labels, T, alpha: None, "forget to `return`"),
    (check.temp_distill_code, lambda z, v, labels, T, alpha: [1.0, 2.0], "single number"),
    (check.temp_distill_code,
     lambda z, v, labels, T, alpha: smoothmax.cross_entropy(z, labels, reduction="none"), "batch average"),
    (check.temp_distill_code, lambda z, v, labels, T, alpha: "loss", "not a string"),
    (check.temp_distill_code, lambda z, v, labels, T, alpha: np.nan, "not finite"),
    (check.temp_distill_code, lambda z, v, T: 0.0, "raised TypeError"),
    (check.temp_distill_code, lambda z, v, labels, T, alpha: z[5, 5], "raised IndexError"),
    (check.temp_slider, None, "no answer yet"),
    (check.temp_slider, (None, None), "no answer yet"),
    (check.temp_slider, 4.0, "as a pair"),
    (check.temp_slider, "4, 12", "as a pair"),
    (check.temp_slider, (4,), "got 1"),
    (check.temp_slider, (4, 12, 16), "got 3"),
    (check.temp_slider, (4, "12 +"), "could not read"),
    (check.temp_slider, (4, b"12"), "not a string"),
    (check.temp_slider, (4, float("nan")), "NaN"),
    (check.temp_slider, {10: 4}, "10575 is missing"),
    (check.temp_slider, (4, np.array([12.0, 16.0])), "single number"),
]

harness = CheckHarness(texts=_secrets, numbers=_secret_numbers)
test_right_answers_pass = harness.right(RIGHT)
test_wrong_answers_get_their_hint = harness.wrong(WRONG)
test_malformed_answers_get_a_clear_message = harness.malformed(MALFORMED)
test_each_check_states_its_tolerance = harness.tolerances(
    [check.temp_gap_bound, check.temp_distill_code, check.temp_slider])


def test_issue_12_temp_slider_accepts_four_digits_and_the_solutions_3_95():
    """Issue #12, item 10: (3.955, 11.46) was rejected as "not to four significant digits",
    and so was the solution's own "≈ 3.95"."""
    for scales in [(3.955, 11.46), (3.95, 11.46), (3.95, 11.5), (3.95, 12)]:
        feedback = check.temp_slider(scales)
        assert feedback.correct, (scales, feedback)
    assert not check.temp_slider((3.9, 11.46)).correct          # 2 digits only
    assert not check.temp_slider((3.955, 11.0)).correct         # 2 digits only


def test_the_gap_slope_reference_is_the_derivative_of_the_gap():
    from smoothmax.check.ch05_temperature import _gap_slope_cases, _gap_slope_reference
    for _, z, T in _gap_slope_cases():
        assert np.isclose(_gap_slope_reference(z, T), _central_difference(z, T, h=1e-5), rtol=1e-7)


def test_the_grid_is_the_slider_grid_of_chapter_5():
    import json
    from pathlib import Path
    from smoothmax.check.ch05_temperature import _S_GRID
    nb = Path(__file__).resolve().parents[2] / "chapters" / "05_temperature.ipynb"
    text = "\n".join("".join(c["source"]) for c in json.loads(nb.read_text(encoding="utf-8"))["cells"])
    assert "S_GRID = [" + ", ".join(f"{s:.1f}" for s in _S_GRID) + "]" in text
