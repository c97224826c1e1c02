"""Unit tests for smoothmax.core: chapter 1's identities, worked numbers,
masking, shapes/dtypes and input validation.

The tests named ``test_jacobian_*`` / ``test_softmax_shift_invariance`` /
``test_jvp_equals_jacobian_times_v`` are the twins of the equations of
chapter 1 (chapters/01_softmax.ipynb); Hypothesis versions of the same
identities are in ``test_properties.py``, accuracy against mpmath in
``test_accuracy.py``.
"""

import subprocess
import sys

import numpy as np
import pytest

import smoothmax as sm
from smoothmax import log_softmax, logsumexp, softmax, softmax_jacobian, softmax_jvp

EPS = np.finfo(np.float64).eps
PUBLIC = [logsumexp, softmax, log_softmax, softmax_jacobian, softmax_jvp]

# a few fixed logit vectors used by the identity twins
Z_EXAMPLES = [
    np.array([1.0, 2.0, 3.0, 4.0]),
    np.array([-0.5, 0.25, 3.0]),
    np.array([10.0, -3.0, 2.5, 2.5, 0.0, 7.0]),
    np.array([1000.0, 1001.0, 999.5]),
    np.array([0.0, 0.0]),
]


# ---------------------------------------------------------------------------
# package surface
# ---------------------------------------------------------------------------

def test_public_api():
    assert sm.__version__ == "0.1.0"
    assert {"logsumexp", "softmax", "log_softmax", "softmax_jacobian",
            "softmax_jvp"} <= set(sm.__all__)
    assert len(set(sm.__all__)) == len(sm.__all__), "a name exported twice"
    import importlib
    modules = [importlib.import_module(f"smoothmax.{m}") for m in sm._MODULES]
    assert sorted(sm.__all__) == sorted(n for m in modules for n in m.__all__)
    assert "widgets" not in sm._MODULES  # matplotlib stays an explicit import
    for name in sm.__all__:
        assert callable(getattr(sm, name))


def test_import_does_not_pull_in_widgets():
    code = ("import sys, smoothmax; "
            "bad = [m for m in ('smoothmax.widgets', 'matplotlib', 'ipywidgets') "
            "if m in sys.modules]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------------
# worked numbers of chapter 1
# ---------------------------------------------------------------------------

def test_seed_worked_numbers():
    z = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(softmax(z).round(4), [0.0321, 0.0871, 0.2369, 0.6439])
    assert round(float(logsumexp(z)), 4) == 4.4402
    # times 10: LSE is 40 to 2 d.p. (exact 40.0000454...)
    lse10 = float(logsumexp(10 * z))
    assert round(lse10, 2) == 40.00
    assert abs(lse10 - 40.0000454) < 1e-7
    # divided by 10 (equivalently temperature 10)
    expected = [0.2138, 0.2363, 0.2612, 0.2887]
    np.testing.assert_array_equal(softmax(z / 10).round(4), expected)
    np.testing.assert_array_equal(softmax(z, temperature=10).round(4), expected)
    assert round(float(logsumexp(z / 10)), 4) == 1.6425
    # log-softmax is z - LSE
    np.testing.assert_allclose(log_softmax(z), z - logsumexp(z), rtol=0, atol=4 * EPS)


def test_naive_softmax_overflows():
    """exp(z)/sum(exp(z)) overflows to inf/inf = nan for z = [1000, 1001]."""
    z = np.array([1000.0, 1001.0])
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(z) / np.sum(np.exp(z))
    assert np.isnan(naive).all()
    a = softmax(z)
    expected = np.array([1.0 / (1.0 + np.e), np.e / (1.0 + np.e)])
    np.testing.assert_allclose(a, expected, rtol=4 * EPS)
    assert float(logsumexp(z)) == pytest.approx(1001.0 + np.log1p(np.exp(-1.0)), rel=EPS)
    # and underflow: log(softmax) is -inf where log_softmax is exact
    z = np.array([0.0, 1000.0])
    with np.errstate(divide="ignore"):
        assert np.log(softmax(z))[0] == -np.inf
    np.testing.assert_array_equal(log_softmax(z), [-1000.0, 0.0])


# ---------------------------------------------------------------------------
# twins of chapter 1's identities
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("z", Z_EXAMPLES, ids=str)
@pytest.mark.parametrize("T", [1.0, 0.5, 3.0])
def test_jacobian_diagonal_a_1_minus_a(z, T):
    a = softmax(z, temperature=T)
    J = softmax_jacobian(z, temperature=T)
    # 1 - a_i computed naively has an absolute error ~eps (cancellation when
    # a_i ~ 1; the library avoids it), hence an error bound relative to a_i/T
    assert np.all(np.abs(np.diagonal(J) - a * (1 - a) / T) <= 4 * EPS * a / T)


@pytest.mark.parametrize("z", Z_EXAMPLES, ids=str)
@pytest.mark.parametrize("T", [1.0, 0.5, 3.0])
def test_jacobian_offdiag_minus_ai_aj(z, T):
    a = softmax(z, temperature=T)
    J = softmax_jacobian(z, temperature=T)
    K = len(z)
    for i in range(K):
        for j in range(K):
            if i != j:
                assert J[i, j] == pytest.approx(-a[i] * a[j] / T, rel=4 * EPS, abs=0)


@pytest.mark.parametrize("z", Z_EXAMPLES, ids=str)
@pytest.mark.parametrize("T", [1.0, 0.5, 3.0])
def test_jacobian_equals_diag_minus_outer(z, T):
    a = softmax(z, temperature=T)
    J = softmax_jacobian(z, temperature=T)
    np.testing.assert_allclose(J, (np.diag(a) - np.outer(a, a)) / T,
                               rtol=0, atol=8 * EPS * a.max() / T)


@pytest.mark.parametrize("z", Z_EXAMPLES, ids=str)
def test_jacobian_symmetric(z):
    J = softmax_jacobian(z, temperature=0.7)
    np.testing.assert_array_equal(J, J.T)
    Jb = softmax_jacobian(np.stack([z, z[::-1]]))
    np.testing.assert_array_equal(Jb, np.swapaxes(Jb, -1, -2))


@pytest.mark.parametrize("z", Z_EXAMPLES, ids=str)
@pytest.mark.parametrize("T", [1.0, 0.25])
def test_jacobian_rows_sum_to_zero(z, T):
    J = softmax_jacobian(z, temperature=T)
    a = softmax(z, temperature=T)
    np.testing.assert_allclose(J.sum(axis=1), 0.0, atol=4 * len(z) * EPS * a.max() / T)
    np.testing.assert_allclose(J.sum(axis=0), 0.0, atol=4 * len(z) * EPS * a.max() / T)


@pytest.mark.parametrize("z", Z_EXAMPLES, ids=str)
def test_jacobian_psd(z):
    J = softmax_jacobian(z)
    eig = np.linalg.eigvalsh(J)
    assert eig.min() >= -len(z) * EPS * np.abs(J).max()
    # and v^T J v = Var_a(v) >= 0 for random v
    rng = np.random.default_rng(0)
    for v in rng.standard_normal((20, len(z))):
        a = softmax(z)
        var = a @ (v - a @ v) ** 2
        assert v @ J @ v == pytest.approx(var, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("z", Z_EXAMPLES, ids=str)
def test_jacobian_rank_k_minus_1(z):
    J = softmax_jacobian(z)
    K = len(z)
    eig = np.sort(np.linalg.eigvalsh(J))
    tol = K * EPS * np.abs(J).max()
    assert abs(eig[0]) <= tol                    # the null vector is 1
    assert eig[1] > 1e3 * tol                    # all others are clearly > 0
    assert np.linalg.matrix_rank(J, tol=1e3 * tol) == K - 1
    np.testing.assert_allclose(J @ np.ones(K), 0.0, atol=tol)


@pytest.mark.parametrize("z", Z_EXAMPLES, ids=str)
@pytest.mark.parametrize("c", [1.0, -37.5, 1024.0, 2.0**20])
def test_softmax_shift_invariance(z, c):
    # z + c is exact for these values, so the exact softmax is identical and
    # both computed results are within 4 ulp of it
    zc = z + c
    assert np.array_equal(zc - c, z)
    np.testing.assert_allclose(softmax(zc), softmax(z), rtol=8 * EPS, atol=0)
    np.testing.assert_allclose(log_softmax(zc), log_softmax(z), rtol=2 * EPS, atol=0)
    assert float(logsumexp(zc)) == pytest.approx(float(logsumexp(z)) + c, rel=2 * EPS)


@pytest.mark.parametrize("z", Z_EXAMPLES, ids=str)
@pytest.mark.parametrize("T", [1.0, 0.3, 5.0])
def test_jvp_equals_jacobian_times_v(z, T):
    rng = np.random.default_rng(1)
    for v in rng.standard_normal((5, len(z))):
        jv = softmax_jvp(z, v, temperature=T)
        J = softmax_jacobian(z, temperature=T)
        scale = np.abs(softmax(z, temperature=T) * v).max() / T + np.abs(J @ v).max()
        np.testing.assert_allclose(jv, J @ v, rtol=0, atol=8 * len(z) * EPS * scale)


def test_jvp_batched_matches_loop():
    rng = np.random.default_rng(2)
    z = rng.standard_normal((3, 4, 5)) * 3
    v = rng.standard_normal((3, 4, 5))
    jv = softmax_jvp(z, v, temperature=2.0)
    J = softmax_jacobian(z, temperature=2.0)
    assert J.shape == (3, 4, 5, 5)
    np.testing.assert_allclose(jv, np.einsum("...ij,...j->...i", J, v), atol=1e-15)


# ---------------------------------------------------------------------------
# finite differences
# ---------------------------------------------------------------------------

def _central_diff(f, z, h=1e-6):
    K = len(z)
    cols = []
    for j in range(K):
        dz = np.zeros(K)
        dz[j] = h
        cols.append((f(z + dz) - f(z - dz)) / (2 * h))
    return np.stack(cols, axis=-1)


@pytest.mark.parametrize("z", [np.array([0.1, -0.4, 0.3, 0.0]),
                               np.array([1.0, 2.0, 3.0, 4.0])], ids=str)
@pytest.mark.parametrize("T", [1.0, 2.0])
def test_jacobian_matches_central_differences(z, T):
    J_fd = _central_diff(lambda u: softmax(u, temperature=T), z)
    J = softmax_jacobian(z, temperature=T)
    # truncation O(h^2) ~ 1e-12, rounding O(eps/h) ~ 1e-10 relative to |J|
    np.testing.assert_allclose(J_fd, J, rtol=1e-8, atol=1e-8 * np.abs(J).max())


@pytest.mark.parametrize("z", [np.array([0.1, -0.4, 0.3, 0.0]),
                               np.array([1.0, 2.0, 3.0, 4.0]),
                               np.array([100.0, 101.0, 99.0])], ids=str)
def test_grad_logsumexp_is_softmax(z):
    g = _central_diff(logsumexp, z)
    np.testing.assert_allclose(g, softmax(z), rtol=1e-8, atol=1e-9)


# ---------------------------------------------------------------------------
# masking with -inf
# ---------------------------------------------------------------------------

def test_masked_entries():
    z = np.array([1.0, -np.inf, 3.0, -np.inf])
    a = softmax(z)
    assert a[1] == 0.0 and a[3] == 0.0
    np.testing.assert_allclose(a[[0, 2]], softmax([1.0, 3.0]), rtol=2 * EPS)
    ls = log_softmax(z)
    assert ls[1] == -np.inf and ls[3] == -np.inf
    np.testing.assert_allclose(ls[[0, 2]], log_softmax([1.0, 3.0]), rtol=2 * EPS)
    assert float(logsumexp(z)) == pytest.approx(float(logsumexp([1.0, 3.0])), rel=EPS)
    J = softmax_jacobian(z)
    assert not np.isnan(J).any()
    assert (J[1] == 0).all() and (J[:, 1] == 0).all()
    assert (J[3] == 0).all() and (J[:, 3] == 0).all()
    np.testing.assert_allclose(J[np.ix_([0, 2], [0, 2])], softmax_jacobian([1.0, 3.0]),
                               atol=4 * EPS)
    jv = softmax_jvp(z, np.array([1.0, 5.0, -2.0, 7.0]))
    assert jv[1] == 0.0 and jv[3] == 0.0
    np.testing.assert_allclose(jv[[0, 2]], softmax_jvp([1.0, 3.0], [1.0, -2.0]), atol=4 * EPS)


def test_masked_with_temperature_and_axis():
    z = np.array([[0.0, -np.inf], [-np.inf, 2.0], [1.0, 1.0]])
    a = softmax(z, axis=1, temperature=0.3)
    np.testing.assert_array_equal(a, [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    ls = log_softmax(z, axis=1, temperature=0.3)
    np.testing.assert_array_equal(ls[:2], [[0.0, -np.inf], [-np.inf, 0.0]])
    a0 = softmax(z, axis=0)
    assert a0[1, 0] == 0.0 and a0[0, 1] == 0.0


# ---------------------------------------------------------------------------
# shapes, dtypes, axes, special values
# ---------------------------------------------------------------------------

def test_output_dtype_and_lists():
    for z in ([1, 2, 3], np.array([1, 2, 3], dtype=np.int8),
              np.array([1, 2, 3], dtype=np.float32), (1.0, 2.0, 3.0)):
        for f in (softmax, log_softmax, softmax_jacobian):
            assert f(z).dtype == np.float64
        assert np.asarray(logsumexp(z)).dtype == np.float64
    np.testing.assert_array_equal(softmax([1, 2, 3]), softmax([1.0, 2.0, 3.0]))


def test_logsumexp_shapes():
    z = np.arange(24.0).reshape(2, 3, 4)
    assert logsumexp(z).shape == (2, 3)
    assert logsumexp(z, axis=1).shape == (2, 4)
    assert logsumexp(z, axis=-3).shape == (3, 4)
    r = logsumexp([1.0, 2.0])
    assert isinstance(r, np.float64) and np.ndim(r) == 0


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2])
def test_axis_equivalent_to_moveaxis(axis):
    rng = np.random.default_rng(3)
    z = rng.standard_normal((3, 4, 5)) * 10
    zm = np.moveaxis(z, axis, -1)
    for f in (softmax, log_softmax):
        np.testing.assert_array_equal(np.moveaxis(f(z, axis=axis), axis, -1), f(zm))
    np.testing.assert_array_equal(logsumexp(z, axis=axis), logsumexp(zm))


def test_noncontiguous_and_fortran_inputs():
    rng = np.random.default_rng(4)
    z = rng.standard_normal((6, 8)) * 5
    zf = np.asfortranarray(z)
    zs = np.repeat(z, 2, axis=1)[:, ::2]
    for zz in (zf, zs):
        np.testing.assert_array_equal(softmax(zz), softmax(z))
        np.testing.assert_array_equal(log_softmax(zz), log_softmax(z))
        np.testing.assert_array_equal(logsumexp(zz), logsumexp(z))


def test_input_not_modified():
    z = np.array([[1.0, -np.inf, 3.0], [0.5, 0.25, 8.0]])
    z0 = z.copy()
    v = np.ones_like(z)
    for f in (softmax, log_softmax, logsumexp, softmax_jacobian):
        f(z)
    softmax_jvp(z, v, temperature=0.7)
    log_softmax(z, temperature=3.0)
    np.testing.assert_array_equal(z, z0)
    np.testing.assert_array_equal(v, 1.0)


def test_single_class():
    assert softmax([5.0]).tolist() == [1.0]
    assert log_softmax([-7.0], temperature=0.1).tolist() == [0.0]
    assert float(logsumexp([-7.0])) == -7.0
    assert softmax_jacobian([3.0]).tolist() == [[0.0]]


def test_ties_are_uniform():
    for K in (2, 3, 7, 1000):
        for value in (0.0, -1e5, 1e300):
            z = np.full(K, value)
            np.testing.assert_allclose(softmax(z), 1.0 / K, rtol=2 * EPS)
            np.testing.assert_allclose(log_softmax(z), -np.log(K), rtol=2 * EPS)


def test_huge_magnitudes_do_not_overflow():
    a = softmax([1e308, -1e308])
    np.testing.assert_array_equal(a, [1.0, 0.0])
    assert float(logsumexp([1e308, 1e308])) == pytest.approx(1e308, rel=EPS)
    ls = log_softmax([1e308, 1e307])
    assert ls[0] == 0.0 and ls[1] == pytest.approx(1e307 - 1e308, rel=EPS)
    np.testing.assert_array_equal(softmax([-1e300, -1e300]), [0.5, 0.5])
    assert np.isfinite(softmax([700.0, -700.0], temperature=1e-300)).all()


def test_extreme_temperatures():
    big = np.finfo(np.float64).max
    z = np.array([big, -big, -np.inf])
    # differences overflow float64 although (z - m)/T does not
    a = softmax(z, temperature=big)
    np.testing.assert_allclose(a, [1 / (1 + np.exp(-2.0)), 1 / (1 + np.exp(2.0)), 0.0],
                               rtol=4 * EPS)
    np.testing.assert_allclose(log_softmax(z[:2], temperature=big),
                               [-np.log1p(np.exp(-2.0)), -2.0 - np.log1p(np.exp(-2.0))],
                               rtol=2 * EPS)
    np.testing.assert_array_equal(log_softmax(z[:2], temperature=2.0), [0.0, -big])
    aa = a[:2]
    J = softmax_jacobian(z[:2], temperature=big)
    np.testing.assert_allclose(J, (np.diag(aa) - np.outer(aa, aa)) / big, rtol=8 * EPS)
    np.testing.assert_allclose(softmax_jvp(z[:2], [1.0, 0.0], temperature=big),
                               J @ [1.0, 0.0], rtol=8 * EPS)
    for T in (2.0**995, 1e300, big):   # Dekker's split of T would overflow
        np.testing.assert_array_equal(softmax([1.0, 2.0], temperature=T), [0.5, 0.5])
        assert np.isfinite(softmax_jvp([1.0, 2.0], [1.0, 0.0], temperature=T)).all()
    for T in (1e-300, 5e-324):
        np.testing.assert_array_equal(softmax([1.0, 2.0], temperature=T), [0.0, 1.0])
        assert log_softmax([1.0, 2.0], temperature=T)[1] == 0.0


def test_nearly_one_hot_jacobian_diagonal():
    # a = (1 - r, r) with r = exp(-60): 1 - a_0 must not round to 0
    z = np.array([60.0, 0.0])
    J = softmax_jacobian(z)
    r = np.exp(-60.0) / (1 + np.exp(-60.0))
    assert J[0, 0] == pytest.approx(r, rel=4 * EPS)
    assert J[1, 1] == pytest.approx(r, rel=4 * EPS)
    assert J[0, 1] == pytest.approx(-r, rel=4 * EPS)


def test_temperature_power_of_two_is_exact_scaling():
    rng = np.random.default_rng(5)
    z = rng.standard_normal((10, 7)) * 20
    for T in (0.25, 2.0, 1024.0):
        np.testing.assert_array_equal(softmax(z, temperature=T), softmax(z / T))
        np.testing.assert_array_equal(log_softmax(z, temperature=T), log_softmax(z / T))


def test_large_input_runs():
    rng = np.random.default_rng(6)
    z = rng.standard_normal((1000, 1000)) * 30
    a = softmax(z)
    np.testing.assert_allclose(a.sum(axis=-1), 1.0, rtol=4 * EPS)
    # exp turns the absolute rounding error of log a (~ulp(log a)) into a
    # relative one, so allow (4 + |log a|) eps relative
    ls = log_softmax(z)
    assert np.all(np.abs(np.exp(ls) - a) <= (4 + np.abs(ls)) * 2 * EPS * a + 1e-300)


# ---------------------------------------------------------------------------
# input validation: every error names the offending argument
# ---------------------------------------------------------------------------

def _call(f, z, **kw):
    """Call f on z; for the JVP pass a zero tangent of z's shape (if it has one)."""
    if f is softmax_jvp:
        try:
            v = np.zeros(np.shape(z))
        except ValueError:  # ragged z: any v will do, z is rejected first
            v = 0.0
        return f(z, v, **kw)
    return f(z, **kw)


BAD_Z_VALUES = [
    ([1.0, np.nan], "z contains NaN"),
    ([[0.0, 1.0], [np.nan, 2.0]], "z contains NaN"),
    ([1.0, np.inf], r"z contains \+inf"),
    ([], "z is empty"),
    (np.zeros((3, 0)), "z is empty"),
    (3.0, "z must have at least 1 dimension"),
    ([[0.0, 1.0], [-np.inf, -np.inf]], "z has a slice .* all -inf"),
    ([-np.inf], "z has a slice .* all -inf"),
    ([[1.0], [2.0, 3.0]], "z could not be converted"),
]


@pytest.mark.parametrize("f", PUBLIC, ids=lambda f: f.__name__)
@pytest.mark.parametrize("z, msg", BAD_Z_VALUES, ids=[m for _, m in BAD_Z_VALUES])
def test_bad_z_raises_valueerror(f, z, msg):
    with pytest.raises(ValueError, match=msg):
        _call(f, z)


BAD_Z_TYPES = [
    ["a", "b"],
    "abc",
    np.array([1.0, 2.0], dtype=object),
    [1 + 2j, 3.0],
    np.array([True, False]),
    [None, 1.0],
]


@pytest.mark.parametrize("f", PUBLIC, ids=lambda f: f.__name__)
@pytest.mark.parametrize("z", BAD_Z_TYPES, ids=repr)
def test_bad_z_raises_typeerror(f, z):
    with pytest.raises(TypeError, match="^z "):
        _call(f, z)


@pytest.mark.parametrize("f", [softmax, log_softmax, softmax_jacobian, softmax_jvp],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("T", [0, 0.0, -1.0, np.nan, np.inf, -np.inf])
def test_bad_temperature_value(f, T):
    with pytest.raises(ValueError, match="temperature must be a finite number > 0"):
        _call(f, [1.0, 2.0], temperature=T)


def test_temperature_message_shows_value():
    with pytest.raises(ValueError, match=r"^temperature must be a finite number > 0, got -1.0$"):
        softmax([1.0, 2.0], temperature=-1)


@pytest.mark.parametrize("T, exc", [("1", TypeError), (True, TypeError), (None, TypeError),
                                    (1 + 0j, TypeError), ([1.0], TypeError),
                                    (np.array([1.0, 2.0]), ValueError)])
def test_bad_temperature_type(T, exc):
    with pytest.raises(exc, match="temperature"):
        softmax([1.0, 2.0], temperature=T)


def test_temperature_numpy_scalars_ok():
    ref = softmax([1.0, 2.0], temperature=2.0)
    for T in (np.float32(2.0), np.int64(2), np.array(2.0), 2):
        np.testing.assert_array_equal(softmax([1.0, 2.0], temperature=T), ref)


@pytest.mark.parametrize("f", [softmax, log_softmax, logsumexp], ids=lambda f: f.__name__)
def test_bad_axis(f):
    z = np.zeros((2, 3))
    with pytest.raises(ValueError, match="axis=2 is out of bounds"):
        f(z, axis=2)
    with pytest.raises(ValueError, match="axis=-3 is out of bounds"):
        f(z, axis=-3)
    for bad in (1.0, None, (0, 1), True, "0"):
        with pytest.raises(TypeError, match="axis must be an integer"):
            f(z, axis=bad)
    np.testing.assert_array_equal(f(z, axis=np.int64(0)), f(z, axis=0))


def test_jvp_bad_v():
    z = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"z and v could not be broadcast"):
        softmax_jvp(z, np.zeros(2))
    with pytest.raises(ValueError, match=r"z and v could not be broadcast"):
        softmax_jvp(z, np.zeros((3, 2)))
    with pytest.raises(ValueError, match="v contains NaN"):
        softmax_jvp(z, np.full((2, 3), np.nan))
    with pytest.raises(ValueError, match="v contains inf"):
        softmax_jvp(z, np.full((2, 3), -np.inf))
    with pytest.raises(TypeError, match="^v "):
        softmax_jvp(z, [["a", "b", "c"]] * 2)
    with pytest.raises(TypeError, match="^v "):
        softmax_jvp(z, np.ones((2, 3), dtype=bool))


# ---------------------------------------------------------------------------
# API traps (issue #14): each has its test
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("f", [softmax, log_softmax], ids=lambda f: f.__name__)
def test_temperature_is_keyword_only(f):
    z = np.array([[1.0, 2.0], [3.0, 5.0]])
    with pytest.raises(TypeError):
        f(z, -1, 2.0)                   # would silently mean T = 2
    f(z, -1, temperature=2.0)
    with pytest.raises(TypeError):
        softmax_jacobian(z, 2.0)
    with pytest.raises(TypeError):
        softmax_jvp(z, z, 2.0)


def test_logsumexp_keepdims():
    z = np.arange(24.0).reshape(2, 3, 4)
    for axis in (0, 1, 2, -1):
        kept = logsumexp(z, axis=axis, keepdims=True)
        assert kept.shape == tuple(1 if i == axis % 3 else n for i, n in enumerate(z.shape))
        np.testing.assert_array_equal(np.squeeze(kept, axis=axis), logsumexp(z, axis=axis))
        # keepdims broadcasts back: log_softmax = z - LSE (up to one rounding of LSE)
        np.testing.assert_allclose(z - kept, log_softmax(z, axis=axis), rtol=0,
                                   atol=2 * EPS * np.abs(kept).max())
    assert logsumexp([1.0, 2.0], keepdims=True).shape == (1,)
    with pytest.raises(TypeError, match="keepdims"):
        logsumexp(z, keepdims=1)


@pytest.mark.parametrize("K", [1, 3])
def test_empty_batch_gives_empty_result(K):
    z = np.zeros((0, K))
    assert softmax(z).shape == (0, K)
    assert log_softmax(z, temperature=0.5).shape == (0, K)
    assert logsumexp(z).shape == (0,)
    assert logsumexp(z, keepdims=True).shape == (0, 1)
    assert softmax_jacobian(z).shape == (0, K, K)
    assert softmax_jvp(z, np.ones(K)).shape == (0, K)
    assert softmax(np.zeros((2, 0, K)), axis=-1).shape == (2, 0, K)
    for f in (softmax, log_softmax, logsumexp):
        assert f(z).dtype == np.float64


def test_only_an_empty_class_axis_raises():
    with pytest.raises(ValueError, match="z is empty along its class axis"):
        softmax(np.zeros((0, 3)), axis=0)
    with pytest.raises(ValueError, match="z is empty along its class axis"):
        logsumexp(np.zeros((3, 0)))


@pytest.mark.parametrize("f", PUBLIC, ids=lambda f: f.__name__)
def test_masked_array_is_rejected(f):
    z = np.ma.masked_array([1.0, 2.0, 3.0], mask=[False, True, False])
    with pytest.raises(TypeError, match=r"z is a numpy.ma masked array.*filled\(-np.inf\)"):
        _call(f, z)
    # what the message suggests does mask the class
    np.testing.assert_array_equal(softmax(z.filled(-np.inf)), softmax([1.0, -np.inf, 3.0]))


def test_masked_tangent_is_rejected():
    with pytest.raises(TypeError, match="v is a numpy.ma masked array"):
        softmax_jvp([1.0, 2.0], np.ma.masked_array([1.0, 2.0], mask=[True, False]))


def test_jvp_needs_the_class_axis_of_z():
    """v broadcasts over the batch, never along the class axis: for K = 1
    the Jacobian is [[0]], so a 3-vector tangent has no meaning."""
    with pytest.raises(ValueError, match=r"v must have the class axis of z"):
        softmax_jvp([0.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"v must have the class axis of z"):
        softmax_jvp(np.zeros((2, 3)), 1.0)
    with pytest.raises(ValueError, match=r"v must have the class axis of z"):
        softmax_jvp(np.zeros((2, 1)), np.ones((2, 4)))


def test_masked_array_message_fits_the_argument():
    with pytest.raises(TypeError) as info:
        softmax_jvp([1.0, 2.0], np.ma.masked_array([1.0, 2.0], mask=[True, False]))
    assert "filled" not in str(info.value)       # -inf is no advice for a tangent


@pytest.mark.parametrize("T", [1.25, 1.5, 1.99, 2.0, 3.0])
def test_log_softmax_of_a_huge_spread_at_temperature(T):
    """z - m overflows for z = [-1e308, 1e308], (z - m)/T does not for
    T > 1.12: the result is finite, -2 * 1e308/T, also for 1 < T < 2."""
    z = np.array([-1e308, 1e308])
    out = log_softmax(z, temperature=T)
    assert np.isfinite(out).all()
    assert out[1] == 0.0 and out[0] == pytest.approx(-2 * (1e308 / T), rel=1e-15)
    np.testing.assert_array_equal(softmax(z, temperature=T), [0.0, 1.0])


def test_jvp_broadcasts_v():
    rng = np.random.default_rng(8)
    z = rng.standard_normal((4, 5))
    v = rng.standard_normal(5)
    jv = softmax_jvp(z, v, temperature=0.7)
    assert jv.shape == (4, 5)
    np.testing.assert_array_equal(jv, softmax_jvp(z, np.broadcast_to(v, z.shape),
                                                  temperature=0.7))
    # and the other way round: one z, a batch of tangents
    V = rng.standard_normal((3, 5))
    np.testing.assert_array_equal(softmax_jvp(z[0], V),
                                  np.stack([softmax_jvp(z[0], w) for w in V]))


@pytest.mark.parametrize("f", [logsumexp, softmax, log_softmax, softmax_jacobian,
                               softmax_jvp], ids=lambda f: f.__name__)
def test_docstring_states_float64_and_axis_default(f):
    doc = f.__doc__
    assert "float64" in doc
    if "axis" in f.__code__.co_varnames[:f.__code__.co_argcount]:
        assert "Default: the last axis (``-1``; SciPy's default is" in " ".join(doc.split())
    else:
        assert "the *last* axis" in doc or "the last axis" in doc
