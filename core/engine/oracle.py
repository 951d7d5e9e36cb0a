r"""The prices protocols' oracles report: the closing prices of ``lag`` rounds ago (Maker's OSM is one hour late;
congested or stale feeds more), per scenario, and liquid-staking tokens at their redemption rate where withdrawals
exist. Read by the liquidation steps.

Redemption-rate oracles
-----------------------
Since withdrawals opened (Shapella, April 2023) lenders price a liquid-staking
token that can be redeemed at its exchange rate times the underlying's price,
not at its market price: Aave v3's ``WstETHPriceCapAdapter`` (the CAPO oracle:
the wstETH/stETH rate from Lido, capped in its growth, times ETH/USD;
aave-dao/aave-capo), Morpho Blue's wstETH/WETH markets (the wstETH
exchange-rate oracle) and Spark (the same rate feed); Compound v3, Euler,
Kamino and Fluid are taken to do the same [assumption]. Maker-style vaults keep
the market price: Maker's wstETH oracle medianises stETH/ETH from Curve and
Balancer (MakerDAO forum, "[wstETH] Collateral Onboarding Oracle Assessment
(MIP10c3-SP42)", 2021), :func:`core.engine.liquidate.liquidate`. A discount on
the market then liquidates no position, and only the rate the oracle reads
does: in July 2025 stETH traded 30-60 bp below par while "stETH's oracle price
reflects redemption value rather than market price" (Coinotag; Blockworks from
Galaxy Research); on 10 March 2026 a CAPO cap set 2.85% below the rate
liquidated ~10,938 wstETH (~$27M) of e-mode positions with the market at par
(Chaos Labs, via Tokenpost and Altcoin Daily). On 10-11 October 2025 Aave's
~$180M of liquidations were concentrated in the BTC, ETH and wstETH markets
(Chaos Labs' report to Aave governance): with ETH's fall, not with a wstETH discount [our reading].
In 2022, with no
withdrawals, Aave priced stETH from the market (Chainlink stETH/ETH), which is
the rule for a token whose ``pegs`` row has ``withdrawals`` false. The
oracle is

.. math:: P^o_{LST} = P_{LST,0}\,P^o_u / P_{u,0},

the reference ratio of the token to its underlying (its exchange rate) times
the underlying's oracle price. Liquidators are paid collateral they sell at
the market, so where the market is far enough below the oracle they stand aside
(:func:`core.engine.limits.liquidator_limit`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .compiled import Compiled


def oracle_prices(price_history: list[np.ndarray], lag: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Prices the protocols' oracles report: ``lag`` rounds old, per scenario."""
    if not lag.any():
        return P
    idx = np.maximum(len(price_history) - 1 - lag, 0)  # the history entry each scenario's oracles read
    first = int(idx[0])
    if (idx == first).all():
        return price_history[first].copy()
    out = np.empty_like(P)
    for j in np.unique(idx):  # distinct lags: a handful (not a stack of the whole history every round)
        rows = idx == j
        out[rows] = price_history[j][rows]
    return out


def redeemable_tokens(c: Compiled) -> np.ndarray:
    """Liquid-staking tokens with withdrawals (``pegs`` rows with ``withdrawals`` true): asset indices."""
    g = c.pegs
    if g is None or not len(g.lst_asset):
        return np.zeros(0, int)
    return g.lst_asset[g.lst_withdrawals]


def redemption_rate_prices(c: Compiled, Po: np.ndarray) -> np.ndarray:
    """``Po`` with each redeemable liquid-staking token at its exchange rate times its underlying's oracle price
    (module docstring); ``Po`` itself where there is none.

    Worked numbers: ``tests/test_lst_oracle.py`` (stETH 30% below ETH on the market, ETH -10%: the oracle
    reads 0.9 of stETH's reference price).
    """
    la = redeemable_tokens(c)
    if not len(la):
        return Po
    u = c.peg_unit[la]
    out = Po.copy()
    out[:, la] = c.P0[la][None] * Po[:, u] / c.P0[u][None]
    return out
