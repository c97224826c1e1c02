"""Softmax, log-softmax, LogSumExp and the softmax Jacobian, computed accurately.

Derived in chapter 1 of the book (chapters/01_softmax.ipynb).

Every function follows the chapter's recipe, along the class axis (``axis=-1``
by default, unlike SciPy's ``axis=None``) and in float64:

1. shift by the maximum ``m``, so every exponent is ``<= 0`` and nothing
   overflows;
2. keep the rounding error of the shift: ``(z - m) / T = d + e`` with ``d``
   the rounded shift and ``e`` its error, recovered exactly by TwoSum (and,
   for ``T != 1``, Dekker's remainder of the division), so that
   ``exp(d + e) = exp(d) * (1 + e)`` to far below one ulp (Blanchard,
   Higham & Higham 2021, see each function's References);
3. the maximum's term is exactly 1, so the normaliser is ``1 + r`` with ``r``
   the ``np.sum`` of the other terms, and its log is ``log1p(r)``.
"""

import numpy as np

from ._validation import (
    _as_float_array, _check_broadcast, _normalize_axis, _positive_finite_scalar,
    _reject_all_masked, _reject_nonfinite, _reject_nonfinite_above, _require_ndim,
)

__all__ = ["logsumexp", "softmax", "log_softmax", "softmax_jacobian", "softmax_jvp"]


def _shift_by(x, m):
    """Knuth's TwoSum of ``a = -m`` and ``b = x``: ``x - m = d + e`` exactly,
    ``d = fl(x - m)``; in place (3 arrays, not 6), `bp` returned as scratch."""
    d = np.subtract(x, m)                     # s = a + b
    bp = np.add(d, m)                         # b' = s - a
    e = np.subtract(d, bp)                    # a' = s - b'
    np.subtract(-m, e, out=e)                 # a - a'
    np.subtract(x, bp, out=bp)                # b - b'
    e += bp
    return d, e, bp


def _split(a):
    """Dekker's split ``a = hi + lo``, each of at most 26 significant bits."""
    c = 134217729.0 * a                       # 2**27 + 1
    return c - (c - a), a - (c - (c - a))


def _two_prod(a, b):
    """``p = fl(a * b)`` and its error: ``a * b = p + err`` exactly (Dekker)."""
    (a_hi, a_lo), (b_hi, b_lo) = _split(a), _split(b)
    p = a * b
    return p, ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo


def _shifted_exp(z, axis, T, keep=False):
    """Validate `z`, then steps 1-3 of the module docstring along `axis`.

    `z` is first made C-contiguous with `axis` last (a view when it already
    is), so that ``np.sum`` is pairwise along the classes and the bits of a
    row do not depend on memory layout or on the other rows; the arrays
    returned have that layout (move `axis` back with ``np.moveaxis``).
    Returns ``(ax, m, idx, d, e, t, r)``: `axis` as an int, the maximum ``m``
    at ``idx`` (keepdims), ``(x - m) / T = d + e`` (``d <= 0``, ``d = e = 0``
    at ``idx``), ``t = exp(d) * (1 + e)`` with ``t = 0`` at ``idx``, and ``r =
    np.sum(t)`` (keepdims); unless `keep`, `t` is written over `d` and ``t e``
    over `e`.  Call inside ``np.errstate(over=..., under=..., invalid=...)``.
    """
    x = _as_float_array(z, "z")
    _require_ndim(x, "z")
    ax = _normalize_axis(axis, x.ndim)
    if x.shape[ax] == 0:
        raise ValueError(f"z is empty along its class axis (shape {x.shape}, axis {ax})")
    x = np.ascontiguousarray(np.moveaxis(x, ax, -1))
    idx = np.argmax(x, axis=-1, keepdims=True)
    m = np.take_along_axis(x, idx, axis=-1)
    _reject_nonfinite_above(m, "z")           # a row with NaN or +inf has it as maximum
    _reject_all_masked(m, "z", ax)
    if T > 1.0:                               # z - m may overflow, (z - m)/T not:
        if np.max(m, initial=-np.inf) - np.min(x, initial=np.inf, where=x > -np.inf) == np.inf:
            x, m, T = x * 0.5, m * 0.5, T * 0.5   # halve all (exact)
    d, e, scratch = _shift_by(x, m)           # x - m = d + e exactly (TwoSum)
    if T != 1.0:
        q = d / T
        if T < 2.0**995:                      # else T's split overflows; e/T is tiny
            p, p_err = _two_prod(q, T)        # q T = p + p_err, d - p exact (Sterbenz)
            e += (d - p) - p_err              # (d + e)/T = q + (e + d - q T)/T
        d = q
        e /= T
    t = np.exp(d, out=None if keep else d)
    t += np.multiply(t, e, out=scratch if keep else e)  # exp(d + e) ~= exp(d) (1 + e)
    np.put_along_axis(t, idx, 0.0, axis=-1)
    r = np.sum(t, axis=-1, keepdims=True)
    if np.isnan(r).any():                     # masked (-inf) or overflowed: exp(d) = 0, e = NaN
        t[np.isnan(t)] = e[np.isnan(e)] = 0.0
        r = np.sum(t, axis=-1, keepdims=True)
    return ax, m, idx, d, e, t, r


def logsumexp(z, axis=-1, *, keepdims=False):
    r"""Log of the sum of exponentials, ``log(sum(exp(z), axis))``, accurately.

    Derived in chapter 1 of the book (chapters/01_softmax.ipynb).

    Parameters
    ----------
    z : array_like
        Real logits, at least 1-d; integers are cast to float64.  ``-inf``
        masks a class (it contributes ``exp(-inf) = 0``); NaN and ``+inf`` are
        rejected.  ``numpy.ma`` masked arrays are rejected (pass
        ``z.filled(-np.inf)``).
    axis : int, optional
        The class axis to reduce over.  Default: the last axis (``-1``; SciPy's
        default is ``axis=None``, all axes).
    keepdims : bool, optional
        Keep the reduced axis with length 1 (keyword only).  Default False.

    Returns
    -------
    lse : ndarray or numpy.float64
        float64, the shape of `z` without `axis` (a scalar for 1-d input), or
        with `axis` of length 1 if `keepdims`.  An empty batch (e.g. shape
        ``(0, K)``) gives an empty result.

    Raises
    ------
    TypeError
        If `z` is not real-numeric (strings, objects, complex, booleans,
        ``numpy.ma``), `axis` is not an integer or `keepdims` not a bool.
    ValueError
        If `z` is 0-d, its class axis is empty, it contains NaN or ``+inf`` or
        a slice along `axis` that is all ``-inf``; if `axis` is out of range.

    See Also
    --------
    log_softmax, softmax, scipy.special.logsumexp

    Notes
    -----
    With :math:`m = \max_i z_i` attained at :math:`i^*` and
    :math:`z_i - m = d_i + e_i` exactly (TwoSum),

    .. math::

        \operatorname{LSE}(z) = m + \operatorname{log1p}(r), \qquad
        r = \sum_{i \ne i^*} e^{d_i}(1 + e_i) \in [0, K - 1].

    Accuracy: ``log1p(r)`` is within about 1.5 ulp of itself (``np.exp``,
    ``np.sum`` and ``np.log1p`` each add their error), and ``m + log1p(r)``
    one rounding.  When :math:`m < 0` and the sum cancels (result near 0),
    the error is bounded absolutely, by ``ulp(result)/2 + 2 *
    ulp(max(|m|, log1p(r)))``.  Measured against 50-digit mpmath on the 256
    hard rows of ``tests/test_accuracy.py`` (outside that cancellation): max
    2.08 ulp, the same as ``scipy.special.logsumexp`` (on a row of near ties
    at ``m = -3``, where the sum partly cancels); a tested bound: no worse
    than SciPy, and 2.5 ulp.

    References
    ----------
    .. [1] P. Blanchard, D. J. Higham and N. J. Higham, IMA J. Numer. Anal.
       41(4), 2311-2330 (2021).

    Examples
    --------
    >>> import numpy as np
    >>> import smoothmax as sm
    >>> round(float(sm.logsumexp([1, 2, 3, 4])), 4)
    4.4402
    >>> float(sm.logsumexp([1000.0, 1000.0]))  # 1000 + log(2), no overflow
    1000.6931471805599
    >>> float(sm.logsumexp([0.0, -np.inf]))
    0.0
    >>> sm.logsumexp(np.zeros((2, 3)), axis=0, keepdims=True).round(4)
    array([[0.6931, 0.6931, 0.6931]])
    """
    if not isinstance(keepdims, (bool, np.bool_)):
        raise TypeError(f"keepdims must be True or False, got {keepdims!r}")
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        ax, m, _, _, _, _, r = _shifted_exp(z, axis, 1.0)
        lse = m + np.log1p(r)
    return np.moveaxis(lse, -1, ax) if keepdims else lse[..., 0][()]


def softmax(z, axis=-1, *, temperature=1.0):
    r"""Softmax ``exp(z/T) / sum(exp(z/T), axis)``, accurately.

    Derived in chapter 1 of the book (chapters/01_softmax.ipynb).

    Parameters
    ----------
    z : array_like
        Real logits, at least 1-d; integers are cast to float64.  ``-inf``
        masks a class (probability exactly 0); NaN and ``+inf`` are rejected,
        and so are ``numpy.ma`` masked arrays (pass ``z.filled(-np.inf)``).
    axis : int, optional
        The class axis.  Default: the last axis (``-1``; SciPy's default is
        ``axis=None``, all axes).
    temperature : float, optional
        ``T > 0``, finite, keyword only.  Computes ``softmax(z / T)``.

    Returns
    -------
    a : ndarray
        float64, the shape of `z`; nonnegative, sums to 1 along `axis`.  An
        empty batch (e.g. shape ``(0, K)``) gives an empty result.

    Raises
    ------
    TypeError
        If `z` is not real-numeric, `axis` is not an integer or `temperature`
        is not a real number.
    ValueError
        If `z` is 0-d, its class axis is empty, it contains NaN or ``+inf`` or
        a slice along `axis` that is all ``-inf``; if `axis` is out of range;
        if `temperature` is not a finite number > 0.

    See Also
    --------
    log_softmax, logsumexp, softmax_jacobian

    Notes
    -----
    With :math:`m = \max_j z_j` at :math:`i^*` and :math:`(z_i - m)/T = d_i
    + e_i`, where :math:`d_i` is rounded and :math:`e_i` its error, recovered
    exactly (TwoSum, and Dekker's remainder of the division for ``T != 1``),

    .. math::

        a_i = \frac{t_i}{1 + r}, \qquad t_i = e^{d_i}(1 + e_i), \qquad
        r = \sum_{i \ne i^*} t_i .

    Without :math:`e_i` the error of :math:`a_i` grows like :math:`|z_i - m|`
    ulps (``scipy.special.softmax`` loses hundreds of ulps on logits spread
    over hundreds of units, e.g. uniform on [-300, 300]; a common offset alone
    costs nothing).  What remains is the error of ``np.exp`` (up to 0.7 ulp,
    in the numerator and, averaged, in the denominator), the rounding of
    ``np.sum`` and three roundings.

    Accuracy: measured against 50-digit mpmath on the 256 hard rows of
    ``tests/test_accuracy.py``: max 3.72 ulp for ``T = 1`` (bound tested: 4;
    on a row of 1000 classes, where ``np.sum`` errs most) and 3.47 ulp for
    ``T`` in {0.3, 0.7, 3.7, 100} (bound tested: 5), where
    ``scipy.special.softmax`` reaches 511 ulp.  For ``T != 1`` the exact
    value is that of the exact real :math:`z / T`.

    References
    ----------
    .. [1] P. Blanchard, D. J. Higham and N. J. Higham, IMA J. Numer. Anal.
       41(4), 2311-2330 (2021).

    Examples
    --------
    >>> import numpy as np
    >>> import smoothmax as sm
    >>> sm.softmax([1, 2, 3, 4]).round(4)
    array([0.0321, 0.0871, 0.2369, 0.6439])
    >>> sm.softmax([1, 2, 3, 4], temperature=10).round(4)
    array([0.2138, 0.2363, 0.2612, 0.2887])
    >>> sm.softmax([1000.0, 1001.0]).round(4)   # the naive formula gives nan
    array([0.2689, 0.7311])
    >>> sm.softmax([0.0, -np.inf, 0.0])
    array([0.5, 0. , 0.5])
    """
    T = _positive_finite_scalar(temperature, "temperature")
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        # (z - m)/T = d + e;  t_i = exp(d_i) (1 + e_i);  r = sum of t_i over i != i*
        ax, _, idx, _, _, t, r = _shifted_exp(z, axis, T)
        np.put_along_axis(t, idx, 1.0, axis=-1)  # the maximum's term: exp(0) = 1
        t /= 1.0 + r                             # a_i = t_i / (1 + r)
    return np.moveaxis(t, -1, ax)


def log_softmax(z, axis=-1, *, temperature=1.0):
    r"""Log of the softmax, ``z/T - logsumexp(z/T)``, accurately.

    Derived in chapter 1 of the book (chapters/01_softmax.ipynb).

    Parameters
    ----------
    z : array_like
        Real logits, at least 1-d; integers are cast to float64.  ``-inf``
        masks a class (log-probability exactly ``-inf``); NaN, ``+inf`` and
        ``numpy.ma`` masked arrays are rejected.
    axis : int, optional
        The class axis.  Default: the last axis (``-1``; SciPy's default is
        ``axis=None``, all axes).
    temperature : float, optional
        ``T > 0``, finite, keyword only.  Computes ``log_softmax(z / T)``.

    Returns
    -------
    log_a : ndarray
        float64, the shape of `z`; every entry ``<= 0``.  An empty batch gives
        an empty result.

    Raises
    ------
    TypeError
        If `z` is not real-numeric, `axis` is not an integer or `temperature`
        is not a real number.
    ValueError
        If `z` is 0-d, its class axis is empty, it contains NaN or ``+inf`` or
        a slice along `axis` that is all ``-inf``; if `axis` is out of range;
        if `temperature` is not a finite number > 0.

    See Also
    --------
    softmax, logsumexp

    Notes
    -----
    With :math:`d_i + e_i = (z_i - m)/T` and :math:`r` as in :func:`softmax`,

    .. math::

        \log a_i = d_i + (e_i - \operatorname{log1p}(r)).

    Both terms are :math:`\le 0`, so nothing cancels, and the maximum's entry
    is :math:`-\operatorname{log1p}(r)` itself (relatively accurate however
    small).  ``log(softmax(z))`` instead would be ``-inf`` wherever a
    probability underflows.

    Accuracy: measured against 50-digit mpmath on the 256 hard rows of
    ``tests/test_accuracy.py``: max 1.30 ulp for ``T = 1`` and 1.46 ulp for
    ``T`` in {0.3, 0.7, 3.7, 100} (bound tested: 1.5), where
    ``scipy.special.log_softmax`` reaches 9e15 ulp (on entries near 0, whose
    probability is near 1).  Nearly all of it is the error of ``log1p(r)``,
    i.e. of ``np.exp`` in the terms; the a-priori bound is about 2 ulp, and
    off the hard rows it is approached: 1.92 ulp on a random Gaussian row at
    ``T = 1``, 1.54 at ``T = 4`` (both tested, bound 2).

    References
    ----------
    .. [1] P. Blanchard, D. J. Higham and N. J. Higham, IMA J. Numer. Anal.
       41(4), 2311-2330 (2021).

    Examples
    --------
    >>> import numpy as np
    >>> import smoothmax as sm
    >>> sm.log_softmax([1, 2, 3, 4]).round(4)
    array([-3.4402, -2.4402, -1.4402, -0.4402])
    >>> sm.log_softmax([0.0, 1000.0])          # log(softmax) gives -inf here
    array([-1000.,     0.])
    >>> sm.log_softmax([0.0, -np.inf])
    array([  0., -inf])
    """
    T = _positive_finite_scalar(temperature, "temperature")
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        ax, _, _, d, e, _, r = _shifted_exp(z, axis, T, keep=True)
        e -= np.log1p(r)                      # log a = d + (e - log1p(r))
        d += e
    return np.moveaxis(d, -1, ax)


def softmax_jacobian(z, *, temperature=1.0):
    r"""Jacobian of ``softmax(z / T)`` with respect to `z`, batched.

    Derived in chapter 1 of the book (chapters/01_softmax.ipynb).

    Parameters
    ----------
    z : array_like, shape (..., K)
        Real logits; the class axis is the *last* axis, leading axes are batch
        axes.  ``-inf`` entries (masked classes) are allowed.
    temperature : float, optional
        ``T > 0``, finite, keyword only.

    Returns
    -------
    J : ndarray, shape (..., K, K)
        float64, ``J[..., i, j] = d softmax(z/T)_i / d z_j``.

    Raises
    ------
    TypeError
        If `z` is not real-numeric or `temperature` is not a real number.
    ValueError
        As for :func:`softmax`.

    See Also
    --------
    softmax_jvp : the product ``J @ v`` without forming ``J``.

    Notes
    -----
    With :math:`a = \operatorname{softmax}(z/T)`,

    .. math::

        J = \frac{1}{T}\left(\operatorname{diag}(a) - a a^\top\right).

    :math:`J` is symmetric positive semi-definite with :math:`J\mathbf{1} =
    0`.  For the largest probability, :math:`1 - a_{i^*} = r / (1 + r)` (no
    cancellation): the diagonal stays accurate even for a nearly one-hot a.

    Accuracy: every entry within 10 ulp (two factors from :func:`softmax`
    and two roundings); measured max 5.4 ulp against 50-digit mpmath.

    References
    ----------
    .. [1] P. Blanchard, D. J. Higham and N. J. Higham, IMA J. Numer. Anal.
       41(4), 2311-2330 (2021).

    Examples
    --------
    >>> import numpy as np
    >>> import smoothmax as sm
    >>> sm.softmax_jacobian([0.0, 0.0])
    array([[ 0.25, -0.25],
           [-0.25,  0.25]])
    """
    T = _positive_finite_scalar(temperature, "temperature")
    a = softmax(z, temperature=T)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        _, _, idx, _, _, _, r = _shifted_exp(z, -1, T)
    one_minus_a = 1.0 - a                     # at the maximum, r/(1 + r): no cancellation
    np.put_along_axis(one_minus_a, idx, r / (1.0 + r), axis=-1)
    J = -(a[..., :, None] * a[..., None, :])
    np.einsum("...ii->...i", J)[...] = a * one_minus_a      # the diagonal
    return J / T if T != 1.0 else J


def softmax_jvp(z, v, *, temperature=1.0):
    r"""Jacobian-vector product ``J @ v`` of ``softmax(z / T)``, in O(K).

    Derived in chapter 1 of the book (chapters/01_softmax.ipynb).

    Parameters
    ----------
    z : array_like, shape (..., K)
        Real logits; the class axis is the last axis.  ``-inf`` entries
        (masked classes) are allowed.
    v : array_like
        Tangent vector(s), finite, with the class axis of `z` (last axis,
        length K) and the other axes broadcastable against `z` (e.g. one
        ``(K,)`` vector for a batch of logits).
    temperature : float, optional
        ``T > 0``, finite, keyword only.

    Returns
    -------
    jv : ndarray
        float64, the broadcast shape of `z` and `v`: ``softmax_jacobian(z) @
        v`` row by row.

    Raises
    ------
    TypeError
        If `z` or `v` is not real-numeric, or `temperature` is not a real number.
    ValueError
        If `z` is invalid (see :func:`softmax`), `v` does not broadcast against
        `z`, its last axis is not K long or it contains NaN or inf, or if
        `temperature` is not a finite number > 0.

    See Also
    --------
    softmax_jacobian

    Notes
    -----
    .. math::

        J v = \frac{1}{T}\, a \odot \left(v - \langle a, v \rangle\right),
        \qquad a = \operatorname{softmax}(z/T).

    :math:`J` is symmetric, so this is also the vector-Jacobian product of
    backpropagation.  Tangents beyond ``2**1000`` are scaled by ``2**-64``
    (exactly) and back, so ``v - <a, v>`` does not overflow.

    Accuracy: absolute error at most ``8 * eps * sum_j a_j |v_j| / T``
    (``eps = 2**-52``; measured 1.2); the subtraction can cancel, so a
    relative bound is impossible.

    References
    ----------
    .. [1] P. Blanchard, D. J. Higham and N. J. Higham, IMA J. Numer. Anal.
       41(4), 2311-2330 (2021).

    Examples
    --------
    >>> import numpy as np
    >>> import smoothmax as sm
    >>> sm.softmax_jvp([0.0, 0.0], [1.0, -1.0])
    array([ 0.5, -0.5])
    >>> sm.softmax_jvp(np.zeros((2, 2)), [1.0, -1.0])   # v broadcasts
    array([[ 0.5, -0.5],
           [ 0.5, -0.5]])
    """
    T = _positive_finite_scalar(temperature, "temperature")
    a = softmax(z, temperature=T)
    vv = _as_float_array(v, "v")
    _check_broadcast(a, vv, "z", "v")
    if vv.ndim == 0 or vv.shape[-1] != a.shape[-1]:
        raise ValueError(f"v must have the class axis of z (last axis, length "
                         f"{a.shape[-1]}), got shape {vv.shape}")
    _reject_nonfinite(vv, "v")
    scale = 2.0**64 if vv.size and np.max(np.abs(vv)) > 2.0**1000 else 1.0
    vv = vv / scale
    jv = a * (vv - np.sum(a * vv, axis=-1, keepdims=True)) / T   # a (v - <a, v>) / T
    return jv * scale                         # dividing by T = 1, scaling by 1: exact
