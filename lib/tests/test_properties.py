"""Property-based tests (Hypothesis) of chapter 1's identities.

Logits are drawn across scales 1e-3 ... 1e3, with optional large offsets, so
the identities are checked where naive implementations break.  Tolerances are
stated in units of eps = 2**-52 and derived from the documented accuracy.
"""

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import assume, given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from smoothmax import (  # noqa: E402
    log_softmax,
    logsumexp,
    softmax,
    softmax_jacobian,
    softmax_jvp,
)

EPS = np.finfo(np.float64).eps
SCALES = [1e-3, 1e-1, 1.0, 10.0, 30.0, 1e3]
OFFSETS = [0.0, 0.0, 0.0, 700.0, -700.0, 1e4, -1e5]


@st.composite
def logits(draw, min_k=1, max_k=12, batch=True, offsets=True, scales=SCALES):
    """Arrays of shape (K,) or (B, K) with entries ``scale * u + offset``."""
    K = draw(st.integers(min_k, max_k))
    shape = (draw(st.integers(1, 3)), K) if batch and draw(st.booleans()) else (K,)
    u = draw(hnp.arrays(np.float64, shape,
                        elements=st.floats(-1.0, 1.0, allow_subnormal=False)))
    scale = draw(st.sampled_from(scales))
    offset = draw(st.sampled_from(OFFSETS)) if offsets else 0.0
    return u * scale + offset


temperatures = st.sampled_from([1.0, 1.0, 0.5, 0.1, 3.0, 1e-3, 1e3, 0.7])


@given(logits(), temperatures)
def test_softmax_is_a_distribution(z, T):
    a = softmax(z, temperature=T)
    assert a.dtype == np.float64 and a.shape == z.shape
    assert np.all(a >= 0) and np.all(a <= 1)
    K = z.shape[-1]
    # each entry within 4 ulp, the float sum adds <= K-1 roundings
    np.testing.assert_allclose(a.sum(axis=-1), 1.0, rtol=0, atol=(2 * K + 4) * EPS)


@given(logits(), temperatures)
def test_log_softmax_nonpositive_and_consistent(z, T):
    ls = log_softmax(z, temperature=T)
    assert np.all(ls <= 0)
    assert np.all(ls.max(axis=-1) > -np.log(z.shape[-1]) - 1e-12)
    a = softmax(z, temperature=T)
    safe = a > 1e-300                      # log(softmax) is meaningful there
    # log a has absolute error ~4 eps (from a's 4 ulp), log_softmax 1 ulp
    np.testing.assert_allclose(ls[safe], np.log(a[safe]), rtol=2 * EPS, atol=8 * EPS)


@given(logits(), st.sampled_from([1.0, -1.0, 0.5, 1024.0, -3e4, 2.0**20]))
def test_softmax_shift_invariance(z, c):
    # keep only shifts that are exact in floating point, so the exact answer
    # is identical and each computed one is within 4 ulp (1 ulp for log)
    zc = z + c
    assume(np.array_equal(zc - c, z))
    np.testing.assert_allclose(softmax(zc), softmax(z), rtol=8 * EPS, atol=1e-300)
    np.testing.assert_allclose(log_softmax(zc), log_softmax(z), rtol=2 * EPS, atol=0)


@given(logits())
def test_logsumexp_bounds(z):
    m = z.max(axis=-1)
    lse = logsumexp(z)
    K = z.shape[-1]
    assert np.all(lse >= m)
    assert np.all(lse <= m + np.log(K) * (1 + 2 * EPS) + 2 * EPS * np.abs(m))


@given(logits(), temperatures)
def test_temperature_equals_softmax_of_z_over_T(z, T):
    zt = z / T                                   # rounded: relative perturbation of
    assume(np.all(np.isfinite(zt)))              # each logit <= eps/2, i.e. an
    a = softmax(z, temperature=T)                # absolute one of |zt| eps/2,
    spread = np.max(np.abs(zt - zt.max(axis=-1, keepdims=True)))
    rtol = (8 + 2 * spread + 2 * np.abs(zt).max()) * EPS
    np.testing.assert_allclose(a, softmax(zt), rtol=rtol, atol=1e-300)


@given(logits(max_k=10), temperatures)
def test_jacobian_symmetric(z, T):
    J = softmax_jacobian(z, temperature=T)
    assert J.shape == z.shape + z.shape[-1:]
    np.testing.assert_array_equal(J, np.swapaxes(J, -1, -2))


@given(logits(max_k=10), temperatures)
def test_jacobian_rows_sum_to_zero(z, T):
    J = softmax_jacobian(z, temperature=T)
    a = softmax(z, temperature=T)
    K = z.shape[-1]
    bound = 4 * K * EPS * a / T                 # row i has entries ~ a_i a_j / T
    assert np.all(np.abs(J.sum(axis=-1)) <= bound + 1e-300)


@given(logits(min_k=2, max_k=10, batch=False), temperatures)
def test_jacobian_psd(z, T):
    J = softmax_jacobian(z, temperature=T)
    eig = np.linalg.eigvalsh(J)
    tiny = 4 * len(z) * EPS * np.abs(J).max()
    assert eig.min() >= -tiny


@given(logits(min_k=2, max_k=10, batch=False, offsets=True, scales=[1e-3, 1e-1, 1.0, 3.0]),
       st.sampled_from([1.0, 0.5, 3.0]))
def test_jacobian_rank_k_minus_1(z, T):
    # finite logits with a moderate spread (<= 2*3/T <= 12): every a_i >= e^-12/K,
    # so the K-1 nonzero eigenvalues (which interlace the a_i / T) are well
    # above rounding level and the numerical rank is unambiguous
    J = softmax_jacobian(z, temperature=T)
    K = len(z)
    eig = np.sort(np.linalg.eigvalsh(J))
    tol = 4 * K * EPS * np.abs(J).max()
    assert abs(eig[0]) <= tol
    assert eig[1] >= softmax(z, temperature=T).min() / T * 0.5
    assert np.linalg.matrix_rank(J, tol=1e3 * tol) == K - 1


@given(logits(max_k=10), temperatures, st.data())
def test_jvp_equals_jacobian_times_v(z, T, data):
    v = data.draw(hnp.arrays(np.float64, z.shape,
                             elements=st.floats(-10.0, 10.0, allow_subnormal=False)))
    jv = softmax_jvp(z, v, temperature=T)
    J = softmax_jacobian(z, temperature=T)
    expected = np.einsum("...ij,...j->...i", J, v)
    a = softmax(z, temperature=T)
    K = z.shape[-1]
    scale = np.abs(a * v).sum(axis=-1, keepdims=True) / T + np.abs(v).max() * a / T
    assert np.all(np.abs(jv - expected) <= 4 * K * EPS * scale + 1e-300)


@given(logits(min_k=2, max_k=8, batch=False), st.integers(0, 7))
def test_masking_equals_dropping_the_class(z, i):
    i = i % len(z)
    zm = z.copy()
    zm[i] = -np.inf
    keep = np.arange(len(z)) != i
    # equal up to rounding (the summation grid depends on K, so the last
    # bit may differ; both are within the documented accuracy)
    a = softmax(zm)
    assert a[i] == 0.0
    np.testing.assert_allclose(a[keep], softmax(z[keep]), rtol=4 * EPS, atol=1e-300)
    ls = log_softmax(zm)
    assert ls[i] == -np.inf
    np.testing.assert_allclose(ls[keep], log_softmax(z[keep]), rtol=2 * EPS, atol=0)
    assert logsumexp(zm) == pytest.approx(logsumexp(z[keep]), rel=2 * EPS, abs=0)
    J = softmax_jacobian(zm)
    assert np.all(J[i] == 0) and np.all(J[:, i] == 0)
