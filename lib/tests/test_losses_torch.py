"""smoothmax.losses against PyTorch (float64) as an independent oracle.

``torch.nn.functional.cross_entropy`` with index and probability targets,
every reduction and ``label_smoothing`` in {0, 0.1, 0.5, 1} (PyTorch's
smoothing is our ``convention="uniform"``); the gradient is compared with
autograd of the *summed* loss.  Skipped when torch is not installed (it is a
test oracle only, see requirements-dev.txt).

Tolerances: the loss to 1e-14 relative, plus an absolute 16 eps that covers
PyTorch's own error: it computes ``log(sum(exp(z - m)))`` with an absolute
error of a few eps, which is a large *relative* error when the loss is small
(``test_where_torch_differs_we_match_mpmath``).  The gradient to 1e-14
absolute.  Note PyTorch's ``reduction="mean"`` with index targets and
``label_smoothing``: it averages ``(1 - eps) * nll + eps * mean_k(-log a_k)``
over the samples (without class weights, the same as our mean of the
per-sample smoothed losses; with ``weight=`` it would divide differently).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from _reference import hard_inputs, mp_log_softmax, ulp_error  # noqa: E402
from smoothmax import cross_entropy, cross_entropy_grad  # noqa: E402

EPS = np.finfo(np.float64).eps
LOSS_RTOL = 1e-14
LOSS_ATOL = 16 * EPS          # PyTorch's absolute error on log(sum(exp(z - m)))
GRAD_ATOL = 1e-14
SMOOTHING = [0.0, 0.1, 0.5, 1.0]
REDUCTIONS = ["none", "mean", "sum"]


def _torch_loss_and_grad(z, target, eps, reduction):
    """PyTorch's loss (with `reduction`) and autograd of the summed loss."""
    zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    tt = torch.tensor(target)
    loss = F.cross_entropy(zt, tt, label_smoothing=eps, reduction=reduction)
    zs = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    F.cross_entropy(zs, tt, label_smoothing=eps, reduction="sum").backward()
    return loss.detach().numpy(), zs.grad.numpy()


def _check(z, target, eps, reduction, label=""):
    ours = cross_entropy(z, target, label_smoothing=eps, reduction=reduction)
    theirs, grad_t = _torch_loss_and_grad(z, target, eps, reduction)
    np.testing.assert_allclose(ours, theirs, rtol=LOSS_RTOL, atol=LOSS_ATOL,
                               err_msg=label)
    grad = cross_entropy_grad(z, target, label_smoothing=eps, reduction="sum")
    np.testing.assert_allclose(grad, grad_t, rtol=0, atol=GRAD_ATOL, err_msg=label)
    return np.max(np.abs(grad - grad_t))


def _random_probs(rng, shape):
    y = rng.random(shape) ** 3
    return y / y.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("eps", SMOOTHING)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kind", ["index", "prob"])
def test_matches_torch_random(eps, reduction, kind):
    rng = np.random.default_rng(0)
    for scale in (1e-3, 1.0, 30.0):
        z = rng.standard_normal((64, 10)) * scale
        target = rng.integers(0, 10, 64) if kind == "index" else _random_probs(rng, z.shape)
        _check(z, target, eps, reduction, f"scale={scale}")


@pytest.mark.parametrize("eps", SMOOTHING)
@pytest.mark.parametrize("kind", ["index", "prob"])
def test_matches_torch_hard_inputs(eps, kind):
    """Rows of hard_inputs (spreads to 1e3, offsets to 1e5, |z| to 1e307, K to 1000)."""
    rng = np.random.default_rng(1)
    worst_grad = 0.0
    for label, row in hard_inputs(seed=7, n_rows=64):
        K = len(row)
        z = row[None, :]
        target = (rng.integers(0, K, 1) if kind == "index"
                  else _random_probs(rng, (1, K)))
        for reduction in REDUCTIONS:
            worst_grad = max(worst_grad, _check(z, target, eps, reduction, label))
    print(f"\nvs torch ({kind}, eps={eps}): max |grad diff| {worst_grad:.1e}")


def test_matches_torch_batched_axis():
    """Our class axis 1 of (N, K, d) is PyTorch's layout for (N, C, d1) inputs."""
    rng = np.random.default_rng(2)
    z = rng.standard_normal((4, 6, 3)) * 5
    t = rng.integers(0, 6, (4, 3))
    for eps in SMOOTHING:
        for reduction in REDUCTIONS:
            ours = cross_entropy(z, t, label_smoothing=eps, reduction=reduction, axis=1)
            theirs = F.cross_entropy(torch.tensor(z), torch.tensor(t), label_smoothing=eps,
                                     reduction=reduction).numpy()
            np.testing.assert_allclose(ours, theirs, rtol=LOSS_RTOL, atol=LOSS_ATOL)


def test_torch_mean_with_label_smoothing_is_mean_over_samples():
    rng = np.random.default_rng(3)
    z = rng.standard_normal((9, 5)) * 3
    t = rng.integers(0, 5, 9)
    zt, tt = torch.tensor(z), torch.tensor(t)
    for eps in (0.1, 0.5, 1.0):
        mean_t = F.cross_entropy(zt, tt, label_smoothing=eps).item()
        none_t = F.cross_entropy(zt, tt, label_smoothing=eps, reduction="none")
        assert mean_t == pytest.approx(none_t.mean().item(), rel=4 * EPS)
        assert float(cross_entropy(z, t, label_smoothing=eps)) == pytest.approx(
            mean_t, rel=LOSS_RTOL)


def test_where_torch_differs_we_match_mpmath():
    """A tiny loss (confident, correct prediction): PyTorch's log-sum-exp has an
    absolute error of ~eps, hundreds of ulps relative; ours is within 1 ulp."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal((200, 50)) * 30
    t = np.argmax(z, axis=1)                       # the loss is small
    ours = cross_entropy(z, t, reduction="none")
    theirs = F.cross_entropy(torch.tensor(z), torch.tensor(t), reduction="none").numpy()
    i = int(np.argmax(np.abs(ours - theirs) / ours))
    exact = -mp_log_softmax(z[i])[t[i]]
    assert ulp_error(ours[i], exact) <= 1.0
    assert ulp_error(theirs[i], exact) > 10.0      # torch is the less accurate one
    assert abs(theirs[i] - ours[i]) <= LOSS_ATOL


def test_masking_differs_from_torch_on_purpose():
    """Probability targets with 0 mass on a masked (-inf) class: PyTorch computes
    0 * (-inf) = nan; we use 0 * log 0 = 0.  Index targets agree."""
    z = np.array([[1.0, -np.inf, 3.0]])
    y = np.array([[0.5, 0.0, 0.5]])
    assert np.isnan(F.cross_entropy(torch.tensor(z), torch.tensor(y)).item())
    expected = float(cross_entropy(z[:, [0, 2]], y[:, [0, 2]]))
    assert float(cross_entropy(z, y)) == pytest.approx(expected, rel=2 * EPS)
    t = np.array([0])
    assert float(cross_entropy(z, t)) == pytest.approx(
        F.cross_entropy(torch.tensor(z), torch.tensor(t)).item(), rel=LOSS_RTOL)
    assert F.cross_entropy(torch.tensor(z), torch.tensor(t), label_smoothing=0.1).item() \
        == float(cross_entropy(z, t, label_smoothing=0.1)) == np.inf
