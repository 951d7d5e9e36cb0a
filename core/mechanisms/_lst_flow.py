r"""The net flow at which :func:`~core.mechanisms.lst_holdings.held_arbitrage`'s pool settles: the pool after a flow
and its derivative, and a safeguarded Newton search (internal to :mod:`core.mechanisms.lst_holdings`).

The open pool after a net flow :math:`z` of the token (a sale for :math:`z \ge 0`, the underlying swapped in
for :math:`z < 0`, Curve's fee left in the pool) and its marginal price are smooth in :math:`z` on each side,
with analytic derivatives from the stableswap invariant (Egorov 2019; :mod:`core.mechanisms.stableswap`), so
the roots the arbitrage solves for (the flow that brings the pool to its cap; the flow at which the position
the price draws is held) are found by Newton's method, kept inside a bracket. Regula falsi (Illinois) on the
same curves took tens of evaluations each (session 11), most of one synthetic 10k cascade; Newton takes a
handful. Where a call holds a few elements (the engine's one scenario and pool), the same steps run on
Python floats (numpy's cost per call dwarfs the arithmetic), as :mod:`core.mechanisms._stableswap_floats`.
"""

from __future__ import annotations

import math

import numpy as np

from core.mechanisms import _stableswap_floats as ssf

__all__ = ["flow_price", "flow_price_float", "safe_newton"]

EPS4 = 4.0 * np.finfo(float).eps


def flow_price(xo, Ann, Do, fee, z):
    r"""The open pool ``xo`` (invariant ``Do``) after the net flow ``z`` of the token into it (as
    :func:`held_arbitrage` trades it: a sale of ``z`` for ``z >= 0``, ``-z`` of the underlying swapped in for
    ``z < 0``, the fee left in the pool), with the derivatives in ``z``: ``((b_0, db_0/dz), p, dp/dz)``, ``b_0``
    the token's balance and ``p`` the marginal price of the token in the underlying.

    The coin swapped in is set to :math:`s`; the other coin's balance :math:`y` keeps ``Do``
    (:func:`~core.mechanisms.stableswap.stableswap_y`'s closed form), so
    :math:`dy/ds = -F_s/F_y`, and the coin paid out keeps the fee, :math:`f\,x + (1-f)\,y`. The price is
    the pool's at its new invariant :math:`D` (the fee raises it; Curve's ``get_D`` Newton iteration from
    ``Do``), whose derivative follows from :math:`F(b, D) = 0`: :math:`dD = -(F_{b_0} db_0 + F_{b_1} db_1)/F_D`
    (Egorov 2019; :mod:`core.mechanisms.stableswap`)."""
    z = np.asarray(z, float)
    sale = z >= 0.0
    s = np.where(sale, xo[..., 0] + z, xo[..., 1] - z)
    keep = np.where(sale, xo[..., 1], xo[..., 0])
    c = Do * Do / (s * 2.0) * Do / (Ann * 2.0)
    g = Do - (s + Do / Ann)
    disc = np.sqrt(g * g + 4.0 * c)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(g >= 0, (g + disc) / 2.0, 2.0 * c / (disc - g))
    gross = np.where(z != 0.0, np.maximum(keep - y, 0.0), 0.0)
    other = keep - (gross - fee * gross)
    dp_curve = Do * Do / (s * 2.0) * Do / (y * 2.0)
    d_other = -(1.0 - fee) * (Ann + dp_curve / s) / (Ann + dp_curve / y)  # d other / ds
    b0, b1 = np.where(sale, s, other), np.where(sale, other, s)
    db0, db1 = np.where(sale, 1.0, -d_other), np.where(sale, d_other, -1.0)
    # the invariant after the fee: Newton from Do, each pool frozen once its step is within 1e-15 of D
    S = b0 + b1
    D = np.broadcast_to(Do, S.shape).astype(float)
    done = np.zeros(S.shape, bool)
    for _ in range(16):
        P = D * D / (b0 * 2.0) * D / (b1 * 2.0)
        Dn = (Ann * S + P * 2.0) * D / ((Ann - 1.0) * D + 3.0 * P)
        step = np.abs(Dn - D)
        D = np.where(done, D, Dn)
        done = done | (step <= 1e-15 * D)
        if done.all():
            break
    P = D * D / (b0 * 2.0) * D / (b1 * 2.0)
    t0, t1 = P / b0, P / b1
    p = (Ann + t0) / (Ann + t1)
    dD = -((Ann + t0) * db0 + (Ann + t1) * db1) / (1.0 - Ann - 3.0 * P / D)
    dlogP = 3.0 * dD / D - db0 / b0 - db1 / b1
    dp = (t0 * (dlogP - db0 / b0) - p * t1 * (dlogP - db1 / b1)) / (Ann + t1)
    return (b0, db0), p, dp


def safe_newton(fun, lo, hi, f_lo, f_hi, start, done, base, iterations, scalar=None):
    """The root of the rising ``fun`` in ``[lo, hi]`` (``f_lo <= 0 <= f_hi``); ``fun(z) -> (value, derivative)``.

    Newton's method from ``start``, kept inside the bracket, which every evaluation narrows: a Newton step that
    would leave it takes the bracket's regula falsi point instead, or its middle after a step that also left it
    (or if that is no inside point); and a step, Newton's or regula falsi's, not shorter than half the step
    taken before the last takes the bracket's middle (Numerical Recipes' ``rtsafe``: Press et al., *Numerical
    Recipes*, 3rd ed., section 9.4), so the search never crawls (a jump, as fixed capital's position has at the
    floor, is found by bisection). (Without that rule, on a drained pool (2,695 tokens against 0.12 of the
    underlying, A 173, capital 3, open pool 898 / 102) Newton from the sale's side jumped across to the
    lift's side and regula falsi jumped back, the bracket shrinking by ~8 and ~1.4 tokens a pair of steps;
    the 100 iterations ran out at a flow where the shortfall was -2,087 tokens, and the arbitrageurs "paid"
    395 of the underlying on a capital of 3.)
    Vectorised, each element stops on its own, and is then frozen, so its answer never depends on the others in
    the batch (``done`` on entry: already answered): once a Newton step is within float resolution of the
    distance from ``base``, or the value is zero to its own rounding (the step taken), or the bracket is within
    float resolution. Near the root Newton converges quadratically: a handful of evaluations where regula
    falsi on these curves took tens (session 12).

    ``scalar(k, z) -> (value, derivative)``: the same function at the ``k``-th element (flat index) on Python
    floats, taken when the batch is a few elements (:data:`FLOAT_POOLS`), the same steps element by element."""
    eps4 = EPS4
    shape = np.shape(lo)
    z = np.array(np.broadcast_to(start, shape), float)
    lo, hi = np.array(np.broadcast_to(lo, shape), float), np.array(np.broadcast_to(hi, shape), float)
    f_lo, f_hi = np.array(np.broadcast_to(f_lo, shape), float), np.array(np.broadcast_to(f_hi, shape), float)
    if scalar is not None and ssf.small(shape):
        out, at = z.ravel(), np.broadcast_to(base, shape).ravel()
        for k in np.flatnonzero(~np.broadcast_to(done, shape).ravel()).tolist():
            out[k] = _newton_float(lambda u, k=k: scalar(k, u), float(lo.flat[k]), float(hi.flat[k]), float(f_lo.flat[k]),
                                   float(f_hi.flat[k]), float(out[k]), float(at[k]), iterations)
        return out.reshape(shape)
    last, fell = np.full(shape, np.inf), np.zeros(shape, bool)
    taken, before = np.full(shape, np.inf), np.full(shape, np.inf)  # the last two steps taken
    for _ in range(iterations):
        if done.all():
            break
        f, df = fun(z)
        live = ~done
        up = f >= 0.0
        lo, f_lo = np.where(live & ~up, z, lo), np.where(live & ~up, f, f_lo)
        hi, f_hi = np.where(live & up, z, hi), np.where(live & up, f, f_hi)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            step = np.where(np.isfinite(df) & (df > 0.0), f / df, np.nan)
            secant = hi - f_hi * (hi - lo) / (f_hi - f_lo)
        zn = z - step
        tol = eps4 * np.abs(z - base)
        inside = (zn > lo) & (zn < hi)
        # within float resolution, or within the value's own rounding (Newton steps inside the bracket no
        # longer shrinking, below 1e-10 of the distance)
        resolved = (np.abs(step) <= tol) | (inside & (np.abs(step) >= 0.5 * last) & (np.abs(step) <= 1e-10 * np.abs(z - base)))
        newton = inside | resolved
        # a Newton step leaving the bracket: its regula falsi point, or its middle after a step that also left it;
        # the middle too for a step not shorter than half the one before the last (rtsafe)
        mid = 0.5 * (lo + hi)
        zn = np.where(newton, zn, np.where(~fell & (secant > lo) & (secant < hi), secant, mid))
        with np.errstate(invalid="ignore"):
            crawl = ~resolved & (np.abs(zn - z) > 0.5 * before)
        zn = np.where(crawl, mid, zn)
        newton = newton & ~crawl
        before, taken = np.where(live, taken, before), np.where(live, np.abs(zn - z), taken)
        last = np.where(live, np.where(inside, np.abs(step), np.inf), last)
        fell = np.where(live, ~newton, fell)
        narrow = hi - lo <= eps4 * np.abs(hi - base)  # the bracket within float resolution: its upper end
        settled = (f == 0.0) | (newton & resolved) | narrow
        z = np.where(live & (f != 0.0), np.where(narrow & ~(newton & resolved), hi, zn), z)
        done = done | settled
    return z


def flow_price_float(x0, x1, ann, d0, fee, z):
    """:func:`flow_price` of one pool on Python floats, operation for operation: ``(b_0, db_0/dz, p, dp/dz)``.

    The other coin's balance is the swap's (``_stableswap_floats._y_two``, the closed form
    :class:`~core.mechanisms._stableswap_floats.OnePool` swaps with: the same operations as :func:`flow_price`'s).
    The invariant after the fee is not ``OnePool.price``'s: Newton from ``Do`` to ``1e-15``, as :func:`flow_price`
    takes it, where ``OnePool`` solves ``stableswap_D`` from Cardano's start to ``1e-14``; one in place of the other
    would move the last bits of the arbitrage's flows."""
    sale = z >= 0.0
    s = x0 + z if sale else x1 - z
    keep = x1 if sale else x0
    y = ssf._y_two(s, d0, ann)
    gross = max(keep - y, 0.0) if z != 0.0 else 0.0
    other = keep - (gross - fee * gross)
    dp_curve = d0 * d0 / (s * 2.0) * d0 / (y * 2.0)
    d_other = -(1.0 - fee) * (ann + dp_curve / s) / (ann + dp_curve / y)
    b0, b1 = (s, other) if sale else (other, s)
    db0, db1 = (1.0, d_other) if sale else (-d_other, -1.0)
    S = b0 + b1
    D = d0
    for _ in range(16):
        P = D * D / (b0 * 2.0) * D / (b1 * 2.0)
        Dn = (ann * S + P * 2.0) * D / ((ann - 1.0) * D + 3.0 * P)
        step = abs(Dn - D)
        D = Dn
        if step <= 1e-15 * D:
            break
    P = D * D / (b0 * 2.0) * D / (b1 * 2.0)
    t0, t1 = P / b0, P / b1
    p = (ann + t0) / (ann + t1)
    dD = -((ann + t0) * db0 + (ann + t1) * db1) / (1.0 - ann - 3.0 * P / D)
    dlogP = 3.0 * dD / D - db0 / b0 - db1 / b1
    dp = (t0 * (dlogP - db0 / b0) - p * t1 * (dlogP - db1 / b1)) / (ann + t1)
    return b0, db0, p, dp


def _newton_float(fun, lo, hi, f_lo, f_hi, z, base, iterations):
    """:func:`safe_newton`'s steps for one element on Python floats."""
    last, fell = math.inf, False
    taken, before = math.inf, math.inf  # the last two steps taken
    for _ in range(iterations):
        f, df = fun(z)
        if f >= 0.0:
            hi, f_hi = z, f
        else:
            lo, f_lo = z, f
        step = f / df if math.isfinite(df) and df > 0.0 else math.nan
        secant = hi - f_hi * (hi - lo) / (f_hi - f_lo) if f_hi != f_lo else math.nan
        zn = z - step
        tol = EPS4 * abs(z - base)
        inside = lo < zn < hi
        resolved = abs(step) <= tol or (inside and abs(step) >= 0.5 * last and abs(step) <= 1e-10 * abs(z - base))
        newton = inside or resolved
        if not newton:
            zn = secant if not fell and lo < secant < hi else 0.5 * (lo + hi)
        if not resolved and abs(zn - z) > 0.5 * before:  # crawling (rtsafe): the middle
            zn, newton = 0.5 * (lo + hi), False
        before, taken = taken, abs(zn - z)
        last = abs(step) if inside else math.inf
        fell = not newton
        narrow = hi - lo <= EPS4 * abs(hi - base)
        settled = f == 0.0 or (newton and resolved) or narrow
        if f != 0.0:
            z = hi if narrow and not (newton and resolved) else zn
        if settled:
            break
    return z
