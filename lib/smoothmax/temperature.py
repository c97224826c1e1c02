r"""Temperature, smooth maxima and the NormFace scale.

Derived in chapter 5 of the book (chapters/05_temperature.ipynb),
"Smoothness and temperature".

* :func:`smooth_max` -- the smooth maximum ``T * LSE(z / T)``, between
  ``max(z)`` and ``max(z) + T log K``.
* :func:`normface_loss_bound` -- a lower bound on the mean softmax
  cross-entropy over balanced classes with logits ``s * cos(theta)``
  (normalised features and class weights, Wang et al. 2017),
  ``log(1 + (K - 1) exp(-s K / (K - 1)))``; attained only by a regular
  simplex, which needs embedding dimension ``d >= K - 1``.
* :func:`normface_scale_for_probability` -- its inverse: the smallest scale
  ``s`` at which every example can reach the target probability `prob`
  (CosFace's bound, H. Wang et al. 2018).
"""

import math

import numpy as np

from ._validation import (
    _class_count_array,
    _as_float_array,
    _check_broadcast,
    _check_logits,
    _positive_finite_scalar,
    _reject_all_masked,
)
from .core import logsumexp

__all__ = [
    "smooth_max",
    "normface_loss_bound",
    "normface_scale_for_probability",
]


def smooth_max(z, axis=-1, *, temperature=1.0):
    r"""The smooth maximum ``T * logsumexp(z / T)`` along `axis`.

    Derived in chapter 5 of the book (chapters/05_temperature.ipynb).

    Parameters
    ----------
    z : array_like
        Real logits, at least 1-d.  ``-inf`` entries (masked classes) are
        allowed; NaN and ``+inf`` are not.
    axis : int, optional
        The class axis to reduce over.  Default: the last axis (``-1``; SciPy's
        ``logsumexp`` defaults to ``axis=None``).
    temperature : float, optional
        ``T > 0``, finite, keyword only (``smooth_max(z, 1)`` means axis 1).
        Small ``T`` gives a value close to ``max(z)``.

    Returns
    -------
    m : ndarray or numpy.float64
        float64, the shape of `z` with `axis` removed.

    Raises
    ------
    TypeError
        If `z` is not a real numeric array or `temperature` not a real number.
    ValueError
        If `z` is empty, contains NaN or ``+inf``, has a slice that is all
        ``-inf``, or if `temperature` is not a finite number > 0 (the message
        names the argument).

    Notes
    -----
    With ``K`` classes along `axis`,

    .. math::

        \max_i z_i \le T \operatorname{LSE}(z / T) \le \max_i z_i + T \log K,

    and the gradient of ``smooth_max`` is ``softmax(z / T)``.  The value is
    computed as ``max(z) + T * LSE((z - max(z)) / T)``: the shifted logits are
    ``<= 0`` with one of them 0, so nothing overflows for any ``T`` (a direct
    ``T * LSE(z / T)`` overflows when ``z / T`` does), and the
    correction term lies in ``[0, T log K]``.  The result is accurate to a few
    units in the last place of ``|max(z)| + T log K`` (the library's
    ``logsumexp`` is accurate to about 1.5 ulp; the shift and the division by
    ``T`` each add one rounding).

    Accuracy: computed as max + T * LSE((z - max)/T) with the
    ``logsumexp`` of chapter 1; the tests agree with T * logsumexp(z/T) to
    1e-13 and with the closed form 3 + log(7)/2 to 1e-15.

    References
    ----------
    .. [1] P. Blanchard, D. J. Higham and N. J. Higham, "Accurately computing the
       log-sum-exp and softmax functions", IMA J. Numer. Anal. 41(4), 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from smoothmax import smooth_max
    >>> z = np.array([1.0, 2.0, 3.0, 4.0])
    >>> print(f"{smooth_max(z):.4f}")
    4.4402
    >>> print(f"{smooth_max(z, temperature=0.1):.6f}")
    4.000005
    >>> print(f"{smooth_max(z, temperature=1e-300):.1f}")
    4.0
    """
    x, ax, lo, hi = _check_logits(z, "z", axis)
    t = _positive_finite_scalar(temperature, "temperature")
    top = np.max(x, axis=ax, keepdims=True)
    _reject_all_masked(top, "z", ax)
    with np.errstate(over="ignore", under="ignore"):
        shifted = (x - top) / t        # <= 0, one entry exactly 0 per slice
    gap = logsumexp(shifted, axis=ax)  # in [0, log K]
    return np.squeeze(top, axis=ax) + t * gap


def normface_loss_bound(scale, num_classes):
    r"""Lower bound on softmax cross-entropy with logits ``scale * cos(theta)``.

    Derived in chapter 5 of the book (chapters/05_temperature.ipynb), after
    Wang et al. (2017), NormFace, Proposition 2, which assumes balanced
    classes and every feature equal to its class weight (the paper's
    ``l**2`` is this `scale`); chapter 5 shows the bound holds for all unit
    features and weights with balanced classes.  It bounds the *mean* loss,
    so ``exp(-bound)`` bounds the geometric mean of the target
    probabilities, not any single example's.

    Parameters
    ----------
    scale : array_like
        The scale ``s > 0`` applied to cosine logits.  ``+inf`` is allowed
        (the bound is then 0).
    num_classes : array_like of int
        ``K >= 2``.  Broadcast against `scale`.

    Returns
    -------
    bound : ndarray or numpy.float64
        ``log(1 + (K - 1) exp(-s K / (K - 1)))``, float64, the broadcast shape.

    Raises
    ------
    TypeError
        If an argument is not real numeric.
    ValueError
        If `scale` contains NaN or values <= 0, `num_classes` contains a
        non-integer or a value below 2, or the shapes of `scale` and
        `num_classes` do not broadcast (the message names the argument).

    Notes
    -----
    The bound is attained only when the ``K`` unit class weights form a regular
    simplex (possible only in dimension ``d >= K - 1``) (pairwise cosine ``-1 / (K - 1)``) and every feature equals its
    class weight: the target logit is ``s``, the others ``-s / (K - 1)``.
    It is computed as ``softplus(u) = logaddexp(0, u)`` with
    ``u = log(K - 1) - s K / (K - 1)``.  For large ``s`` the result is
    about ``exp(u)``, tiny but never flushed to a wrong value until it
    underflows below the smallest subnormal.  The relative error is about
    ``|u|`` ulp (the rounding of ``u`` is amplified by ``d log f / d u <= 1``):
    below ``1e-13`` for ``s < 700`` (the library's tests compare with
    50-digit mpmath).

    Accuracy: within 2e-13 relative of 50-digit mpmath for scales up to 700
    (tests/test_temperature.py); it does not underflow to 0 while the exact
    value is a normal float64.

    References
    ----------
    .. [1] F. Wang, X. Xiang, J. Cheng and A. L. Yuille, "NormFace: L2 hypersphere
       embedding for face verification", ACM Multimedia 2017, Proposition 2.

    Examples
    --------
    >>> from smoothmax import normface_loss_bound
    >>> print(f"{normface_loss_bound(1.0, 10575):.2f}")
    8.27
    >>> print(f"{normface_loss_bound(1000.0, 2):.3e}")
    0.000e+00
    >>> normface_loss_bound([1.0, 10.0], [[10], [100]]).shape
    (2, 2)
    """
    s = _as_float_array(scale, "scale")
    if np.isnan(s).any():
        raise ValueError("scale contains NaN")
    if s.size and (s <= 0).any():
        raise ValueError(f"scale must be > 0, got {float(s[s <= 0].flat[0])!r}")
    k = _class_count_array(num_classes, "num_classes")
    _check_broadcast(s, k, "scale", "num_classes")
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        u = np.log(k - 1.0) - s * (k / (k - 1.0))
        out = np.logaddexp(0.0, u)
    return out[()] if out.ndim == 0 else out


def normface_scale_for_probability(prob, num_classes):
    r"""The smallest scale at which every example can reach target probability `prob`.

    Reaching it also needs a regular simplex of class weights, which fits
    only in embedding dimension ``d >= K - 1``.

    Derived in chapter 5 of the book (chapters/05_temperature.ipynb); the
    formula is CosFace's lower bound on the scale (H. Wang et al. 2018).

    Parameters
    ----------
    prob : array_like
        Target probabilities, each strictly between ``1 / K`` and 1.
    num_classes : array_like of int
        ``K >= 2``.  Broadcast against `prob`.

    Returns
    -------
    scale : ndarray or numpy.float64
        ``s = (K - 1) / K * log((K - 1) p / (1 - p))``, the inverse of
        ``p = 1 / (1 + (K - 1) exp(-s K / (K - 1)))``.

    Raises
    ------
    TypeError
        If an argument is not real numeric.
    ValueError
        If `prob` is NaN or outside the open interval ``(1/K, 1)``,
        `num_classes` is not an integer >= 2, or the shapes of `prob` and
        `num_classes` do not broadcast (the message names the argument).

    Notes
    -----
    With normalised features and weights the logits are ``s cos(theta)``; at
    this ``s``, ``exp(-normface_loss_bound(s, K))`` -- the largest geometric
    mean of the target probabilities over balanced classes -- equals ``p``.
    No single example is bounded by ``p``.
    Below ``p = 1/K`` no positive scale is needed (``s = 0`` already gives the
    uniform ``1/K``).  Computed as
    ``(K - 1)/K * (log(K - 1) + log(p) - log1p(-p))``, accurate to a few ulp
    except where the bracket nearly cancels (``p`` close to ``1/K``).

    Accuracy: within 1e-13 relative of 50-digit mpmath (tested), and it
    inverts :func:`normface_loss_bound` to 1e-12.

    References
    ----------
    .. [1] F. Wang, X. Xiang, J. Cheng and A. L. Yuille, "NormFace: L2 hypersphere
       embedding for face verification", ACM Multimedia 2017, Proposition 2.
    .. [2] H. Wang, Y. Wang, Z. Zhou, X. Ji, D. Gong, J. Zhou, Z. Li and W. Liu,
       "CosFace: Large margin cosine loss for deep face recognition", CVPR 2018
       (arXiv:1801.09414).

    Examples
    --------
    >>> from smoothmax import normface_scale_for_probability, normface_loss_bound
    >>> s = normface_scale_for_probability(0.9, 10575)
    >>> print(f"{s:.3f}")
    11.462
    >>> print(f"{normface_loss_bound(s, 10575):.6f}")  # -log(0.9)
    0.105361
    """
    p = _as_float_array(prob, "prob")
    k = _class_count_array(num_classes, "num_classes")
    if np.isnan(p).any():
        raise ValueError("prob contains NaN")
    _check_broadcast(p, k, "prob", "num_classes")
    p_b, k_b = np.broadcast_arrays(p, k)
    bad = ~((p_b > 1.0 / k_b) & (p_b < 1.0))
    if bad.any():
        i = np.flatnonzero(bad)[0]
        raise ValueError(f"prob must lie strictly between 1/K and 1, got "
                         f"{float(p_b.flat[i])!r} with K = {int(k_b.flat[i])}")
    with np.errstate(divide="ignore"):
        out = (k - 1.0) / k * (np.log(k - 1.0) + np.log(p) - np.log1p(-p))
    return out[()] if out.ndim == 0 else out
