"""Checks for the exercises of chapter 2, the cross-entropy gradient."""

from __future__ import annotations

import math

import numpy as np

from .. import core, losses
from ._core import (VALUE_ATOL, VALUE_RTOL, VALUES_TOLERANCE, Malformed, as_array, as_formula,
                    as_number, call, canonical_symbols, close, compare_arrays, digits_close,
                    digits_tolerance, exercise, matching_hint, reject_unknown_functions,
                    values_close)

__all__ = ["ce_binary", "ce_unnormalised", "ce_batch", "ce_slider"]


# ----------------------------------------------------------------- ex-ce-binary
# (s, t) points: logits of both signs, targets at the ends and inside [0, 1]
_BINARY_POINTS = [(-3.0, 0.0), (-0.5, 0.3), (0.0, 1.0), (1.2, 0.75), (4.0, 0.5), (2.5, 0.0)]


def _formula(answer, variables, what):
    """as_formula, with a message for functions SymPy does not know (``sigma(s)``)."""
    answer = reject_unknown_functions(canonical_symbols(answer, {}, variables), what)
    return as_formula(answer, variables, what=what)


def _number(answer, what):
    """as_number (strings read by SymPy), with a message for functions SymPy does not know."""
    return as_number(reject_unknown_functions(answer, what), what, strings=True)


_DIGITS = 4          # numbers the student computes: to 4 significant digits


def _sigmoid(s):
    return 1.0 / (1.0 + math.exp(-s))


def _binary_reference(s, t):
    """dl/ds and d2l/ds2 from the library: the case K = 2 with z = (s, 0), y = (t, 1 - t)."""
    z, y = np.array([s, 0.0]), np.array([t, 1.0 - t])
    first = float(losses.cross_entropy_grad(z, y)[0])
    second = float(core.softmax_jacobian(z)[0, 0])
    return first, second


@exercise("ex-ce-binary",
          tolerance=f"both derivatives {VALUES_TOLERANCE} at several points (s, t); any exact "
                    "formula passes, and so do central differences (h ≈ 1e-6 for dℓ/ds, "
                    "h ≈ 1e-4 for a second difference)")
def ce_binary(dl_ds, d2l_ds2=None):
    """Check the first and second derivatives of the binary cross-entropy in the logit ``s``.

    Parameters
    ----------
    dl_ds : formula in ``s`` and ``t``
        dℓ/ds, e.g. ``sp.diff(bce, s)`` with SymPy symbols named ``s`` and ``t``,
        a string such as ``"1/(1 + exp(-s)) - t"`` or a function ``f(s, t)``.
    d2l_ds2 : formula in ``s`` (and ``t``, if you like)
        d²ℓ/ds², in the same forms.
    """
    f1 = _formula(dl_ds, ("s", "t"), what="dℓ/ds, a formula in s and t")
    got = [f1(s, t) for s, t in _BINARY_POINTS]
    want = [_binary_reference(s, t)[0] for s, t in _BINARY_POINTS]
    if not all(values_close(g, w) for g, w in zip(got, want)):
        sig = [_sigmoid(s) for s, _ in _BINARY_POINTS]
        hint = matching_hint(got, {
            "the sign is flipped: the loss falls as s grows when t = 1, so dℓ/ds < 0 there":
                [-w for w in want],
            "that is dℓ/dσ, the derivative in the probability; the chain rule multiplies it by "
            "dσ/ds = σ(1 − σ)":
                [-t / p + (1 - t) / (1 - p) for (s, t), p in zip(_BINARY_POINTS, sig)],
            "the target t is missing: the derivative must vanish where σ(s) = t":
                sig,
        })
        if hint:
            return False, hint
        for (s, t), g, w in zip(_BINARY_POINTS, got, want):
            if not values_close(g, w):
                return False, (f"dℓ/ds is off at s = {s:g}, t = {t:g}: differentiate "
                               "−t log σ(s) − (1 − t) log(1 − σ(s)) with σ′ = σ(1 − σ)")
    if d2l_ds2 is None:
        return False, "dℓ/ds is right; now pass d²ℓ/ds² as the second argument"
    f2 = _formula(d2l_ds2, ("s", "t"), what="d²ℓ/ds², a formula in s (and t)")
    got = [f2(s, t) for s, t in _BINARY_POINTS]
    want = [_binary_reference(s, t)[1] for s, t in _BINARY_POINTS]
    if all(values_close(g, w) for g, w in zip(got, want)):
        return True, ("dℓ/ds = σ(s) − t and d²ℓ/ds² = σ(s)(1 − σ(s)): chapter 2's a − y and J "
                      "for z = (s, 0).")
    hint = matching_hint(got, {
        "the sign is flipped: the loss is convex in s, so d²ℓ/ds² > 0": [-w for w in want],
    })
    if hint:
        return False, hint
    ratios = [g / w for g, w in zip(got, want) if w != 0]
    if ratios and all(close(r, ratios[0], rtol=1e-6) for r in ratios):
        return False, ("d²ℓ/ds² is off by a constant factor: differentiate your dℓ/ds once more "
                       "in s")
    varies_with_t = any(not values_close(f2(s, t), f2(s, 1 - t))
                        for s, t in _BINARY_POINTS)
    if varies_with_t:
        return False, "d²ℓ/ds² should not depend on t: t enters dℓ/ds only as a constant term"
    return False, "d²ℓ/ds² does not match: differentiate your dℓ/ds once more in s"


# ----------------------------------------------------------------- ex-ce-unnormalised
_Y_MULTI = np.array([1.0, 1.0, 0.0, 0.0])


def _unnormalised_grad(z):
    """Gradient of -sum_k y_k log softmax(z)_k for the multi-hot y: s times that of y / s."""
    s = _Y_MULTI.sum()
    return s * losses.cross_entropy_grad(z, _Y_MULTI / s)


def _unnormalised_infimum():
    """The loss (sum y) LSE(z) - y.z where softmax(z) is y / sum(y) (up to e^-800)."""
    z = np.where(_Y_MULTI > 0, 0.0, -800.0)
    return float(_Y_MULTI.sum() * core.logsumexp(z) - _Y_MULTI @ z)


@exercise("ex-ce-unnormalised",
          tolerance=f"(a) each entry of the gradient {VALUES_TOLERANCE} at several logit vectors, "
                    "so a central-difference gradient (h ≈ 1e-6) passes; (b) the infimum "
                    + digits_tolerance(_DIGITS) + ", as a number, a SymPy expression or a string "
                    "such as \"log(2)\"")
def ce_unnormalised(gradient, infimum=None):
    """Check part (a) and (b) for the multi-hot target ``y = (1, 1, 0, 0)``.

    Parameters
    ----------
    gradient : function
        ``gradient(z)`` for logits ``z`` of shape ``(4,)``, returning the gradient of
        ``-sum(y * log(softmax(z)))`` with respect to ``z`` (shape ``(4,)``).
    infimum : number
        The infimum of that loss over all logits (part (b)).
    """
    rng = np.random.default_rng(2)
    cases = [
        ("z = (0.5, −1, 2, 0)", np.array([0.5, -1.0, 2.0, 0.0])),
        ("random logits", rng.normal(scale=2.0, size=4)),
        ("equal logits", np.zeros(4)),
        ("large logits (around 800)", 800.0 + rng.normal(size=4)),
    ]
    for name, z in cases:
        got = call(gradient, z.copy(), what="gradient")
        a = core.softmax(z)
        hints = {
            "that is a − y, the shortcut that assumes the target sums to 1; here the weights sum "
            "to 2 (use the general formula of the gradient theorem)": a - _Y_MULTI,
            "that is the gradient for the normalised target y/2; the loss with y itself is "
            "(Σ y_k) times the normalised loss": a - _Y_MULTI / 2,
            "the sign is flipped: the gradient pushes the target logits down when their "
            "probabilities are too small": -_unnormalised_grad(z),
        }
        ok, message = compare_arrays(got, _unnormalised_grad(z), what=f"the gradient at {name}",
                                     rtol=VALUE_RTOL, atol=VALUE_ATOL, hints=hints)
        if not ok:
            arr = as_array(got)
            if name.startswith("large") and arr.shape == z.shape and not np.all(np.isfinite(arr)):
                message += " (does your softmax subtract the maximum?)"
            elif (arr.shape == z.shape and np.all(np.isfinite(arr))
                  and abs(arr.sum()) > 1e-6 and message.startswith("the gradient at")
                  and "differs" in message):
                message += ("; note that yours does not sum to zero, but the loss is unchanged "
                            "when every logit moves by the same amount")
            return False, message
    if infimum is None:
        return False, "the gradient is right; now pass the infimum of the loss (part (b)) as well"
    value = _number(infimum, "the infimum")
    expected = _unnormalised_infimum()
    if digits_close(value, expected, _DIGITS):
        return True, ("the gradient is 2a − y (it sums to 0), and the loss tends to 2 log 2 as a "
                      "approaches y/2, which no finite z reaches.")
    hint = matching_hint([value], {
        "that is the infimum for the normalised target y/2; with weights summing to 2 the loss "
        "is twice the normalised one": [expected / _Y_MULTI.sum()],
        "use the natural logarithm (the loss is in nats, not bits)": [expected / math.log(2)],
        "use the natural logarithm (the loss is in nats)": [expected / math.log(10)],
    }, rtol=1e-3)
    if hint:
        return False, hint
    if close(value, expected, rtol=1e-2):
        return False, f"close, but not to {_DIGITS} significant digits"
    if value <= 0:
        return False, ("a loss −Σ y_k log a_k with a_k < 1 is positive; and 0 would need "
                       "a_1 = a_2 = 1, but the probabilities sum to 1")
    if value > expected:
        return False, ("the loss gets below that: find the probabilities a where the gradient "
                       "of part (a) vanishes, and evaluate the loss there")
    return False, ("the loss never gets that low: find the probabilities a where the gradient "
                   "of part (a) vanishes, and evaluate the loss there")


# ----------------------------------------------------------------- ex-ce-batch
def _batch_cases():
    rng = np.random.default_rng(2025)
    labels_16 = rng.integers(7, size=16)
    return [
        ("a batch of 16 examples with 7 classes", rng.normal(scale=2.0, size=(16, 7)), labels_16),
        ("a batch of 6 examples with 6 classes", rng.normal(size=(6, 6)),
         np.array([5, 0, 0, 3, 2, 5])),
        ("a single example (N = 1)", rng.normal(size=(1, 4)), np.array([2])),
        ("large logits (around 1000)", 1000.0 + rng.normal(scale=3.0, size=(5, 3)),
         np.array([0, 2, 1, 1, 0])),
    ]


def _batch_hints(Z, labels):
    N, K = Z.shape
    G_sum = losses.cross_entropy_grad(Z, labels, reduction="sum")
    A = core.softmax(Z, axis=-1)
    columns = A.copy()
    columns[:, labels] -= 1.0                       # every row, at every label's column
    A0 = core.softmax(Z, axis=0)
    A0[np.arange(N), labels] -= 1.0
    hints = {
        "that is the gradient of the *sum* of the losses: the mean divides every row by N": G_sum,
        "the sign is flipped: the gradient is (a − y)/N, which lowers the loss when subtracted":
            -G_sum / N,
        "you divided by the number of classes K; the mean is over the N examples": G_sum / K,
        "you divided by N·K: each example's loss is one number, so the mean divides by N only":
            G_sum / (N * K),
        "the one-hot part is missing: subtract 1 at each row's label": A / N,
        "`G[:, labels] -= 1` subtracts 1 at every label's column in every row; pair each row "
        "with its own label (index rows and columns together)": columns / N,
        "softmax must normalise each row (axis=-1, over the classes), not each column": A0 / N,
    }
    if N == K:  # the sum-of-rows vs sum-of-columns confusion is invisible in the shape
        hints.pop("you divided by the number of classes K; the mean is over the N examples")
    if N == 1:  # sum and mean coincide; column indexing is right
        hints = {h: w for h, w in hints.items()
                 if not h.startswith(("that is the gradient of the *sum*", "`G[:,"))}
    return hints


@exercise("ex-ce-batch",
          tolerance=f"each entry of the gradient {VALUES_TOLERANCE} on every test batch; a "
                    "central-difference gradient (h ≈ 1e-6) passes")
def ce_batch(ce_grad_mean):
    """Check a function ``ce_grad_mean(Z, labels)``: the gradient of the mean cross-entropy.

    ``Z`` has shape ``(N, K)`` (logits), ``labels`` is an integer array of shape ``(N,)``;
    the function returns an array of shape ``(N, K)``.
    """
    for name, Z, labels in _batch_cases():
        expected = losses.cross_entropy_grad(Z, labels)  # the mean, as the exercise asks
        try:
            got = call(ce_grad_mean, Z.copy(), labels.copy(), what="ce_grad_mean")
        except Malformed as exc:
            if "broadcast" in str(exc):
                raise Malformed(f"{exc} (on {name}: the one-hot rows need K = Z.shape[1] "
                                "entries, one per class)") from None
            raise
        ok, message = compare_arrays(got, expected, what=f"ce_grad_mean on {name}",
                                     rtol=VALUE_RTOL, atol=VALUE_ATOL, hints=_batch_hints(Z, labels))
        if not ok:
            arr = as_array(got)
            if name.startswith("large") and not np.all(np.isfinite(arr)):
                message += " (does your softmax subtract the maximum?)"
            return False, message
    return True, ("agrees with smoothmax.cross_entropy_grad (the mean) on several batches, one example "
                  "and large logits.")


# ----------------------------------------------------------------- ex-ce-slider
_OTHERS = np.array([0.0, -1.0, -2.0])
_MARGIN = 2.0


def _scaled_loss(scale, target=0, margin=_MARGIN, divide=True):
    z = scale * np.concatenate([[margin], _OTHERS])
    loss = float(losses.cross_entropy(z, target))
    return loss / scale if divide else loss


@exercise("ex-ce-slider", tolerance="each loss " + digits_tolerance(_DIGITS))
def ce_slider(loss_c1, loss_c3=None):
    """Check part (c): the slider's loss ℓ(κz, 1)/κ at margin m = 2, for κ = 1 and κ = 3.

    Parameters
    ----------
    loss_c1, loss_c3 : numbers
        The loss at scale κ = 1 and at scale κ = 3, with the logits
        z = (m, 0, −1, −2) and the target class 1 (the logit m): numbers,
        SymPy expressions or strings such as ``"log(2)/3"``.
    """
    want1, want3 = _scaled_loss(1.0), _scaled_loss(3.0)
    v1 = _number(loss_c1, "the loss at κ = 1")
    wrong_class = {_scaled_loss(1.0, target=k) for k in range(1, 4)}
    if not digits_close(v1, want1, _DIGITS):
        if any(digits_close(v1, w, _DIGITS) for w in wrong_class):
            return False, "the target is class 1, the one whose logit is the margin m (index 0)"
        if (digits_close(v1, want1 / math.log(10), _DIGITS)
                or digits_close(v1, want1 / math.log(2), _DIGITS)):
            return False, "use the natural logarithm (the loss is in nats)"
        if digits_close(v1, want3, _DIGITS):
            return False, "the two values are swapped: the first is the loss at κ = 1"
        if v1 <= 0:
            return False, "cross-entropy is positive at every finite margin"
        if close(v1, want1, rtol=1e-2):
            return False, f"the loss at κ = 1 is close, but not to {_DIGITS} significant digits"
        return False, ("the loss at κ = 1 does not match: at m = 2 the logits are (2, 0, −1, −2) and "
                       "the target is class 1")
    if loss_c3 is None:
        return False, ("the loss at κ = 1 is right; now pass the loss at κ = 3 as the second "
                       "argument")
    v3 = _number(loss_c3, "the loss at κ = 3")
    if digits_close(v3, want3, _DIGITS):
        return True, ("the loss falls from κ = 1 to κ = 3: at a positive margin a larger scale "
                      "hugs the hinge, which is 0 there.")
    hint = matching_hint([v3], {
        "the slider shows ℓ(κz, 1)/κ: divide the loss at scale 3 by κ":
            [_scaled_loss(3.0, divide=False)],
        "the scale multiplies the logits: compute the loss at κ·z": [want1],
        "use the natural logarithm (the loss is in nats)": [want3 / math.log(10)],
    }, rtol=1e-3)
    if hint:
        return False, hint
    if any(digits_close(v3, _scaled_loss(3.0, target=k), _DIGITS) for k in range(1, 4)):
        return False, "the target is class 1, the one whose logit is the margin m (index 0)"
    if close(v3, want3, rtol=1e-2):
        return False, f"the loss at κ = 3 is close, but not to {_DIGITS} significant digits"
    return False, ("the loss at κ = 3 does not match: scale the logits (2, 0, −1, −2) by 3, then "
                   "divide the loss by 3")
