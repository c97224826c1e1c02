"""Hypothesis across scales: every public function on inputs from 1e-300 to 1e300.

``test_properties.py`` checks chapter 1's identities for logits of ordinary
size (spreads 1e-3 ... 1e3, offsets up to 1e5).  Here the inputs span the
whole float64 range: spreads ``m * 10**e`` with ``e`` in [-300, 300], offsets
up to +-1e307, temperatures from 5e-324 to 1.7e308, K from 1 to 1000, ties,
masked (``-inf``) classes, label-smoothing strengths down to subnormal and up
to 1 - 2**-53, and so on.  The checks are the invariants that hold at every
scale (no tolerance tuned to a particular magnitude):

* no NaN, ever, for finite valid input; ``inf`` only where the exact result
  overflows (or where the documentation promises it: masked targets);
* probabilities in [0, 1] summing to 1 within a few ulp times K;
* ``log_softmax <= 0``, ``logsumexp >= max``, shift invariance within the
  rounding of the shifted logits;
* ``cross_entropy >= 0`` and equal to ``-log_softmax[label]``, gradients
  summing to zero, smoothed labels summing to 1;
* ``smooth_max`` within ``[max, max + T log K]``;
* coverage quantities in their documented ranges.

Examples per test come from the Hypothesis profile of ``conftest.py``.
"""

import math

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import assume, given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import smoothmax as sm  # noqa: E402

EPS = np.finfo(np.float64).eps
BIG = np.finfo(np.float64).max


# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------

def magnitudes(lo=-300, hi=300):
    """Positive floats ``m * 10**e``, ``m`` in [1, 10), ``e`` in [lo, hi]."""
    return st.builds(lambda e, m: m * 10.0**e, st.integers(lo, hi),
                     st.floats(1.0, 9.99, allow_subnormal=False))


def signed(strategy):
    return st.tuples(strategy, st.booleans()).map(lambda t: -t[0] if t[1] else t[0])


EXTREMES = st.sampled_from([5e-324, 1e-300, 1e300, 1e307])
SPREADS = st.one_of(st.just(0.0), st.just(1.0), EXTREMES, magnitudes())
OFFSETS = st.one_of(st.just(0.0), signed(st.one_of(EXTREMES, magnitudes())))
TEMPERATURES = st.one_of(st.just(1.0), magnitudes(-300, 300),
                         st.sampled_from([5e-324, 1e-310, 1e308, 1.7e308]))
CLASSES = st.one_of(st.integers(1, 6), st.sampled_from([7, 16, 100, 1000]))
EPSILONS = st.one_of(st.sampled_from([0.0, 1.0, 5e-324, 1e-300, 0.5, 1 - 2**-53]),
                     magnitudes(-300, -1), st.floats(0.0, 1.0),
                     magnitudes(-300, -1).map(lambda x: 1.0 - x))


@st.composite
def logits(draw, min_k=1, batch=True, mask=True):
    """(K,) or (B, K) logits ``offset + spread * u`` with ties and masked classes."""
    K = max(min_k, draw(CLASSES))
    shape = (K,) if not batch or draw(st.booleans()) else (draw(st.integers(1, 3)), K)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    style = draw(st.sampled_from(["uniform", "normal", "ties", "one-hot"]))
    if style == "uniform":
        u = rng.uniform(-1.0, 1.0, shape)
    elif style == "normal":
        u = rng.standard_normal(shape)
    elif style == "ties":
        u = rng.integers(-1, 2, shape).astype(float)
    else:
        u = np.zeros(shape)
        u[..., rng.integers(0, K)] = 1.0
    z = draw(OFFSETS) + draw(SPREADS) * u
    if mask and K > 1 and draw(st.booleans()):
        masked = rng.random(shape) < draw(st.sampled_from([0.2, 0.5, 0.9]))
        keep = rng.integers(0, K, shape[:-1])            # one class stays per row
        np.put_along_axis(masked, np.asarray(keep)[..., None], False, axis=-1)
        z[masked] = -np.inf
    assert np.all(z < np.inf) and not np.isnan(z).any()
    return z


def no_nan(*arrays):
    for a in arrays:
        assert not np.isnan(a).any(), a


def spacing(x):
    return np.spacing(np.abs(np.asarray(x, dtype=np.float64)))


def _rows(draw, shape):
    """Probability rows of `shape` (softmax of logits across scales, some exact zeros)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    spread = draw(st.one_of(st.just(1.0), magnitudes(-300, 300)))
    z = spread * rng.standard_normal(shape)
    if shape[-1] > 1 and draw(st.booleans()):
        z[..., 0] = -np.inf                               # an exact zero
    return sm.softmax(z)


# ---------------------------------------------------------------------------
# Chapter 1: softmax, log_softmax, logsumexp, Jacobian
# ---------------------------------------------------------------------------

@given(logits(), TEMPERATURES)
def test_softmax_across_scales(z, T):
    a = sm.softmax(z, temperature=T)
    no_nan(a)
    K = z.shape[-1]
    assert np.all((a >= 0) & (a <= 1))
    assert np.all(a[z == -np.inf] == 0)
    np.testing.assert_allclose(a.sum(axis=-1), 1.0, rtol=0, atol=(2 * K + 8) * EPS)
    # the largest logit gets the largest probability (at least 1/K)
    top = np.take_along_axis(a, np.argmax(z, axis=-1)[..., None], axis=-1)
    assert np.all(top >= 1.0 / K * (1 - 8 * EPS))


@given(logits(), TEMPERATURES)
def test_log_softmax_across_scales(z, T):
    ls = sm.log_softmax(z, temperature=T)
    no_nan(ls)
    K = z.shape[-1]
    assert np.all(ls <= 0)
    assert np.all(ls[z == -np.inf] == -np.inf)
    assert np.all(ls.max(axis=-1) >= -np.log(K) * (1 + 4 * EPS))
    # finite wherever the exact value is: |(z_i - m) / T| well inside the range
    with np.errstate(over="ignore", invalid="ignore"):
        theta = (z - z.max(axis=-1, keepdims=True)) / T
    ok = np.isfinite(theta) & (np.abs(theta) < BIG / 4)
    assert np.all(np.isfinite(ls[ok]))


@given(logits())
def test_logsumexp_across_scales(z):
    lse = sm.logsumexp(z)
    no_nan(lse)
    m = z.max(axis=-1)
    K = z.shape[-1]
    assert np.all(np.isfinite(lse))
    assert np.all(lse >= m)
    assert np.all(lse <= m + np.log(K) * (1 + 4 * EPS) + 2 * spacing(m))
    if K == 1:
        np.testing.assert_array_equal(lse, z[..., 0])


@given(logits(), signed(magnitudes()), TEMPERATURES)
def test_shift_invariance_across_scales(z, c, T):
    zc = z + c
    assume(np.all(zc < np.inf) and np.all(zc[z > -np.inf] > -np.inf))
    # zc = z + c + r exactly with |r| <= ulp(zc)/2, and log_softmax is
    # 2-Lipschitz in the max-norm: the shift moves it by <= 2 max|r| / T
    with np.errstate(over="ignore"):
        r = float(np.max(spacing(zc[np.isfinite(zc)]))) / 2 / T
    ls, lsc = sm.log_softmax(z, temperature=T), sm.log_softmax(zc, temperature=T)
    no_nan(ls, lsc)
    both = np.isfinite(ls) & np.isfinite(lsc)
    # -inf in one and finite in the other: only at the overflow threshold
    odd = np.isfinite(ls) != np.isfinite(lsc)
    assert r > 1 or np.all(np.fmax(ls, lsc)[odd] < -BIG / 8)
    bound = 2 * r + 2 * spacing(ls[both]) + 2 * spacing(lsc[both])
    assert np.all(np.abs(ls[both] - lsc[both]) <= bound)
    if r < 1e-3:   # then softmax is within a relative 2r (+ 4 ulp each)
        a, ac = sm.softmax(z, temperature=T), sm.softmax(zc, temperature=T)
        np.testing.assert_allclose(ac, a, rtol=2.5 * r + 10 * EPS, atol=16 * 2.0**-1074)
    lse, lsec = sm.logsumexp(z), sm.logsumexp(zc)
    exact_shift = np.all((zc - c)[np.isfinite(z)] == z[np.isfinite(z)])
    if exact_shift:     # the same exact problem, shifted: within an ulp of each
        m = np.maximum(np.abs(lse), np.abs(lsec))
        assert np.all(np.abs((lsec - c) - lse) <= 4 * spacing(m) + 2 * spacing(c))


@given(logits(), TEMPERATURES)
def test_jacobian_and_jvp_across_scales(z, T):
    assume(z.shape[-1] <= 100)
    with np.errstate(over="ignore"):     # |a_i a_j / T| may exceed the range for tiny T
        J = sm.softmax_jacobian(z, temperature=T)
    no_nan(J)
    if T >= 1e-300:                      # |J_ij| <= 1 / (4 T) fits
        assert np.all(np.isfinite(J))
    np.testing.assert_array_equal(J, np.swapaxes(J, -1, -2))
    a = sm.softmax(z, temperature=T)
    K = z.shape[-1]
    rows = np.all(np.isfinite(J), axis=-1)
    with np.errstate(over="ignore", invalid="ignore"):
        bound = 8 * K * EPS * a / T + 1e-300
        total = np.abs(J.sum(axis=-1))
    assert np.all((total <= bound)[rows])
    rng = np.random.default_rng(K)
    # |v| up to ~1e307 (the huge-tangent regression test below goes to the maximum)
    v = rng.standard_normal(z.shape) * 10.0 ** rng.integers(-300, 307)
    with np.errstate(over="ignore"):     # |J v| may exceed the range for tiny T
        jv = sm.softmax_jvp(z, v, temperature=T)
        scale = np.sum(np.abs(a * v), axis=-1) / T
    no_nan(jv)
    fin = np.all(np.isfinite(jv), axis=-1) & np.isfinite(scale)
    with np.errstate(invalid="ignore", over="ignore"):
        total = np.abs(jv.sum(axis=-1))
    assert np.all(total[fin] <= (8 * K * EPS * scale + 1e-300)[fin])


def test_softmax_jvp_huge_tangent_gives_no_nan():
    """Regression: v - <a, v> overflowed for |v| near the float64 maximum and a
    class with probability 0 got 0 * inf = NaN."""
    for z in ([0.0, -1000.0], [0.0, -np.inf]):
        jv = sm.softmax_jvp(z, [-1.7e308, 1.7e308])
        np.testing.assert_array_equal(jv, [0.0, 0.0])     # the exact value, underflowed
    z, v = np.array([0.3, -0.2, 1.1]), np.array([1.5e308, -1.2e308, 0.7e308])
    np.testing.assert_allclose(sm.softmax_jvp(z, v), 2.0**64 * sm.softmax_jvp(z, v / 2.0**64), rtol=1e-15)


# ---------------------------------------------------------------------------
# Chapter 2 and 3: cross-entropy, its gradient, label smoothing
# ---------------------------------------------------------------------------

@given(logits(), st.data(), EPSILONS, st.sampled_from(["uniform", "others"]))
def test_cross_entropy_index_targets_across_scales(z, data, eps, convention):
    K = z.shape[-1]
    assume(K >= 2 or convention == "uniform")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    y = rng.integers(0, K, z.shape[:-1])
    loss = sm.cross_entropy(z, y, label_smoothing=eps, convention=convention,
                            reduction="none")
    no_nan(loss)
    assert np.all(loss >= 0)
    nl = -sm.log_softmax(z)
    nl_y = np.take_along_axis(nl, np.asarray(y)[..., None], axis=-1)[..., 0]
    if eps == 0.0:
        # both within 1 ulp of the exact -log a_y
        np.testing.assert_allclose(loss, nl_y, rtol=2 * EPS, atol=2 * 2.0**-1074)
    else:
        q = sm.smooth_labels(y, K, eps, convention=convention) if K >= 2 else np.ones(z.shape)
        with np.errstate(invalid="ignore"):
            terms = np.where(q > 0, q * nl, 0.0)
        expected = terms.sum(axis=-1)
        np.testing.assert_allclose(loss, expected, rtol=(K + 8) * EPS, atol=4 * 2.0**-1074)
    g = sm.cross_entropy_grad(z, y, label_smoothing=eps, convention=convention, reduction="sum")
    no_nan(g)
    assert np.all(np.abs(g) <= 1 + 4 * EPS)
    assert np.all(np.abs(g.sum(axis=-1)) <= 8 * K * EPS)
    assert sm.cross_entropy(z, y, label_smoothing=eps, convention=convention) >= 0


@given(logits(), st.data(), EPSILONS)
def test_cross_entropy_probability_targets_across_scales(z, data, eps):
    K = z.shape[-1]
    q = _rows(data.draw, z.shape)
    loss = sm.cross_entropy(z, q, label_smoothing=eps, reduction="none")
    no_nan(loss)
    assert np.all(loss >= 0)
    g = sm.cross_entropy_grad(z, q, label_smoothing=eps, reduction="sum")
    no_nan(g)
    assert np.all(np.abs(g) <= 1 + 8 * EPS)
    assert np.all(np.abs(g.sum(axis=-1)) <= 8 * K * EPS)
    if eps == 0.0:     # finite where no mass sits on a class with log a_k = -inf
        ok = np.all(np.isfinite(sm.log_softmax(z)) | (q == 0), axis=-1)
        assert np.all(np.isfinite(loss[ok]))


@given(st.integers(0, 2**32 - 1), st.one_of(st.integers(2, 6), st.sampled_from([7, 1000, 10**5])),
       EPSILONS, st.sampled_from(["uniform", "others"]))
def test_smooth_labels_across_scales(seed, K, eps, convention):
    y = np.random.default_rng(seed).integers(0, K, 3)
    q = sm.smooth_labels(y, K, eps, convention=convention)
    no_nan(q)
    assert np.all((q >= 0) & (q <= 1))
    np.testing.assert_allclose(q.sum(axis=-1), 1.0, rtol=0, atol=(K + 4) * EPS)
    if eps < (K - 1) / K:   # the target keeps the largest probability
        assert np.all(q[np.arange(len(y)), y] >= q.max(axis=-1))


@given(EPSILONS, st.one_of(st.integers(2, 10), st.sampled_from([1000, 10**6, 2**53])),
       st.sampled_from(["uniform", "others"]))
def test_optimal_logit_gap_across_scales(eps, K, convention):
    gap = sm.optimal_logit_gap(eps, K, convention=convention)
    no_nan(gap)
    if eps == 0.0:
        assert gap == np.inf
    elif convention == "uniform":
        assert 0.0 <= gap < np.inf
        assert (gap == 0.0) == (eps == 1.0)
    elif eps == 1.0:
        assert gap == -np.inf
    else:
        assert np.isfinite(gap)
        # sign: positive below (K-1)/K (up to the rounding of the crossing)
        if eps < (K - 1) / K * (1 - 4 * EPS):
            assert gap > 0
        elif eps > (K - 1) / K * (1 + 4 * EPS):
            assert gap < 0
    # the gap decreases with eps
    e2 = min(1.0, eps * 2 + 1e-300)
    assert sm.optimal_logit_gap(e2, K, convention=convention) <= gap * (1 + 4 * EPS) + 4 * EPS


# ---------------------------------------------------------------------------
# Chapter 4: coverage and the pointer-generator
# ---------------------------------------------------------------------------

@given(st.data(), st.integers(1, 6), st.one_of(st.integers(1, 6), st.just(100)),
       st.integers(0, 2))
def test_coverage_across_scales(data, steps, L, batch):
    shape = (steps, L) if batch == 0 else (batch, steps, L)
    a = _rows(data.draw, shape)
    c = sm.coverage(a)
    loss = sm.coverage_loss(a)
    g = sm.coverage_loss_grad(a)
    no_nan(c, loss, g)
    t = np.arange(steps)
    np.testing.assert_allclose(c.sum(axis=-1), np.broadcast_to(t, c.shape[:-1]),
                               rtol=0, atol=(steps * L + 4) * EPS)
    assert np.all(c >= 0) and np.all(np.diff(c, axis=-2) >= 0)
    assert np.all(loss >= 0) and np.all(loss <= 1 + L * EPS)
    assert np.all(loss[..., 0] == 0)
    assert np.all(g == np.round(g)) and np.all((g >= 0) & (g <= steps))


@given(st.data(), st.integers(1, 8), st.integers(1, 8), st.integers(0, 4),
       st.one_of(st.sampled_from([0.0, 1.0, 5e-324, 1 - 2**-53]), st.floats(0, 1),
                 magnitudes(-300, -1)))
def test_pointer_generator_across_scales(data, V, L, n_oov, p_gen):
    pv = _rows(data.draw, (V,))
    a = _rows(data.draw, (L,))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    ids = rng.integers(0, V + n_oov, L)
    p = sm.pointer_generator(pv, a, ids, p_gen, extended_vocab_size=V + n_oov)
    no_nan(p)
    assert p.shape == (V + n_oov,)
    assert np.all((p >= 0) & (p <= 1 + 4 * EPS))
    assert abs(p.sum() - 1.0) <= (V + L + 4) * EPS


@given(st.data(), st.integers(1, 5), st.integers(1, 4), st.integers(1, 4), st.integers(1, 4))
def test_attention_with_coverage_across_scales(data, L, d_h, d_s, d_a):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))

    def arr(*shape):
        scale = data.draw(st.one_of(st.just(1.0), st.sampled_from([1e-300, 1e300, 1e307]),
                                    magnitudes()))
        return rng.standard_normal(shape) * scale

    c = np.abs(arr(L))
    v = arr(d_a)
    scores, attn = sm.attention_with_coverage(arr(L, d_h), arr(d_s), c, arr(d_a, d_h),
                                              arr(d_a, d_s), arr(d_a), v, arr(d_a))
    no_nan(scores, attn)
    bound = np.sum(np.abs(v))
    if bound < BIG:           # |scores| <= sum |v| (tanh is in [-1, 1])
        assert np.all(np.abs(scores) <= bound * (1 + (d_a + 2) * EPS))
    assert np.all((attn >= 0) & (attn <= 1))
    assert abs(attn.sum() - 1.0) <= (2 * L + 8) * EPS


def test_attention_with_coverage_overflow_regression():
    # W_h h = 1e600 and w_c c = -2e600 overflow to inf and -inf (sum: NaN);
    # the exact pre-activation is -1e600, so tanh = -1 and the score is -v
    H = np.array([[1e300], [0.0]])
    scores, attn = sm.attention_with_coverage(H, [0.0], [1e300, 0.0], [[1e300]], [[0.0]],
                                              [-2e300], [3.0], [0.0])
    np.testing.assert_array_equal(scores, [-3.0, 0.0])
    np.testing.assert_allclose(attn, sm.softmax([-3.0, 0.0]), rtol=4 * EPS)
    # sum |v| overflows: equal scores (+inf) still give uniform attention
    scores, attn = sm.attention_with_coverage(np.ones((2, 1)), [0.0], [0.0, 0.0],
                                              [[100.0], [100.0]], [[0.0], [0.0]], [0.0, 0.0],
                                              [1e308, 1e308], [0.0, 0.0])
    assert np.all(scores == np.inf)
    np.testing.assert_array_equal(attn, [0.5, 0.5])


# ---------------------------------------------------------------------------
# Chapter 5: smooth maximum and the NormFace scale
# ---------------------------------------------------------------------------

@given(logits(), TEMPERATURES)
def test_smooth_max_across_scales(z, T):
    m = z.max(axis=-1)
    K = z.shape[-1]
    with np.errstate(over="ignore"):
        sm_ = sm.smooth_max(z, temperature=T)
        upper = m + T * np.log(K)
    no_nan(sm_)
    assert np.all(sm_ >= m)
    fits = np.isfinite(upper) & (np.abs(upper) < BIG / 2)
    assert np.all(np.isfinite(sm_[fits]))
    with np.errstate(over="ignore"):
        tol = 4 * spacing(np.abs(m) + T * np.log(K))
    assert np.all((sm_ <= upper + tol)[fits])
    if K == 1:
        np.testing.assert_array_equal(sm_, z[..., 0])
    # increasing in the temperature
    with np.errstate(over="ignore"):
        sm2 = sm.smooth_max(z, temperature=T * 2 if T < BIG / 2 else T)
    assert np.all((sm2 >= sm_ - tol)[fits])


@given(st.one_of(magnitudes(), st.just(np.inf), st.just(5e-324)),
       st.one_of(st.integers(2, 10), st.sampled_from([10575, 10**9, 2**53])))
def test_normface_loss_bound_across_scales(s, K):
    b = sm.normface_loss_bound(s, K)
    no_nan(b)
    assert 0.0 <= b <= np.log(K) * (1 + 4 * EPS)
    b2 = sm.normface_loss_bound(min(s * 2, np.inf), K)
    assert b2 <= b * (1 + 4 * EPS)


@given(st.one_of(st.integers(2, 10), st.sampled_from([10575, 10**9, 2**53])), st.data())
def test_normface_scale_for_probability_across_scales(K, data):
    lo = 1.0 / K
    frac = data.draw(st.one_of(st.floats(0.0, 1.0), magnitudes(-300, -1),
                               magnitudes(-300, -1).map(lambda x: 1 - x)))
    p = lo + (1.0 - lo) * frac
    assume(lo < p < 1.0)
    s = sm.normface_scale_for_probability(p, K)
    no_nan(s)
    assert np.isfinite(s)
    # >= 0 up to the cancellation in log(K - 1) + log(p) - log1p(-p)
    terms = abs(math.log(K - 1)) + abs(math.log(p)) + abs(math.log1p(-p))
    assert s >= -8 * EPS * terms
    if 1e-3 < s < 600:      # well-conditioned: the inverse of the loss bound
        np.testing.assert_allclose(sm.normface_loss_bound(s, K), -math.log(p),
                                   rtol=1e-9 * max(1.0, s), atol=1e-300)


# ---------------------------------------------------------------------------
# Every public function is exercised across scales
# ---------------------------------------------------------------------------

EXERCISED = {
    "softmax": test_softmax_across_scales,
    "log_softmax": test_log_softmax_across_scales,
    "logsumexp": test_logsumexp_across_scales,
    "softmax_jacobian": test_jacobian_and_jvp_across_scales,
    "softmax_jvp": test_jacobian_and_jvp_across_scales,
    "cross_entropy": test_cross_entropy_index_targets_across_scales,
    "cross_entropy_grad": test_cross_entropy_probability_targets_across_scales,
    "smooth_labels": test_smooth_labels_across_scales,
    "optimal_logit_gap": test_optimal_logit_gap_across_scales,
    "coverage": test_coverage_across_scales,
    "coverage_loss": test_coverage_across_scales,
    "coverage_loss_grad": test_coverage_across_scales,
    "pointer_generator": test_pointer_generator_across_scales,
    "attention_with_coverage": test_attention_with_coverage_across_scales,
    "smooth_max": test_smooth_max_across_scales,
    "normface_loss_bound": test_normface_loss_bound_across_scales,
    "normface_scale_for_probability": test_normface_scale_for_probability_across_scales,
}


def test_every_public_function_is_exercised_across_scales():
    assert sorted(EXERCISED) == sorted(sm.__all__)
