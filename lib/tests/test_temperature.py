"""Tests of temperature and the NormFace bound (chapter 5, chapters/05_temperature.ipynb).

Twins of the chapter's equations: ``test_eq_smooth_max_bounds`` (max <= T LSE(z/T)
<= max + T log K), ``test_eq_temperature_limits`` (T -> 0 and T -> infinity),
``test_eq_grad_smooth_max`` (the gradient is softmax(z/T)),
``test_eq_normface_bound_*`` (log(1 + (K - 1) exp(-sK/(K - 1))), against mpmath
and against the cross-entropy of the simplex configuration) and
``test_eq_normface_scale_*`` (its inverse).
"""

import math

import mpmath
import numpy as np
import pytest

from smoothmax import (
    cross_entropy,
    logsumexp,
    normface_loss_bound,
    normface_scale_for_probability,
    smooth_max,
    softmax,
)

MP = mpmath.mp.clone()
MP.dps = 50


def _rng(seed=0):
    return np.random.default_rng(seed)


@pytest.mark.parametrize("T", [1e-3, 0.05, 0.3, 1.0, 2.0, 20.0, 1e3])
@pytest.mark.parametrize("K", [2, 3, 4, 10, 100])
def test_eq_smooth_max_bounds(T, K):
    rng = _rng(K)
    Z = rng.normal(scale=5.0, size=(200, K))
    m = smooth_max(Z, temperature=T)
    top = Z.max(axis=1)
    slack = 4 * np.finfo(float).eps * (np.abs(top) + T * math.log(K))
    assert np.all(m >= top - slack)
    assert np.all(m <= top + T * math.log(K) + slack)
    # the definition T * LSE(z / T), where that does not overflow
    np.testing.assert_allclose(m, T * logsumexp(Z / T), rtol=1e-13, atol=1e-13 * T)


def test_smooth_max_bounds_attained():
    # equal logits: the upper bound; one logit far above: the lower bound
    z = np.full(7, 3.0)
    assert np.isclose(smooth_max(z, temperature=0.5), 3.0 + 0.5 * math.log(7), rtol=1e-15)
    z = np.array([0.0, -1e6, -1e6])
    assert smooth_max(z, temperature=1.0) == 0.0


def test_eq_temperature_limits():
    z = np.array([1.0, 2.0, 3.0, 4.0])
    # T -> 0: the max, and softmax -> one-hot of the argmax
    for T in [1e-2, 1e-4, 1e-8, 1e-300]:
        assert 4.0 <= smooth_max(z, temperature=T) <= 4.0 + T * math.log(4) * (1 + 1e-12)
    np.testing.assert_allclose(softmax(z, temperature=1e-3), [0, 0, 0, 1], atol=1e-300)
    assert smooth_max(z, temperature=1e-300) == 4.0
    # T -> infinity: softmax -> uniform, T LSE(z/T) - T log K -> mean(z)
    for T in [1e2, 1e4, 1e6]:
        a = softmax(z, temperature=T)
        np.testing.assert_allclose(a, 0.25, atol=2.0 / T)
        assert abs(smooth_max(z, temperature=T) - T * math.log(4) - z.mean()) < 5.0 / T


def test_smooth_max_no_overflow_tiny_temperature():
    z = np.array([1e300, -1e300, 5e299])
    assert smooth_max(z, temperature=1e-10) == 1e300
    assert smooth_max(np.array([-np.inf, 2.0]), temperature=0.5) == 2.0


@pytest.mark.parametrize("T", [0.1, 1.0, 5.0])
def test_eq_grad_smooth_max(T):
    rng = _rng(3)
    z = rng.normal(size=6)
    h = 1e-6
    g = np.empty_like(z)
    for i in range(z.size):
        e = np.zeros_like(z)
        e[i] = h
        g[i] = (smooth_max(z + e, temperature=T) - smooth_max(z - e, temperature=T)) / (2 * h)
    np.testing.assert_allclose(g, softmax(z / T), rtol=0, atol=1e-8)
    np.testing.assert_allclose(g, softmax(z, temperature=T), rtol=0, atol=1e-8)


def test_smooth_max_axis():
    Z = _rng(1).normal(size=(3, 5))
    np.testing.assert_allclose(smooth_max(Z, axis=0, temperature=2.0),
                               [smooth_max(Z[:, j], temperature=2.0) for j in range(5)],
                               rtol=1e-15)


def _bound_mp(s, K):
    s, K = MP.mpf(s), MP.mpf(K)
    return MP.log1p((K - 1) * MP.exp(-s * K / (K - 1)))


@pytest.mark.parametrize("K", [2, 3, 10, 100, 10575, 10**6])
@pytest.mark.parametrize("s", [1e-3, 0.5, 1.0, 5.0, 16.0, 64.0, 300.0, 700.0])
def test_eq_normface_bound_mpmath(s, K):
    got = normface_loss_bound(s, K)
    want = float(_bound_mp(s, K))
    assert got == pytest.approx(want, rel=2e-13, abs=0)


def test_normface_bound_large_scale_no_wrong_underflow():
    # exp(-sK/(K-1)) underflows long before (K-1) times it is negligible;
    # the value must follow e^u, not drop to 0 early or stick at log(K-1)
    s, K = 740.0, 10**6
    want = float(_bound_mp(s, K))
    assert want > 0
    assert normface_loss_bound(s, K) == pytest.approx(want, rel=1e-12)
    assert normface_loss_bound(np.inf, 10) == 0.0


def test_eq_normface_bound_simplex_cross_entropy():
    for K in [2, 3, 5, 10, 40]:
        # K unit vectors in R^K with pairwise cosine -1/(K - 1): centre the
        # standard basis and normalise
        W = np.eye(K) - 1.0 / K
        W /= np.linalg.norm(W, axis=1, keepdims=True)
        cos = W @ W.T
        off = cos[~np.eye(K, dtype=bool)]
        np.testing.assert_allclose(off, -1.0 / (K - 1), rtol=0, atol=1e-14)
        np.testing.assert_allclose(np.diag(cos), 1.0, rtol=0, atol=1e-14)
        for s in [0.5, 1.0, 4.0, 16.0]:
            # features equal to their class weights: logits s cos
            loss = cross_entropy(s * cos, np.arange(K), reduction="none")
            np.testing.assert_allclose(loss, normface_loss_bound(s, K), rtol=1e-12)


def test_normface_paper_example():
    # CASIA-WebFace: K = 10575 identities, no scale (s = 1)
    assert round(float(normface_loss_bound(1.0, 10575)), 2) == 8.27


def test_normface_bound_broadcast_and_monotone():
    s = np.array([1.0, 2.0, 8.0, 32.0])
    K = np.array([[10], [100], [10575]])
    b = normface_loss_bound(s, K)
    assert b.shape == (3, 4)
    assert np.all(np.diff(b, axis=1) < 0)   # falls with s
    assert np.all(np.diff(b, axis=0) > 0)   # rises with K
    assert isinstance(normface_loss_bound(1.0, 10), float)


@pytest.mark.parametrize("K", [2, 10, 10575])
@pytest.mark.parametrize("p", [0.6, 0.9, 0.99, 0.999999])
def test_eq_normface_scale_round_trip(p, K):
    s = normface_scale_for_probability(p, K)
    assert s > 0
    # the best target probability at scale s is p, i.e. the bound is -log p
    assert normface_loss_bound(s, K) == pytest.approx(-math.log(p), rel=1e-12)
    s_mp = (MP.mpf(K) - 1) / K * MP.log((K - 1) * MP.mpf(p) / (1 - MP.mpf(p)))
    assert s == pytest.approx(float(s_mp), rel=1e-13)


def test_normface_scale_round_trip_from_scale():
    s = np.geomspace(0.1, 8, 25)   # beyond, p rounds near 1 (ill-conditioned)
    for K in [3, 100]:
        p = np.exp(-normface_loss_bound(s, K))
        np.testing.assert_allclose(normface_scale_for_probability(p, K), s, rtol=1e-9)


@pytest.mark.parametrize("T", [0.0, -1.0, np.nan, np.inf])
def test_bad_temperature(T):
    with pytest.raises(ValueError, match="^temperature"):
        smooth_max([1.0, 2.0], temperature=T)


def test_bad_z():
    with pytest.raises(ValueError, match="^z"):
        smooth_max([1.0, np.nan])
    with pytest.raises(ValueError, match="^z"):
        smooth_max([-np.inf, -np.inf])
    with pytest.raises(TypeError, match="^temperature"):
        smooth_max([1.0], temperature="hot")


@pytest.mark.parametrize("s", [0.0, -1.0, np.nan, [1.0, 0.0]])
def test_bad_scale(s):
    with pytest.raises(ValueError, match="^scale"):
        normface_loss_bound(s, 10)


@pytest.mark.parametrize("K", [1, 0, 2.5, [10, 1]])
def test_bad_num_classes(K):
    with pytest.raises(ValueError, match="^num_classes"):
        normface_loss_bound(1.0, K)
    with pytest.raises(ValueError, match="^num_classes"):
        normface_scale_for_probability(0.9, K)


@pytest.mark.parametrize("p", [0.1, 0.0, 1.0, 1.5, np.nan, -0.2])
def test_bad_prob(p):
    with pytest.raises(ValueError, match="^prob"):
        normface_scale_for_probability(p, 10)


def test_temperature_is_keyword_only():
    """The trap of issue #14: smooth_max(Z, 1) meant T = 1; now the second
    positional argument is the axis, as for softmax and logsumexp."""
    Z = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 5.0]])
    np.testing.assert_array_equal(smooth_max(Z, 0), smooth_max(Z, axis=0))
    assert smooth_max(Z, 0).shape == (3,)
    with pytest.raises(ValueError, match="axis=1 is out of bounds"):
        smooth_max(np.array([1.0, 2.0]), 1)
    with pytest.raises(TypeError):
        smooth_max(Z, -1, 0.5)
