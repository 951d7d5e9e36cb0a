r"""Liquidators' capital in a round: where it goes when the cohorts due ask for more than there is.

Model. Liquidators are profit-seeking and their capital (``liquidator_capacity_usd`` a round) goes where it
earns most [Qin et al., "An Empirical Study of DeFi Liquidations: Incentives, Risks, and Instabilities"
(IMC 2021): liquidators race for the most profitable opportunities]. A liquidation of cohort :math:`i` earns
the margin :math:`L_i` (its bonus net of the gap between oracle and market,
:func:`~core.engine.limits.liquidation_margin`) less the impact of the liquidator's own sale, which grows
with the size taken (:func:`~core.engine.limits.liquidator_limit`). With the capital scarce, each cohort is
liquidated until its marginal margin falls to a common level :math:`\lambda` (water-filling, the competitive
equilibrium of a fixed capital): :math:`q_i(\lambda)` is the size whose own sale's impact is
:math:`L_i - \lambda` (0 where :math:`L_i \le \lambda`), at most the close factor's, and :math:`\lambda`
is the lowest level whose repayments :math:`\sum_i q_i(\lambda) P^o_i / (1 + b_i)` fit in the capital
(bisection; repayments fall as :math:`\lambda` rises). The allocation moves continuously with the margins:
cohorts of nearly equal margin share the capital, and one whose margin is higher takes more of it. A
token without order-book impact (a stablecoin, whose price a peg sets) is taken whole while its margin
exceeds :math:`\lambda`; what the level leaves over the capital is shared pro rata
(:func:`~core.mechanisms.lending.liquidate_aave`'s capacity). (Shared pro rata to the debt repaid, a
deeper stETH fall on crypto-2025-10 made more of AAVE_ETH's stETH/ETH loops due, whose E-mode bonus is 1%,
and took capital from BTC-collateral cohorts with bonuses of 4-7%: less BTC was sold by the horizon and loss
fell $0.55bn, ``monotone-2025-steth-capacity-sharing-horizon``; served strictly in order of margin, the
order of two cohorts whose margins differed by rounding decided which collateral was sold.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..mechanisms import lending
from .batch import batch_take
from .compiled import ABSORB, MAKER_AUCTION
from .limits import liquidation_margin, liquidator_limit
from .sell import unwrap_units

if TYPE_CHECKING:
    from .batch import ScenarioBatch
    from .compiled import Compiled
    from .state import CascadeState

#: Bisection steps for the level (the margin interval halves each step: 2^-60 of it).
LEVEL_STEPS = 60


def capital_limit(c: Compiled, s: CascadeState, b: ScenarioBatch, P: np.ndarray, Po: np.ndarray,
                  Pc: np.ndarray | None, limit: np.ndarray | None) -> np.ndarray | None:
    """``limit`` (S, c) (None: none) with each close-factor cohort cut to :math:`q_i(\\lambda)` in the
    scenarios whose cohorts due ask for more than the capital (module docstring); unchanged elsewhere."""
    Pcol = Po[:, c.c_ca] if Pc is None else Pc
    Pd = Po[:, c.c_da]
    first = lending.liquidate_aave(s.coll, s.debt, Pcol, Pd, s.lt_eff, s.bonus_eff, s.cf_eff, c.c_full_close,
                                   max_seize=None if limit is None else np.where(np.isinf(limit), np.inf, limit),
                                   spread=c.c_spread)
    close = (c.c_style != MAKER_AUCTION) & (c.c_style != ABSORB)  # auctions and absorptions are priced apart
    ask = np.where(close[None], first.debt_repaid * Pd, 0.0)  # USD each close-factor cohort's rule repays
    tight = (ask.sum(1) > b.capacity) & ~s.halted
    if not tight.any():
        return limit
    rows = np.flatnonzero(tight)
    bt = batch_take(b, rows)
    Pr, Por, cap = P[rows], Po[rows], b.capacity[rows]
    bonus, sold, supply, res = s.bonus_eff[rows], s.sold_reference_usd[rows], s.supply[rows], s.pool_res[rows]
    unwrap = unwrap_units(c, s, b)
    unwrap = None if unwrap is None else unwrap[rows]
    per_usd = np.where(Pcol[rows] > 0, Pcol[rows], 0.0) / (1.0 + bonus)  # USD repaid per unit seized
    base = np.inf if limit is None else limit[rows]

    def repaid(level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        q = liquidator_limit(c, Pr, Por, bonus, sold, supply, bt.liquidity, bt.lag, None, unwrap, res, None, level)
        q = np.minimum(q, base)
        with np.errstate(invalid="ignore"):
            usd = np.where(close[None], np.minimum(ask[rows], q * per_usd), 0.0)
        return q, np.nan_to_num(usd, nan=0.0).sum(1)

    L = liquidation_margin(c, Pr, Por, bonus)
    due = ask[rows] > 0
    lo = np.zeros(len(rows))
    hi = np.where(due & np.isfinite(L), L, 0.0).max(1)
    for _ in range(LEVEL_STEPS):
        mid = 0.5 * (lo + hi)
        _, usd = repaid(mid)
        over = usd > cap
        lo, hi = np.where(over, mid, lo), np.where(over, hi, mid)
    q, _ = repaid(lo)  # at or just over the capital: the capacity's pro rata share takes the rest
    out = np.full(ask.shape, np.inf) if limit is None else limit.copy()
    out[rows] = np.where(close[None], q, out[rows])
    return out
