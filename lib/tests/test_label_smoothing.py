"""Tests of label smoothing (chapter 3, chapters/03_label_smoothing.ipynb).

The twins of the chapter's equations are named after them:
``test_eq_ls_decomposition`` (H(q', p) = (1 - eps) H(q, p) + eps H(u, p)),
``test_eq_ls_grad`` (the gradient p - q'), ``test_eq_ls_gap_*`` (the optimal
logit gap in closed form), ``test_eq_ls_convention_map`` (eps_others =
eps_uniform (K - 1)/K) and ``test_eq_ls_kl`` (KL(q' || p) = H(q', p) - H(q')).
``optimal_logit_gap`` is checked against its formulas, 50-digit mpmath,
numerical minimisation (SciPy) and stationarity (``cross_entropy_grad`` = 0).
The PyTorch comparisons (``F.cross_entropy(label_smoothing=...)`` and the
``KLDivLoss`` module of note 2, in current PyTorch and as originally written)
skip without torch.
"""

import math

import mpmath
import numpy as np
import pytest

import smoothmax as sm
from smoothmax import (
    cross_entropy,
    cross_entropy_grad,
    log_softmax,
    optimal_logit_gap,
    smooth_labels,
    softmax,
)

EPS = np.finfo(np.float64).eps
U = 2.0 ** -53                       # unit roundoff
MP = mpmath.mp.clone()
MP.dps = 50
CONVENTIONS = ["uniform", "others"]
KS = [2, 3, 4, 10, 100, 1000]
EPSILONS = [1e-6, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9]


def _rng(seed=0):
    return np.random.default_rng(seed)


def _target_weights(eps, K, convention):
    """(target probability, each other class's probability), from the definitions."""
    if convention == "uniform":
        return 1 - eps + eps / K, eps / K
    return 1 - eps, eps / (K - 1)


def _logits_at_gap(gap, K, y=0, offset=0.0):
    z = np.full(K, offset)
    z[y] = offset + gap
    return z


def _entropy(q):
    """H(q) = -sum q log q with 0 log 0 = 0."""
    q = np.asarray(q, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(q > 0, q * np.log(q), 0.0)
    return -terms.sum(axis=-1)


# ---------------------------------------------------------------------------
# surface
# ---------------------------------------------------------------------------

def test_exported():
    assert "optimal_logit_gap" in sm.__all__
    assert "optimal_logit_gap" in sm.losses.__all__
    assert sm.optimal_logit_gap is optimal_logit_gap


# ---------------------------------------------------------------------------
# the smoothed target and the loss (twins of the chapter's equations)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("convention", CONVENTIONS)
def test_eq_ls_decomposition(convention):
    """H(q', p) = (1 - eps) H(q, p) + eps H(u, p), u the smoothing distribution."""
    rng = _rng(1)
    for K in (2, 5, 50):
        z = rng.standard_normal((20, K)) * 3
        t = rng.integers(0, K, 20)
        logp = log_softmax(z)
        for eps in (0.05, 0.1, 0.4, 1.0):
            if convention == "uniform":
                u = np.full((20, K), 1.0 / K)
            else:                                  # uniform over the other classes
                u = np.full((20, K), 1.0 / (K - 1))
                u[np.arange(20), t] = 0.0
            H_qp = -logp[np.arange(20), t]
            H_up = -(u * logp).sum(axis=-1)
            lhs = cross_entropy(z, t, label_smoothing=eps, convention=convention,
                                reduction="none")
            np.testing.assert_allclose(lhs, (1 - eps) * H_qp + eps * H_up, rtol=1e-14)


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_eq_ls_grad(convention):
    """The gradient of H(q', softmax(z)) is softmax(z) - q'."""
    rng = _rng(2)
    z = rng.standard_normal((30, 7)) * 4
    t = rng.integers(0, 7, 30)
    for eps in (0.1, 0.5):
        q = smooth_labels(t, 7, eps, convention=convention)
        g = cross_entropy_grad(z, t, label_smoothing=eps, convention=convention, reduction="sum")
        np.testing.assert_allclose(g, softmax(z) - q, rtol=0, atol=4 * EPS)


def test_resampling_reading_of_the_target():
    """Replacing the label by a draw from u with probability eps gives q' on average."""
    rng = _rng(3)
    K, y, eps, n = 5, 2, 0.3, 200_000
    replace = rng.random(n) < eps
    labels = np.where(replace, rng.integers(0, K, n), y)
    freq = np.bincount(labels, minlength=K) / n
    q = smooth_labels(y, K, eps)
    # 5 binomial standard deviations
    assert np.all(np.abs(freq - q) <= 5 * np.sqrt(q * (1 - q) / n))


# ---------------------------------------------------------------------------
# optimal_logit_gap: closed form, references, optimality
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("K", KS)
def test_eq_ls_gap_uniform(K):
    e = np.array(EPSILONS)
    expected = np.log((1 - e + e / K) / (e / K))
    np.testing.assert_allclose(optimal_logit_gap(e, K), expected, rtol=1e-14)
    np.testing.assert_allclose(optimal_logit_gap(e, K), np.log1p(K * (1 - e) / e),
                               rtol=1e-14)


@pytest.mark.parametrize("K", KS)
def test_eq_ls_gap_others(K):
    e = np.array(EPSILONS)
    expected = np.log((1 - e) * (K - 1) / e)
    got = optimal_logit_gap(e, K, convention="others")
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=4 * EPS)


def _mp_gap(e, K, convention):
    e = MP.mpf(float(e))
    K = MP.mpf(int(K))
    if convention == "uniform":
        return MP.log((1 - e + e / K) / (e / K))
    return MP.log((1 - e) * (K - 1) / e)


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_accuracy_against_mpmath(convention):
    """uniform: within 4 ulp relative; others: the same where |gap| > log 2,
    within 4 units of 2**-53 absolute near the sign change."""
    rng = _rng(4)
    worst_rel = worst_abs = 0.0
    for K in (2, 3, 10, 1000, 10**6, 2**40):
        e = np.concatenate([
            rng.random(100),
            10.0 ** rng.uniform(-320, 0, 60),          # tiny eps, subnormals included
            1 - 10.0 ** rng.uniform(-16, 0, 60),       # eps close to 1
            [(K - 1) / K, np.nextafter((K - 1) / K, 0), np.nextafter((K - 1) / K, 2)],
            (K - 1) / K + rng.uniform(-1e-3, 1e-3, 20),
        ])
        e = e[(e > 0) & (e < 1)]
        gaps = optimal_logit_gap(e, K, convention=convention)
        for ei, gi in zip(e, gaps):
            exact = _mp_gap(ei, K, convention)
            err = abs(float(MP.mpf(float(gi)) - exact))
            if convention == "uniform" or abs(exact) > math.log(2):
                rel = err / abs(float(exact)) / U
                assert rel <= 4, (K, ei, rel)
                worst_rel = max(worst_rel, rel)
            else:
                assert err <= 4 * U, (K, ei, err / U)
                worst_abs = max(worst_abs, err / U)
    print(f"\noptimal_logit_gap ({convention}): max {worst_rel:.2f} ulp relative, "
          f"{worst_abs:.2f} units of 2**-53 absolute near the sign change")


@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize("K", [2, 3, 10, 1000])
@pytest.mark.parametrize("eps", [0.01, 0.1, 0.3])
def test_gap_is_stationary_point(convention, K, eps):
    """cross_entropy_grad vanishes (to rounding) at logits with the optimal gap,
    whatever the target class and the common offset."""
    gap = float(optimal_logit_gap(eps, K, convention=convention))
    for y, offset in ((0, 0.0), (K - 1, -7.5), (K // 2, 100.0)):
        z = _logits_at_gap(gap, K, y=y, offset=offset)
        g = cross_entropy_grad(z, y, label_smoothing=eps, convention=convention, reduction="sum")
        assert np.abs(g).max() <= 2e-15, np.abs(g).max()
        # softmax at the optimum is the smoothed target itself
        np.testing.assert_allclose(softmax(z), smooth_labels(y, K, eps, convention=convention),
                                   rtol=1e-14, atol=0)


@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize("K", [2, 5, 10])
def test_gap_matches_numerical_minimisation(convention, K):
    """Minimise the smoothed loss over all K logits (SciPy, BFGS with the
    library's gradient) and over the gap alone (Brent): both find the closed form."""
    optimize = pytest.importorskip("scipy.optimize")
    rng = _rng(5)
    for eps in (0.05, 0.1, 0.25):
        y = int(rng.integers(K))
        kw = dict(label_smoothing=eps, convention=convention)

        def loss(z):
            return float(cross_entropy(z, y, **kw))

        def grad(z):
            return cross_entropy_grad(z, y, **kw, reduction="sum")

        res = optimize.minimize(loss, rng.standard_normal(K), jac=grad, method="BFGS",
                                options={"gtol": 1e-12})
        z = res.x
        others = np.delete(z, y)
        gap = float(optimal_logit_gap(eps, K, convention=convention))
        np.testing.assert_allclose(z[y] - others, gap, rtol=0, atol=1e-6)

        def loss_1d(g):
            return loss(_logits_at_gap(g, K, y=y))

        res1 = optimize.minimize_scalar(loss_1d, bounds=(-10.0, 40.0), method="bounded",
                                        options={"xatol": 1e-10})
        assert abs(res1.x - gap) <= 1e-6


def test_minimum_value_is_entropy_of_target():
    """At the optimum the smoothed loss equals H(q') (Gibbs), and any other
    gap does worse."""
    for convention in CONVENTIONS:
        for K in (2, 10, 1000):
            for eps in (0.01, 0.1, 0.5):
                gap = float(optimal_logit_gap(eps, K, convention=convention))
                q = smooth_labels(0, K, eps, convention=convention)
                best = float(cross_entropy(_logits_at_gap(gap, K), 0,
                                           label_smoothing=eps, convention=convention))
                assert best == pytest.approx(float(_entropy(q)), rel=1e-14)
                for d in (-1.0, -1e-3, 1e-3, 1.0):
                    other = float(cross_entropy(_logits_at_gap(gap + d, K), 0,
                                                label_smoothing=eps, convention=convention))
                    assert other > best


def test_no_smoothing_has_no_minimum():
    """eps = 0: the gap is inf and the one-hot loss decreases forever in the gap."""
    assert optimal_logit_gap(0.0, 10) == np.inf
    assert optimal_logit_gap(0.0, 10, convention="others") == np.inf
    losses = [float(cross_entropy(_logits_at_gap(g, 10), 0)) for g in (1, 5, 10, 20, 30)]
    assert all(a > b > 0 for a, b in zip(losses, losses[1:]))
    g = cross_entropy_grad(_logits_at_gap(30.0, 10), 0, reduction="sum")
    assert 0 < -g[0] < 1e-11                         # never exactly zero


@pytest.mark.parametrize("K", [2, 3, 10, 1000])
def test_eq_ls_convention_map(K):
    """uniform with eps_u is others with eps_o = eps_u (K - 1) / K: same targets, same gap."""
    for eps_u in (0.0, 0.05, 0.1, 0.5, 1.0):
        eps_o = eps_u * (K - 1) / K
        t = np.arange(K)
        np.testing.assert_allclose(smooth_labels(t, K, eps_u),
                                   smooth_labels(t, K, eps_o, convention="others"),
                                   rtol=0, atol=2 * EPS)
        gu = optimal_logit_gap(eps_u, K)
        go = optimal_logit_gap(eps_o, K, convention="others")
        if eps_u == 0.0:
            assert gu == go == np.inf
        else:
            assert abs(gu - go) <= 1e-14 * max(1.0, abs(gu)) + 4 * EPS


def test_sign_change_and_end_points():
    for K in (2, 3, 10, 1000):
        # uniform: positive below 1, zero at 1 (the target is uniform)
        e = np.linspace(0.01, 0.99, 50)
        assert np.all(optimal_logit_gap(e, K) > 0)
        assert optimal_logit_gap(1.0, K) == 0.0
        # others: zero at (K - 1)/K, negative beyond, -inf at 1
        others = optimal_logit_gap(e, K, convention="others")
        zero = (K - 1) / K
        # zero is rounded; the exact gap there is about -K * (zero - (K-1)/K)
        assert abs(optimal_logit_gap(zero, K, convention="others")) <= 4 * K * U
        assert np.all(others[e < zero - 1e-9] > 0)
        assert np.all(others[e > zero + 1e-9] < 0)
        assert optimal_logit_gap(1.0, K, convention="others") == -np.inf
        # both decrease with eps
        assert np.all(np.diff(optimal_logit_gap(e, K)) < 0)
        assert np.all(np.diff(others) < 0)


def test_negative_gap_is_still_the_optimum():
    """Beyond (K - 1)/K the 'others' optimum ranks the target class last:
    the gradient vanishes there and softmax equals q'."""
    K, eps = 4, 0.9
    gap = float(optimal_logit_gap(eps, K, convention="others"))
    assert gap < 0
    z = _logits_at_gap(gap, K)
    g = cross_entropy_grad(z, 0, label_smoothing=eps, convention="others", reduction="sum")
    assert np.abs(g).max() <= 2e-15
    assert np.argmin(softmax(z)) == 0


def test_broadcasting_and_types():
    e = np.array([0.05, 0.1, 0.2])
    K = np.array([[2], [10], [1000]])
    out = optimal_logit_gap(e, K)
    assert out.shape == (3, 3) and out.dtype == np.float64
    for i, k in enumerate(K[:, 0]):
        for j, ej in enumerate(e):
            assert out[i, j] == optimal_logit_gap(float(ej), int(k))
    scalar = optimal_logit_gap(0.1, 10)
    assert isinstance(scalar, np.float64) and np.ndim(scalar) == 0
    # whole floats and NumPy integers are accepted as class counts
    assert optimal_logit_gap(0.1, 10.0) == scalar
    assert optimal_logit_gap(np.float32(0.1), np.int64(10)) == optimal_logit_gap(
        float(np.float32(0.1)), 10)
    assert optimal_logit_gap([], 10).shape == (0,)
    # inputs are not modified
    e_in = e.copy()
    optimal_logit_gap(e_in, 10, convention="others")
    np.testing.assert_array_equal(e_in, e)


def test_tiny_eps_does_not_overflow():
    for K in (2, 10, 10**12):
        for convention in CONVENTIONS:
            for e in (1e-300, 5e-324):
                g = optimal_logit_gap(e, K, convention=convention)
                exact = _mp_gap(e, K, convention)
                assert np.isfinite(g)
                assert abs(g - float(exact)) <= 4 * U * float(exact)


@pytest.mark.parametrize("kwargs, exc, name", [
    (dict(eps=-0.1, num_classes=10), ValueError, "eps"),
    (dict(eps=1.5, num_classes=10), ValueError, "eps"),
    (dict(eps=np.nan, num_classes=10), ValueError, "eps"),
    (dict(eps=[0.1, np.nan], num_classes=10), ValueError, "eps"),
    (dict(eps=[0.1, 2.0], num_classes=10), ValueError, "eps"),
    (dict(eps=np.inf, num_classes=10), ValueError, "eps"),
    (dict(eps="0.1", num_classes=10), TypeError, "eps"),
    (dict(eps=True, num_classes=10), TypeError, "eps"),
    (dict(eps=0.1 + 0j, num_classes=10), TypeError, "eps"),
    (dict(eps=0.1, num_classes=1), ValueError, "num_classes"),
    (dict(eps=0.1, num_classes=0), ValueError, "num_classes"),
    (dict(eps=0.1, num_classes=[10, 1]), ValueError, "num_classes"),
    (dict(eps=0.1, num_classes=2.5), ValueError, "num_classes"),
    (dict(eps=0.1, num_classes=np.nan), ValueError, "num_classes"),
    (dict(eps=0.1, num_classes=np.inf), ValueError, "num_classes"),
    (dict(eps=0.1, num_classes="10"), TypeError, "num_classes"),
    (dict(eps=0.1, num_classes=True), TypeError, "num_classes"),
    (dict(eps=0.1, num_classes=10, convention="smooth"), ValueError, "convention"),
    (dict(eps=0.1, num_classes=10, convention=None), TypeError, "convention"),
    (dict(eps=[0.1, 0.2], num_classes=[2, 3, 4]), ValueError, "broadcast"),
])
def test_bad_inputs(kwargs, exc, name):
    with pytest.raises(exc, match=name):
        optimal_logit_gap(**kwargs)


# ---------------------------------------------------------------------------
# KL divergence versus cross-entropy
# ---------------------------------------------------------------------------

def _labelsmoothing_targets(t, K, eps):
    """The target of the source notes' LabelSmoothing module: eps/(K - 1) off
    the target, 1 - eps on it (the 'others' convention)."""
    q = np.full((len(t), K), eps / (K - 1))
    q[np.arange(len(t)), t] = 1 - eps
    return q


def test_eq_ls_kl():
    """KL(q' || p) = H(q', p) - H(q'): the same gradient, a constant offset."""
    rng = _rng(6)
    K, n = 6, 25
    z = rng.standard_normal((n, K)) * 3
    t = rng.integers(0, K, n)
    for eps, convention in ((0.1, "uniform"), (0.1, "others"), (0.0, "uniform")):
        q = smooth_labels(t, K, eps, convention=convention)
        logp = log_softmax(z)
        with np.errstate(divide="ignore", invalid="ignore"):
            kl = np.where(q > 0, q * (np.log(q) - logp), 0.0).sum(axis=-1)
        ce = cross_entropy(z, t, label_smoothing=eps, convention=convention,
                           reduction="none")
        np.testing.assert_allclose(kl, ce - _entropy(q), rtol=1e-12, atol=1e-14)
        assert np.all(kl >= -1e-14)
        # the entropy does not depend on z: central differences of KL = p - q'
        h = 1e-6
        row, tr = z[0], t[0]

        def kl_row(u):
            lp = log_softmax(u)
            return float(np.where(q[0] > 0, q[0] * (np.log(np.where(q[0] > 0, q[0], 1))
                                                    - lp), 0.0).sum())

        g_fd = np.array([(kl_row(row + h * np.eye(K)[j]) - kl_row(row - h * np.eye(K)[j]))
                         / (2 * h) for j in range(K)])
        g = cross_entropy_grad(row, tr, label_smoothing=eps, convention=convention, reduction="sum")
        np.testing.assert_allclose(g_fd, g, rtol=0, atol=1e-8)


# ---------------------------------------------------------------------------
# PyTorch as an independent oracle (skipped without torch)
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


LOSS_RTOL = 1e-14
LOSS_ATOL = 16 * EPS        # PyTorch's own absolute error on log-sum-exp


@pytest.mark.parametrize("eps", [0.0, 0.05, 0.1, 0.3, 1.0])
@pytest.mark.parametrize("K", [2, 10, 1000])
def test_torch_label_smoothing_is_uniform_convention(torch, eps, K):
    """F.cross_entropy(label_smoothing=eps) == our "uniform" loss, and its
    autograd gradient == cross_entropy_grad, in float64."""
    F = torch.nn.functional
    rng = _rng(7)
    z = rng.standard_normal((16, K)) * 4
    t = rng.integers(0, K, 16)
    zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    tt = torch.tensor(t)
    loss_t = F.cross_entropy(zt, tt, label_smoothing=eps, reduction="sum")
    loss_t.backward()
    ours = cross_entropy(z, t, label_smoothing=eps, reduction="sum")
    np.testing.assert_allclose(ours, loss_t.item(), rtol=LOSS_RTOL, atol=LOSS_ATOL)
    np.testing.assert_allclose(cross_entropy_grad(z, t, label_smoothing=eps, reduction="sum"),
                               zt.grad.numpy(), rtol=1e-14, atol=1e-15)
    # per sample, too
    per_t = F.cross_entropy(torch.tensor(z), tt, label_smoothing=eps, reduction="none")
    np.testing.assert_allclose(cross_entropy(z, t, label_smoothing=eps, reduction="none"),
                               per_t.numpy(), rtol=LOSS_RTOL, atol=LOSS_ATOL)


def test_torch_gradient_vanishes_at_optimal_gap(torch):
    F = torch.nn.functional
    for K in (2, 10, 1000):
        for eps in (0.05, 0.1, 0.3):
            gap = float(optimal_logit_gap(eps, K))
            zt = torch.tensor(_logits_at_gap(gap, K)[None, :], requires_grad=True)
            F.cross_entropy(zt, torch.tensor([0]), label_smoothing=eps).backward()
            # PyTorch's own rounding (it forms the smoothed loss from
            # (1 - eps) nll + eps mean(-log p)) is ~K eps here; ours is 2e-15
            assert zt.grad.abs().max().item() <= 1e-13


def _seed_label_smoothing_module(torch):
    """The source notes' LabelSmoothing module in current PyTorch: KLDivLoss with
    reduction="sum" (was size_average=False), no Variable, input log-probabilities."""
    nn = torch.nn

    class LabelSmoothing(nn.Module):
        def __init__(self, size, smoothing=0.0):
            super().__init__()
            self.criterion = nn.KLDivLoss(reduction="sum")
            self.confidence = 1.0 - smoothing
            self.smoothing = smoothing
            self.size = size
            self.true_dist = None

        def forward(self, x, target):
            assert x.size(1) == self.size
            true_dist = torch.full_like(x, self.smoothing / (self.size - 1))
            true_dist.scatter_(1, target.unsqueeze(1), self.confidence)
            self.true_dist = true_dist
            return self.criterion(x, true_dist)

    return LabelSmoothing


@pytest.mark.parametrize("eps", [0.1, 0.4])
@pytest.mark.parametrize("K", [3, 10])
def test_torch_kldivloss_module_is_others_ce_minus_entropy(torch, eps, K):
    """KLDivLoss(reduction="sum")(log_softmax(z), q') with the notes' target equals
    our "others" cross-entropy (summed) minus the summed entropy of q', and has the
    same gradient with respect to the logits."""
    LabelSmoothing = _seed_label_smoothing_module(torch)
    rng = _rng(8)
    z = rng.standard_normal((12, K)) * 3
    t = rng.integers(0, K, 12)
    crit = LabelSmoothing(K, smoothing=eps)
    zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    loss = crit(torch.log_softmax(zt, dim=1), torch.tensor(t))
    loss.backward()
    q = _labelsmoothing_targets(t, K, eps)
    np.testing.assert_allclose(crit.true_dist.numpy(), q, rtol=0, atol=EPS)
    np.testing.assert_allclose(q, smooth_labels(t, K, eps, convention="others"),
                               rtol=0, atol=EPS)
    ce = cross_entropy(z, t, label_smoothing=eps, convention="others", reduction="sum")
    expected = ce - _entropy(q).sum()
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(zt.grad.numpy(),
                               cross_entropy_grad(z, t, label_smoothing=eps,
                                                  convention="others", reduction="sum"),
                               rtol=0, atol=1e-14)
    # the value differs from the cross-entropy by exactly the entropy, not a bug
    assert abs((ce - loss.item()) - _entropy(q).sum()) <= 1e-12


def test_torch_kldivloss_on_probabilities_is_wrong(torch):
    """Feeding probabilities instead of log-probabilities gives a different,
    meaningless value (KLDivLoss does not check)."""
    LabelSmoothing = _seed_label_smoothing_module(torch)
    rng = _rng(9)
    z = torch.tensor(rng.standard_normal((4, 5)))
    t = torch.tensor(rng.integers(0, 5, 4))
    crit = LabelSmoothing(5, smoothing=0.1)
    right = crit(torch.log_softmax(z, dim=1), t).item()
    wrong = crit(torch.softmax(z, dim=1), t).item()
    assert abs(right - wrong) > 0.1


def _seed_label_smoothing_module_as_written(torch):
    """Note 2's LabelSmoothing module as written: KLDivLoss(size_average=False),
    the target built from x.data.clone() and target.data, wrapped in Variable."""
    nn = torch.nn
    Variable = torch.autograd.Variable

    class LabelSmoothing(nn.Module):
        def __init__(self, size, smoothing=0.0):
            super().__init__()
            self.criterion = nn.KLDivLoss(size_average=False)
            self.confidence = 1.0 - smoothing
            self.smoothing = smoothing
            self.size = size
            self.true_dist = None

        def forward(self, x, target):
            assert x.size(1) == self.size
            true_dist = x.data.clone()
            true_dist.fill_(self.smoothing / (self.size - 1))
            true_dist.scatter_(1, target.data.unsqueeze(1), self.confidence)
            self.true_dist = true_dist
            return self.criterion(x, Variable(true_dist, requires_grad=False))

    return LabelSmoothing


_DEPRECATION = (UserWarning, DeprecationWarning, FutureWarning)


def test_torch_deprecated_spellings_of_the_seed_module(torch):
    """The loose ends of note 2's module: KLDivLoss(size_average=False) warns and
    means reduction="sum"; Variable(t, requires_grad=False) returns a plain
    Tensor; x.data.clone() + fill_ + scatter_(1, ...) builds the same target as
    full_like + scatter_, one entry per row; the module as written gives the
    same loss and gradient as the current spelling."""
    with pytest.warns(_DEPRECATION, match=r"size_average.*deprecated"):
        crit = torch.nn.KLDivLoss(size_average=False)
    assert crit.reduction == "sum"

    t = torch.rand(3, 4, dtype=torch.float64)
    v = torch.autograd.Variable(t, requires_grad=False)
    assert type(v) is torch.Tensor
    assert not v.requires_grad and torch.equal(v, t)

    rng = _rng(10)
    K, eps = 5, 0.1
    z = rng.standard_normal((6, K)) * 3
    target = torch.tensor(rng.integers(0, K, 6))
    with pytest.warns(_DEPRECATION, match="size_average"):
        old = _seed_label_smoothing_module_as_written(torch)(K, smoothing=eps)
    new = _seed_label_smoothing_module(torch)(K, smoothing=eps)
    losses, grads = [], []
    for module in (old, new):
        zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
        loss = module(torch.log_softmax(zt, dim=1), target)
        loss.backward()
        losses.append(loss.item())
        grads.append(zt.grad.numpy())
    # the borrowed copy is outside autograd and holds the "others" target
    assert not old.true_dist.requires_grad
    assert torch.equal(old.true_dist, new.true_dist)
    # scatter_ along dim 1: exactly one entry per row is 1 - eps
    on_target = old.true_dist.numpy() == 1.0 - eps
    assert np.array_equal(on_target.sum(axis=1), np.ones(6))
    assert np.array_equal(on_target.argmax(axis=1), target.numpy())
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-15, atol=0)
    np.testing.assert_allclose(grads[0], grads[1], rtol=0, atol=1e-16)
