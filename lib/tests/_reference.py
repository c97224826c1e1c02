"""High-precision references and hard inputs, reusable by every chapter's tests.

* ``mp_logsumexp``, ``mp_log_softmax``, ``mp_softmax``: 50-digit mpmath
  references for one 1-d row of float64 logits.  Differences ``z_i - max`` are
  formed *exactly* (``mpmath.fsub(..., exact=True)``) and the normaliser is
  ``log1p(sum over the non-max terms)``, so the reference itself has no
  cancellation even when the answer is ~1e-300 next to logits of size 1e5.
* ``ulp_error(computed, exact)``: error of a float64 result in units in the
  last place of the float64 nearest to the exact value.
* ``hard_inputs(seed)``: a generator of ``(label, row)`` pairs that exercise
  the numerically hard regimes (large spreads, large offsets, near-overflow
  magnitudes, many classes, near ties).
"""

import math

import mpmath
import numpy as np

__all__ = [
    "DPS",
    "mp_logsumexp",
    "mp_log_softmax",
    "mp_softmax",
    "ulp_error",
    "max_ulp_error",
    "hard_inputs",
]

DPS = 50
_CTX = mpmath.mp.clone()  # private context: do not disturb mpmath.mp for others
_CTX.dps = DPS


def _as_row(row):
    row = np.asarray(row, dtype=np.float64)
    if row.ndim != 1 or row.size == 0:
        raise ValueError("a reference row must be a non-empty 1-d array")
    return row


def _parts(row, temperature=1.0):
    """Return (m, [z_i - m exactly] / T, log1p(sum_{i != argmax} exp(.)))."""
    row = _as_row(row)
    ctx = _CTX
    vals = [ctx.mpf(float(v)) for v in row]
    imax = int(np.argmax(row))
    m = vals[imax]
    T = ctx.mpf(float(temperature))
    # exact differences (-inf stays -inf), then divide at working precision
    diffs = [ctx.fsub(v, m, exact=True) / T for v in vals]
    rest = ctx.fsum(ctx.exp(d) for i, d in enumerate(diffs) if i != imax)
    return m, diffs, ctx.log1p(rest)


def mp_logsumexp(row):
    """50-digit ``log(sum(exp(row)))`` as an mpmath ``mpf``."""
    m, _, log_norm = _parts(row)
    return m + log_norm


def mp_log_softmax(row, temperature=1.0):
    """50-digit ``log_softmax(row / temperature)`` (list of ``mpf``).

    ``row / temperature`` is taken exactly, i.e. this is the reference for
    the function of the real number z/T, not of the rounded float fl(z/T).
    """
    _, diffs, log_norm = _parts(row, temperature)
    return [d - log_norm for d in diffs]


def mp_softmax(row, temperature=1.0):
    """50-digit ``softmax(row / temperature)`` (list of ``mpf``)."""
    return [_CTX.exp(v) for v in mp_log_softmax(row, temperature)]


def ulp_error(computed, exact):
    """``|computed - exact| / ulp(float(exact))`` as a Python float.

    ``exact`` is an mpmath number (or anything mpmath accepts).  Infinite
    exact values (e.g. ``-inf`` log-probabilities of masked classes) count as
    error 0 when matched exactly and ``inf`` otherwise.  ``math.ulp(0.0)`` is
    the smallest subnormal, so exact values that underflow are handled.
    """
    exact = _CTX.mpf(exact)
    c = float(computed)
    e = float(exact)
    if not math.isfinite(e) or not math.isfinite(c):
        return 0.0 if c == e else math.inf
    return float(abs(_CTX.mpf(c) - exact) / math.ulp(e))


def max_ulp_error(computed, exact):
    """Largest :func:`ulp_error` over paired sequences."""
    return max(ulp_error(c, e) for c, e in zip(np.ravel(computed), exact))


def hard_inputs(seed, n_rows=40, k_max=1000):
    """Yield ``(label, row)`` pairs of numerically hard float64 logit rows.

    Rows are drawn from a fixed recipe (reproducible for a given `seed`):

    * ``K`` from {2, 3, 5, 10, 30, 100, ``k_max``};
    * Gaussian logits ``scale * N(0, 1)`` with scale in {1e-3, 1, 30, 1e3};
    * plus an offset in {0, +-700, +-1e4, +-1e5} (the shift ``z - max``
      then has a rounding error of order ulp(offset), which ``exp``
      amplifies: this is the regime where the naive softmax loses ~7 bits);
    * every few rows, a special row: near ties (differences of a few ulps),
      a one-hot-like row (softmax within ~1e-30 of a vertex), and a row of
      huge magnitudes (|z| ~ 1e300..1e307, neighbours a few ulps apart, so
      the differences are ~1e284 and must be formed without overflow).
    """
    rng = np.random.default_rng(seed)
    ks = [2, 3, 5, 10, 30, 100, k_max]
    probs = [0.2, 0.15, 0.15, 0.15, 0.15, 0.1, 0.1]
    scales = [1e-3, 1.0, 30.0, 1e3]
    offsets = [0.0, 0.0, 0.0, 700.0, -700.0, 1e4, -1e4, 1e5, -1e5]
    for i in range(n_rows):
        K = int(rng.choice(ks, p=probs))
        special = i % 8
        if special == 5:
            base = float(rng.choice([1.0, -3.0, 1e4, -1e5]))
            row = base + np.spacing(base) * rng.integers(-4, 5, K)
            label = f"near-ties K={K} base={base:g}"
        elif special == 6:
            row = rng.standard_normal(K) - 75.0
            row[rng.integers(K)] = float(rng.uniform(-5, 5))
            label = f"one-hot-like K={K}"
        elif special == 7:
            base = float(rng.choice([1e300, -1e300, 1e307]))
            row = base + np.spacing(base) * rng.integers(-6, 1, K)
            label = f"huge K={K} base={base:g}"
        else:
            scale = float(rng.choice(scales))
            offset = float(rng.choice(offsets))
            row = rng.standard_normal(K) * scale + offset
            label = f"gauss K={K} scale={scale:g} offset={offset:g}"
        yield label, np.asarray(row, dtype=np.float64)
