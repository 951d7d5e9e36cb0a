r"""The prices protocols' oracles report: the closing prices of ``lag`` rounds ago (Maker's OSM is one hour late;
congested or stale feeds more), per scenario, liquid-staking tokens at their redemption rate where withdrawals
exist, and a stablecoin at its peg where a lender's oracle fixes it. Read by the liquidation steps.

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

Fixed-price oracles
-------------------
Some lenders price a stablecoin at a fixed USD value, not at its market:

* SparkLend: "stablecoins such as DAI uses a fixed price of 1.00 USD, and does
  not deviate even if the market price of DAI deviates from this value"
  (docs.spark.fi, "Using SparkLend / Oracles", Fixed Price); USDC and USDT
  since January 2024 (Sky governance poll "SparkLend Ethereum - Update USDC
  and USDT markets to use a fixed price oracle of 1 USD", 15 Jan 2024). Its
  cbBTC and WBTC read BTC's market feed ("Underlying Asset Price"), which the
  engine's wrapped tokens already follow.
* Compound v2 from September 2021: the Open Price Feed's
  ``UniswapAnchoredView`` configuration gives USDC, USDT and TUSD
  ``priceSource`` 1 (``FIXED_USD``, ``fixedPrice`` 1e6) and DAI a reporter
  (Chainlink) (compound-finance/open-oracle, ``configuration/parameters.js``);
  in March 2023 Compound v2 kept USDC at $1 while it traded at 0.877. Before
  the Open Price Feed, its ``PriceOracleProxy`` (compound-protocol
  ``contracts/PriceOracleProxy.sol``, 2019-20) priced USDC at Maker's
  USD/ETH price, "we assume USDC/USD = 1", and DAI/SAI at the posted DAI/USDC
  ratio bounded to [0.95, 1.05] (a market price with a band, not modelled).
* dYdX's Solo margin: ``UsdcPriceOracle`` returns a constant $1 (dydxprotocol/solo,
  ``contracts/external/oracles/UsdcPriceOracle.sol``).
* Not fixed: Aave v2 and v3 read Chainlink's market feeds for USDC, USDT
  and DAI (v3 since 2024 caps stablecoins from above with CAPO adapters:
  the market below the cap, so a depeg is read), GHO excepted
  (``GhoOracle.sol``: $1, :func:`core.engine.books.debt_price`, the issuer's
  own coin). Maker's OSM reads the market (validation rejects the flag on a
  Maker-style cohort).

A cohort says which of its two tokens its protocol fixes (the cohorts table's
``collateral_oracle`` and ``debt_oracle``, ``market`` by default, an absent
column too: a per-cohort flag, since one protocol fixes some coins and not
others, and since the engine's oracle prices are already per cohort, ``Pc``
and ``Pd`` of the liquidation step). The fixed value is the coin's USD peg
(``peg_target`` of a token whose ``peg_unit`` is USD). Then, at every lag,

.. math:: P^o_{coll,i} = \text{peg} \quad\text{or}\quad P^o_{debt,i} = \text{peg},

read by the due test (:func:`core.engine.due.cohorts_due`), the close-factor
ask and the rules (how much is repaid, and the collateral seized at the
oracle's prices, as Aave's ``liquidationCall`` and Compound's
``liquidateCalculateSeizeTokens`` compute it). Where the fixed coin is the
collateral, a depeg liquidates no position however deep (the lender holds
the loss, marked at the market in its book); liquidators would be paid
collateral valued at the peg that sells for less, so the cohort is weighed
"apart" (:func:`~core.engine.limits.liquidation_margin`: the margin
:math:`\ln((1 + b) P^m_{coll} / \text{peg})`, nothing taken below
:math:`P^m = \text{peg} / (1 + b)`). Where it is the debt, its premium
pushes no borrower toward liquidation and its discount relieves none; a
liquidator repaying a unit valued at the peg buys it at the market
(:func:`core.engine.capital.debt_cost`). Worked numbers:
``tests/test_fixed_oracle.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True, eq=False)
class FixedOracle:
    """The cohorts whose protocol prices their collateral or their debt at a fixed USD value (module docstring,
    "Fixed-price oracles"): the columns and their fixed prices, (m,) and (1, m) each, for each side."""

    coll_cols: np.ndarray
    coll_price: np.ndarray
    debt_cols: np.ndarray
    debt_price: np.ndarray

    @property
    def cohorts(self) -> np.ndarray:
        """The cohorts with either side fixed (column indices, sorted)."""
        return np.union1d(self.coll_cols, self.debt_cols)

    def take(self, cols: np.ndarray) -> FixedOracle | None:
        """The same oracle seen through the cohorts ``cols`` (a view's columns: :class:`~core.engine.cohort_views.
        Cohorts`); None where none of them is fixed."""
        cols = np.asarray(cols)

        def side(fixed: np.ndarray, price: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            # the view's columns among the fixed ones (sorted: np.flatnonzero's), and their prices
            pos = np.minimum(np.searchsorted(fixed, cols), max(len(fixed) - 1, 0))
            where = np.flatnonzero(fixed[pos] == cols) if len(fixed) else np.zeros(0, int)
            return where, price[:, pos[where]]

        cc, cp = side(self.coll_cols, self.coll_price)
        dc, dp = side(self.debt_cols, self.debt_price)
        return FixedOracle(cc, cp, dc, dp) if cc.size or dc.size else None

    def prices(self, Pc: np.ndarray, Pd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each cohort's collateral and debt price to its protocol, (S, c) each: ``Pc`` and ``Pd`` with the fixed
        columns at their fixed price (new arrays where a column changes)."""
        if self.coll_cols.size:
            Pc = Pc.copy()
            Pc[:, self.coll_cols] = self.coll_price
        if self.debt_cols.size:
            Pd = Pd.copy()
            Pd[:, self.debt_cols] = self.debt_price
        return Pc, Pd

    def gaps(self, P: np.ndarray, ca: np.ndarray, da: np.ndarray, coll_gap: np.ndarray,
             debt_gap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Liquidators' log gaps between market and oracle, ``ln(P^m / P^o)``, of each cohort's collateral and debt
        (:func:`~core.engine.limits.liquidation_margin`), the fixed columns' against their fixed price (in place:
        the caller's own gathers)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.coll_cols.size:
                coll_gap[:, self.coll_cols] = np.log(P[:, ca[self.coll_cols]] / self.coll_price)
            if self.debt_cols.size:
                debt_gap[:, self.debt_cols] = np.log(P[:, da[self.debt_cols]] / self.debt_price)
        return coll_gap, debt_gap


#: The values of the cohorts' ``collateral_oracle`` and ``debt_oracle`` columns (core.schema).
MARKET, FIXED_USD = "market", "fixed_usd"


def compile_fixed_oracle(cohorts, ca: np.ndarray, da: np.ndarray, style: np.ndarray, peg_target: np.ndarray,
                         peg_unit: np.ndarray, maker_style: int) -> FixedOracle | None:
    """The network's :class:`FixedOracle` from its cohorts table (the columns absent or all ``market``: None, and
    the engine reads every oracle as before). The fixed price is the token's peg: its ``peg_target`` where its
    ``peg_unit`` is USD (validation rejects ``fixed_usd`` on any other token, and on a Maker-style cohort, whose
    OSM reads the market; :mod:`core.consistency_checks`)."""
    usd_peg = np.where(peg_unit == -1, peg_target, np.nan)
    sides = []
    for column, asset in (("collateral_oracle", ca), ("debt_oracle", da)):
        flag = (cohorts[column].to_numpy(dtype=object) == FIXED_USD) if column in cohorts else np.zeros(len(ca), bool)
        cols = np.flatnonzero(flag & (style != maker_style))
        price = usd_peg[asset[cols]]
        if not np.isfinite(price).all():
            bad = cols[~np.isfinite(price)]
            raise ValueError(f"cohorts {list(cohorts['id'].iloc[bad])}: {column} fixed_usd on a token with no USD peg")
        sides.append((cols, price[None].astype(float)))
    if not (sides[0][0].size or sides[1][0].size):
        return None
    return FixedOracle(sides[0][0], sides[0][1], sides[1][0], sides[1][1])


def fixed_oracle(c: Compiled) -> FixedOracle | None:
    """The network's (or a cohort view's) fixed-price oracles; None where no cohort has one (a stand-in network
    without the field too)."""
    return getattr(c, "fixed_oracle", None)


def cohort_oracle_prices(c: Compiled, Pc: np.ndarray, Pd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each cohort's collateral and debt price at its protocol's oracle, (S, c) each: ``Pc`` and ``Pd`` (the
    oracle's prices gathered per cohort, :func:`~core.engine.books.debt_price`'s for the debt) with the fixed
    ones at their fixed USD value; themselves where no cohort has one."""
    fixed = fixed_oracle(c)
    return (Pc, Pd) if fixed is None else fixed.prices(Pc, Pd)
