"""Tests of smoothmax.losses: cross-entropy, its gradient and label smoothing.

The tests named ``test_grad_a_minus_y``, ``test_grad_unnormalised_target``,
``test_grad_bounded``, ``test_hessian_is_softmax_jacobian``,
``test_hessian_psd_loss_convex`` and ``test_lse_smooths_max_margin_objective``
are the twins of the equations of chapter 2 (chapters/02_cross_entropy.ipynb).
Accuracy against 50-digit mpmath is at the end (``pytest -s`` prints the
measured errors); the comparison with PyTorch is in ``test_losses_torch.py``.
"""

import math

import mpmath
import numpy as np
import pytest

from _reference import hard_inputs, mp_log_softmax, ulp_error
import smoothmax as sm
from smoothmax import (
    cross_entropy,
    cross_entropy_grad,
    logsumexp,
    smooth_labels,
    softmax,
    softmax_jacobian,
)

EPS = np.finfo(np.float64).eps
LOSSES = [cross_entropy, cross_entropy_grad, smooth_labels]
MP = mpmath.mp.clone()
MP.dps = 50

# (label_smoothing, convention) pairs; "others" only applies to index targets
SMOOTHING = [(0.0, "uniform"), (0.1, "uniform"), (0.7, "uniform"), (1.0, "uniform"),
             (0.1, "others"), (0.7, "others"), (1.0, "others")]

Z_EXAMPLES = [
    np.array([1.0, 2.0, 3.0, 4.0]),
    np.array([-0.5, 0.25, 3.0]),
    np.array([10.0, -3.0, 2.5, 2.5, 0.0, 7.0]),
    np.array([1000.0, 1001.0, 999.5]),
    np.array([0.0, 0.0]),
]


def _rng(seed=0):
    return np.random.default_rng(seed)


def _random_probs(rng, shape, axis=-1):
    y = rng.random(shape) ** 3            # some entries near 0
    return y / y.sum(axis=axis, keepdims=True)


def _central_diff(f, z, h=1e-6):
    """Gradient of the scalar function `f` at `z` (any shape) by central differences."""
    g = np.empty_like(z)
    for i in np.ndindex(z.shape):
        dz = np.zeros_like(z)
        dz[i] = h
        g[i] = (f(z + dz) - f(z - dz)) / (2 * h)
    return g


def _central_jac(f, z, h=1e-6):
    """Jacobian of a vector function of a 1-d `z` (columns = d/dz_j)."""
    cols = []
    for j in range(len(z)):
        dz = np.zeros_like(z)
        dz[j] = h
        cols.append((f(z + dz) - f(z - dz)) / (2 * h))
    return np.stack(cols, axis=-1)


def _dense_target(t, K, eps, convention):
    """q' written out from the definitions (independent of the library)."""
    q = np.zeros(K)
    if convention == "uniform":
        q[:] = eps / K
        q[t] += 1 - eps
    else:
        q[:] = eps / (K - 1)
        q[t] = 1 - eps
    return q


# ---------------------------------------------------------------------------
# package surface and docstrings
# ---------------------------------------------------------------------------

def test_public_api_losses():
    assert {"cross_entropy", "cross_entropy_grad", "smooth_labels"} <= set(sm.__all__)
    assert set(sm.losses.__all__) == {"cross_entropy", "cross_entropy_grad",
                                      "smooth_labels", "optimal_logit_gap"}


# ---------------------------------------------------------------------------
# definitions and worked numbers
# ---------------------------------------------------------------------------

def test_worked_number_is_lse_minus_target_logit():
    z = np.array([1.0, 2.0, 3.0, 4.0])
    loss = float(cross_entropy([z], [3]))
    assert round(loss, 4) == 0.4402
    assert loss == pytest.approx(float(logsumexp(z)) - 4.0, rel=2 * EPS)
    # a scalar index with 1-d logits gives a scalar
    assert float(cross_entropy(z, 3, reduction="none")) == loss
    assert np.ndim(cross_entropy(z, 3, reduction="none")) == 0


def _mp_loss(row, q):
    """-sum_k q_k log_softmax(row)_k at 50 digits; q: mpf weights (0 -> skipped)."""
    logp = mp_log_softmax(row)
    return -MP.fsum(qk * lk for qk, lk in zip(q, logp) if qk != 0)


def _mp_index_weights(K, t, eps, convention):
    eps = MP.mpf(eps)
    if eps == 0:
        w_t, w_o = MP.mpf(1), MP.mpf(0)
    elif convention == "uniform":
        w_t, w_o = 1 - eps + eps / K, eps / K
    else:
        w_t, w_o = 1 - eps, eps / (K - 1)
    return [w_t if k == t else w_o for k in range(K)]


def _mp_prob_weights(y, eps):
    eps = MP.mpf(eps)
    K = len(y)
    return [(1 - eps) * MP.mpf(float(v)) + eps / K for v in y]


@pytest.mark.parametrize("eps, convention", SMOOTHING)
def test_definition_index_targets(eps, convention):
    rng = _rng(1)
    z = rng.standard_normal((6, 5)) * 4
    t = rng.integers(0, 5, 6)
    loss = cross_entropy(z, t, label_smoothing=eps, convention=convention,
                         reduction="none")
    for row, ti, li in zip(z, t, loss):
        exact = _mp_loss(row, _mp_index_weights(5, ti, eps, convention))
        assert abs(li - float(exact)) <= 1e-15 * abs(float(exact))
        # and the same as -sum q' log_softmax with the dense q'
        q = _dense_target(ti, 5, eps, convention)
        assert li == pytest.approx(-(q * sm.log_softmax(row)).sum(), rel=1e-14)


@pytest.mark.parametrize("eps", [0.0, 0.1, 1.0])
def test_definition_probability_targets(eps):
    rng = _rng(2)
    z = rng.standard_normal((6, 5)) * 4
    y = _random_probs(rng, (6, 5))
    loss = cross_entropy(z, y, label_smoothing=eps, reduction="none")
    for row, yi, li in zip(z, y, loss):
        exact = _mp_loss(row, _mp_prob_weights(yi, eps))
        assert abs(li - float(exact)) <= 1e-15 * abs(float(exact))


@pytest.mark.parametrize("eps, convention", SMOOTHING)
def test_smoothed_index_equals_dense_smoothed_target(eps, convention):
    """cross_entropy with label_smoothing == cross_entropy of smooth_labels(...)."""
    rng = _rng(3)
    z = rng.standard_normal((7, 6)) * 3
    t = rng.integers(0, 6, 7)
    q = smooth_labels(t, 6, eps, convention=convention)
    np.testing.assert_allclose(
        cross_entropy(z, t, label_smoothing=eps, convention=convention, reduction="none"),
        cross_entropy(z, q, reduction="none"), rtol=4 * EPS)
    np.testing.assert_allclose(
        cross_entropy_grad(z, t, label_smoothing=eps, convention=convention, reduction="sum"),
        cross_entropy_grad(z, q, reduction="sum"), rtol=0, atol=4 * EPS)


def test_uniform_smoothing_is_mix_of_nll_and_mean():
    """(1 - eps) (-log a_y) + eps * mean_k(-log a_k), as in the chapter."""
    rng = _rng(4)
    z = rng.standard_normal((5, 8)) * 5
    t = rng.integers(0, 8, 5)
    for eps in (0.05, 0.3, 0.9):
        nl = -sm.log_softmax(z)
        expected = (1 - eps) * nl[np.arange(5), t] + eps * nl.mean(axis=-1)
        np.testing.assert_allclose(
            cross_entropy(z, t, label_smoothing=eps, reduction="none"), expected,
            rtol=8 * EPS)


def test_naive_log_of_softmax_is_inf():
    """-log(softmax(z))[0] is inf for z = [0, 1000]; the loss is 1000 exactly."""
    z = np.array([0.0, 1000.0])
    with np.errstate(divide="ignore"):
        naive = -np.log(softmax(z))[0]
    assert naive == np.inf
    assert float(cross_entropy(z, 0)) == 1000.0
    assert float(cross_entropy([z], np.array([[1.0, 0.0]]))) == 1000.0
    np.testing.assert_array_equal(cross_entropy_grad(z, 0, reduction="sum"), [-1.0, 1.0])


# ---------------------------------------------------------------------------
# twins of chapter 2's equations: the gradient
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("z", Z_EXAMPLES, ids=str)
def test_grad_a_minus_y(z):
    K = len(z)
    a = softmax(z)
    for t in range(K):                                   # one-hot targets
        y = np.eye(K)[t]
        np.testing.assert_allclose(cross_entropy_grad(z, t, reduction="sum"), a - y, rtol=0, atol=2 * EPS)
        np.testing.assert_allclose(cross_entropy_grad(z, y, reduction="sum"), a - y, rtol=0, atol=2 * EPS)
    y = _random_probs(_rng(5), K)                         # soft targets
    np.testing.assert_allclose(cross_entropy_grad(z, y, reduction="sum"), a - y, rtol=0, atol=4 * EPS)


@pytest.mark.parametrize("z", Z_EXAMPLES[:3], ids=str)
@pytest.mark.parametrize("scale", [0.3, 1.0, 2.5])
def test_grad_unnormalised_target(z, scale):
    """d/dz of -sum_k q_k log a_k is a * sum_k q_k - q, for any weights q >= 0."""
    rng = _rng(6)
    q = rng.random(len(z)) * scale                        # sum_k q_k != 1

    def loss(u):                                           # local reimplementation
        return -np.sum(q * sm.log_softmax(u))

    g_fd = _central_diff(loss, z)
    g = softmax(z) * q.sum() - q                          # the formula of the Notes
    np.testing.assert_allclose(g_fd, g, rtol=0, atol=1e-8)
    # it is not a - q (unless q sums to 1)
    assert np.abs(g - (softmax(z) - q)).max() > 1e-3


@pytest.mark.parametrize(
    "kind, eps, convention",
    [("index", e, c) for e, c in SMOOTHING]
    + [("prob", e, c) for e, c in SMOOTHING if c == "uniform"])   # 'others': index only
def test_grad_matches_central_differences(kind, eps, convention):
    rng = _rng(7)
    z = rng.standard_normal((3, 5)) * 2
    t = rng.integers(0, 5, 3) if kind == "index" else _random_probs(rng, (3, 5))
    kw = dict(label_smoothing=eps, convention=convention)
    g_fd = _central_diff(lambda u: cross_entropy(u, t, reduction="sum", **kw), z)
    g = cross_entropy_grad(z, t, **kw, reduction="sum")
    # truncation O(h^2) ~ 1e-12, rounding O(eps * loss / h) ~ 1e-9
    np.testing.assert_allclose(g_fd, g, rtol=0, atol=1e-8)
    # and for reduction="mean" the gradient is divided by the number of samples
    g_fd_mean = _central_diff(lambda u: cross_entropy(u, t, reduction="mean", **kw), z)
    np.testing.assert_allclose(g_fd_mean, g / 3, rtol=0, atol=1e-8)
    np.testing.assert_allclose(cross_entropy_grad(z, t, **kw, reduction="mean"), g / 3,
                               rtol=2 * EPS, atol=0)
    np.testing.assert_array_equal(cross_entropy_grad(z, t, **kw, reduction="none"), g)


def test_grad_default_reduction_is_the_loss_default():
    """The trap of issue #14: the default gradient is that of the default
    (mean) loss, so the finite-difference check of chapter 2 needs no factor N."""
    rng = _rng(17)
    z = rng.standard_normal((4, 3))
    t = rng.integers(0, 3, 4)
    g_fd = _central_diff(lambda u: cross_entropy(u, t), z)
    g = cross_entropy_grad(z, t)
    np.testing.assert_allclose(g_fd, g, rtol=0, atol=1e-9)
    np.testing.assert_allclose(g, cross_entropy_grad(z, t, reduction="sum") / 4,
                               rtol=2 * EPS, atol=0)
    with pytest.raises(ValueError, match="reduction"):
        cross_entropy_grad(z, t, reduction="average")


def test_masked_targets_are_rejected():
    """np.asarray would drop the mask and use a label the user masked out."""
    z = np.array([[1.0, 2.0, 3.0]])
    for target in (np.ma.array([1], mask=[True]), np.ma.array([[0.2, 0.3, 0.5]], mask=False)):
        for f in (cross_entropy, cross_entropy_grad):
            with pytest.raises(TypeError, match="target is a numpy.ma masked array"):
                f(z, target)
    with pytest.raises(TypeError, match="target is a numpy.ma masked array"):
        sm.smooth_labels(np.ma.array([1], mask=[True]), 3, 0.1)


def test_zero_loss_is_positive_zero():
    loss = cross_entropy([[0.0, -np.inf]], [0], reduction="none")
    assert loss[0] == 0.0 and not np.signbit(loss[0])


def test_empty_batch():
    z, t = np.zeros((0, 3)), np.zeros(0, dtype=int)
    assert cross_entropy(z, t, reduction="none").shape == (0,)
    assert cross_entropy(z, t, reduction="sum") == 0.0
    with pytest.raises(ValueError, match=r"logits has an empty batch \(\(0,\) samples"):
        cross_entropy(z, t)                  # the mean over no samples
    for reduction in ("mean", "sum", "none"):
        assert cross_entropy_grad(z, t, reduction=reduction).shape == (0, 3)
    assert cross_entropy(z, np.zeros((0, 3)), reduction="none").shape == (0,)
    with pytest.raises(ValueError, match="logits is empty along its class axis"):
        cross_entropy(np.zeros((2, 0)), np.zeros(2, dtype=int))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_grad_other_axes(axis):
    rng = _rng(8)
    z = rng.standard_normal((3, 4, 5))
    K = z.shape[axis]
    shape = tuple(n for i, n in enumerate(z.shape) if i != axis % 3)
    t = rng.integers(0, K, shape)
    g = cross_entropy_grad(z, t, label_smoothing=0.2, axis=axis, reduction="sum")
    zm = np.moveaxis(z, axis, -1)
    gm = cross_entropy_grad(zm, t, label_smoothing=0.2, reduction="sum")
    np.testing.assert_array_equal(np.moveaxis(g, axis, -1), gm)
    g_fd = _central_diff(
        lambda u: cross_entropy(u, t, label_smoothing=0.2, reduction="sum", axis=axis), z)
    np.testing.assert_allclose(g_fd, g, rtol=0, atol=1e-8)
    np.testing.assert_array_equal(
        np.moveaxis(cross_entropy(z, t, reduction="none", axis=axis), 0, 0),
        cross_entropy(zm, t, reduction="none"))


@pytest.mark.parametrize("eps, convention", SMOOTHING)
def test_grad_bounded(eps, convention):
    """Each entry of a - q lies in [-1, 1] (a, q are probability vectors)."""
    rng = _rng(9)
    z = np.concatenate([rng.standard_normal((50, 7)) * s for s in (1e-3, 1, 30, 1e3)])
    z[:5, 0] = 1e5                                        # one-hot-like rows
    t = rng.integers(0, 7, len(z))
    g = cross_entropy_grad(z, t, label_smoothing=eps, convention=convention, reduction="sum")
    assert g.min() >= -1.0 and g.max() <= 1.0
    if convention == "uniform":
        # probability targets: q sums to 1 up to rounding, so |g| <= 1 + O(eps)
        y = _random_probs(rng, z.shape)
        gp = cross_entropy_grad(z, y, label_smoothing=eps, reduction="sum")
        assert np.abs(gp).max() <= 1.0 + 8 * EPS


@pytest.mark.parametrize("eps, convention", SMOOTHING)
def test_grad_rows_sum_to_zero(eps, convention):
    rng = _rng(10)
    z = rng.standard_normal((40, 9)) * 10
    t = rng.integers(0, 9, 40)
    g = cross_entropy_grad(z, t, label_smoothing=eps, convention=convention, reduction="sum")
    np.testing.assert_allclose(g.sum(axis=-1), 0.0, rtol=0, atol=16 * EPS)


# ---------------------------------------------------------------------------
# twins: the Hessian is the softmax Jacobian; the loss is convex
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("z", Z_EXAMPLES[:3] + [np.array([0.1, -0.4, 0.3, 0.0])], ids=str)
@pytest.mark.parametrize("eps, convention", [(0.0, "uniform"), (0.2, "uniform"),
                                             (0.2, "others")])
def test_hessian_is_softmax_jacobian(z, eps, convention):
    K = len(z)
    kw = dict(label_smoothing=eps, convention=convention)
    J = softmax_jacobian(z)
    for t in (0, K - 1):
        H = _central_jac(lambda u: cross_entropy_grad(u, t, **kw, reduction="sum"), z)
        np.testing.assert_allclose(H, J, rtol=0, atol=1e-8)
    if convention == "uniform":                    # the target does not matter
        y = _random_probs(_rng(11), K)
        H = _central_jac(lambda u: cross_entropy_grad(u, y, **kw, reduction="sum"), z)
        np.testing.assert_allclose(H, J, rtol=0, atol=1e-8)


@pytest.mark.parametrize("z", Z_EXAMPLES, ids=str)
def test_hessian_psd_loss_convex(z):
    K = len(z)
    H = _central_jac(lambda u: cross_entropy_grad(u, 0, reduction="sum"), z)
    H = (H + H.T) / 2
    assert np.linalg.eigvalsh(H).min() >= -1e-8
    # convexity along random segments: l(mid) <= mean of the ends
    rng = _rng(12)
    for _ in range(50):
        z1 = z + rng.standard_normal(K) * 5
        z2 = z + rng.standard_normal(K) * 5
        y = _random_probs(rng, K)
        lam = rng.random()
        mid = float(cross_entropy(lam * z1 + (1 - lam) * z2, y))
        ends = lam * float(cross_entropy(z1, y)) + (1 - lam) * float(cross_entropy(z2, y))
        assert mid <= ends + 1e-12 * max(1.0, abs(ends))


# ---------------------------------------------------------------------------
# twin: cross-entropy is a smoothed hinge on the margin
# ---------------------------------------------------------------------------

def _hinge(z, y):
    others = np.delete(z, y)
    return max(float(others.max() - z[y]), 0.0)


def test_lse_smooths_max_margin_objective():
    """max(m, 0) <= LSE(z) - z_y <= max(m, 0) + log K, m = max_{i!=y} z_i - z_y;
    and (LSE(cz) - c z_y)/c -> max(m, 0) as c -> inf (error <= log K / c)."""
    rng = _rng(13)
    for _ in range(200):
        K = int(rng.integers(2, 12))
        z = rng.standard_normal(K) * float(rng.choice([0.1, 1.0, 10.0]))
        y = int(rng.integers(K))
        h = _hinge(z, y)
        loss = float(cross_entropy(z, y))
        assert h - 4 * EPS * max(1.0, h) <= loss <= h + math.log(K) + 4 * EPS * (h + 10)
        prev = math.inf
        for c in (1.0, 10.0, 100.0, 1e4, 1e8):
            smoothed = float(cross_entropy(c * z, y)) / c
            gap = smoothed - h
            tol = 4 * EPS * max(1.0, np.abs(z).max())   # rounding of c*z, /c
            assert -tol <= gap <= math.log(K) / c + tol
            assert gap <= prev + tol             # the gap shrinks as c grows
            prev = gap
        assert abs(smoothed - h) <= 1e-7


# ---------------------------------------------------------------------------
# reductions, shapes, axes
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["index", "prob"])
@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_reductions_consistent(kind, axis):
    rng = _rng(14)
    z = rng.standard_normal((3, 4, 5)) * 3
    sample_shape = tuple(n for i, n in enumerate(z.shape) if i != axis % 3)
    K = z.shape[axis]
    t = (rng.integers(0, K, sample_shape) if kind == "index"
         else _random_probs(rng, z.shape, axis=axis))
    for eps in (0.0, 0.3):
        kw = dict(label_smoothing=eps, axis=axis)
        none = cross_entropy(z, t, reduction="none", **kw)
        assert none.shape == sample_shape and none.dtype == np.float64
        total = cross_entropy(z, t, reduction="sum", **kw)
        mean = cross_entropy(z, t, reduction="mean", **kw)
        assert isinstance(total, np.float64) and isinstance(mean, np.float64)
        assert total == pytest.approx(none.sum(), rel=4 * EPS)
        assert mean == pytest.approx(total / none.size, rel=4 * EPS)
        assert cross_entropy(z, t, **kw) == mean          # the default
        assert np.all(none >= 0)


def test_inputs_not_modified_and_lists_accepted():
    z = np.array([[1.0, -np.inf, 3.0], [0.5, 0.25, 8.0]])
    t = np.array([0, 2])
    y = np.array([[0.5, 0.0, 0.5], [0.2, 0.3, 0.5]])
    z0, t0, y0 = z.copy(), t.copy(), y.copy()
    for target in (t, y):
        cross_entropy(z, target, label_smoothing=0.0)
        cross_entropy_grad(z, target, reduction="sum")
    cross_entropy(z[1:], t[1:], label_smoothing=0.5, convention="others")
    np.testing.assert_array_equal(z, z0)
    np.testing.assert_array_equal(t, t0)
    np.testing.assert_array_equal(y, y0)
    assert float(cross_entropy([[1, 2, 3, 4]], [3])) == float(
        cross_entropy(np.array([[1.0, 2.0, 3.0, 4.0]]), np.array([3], dtype=np.uint8)))


def test_large_input_runs():
    rng = _rng(15)
    z = rng.standard_normal((1000, 1000)) * 30
    t = rng.integers(0, 1000, 1000)
    loss = cross_entropy(z, t, label_smoothing=0.1, reduction="none")
    nl = -sm.log_softmax(z)
    np.testing.assert_allclose(loss, 0.9 * nl[np.arange(1000), t] + 0.1 * nl.mean(-1),
                               rtol=1e-13)
    g = cross_entropy_grad(z, t, label_smoothing=0.1, convention="others", reduction="sum")
    assert g.shape == z.shape and np.all(np.abs(g.sum(-1)) < 1e-13)


# ---------------------------------------------------------------------------
# masking with -inf
# ---------------------------------------------------------------------------

def test_masked_logits():
    z = np.array([1.0, -np.inf, 3.0, -np.inf])
    zc = np.array([1.0, 3.0])                   # the same without the masked classes
    # index target on an unmasked class: as if the masked classes were absent
    assert float(cross_entropy(z, 2)) == float(cross_entropy(zc, 1))
    g = cross_entropy_grad(z, 2, reduction="sum")
    assert g[1] == 0.0 and g[3] == 0.0
    np.testing.assert_array_equal(g[[0, 2]], cross_entropy_grad(zc, 1, reduction="sum"))
    # probability target with no mass on masked classes: 0 * log 0 = 0, not NaN
    y = np.array([0.25, 0.0, 0.75, 0.0])
    loss = float(cross_entropy(z, y))
    assert loss == pytest.approx(float(cross_entropy(zc, np.array([0.25, 0.75]))),
                                 rel=2 * EPS)
    assert not np.isnan(cross_entropy_grad(z, y, reduction="sum")).any()
    # mass on a masked class: +inf (the model says probability 0)
    assert float(cross_entropy(z, 1)) == np.inf
    assert float(cross_entropy(z, np.array([0.5, 0.5, 0.0, 0.0]))) == np.inf
    assert float(cross_entropy(z, 2, label_smoothing=0.1)) == np.inf   # eps/K on masked
    g = cross_entropy_grad(z, 1, reduction="sum")                # finite: the formula a - q
    assert np.isfinite(g).all() and g[1] == -1.0
    # "others" with eps = 1 puts no mass on the target class: 0 * log 0 = 0
    z2 = np.array([0.0, -np.inf, 2.0])
    loss = float(cross_entropy(z2, 1, label_smoothing=1.0, convention="others"))
    assert loss == pytest.approx(float(cross_entropy(z2[[0, 2]], np.array([0.5, 0.5]))),
                                 rel=2 * EPS)
    # batched: only the affected sample is inf, the mean is inf, nothing is NaN
    zb = np.array([[0.0, -np.inf], [1.0, 2.0]])
    per = cross_entropy(zb, [1, 0], reduction="none")
    assert per[0] == np.inf and np.isfinite(per[1])
    assert cross_entropy(zb, [1, 0]) == np.inf
    assert np.isfinite(cross_entropy(zb, [0, 0]))


# ---------------------------------------------------------------------------
# label smoothing
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("K", [2, 3, 10, 1000])
@pytest.mark.parametrize("eps", [0.0, 0.1, 0.5, 1.0])
@pytest.mark.parametrize("convention", ["uniform", "others"])
def test_smooth_labels_definition(K, eps, convention):
    rng = _rng(16)
    t = rng.integers(0, K, (3, 4))
    q = smooth_labels(t, K, eps, convention=convention)
    assert q.shape == (3, 4, K) and q.dtype == np.float64
    assert np.all(q >= 0)
    np.testing.assert_allclose(q.sum(axis=-1), 1.0, rtol=0, atol=(K + 2) * EPS)
    for i in np.ndindex(t.shape):
        np.testing.assert_allclose(q[i], _dense_target(t[i], K, eps, convention),
                                   rtol=2 * EPS, atol=0)
    if eps == 0:
        np.testing.assert_array_equal(q, np.eye(K)[t])
    if convention == "uniform":
        assert q[0, 0, t[0, 0]] == pytest.approx(1 - eps + eps / K, rel=2 * EPS)
    else:
        assert q[0, 0, t[0, 0]] == pytest.approx(1 - eps, rel=2 * EPS, abs=EPS)


def test_smooth_labels_worked_numbers():
    np.testing.assert_allclose(smooth_labels(0, 4, 0.1), [0.925, 0.025, 0.025, 0.025])
    np.testing.assert_allclose(smooth_labels(0, 4, 0.1, convention="others"),
                               [0.9, 0.1 / 3, 0.1 / 3, 0.1 / 3])
    assert smooth_labels(np.array(1, dtype=np.int64), 2, 0.2).shape == (2,)


@pytest.mark.parametrize("K", [2, 5, 100])
@pytest.mark.parametrize("eps_u", [0.05, 0.1, 0.4, 1.0])
def test_convention_map(K, eps_u):
    """uniform with eps_u == others with eps_o = eps_u * (K - 1) / K."""
    eps_o = eps_u * (K - 1) / K
    t = np.arange(K) % K
    np.testing.assert_allclose(smooth_labels(t, K, eps_u),
                               smooth_labels(t, K, eps_o, convention="others"),
                               rtol=4 * EPS, atol=0)
    z = _rng(17).standard_normal((K, K)) * 3
    np.testing.assert_allclose(
        cross_entropy(z, t, label_smoothing=eps_u, reduction="none"),
        cross_entropy(z, t, label_smoothing=eps_o, convention="others", reduction="none"),
        rtol=8 * EPS)
    np.testing.assert_allclose(
        cross_entropy_grad(z, t, label_smoothing=eps_u, reduction="sum"),
        cross_entropy_grad(z, t, label_smoothing=eps_o, convention="others", reduction="sum"),
        rtol=0, atol=4 * EPS)
    # the conventions really differ for the same eps (the common mistake)
    if eps_u < 1:
        diff = smooth_labels(0, K, eps_u)[0] - smooth_labels(0, K, eps_u,
                                                              convention="others")[0]
        assert diff == pytest.approx(eps_u / K, rel=1e-12)


def test_smoothing_of_probability_targets_is_uniform_mix():
    rng = _rng(18)
    z = rng.standard_normal((4, 6))
    y = _random_probs(rng, (4, 6))
    for eps in (0.1, 0.5, 1.0):
        q = (1 - eps) * y + eps / 6
        np.testing.assert_allclose(
            cross_entropy(z, y, label_smoothing=eps, reduction="none"),
            cross_entropy(z, q, reduction="none"), rtol=4 * EPS)
        np.testing.assert_allclose(cross_entropy_grad(z, y, label_smoothing=eps, reduction="sum"),
                                   softmax(z) - q, rtol=0, atol=4 * EPS)
    # convention="others" is fine with probability targets when eps == 0
    assert cross_entropy(z, y, convention="others") == cross_entropy(z, y)


# ---------------------------------------------------------------------------
# validation: every bad input raises, naming the argument
# ---------------------------------------------------------------------------

Z2 = np.array([[1.0, 2.0, 3.0], [0.0, 0.5, -1.0]])
T2 = np.array([0, 2])
Y2 = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])

BAD_VALUE = [
    # (kwargs for cross_entropy, argument name in the message)
    (dict(logits=Z2, target=np.array([0, 3])), "target"),
    (dict(logits=Z2, target=np.array([-1, 0])), "target"),
    (dict(logits=Z2, target=np.array([0, 1, 2])), "target"),
    (dict(logits=Z2, target=np.array(0)), "target"),
    (dict(logits=Z2, target=np.array([0.0, 2.0])), "target"),   # floats != indices
    (dict(logits=Z2, target=Y2[:, :2]), "target"),
    (dict(logits=Z2, target=Y2.T), "target"),
    (dict(logits=Z2, target=np.array([[0.2, 0.3, 0.6], [1.0, 0.0, 0.0]])), "target"),
    (dict(logits=Z2, target=np.array([[1.2, -0.2, 0.0], [1.0, 0.0, 0.0]])), "target"),
    (dict(logits=Z2, target=np.array([[np.nan, 0.5, 0.5], [1.0, 0.0, 0.0]])), "target"),
    (dict(logits=Z2, target=np.array([[np.inf, 0.5, 0.5], [1.0, 0.0, 0.0]])), "target"),
    (dict(logits=Z2, target=[[0, 1], [2]]), "target"),
    (dict(logits=np.array([[1.0, np.nan, 0.0], [0.0, 0.0, 0.0]]), target=T2), "logits"),
    (dict(logits=np.array([[1.0, np.inf, 0.0], [0.0, 0.0, 0.0]]), target=T2), "logits"),
    (dict(logits=np.array([[1.0, 0.0, 0.0], [-np.inf] * 3]), target=T2), "logits"),
    (dict(logits=np.array(1.0), target=0), "logits"),
    (dict(logits=np.zeros((2, 0)), target=T2), "logits"),
    (dict(logits=Z2, target=T2, axis=2), "axis"),
    (dict(logits=Z2, target=T2, reduction="average"), "reduction"),
    (dict(logits=Z2, target=T2, reduction="Mean"), "reduction"),
    (dict(logits=Z2, target=T2, convention="fairseq"), "convention"),
    (dict(logits=Z2, target=T2, label_smoothing=-0.1), "label_smoothing"),
    (dict(logits=Z2, target=T2, label_smoothing=1.5), "label_smoothing"),
    (dict(logits=Z2, target=T2, label_smoothing=np.nan), "label_smoothing"),
    (dict(logits=Z2, target=T2, label_smoothing=np.inf), "label_smoothing"),
    (dict(logits=Z2, target=T2, label_smoothing=np.array([0.1, 0.2])), "label_smoothing"),
    (dict(logits=Z2, target=Y2, label_smoothing=0.1, convention="others"), "convention"),
    (dict(logits=np.zeros((2, 1)), target=np.array([0, 0]), label_smoothing=0.1,
          convention="others"), "convention"),
]

BAD_TYPE = [
    (dict(logits="1 2 3", target=0), "logits"),
    (dict(logits=np.array([[1, 2]], dtype=object), target=[0]), "logits"),
    (dict(logits=np.array([[True, False]]), target=[0]), "logits"),
    (dict(logits=Z2, target="0 2"), "target"),
    (dict(logits=Z2, target=np.array([True, False])), "target"),
    (dict(logits=Z2, target=np.array([0, 2], dtype=object)), "target"),
    (dict(logits=Z2, target=np.array([0, 2], dtype=complex)), "target"),
    (dict(logits=Z2, target=T2, label_smoothing="0.1"), "label_smoothing"),
    (dict(logits=Z2, target=T2, label_smoothing=True), "label_smoothing"),
    (dict(logits=Z2, target=T2, label_smoothing=None), "label_smoothing"),
    (dict(logits=Z2, target=T2, reduction=None), "reduction"),
    (dict(logits=Z2, target=T2, convention=1), "convention"),
    (dict(logits=Z2, target=T2, axis=1.0), "axis"),
]


@pytest.mark.parametrize("kwargs, name", BAD_VALUE)
def test_bad_values_raise_naming_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        cross_entropy(**kwargs)
    if "reduction" not in kwargs:              # the gradient has no reduction
        with pytest.raises(ValueError, match=name):
            cross_entropy_grad(**kwargs)


@pytest.mark.parametrize("kwargs, name", BAD_TYPE)
def test_bad_types_raise_naming_argument(kwargs, name):
    with pytest.raises(TypeError, match=name):
        cross_entropy(**kwargs)
    if "reduction" not in kwargs:              # the gradient has no reduction
        with pytest.raises(TypeError, match=name):
            cross_entropy_grad(**kwargs)


def test_probability_tolerance_is_1e6_times_K():
    K = 10
    z = np.zeros(K)
    y = np.full(K, 0.1)
    y[0] += 0.9e-6 * K                       # within 1e-6 * K: accepted
    cross_entropy(z, y)
    y[0] += 0.2e-6 * K                       # beyond: rejected
    with pytest.raises(ValueError, match="target.*1e-05"):
        cross_entropy(z, y)


def test_float_indices_message_explains():
    with pytest.raises(ValueError, match="integer array for class indices"):
        cross_entropy(Z2, np.array([0.0, 2.0]))


@pytest.mark.parametrize("args, kwargs, exc, name", [
    ((np.array([0, 4]), 4, 0.1), {}, ValueError, "target"),
    ((np.array([-1]), 4, 0.1), {}, ValueError, "target"),
    ((np.array([0.0, 1.0]), 4, 0.1), {}, TypeError, "target"),
    ((np.array([True]), 4, 0.1), {}, TypeError, "target"),
    (("0", 4, 0.1), {}, TypeError, "target"),
    ((np.array([0]), 1, 0.1), {}, ValueError, "num_classes"),
    ((np.array([0]), 0, 0.1), {}, ValueError, "num_classes"),
    ((np.array([0]), 4.0, 0.1), {}, TypeError, "num_classes"),
    ((np.array([0]), True, 0.1), {}, TypeError, "num_classes"),
    ((np.array([0]), 4, -0.5), {}, ValueError, "eps"),
    ((np.array([0]), 4, 1.01), {}, ValueError, "eps"),
    ((np.array([0]), 4, np.nan), {}, ValueError, "eps"),
    ((np.array([0]), 4, "0.1"), {}, TypeError, "eps"),
    ((np.array([0]), 4, 0.1), {"convention": "smooth"}, ValueError, "convention"),
    ((np.array([0]), 4, 0.1), {"convention": None}, TypeError, "convention"),
])
def test_smooth_labels_bad_inputs(args, kwargs, exc, name):
    with pytest.raises(exc, match=name):
        smooth_labels(*args, **kwargs)


# ---------------------------------------------------------------------------
# accuracy against 50-digit mpmath on hard inputs
# ---------------------------------------------------------------------------

def _rel(computed, exact):
    exact = float(exact)
    if exact == 0:
        return abs(float(computed))
    return abs(float(computed) - exact) / abs(exact)


@pytest.fixture(scope="module")
def hard_refs():
    """Rows of hard_inputs (K up to 1000, spreads to 1e3, magnitudes to 1e307)
    with random index/probability targets and their 50-digit losses."""
    rng = _rng(19)
    out = []
    for label, row in hard_inputs(seed=20240202, n_rows=96):
        K = len(row)
        t = int(rng.integers(K))
        y = _random_probs(rng, K)
        logp = mp_log_softmax(row)
        out.append((label, row, t, y, logp))
    return out


def _mp_from_logp(logp, q):
    return -MP.fsum(qk * lk for qk, lk in zip(q, logp) if qk != 0)


def test_accuracy_index_no_smoothing_within_1_5_ulp(hard_refs):
    """An entry of log_softmax: within its 1.5 ulp."""
    worst = 0.0
    for label, row, t, _, logp in hard_refs:
        err = ulp_error(cross_entropy(row, t), -logp[t])
        assert err <= 1.5, label
        worst = max(worst, err)
    print(f"\ncross_entropy (index, no smoothing): max {worst:.3f} ulp vs mpmath")


@pytest.mark.parametrize("eps, convention", [(0.1, "uniform"), (0.5, "uniform"),
                                             (1.0, "uniform"), (0.1, "others"),
                                             (1.0, "others")])
def test_accuracy_index_smoothed(hard_refs, eps, convention):
    worst = 0.0
    for label, row, t, _, logp in hard_refs:
        exact = _mp_from_logp(logp, _mp_index_weights(len(row), t, eps, convention))
        loss = cross_entropy(row, t, label_smoothing=eps, convention=convention)
        err = _rel(loss, exact)
        assert err <= 1e-14, label
        worst = max(worst, err)
    print(f"\ncross_entropy (index, eps={eps}, {convention}): max rel {worst:.2e}")


@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_accuracy_probability_targets(hard_refs, eps):
    worst = 0.0
    for label, row, _, y, logp in hard_refs:
        exact = _mp_from_logp(logp, _mp_prob_weights(y, eps))
        err = _rel(cross_entropy(row, y, label_smoothing=eps), exact)
        assert err <= 1e-14, label
        worst = max(worst, err)
    print(f"\ncross_entropy (probabilities, eps={eps}): max rel {worst:.2e}")


def test_accuracy_reductions(hard_refs):
    """mean and sum over a batch of equal-K hard rows, to 1e-14 relative."""
    rows = [(row, t, logp) for _, row, t, _, logp in hard_refs if len(row) == 10]
    assert len(rows) >= 5
    z = np.stack([r for r, _, _ in rows])
    t = np.array([ti for _, ti, _ in rows])
    exact = [-logp[ti] for _, ti, logp in rows]
    total = MP.fsum(exact)
    assert _rel(cross_entropy(z, t, reduction="sum"), total) <= 1e-14
    assert _rel(cross_entropy(z, t, reduction="mean"), total / len(rows)) <= 1e-14


@pytest.mark.parametrize("eps, convention", [(0.0, "uniform"), (0.1, "uniform"),
                                             (0.5, "uniform"), (0.3, "others")])
def test_grad_accuracy_hard_inputs(hard_refs, eps, convention):
    """Each entry of the gradient within 4 eps absolute of the 50-digit a - q'."""
    worst = 0.0
    for label, row, t, y, logp in hard_refs:
        a = [MP.exp(v) for v in logp]
        K = len(row)
        targets = [(t, _mp_index_weights(K, t, eps, convention))]
        if convention == "uniform":
            targets.append((y, _mp_prob_weights(y, eps)))
        for target, q in targets:
            g = cross_entropy_grad(row, target, label_smoothing=eps, convention=convention, reduction="sum")
            s = MP.fsum(q)
            err = max(abs(float(gk - (ak * s - qk))) for gk, ak, qk in zip(g, a, q))
            assert err <= 4 * EPS, label
            worst = max(worst, err)
    print(f"\ncross_entropy_grad (eps={eps}, {convention}): max abs err {worst:.1e}")
