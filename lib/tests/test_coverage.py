"""Tests of coverage and the pointer-generator (chapter 4, chapters/04_coverage.ipynb).

The twins of the chapter's equations are named after them:
``test_eq_cov_vector`` (c^t = sum_{t'<t} a^{t'}), ``test_eq_cov_loss``
(sum_i min(a_i^t, c_i^t), bounded by 1), ``test_eq_cov_attention``
(e_i = v.tanh(W_h h_i + W_s s + w_c c_i + b)), ``test_eq_cov_pg``
(the final distribution) and ``test_thm_cov_loss_subgradient`` (1[a < c], and
through softmax J g = a * (g - a.g)), checked by central differences away from
the kinks of min.
"""

import numpy as np
import pytest

import smoothmax as sm
from smoothmax import (
    attention_with_coverage,
    coverage,
    coverage_loss,
    coverage_loss_grad,
    pointer_generator,
    softmax,
    softmax_jvp,
)

try:
    from hypothesis import given
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover
    given = None


def _attention(rng, steps, L, scale=2.0):
    return softmax(rng.normal(scale=scale, size=(steps, L)))


def _naive_coverage(a):
    c = np.zeros_like(a)
    for t in range(a.shape[0]):
        for tp in range(t):
            c[t] += a[tp]
    return c


def _naive_loss(a):
    c = _naive_coverage(a)
    return np.array([sum(min(a[t, i], c[t, i]) for i in range(a.shape[1]))
                     for t in range(a.shape[0])])


def _central(f, x, h=1e-6):
    g = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[idx] = h
        g[idx] = (f(x + d) - f(x - d)) / (2 * h)
    return g


def _far_from_kinks(a, margin=1e-4):
    c = coverage(a)
    return np.abs(a - c)[1:].min() > margin


# --- definitions --------------------------------------------------------------

def test_eq_cov_vector():
    rng = np.random.default_rng(0)
    for steps, L in [(1, 1), (1, 5), (6, 8), (20, 3)]:
        a = _attention(rng, steps, L)
        c = coverage(a)
        assert c.shape == a.shape
        np.testing.assert_allclose(c, _naive_coverage(a), rtol=0, atol=1e-14)
        assert np.all(c[0] == 0)                                  # c^0 = 0
        np.testing.assert_allclose(c.sum(axis=1), np.arange(steps), atol=1e-12)


def test_coverage_batched():
    rng = np.random.default_rng(1)
    a = softmax(rng.normal(size=(3, 5, 4)))
    c = coverage(a)
    for k in range(3):
        np.testing.assert_array_equal(c[k], coverage(a[k]))
    assert coverage_loss(a).shape == (3, 5)


def test_eq_cov_loss():
    rng = np.random.default_rng(2)
    for steps, L in [(1, 3), (5, 8), (12, 4)]:
        a = _attention(rng, steps, L)
        loss = coverage_loss(a)
        assert loss.shape == (steps,)
        np.testing.assert_allclose(loss, _naive_loss(a), rtol=0, atol=1e-14)
        assert loss[0] == 0


def test_loss_bounds_seeded():
    rng = np.random.default_rng(3)
    for scale in [0.1, 1.0, 5.0, 50.0]:
        a = _attention(rng, 30, 7, scale)
        loss = coverage_loss(a)
        assert np.all(loss >= 0) and np.all(loss <= 1 + 1e-12)


if given is not None:
    @given(st.integers(1, 8), st.integers(1, 8), st.integers(0, 2**32 - 1),
           st.floats(0.01, 30.0))
    def test_loss_bounds_property(steps, L, seed, scale):
        a = _attention(np.random.default_rng(seed), steps, L, scale)
        loss = coverage_loss(a)
        assert np.all(loss >= 0) and np.all(loss <= 1 + 1e-12)
        c = coverage(a)
        np.testing.assert_allclose(c.sum(axis=1), np.arange(steps), atol=1e-9)


def test_zero_loss_when_attention_never_returns():
    # disjoint supports: each step attends to positions no earlier step used
    a = np.zeros((4, 8))
    a[0, [0, 1]] = [0.3, 0.7]
    a[1, [2]] = 1.0
    a[2, [3, 4, 5]] = [0.2, 0.2, 0.6]
    a[3, [6, 7]] = [0.5, 0.5]
    assert np.all(coverage_loss(a) == 0)
    # a permutation matrix is the extreme case
    assert np.all(coverage_loss(np.eye(6)[[3, 1, 4, 0, 5, 2]]) == 0)


def test_full_return_gives_loss_one():
    a = np.tile([0.1, 0.2, 0.7], (4, 1))    # the same attention every step
    np.testing.assert_allclose(coverage_loss(a), [0, 1, 1, 1], atol=1e-15)


def test_inclusive_coverage_mistake_gives_one():
    # the bug: c including the current step, then min(a, c) = a
    rng = np.random.default_rng(4)
    a = _attention(rng, 6, 5)
    wrong_c = np.cumsum(a, axis=0)
    np.testing.assert_allclose(np.minimum(a, wrong_c).sum(axis=1), 1.0, atol=1e-14)


# --- gradients ----------------------------------------------------------------

def test_thm_cov_loss_subgradient_per_step():
    # with c fixed: d/da sum_i min(a_i, c_i) = 1[a < c]
    rng = np.random.default_rng(5)
    for _ in range(20):
        a = rng.dirichlet(np.ones(6))
        c = 2 * rng.dirichlet(np.ones(6))
        if np.abs(a - c).min() < 1e-4:
            continue
        g_fd = _central(lambda x: np.minimum(x, c).sum(), a)
        np.testing.assert_allclose(g_fd, (a < c).astype(float), atol=1e-8)


def test_thm_cov_loss_subgradient_total():
    rng = np.random.default_rng(6)
    checked = 0
    while checked < 10:
        a = _attention(rng, 5, 6)
        if not _far_from_kinks(a):
            continue
        # finite differences on the unconstrained function of the rows
        def total(x):
            c = np.zeros_like(x)
            c[1:] = np.cumsum(x[:-1], axis=0)
            return np.minimum(x, c).sum()
        np.testing.assert_allclose(coverage_loss_grad(a), _central(total, a),
                                   rtol=0, atol=1e-8)
        assert np.isclose(total(a), coverage_loss(a).sum(), rtol=1e-14)
        checked += 1


def test_thm_cov_loss_subgradient_scores():
    # through a = softmax(e): grad_e = J g = a * (g - a.g), by softmax_jvp
    rng = np.random.default_rng(7)
    checked = 0
    while checked < 10:
        E = rng.normal(scale=2.0, size=(5, 6))
        a = softmax(E)
        if not _far_from_kinks(a):
            continue
        g = coverage_loss_grad(a)
        jg = softmax_jvp(E, g)
        manual = a * (g - np.sum(a * g, axis=-1, keepdims=True))
        np.testing.assert_allclose(jg, manual, rtol=0, atol=1e-15)
        fd = _central(lambda x: coverage_loss(softmax(x)).sum(), E)
        np.testing.assert_allclose(jg, fd, rtol=0, atol=1e-8)
        checked += 1


# --- attention with coverage ----------------------------------------------------

def _attn_params(rng, L=5, d_h=4, d_s=3, d_a=6):
    return dict(encoder_states=rng.normal(size=(L, d_h)),
                decoder_state=rng.normal(size=d_s),
                coverage=2 * rng.dirichlet(np.ones(L)),
                W_h=rng.normal(size=(d_a, d_h)), W_s=rng.normal(size=(d_a, d_s)),
                w_c=rng.normal(size=d_a), v=rng.normal(size=d_a),
                b=rng.normal(size=d_a))


def test_eq_cov_attention():
    rng = np.random.default_rng(8)
    p = _attn_params(rng)
    e, a = attention_with_coverage(**p)
    for i in range(5):
        f = (p["W_h"] @ p["encoder_states"][i] + p["W_s"] @ p["decoder_state"]
             + p["w_c"] * p["coverage"][i] + p["b"])
        assert np.isclose(e[i], p["v"] @ np.tanh(f), rtol=1e-13)
    np.testing.assert_allclose(a, softmax(e), rtol=1e-15)
    assert np.isclose(a.sum(), 1.0, rtol=1e-15)


def test_attn_negative_wc_lowers_covered_position():
    rng = np.random.default_rng(9)
    p = _attn_params(rng)
    p["w_c"] = -3.0 * p["v"]            # small coverage: tanh is increasing there
    p["coverage"] = np.zeros(5)
    _, a0 = attention_with_coverage(**p)
    p["coverage"] = np.array([0.0, 0.0, 0.05, 0.0, 0.0])
    _, a1 = attention_with_coverage(**p)
    assert a1[2] < a0[2]


# --- pointer-generator -----------------------------------------------------------

def test_eq_cov_pg():
    rng = np.random.default_rng(10)
    for _ in range(50):
        V, L = int(rng.integers(1, 9)), int(rng.integers(1, 9))
        n_oov = int(rng.integers(0, 4))
        p_vocab = rng.dirichlet(np.ones(V))
        a = rng.dirichlet(np.ones(L))
        ids = rng.integers(0, V + n_oov, size=L)
        g = float(rng.uniform())
        out = pointer_generator(p_vocab, a, ids, g, extended_vocab_size=V + n_oov)
        expect = np.zeros(V + n_oov)
        expect[:V] = g * p_vocab
        for i, w in enumerate(ids):
            expect[w] += (1 - g) * a[i]
        np.testing.assert_allclose(out, expect, rtol=0, atol=1e-15)
        assert np.all(out >= 0)
        assert np.isclose(out.sum(), 1.0, rtol=0, atol=1e-14)


def test_pointer_generator_oov_and_repeats():
    p_vocab = np.array([0.1, 0.2, 0.3, 0.4])
    a = np.array([0.1, 0.2, 0.3, 0.4])
    ids = np.array([4, 1, 4, 0])          # the OOV word 4 appears twice
    out = pointer_generator(p_vocab, a, ids, 0.25, extended_vocab_size=5)
    assert np.isclose(out[4], 0.75 * (0.1 + 0.3))      # copy mass only, summed
    assert np.isclose(out[1], 0.25 * 0.2 + 0.75 * 0.2)
    assert np.isclose(out[3], 0.25 * 0.4)              # not in the source
    # p_gen = 1: pure generator, OOV gets nothing; p_gen = 0: pure copy
    out1 = pointer_generator(p_vocab, a, ids, 1.0, extended_vocab_size=5)
    np.testing.assert_array_equal(out1, [0.1, 0.2, 0.3, 0.4, 0.0])
    out0 = pointer_generator(p_vocab, a, ids, 0, extended_vocab_size=5)
    np.testing.assert_allclose(out0, [0.4, 0.2, 0.0, 0.0, 0.4], atol=1e-16)


# --- bad inputs, by argument name ---------------------------------------------

@pytest.mark.parametrize("func", [coverage, coverage_loss, coverage_loss_grad])
@pytest.mark.parametrize("bad, exc", [
    ([0.5, 0.5], ValueError),                       # 1-d
    ([[0.5, 0.6]], ValueError),                     # row sums to 1.1
    ([[1.5, -0.5]], ValueError),                    # negative entry
    ([[np.nan, 1.0]], ValueError),
    ([[np.inf, 0.0]], ValueError),
    (np.zeros((2, 0)), ValueError),
    ([["a", "b"]], TypeError),
    ([[True, False]], TypeError),
])
def test_attention_bad_inputs(func, bad, exc):
    with pytest.raises(exc, match=r"^attn "):
        func(bad)


def test_attention_tolerance():
    coverage([[0.5, 0.5 + 1e-7]])                   # within 1e-6 * L
    with pytest.raises(ValueError, match="^attn "):
        coverage([[0.5, 0.5 + 1e-4]])


P_OK = dict(p_vocab=[0.5, 0.5], attn=[0.5, 0.5], source_ids=[0, 2], p_gen=0.5,
            extended_vocab_size=3)


@pytest.mark.parametrize("name, value, exc", [
    ("p_vocab", [0.5, 0.6], ValueError),
    ("p_vocab", [1.2, -0.2], ValueError),
    ("p_vocab", [np.nan, 1.0], ValueError),
    ("p_vocab", [[0.5, 0.5]], ValueError),
    ("attn", [0.9, 0.2], ValueError),
    ("attn", [0.5, 0.25, 0.25], ValueError),        # shape mismatch with ids
    ("attn", [[0.5, 0.5]], ValueError),
    ("p_gen", 1.5, ValueError),
    ("p_gen", -0.1, ValueError),
    ("p_gen", float("nan"), ValueError),
    ("p_gen", "0.5", TypeError),
    ("source_ids", [0, 3], ValueError),             # outside the extended vocabulary
    ("source_ids", [-1, 0], ValueError),
    ("source_ids", [0.0, 1.0], TypeError),          # not integers
    ("source_ids", [0], ValueError),                # shape
    ("extended_vocab_size", 1, ValueError),         # < vocab size
    ("extended_vocab_size", 2.5, TypeError),
])
def test_pointer_generator_bad_inputs(name, value, exc):
    kwargs = dict(P_OK, **{name: value})
    if name == "attn" and np.ndim(value) == 1 and len(value) == 3:
        name = "source_ids"                          # the mismatch is reported there
    with pytest.raises(exc, match=rf"^{name} "):
        pointer_generator(kwargs.pop("p_vocab"), kwargs.pop("attn"),
                          kwargs.pop("source_ids"), kwargs.pop("p_gen"), **kwargs)


@pytest.mark.parametrize("name, value", [
    ("encoder_states", np.zeros(5)),
    ("encoder_states", np.full((5, 4), np.nan)),
    ("decoder_state", np.zeros((3, 1))),
    ("decoder_state", [np.nan, 0.0, 0.0]),
    ("coverage", np.zeros(4)),
    ("coverage", [-0.1, 0, 0, 0, 0]),
    ("coverage", [np.nan, 0, 0, 0, 0]),
    ("W_h", np.zeros((6, 5))),
    ("W_s", np.zeros((6, 2))),
    ("w_c", np.zeros(5)),
    ("v", np.full(6, np.inf)),
    ("b", np.zeros(7)),
])
def test_attention_with_coverage_bad_inputs(name, value):
    p = _attn_params(np.random.default_rng(11))
    p[name] = value
    with pytest.raises(ValueError, match=rf"^{name} "):
        attention_with_coverage(**p)


def test_exported():
    for name in ["coverage", "coverage_loss", "coverage_loss_grad",
                 "attention_with_coverage", "pointer_generator"]:
        assert name in sm.__all__


def test_masked_source_ids_are_rejected():
    """np.asarray would drop the mask and scatter onto a masked token id."""
    ids = np.ma.array([0, 1, 4], mask=[False, True, False])
    with pytest.raises(TypeError, match="source_ids is a numpy.ma masked array"):
        pointer_generator(np.full(3, 1 / 3), np.full(3, 1 / 3), ids, 0.5, extended_vocab_size=5)
