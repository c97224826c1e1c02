"""Softmax, log-softmax, LogSumExp and the softmax Jacobian, computed accurately.

Derived in chapter 1 of the book (chapters/01_softmax.ipynb).

All functions work on float64 and are vectorised along the class axis.  The
shift by the maximum is done with its rounding error carried along
(Blanchard, Higham & Higham 2021), sums of positive terms are computed with an
error-free "extraction" split, and the log-domain functions use an exp with
about 2**-62 relative error (table + polynomial in plain NumPy), so that
``logsumexp`` and ``log_softmax`` are nearly correctly rounded.  For
``T = 1`` and logits of moderate size (the usual case) no shift is needed at
all: ``exp`` of the unshifted logit has an exact argument.  Each such
shortcut states its error bound where it is implemented ("Fast paths").

Cost: NumPy operations over blocks of about 2**17 elements (no Python loop
over rows; scratch arrays are reused from block to block, which avoids the
page faults of fresh 8 MB temporaries).  Measured on 10**6 standard-normal
float64 logits (1000 x 1000 and 1 x 10**6, along the last axis), against
SciPy 1.17 in the same process (CPU time, best of many runs): ``softmax``
takes 1.1-1.4 times as long as ``scipy.special.softmax`` (one ``np.exp``
pass, an exact split of the denominator, one division), ``logsumexp``
1.1-1.3 times ``scipy.special.logsumexp``, ``cross_entropy`` (index targets)
1.2-1.35 times ``logsumexp(z) - z[label]``, and ``log_softmax`` 3-3.5 times
``scipy.special.log_softmax``.  That factor is the price of the last half
ulp: SciPy's single ``np.exp`` pass errs by up to 0.7 ulp per term, more than
the whole error budget, while the accurate exp-sum takes about 15 passes and
two table lookups, and ``z - LSE`` rounded once needs the exact error of the
subtraction (5 passes instead of 1).  Rows outside the fast paths (huge or
widely spread logits, other temperatures) take the general path, several
times slower.
"""

import math
from decimal import Decimal, localcontext

import numpy as np

from ._validation import (
    _as_float_array,
    _check_logits,
    _check_same_shape,
    _positive_finite_scalar,
    _reject_all_masked,
    _reject_nonfinite,
)

__all__ = [
    "logsumexp",
    "softmax",
    "log_softmax",
    "softmax_jacobian",
    "softmax_jvp",
]


# ---------------------------------------------------------------------------
# Error-free transformations (Knuth, Dekker).  Elementwise, broadcasting.
# ---------------------------------------------------------------------------

def _two_sum(a, b):
    """Return ``(s, err)`` with ``s = fl(a + b)`` and ``a + b = s + err`` exactly."""
    s = a + b
    bp = s - a
    ap = s - bp
    return s, (a - ap) + (b - bp)


def _two_sum_arrays(a, b):
    """:func:`_two_sum` for a large array `a` and a broadcastable `b`, with two
    temporaries in all (the results) instead of five."""
    s = np.add(a, b)
    bp = np.subtract(s, a)
    err = np.subtract(s, bp)
    np.subtract(a, err, out=err)
    np.subtract(b, bp, out=bp)
    err += bp
    return s, err


def _fast_two_sum(a, b):
    """Like :func:`_two_sum`, valid when ``|a| >= |b|`` (or ``a == 0``)."""
    s = a + b
    return s, b - (s - a)


_SPLITTER = 134217729.0  # 2**27 + 1, Dekker's splitting constant


def _split(a):
    """Dekker split ``a = hi + lo`` with hi, lo of at most 26 significant bits."""
    c = _SPLITTER * a
    hi = c - (c - a)
    return hi, a - hi


# ---------------------------------------------------------------------------
# exp with ~2**-62 relative error: exp(q + qe) = 2**k * T_j * exp(rho) with
# n = round(q * N/ln2) = N*k + j, T_j = 2**(j/N) stored as a double-double,
# |rho| <= ln2/(2N) = 4.2e-5 and exp(rho) - 1 by a short polynomial.  The
# tables are built once with the stdlib decimal module (no runtime mpmath
# dependency), as T_j = 2**(a/64) * 2**(b/N) from 64 + N/64 decimal exps.
# ---------------------------------------------------------------------------

_LOG2N = 13
_N = 1 << _LOG2N


def _build_tables(n):
    with localcontext() as ctx:
        ctx.prec = 45
        ln2 = Decimal(2).ln()
        nb = n // 64
        coarse = [(ln2 * a / 64).exp() for a in range(64)]
        fine = [(ln2 * b / n).exp() for b in range(nb)]
        hi = np.empty(n)
        lo = np.empty(n)
        for j in range(n):
            v = coarse[j // nb] * fine[j % nb]       # 2**(j/n) to ~1e-44
            hi[j] = float(v)
            lo[j] = float(v - Decimal(hi[j]))
        step = ln2 / n
        # step = C1 + C2 with C1 of 28 significant bits, so that n*C1 is
        # exact for |n| < 2**25 (we need |n| <= 2048 * N / ln2 < 2**24.6).
        f, e = math.frexp(float(step))
        c1 = math.ldexp(round(f * 2**28), e - 28)
        c2 = float(step - Decimal(c1))
        inv = float(n / ln2)
    return hi, lo, c1, c2, inv


_TAB_HI, _TAB_LO, _LN2N_HI, _LN2N_LO, _INV_LN2N = _build_tables(_N)
_EXP_ARG_MIN = -1100.0  # exp(-1100) == 0 even after the 2**_BIAS scaling
_BIAS = 128             # terms are summed scaled by 2**_BIAS: no subnormals


def _exp_parts(q, qe, bias=0, clip=False):
    """Return ``(main, tail)`` with ``main + tail = 2**bias * exp(q + qe)``.

    `main` has 53 significant bits, ``|tail| <~ 5e-5 * main``, and the pair
    has a relative error below ~2e-20 (truncation ``rho**5/120 < 2e-24``,
    rounding of ``rho`` and ``w`` < 5e-21 each, of the tail ~5e-21).
    ``|qe|`` must be below ~1e-6 wherever ``q > -1100``; pass ``clip=True`` if
    huge ``|q|`` may carry huge ``qe``.  Requires ``q <= ~700`` (the callers
    pass ``q <= 0`` or ``q = log1p(r)``).  New arrays are returned.
    """
    q = np.maximum(q, _EXP_ARG_MIN)
    if clip:
        qe = np.clip(qe, -1e-6, 1e-6)
    n = np.multiply(q, _INV_LN2N)
    np.rint(n, out=n)
    rho = np.multiply(n, _LN2N_HI)
    np.subtract(q, rho, out=rho)                 # exact (Sterbenz)
    np.multiply(n, _LN2N_LO, out=q)
    np.subtract(qe, q, out=q)
    rho += q                                     # |rho| <= 4.3e-5
    w = np.multiply(rho, 1.0 / 24, out=q)        # exp(rho) - 1 =
    w += 1.0 / 6                                 #   rho + rho**2 (1/2 + rho
    w *= rho                                     #   (1/6 + rho/24))
    w += 0.5
    w *= rho
    w *= rho
    w += rho
    ni = n.astype(np.intp)                       # |n| < 2**24
    j = np.bitwise_and(ni, _N - 1)               # n mod N (intp: fast take)
    np.right_shift(ni, _LOG2N, out=ni)           # floor(n / N)
    if bias:
        ni += bias
    k = ni.astype(np.int32)                      # portable ldexp exponent
    main = np.take(_TAB_HI, j, mode="clip")
    tail = np.multiply(main, w, out=w)
    tail += np.take(_TAB_LO, j, mode="clip")
    np.ldexp(main, k, out=main)
    np.ldexp(tail, k, out=tail)
    return main, tail


def _extract_sum(terms, axis, bound, extra=None, scratch=None):
    """Accurate sum of non-negative `terms` along `axis` as a pair ``(hi, lo)``.

    `bound` (scalar or keepdims array) must be >= the sum of the terms (up
    to a relative 2**-20 slack).  Each term is split as ``hi_i + lo_i`` with
    ``hi_i`` on a grid of ``2**(E-51)``, where ``bound < 2**E`` (Rump, Ogita &
    Oishi's ExtractVector): every partial sum of the ``hi_i`` is a multiple
    of the grid below ``2**(E+2)``, hence exact in any order, and
    ``|lo_i| <= 2**-51 * bound`` is
    so small that an ordinary ``np.sum`` of the ``lo_i`` (plus the optional
    small `extra` terms) is accurate far below one ulp of the total.  The
    result is correct to about 0.5 ulp regardless of memory order.  `scratch`
    (same shape as `terms`) is overwritten if given.
    """
    _, e = np.frexp(bound * (1.0 + 2.0**-20))
    sigma = np.ldexp(3.0, e)
    hi = np.add(terms, sigma, out=scratch)
    hi -= sigma
    hi_sum = np.sum(hi, axis=axis, keepdims=True)
    lo = np.subtract(terms, hi, out=hi)
    if extra is not None:
        lo += extra
    return _two_sum(hi_sum, np.sum(lo, axis=axis, keepdims=True))


def _log1p_dd(r_hi, r_lo):
    """``log1p(r_hi + r_lo)`` as a double-double ``(L_hi, L_lo)``, ``r >= 0``.

    One Newton step on ``np.log1p(r_hi)``: for small results ``expm1`` is
    evaluated by its Taylor series (relative accuracy), otherwise by
    :func:`_exp_parts`.  Per-row work only.
    """
    y0 = np.log1p(r_hi)
    small = y0 < 1.0 / 32
    if small.any():
        # branch 1 (y0 < 1/32): expm1(y0) = y0 + p, p by Taylor up to y0**9
        p = y0 * y0 * (0.5 + y0 * (1.0 / 6 + y0 * (1.0 / 24 + y0 * (
            1.0 / 120 + y0 * (1.0 / 720 + y0 * (1.0 / 5040 + y0 * (
                1.0 / 40320 + y0 * (1.0 / 362880))))))))
        delta = ((r_hi - y0) + (r_lo - p)) / (1.0 + r_hi)   # r_hi - y0 exact
    if not small.all():
        # branch 2: exp(y0) = main + tail to ~2**-60
        main, tail = _exp_parts(y0, 0.0)
        s1, s1_err = _two_sum(1.0, r_hi)
        d_large = ((s1 - main) + ((s1_err + r_lo) - tail)) / (main + tail)
        delta = np.where(small, delta, d_large) if small.any() else d_large
    return _fast_two_sum(y0, delta)


# ---------------------------------------------------------------------------
# Shared preparation: validation, argmax, the exactly-carried shift.
# ---------------------------------------------------------------------------

def _may_overflow(x, lo, hi, limit=2.0**1020):
    """True if some finite difference ``x_i - x_j`` may exceed ``2**1021``."""
    if hi > limit or -np.inf < lo < -limit:
        return True
    if lo == -np.inf and hi > -np.inf:          # masked: look at finite entries
        return bool(np.min(x, initial=np.inf, where=x > -np.inf) < -limit)
    return False


def _prepare(z, axis, temperature):
    """Validate and shift; return ``(x, axis, T, idx, m, q, qe, fix, big)``.

    `T` is the validated temperature (a float).  ``q + qe = (x - m) / T`` to
    about 2**-100 relative, where ``m`` is the
    row maximum at index ``idx`` (keepdims).  ``fix`` is True when -inf
    entries or overflowing differences may have produced NaN error terms
    (which are then zeroed); ``big`` when some ``|q|`` may exceed 2**40 (so
    ``qe`` may be large, though tiny relative to ``q``).  Must be called
    inside ``np.errstate``.  `q` and `qe` are new arrays (callers may
    overwrite them).
    """
    x, ax, lo, hi = _check_logits(z, "z", axis)
    T = _positive_finite_scalar(temperature, "temperature")
    return _shift(x, ax, lo, hi, T)


def _shift(x, ax, lo, hi, T, axis_label=None):
    """The shift of :func:`_prepare` on validated `x` (min `lo`, max `hi`).

    `axis_label` is the axis named in the all-masked error (default `ax`).
    """
    T_in = T
    if T >= 2.0 and _may_overflow(x, lo, hi):
        # z - m may overflow although (z - m)/T does not: use z/2 and T/2
        x = x * 0.5
        T *= 0.5
        lo, hi = lo * 0.5, hi * 0.5
    idx = np.argmax(x, axis=ax, keepdims=True)
    m = np.take_along_axis(x, idx, axis=ax)
    _reject_all_masked(m, "z", ax if axis_label is None else axis_label)
    span = (hi - lo) / T
    fix = not (span < 1e300)
    big = not (span < 2.0**40)
    d, e = _two_sum_arrays(x, -m)       # x - m = d + e exactly (Knuth)
    if T == 1.0:
        q, qe = d, e
    elif T > 2.0**995:
        # T so large that Dekker's split of T overflows; then |q| < 2**-900
        # and exp(q) rounds to 1 whatever the remainder is
        q = np.divide(d, T)
        qe = np.divide(e, T, out=e)
    else:
        # (d + e)/T = q + ((d - q*T) + e)/T, with d - q*T exact (Dekker)
        t_hi, t_lo = _split(T)
        q = np.divide(d, T)
        p = np.multiply(q, T)
        # Dekker: q*T - p exactly, splitting q = a_hi + a_lo (26 bits each)
        a_hi = np.multiply(q, _SPLITTER)
        a_lo = np.subtract(a_hi, q)
        np.subtract(a_hi, a_lo, out=a_hi)
        np.subtract(q, a_hi, out=a_lo)
        err = np.multiply(a_hi, t_hi)
        err -= p
        err += np.multiply(a_hi, t_lo, out=a_hi)
        err += np.multiply(a_lo, t_hi, out=a_hi)
        err += np.multiply(a_lo, t_lo, out=a_lo)
        rem = np.subtract(d, p, out=p)          # exact (Sterbenz)
        rem -= err                              # = d - q*T, exact
        rem += e
        qe = np.divide(rem, T, out=rem)
    if fix:
        qe[np.isnan(qe)] = 0.0
    return x, ax, T_in, idx, m, q, qe, fix, big


def _log_normalizer(q, qe, idx, axis, big):
    """``L = log(sum_i exp(q_i + qe_i))`` (``q`` has a 0 at ``idx``) as (hi, lo)."""
    main, tail = _exp_parts(q, qe, _BIAS, clip=big)
    np.put_along_axis(main, idx, 0.0, axis=axis)   # r = sum over i != argmax
    np.put_along_axis(tail, idx, 0.0, axis=axis)
    bound = np.sum(main, axis=axis, keepdims=True)
    R_hi, R_lo = _extract_sum(main, axis, bound, extra=tail)
    # undo the 2**_BIAS scaling; if r is subnormal, r_hi is rounded, so carry
    # the exact remainder into r_lo (keeps tiny results within 1 ulp)
    r_hi = np.ldexp(R_hi, -_BIAS)
    r_lo = np.ldexp((R_hi - np.ldexp(r_hi, _BIAS)) + R_lo, -_BIAS)
    return _log1p_dd(r_hi, r_lo)


def _softmax_parts(z, axis, temperature):
    """Return ``(a, x, axis, T, idx, r, S)`` with ``a = softmax(z/T)``.

    ``r = sum_{i != argmax} exp((z_i - m)/T)`` (relative accuracy) and
    ``S = 1 + r`` are keepdims arrays; the Jacobian uses them for ``1 - a``.
    """
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        return _softmax_shifted(_prepare(z, axis, temperature))


def _softmax_shifted(prepared):
    """:func:`_softmax_parts` from the output of :func:`_prepare`/:func:`_shift`."""
    x, ax, T, idx, m, q, qe, _, _ = prepared
    ex = np.exp(q, out=q)
    c = np.multiply(ex, qe, out=qe)     # exp(d + e) ~= exp(d) * (1 + e)
    np.put_along_axis(ex, idx, 0.0, axis=ax)
    r_hi, r_lo = _extract_sum(ex, ax, np.float64(x.shape[ax]), extra=c)
    r = r_hi + r_lo
    S, S_err = _two_sum(1.0, r_hi)
    S += S_err + r_lo                   # 1 + r rounded once
    np.put_along_axis(ex, idx, 1.0, axis=ax)
    ex += c
    ex /= S
    return ex, x, ax, T, idx, r, S


# ---------------------------------------------------------------------------
# Fast paths for T = 1 and logits of moderate size (the common case).
#
# The general path above shifts by the row maximum and carries the rounding
# error of every shift (TwoSum: six passes over the data) into an exp with a
# correction term.  Neither is needed when the logits are moderate:
#
# * ``exp(z_i)`` of the *unshifted* logit has an exact argument, so there is
#   no shift error at all.  ``softmax`` then needs one ``np.exp`` pass, an
#   accurately summed denominator and one division (no overflow or
#   underflow when ``max(z) + log K <= 700`` and ``min(z) >= -708``).
# * ``logsumexp``/``log_softmax`` need the sum to ~2**-60, which ``np.exp``
#   (up to ~0.7 ulp) cannot give; :func:`_exp_block` evaluates a table exp on
#   the unshifted logit, scaled by ``2**-k0`` through integer addition to the
#   exponent bits, as ``main * exp(r)`` with ``main`` of 16 significant bits:
#   when a row's logits span less than ``ln2 (35 - log2 K)`` (about 18 for K =
#   1000), the sum of the ``main`` is *exact* in any order, and only the tiny
#   ``main * expm1(r)`` parts are rounded.  Wider rows split ``main`` exactly
#   first (ExtractVector).  Nothing overflows or underflows for
#   ``|z| <= 2048`` and a row spread of at most 690.
#
# All passes run over blocks of about 2**17 elements, with the scratch arrays
# (1 MiB each) reused from block to block: allocating fresh 8 MB temporaries
# costs more than the arithmetic (page faults), and the blocks stay in cache.
#
# Rows that do not qualify take the general path.  The choice is made per
# row, and nothing in a fast row's result depends on the other rows (the
# scaling by a power of two is exact, all sums are per row, the splitting
# constant is per row), so a row gives the same bits alone as in any batch.
# ---------------------------------------------------------------------------

_FAST_ABS = 2048.0       # |z| <= this: n * C1 exact in _exp_block (|n| < 2**25)
_FAST_SPREAD = 690.0     # max - min <= this: every scaled term >= 2**-998
_FAST_K = 1 << 22        # at most this many classes (bounds the summation depth)
_SM_MIN = -708.0         # exp(z) is a normal number for z >= -708
_SM_MAX = 700.0          # max(z) + log(K) <= 700: sum(exp(z)) < 2**1011
_CHUNK = 1 << 17         # elements per block

_MAIN_BITS = 16          # significant bits of the table values T16_j


def _build_t16():
    """``T16_j``: ``2**(j/N)`` rounded to 16 significant bits (as exponent-field
    ready int64 bits minus ``j << 39``), and ``delta_j = log(2**(j/N) / T16_j)``,
    ``|delta_j| < 2**-16``, to double precision."""
    t16 = np.ldexp(np.rint(np.ldexp(_TAB_HI, _MAIN_BITS - 1)), 1 - _MAIN_BITS)
    with localcontext() as ctx:
        ctx.prec = 45
        delta = np.array([float(((Decimal(h) + Decimal(l)) / Decimal(t)).ln())
                          for h, l, t in zip(_TAB_HI, _TAB_LO, t16)])
    bits = t16.view(np.int64) - (np.arange(_N, dtype=np.int64) << (52 - _LOG2N))
    return bits, delta


_SHIFTER = 1.5 * 2.0**52  # fl(y + 1.5*2**52) holds round(y) in its low bits
_T16_BITS, _T16_DELTA = _build_t16()
# |r| <= _R_MAX in _exp_block; expm1(r) = r + C2 r**2 + r**3/6 with C2 = 1/2 +
# (sqrt(2) - 1)/12 * _R_MAX**2: the best such fit of r**4/24 (by c r**2) errs
# by at most (sqrt(2) - 1)**2 / 24 * _R_MAX**4 < 2**-63.4, of either sign
_R_MAX = 0.5 * _LN2N_HI * (1.0 + 2.0**-20) + float(np.max(np.abs(_T16_DELTA))) + 2.0**-60
_EXPM1_C2 = 0.5 + (math.sqrt(2.0) - 1.0) / 12.0 * _R_MAX**2


def _narrow_spread(K):
    """Largest row spread ``max - min`` for which the sum of the ``main`` parts
    of :func:`_exp_block` is exact: ``main_i`` is a multiple of ``2**(k_i - k0
    - 15)`` and below ``2**(k_i - k0 + 1)``, ``k_max - k_min <= spread/ln2 +
    1``, so every partial sum is a multiple of ``2**(k_min - k0 - 15)`` below
    ``K 2**(k_max - k0 + 1) <= 2**53 * 2**(k_min - k0 - 15)`` (exact) when
    ``log2 K + spread/ln2 + 17 <= 53``; 0.5 of margin."""
    return math.log(2.0) * (35.5 - math.log2(K))


def _exp_block(xv, tab, k0, fin, t, w, r, j):
    """``exp(xv) * 2**-k0 = main * exp(r)`` into the scratch arrays; returns
    ``(main, r)`` (views of `w` and `r`).

    `tab` is ``_T16_BITS - (k0 << 52)`` for a scalar `k0`, else `k0` is an
    int64 ``(rows, 1)`` array (per-row scale) and `tab` is ``_T16_BITS``.
    With ``n = round(xv N / ln2)`` (the shifter's low bits), ``k = n >> 13``,
    ``j = n mod N``: ``exp(xv) = 2**k T16_j exp(r)``, ``r = xv - n C1 - n C2 +
    delta_j``, where ``n C1`` is exact (``|n| < 2**25``, C1 has 28 bits),
    ``xv - n C1`` is exact (Sterbenz), the remaining operations and
    ``C1 + C2 = ln2/N`` err by < 2**-65.5 in all (``|delta_j| < 1.53e-5``).
    ``main = 2**(k - k0) T16_j`` is exact (integer addition to the exponent
    field), and ``main * exp(r) = exp(xv) * 2**-k0`` (to 2**-65.5 in ``r``)
    with ``|r| <= _R_MAX = 5.75e-5``.  `fin` (False at masked entries, which
    the caller has clamped to a finite value) zeroes ``main`` there.
    """
    np.multiply(xv, _INV_LN2N, out=t)
    t += _SHIFTER                          # low bits of t: n (two's complement)
    np.subtract(t, _SHIFTER, out=w)        # n as a float, exactly
    np.multiply(w, _LN2N_HI, out=r)
    np.subtract(xv, r, out=r)              # exact
    w *= _LN2N_LO
    r -= w
    np.bitwise_and(t.view(np.int64), _N - 1, out=j)
    tu = t.view(np.uint64)                 # n << 39 = (k << 52) + (j << 39) mod 2**64
    np.left_shift(tu, np.uint64(52 - _LOG2N), out=tu)
    mi = w.view(np.int64)
    tab.take(j, mode="clip", out=mi)
    if isinstance(k0, np.ndarray):
        mi -= k0 << 52
    mi += t.view(np.int64)                 # bits of 2**(k - k0) * T16[j]
    _T16_DELTA.take(j, mode="clip", out=t)
    r += t
    if fin is not None:
        w *= fin
    return w, r


def _two_prod(a, b):
    """Return ``(p, err)`` with ``p = fl(a*b)`` and ``a*b = p + err`` exactly (Dekker)."""
    a_hi, a_lo = _split(a)
    b_hi, b_lo = _split(b)
    p = a * b
    return p, ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo


def _blocks(R, K):
    """``(rows, cols)`` slices covering an ``(R, K)`` array in blocks of about
    ``_CHUNK`` elements: runs of whole rows, or (``K > _CHUNK``) column
    ranges of one row."""
    if K <= _CHUNK:
        step = max(1, _CHUNK // K)
        for a in range(0, R, step):
            yield slice(a, min(R, a + step)), slice(0, K)
    else:
        for a in range(R):
            for c in range(0, K, _CHUNK):
                yield slice(a, a + 1), slice(c, min(K, c + _CHUNK))


def _scratch(R, K, n):
    """`n` 1-d float64 scratch arrays, each large enough for any block."""
    size = min(R * K, max(1, _CHUNK // K) * K if K <= _CHUNK else _CHUNK)
    return [np.empty(size) for _ in range(n)]


def _view(buf, rs, cs):
    """The first ``rows x cols`` elements of the 1-d scratch `buf` as 2-d."""
    shape = (rs.stop - rs.start, cs.stop - cs.start)
    return buf[:shape[0] * shape[1]].reshape(shape)


def _lse_fast(x, lo, hi, fin=None):
    """``(m, idx, L_hi, L_lo)`` per row of the C-contiguous ``(R, K)`` array `x`.

    ``m`` is the row maximum (at ``idx``), ``L_hi + L_lo = log1p(r)`` with
    ``r = sum_{i != idx} exp(x_i - m)`` (all keepdims ``(R, 1)``).  Requires
    every row to satisfy the fast-path conditions (``|x| <= 2048``, spread
    ``<= 690``); `lo`, `hi` bound the finite entries.  With masked entries,
    ``fin = (x > -inf, floor)`` (see :func:`_fast_rows`): they are computed
    at their row's floor and then zeroed (exactly).

    Error.  ``exp(x_i - m) = main_i exp(r_i) / M`` (``M`` the maximum's term),
    so ``R = sum_{i != idx} main_i (1 + r_i + C2 r_i**2 + r_i**3/6)`` with the
    polynomial within 2**-63.4 of ``exp(r_i)`` (see ``_EXPM1_C2``) and the
    ``r_i`` within 2**-65.5 (:func:`_exp_block`).  The ``main`` sum is exact
    (narrow rows, see :func:`_narrow_spread`) or split exactly with
    ExtractVector (lo parts ``|lo_i| <= 2**-51 R``); the three sums ``sum
    main_i r_i**k`` (and the lo parts) use NumPy's pairwise summation over
    contiguous rows, of depth ``h <= 37 + K/2**17 <= 69`` (blocks of one row
    add sequentially), so they err by at most ``h 2**-53 (5.8e-5 + K 2**-51)
    R <= 2**-61 R`` for ``K <= 2**22``.  ``M`` is within 2**-63.3, ``r = R/M``
    is formed in double-double (error 2**-100), so ``r`` is within about
    2**-60.6 relative, and ``log1p`` (one Newton step in double-double) adds
    < 2**-62: ``L`` has an absolute error below ``2**-60.3 r/(1 + r) <
    2**-60.3`` (typically 2**-62: the sums' rounding errors are random).
    """
    R, K = x.shape
    rows = np.arange(R)
    idx = np.argmax(x, axis=1)
    m = x[rows, idx][:, None]
    if hi - lo <= _FAST_SPREAD:            # one scale for all rows
        k0 = int(math.floor(round(hi * _INV_LN2N) / _N))
        tab = _T16_BITS - (np.int64(k0) << 52)
    else:                                  # per row: exp(m) 2**-k0 in [1, 2)
        k0 = np.floor(np.rint(m * _INV_LN2N) / _N).astype(np.int64)
        tab = _T16_BITS
    spread = _narrow_spread(K)
    if hi - lo <= spread:                  # every row narrow (as each row alone)
        narrow, all_narrow = True, True
    else:
        rmin = np.min(x, axis=1, keepdims=True)
        if fin is not None:                # the finite entries are >= floor
            rmin = np.maximum(rmin, fin[1])
        narrow = (m - rmin) <= spread
        all_narrow = bool(narrow.all())
    # per-row sums: main, main r**k (k = 1..3), and (wide rows) hi / lo parts;
    # the maximum's main and r are taken out of the blocks
    sums = np.zeros((R, 6))
    M_main, M_r = np.empty((R, 1)), np.empty((R, 1))
    t, w, r, u = _scratch(R, K, 4)
    j = np.empty(t.shape, dtype=np.int64)

    def block(rs, cs):
        xv = x[rs, cs]
        f = None if fin is None else fin[0][rs, cs]
        k0b = k0[rs] if isinstance(k0, np.ndarray) else k0
        if f is not None:
            xv = np.maximum(xv, fin[1][rs], out=_view(u, rs, cs))
        main, rv = _exp_block(xv, tab, k0b, f, _view(t, rs, cs), _view(w, rs, cs),
                              _view(r, rs, cs), _view(j, rs, cs))
        ib = idx[rs] - cs.start
        if cs.stop - cs.start == K:        # whole rows
            sel = rows[:rs.stop - rs.start]
            M_main[rs, 0] = main[sel, ib]
            M_r[rs, 0] = rv[sel, ib]
            main[sel, ib] = 0.0
        elif 0 <= ib[0] < cs.stop - cs.start:   # one row, split (K > _CHUNK)
            M_main[rs], M_r[rs] = main[0, ib[0]], rv[0, ib[0]]
            main[0, ib[0]] = 0.0
        return main, rv

    if K > _CHUNK and not all_narrow:     # the splitting constant needs the
        est = np.zeros((R, 1))             # whole row's sum first
        for rs, cs in _blocks(R, K):
            main, _ = block(rs, cs)
            est[rs] += np.add.reduce(main, axis=1, keepdims=True)
    for rs, cs in _blocks(R, K):
        main, rv = block(rs, cs)
        s = sums[rs]
        s[:, 0] += np.add.reduce(main, axis=1)
        uv = np.multiply(main, rv, out=_view(u, rs, cs))
        for k in range(1, 4):
            s[:, k] += np.add.reduce(uv, axis=1)
            if k < 3:
                uv *= rv
        if not all_narrow:                 # ExtractVector with a per-row constant
            e_row = est[rs] if K > _CHUNK else s[:, :1]
            _, e = np.frexp(e_row * (1.0 + 2.0**-20))
            sigma = np.ldexp(3.0, e)
            hv = np.add(main, sigma, out=_view(t, rs, cs))
            hv -= sigma
            s[:, 4] += np.add.reduce(hv, axis=1)
            np.subtract(main, hv, out=hv)
            s[:, 5] += np.add.reduce(hv, axis=1)
    M_hi, M_lo = _fast_two_sum(M_main, M_main * (M_r + M_r * M_r * (
        _EXPM1_C2 + M_r * (1.0 / 6))))
    tail = sums[:, 1:2] + (_EXPM1_C2 * sums[:, 2:3] + sums[:, 3:4] * (1.0 / 6))
    if all_narrow:
        R_hi, R_lo = sums[:, :1], tail
    else:
        R_hi = np.where(narrow, sums[:, :1], sums[:, 4:5])
        R_lo = np.where(narrow, tail, tail + sums[:, 5:6])
    R_hi, R_lo = _two_sum(R_hi, R_lo)
    # r = R / M in double-double: q + (R - q M) / M, with q M exact (Dekker)
    q = R_hi / M_hi
    P, P_err = _two_prod(q, M_hi)
    rem = (((R_hi - P) - P_err) + R_lo) - q * M_lo
    r_hi, r_lo = _fast_two_sum(q, rem / M_hi)
    L_hi, L_lo = _log1p_dd(r_hi, r_lo)
    return m, idx[:, None], L_hi, L_lo


_KEEP16 = np.int64(-(1 << 37))   # bit mask: sign, exponent, 15 leading mantissa bits


def _softmax_fast(x, lo, hi):
    """``softmax`` of each row of the C-contiguous ``(R, K)`` array `x` (T = 1).

    Requires ``min(x) >= -708`` and ``max(x) + log K <= 700`` per row (`lo`,
    `hi`: bounds of the entries).  With ``y_i = np.exp(x_i) = e^{x_i} (1 +
    d_i)``, ``|d_i| <= d`` (the error of NumPy's exp: measured 0.68 ulp, i.e.
    ``d <= 1.4 u``, ``u = 2**-53``), the denominator ``S = sum y_j`` is
    summed to 2**-62 and rounded once, and ``a_i = fl(y_i / S)``.  The
    relative error of ``a_i`` is at most ``d_i - (weighted mean of d_j) +
    2u``, i.e. ``<= 2d + 2u <= 4.8u`` (the largest entry's own ``d`` cancels
    when it dominates); the general path has one more rounding (``e^{d} (1 +
    e)``).  Subnormal results (a denominator above 2**1022 y_i) have an
    absolute error of about 2**-1075.

    The sum: each ``y_i`` is split exactly as ``hi_i + lo_i`` with ``hi_i``
    its 16 leading bits (a bit mask) and ``|lo_i| < 2**-15 y_i``.  When the
    row spans at most :func:`_narrow_spread` (``y`` within a factor
    ``2**(35.5 - log2 K)``), every partial sum of the ``hi_i`` is exact, and
    the pairwise sum of the ``lo_i`` errs by ``<= 64 u 2**-15 S = 2**-62 S``.
    When any row is wider, every row splits with ExtractVector instead (see
    :func:`_lse_fast`; its bound holds for narrow rows too), so no pass is
    spent on both splits.
    """
    R, K = x.shape
    y = np.empty_like(x)
    spread = _narrow_spread(K)
    if hi - lo <= spread:
        narrow, all_narrow = True, True
    else:                                  # (finite entries are >= lo)
        narrow = (np.max(x, axis=1, keepdims=True)
                  - np.maximum(np.min(x, axis=1, keepdims=True), lo)) <= spread
        all_narrow = bool(narrow.all())
    h, = _scratch(R, K, 1)
    whole = K > _CHUNK and not all_narrow
    if whole:                              # whole rows' sums first
        np.exp(x, out=y)
        est = np.add.reduce(y, axis=1, keepdims=True)
    S = np.zeros((R, 4))
    for rs, cs in _blocks(R, K):
        yv, hv, s = y[rs, cs], _view(h, rs, cs), S[rs]
        if not whole:
            np.exp(x[rs, cs], out=yv)
        if all_narrow:                     # the masked split (ExtractVector serves any row)
            np.bitwise_and(yv.view(np.int64), _KEEP16, out=hv.view(np.int64))
            s[:, 0] += np.add.reduce(hv, axis=1)
            np.subtract(yv, hv, out=hv)
            s[:, 1] += np.add.reduce(hv, axis=1)
        if not all_narrow:                 # ExtractVector with a per-row constant
            e_row = est[rs] if whole else np.add.reduce(yv, axis=1, keepdims=True)
            _, e = np.frexp(e_row * (1.0 + 2.0**-20))
            sigma = np.ldexp(3.0, e)
            np.add(yv, sigma, out=hv)
            hv -= sigma
            s[:, 2] += np.add.reduce(hv, axis=1)
            np.subtract(yv, hv, out=hv)
            s[:, 3] += np.add.reduce(hv, axis=1)
        if K <= _CHUNK:
            yv /= _softmax_denominator(s, all_narrow)
    if K > _CHUNK:
        y /= _softmax_denominator(S, all_narrow)
    return y


def _softmax_denominator(s, masked):
    """``S`` rounded once, per row, from the sums of :func:`_softmax_fast`: the
    masked split's (every row narrow) or ExtractVector's (otherwise, all rows)."""
    if masked:
        return s[:, :1] + s[:, 1:2]
    return s[:, 2:3] + s[:, 3:4]


def _rows(x, ax):
    """``x`` as a C-contiguous ``(R, K)`` array with `ax` last (a view when possible).

    Returns ``(x2, back)`` where ``back(a2)`` maps an ``(R, K')`` result to
    the layout of `x` (``K' = 1``: keepdims).
    """
    if ax == x.ndim - 1 and x.flags.c_contiguous:
        shape = x.shape

        def back(a2):
            return a2.reshape(shape[:-1] + a2.shape[-1:])

        return x.reshape(-1, shape[-1]), back
    xm = np.moveaxis(x, ax, -1)
    shape = xm.shape
    x2 = np.ascontiguousarray(xm).reshape(-1, shape[-1])

    def back(a2):
        return np.moveaxis(a2.reshape(shape[:-1] + a2.shape[-1:]), -1, ax)

    return x2, back


def _fast_rows(x2, lo, hi, kind):
    """Which rows of `x2` may take the fast path of `kind` ("lse" or "softmax").

    Returns ``(rows, flo, fhi, fin)``: ``rows`` is True (all rows; the common
    case is decided from the global `lo`, `hi` at no cost), False, or a
    boolean array; `flo`, `fhi` bound the *finite* entries of each row
    (scalars, or per-row arrays when computed).  ``fin`` is None, or, when
    `x2` has ``-inf`` entries (masked classes), ``(x2 > -inf, floor)`` with
    ``floor`` the ``(R, 1)`` per-row lower bound of the finite entries of the
    fast rows.  A row qualifies when it has a finite entry and its finite
    entries lie in ``[_SM_MIN, _SM_MAX - log K]`` ("softmax"), or in
    ``[-2048, 2048]`` within 690 of its maximum ("lse").  Everything is
    decided per row (a row qualifies alone iff it qualifies in a batch).
    """
    if x2.shape[1] > _FAST_K:
        return False, lo, hi, None
    if kind == "lse":
        def ok(a, b):
            return (a >= -_FAST_ABS) & (b <= _FAST_ABS) & (b - a <= _FAST_SPREAD)

        def floor_of(b):
            return np.maximum(b - _FAST_SPREAD, -_FAST_ABS)
    else:
        top = _SM_MAX - math.log(x2.shape[1])

        def ok(a, b):
            return (a >= _SM_MIN) & (b <= top)

        def floor_of(b):
            return np.full_like(b, _SM_MIN)
    if lo > -np.inf:
        if ok(lo, hi):
            return True, lo, hi, None
        if x2.shape[0] == 1:
            return False, lo, hi, None
        fin = None
        rlo = np.min(x2, axis=1)
        rhi = np.max(x2, axis=1)
        rows = ok(rlo, rhi)
    else:                                    # masked: bound the finite entries
        if hi == -np.inf:
            return False, lo, hi, None
        rhi = np.max(x2, axis=1)
        rlo = floor_of(rhi)
        mask = x2 > -np.inf
        far = x2 < rlo[:, None]
        far &= mask
        rows = ok(rlo, rhi) & (rhi > -np.inf) & ~far.any(axis=1)
        fin = (mask, rlo[:, None])
    if rows.all():
        return True, float(rlo.min()), float(rhi.max()), fin
    if not rows.any():
        return False, lo, hi, None
    return rows, rlo, rhi, fin


def _by_rows(x2, lo, hi, kind, fast, slow, width=None, extra=None):
    """Apply `fast` to the rows of the C-contiguous ``(R, K)`` array `x2` that
    qualify (see :func:`_fast_rows`) and `slow` to the others; return the
    ``(R, width)`` result (default width K).  Called as ``fast(rows, flo, fhi,
    fin[, extra])`` and ``slow(rows, lo, hi[, extra])``, where `extra` is an
    optional ``(R, ...)`` array handed over row-aligned."""
    rows, flo, fhi, fin = _fast_rows(x2, lo, hi, kind)
    if rows is True:
        args = () if extra is None else (extra,)
        return fast(x2, flo, fhi, fin, *args)
    if rows is False:
        args = () if extra is None else (extra,)
        return slow(x2, lo, hi, *args)
    out = np.empty((x2.shape[0], x2.shape[1] if width is None else width))
    sel = rows
    args = () if extra is None else (extra[sel],)
    out[sel] = fast(x2[sel], float(flo[sel].min()), float(fhi[sel].max()),
                    None if fin is None else (fin[0][sel], fin[1][sel]), *args)
    sel = ~rows
    args = () if extra is None else (extra[sel],)
    s_lo = lo if fin is not None else float(flo[sel].min())
    out[sel] = slow(x2[sel], s_lo, float(fhi[sel].max()), *args)
    return out


def _exact_unit_temperature(x, lo, hi, T):
    """For a power-of-two `T`, ``z / T`` is exact (up to underflow, which
    changes no result by more than 2**-1074): return ``(x / T, lo / T, hi / T,
    1.0)``, so that ``f(z, T)`` is ``f(z / T)`` bit for bit.  Else unchanged."""
    if T == 1.0 or math.frexp(T)[0] != 0.5:
        return x, lo, hi, T
    flo = lo
    if lo == -np.inf and hi > -np.inf:          # masked: the finite minimum
        flo = float(np.min(x, initial=np.inf, where=x > -np.inf))
    if max(-flo, hi) < 2.0**1020 * T:
        return x / T, lo / T, hi / T, 1.0
    return x, lo, hi, T


def _lse_finish(m, L_hi, L_lo):
    """``m + L`` rounded once (``L = L_hi + L_lo``)."""
    s, err = _two_sum(m, L_hi)
    return s + (err + L_lo)


def _lse_rows_fast(x2, lo, hi, fin):
    m, _, L_hi, L_lo = _lse_fast(x2, lo, hi, fin)
    return _lse_finish(m, L_hi, L_lo)


def _log_softmax_rows_fast(x2, lo, hi, fin):
    """``x - LSE`` rounded once per entry, from :func:`_lse_fast`.

    With ``H + Lo = m + L`` (``H = fl(m + L_hi)``, ``Lo`` rounded: error
    ``<= u |Lo| <= u ulp(H)``), ``x_i - H = s + e`` exactly and the result is
    ``fl(s + fl(e - Lo))``: half an ulp plus ``u (ulp(H) + ulp(s))``, plus the
    error of ``L`` (below 2**-60.3).  Every entry but the maximum has
    ``|x_i - LSE| = -d + log1p(r) >= log(1 + e^{-d}) >= log 2`` (``d = x_i -
    m <= 0``, and ``r >= e^d``), so its ulp is at least 2**-53: for ``|H| <=
    2**11`` the extra is below ``2**-40 + 2**-7.3`` ulp.  The maximum gets
    ``-L`` itself (exactly ``m - LSE``, relatively accurate however small).
    Masked entries give ``-inf``.
    """
    m, idx, L_hi, L_lo = _lse_fast(x2, lo, hi, fin)
    H, Lo = _two_sum(m, L_hi)
    Lo += L_lo
    R, K = x2.shape
    # FastTwoSum(-H, x) is exact when |x| <= H; when H < 0 and x >= 2H, x - H
    # is exact (Sterbenz) and so is the error term, 0.  Else TwoSum(x, -H).
    fast_two_sum = lo >= float(np.max(np.where(H >= 0, -H, 2.0 * H)))
    out = np.empty_like(x2)
    e_buf, b_buf = _scratch(R, K, 2)
    for rs, cs in _blocks(R, K):
        xv, Hb, s = x2[rs, cs], H[rs], out[rs, cs]
        e = _view(e_buf, rs, cs)
        np.subtract(xv, Hb, out=s)
        if fast_two_sum:
            np.add(s, Hb, out=e)
            np.subtract(xv, e, out=e)
        else:
            bp = _view(b_buf, rs, cs)
            np.subtract(s, xv, out=bp)
            np.subtract(s, bp, out=e)
            np.subtract(xv, e, out=e)
            np.subtract(-Hb, bp, out=bp)
            e += bp
        if fin is not None:
            np.fmax(e, -1.0, out=e)         # NaN where x = -inf: keep s = -inf
        e -= Lo[rs]
        s += e
    out[np.arange(R), idx[:, 0]] = np.subtract(0.0, L_hi + L_lo)[:, 0]
    return out


def _nll_rows_fast(x2, lo, hi, fin, t2):
    """``LSE - x[t]`` per row (``t2``: ``(R, 1)`` class indices), as in
    :func:`_log_softmax_rows_fast` but per row only."""
    m, idx, L_hi, L_lo = _lse_fast(x2, lo, hi, fin)
    H, Lo = _two_sum(m, L_hi)
    Lo += L_lo
    x_t = np.take_along_axis(x2, t2, axis=1)
    s, e = _two_sum(H, -x_t)
    out = s + (e + Lo)
    out = np.where(t2 == idx, L_hi + L_lo, out)
    return np.where(x_t == -np.inf, np.inf, out)       # mass on a masked class


def _softmax_rows_fast(x2, lo, hi, fin):
    return _softmax_fast(x2, lo, hi)


def _lse_rows_general(x2, lo, hi, axis_label=None):
    _, ax, _, idx, m, q, qe, _, big = _shift(x2, 1, lo, hi, 1.0, axis_label)
    L_hi, L_lo = _log_normalizer(q, qe, idx, ax, big)
    return _lse_finish(m, L_hi, L_lo)


def _log_softmax_general(x, ax, lo, hi, T, axis_label=None):
    """log_softmax along `ax` by the general (shifted) path."""
    x, ax, _, idx, m, q, qe, fix, big = _shift(x, ax, lo, hi, T, axis_label)
    L_hi, L_lo = _log_normalizer(q, qe, idx, ax, big)
    # TwoSum(q, -L_hi), then add the small terms and round once
    s, err = _two_sum_arrays(q, -L_hi)   # q - L_hi = s + err exactly
    if fix:
        err[np.isnan(err)] = 0.0    # q = -inf (masked): keep s = -inf
    err += qe
    err -= L_lo
    s += err
    return s


def _nll_index(x, ax, t):
    """``-log_softmax(x, ax)`` at the class indices `t` (intp, keepdims along
    `ax`), keepdims; for :func:`smoothmax.cross_entropy`.  `x` is validated
    logits.  Same accuracy as :func:`log_softmax`, without forming it."""
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        x2, back = _rows(x, ax)
        t2 = np.moveaxis(t, ax, -1).reshape(-1, 1)
        lo, hi = float(np.min(x2)), float(np.max(x2))

        def slow(xs, lo, hi, ts):
            ls = _log_softmax_general(xs, 1, lo, hi, 1.0, ax)
            return np.negative(np.take_along_axis(ls, ts, axis=1))

        return back(_by_rows(x2, lo, hi, "lse", _nll_rows_fast, slow, width=1,
                             extra=t2))


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------

def logsumexp(z, axis=-1):
    r"""Log of the sum of exponentials, ``log(sum(exp(z), axis))``, accurately.

    Derived in chapter 1 of the book (chapters/01_softmax.ipynb).

    Parameters
    ----------
    z : array_like
        Real logits, at least 1-d.  Integers are cast to float64.  ``-inf``
        entries are allowed (masked classes, contributing ``exp(-inf) = 0``);
        NaN and ``+inf`` are not.
    axis : int, optional
        The class axis to reduce over.  Default: the last axis.

    Returns
    -------
    lse : ndarray or numpy.float64
        float64 array of the shape of `z` with `axis` removed (a scalar for
        1-d input).

    Raises
    ------
    TypeError
        If `z` is not real-numeric (strings, objects, complex, booleans) or
        `axis` is not an integer.
    ValueError
        If `z` is 0-d or empty, contains NaN or ``+inf``, has a slice along
        `axis` that is entirely ``-inf``, or `axis` is out of range.

    See Also
    --------
    log_softmax, softmax

    Notes
    -----
    With :math:`m = \max_i z_i` attained at :math:`i^*`,

    .. math::

        \operatorname{LSE}(z) = m + \operatorname{log1p}(r), \qquad
        r = \sum_{i \neq i^*} e^{z_i - m} \in [0, K-1].

    For logits of moderate size (:math:`|z_i| \le 2048` and
    :math:`m - \min_i z_i \le 690`) the terms are computed as
    :math:`e^{z_i} / e^{m}`: :math:`e^{z_i}` has an exact argument, so no
    shift error arises.  Each :math:`e^{z_i}` comes from a table-driven exp
    accurate to about :math:`2^{-62}`, scaled by a power of two, and the
    positive sum :math:`r` is split exactly before it is summed.  Other rows
    shift by :math:`m` with the rounding error carried along: :math:`z_i - m
    = d_i + e_i` exactly (``TwoSum``), then :math:`e^{d_i + e_i}` [1]_.
    ``log1p(r)`` is refined by one Newton step in double-double, and the
    final :math:`m + \operatorname{log1p}(r)` rounded once.

    Accuracy: within 1 ulp of the exact value.  Measured against 50-digit
    mpmath on 2000 hard rows (Gaussian logits of scale 1e-3 to 1e3, offsets
    up to +-1e5, near ties, magnitudes up to 1e307, K up to 1000) the maximum
    error is 0.50 ulp, i.e. the result is correctly rounded in nearly all
    cases.  The one exception is inherent in the problem: when :math:`m < 0`
    and :math:`\operatorname{log1p}(r) \approx -m`, the result is much
    smaller than :math:`|m|` and cancels; there the error is bounded
    *absolutely*, by ``ulp(result)/2 + 2**-7 * ulp(max(|m|, log1p(r)))``
    (measured: ``ulp(result)/2 + 1.1e-5 * ulp(max(|m|, log1p(r)))``).

    References
    ----------
    .. [1] P. Blanchard, D. J. Higham and N. J. Higham, "Accurately computing
       the log-sum-exp and softmax functions", IMA J. Numer. Anal. 41(4),
       2311-2330 (2021).
    .. [2] S. M. Rump, T. Ogita and S. Oishi, "Accurate floating-point
       summation part I: faithful rounding", SIAM J. Sci. Comput. 31(1),
       189-224 (2008).

    Examples
    --------
    >>> import numpy as np
    >>> import smoothmax as sm
    >>> round(float(sm.logsumexp([1, 2, 3, 4])), 4)
    4.4402

    No overflow, no loss for large logits; ``-inf`` masks a class:

    >>> float(sm.logsumexp([1000.0, 1000.0]))  # 1000 + log(2)
    1000.6931471805599
    >>> float(sm.logsumexp([0.0, -np.inf]))
    0.0
    >>> sm.logsumexp(np.zeros((2, 3)), axis=0).round(4)
    array([0.6931, 0.6931, 0.6931])
    """
    x, ax, lo, hi = _check_logits(z, "z", axis)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        x2, back = _rows(x, ax)
        out = back(_by_rows(x2, lo, hi, "lse", _lse_rows_fast,
                            lambda *a: _lse_rows_general(*a, axis_label=ax), width=1))
    return np.squeeze(out, axis=ax)[()]


def softmax(z, axis=-1, temperature=1.0):
    r"""Softmax ``exp(z/T) / sum(exp(z/T), axis)``, accurately.

    Derived in chapter 1 of the book (chapters/01_softmax.ipynb).

    Parameters
    ----------
    z : array_like
        Real logits, at least 1-d.  Integers are cast to float64.  ``-inf``
        entries are allowed and get probability exactly 0 (masking); NaN and
        ``+inf`` are rejected (``+inf`` is not a meaningful logit).
    axis : int, optional
        The class axis.  Default: the last axis.
    temperature : float, optional
        ``T > 0``, finite.  Computes ``softmax(z / T)``; small ``T`` sharpens
        towards the one-hot argmax, large ``T`` flattens towards uniform.

    Returns
    -------
    a : ndarray
        float64 array of the shape of `z`; nonnegative, sums to 1 along `axis`.

    Raises
    ------
    TypeError
        If `z` is not real-numeric or `axis` is not an integer or `temperature`
        is not a real number.
    ValueError
        If `z` is 0-d or empty, contains NaN or ``+inf``, has a slice along
        `axis` that is entirely ``-inf``; if `axis` is out of range; if
        `temperature` is not a finite number > 0 or not a scalar.

    See Also
    --------
    log_softmax, logsumexp, softmax_jacobian

    Notes
    -----
    With :math:`m = \max_j z_j` and :math:`\theta_i = (z_i - m)/T`,

    .. math::

        a_i = \frac{e^{\theta_i}}{\sum_j e^{\theta_j}}, \qquad
        \theta_i \le 0, \ \theta_{i^*} = 0,

    so nothing overflows and the denominator lies in :math:`[1, K]`.  For
    ``T = 1`` and moderate logits (:math:`z_i \ge -708` and
    :math:`m + \log K \le 700`) the shift is not needed at all:
    :math:`a_i = e^{z_i} / \sum_j e^{z_j}` with the exact, unshifted
    argument overflows nowhere, and its denominator is split exactly and
    rounded once (a power-of-two ``T`` is first applied exactly).  Otherwise
    the subtraction :math:`z_i - m` is rounded (error up to ulp(m)/2, which
    ``exp`` turns into a *relative* error of up to :math:`|z_i - m|` ulps: the
    naive method, e.g. ``scipy.special.softmax``, loses ~100 ulp on logits
    near 1e4).  Here the rounding error :math:`e_i` is recovered exactly by
    ``TwoSum`` and applied as :math:`e^{d_i}(1 + e_i)` [1]_; for ``T != 1`` the
    division remainder is recovered too (Dekker's TwoProduct), so the result
    is that of the exact :math:`z/T`.  The denominator is summed with an
    error-free splitting.

    Accuracy: every entry is within 4 ulp of the exact value on every input
    measured, for any ``T`` (for ``T != 1`` the exact value is that of the
    exact real :math:`z/T`).  Measured against 50-digit mpmath on 2000 hard
    rows (see :func:`logsumexp` and ``tests/test_accuracy.py``): max 2.4 ulp
    for ``T = 1`` and 2.8 ulp for ``T = 0.7``, where
    ``scipy.special.softmax`` reaches 488 ulp.  What remains is the error of
    ``np.exp`` (0.5 to 0.7 ulp depending on the platform's SIMD
    implementation; 0.68 measured with NumPy 2.4 on AVX-512), once in the
    numerator and once, averaged, in the denominator, and two roundings
    (three on the shifted path): a relative error of at most
    :math:`2\varepsilon + 2u`, :math:`u = 2^{-53}`, :math:`\varepsilon
    \le 1.4u` the relative error of ``np.exp`` -- so the a-priori bound is
    4.8 ulp, reached only if both exp errors are extreme with opposite
    signs.  :func:`log_softmax` is more accurate.  Entries in the subnormal
    range (below 2.2e-308) are accurate to a few units of 2**-1074.

    References
    ----------
    .. [1] P. Blanchard, D. J. Higham and N. J. Higham, "Accurately computing
       the log-sum-exp and softmax functions", IMA J. Numer. Anal. 41(4),
       2311-2330 (2021).

    Examples
    --------
    >>> import numpy as np
    >>> import smoothmax as sm
    >>> sm.softmax([1, 2, 3, 4]).round(4)
    array([0.0321, 0.0871, 0.2369, 0.6439])
    >>> sm.softmax([1, 2, 3, 4], temperature=10).round(4)
    array([0.2138, 0.2363, 0.2612, 0.2887])

    Large logits are fine (the naive formula gives nan here), and ``-inf``
    masks a class:

    >>> sm.softmax([1000.0, 1001.0]).round(4)
    array([0.2689, 0.7311])
    >>> sm.softmax([0.0, -np.inf, 0.0])
    array([0.5, 0. , 0.5])
    """
    x, ax, lo, hi = _check_logits(z, "z", axis)
    T = _positive_finite_scalar(temperature, "temperature")
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        x, lo, hi, T = _exact_unit_temperature(x, lo, hi, T)
        if T != 1.0:
            return _softmax_shifted(_shift(x, ax, lo, hi, T))[0]
        x2, back = _rows(x, ax)
        return back(_by_rows(x2, lo, hi, "softmax", _softmax_rows_fast,
                             lambda x2, lo, hi: _softmax_shifted(
                                 _shift(x2, 1, lo, hi, 1.0, ax))[0]))


def log_softmax(z, axis=-1, temperature=1.0):
    r"""Log of the softmax, ``z/T - logsumexp(z/T)``, accurately.

    Derived in chapter 1 of the book (chapters/01_softmax.ipynb).

    Parameters
    ----------
    z : array_like
        Real logits, at least 1-d.  Integers are cast to float64.  ``-inf``
        entries are allowed and get log-probability exactly ``-inf``; NaN and
        ``+inf`` are rejected.
    axis : int, optional
        The class axis.  Default: the last axis.
    temperature : float, optional
        ``T > 0``, finite.  Computes ``log_softmax(z / T)``.

    Returns
    -------
    log_a : ndarray
        float64 array of the shape of `z`; every entry is <= 0.

    Raises
    ------
    TypeError
        If `z` is not real-numeric or `axis` is not an integer or `temperature`
        is not a real number.
    ValueError
        If `z` is 0-d or empty, contains NaN or ``+inf``, has a slice along
        `axis` that is entirely ``-inf``; if `axis` is out of range; if
        `temperature` is not a finite number > 0 or not a scalar.

    See Also
    --------
    softmax, logsumexp

    Notes
    -----
    With :math:`\theta_i = (z_i - m)/T \le 0` (carried exactly as a pair,
    see :func:`softmax`) and :math:`r = \sum_{i \ne i^*} e^{\theta_i}`,

    .. math::

        \log a_i = \theta_i - \operatorname{log1p}(r).

    Both terms are :math:`\le 0`, so the subtraction never cancels; the
    normaliser :math:`\operatorname{log1p}(r)` is computed in double-double
    (see :func:`logsumexp`) and the result is rounded once (for moderate
    logits as :math:`z_i - \operatorname{LSE}(z)`, with the exact error of
    that subtraction carried into the one rounding, and
    :math:`-\operatorname{log1p}(r)` itself for the maximum).  Computing
    ``log(softmax(z))`` instead would lose everything for entries whose
    probability underflows.

    Accuracy: every entry is within 1 ulp of the exact value, for any ``T``
    (for ``T != 1``, of the exact real :math:`z/T`).  Measured against
    50-digit mpmath on 2000 hard rows (see :func:`logsumexp`): max 0.50 ulp,
    for ``T = 1`` as well as ``T`` in {0.3, 0.7, 3.7, 100}, i.e. correctly
    rounded in nearly all cases; results of magnitude below ~1e-306 (a
    probability within 1e-306 of 1) are within 1 ulp (measured 0.61).

    References
    ----------
    .. [1] P. Blanchard, D. J. Higham and N. J. Higham, "Accurately computing
       the log-sum-exp and softmax functions", IMA J. Numer. Anal. 41(4),
       2311-2330 (2021).

    Examples
    --------
    >>> import numpy as np
    >>> import smoothmax as sm
    >>> sm.log_softmax([1, 2, 3, 4]).round(4)
    array([-3.4402, -2.4402, -1.4402, -0.4402])

    Where ``log(softmax(z))`` underflows to ``-inf``, this does not:

    >>> sm.log_softmax([0.0, 1000.0])
    array([-1000.,     0.])
    >>> sm.log_softmax([0.0, -np.inf])
    array([  0., -inf])
    """
    x, ax, lo, hi = _check_logits(z, "z", axis)
    T = _positive_finite_scalar(temperature, "temperature")
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        x, lo, hi, T = _exact_unit_temperature(x, lo, hi, T)
        if T != 1.0:
            return _log_softmax_general(x, ax, lo, hi, T)
        x2, back = _rows(x, ax)
        return back(_by_rows(x2, lo, hi, "lse", _log_softmax_rows_fast,
                             lambda x2, lo, hi: _log_softmax_general(
                                 x2, 1, lo, hi, 1.0, ax)))


def softmax_jacobian(z, temperature=1.0):
    r"""Jacobian of ``softmax(z / T)`` with respect to `z`, batched.

    Derived in chapter 1 of the book (chapters/01_softmax.ipynb).

    Parameters
    ----------
    z : array_like, shape (..., K)
        Real logits; the class axis is the *last* axis, any leading axes are
        batch axes.  ``-inf`` entries (masked classes) are allowed.
    temperature : float, optional
        ``T > 0``, finite.

    Returns
    -------
    J : ndarray, shape (..., K, K)
        ``J[..., i, j] = d softmax(z/T)_i / d z_j`` (float64).

    Raises
    ------
    TypeError
        If `z` is not real-numeric or `temperature` is not a real number.
    ValueError
        If `z` is 0-d or empty, contains NaN or ``+inf``, has a row that is
        entirely ``-inf``, or `temperature` is not a finite number > 0.

    See Also
    --------
    softmax_jvp : the product ``J @ v`` without forming ``J`` (O(K), not O(K^2)).

    Notes
    -----
    With :math:`a = \operatorname{softmax}(z/T)`,

    .. math::

        J = \frac{1}{T}\left(\operatorname{diag}(a) - a a^\top\right), \qquad
        J_{ii} = \frac{a_i (1 - a_i)}{T}, \quad
        J_{ij} = -\frac{a_i a_j}{T} \ (i \ne j).

    :math:`J` is symmetric positive semi-definite, its rows sum to 0
    (:math:`J\mathbf{1} = 0`, shift invariance) and for finite logits it has
    rank :math:`K - 1`.  Masked classes (``-inf``) have :math:`a_i = 0` and
    zero rows and columns.  :math:`1 - a_{i^*}` for the largest probability is
    computed as :math:`r / (1 + r)` (no cancellation), so the diagonal stays
    relatively accurate even for a nearly one-hot :math:`a`.

    Accuracy: every entry is within 10 ulp of the exact value (two factors
    from :func:`softmax`, 4 ulp each, and two roundings); measured max 5.4
    ulp against 50-digit mpmath.

    References
    ----------
    .. [1] P. Blanchard, D. J. Higham and N. J. Higham, "Accurately computing
       the log-sum-exp and softmax functions", IMA J. Numer. Anal. 41(4),
       2311-2330 (2021).

    Examples
    --------
    >>> import numpy as np
    >>> import smoothmax as sm
    >>> J = sm.softmax_jacobian([0.0, 0.0])
    >>> J
    array([[ 0.25, -0.25],
           [-0.25,  0.25]])
    >>> sm.softmax_jacobian(np.zeros((5, 3))).shape
    (5, 3, 3)
    >>> bool(np.allclose(sm.softmax_jacobian([1, 2, 3]).sum(axis=-1), 0))
    True
    """
    a, x, ax, T, idx, r, S = _softmax_parts(z, -1, temperature)
    one_minus_a = 1.0 - a
    np.put_along_axis(one_minus_a, idx, r / S, axis=-1)   # no cancellation
    J = a[..., :, None] * a[..., None, :]
    np.negative(J, out=J)
    diag = np.einsum("...ii->...i", J)                    # writable view
    diag[...] = a * one_minus_a
    if T != 1.0:
        J /= T
    return J


def softmax_jvp(z, v, temperature=1.0):
    r"""Jacobian-vector product ``J @ v`` of ``softmax(z / T)``, in O(K).

    Derived in chapter 1 of the book (chapters/01_softmax.ipynb).

    Parameters
    ----------
    z : array_like, shape (..., K)
        Real logits; the class axis is the last axis, leading axes are batch
        axes.  ``-inf`` entries (masked classes) are allowed.
    v : array_like, shape (..., K)
        Tangent vector(s), same shape as `z`, finite.
    temperature : float, optional
        ``T > 0``, finite.

    Returns
    -------
    jv : ndarray, shape (..., K)
        ``softmax_jacobian(z, T) @ v`` batched over the leading axes, float64.

    Raises
    ------
    TypeError
        If `z` or `v` is not real-numeric, or `temperature` is not a real number.
    ValueError
        If `z` is invalid (see :func:`softmax`), `v` does not have the shape
        of `z` or contains NaN/inf, or `temperature` is not a finite number > 0.

    See Also
    --------
    softmax_jacobian

    Notes
    -----
    .. math::

        J v = \frac{1}{T}\, a \odot \left(v - \langle a, v \rangle\right),
        \qquad a = \operatorname{softmax}(z/T),

    which never forms the :math:`K \times K` matrix.  Since :math:`J` is
    symmetric this is also the vector-Jacobian product :math:`v^\top J` used
    in backpropagation.

    Accuracy: the absolute error of each entry is at most
    ``8 * eps * sum_j a_j |v_j| / T`` (measured 1.2), where ``eps = 2**-52``:
    the subtraction :math:`v_i - \langle a, v\rangle` can cancel, so a
    relative bound is impossible in general.

    References
    ----------
    .. [1] P. Blanchard, D. J. Higham and N. J. Higham, "Accurately computing
       the log-sum-exp and softmax functions", IMA J. Numer. Anal. 41(4),
       2311-2330 (2021).

    Examples
    --------
    >>> import numpy as np
    >>> import smoothmax as sm
    >>> sm.softmax_jvp([0.0, 0.0], [1.0, -1.0])
    array([ 0.5, -0.5])
    >>> z, v = np.array([1.0, 2.0, 3.0]), np.array([0.3, -1.0, 2.0])
    >>> bool(np.allclose(sm.softmax_jvp(z, v), sm.softmax_jacobian(z) @ v))
    True
    """
    a, x, ax, T, idx, r, S = _softmax_parts(z, -1, temperature)
    vv = _as_float_array(v, "v")
    _check_same_shape(x, vv, "z", "v")
    _reject_nonfinite(vv, "v")
    # J v is linear in v: near the float64 maximum, v - <a, v> would overflow and
    # a class of probability 0 would get 0 * inf = NaN, so work on v / 2**64
    # (exact) and scale back; the result is then 0 there, or +-inf where it is
    # truly beyond the range.
    scale = 2.0**64 if vv.size and np.max(np.abs(vv)) > 2.0**1000 else 1.0
    if scale != 1.0:
        vv = vv / scale
    av = np.sum(a * vv, axis=-1, keepdims=True)
    out = vv - av
    out *= a
    if T != 1.0:
        out /= T
    if scale != 1.0:
        out *= scale
    return out
