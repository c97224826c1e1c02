"""Coverage and the pointer-generator for sequence-to-sequence attention.

Derived in chapter 4 of the book (chapters/04_coverage.ipynb), after See,
Liu & Manning (2017), "Get To The Point: Summarization with Pointer-Generator
Networks", and Tu et al. (2016), "Modeling Coverage for Neural Machine
Translation".

An attention matrix ``attn`` has shape ``(..., steps, source_len)``: row ``t``
is the attention distribution :math:`a^t` of decoder step ``t`` over the
source positions (non-negative, summing to 1).  Leading axes are batch axes.
"""

import numpy as np

from ._validation import (
    _as_float_array,
    _check_probability_rows,
    _integer_at_least,
    _reject_empty,
    _reject_masked_array,
    _reject_nonfinite,
    _unit_interval_scalar,
)
from .core import softmax

__all__ = [
    "coverage",
    "coverage_loss",
    "coverage_loss_grad",
    "attention_with_coverage",
    "pointer_generator",
]

_PROB_TOL_PER_CLASS = 1e-6   # attention rows must sum to 1 within 1e-6 * source_len


def _check_attention(attn, name="attn", min_ndim=2):
    """Validate attention rows (last axis) and return a float64 array."""
    a = _as_float_array(attn, name)
    if a.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s), "
                         f"got a {a.ndim}-d array")
    _reject_empty(a, name, -1)
    _check_probability_rows(a, name, -1, _PROB_TOL_PER_CLASS)
    return a


def _exclusive_cumsum(a):
    c = np.zeros_like(a)
    np.cumsum(a[..., :-1, :], axis=-2, out=c[..., 1:, :])
    return c


def coverage(attn):
    r"""Coverage vectors: the attention received by each source position so far.

    Derived in chapter 4 of the book (chapters/04_coverage.ipynb).

    Parameters
    ----------
    attn : array_like, shape (..., steps, source_len)
        Attention distributions, one row per decoder step: entries ``>= 0``,
        each row summing to 1 (within ``1e-6 * source_len``).

    Returns
    -------
    c : ndarray, shape (..., steps, source_len)
        Row ``t`` is :math:`c^t = \sum_{t' < t} a^{t'}`; row 0 is all zeros.

    Raises
    ------
    TypeError
        If `attn` is not real-numeric.
    ValueError
        If `attn` has fewer than 2 dimensions, is empty, contains NaN, inf or
        negative entries, or has a row not summing to 1.

    Notes
    -----
    The sum is *exclusive*: the current step is not included,

    .. math::

        c^t = \sum_{t'=0}^{t-1} a^{t'}, \qquad c^0 = 0,

    so :math:`\sum_i c^t_i = t` (each earlier step contributes a
    distribution).  Including the current step makes the coverage loss
    identically 1 (see chapter 4, "Common mistakes").

    Accuracy: an exclusive cumulative sum in float64, so row t is within about
    t**2 * eps of the exact sum of the earlier rows (eps = 2**-52); the tests
    agree with a step-by-step loop to 1e-14.

    References
    ----------
    .. [1] A. See, P. J. Liu and C. D. Manning, "Get to the point: summarization
       with pointer-generator networks", ACL 2017.
    .. [2] Z. Tu, Z. Lu, Y. Liu, X. Liu and H. Li, "Modeling coverage for neural
       machine translation", ACL 2016.

    Examples
    --------
    >>> import smoothmax as sm
    >>> sm.coverage([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    array([[0. , 0. ],
           [1. , 0. ],
           [1.5, 0.5]])
    """
    a = _check_attention(attn)
    return _exclusive_cumsum(a)


def coverage_loss(attn):
    r"""Per-step coverage loss :math:`\sum_i \min(a_i^t, c_i^t)`.

    Derived in chapter 4 of the book (chapters/04_coverage.ipynb).

    Parameters
    ----------
    attn : array_like, shape (..., steps, source_len)
        Attention distributions, one row per decoder step (see
        :func:`coverage`).

    Returns
    -------
    loss : ndarray, shape (..., steps)
        The loss of each step, in ``[0, 1]``; step 0 always has loss 0.
        See et al. add ``lam * loss[t]`` (``lam = 1``) to the step's
        negative log-likelihood.

    Raises
    ------
    TypeError, ValueError
        As for :func:`coverage`.

    Notes
    -----
    .. math::

        \operatorname{covloss}_t = \sum_i \min(a_i^t, c_i^t)
        \le \sum_i a_i^t = 1,

    the minimum taken position by position and summed over the source
    positions ``i`` (not over the steps).  It is zero when the step attends
    only to positions no earlier step attended to.

    Accuracy: the minimum is exact; summing over the source adds rounding
    of at most source_len * eps relative, on top of the coverage's own; the
    tests agree with a direct loop to 1e-14.

    References
    ----------
    .. [1] A. See, P. J. Liu and C. D. Manning, "Get to the point: summarization
       with pointer-generator networks", ACL 2017.
    .. [2] Z. Tu, Z. Lu, Y. Liu, X. Liu and H. Li, "Modeling coverage for neural
       machine translation", ACL 2016.

    Examples
    --------
    >>> import smoothmax as sm
    >>> sm.coverage_loss([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    array([0. , 0.5, 0.5])
    >>> sm.coverage_loss([[1.0, 0.0], [0.0, 1.0]])   # never returns
    array([0., 0.])
    """
    a = _check_attention(attn)
    c = _exclusive_cumsum(a)
    return np.sum(np.minimum(a, c), axis=-1)


def coverage_loss_grad(attn):
    r"""Gradient of the *total* coverage loss with respect to `attn` (0 at ties).

    Derived in chapter 4 of the book (chapters/04_coverage.ipynb).

    Parameters
    ----------
    attn : array_like, shape (..., steps, source_len)
        Attention distributions (see :func:`coverage`).

    Returns
    -------
    g : ndarray, shape (..., steps, source_len)
        The gradient of :math:`\sum_t \sum_i \min(a_i^t, c_i^t)`, where the
        coverage :math:`c^t` is itself a function of the earlier rows; it
        exists wherever no :math:`a_i^t` equals its :math:`c_i^t`.

    Raises
    ------
    TypeError, ValueError
        As for :func:`coverage`.

    Notes
    -----
    With :math:`c^t` held fixed, :math:`\partial \min(a_i, c_i) / \partial a_i`
    is 1 where :math:`a_i < c_i` and 0 where :math:`a_i > c_i`.  Row
    :math:`a^{t}` also enters every later coverage vector, where
    :math:`\partial \min(a_i^s, c_i^s) / \partial c_i^s` is 1 where
    :math:`c_i^s < a_i^s`.  Hence

    .. math::

        g_i^t = [a_i^t < c_i^t] + \sum_{s > t} [c_i^s < a_i^s].

    The total loss is concave and piecewise linear in `attn` (each term is
    the minimum of two linear functions of it).  At a tie :math:`a_i = c_i`
    it has a kink; this function takes the value 0 for both indicators
    there, a convention: with :math:`c^t` held fixed any value in
    :math:`[0, 1]` is a supergradient component, but for the total loss the
    pair (0, 0) is not a generalised gradient.  Through
    :math:`a = \operatorname{softmax}(e)` the gradient with respect to the
    scores is ``softmax_jvp(e, g)`` (chapter 1).

    Accuracy: exact. Every entry is a count of indicator terms (a small
    whole number), representable exactly in float64.

    References
    ----------
    .. [1] A. See, P. J. Liu and C. D. Manning, "Get to the point: summarization
       with pointer-generator networks", ACL 2017.
    .. [2] Z. Tu, Z. Lu, Y. Liu, X. Liu and H. Li, "Modeling coverage for neural
       machine translation", ACL 2016.

    Examples
    --------
    >>> import smoothmax as sm
    >>> sm.coverage_loss_grad([[0.8, 0.2], [0.5, 0.5]])
    array([[0., 1.],
           [1., 0.]])
    """
    a = _check_attention(attn)
    c = _exclusive_cumsum(a)
    direct = (a < c).astype(np.float64)
    via_cov = (c < a).astype(np.float64)
    # sum over s > t of via_cov[s]: reversed exclusive cumulative sum
    later = _exclusive_cumsum(via_cov[..., ::-1, :])[..., ::-1, :]
    return direct + later


def _vector(x, name, length=None):
    v = _as_float_array(x, name)
    if v.ndim != 1:
        raise ValueError(f"{name} must be 1-d, got shape {v.shape}")
    if length is not None and v.shape[0] != length:
        raise ValueError(f"{name} must have length {length}, got {v.shape[0]}")
    _reject_empty(v, name)
    _reject_nonfinite(v, name)
    return v


def _matrix(x, name, shape):
    m = _as_float_array(x, name)
    if m.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {m.shape}")
    _reject_nonfinite(m, name)
    return m


def attention_with_coverage(encoder_states, decoder_state, coverage, W_h, W_s, w_c, v, b):
    r"""Additive attention with a coverage feature (See et al. 2017, eq. 11).

    Derived in chapter 4 of the book (chapters/04_coverage.ipynb).

    Parameters
    ----------
    encoder_states : array_like, shape (source_len, enc_dim)
        :math:`h_i`, one row per source position.
    decoder_state : array_like, shape (dec_dim,)
        :math:`s_t`.
    coverage : array_like, shape (source_len,)
        :math:`c^t`, finite and ``>= 0`` (it sums to ``t``, not to 1).
    W_h : array_like, shape (attn_dim, enc_dim)
    W_s : array_like, shape (attn_dim, dec_dim)
    w_c : array_like, shape (attn_dim,)
        Multiplies the scalar :math:`c_i^t`.
    v : array_like, shape (attn_dim,)
    b : array_like, shape (attn_dim,)

    Returns
    -------
    scores : ndarray, shape (source_len,)
        :math:`e_i^t` (``+-inf`` only where the exact score exceeds the
        float64 range; the attention is still computed from its exact value).
    attention : ndarray, shape (source_len,)
        :math:`a^t = \operatorname{softmax}(e^t)`.

    Raises
    ------
    TypeError
        If an argument is not real-numeric.
    ValueError
        Naming the argument: wrong number of dimensions or shape, NaN or inf
        entries, negative coverage.

    Notes
    -----
    .. math::

        e_i^t = v^\top \tanh(W_h h_i + W_s s_t + w_c c_i^t + b), \qquad
        a^t = \operatorname{softmax}(e^t).

    Accuracy: the scores are one matrix product and a tanh in float64 (tested
    against the formula evaluated term by term to 1e-13 relative); the
    attention is ``smoothmax.softmax`` of those scores, within 4 ulp of the
    exact softmax of the computed scores.  Inputs up to the float64 maximum
    give no NaN: where the pre-activation overflows, tanh is taken as its
    limit +-1 (the sign from the same sum on inputs scaled by 2**-540).

    References
    ----------
    .. [1] A. See, P. J. Liu and C. D. Manning, "Get to the point: summarization
       with pointer-generator networks", ACL 2017.
    .. [2] Z. Tu, Z. Lu, Y. Liu, X. Liu and H. Li, "Modeling coverage for neural
       machine translation", ACL 2016.

    Examples
    --------
    >>> import numpy as np
    >>> import smoothmax as sm
    >>> h = np.eye(3)
    >>> e, a = sm.attention_with_coverage(h, [0.0], [0.0, 1.0, 0.0], np.eye(3),
    ...                                   np.zeros((3, 1)), [0.0, -5.0, 0.0],
    ...                                   [1.0, 1.0, 1.0], np.zeros(3))
    >>> bool(a[1] < a[0])   # the covered position 1 is penalised
    True
    """
    H = _as_float_array(encoder_states, "encoder_states")
    if H.ndim != 2:
        raise ValueError(f"encoder_states must be 2-d (source_len, enc_dim), "
                         f"got shape {H.shape}")
    _reject_empty(H, "encoder_states")
    _reject_nonfinite(H, "encoder_states")
    L, d_h = H.shape
    s = _vector(decoder_state, "decoder_state")
    c = _vector(coverage, "coverage", L)
    if (c < 0).any():
        raise ValueError(f"coverage contains negative entries (min {float(c.min())!r}); "
                         f"coverage is a sum of attention and must be >= 0")
    v_ = _vector(v, "v")
    d_a = v_.shape[0]
    Wh = _matrix(W_h, "W_h", (d_a, d_h))
    Ws = _matrix(W_s, "W_s", (d_a, s.shape[0]))
    wc = _vector(w_c, "w_c", d_a)
    b_ = _vector(b, "b", d_a)
    with np.errstate(over="ignore", invalid="ignore"):
        features = H @ Wh.T + (Ws @ s + b_) + np.outer(c, wc)
        th = np.tanh(features)
        if not np.isfinite(features).all():
            # a product or sum overflowed (inf, or NaN from inf - inf): there
            # the terms exceed 1.8e308 and tanh is +-1, with the sign of the
            # same sum computed on inputs scaled by 2**-540 (no overflow)
            k = -540
            small = (np.ldexp(H, k) @ np.ldexp(Wh, k).T
                     + (np.ldexp(Ws, k) @ np.ldexp(s, k) + np.ldexp(b_, 2 * k))
                     + np.outer(np.ldexp(c, k), np.ldexp(wc, k)))
            th = np.where(np.isfinite(features), th, np.sign(small))
        scores = th @ v_
        if np.isfinite(scores).all():
            return scores, softmax(scores)
        # sum |v| overflows: scores / 2**k is finite, and the attention is its
        # softmax at temperature 2**-k; the scores themselves overflow to +-inf
        k = d_a.bit_length() + 1
        scaled = th @ np.ldexp(v_, -k)
        return np.ldexp(scaled, k), softmax(scaled, temperature=2.0**-k)


def pointer_generator(p_vocab, attn, source_ids, p_gen, *, extended_vocab_size):
    r"""Final distribution of a pointer-generator over the extended vocabulary.

    Derived in chapter 4 of the book (chapters/04_coverage.ipynb).

    Parameters
    ----------
    p_vocab : array_like, shape (vocab_size,)
        The generator's distribution over the fixed vocabulary.
    attn : array_like, shape (source_len,)
        The attention distribution of the current step over the source.
    source_ids : array_like of int, shape (source_len,)
        The id of each source token in the extended vocabulary, in
        ``[0, extended_vocab_size)``.  Out-of-vocabulary source words have
        ids ``>= vocab_size``.  Repeated ids are allowed (their attention
        adds up).
    p_gen : float
        The generation probability in ``[0, 1]``.
    extended_vocab_size : int
        ``vocab_size`` plus the number of distinct out-of-vocabulary source
        words, at least ``vocab_size``.

    Returns
    -------
    p_final : ndarray, shape (extended_vocab_size,)
        A probability distribution.

    Raises
    ------
    TypeError
        If an argument has the wrong kind (float or boolean `source_ids`,
        non-integer `extended_vocab_size`, non-real `p_gen`).
    ValueError
        Naming the argument: `p_vocab` or `attn` not a distribution (NaN,
        negative entries, not summing to 1), `p_gen` outside ``[0, 1]`` or
        NaN, `source_ids` out of range or of the wrong shape,
        `extended_vocab_size` smaller than ``vocab_size``.

    Notes
    -----
    .. math::

        P(w) = p_{\text{gen}}\, P_{\text{vocab}}(w)
               + (1 - p_{\text{gen}}) \sum_{i:\, w_i = w} a_i ,

    with :math:`P_{\text{vocab}}(w) = 0` for the out-of-vocabulary words.
    It is a distribution: both parts are, and it is their convex mixture.

    Accuracy: each entry is a sum of at most source_len + 1 nonnegative
    products, so its relative error is at most about (source_len + 2) * eps;
    no cancellation can occur.

    References
    ----------
    .. [1] A. See, P. J. Liu and C. D. Manning, "Get to the point: summarization
       with pointer-generator networks", ACL 2017.
    .. [2] Z. Tu, Z. Lu, Y. Liu, X. Liu and H. Li, "Modeling coverage for neural
       machine translation", ACL 2016.

    Examples
    --------
    >>> import smoothmax as sm
    >>> sm.pointer_generator([0.5, 0.5], [0.25, 0.25, 0.5], [1, 2, 1], 0.5,
    ...                      extended_vocab_size=3)
    array([0.25 , 0.625, 0.125])
    """
    pv = _check_attention(p_vocab, "p_vocab", min_ndim=1)
    if pv.ndim != 1:
        raise ValueError(f"p_vocab must be 1-d (vocab_size,), got shape {pv.shape}")
    a = _check_attention(attn, "attn", min_ndim=1)
    if a.ndim != 1:
        raise ValueError(f"attn must be 1-d (source_len,), got shape {a.shape}")
    g = _unit_interval_scalar(p_gen, "p_gen")
    V = pv.shape[0]
    n_ext = _integer_at_least(extended_vocab_size, "extended_vocab_size", V)
    _reject_masked_array(source_ids, "source_ids")
    try:
        ids = np.asarray(source_ids)
    except (ValueError, TypeError) as exc:   # ragged lists
        raise ValueError(f"source_ids could not be converted to an array: {exc}") from None
    if ids.dtype.kind not in "iu":
        raise TypeError(f"source_ids must be integer token ids, got dtype {ids.dtype}")
    if ids.shape != a.shape:
        raise ValueError(f"source_ids must have the same shape as attn, got "
                         f"{ids.shape} and {a.shape}")
    if ids.size and (ids.min() < 0 or ids.max() >= n_ext):
        bad = int(ids.min()) if ids.min() < 0 else int(ids.max())
        raise ValueError(f"source_ids contains the id {bad}, outside the extended "
                         f"vocabulary [0, {n_ext - 1}]")
    out = np.zeros(n_ext)
    out[:V] = g * pv
    np.add.at(out, ids.astype(np.intp), (1.0 - g) * a)
    return out

