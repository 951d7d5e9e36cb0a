r"""Fire sales over overlapping portfolios: deleveraging spiral to a fixed point.

Model (Cifuentes, Ferrucci & Shin 2005; Greenwood, Landier & Thesmar 2015)
--------------------------------------------------------------------------
Entities :math:`i=1..N` hold :math:`H_{ik}` units of assets :math:`k=1..M`
(dense or sparse), cash :math:`c_i` and liabilities :math:`L_i` (USD). At
prices :math:`p` (USD/unit)

.. math::

    V_i(p) = \sum_k H_{ik} p_k, \qquad E_i(p) = V_i(p) + c_i - L_i .

Deleveraging rule: an entity must keep :math:`E_i \ge r_i V_i` (CFS capital
ratio on risky assets; GLT leverage target :math:`\lambda_i = 1/r_i` with sale
proceeds repaying debt, which leaves equity unchanged at market prices). It
sells the same fraction of every holding (GLT's "vertical slice")

.. math:: f_i(p) = \mathrm{clip}\!\left(1 - \frac{E_i(p)}{r_i V_i(p)},\,0,\,1\right),

and everything (:math:`f_i=1`) once :math:`E_i \le 0` (default liquidation).
Entities with :math:`r_i = 0` never deleverage (but are still marked to
market). Aggregate sales :math:`s_k = \sum_i f_i H_{ik} + s^{\text{forced}}_k`
move prices from their starting values :math:`p^0` by

* exponential (CFS): :math:`p_k = p^0_k e^{-\alpha_k s_k}`,
* linear (GLT): :math:`p_k = p^0_k \max(0, 1 - \alpha_k s_k)`,
* or any callable ``impact(sold_units, p0) -> prices`` that is
  non-increasing in ``sold_units``.

:math:`\alpha_k` is the fractional impact per unit sold (for GLT's per-dollar
impact :math:`\ell_k`, pass :math:`\alpha_k = \ell_k p^0_k`). The clearing
price solves :math:`p = \Pi(s(p))`. With :math:`r_i \in (0,1]` the map is
monotone (lower prices => more selling => lower prices), so Picard iteration
from :math:`p^0` decreases monotonically to the *greatest* fixed point
(Tarski); GLT's one-round linear model is ``max_iter=1``. Forced sales model
liquidations or margin calls decided elsewhere (aggregate units per asset).

Test vector TV14 (one bank, 100 units, liabilities 96, :math:`r^*=5\%`):
:math:`\alpha=0.001` gives 1 → 0.980199 → 0.942909 → 0.904837 and default;
:math:`\alpha=0.0002` converges to :math:`p^*=0.9935143917`,
:math:`s^*=32.5337`, equity 3.3514.

References
----------
* R. Cifuentes, G. Ferrucci, H. S. Shin, "Liquidity risk and contagion",
  JEEA 3 (2005).
* R. Greenwood, A. Landier, D. Thesmar, "Vulnerable banks", JFE 115 (2015).
* P. Gai, S. Kapadia, "Contagion in financial networks", Proc. R. Soc. A (2010)
  (exponential asset-price law, TV12).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["FireSaleResult", "fire_sale_equilibrium", "exponential_impact", "linear_impact", "fire_sale_discount",
           "FIRE_SALE_DISCOUNT", "ESTATE_SALE_RATE"]

#: Discount at which illiquid (non-token) assets sell in a hurry, at normal market liquidity [calibration:
#: distressed-asset sales of failed crypto lenders recovered well under face value, e.g. Celsius's and
#: Voyager's loan books and mining assets in 2022; 25% is sfm's round estimate, not a measured figure].
FIRE_SALE_DISCOUNT = 0.25
#: Share of a defaulted entity's tokens whose sale the market takes in the round after default (the estate
#: itself is frozen and keeps them, :mod:`core.engine.sell`); the rest in the next round [calibration:
#: the market priced a failed firm's holdings within days, e.g. 3AC's positions liquidated by its lenders
#: in June 2022; two rounds is sfm's estimate].
ESTATE_SALE_RATE = 0.5


def fire_sale_discount(liquidity):
    """Discount on illiquid assets sold in a hurry: ``min(0.9, FIRE_SALE_DISCOUNT / liquidity)``.

    ``liquidity`` is the scenario's liquidity multiplier (1 = normal markets; 0.5 = half the depth, so
    twice the discount), capped at a 90% loss.

    Examples
    --------
    >>> fire_sale_discount(np.array([1.0, 0.5, 0.1])).tolist()
    [0.25, 0.5, 0.9]
    """
    return np.minimum(0.9, FIRE_SALE_DISCOUNT / liquidity)


@dataclass(frozen=True)
class FireSaleResult:
    """Fire-sale fixed point. Leading ``S`` axis only if the inputs had one.

    Attributes
    ----------
    prices : ndarray, (S, M)
        Clearing prices (USD/unit).
    price_change : ndarray, (S, M)
        ``prices / p0 - 1`` (fractional, <= 0).
    sold_units : ndarray, (S, M)
        Aggregate units sold (endogenous + forced).
    sale_fraction : ndarray, (S, N)
        Share of its portfolio each entity sold.
    mtm_loss : ndarray, (S, N)
        Mark-to-market loss on initial holdings, ``H @ (p0 - p)`` (USD).
    equity : ndarray, (S, N)
        ``H @ p + cash - liabilities`` at clearing prices (USD).
    defaulted : ndarray of bool, (S, N)
        ``equity < 0``.
    iterations : ndarray of int, (S,)
        Picard iterations until convergence (or ``max_iter``).
    converged : ndarray of bool, (S,)
    path : ndarray or None, (T+1, S, M) (or (T+1, M) unbatched)
        Price iterates if ``record_path`` (row 0 = ``p0``).

    Examples
    --------
    >>> r = fire_sale_equilibrium([[100.0]], [1.0], liabilities=96.0, min_equity_ratio=0.05, alpha=0.0002)
    >>> round(float(r.prices[0]), 10), round(float(r.sold_units[0]), 4)
    (0.9935143917, 32.5337)
    """

    prices: np.ndarray
    price_change: np.ndarray
    sold_units: np.ndarray
    sale_fraction: np.ndarray
    mtm_loss: np.ndarray
    equity: np.ndarray
    defaulted: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    path: np.ndarray | None


def exponential_impact(alpha):
    """CFS law ``p = p0 * exp(-alpha * s)`` as a callable for :func:`fire_sale_equilibrium`.

    Examples
    --------
    >>> f = exponential_impact(0.001)
    >>> round(float(f(np.array([100.0]), np.array([1.0]))[0]), 6)
    0.904837
    """
    a = np.asarray(alpha, dtype=float)
    if np.any(a < 0) or np.isnan(a).any():
        raise ValueError("alpha must be >= 0")
    return lambda s, p0: p0 * np.exp(-a * s)


def linear_impact(alpha):
    """GLT law ``p = p0 * max(0, 1 - alpha * s)`` as a callable.

    Examples
    --------
    >>> float(linear_impact(0.01)(np.array([10.0]), np.array([2.0]))[0])
    1.8
    """
    a = np.asarray(alpha, dtype=float)
    if np.any(a < 0) or np.isnan(a).any():
        raise ValueError("alpha must be >= 0")
    return lambda s, p0: p0 * np.maximum(0.0, 1.0 - a * s)


def _value(H, P):
    """(S, M) prices -> (S, N) holdings values."""
    return (H @ P.T).T if sp.issparse(H) else P @ H.T


def _units(H, F):
    """(S, N) fractions -> (S, M) units."""
    return (H.T @ F.T).T if sp.issparse(H) else F @ H


def fire_sale_equilibrium(
    holdings, prices, *, cash=0.0, liabilities=0.0, min_equity_ratio=0.0,
    forced_sales=None, impact="exponential", alpha=None, tol=1e-12,
    max_iter=10_000, record_path=False,
):
    """Iterate the fire-sale spiral to its (greatest) fixed point.

    Parameters
    ----------
    holdings : array_like or scipy.sparse matrix, shape (N, M)
        Units of each asset held by each entity (>= 0); shared by scenarios.
    prices : array_like, shape (M,) or (S, M)
        Starting (post-shock) prices p0, USD/unit (> 0).
    cash, liabilities : array_like, shape (), (N,) or (S, N)
        USD.
    min_equity_ratio : array_like, shape (), (N,) or (S, N), default 0
        r_i in [0, 1]; 0 = never deleverages (GLT leverage target = 1/r).
    forced_sales : array_like, shape (M,) or (S, M), optional
        Exogenous units sold (liquidations), added to aggregate sales.
    impact : {"exponential", "linear"} or callable
        Price law; callables take ``(sold_units, p0)`` of shape (S, M).
    alpha : array_like, shape () or (M,)
        Fractional impact per unit sold (required for the named laws).
    tol : float, default 1e-12
        Relative price change at which a scenario is converged.
    max_iter : int, default 10000
    record_path : bool, default False

    Returns
    -------
    FireSaleResult

    Raises
    ------
    ValueError
        Negative holdings, non-positive prices, ratios outside [0, 1],
        missing ``alpha`` or shape mismatch.

    Examples
    --------
    TV14 with alpha = 0.0002 (no default):

    >>> r = fire_sale_equilibrium([[100.0]], [1.0], liabilities=96.0,
    ...                           min_equity_ratio=0.05, alpha=0.0002)
    >>> round(float(r.prices[0]), 10), round(float(r.sold_units[0]), 4), round(float(r.equity[0]), 4)
    (0.9935143917, 32.5337, 3.3514)
    """
    H = sp.csr_matrix(holdings, dtype=float) if sp.issparse(holdings) else np.asarray(holdings, dtype=float)
    if H.ndim != 2:
        raise ValueError("holdings must be 2-D (entities x assets)")
    data = np.asarray(H.data if sp.issparse(H) else H)
    if np.isnan(data).any() or np.any(data < 0):
        raise ValueError("holdings must be finite and >= 0")
    N, M = H.shape
    p0 = np.asarray(prices, dtype=float)
    batched = p0.ndim == 2
    for _name, v in (("cash", cash), ("liabilities", liabilities), ("min_equity_ratio", min_equity_ratio)):
        if np.ndim(v) == 2:
            batched = True
    P0 = np.atleast_2d(p0)
    if P0.shape[-1] != M or P0.ndim != 2:
        raise ValueError(f"prices must have shape (M,) or (S, M) with M={M}")
    if np.isnan(P0).any() or np.any(P0 <= 0):
        raise ValueError("prices must be > 0")
    S = P0.shape[0]

    def per_entity(v, name):
        a = np.asarray(v, dtype=float)
        if np.isnan(a).any():
            raise ValueError(f"{name} contains NaN")
        if a.ndim > 2 or (a.ndim >= 1 and a.shape[-1] not in (1, N)):
            raise ValueError(f"{name} must have shape (), (N,) or (S, N) with N={N}")
        return np.broadcast_to(a, (N,))[None, :] if a.ndim < 2 else a

    c = per_entity(cash, "cash")
    L = per_entity(liabilities, "liabilities")
    r = per_entity(min_equity_ratio, "min_equity_ratio")
    if np.any((r < 0) | (r > 1)):
        raise ValueError("min_equity_ratio must lie in [0, 1]")
    S = max(S, c.shape[0], L.shape[0], r.shape[0])
    try:
        P0 = np.broadcast_to(P0, (S, M))
        c, L, r = (np.broadcast_to(a, (S, N)) for a in (c, L, r))
    except ValueError as exc:
        raise ValueError("scenario axes of prices, cash, liabilities and ratios disagree") from exc
    if forced_sales is None:
        fs = np.zeros((S, M))
    else:
        fs = np.broadcast_to(np.asarray(forced_sales, dtype=float), (S, M))
        if np.isnan(fs).any() or np.any(fs < 0):
            raise ValueError("forced_sales must be >= 0")

    if callable(impact):
        law = impact
    else:
        if alpha is None:
            raise ValueError("alpha is required for the named impact laws")
        law = {"exponential": exponential_impact, "linear": linear_impact}.get(impact)
        if law is None:
            raise ValueError("impact must be 'exponential', 'linear' or a callable")
        law = law(alpha)

    constrained = r > 0
    r_safe = np.where(constrained, r, 1.0)

    def sale_fraction(P):
        V = _value(H, P)
        E = V + c - L
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            f = np.where(V > 0, 1.0 - E / (r_safe * V), 0.0)
        f = np.where(constrained, np.clip(f, 0.0, 1.0), 0.0)
        return np.where(E <= 0, 1.0, f)

    P = P0.copy()
    steps: list[np.ndarray] = [P0.copy()]
    iters = np.zeros(S, dtype=int)
    conv = np.zeros(S, dtype=bool)
    for _ in range(max_iter):
        f = sale_fraction(P)
        sold = _units(H, f) + fs
        Pn = np.minimum(np.asarray(law(sold, P0), dtype=float), P)  # monotone guard
        step = np.max(np.abs(Pn - P) / np.maximum(P, 1e-300), axis=1)
        iters = np.where(conv, iters, iters + 1)
        conv = conv | (step <= tol)
        P = Pn
        if record_path:
            steps.append(P.copy())
        if conv.all():
            break
    f = sale_fraction(P)
    sold = _units(H, f) + fs
    V = _value(H, P)
    E = V + c - L
    loss = _value(H, P0) - V
    out = dict(
        prices=P, price_change=P / P0 - 1.0, sold_units=sold, sale_fraction=f,
        mtm_loss=loss, equity=E, defaulted=E < 0, iterations=iters, converged=conv,
    )
    path = np.stack(steps) if record_path else None
    if not batched:
        out = {k: v[0] for k, v in out.items()}
        path = None if path is None else path[:, 0]
    return FireSaleResult(**out, path=path)
