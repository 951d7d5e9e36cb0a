r"""Order-book price impact: square-root law and decay of temporary impact.

Square-root law (Almgren et al. 2005; Tóth et al. 2011)
-------------------------------------------------------
Selling :math:`Q` USD into a market with average daily volume :math:`V` (USD)
and daily volatility :math:`\sigma` moves the log price by

.. math:: I = Y\,\sigma\,\sqrt{\frac{Q}{\ell\,V}},

with :math:`Y \approx 1` (research notes §5.5 calibrate :math:`Y\approx0.5`-1
on liquidation days) and :math:`\ell` a liquidity multiplier (< 1 for thin
markets, e.g. weekends or a crash). **Convention:** the impact is applied
multiplicatively, :math:`P' = P\,e^{-I}`, so the returned fractional drop
:math:`1 - e^{-I}` lies in [0, 1) and can never push a price negative; for
small :math:`I` it equals the textbook linear form (for :math:`I > 37` it is
capped at the largest float below 1; engines that chain many rounds should
accumulate :func:`log_sqrt_impact` instead). Net buying
(:math:`Q < 0`) gives a symmetric rise :math:`e^{+I} - 1` (a negative drop).

Impact decay (Risk DAO simulation GUI; Bouchaud et al. transient impact)
-----------------------------------------------------------------------
A share :math:`\pi` of impact is permanent; the rest decays exponentially
with half-life :math:`h` rounds:

.. math:: I(t) = I_0\,[\pi + (1-\pi)\,2^{-t/h}] .

Apply it to log impacts (or, approximately, to fractional drops).

Units: ``sell_usd`` and ``adv_usd`` USD, ``daily_vol`` a fraction (0.05 = 5 %
daily), ``rounds`` and ``half_life`` in simulation rounds. All functions
broadcast over any leading axes (scenarios, assets).

References
----------
* R. Almgren, C. Thum, E. Hauptmann, H. Li, "Direct estimation of equity market
  impact", Risk 18 (2005).
* B. Tóth, Y. Lempérière, C. Deremble, J. de Lataillade, J. Kockelkoren,
  J.-P. Bouchaud, "Anomalous price impact and the critical nature of liquidity
  in financial markets", Phys. Rev. X 1 (2011).
* Risk DAO, "Using the RiskDAO simulation GUI" (impact recovery half-life).
"""

from __future__ import annotations

import numpy as np

from core.mechanisms._checks import checking, as_float_array as _arr

__all__ = ["sqrt_impact", "log_sqrt_impact", "impact_recovery"]

#: Lowest price relative to the reference a cascade allows (LUNA ended at 2e-6 of its May 2022 price):
#: a token can become worthless, not free of sign.
PRICE_FLOOR = 1e-12
_MAX_DROP = 1.0 - np.finfo(float).epsneg  # largest float below 1: the price stays > 0


def log_sqrt_impact(sell_usd, adv_usd, daily_vol, y=1.0, liquidity=1.0):
    """Signed log-price impact ``I = sign(Q) * y * sigma * sqrt(|Q| / (liquidity * V))``.

    Examples
    --------
    >>> round(float(log_sqrt_impact(1e6, 1e8, 0.05)), 6)
    0.005
    """
    q = _arr(sell_usd, "sell_usd")
    v = _arr(adv_usd, "adv_usd")
    s = _arr(daily_vol, "daily_vol")
    yy = _arr(y, "y")
    liq = _arr(liquidity, "liquidity")
    if checking() and (np.any(v <= 0) or np.any(liq <= 0)):
        raise ValueError("adv_usd and liquidity must be > 0")
    if checking() and (np.any(s < 0) or np.any(yy < 0)):
        raise ValueError("daily_vol and y must be >= 0")
    return np.sign(q) * yy * s * np.sqrt(np.abs(q) / (liq * v))


def sqrt_impact(sell_usd, adv_usd, daily_vol, y=1.0, liquidity=1.0):
    """Fractional price drop from selling ``sell_usd``: ``1 - exp(-I)`` (square-root law).

    Parameters
    ----------
    sell_usd : array_like
        Net USD sold (negative = net bought).
    adv_usd : array_like
        Average daily volume in USD (> 0).
    daily_vol : array_like
        Daily volatility as a fraction (>= 0).
    y : float, default 1.0
        Square-root-law prefactor.
    liquidity : array_like, default 1.0
        Multiplier on ADV (> 0); 0.5 halves depth.

    Returns
    -------
    ndarray
        Fractional drop in (-inf, 1); new price = ``price * (1 - drop)``.

    Examples
    --------
    Selling 1 % of ADV at 5 % daily vol: I = 0.05*0.1 = 0.005:

    >>> round(float(sqrt_impact(1e6, 1e8, 0.05)), 6)
    0.004988
    """
    drop = -np.expm1(-log_sqrt_impact(sell_usd, adv_usd, daily_vol, y, liquidity))
    return np.minimum(drop, _MAX_DROP)  # 1 - e^{-I} rounds to 1.0 for I > ~37


def impact_recovery(impact, rounds, half_life, permanent=0.0):
    """Impact remaining after ``rounds`` rounds: ``impact * (permanent + (1-permanent) * 2**(-rounds/half_life))``.

    Parameters
    ----------
    impact : array_like
        Initial (log or fractional) impact.
    rounds : array_like
        Elapsed rounds (>= 0).
    half_life : array_like
        Half-life of the temporary part in rounds (> 0; ``inf`` = no decay).
    permanent : float, default 0.0
        Permanent share in [0, 1].

    Returns
    -------
    ndarray

    Examples
    --------
    >>> round(float(impact_recovery(0.1, 2, 2, permanent=0.5)), 12)
    0.075
    """
    imp = _arr(impact, "impact")
    t = _arr(rounds, "rounds")
    h = _arr(half_life, "half_life")
    pi = _arr(permanent, "permanent")
    if checking() and (np.any(t < 0) or np.any(h <= 0)):
        raise ValueError("rounds must be >= 0 and half_life > 0")
    if checking() and np.any((pi < 0) | (pi > 1)):
        raise ValueError("permanent must lie in [0, 1]")
    return imp * (pi + (1.0 - pi) * np.exp2(-t / h))
