"""Cross-entropy of softmax outputs, its gradient, and label smoothing.

Derived in chapter 2 of the book (chapters/02_cross_entropy.ipynb);
:func:`optimal_logit_gap` in chapter 3 (chapters/03_label_smoothing.ipynb).

The loss is always computed from :func:`smoothmax.log_softmax` (log-sum-exp,
accurate to about 2 ulp), never as ``log(softmax(z))``, which is ``-inf`` as soon as
a probability underflows.  All sums are of non-negative terms, so nothing
cancels and the loss keeps the relative accuracy of ``log_softmax``.

Targets are either integer class indices or float probability vectors: the
dtype decides (a float array is never read as indices).  Label smoothing
comes in the two conventions found in practice (see :func:`smooth_labels`).
"""

import numpy as np

from ._validation import (
    _as_float_array,
    _class_count_array,
    _unit_interval_array,
    _check_class_indices,
    _check_logits,
    _check_probability_rows,
    _check_same_shape,
    _choice,
    _integer_at_least,
    _reject_all_masked,
    _reject_masked_array,
    _unit_interval_scalar,
)
from .core import log_softmax, softmax

__all__ = [
    "cross_entropy",
    "cross_entropy_grad",
    "smooth_labels",
    "optimal_logit_gap",
]

_CONVENTIONS = ("uniform", "others")
_REDUCTIONS = ("none", "mean", "sum")
_PROB_TOL_PER_CLASS = 1e-6   # probability rows must sum to 1 within 1e-6 * K


# ---------------------------------------------------------------------------
# Internals
# ---------------------------------------------------------------------------

def _smoothing_weights(num_classes, eps, convention):
    """Return ``(w_target, w_other)``: the smoothed one-hot target q'.

    The single definition of label smoothing for index targets, used by
    :func:`smooth_labels`, :func:`cross_entropy` and :func:`cross_entropy_grad`:

    * ``"uniform"``: ``q' = (1 - eps) * onehot + eps / K`` on every class;
    * ``"others"``:  the target gets ``1 - eps``, each other class
      ``eps / (K - 1)``.
    """
    if eps == 0.0:
        return 1.0, 0.0
    K = num_classes
    if convention == "uniform":
        w_other = eps / K
        return (1.0 - eps) + w_other, w_other
    return 1.0 - eps, eps / (K - 1)


def _smooth_probabilities(y, eps, num_classes):
    """``(1 - eps) * y + eps / K`` (the "uniform" convention), a new array."""
    if eps == 0.0:
        return y.copy()
    q = y * (1.0 - eps)
    q += eps / num_classes
    return q


def _prepare(logits, target, label_smoothing, convention, axis):
    """Validate everything; return ``(x, ax, kind, t, eps, overflow_possible)``.

    `kind` is ``"index"`` (then `t` is an intp array of the shape of `x`
    without `ax`, with `ax` re-inserted as a length-1 axis) or ``"prob"``
    (then `t` is the float64 target, smoothed if ``eps > 0``).
    """
    x, ax, lo, hi = _check_logits(logits, "logits", axis)
    eps = _unit_interval_scalar(label_smoothing, "label_smoothing")
    convention = _choice(convention, "convention", _CONVENTIONS)
    if lo == -np.inf:        # only then can a slice be entirely masked
        _reject_all_masked(np.max(x, axis=ax), "logits", ax)
    K = x.shape[ax]
    sample_shape = x.shape[:ax] + x.shape[ax + 1:]

    if isinstance(target, (str, bytes)):
        raise TypeError(f"target must be integer class indices or float "
                        f"probabilities, got {type(target).__name__}")
    _reject_masked_array(target, "target")
    try:
        t = np.asarray(target)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"target could not be converted to an array: {exc}") from None
    kind = t.dtype.kind
    if kind in "iu":
        if t.shape != sample_shape:
            raise ValueError(f"target holds class indices (integer dtype), so its "
                             f"shape must be that of logits without axis {ax}, "
                             f"i.e. {sample_shape}; got {t.shape}")
        _check_class_indices(t, K, "target")
        if eps > 0.0 and convention == "others" and K < 2:
            raise ValueError("convention='others' spreads label_smoothing over the "
                             "K - 1 other classes and needs K >= 2; logits has "
                             "K = 1 class")
        t = np.expand_dims(t.astype(np.intp, copy=False), ax)
        return x, ax, "index", t, eps, convention
    if kind == "f":
        if t.shape != x.shape and t.shape == sample_shape:
            raise ValueError(f"target has a float dtype, so it is read as probability "
                             f"vectors and must have the shape of logits {x.shape}; "
                             f"got {t.shape}, the shape of class indices: pass "
                             f"an integer array for class indices")
        y = _as_float_array(t, "target")
        _check_same_shape(x, y, "logits", "target")
        _check_probability_rows(y, "target", ax, _PROB_TOL_PER_CLASS)
        if eps > 0.0 and convention == "others":
            raise ValueError("convention='others' is only defined for class-index "
                             "targets (it needs to know which class is the target); "
                             "use convention='uniform' with probability targets")
        return x, ax, "prob", _smooth_probabilities(y, eps, K), eps, convention
    if kind == "b":
        raise TypeError("target must be integer class indices or float probabilities, "
                        "got booleans (convert explicitly, e.g. target.astype(int))")
    raise TypeError(f"target must be integer class indices or float probabilities, "
                    f"got dtype {t.dtype}")


def _per_sample_loss(x, ax, kind, t, eps, convention):
    """Per-sample losses (keepdims along `ax`), never NaN: 0 * log 0 = 0."""
    if kind == "index" and eps == 0.0:               # -log a_y
        return np.negative(np.take_along_axis(log_softmax(x, axis=ax), t, axis=ax))
    logp = log_softmax(x, axis=ax)
    nl = np.negative(logp, out=logp)                 # -log a_k >= 0, may be +inf
    if kind == "index":
        w_t, w_o = _smoothing_weights(x.shape[ax], eps, convention)
        nl_y = np.take_along_axis(nl, t, axis=ax)    # -log a_y
        if w_o == 0.0:                               # no smoothing: w_t == 1
            return nl_y
        np.put_along_axis(nl, t, 0.0, axis=ax)       # keep the k != y terms
        nl *= w_o
        other = np.sum(nl, axis=ax, keepdims=True)   # w_o * sum_{k != y} -log a_k
        if w_t == 0.0:                               # 'others' with eps = 1
            return other
        nl_y *= w_t
        nl_y += other
        return nl_y
    q = t
    with np.errstate(invalid="ignore"):
        prod = np.multiply(q, nl)
    if np.isinf(nl).any():                           # masked classes:
        prod[q == 0.0] = 0.0                         # 0 * (-log 0) = 0, not NaN
    return np.sum(prod, axis=ax, keepdims=True)


def _cross_entropy_grad_unchecked(logits, q, axis=-1):
    """``softmax(z) * sum_k q_k - q``: gradient of ``-sum_k q_k log_softmax(z)_k``.

    No check on `q` (any finite non-negative weights, not necessarily
    summing to 1): the tests use it to verify the unnormalised identity.
    `logits` is validated by :func:`softmax`.
    """
    q = np.asarray(q, dtype=np.float64)
    a = softmax(logits, axis=axis)
    s = np.sum(q, axis=axis, keepdims=True)
    g = np.multiply(a, s, out=a)
    g -= q
    return g


def _reject_empty_mean(x, ax, reduction):
    """The mean over no samples is undefined: ValueError naming logits."""
    if reduction == "mean" and x.size == 0:
        raise ValueError(f"logits has an empty batch ({x.shape[:ax] + x.shape[ax + 1:]} "
                         f"samples, logits shape {x.shape}): the mean loss over no "
                         f"samples is undefined; use reduction='sum' (0.0) or 'none'")


def _reduce(loss, ax, reduction):
    if reduction == "none":                          # + 0.0: -log 1 is 0.0, not -0.0
        return (np.squeeze(loss, axis=ax) + 0.0)[()]
    if reduction == "sum":
        return np.sum(loss)
    return np.mean(loss)


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------

def smooth_labels(target, num_classes, eps, *, convention="uniform"):
    r"""Label-smoothed one-hot targets :math:`q'` as dense probability vectors.

    Derived in chapter 3 of the book (chapters/03_label_smoothing.ipynb).

    Parameters
    ----------
    target : array_like of int
        Class indices in ``[0, num_classes)``, any shape (a scalar gives one
        vector).  Floats are rejected: in smoothmax floats mean probabilities.
    num_classes : int
        The number of classes K, at least 2.
    eps : float
        The smoothing strength :math:`\varepsilon \in [0, 1]`; 0 gives the
        plain one-hot vectors.
    convention : {"uniform", "others"}, optional
        How the mass :math:`\varepsilon` is spread (see Notes).  Default
        ``"uniform"``.

    Returns
    -------
    q : ndarray, shape ``target.shape + (num_classes,)``
        float64 probability vectors (non-negative, each sums to 1 up to
        rounding).

    Raises
    ------
    TypeError
        If `target` is not an integer array (floats, booleans, strings,
        objects), `num_classes` is not an integer, `eps` is not a real number
        or `convention` is not a string.
    ValueError
        If `target` has an index that is negative or ``>= num_classes``,
        `num_classes` < 2, `eps` is NaN or outside [0, 1], or `convention`
        is unknown.

    See Also
    --------
    cross_entropy : takes ``label_smoothing`` and ``convention`` directly.

    Notes
    -----
    With :math:`y` the target class and :math:`K` classes:

    * ``"uniform"`` (Szegedy et al. [1]_; PyTorch's ``label_smoothing``,
      Keras, optax): :math:`q' = (1 - \varepsilon)\,\mathrm{onehot}(y) +
      \varepsilon / K`, i.e. the target class gets
      :math:`1 - \varepsilon + \varepsilon/K` and every other class
      :math:`\varepsilon / K`;
    * ``"others"`` (fairseq's ``label_smoothed_cross_entropy``): the target
      class gets :math:`1 - \varepsilon` and every other class
      :math:`\varepsilon / (K - 1)`.

    The two are the same family: ``"uniform"`` with :math:`\varepsilon_u`
    equals ``"others"`` with :math:`\varepsilon_o = \varepsilon_u (K-1)/K`.
    Mixing them up changes the target probability by :math:`\varepsilon/K`,
    a classic source of irreproducible results.

    Accuracy: each entry is the correctly rounded quotient or a sum of two
    such (within 1 ulp).

    References
    ----------
    .. [1] C. Szegedy, V. Vanhoucke, S. Ioffe, J. Shlens and Z. Wojna,
       "Rethinking the Inception architecture for computer vision", CVPR
       2016, section 7.
    .. [2] R. Müller, S. Kornblith and G. Hinton, "When does label smoothing
       help?", NeurIPS 2019.

    Examples
    --------
    >>> import smoothmax as sm
    >>> sm.smooth_labels([2, 0], 4, 0.1)
    array([[0.025, 0.025, 0.925, 0.025],
           [0.925, 0.025, 0.025, 0.025]])
    >>> sm.smooth_labels(2, 4, 0.3, convention="others")
    array([0.1, 0.1, 0.7, 0.1])
    """
    K = _integer_at_least(num_classes, "num_classes", 2)
    eps = _unit_interval_scalar(eps, "eps")
    convention = _choice(convention, "convention", _CONVENTIONS)
    if isinstance(target, (str, bytes)):
        raise TypeError(f"target must be integer class indices, got "
                        f"{type(target).__name__}")
    _reject_masked_array(target, "target")
    try:
        t = np.asarray(target)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"target could not be converted to an array: {exc}") from None
    if t.dtype.kind not in "iu":
        raise TypeError(f"target must be integer class indices, got dtype {t.dtype}"
                        f" (floats are not accepted as indices)")
    _check_class_indices(t, K, "target")
    w_t, w_o = _smoothing_weights(K, eps, convention)
    q = np.full(t.shape + (K,), w_o)
    np.put_along_axis(q, t.astype(np.intp)[..., None], w_t, axis=-1)
    return q


def cross_entropy(logits, target, *, label_smoothing=0.0, convention="uniform",
                  reduction="mean", axis=-1):
    r"""Cross-entropy between targets and ``softmax(logits)``, accurately.

    Derived in chapter 2 of the book (chapters/02_cross_entropy.ipynb).

    Parameters
    ----------
    logits : array_like
        Real logits :math:`z`, at least 1-d; `axis` is the class axis, the
        other axes index samples.  ``-inf`` entries mask a class (probability
        0); NaN and ``+inf`` are rejected.
    target : array_like
        Either **class indices**: an *integer* array of the shape of `logits`
        without `axis` (a scalar for 1-d `logits`), entries in ``[0, K)``; or
        **probability vectors**: a *float* array of the shape of `logits`,
        entries ``>= 0``, each slice along `axis` summing to 1 within
        ``1e-6 * K``.  The dtype decides: a float array of whole numbers is
        *not* read as indices.
    label_smoothing : float, optional
        :math:`\varepsilon \in [0, 1]`, default 0 (no smoothing).  The target
        is replaced by :math:`q'` (see :func:`smooth_labels`); for probability
        targets by :math:`(1 - \varepsilon)\,y + \varepsilon/K`, as in PyTorch.
    convention : {"uniform", "others"}, optional
        Label-smoothing convention, see :func:`smooth_labels`.  ``"others"``
        needs class-index targets (and K >= 2).  Ignored when
        ``label_smoothing == 0``.
    reduction : {"mean", "sum", "none"}, optional
        ``"none"``: the per-sample losses, of the shape of `logits` without
        `axis`; ``"mean"`` (default): their mean over all samples (as PyTorch
        without class weights, also for index targets with smoothing);
        ``"sum"``: their sum.
    axis : int, optional
        The class axis.  Default: the last axis (``-1``; SciPy's functions
        default to ``axis=None``).

    Returns
    -------
    loss : numpy.float64 or ndarray
        float64, :math:`\ge 0`.  An empty batch (e.g. logits of shape ``(0,
        K)``) gives an empty array (``"none"``) or 0.0 (``"sum"``); its mean
        is undefined and raises.  ``+inf`` where a target puts mass
        :math:`q_k > 0` on a masked (``-inf``) class: the model gives that
        class probability 0.

    Raises
    ------
    TypeError
        If `logits` is not real-numeric, `logits` or `target` is a
        ``numpy.ma`` masked array (its mask would be ignored; mask a class with
        a ``-inf`` logit instead), `target` is neither an integer nor a
        float array (booleans, strings, objects), `label_smoothing` is not a
        real number, `convention` or `reduction` is not a string, or `axis`
        is not an integer.
    ValueError
        If `logits` is 0-d, its class axis is empty, it contains NaN or
        ``+inf``, or it has a slice
        along `axis` that is entirely ``-inf``; if `axis` is out of range; if
        `target` has the wrong shape, a class index that is negative or
        ``>= K``, or (probabilities) NaN/inf/negative entries or a slice not
        summing to 1 within ``1e-6 * K``; if `label_smoothing` is NaN or
        outside [0, 1]; if `convention` or `reduction` is unknown, or
        ``convention="others"`` is used with probability targets (and
        ``label_smoothing > 0``); if ``reduction="mean"`` and the batch is
        empty.

    See Also
    --------
    cross_entropy_grad, smooth_labels, log_softmax

    Notes
    -----
    For one sample with logits :math:`z \in \mathbb{R}^K`, model
    probabilities :math:`a = \operatorname{softmax}(z)` and target
    :math:`q`,

    .. math::

        \ell(z, q) = -\sum_k q_k \log a_k
                   = -\sum_k q_k \operatorname{log\_softmax}(z)_k
                   = \Big(\sum_k q_k\Big) \operatorname{LSE}(z) - \sum_k q_k z_k .

    For a class index :math:`y` this is :math:`\operatorname{LSE}(z) - z_y`.
    The log-probabilities come from :func:`log_softmax` (the log-sum-exp
    trick), never from ``log(softmax(z))``: for ``z = [0, 1000]`` and
    ``y = 0`` the naive form gives ``inf``, this gives ``1000`` exactly.
    Terms with :math:`q_k = 0` contribute 0 even on a masked class
    (:math:`0 \cdot \log 0 = 0`, not NaN).  With "uniform" smoothing and an
    index target the loss is
    :math:`(1-\varepsilon)(-\log a_y) + \varepsilon \cdot
    \operatorname{mean}_k(-\log a_k)`, computed without forming the dense
    K-vector.

    Accuracy: without smoothing and with an index target the per-sample
    loss is :math:`-\operatorname{log\_softmax}(z)_y`, within about 2 ulp
    (see :func:`log_softmax`).
    Otherwise it is a sum of non-negative terms (no cancellation), within
    about ``(K + 4) * 2**-53`` relative (pairwise summation makes it far
    smaller in practice).  Measured against 50-digit mpmath on hard rows
    (spreads up to 1e3, offsets up to 1e5, magnitudes up to 1e307, K up to
    1000): max 1.0 ulp without smoothing on the rows of
    ``tests/test_losses.py``, 4.4e-16 relative with smoothing or probability
    targets; 1.92 ulp on a random Gaussian row
    (``tests/test_accuracy.py::test_log_softmax_off_the_hard_rows``).
    ``torch.nn.functional.cross_entropy`` (float64) agrees to 5e-16 relative
    for losses above 1 and 3e-16 absolute below; PyTorch's own absolute error
    of a few eps makes small losses differ relatively (it returns 0 for a
    loss of 1e-32, this returns the loss to about 2 ulp).

    References
    ----------
    .. [1] I. Goodfellow, Y. Bengio and A. Courville, *Deep Learning*, MIT
       Press 2016, section 6.2.2.3 (softmax units and the log-likelihood).
    .. [2] P. Blanchard, D. J. Higham and N. J. Higham, "Accurately computing
       the log-sum-exp and softmax functions", IMA J. Numer. Anal. 41(4),
       2311-2330 (2021).
    .. [3] C. Szegedy, V. Vanhoucke, S. Ioffe, J. Shlens and Z. Wojna,
       "Rethinking the Inception architecture for computer vision", CVPR
       2016 (label smoothing).

    Examples
    --------
    >>> import numpy as np
    >>> import smoothmax as sm
    >>> round(float(sm.cross_entropy([[1., 2., 3., 4.]], [3])), 4)  # LSE - z_3
    0.4402
    >>> round(float(sm.logsumexp([1., 2., 3., 4.]) - 4.0), 4)
    0.4402

    Per-sample losses, probability targets, label smoothing:

    >>> z = np.array([[1., 2., 3., 4.], [0., 0., 0., 0.]])
    >>> sm.cross_entropy(z, [3, 1], reduction="none").round(4)
    array([0.4402, 1.3863])
    >>> y = np.array([[0., 0., 0.5, 0.5], [0.25, 0.25, 0.25, 0.25]])
    >>> sm.cross_entropy(z, y, reduction="none").round(4)
    array([0.9402, 1.3863])
    >>> round(float(sm.cross_entropy(z[:1], [3], label_smoothing=0.1)), 4)
    0.5902

    No overflow where ``log(softmax(z))`` gives ``inf``; masked classes:

    >>> float(sm.cross_entropy([0.0, 1000.0], 0))
    1000.0
    >>> float(sm.cross_entropy([0.0, -np.inf, 1.0], 2)) == float(sm.cross_entropy([0.0, 1.0], 1))
    True
    >>> float(sm.cross_entropy([0.0, -np.inf], 1))
    inf
    """
    reduction = _choice(reduction, "reduction", _REDUCTIONS)
    x, ax, kind, t, eps, convention = _prepare(logits, target, label_smoothing,
                                               convention, axis)
    _reject_empty_mean(x, ax, reduction)
    loss = _per_sample_loss(x, ax, kind, t, eps, convention)
    return _reduce(loss, ax, reduction)


def cross_entropy_grad(logits, target, *, label_smoothing=0.0, convention="uniform",
                       reduction="mean", axis=-1):
    r"""Gradient of :func:`cross_entropy` with respect to the logits.

    Derived in chapter 2 of the book (chapters/02_cross_entropy.ipynb).

    Parameters
    ----------
    logits, target, label_smoothing, convention, axis
        As for :func:`cross_entropy`.
    reduction : {"mean", "sum", "none"}, optional
        The reduction of the loss being differentiated, with the same default
        as :func:`cross_entropy`: ``"mean"`` (default) gives the gradient of
        ``cross_entropy(logits, target, reduction="mean", ...)``, i.e. the
        per-sample gradients divided by the number of samples
        ``logits.size // logits.shape[axis]``; ``"sum"`` the gradient of the
        summed loss; ``"none"`` each sample's gradient of its own loss
        (equal to ``"sum"``'s, since a sample's loss depends only on its
        logits).

    Returns
    -------
    grad : ndarray
        float64, the shape of `logits`.  An empty batch gives an empty array,
        also with ``"mean"`` (a gradient with no entries; the mean *loss* of
        an empty batch is undefined and :func:`cross_entropy` raises).

    Raises
    ------
    TypeError, ValueError
        As for :func:`cross_entropy`, except that an empty batch is not an
        error.

    See Also
    --------
    cross_entropy, softmax_jacobian : the Hessian of the per-sample loss.

    Notes
    -----
    With :math:`a = \operatorname{softmax}(z)` and (smoothed) target
    :math:`q`,

    .. math::

        \frac{\partial \ell}{\partial z} = a \sum_k q_k - q = a - q
        \quad \text{when} \ \textstyle\sum_k q_k = 1 .

    Index targets and their smoothed versions sum to 1 exactly, so the
    gradient is :math:`a - q'` (each entry in [-1, 1], entries summing to 0).
    Probability targets are accepted when they sum to 1 within ``1e-6 * K``;
    the general form :math:`a \sum_k q_k - q` is used, which is the exact
    gradient of the loss of the target as given.  The Hessian is the softmax
    Jacobian :math:`\operatorname{diag}(a) - a a^\top` (positive
    semi-definite: the loss is convex in :math:`z`).  On a masked class
    :math:`a_k = 0` and the entry is :math:`-q_k`; where the loss is
    ``+inf`` (mass on a masked class) the returned value is that formula,
    not a derivative.

    For ``reduction="mean"`` each sample's gradient is divided by the number
    of samples :math:`N`: the finite-difference check of chapter 2 then
    compares like with like.

    Accuracy: each entry of a sample's gradient has an absolute error below
    ``4 * 2**-52`` (:func:`softmax` is within 4 ulp of :math:`a \le 1`, then
    one rounding; for probability targets also the rounding of
    :math:`\sum_k q_k`); ``"mean"`` adds the rounding of the division by
    :math:`N`.  A
    relative bound is impossible: when :math:`a \approx q` the subtraction
    cancels.  Measured against 50-digit mpmath on hard rows: max absolute
    error 3.8e-16; PyTorch's autograd (float64) is within 6e-15 of it with
    label smoothing and 4.4e-16 without.

    References
    ----------
    .. [1] I. Goodfellow, Y. Bengio and A. Courville, *Deep Learning*, MIT
       Press 2016, section 6.2.2.3.

    Examples
    --------
    >>> import numpy as np
    >>> import smoothmax as sm
    >>> z = np.array([[1., 2., 3., 4.]])
    >>> sm.cross_entropy_grad(z, [3]).round(4)    # softmax(z) - onehot(3), N = 1
    array([[ 0.0321,  0.0871,  0.2369, -0.3561]])
    >>> sm.cross_entropy_grad(z, [3], label_smoothing=0.1).round(4)
    array([[ 0.0071,  0.0621,  0.2119, -0.2811]])
    >>> Z, y = np.zeros((2, 2)), np.array([0, 1])
    >>> sm.cross_entropy_grad(Z, y)                   # of the mean loss
    array([[-0.25,  0.25],
           [ 0.25, -0.25]])
    >>> sm.cross_entropy_grad(Z, y, reduction="sum")
    array([[-0.5,  0.5],
           [ 0.5, -0.5]])
    """
    reduction = _choice(reduction, "reduction", _REDUCTIONS)
    x, ax, kind, t, eps, convention = _prepare(logits, target, label_smoothing,
                                               convention, axis)
    if kind == "prob":
        g = _cross_entropy_grad_unchecked(x, t, axis=ax)
    else:
        g = softmax(x, axis=ax)
        w_t, w_o = _smoothing_weights(x.shape[ax], eps, convention)
        a_y = np.take_along_axis(g, t, axis=ax)
        if w_o != 0.0:
            g -= w_o
        np.put_along_axis(g, t, a_y - w_t, axis=ax)
    n_samples = x.size // x.shape[ax]
    if reduction == "mean" and n_samples > 1:
        g /= n_samples
    return g


# ---------------------------------------------------------------------------
# Chapter 3: the logit gap at the optimum of the smoothed loss
# ---------------------------------------------------------------------------

def optimal_logit_gap(eps, num_classes, *, convention="uniform"):
    r"""The logit gap :math:`z_y - z_k` at the minimum of the smoothed loss.

    Derived in chapter 3 of the book (chapters/03_label_smoothing.ipynb).

    With label smoothing of strength :math:`\varepsilon` the expected loss
    :math:`H(q', \operatorname{softmax}(z))` is minimised where
    :math:`\operatorname{softmax}(z) = q'`; there every non-target logit is
    the same and the target logit exceeds it by this gap.  Without smoothing
    (:math:`\varepsilon = 0`) there is no minimiser: the loss keeps
    decreasing as the gap grows, and the function returns ``inf``.

    Parameters
    ----------
    eps : array_like of float
        Smoothing strength(s) :math:`\varepsilon \in [0, 1]`.
    num_classes : array_like of int
        Number(s) of classes :math:`K \ge 2`.  Integer arrays, or floats
        holding whole numbers.  Broadcast against `eps`.
    convention : {"uniform", "others"}, optional
        ``"uniform"`` (default; PyTorch, Keras, optax, Szegedy et al.): the
        target gets :math:`1 - \varepsilon + \varepsilon/K`, every other class
        :math:`\varepsilon/K`.  ``"others"`` (fairseq): the target gets
        :math:`1 - \varepsilon`, every other class
        :math:`\varepsilon/(K - 1)`.  See :func:`smooth_labels`.

    Returns
    -------
    gap : numpy.float64 or ndarray
        :math:`\log(q'_y / q'_k)`, float64, of the broadcast shape of `eps`
        and `num_classes` (a scalar for scalar inputs).

    Raises
    ------
    TypeError
        If `eps` or `num_classes` is not real-numeric (strings, booleans,
        objects, complex numbers), or `convention` is not a string.
    ValueError
        If `eps` has an entry that is NaN or outside [0, 1]; if
        `num_classes` has an entry below 2 or not a whole number (e.g. 2.5,
        NaN, inf); if `convention` is unknown; if the shapes do not
        broadcast.

    See Also
    --------
    smooth_labels : the smoothed targets :math:`q'` themselves.
    cross_entropy_grad : vanishes at logits with this gap.

    Notes
    -----
    .. math::

        \text{uniform:}\quad
        \log\frac{1 - \varepsilon + \varepsilon/K}{\varepsilon/K}
        = \log\Bigl(1 + \frac{K(1 - \varepsilon)}{\varepsilon}\Bigr),
        \qquad
        \text{others:}\quad
        \log\frac{(1 - \varepsilon)(K - 1)}{\varepsilon} .

    Both are ``inf`` at :math:`\varepsilon = 0` and decrease with
    :math:`\varepsilon`.  The ``"uniform"`` gap is positive for
    :math:`\varepsilon < 1` and 0 at :math:`\varepsilon = 1`, where the
    target is the uniform distribution.  The ``"others"`` gap is 0 at
    :math:`\varepsilon = (K-1)/K` (the target probability equals the others':
    again the uniform distribution), *negative* beyond (the target class
    gets less mass than each other class, so the optimal model ranks it
    last), and ``-inf`` at :math:`\varepsilon = 1`, where the target
    probability is 0 and, as at :math:`\varepsilon = 0`, no finite logits
    attain the minimum.  The two conventions coincide under
    :math:`\varepsilon_\text{others} = \varepsilon_\text{uniform}(K - 1)/K`.

    The ``"uniform"`` gap is computed as ``log1p(K * (1 - eps) / eps)``, so
    that small gaps (:math:`\varepsilon` near 1) keep their relative
    accuracy.  The ``"others"`` gap is ``log(x)`` with
    :math:`x = (K-1)(1-\varepsilon)/\varepsilon`, except near the sign change
    (:math:`1/2 < x < 2`), where it is ``log1p((K * (1 - eps) - 1) / eps)``.
    When the ratio overflows (:math:`\varepsilon` below about
    :math:`K \cdot 10^{-308}`) the equivalent
    :math:`\log K' + \operatorname{log1p}(-\varepsilon) - \log\varepsilon`
    (:math:`K' = K` or :math:`K - 1`) is used instead.

    Accuracy: ``"uniform"`` within a few ulp relative for every
    :math:`\varepsilon \in (0, 1]`.  ``"others"`` within a few ulp relative
    away from the sign change at :math:`\varepsilon = (K-1)/K`; near it
    (gaps below :math:`\log 2` in magnitude) the absolute error is a few
    units of :math:`2^{-53}`: the gap crosses zero there, and the rounding
    of :math:`K(1-\varepsilon)` rules out a bound relative to the gap.  Measured against
    50-digit mpmath in ``tests/test_label_smoothing.py``.

    References
    ----------
    .. [1] C. Szegedy, V. Vanhoucke, S. Ioffe, J. Shlens and Z. Wojna,
       "Rethinking the Inception architecture for computer vision", CVPR
       2016, section 7.
    .. [2] R. Müller, S. Kornblith and G. Hinton, "When does label smoothing
       help?", NeurIPS 2019.

    Examples
    --------
    >>> import numpy as np
    >>> import smoothmax as sm
    >>> round(float(sm.optimal_logit_gap(0.1, 10)), 4)       # log(1 + 10 * 0.9 / 0.1)
    4.5109
    >>> round(float(sm.optimal_logit_gap(0.1, 10, convention="others")), 4)
    4.3944
    >>> float(sm.optimal_logit_gap(0.0, 10))                  # no smoothing
    inf
    >>> sm.optimal_logit_gap([0.05, 0.1, 0.2], [[2], [1000]]).round(3)
    array([[3.664, 2.944, 2.197],
           [9.852, 9.105, 8.294]])

    The conventions map onto each other, and "others" changes sign:

    >>> K, e = 10, 0.3
    >>> bool(np.isclose(sm.optimal_logit_gap(e, K),
    ...                 sm.optimal_logit_gap(e * (K - 1) / K, K, convention="others")))
    True
    >>> sm.optimal_logit_gap([0.25, 0.5, 0.75, 1.0], 2, convention="others").round(4)
    array([ 1.0986,  0.    , -1.0986,    -inf])
    """
    e = _unit_interval_array(eps, "eps")
    K = _class_count_array(num_classes, "num_classes")
    convention = _choice(convention, "convention", _CONVENTIONS)
    try:
        e, K = np.broadcast_arrays(e, K)
    except ValueError:
        raise ValueError(f"eps and num_classes could not be broadcast together: "
                         f"shapes {np.shape(eps)} and {np.shape(num_classes)}") from None
    shape = e.shape
    e = e.reshape(-1)
    K = K.reshape(-1)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        one_minus = 1.0 - e                       # exact for e >= 1/2 (Sterbenz)
        if convention == "uniform":
            count = K
            gap = np.log1p(K * one_minus / e)     # r >= 0: log1p keeps small gaps
        else:
            count = K - 1.0
            x = count * one_minus / e             # q'_y / q'_k
            near_one = (x > 0.5) & (x < 2.0)      # the sign change: log1p(x - 1)
            gap = np.log(x)
            if near_one.any():
                r = (K * one_minus - 1.0) / e     # x - 1, without forming x
                gap[near_one] = np.log1p(r[near_one])
        # the ratio overflowed (e below about K * 1e-308): the log-sum form
        big = np.isinf(gap) & (e > 0.0) & (e < 1.0)
        if big.any():
            gap[big] = (np.log(count[big]) + np.log1p(-e[big]) - np.log(e[big]))
    gap[e == 0.0] = np.inf
    if convention == "others":
        gap[e == 1.0] = -np.inf
    return gap.reshape(shape)[()]
