r"""The prices protocols' oracles report: the closing prices of ``lag`` rounds ago (Maker's OSM is one hour late;
congested or stale feeds more), per scenario, liquid-staking tokens at their redemption rate where withdrawals
exist, a stablecoin at its peg where a lender's oracle fixes it, and a token at another asset's price where a
lender's oracle reads that one. Read by the liquidation steps.

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
  ratio bounded to [0.95, 1.05] ("Banded market prices" below).
* dYdX's Solo margin: ``UsdcPriceOracle`` returns a constant $1 (dydxprotocol/solo,
  ``contracts/external/oracles/UsdcPriceOracle.sol``).
* Anchor (Terra), its UST debt: the overseer's ``compute_borrow_limit`` sums collateral x the oracle's rate in
  ``uusd`` (the oracle's ``base_asset``, priced 1) x ``max_ltv`` against ``loan_amount`` in uusd
  (money-market-contracts ``e8853fa``, ``contracts/overseer/src/collateral.rs`` 152, 240-272), and the rates fed
  were USD prices (Terra's oracle voted LUNA/USDT x USDT/USD as LUNA's ``uusd`` rate: terra-money/oracle-feeder
  ``33f2e38``, ``price-server/src/prices.ts`` 11-15), so a loan weighs $1 a UST (docs/invariants.md, session 33).
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

Another asset's price
---------------------
Aave v3 prices USDe at USDT's price: "hardcoding the USDe price to match the USDT price in Aave's pricing feeds"
(ARFC "sUSDe and USDe Price Feed Update", governance.aave.com/t/20495, Chaos Labs with LlamaRisk; AIP payload
``SUSDeAndUSDePriceFeedUpdate_20250213`` on Ethereum Core, Prime and zkSync, bgd-labs/aave-proposals-v3: USDe's
oracle "Capped USDe / USD" becomes "Capped USDT/USD", sUSDe's "Capped sUSDe / USDe / USD" becomes "Capped sUSDe /
USDT / USD", the sUSDe/USDe ERC-4626 rate capped by CAPO times Chainlink's USDT/USD). The Plasma instance listed
USDe at the same "Capped USDT/USD" adapter as USDT0 from its activation (``AaveV35PlasmaActivation_20250917``) and
prices sUSDe on its USDT CAPO feed (aave-dao/aave-price-feeds ``scripts/DeployPlasma.s.sol``: base aggregator
``USDT_CAPO_PRICE_FEED``); the PT-USDe and PT-sUSDe adapters of Core and Plasma discount USDT's feed ("PT Capped
USDe USDT/USD linear discount 27NOV2025", ``assetToUsdAggregator: USDT_ORACLE``). On 10-11 October 2025 USDe
traded at 0.65 on Binance while "Aave's oracle price maintained the $0.99-$1.00 range" (ArkStream Capital) and
Ethena counted $50K of liquidations of USDe and sUSDe collateral on Aave (Ethena forum, "USDe Analysis during the
Oct 10th-11th Volatility Event"; LlamaRisk, "When Pricing Breaks: A USDe Case Study", 18 Oct 2025). Not so
(checked): Euler's Ethena vaults read a USDe/USD market feed (Pyth, then RedStone: Euler forum, "Modify Euler
Yield's configuration to facilitate EulerSwap pools"). Morpho Blue's oracle is chosen per market at its creation
(help.morpho.org, "Oracles on Morpho"): not documented here for the sUSDe and PT markets, left at the market
[assumption]. A cohort's ``collateral_oracle`` or ``debt_oracle`` ``asset:SYMBOL`` reads, at every lag,

.. math:: P^o_{token,i} = \frac{P_{token,0}}{P_{ref,0}}\,P^o_{ref},

the reference ratio of the token to the asset it is priced at (1 for USDe to USDT; a staked token's exchange
rate, as sUSDe's ERC-4626 rate, held at the snapshot's) times that asset's oracle price (lagged as every
oracle is). A depeg of the token alone then liquidates no position; a fall of the reference asset does, as
its market does; liquidators weigh the cohort "apart", the margin
:math:`\ln((1 + b) P^m_{coll} / P^o_{coll})` (:func:`~core.engine.limits.liquidation_margin`). CAPO's caps
from above (1.04 on USDT) are not modelled.

Banded market prices
--------------------
Compound v2's ``PriceOracleProxy`` of the MCD launch (compound-protocol ``contracts/PriceOracleProxy.sol`` at
``bcf0bc7``, "Compound v2.3 Pre-Release", 21 Nov 2019; deployed at 0x1D8aEdc9E924730DD3f9641CDb4D1B92B848b4bd in
block 8983577 with cDAI, ``networks/mainnet.json``, and replaced by 0xdA17fbEdA95222f331Cb1D252401F4b44F49f7A0 in
block 9788084, about 1 April 2020: it priced both markets on Black Thursday) reads, in ETH::

    if (cTokenAddress == cUsdcAddress) {
        // we assume USDC/USD = 1, and let DAI/ETH float based on the DAI/USDC ratio
        //  use the maker usd price (for a token w/ 6 decimals)
        return v1PriceOracle.assetPrices(makerUsdOracleKey).mul(1e12); // 1e(18 - 6)
    }
    if (cTokenAddress == cSaiAddress || cTokenAddress == cDaiAddress) {
        // check and bound the DAI/USDC posted price ratio
        //  and use that to scale the maker price (for a token w/ 18 decimals)
        uint makerUsdPrice = v1PriceOracle.assetPrices(makerUsdOracleKey);
        uint postedUsdcPrice = v1PriceOracle.assetPrices(usdcOracleKey);
        uint postedScaledDaiPrice = v1PriceOracle.assetPrices(saiOracleKey).mul(1e12);
        uint daiUsdcRatio = postedScaledDaiPrice.mul(1e18).div(postedUsdcPrice);
        if (daiUsdcRatio < 0.95e18) { return makerUsdPrice.mul(0.95e18).div(1e18); }
        if (daiUsdcRatio > 1.05e18) { return makerUsdPrice.mul(1.05e18).div(1e18); }
        return makerUsdPrice.mul(daiUsdcRatio).div(1e18);
    }

(the two ``if`` bodies on one line here). ``makerUsdOracleKey`` is SAI's token address, under which the v1 oracle
holds Maker's USD/ETH price; the posted DAI (key ``address(2)``) and USDC (``address(1)``) prices are the poster's
market prices. In USD: USDC at $1 (the ``fixed_usd`` flag) and DAI, and SAI, at its market price over USDC's
clamped into [0.95, 1.05]. One price serves the borrow and the collateral side (the Comptroller's
``getHypotheticalAccountLiquidity`` reads ``getUnderlyingPrice`` for both). The next proxy (``eee83bc``, 12 March
2020, deployed in block 9788084) and the one after it (``cce8c88``, "Tether Support", deployed with cUSDT in block
9879366) dropped the band: DAI at its posted price, SAI frozen by the guardian, USDT at USDC's key. A cohort's
``collateral_oracle`` or ``debt_oracle`` ``band:LOW:HIGH`` reads, at every lag,

.. math:: P^o_{token,i} = \text{peg}\cdot\min(\max(P^o_{token} / \text{peg},\ \text{LOW}),\ \text{HIGH}),

the token's oracle price (lagged as every oracle is) clamped into the band around its USD peg (``peg_target`` of
a token whose ``peg_unit`` is USD): the market inside the band, its edge outside. The proxy's ratio is to USDC's
posted price, the engine's to the peg [assumption: USDC at $1, as it traded in March 2020 and as it stays in the
shipped scenarios of that snapshot]. On 12-13 March 2020 DAI traded at 1.06-1.12: read at 1.05, a DAI borrower's
debt weighs up to 1.12 / 1.05 = 6.7% less than at the market; liquidators who repay it at 1.05 buy it at the
market (:func:`core.engine.capital.debt_cost`) and weigh the cohort "apart", as a fixed price
(:func:`~core.engine.limits.liquidation_margin`). Worked numbers: ``tests/test_band_oracle.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

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
    """The cohorts whose protocol prices their collateral or their debt apart from its market (module docstring,
    "Fixed-price oracles", "Another asset's price" and "Banded market prices"): for each side the columns, (m,),
    and their fixed prices, (1, m); where a column reads an asset's oracle price (another's, or its own within a
    band), ``*_ref`` holds that asset's index (-1 where fixed) and ``*_ratio`` the reference ratio (1 for its own;
    None on a side with no such column: every price fixed); where a column's price is banded, ``*_band`` holds
    the band's USD edges, (2, m) (-inf and inf on the columns without one; None on a side with no band)."""

    coll_cols: np.ndarray
    coll_price: np.ndarray
    debt_cols: np.ndarray
    debt_price: np.ndarray
    coll_ref: np.ndarray | None = None
    coll_ratio: np.ndarray | None = None
    debt_ref: np.ndarray | None = None
    debt_ratio: np.ndarray | None = None
    coll_band: np.ndarray | None = None
    debt_band: np.ndarray | None = None

    @property
    def cohorts(self) -> np.ndarray:
        """The cohorts with either side apart from the market (column indices, sorted)."""
        return np.union1d(self.coll_cols, self.debt_cols)

    def take(self, cols: np.ndarray) -> FixedOracle | None:
        """The same oracle seen through the cohorts ``cols`` (a view's columns: :class:`~core.engine.cohort_views.
        Cohorts`); None where none of them is priced apart."""
        cols = np.asarray(cols)

        def side(fixed: np.ndarray, price: np.ndarray, ref: np.ndarray | None, ratio: np.ndarray | None,
                 band: np.ndarray | None):
            # the view's columns among the side's (sorted: np.flatnonzero's), their prices, references and bands
            pos = np.minimum(np.searchsorted(fixed, cols), max(len(fixed) - 1, 0))
            where = np.flatnonzero(fixed[pos] == cols) if len(fixed) else np.zeros(0, int)
            at = pos[where]
            kept = ref is not None and ratio is not None and bool((ref[at] >= 0).any())
            banded = kept and band is not None and bool(np.isfinite(band[:, at]).any())
            return (where, price[:, at], ref[at] if kept else None,  # type: ignore[index]
                    ratio[at] if kept else None, band[:, at] if banded else None)  # type: ignore[index]

        cc, cp, cr, cq, cb = side(self.coll_cols, self.coll_price, self.coll_ref, self.coll_ratio, self.coll_band)
        dc, dp, dr, dq, db = side(self.debt_cols, self.debt_price, self.debt_ref, self.debt_ratio, self.debt_band)
        return FixedOracle(cc, cp, dc, dp, cr, cq, dr, dq, cb, db) if cc.size or dc.size else None

    @staticmethod
    def _at(price: np.ndarray, ref: np.ndarray | None, ratio: np.ndarray | None, Po: np.ndarray | None,
            band: np.ndarray | None = None) -> np.ndarray:
        """One side's prices to the protocol: the fixed ones, (1, m), or with the referenced columns at their
        reference ratio times the reference asset's oracle price, clamped into their band where they have one,
        (S, m)."""
        if ref is None or ratio is None:
            return price
        if Po is None:
            raise ValueError("a cohort priced at another asset's price needs the oracle's prices (Po)")
        read = ref >= 0
        at = np.take(Po, np.where(read, ref, 0), axis=1) * ratio[None]
        if band is not None:  # the band's edges, (2, m): -inf and inf leave a column as it is (the same bits)
            at = np.minimum(np.maximum(at, band[0][None]), band[1][None])
        return np.where(read[None], at, price)

    def prices(self, Pc: np.ndarray, Pd: np.ndarray, Po: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Each cohort's collateral and debt price to its protocol, (S, c) each: ``Pc`` and ``Pd`` with the columns
        priced apart at their price (``Po``: the oracle's prices, (S, k), read where a column reads another asset's
        price; new arrays where a column changes)."""
        if self.coll_cols.size:
            Pc = Pc.copy()
            Pc[:, self.coll_cols] = self._at(self.coll_price, self.coll_ref, self.coll_ratio, Po, self.coll_band)
        return Pc, self.debt_prices(Pd, Po)

    def debt_prices(self, Pd: np.ndarray, Po: np.ndarray | None = None) -> np.ndarray:
        """Each cohort's debt price to its protocol, (S, c): ``Pd`` with the debt columns priced apart at their price
        (:meth:`prices`' debt side; ``Pd`` itself where none is)."""
        if not self.debt_cols.size:
            return Pd
        Pd = Pd.copy()
        Pd[:, self.debt_cols] = self._at(self.debt_price, self.debt_ref, self.debt_ratio, Po, self.debt_band)
        return Pd

    def gaps(self, P: np.ndarray, ca: np.ndarray, da: np.ndarray, coll_gap: np.ndarray,
             debt_gap: np.ndarray, Po: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Liquidators' log gaps between market and oracle, ``ln(P^m / P^o)``, of each cohort's collateral and debt
        (:func:`~core.engine.limits.liquidation_margin`), the columns priced apart against their price (in place:
        the caller's own gathers; ``Po`` as in :meth:`prices`)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.coll_cols.size:
                coll_gap[:, self.coll_cols] = np.log(P[:, ca[self.coll_cols]] / self._at(
                    self.coll_price, self.coll_ref, self.coll_ratio, Po, self.coll_band))
            if self.debt_cols.size:
                debt_gap[:, self.debt_cols] = np.log(P[:, da[self.debt_cols]] / self._at(
                    self.debt_price, self.debt_ref, self.debt_ratio, Po, self.debt_band))
        return coll_gap, debt_gap


#: The values of the cohorts' ``collateral_oracle`` and ``debt_oracle`` columns (core.schema), and the prefixes of
#: ``asset:SYMBOL``, a token read at another asset's price, and ``band:LOW:HIGH``, its own price within a band
#: around its peg (module docstring, "Another asset's price" and "Banded market prices").
MARKET, FIXED_USD, ASSET_PREFIX, BAND_PREFIX = "market", "fixed_usd", "asset:", "band:"


def referenced_symbol(value: object) -> str | None:
    """The asset an oracle value ``asset:SYMBOL`` names (``SYMBOL``); None for any other value."""
    if isinstance(value, str) and value.startswith(ASSET_PREFIX):
        return value[len(ASSET_PREFIX):]
    return None


def band_edges(value: object) -> tuple[float, float] | None:
    """The band an oracle value ``band:LOW:HIGH`` names, ``(LOW, HIGH)`` as multiples of the peg; None for any
    other value. ValueError where it is malformed: not two numbers, or not ``0 < LOW <= HIGH`` and finite."""
    if not (isinstance(value, str) and value.startswith(BAND_PREFIX)):
        return None
    try:
        low, high = (float(x) for x in value[len(BAND_PREFIX):].split(":"))
    except ValueError:
        raise ValueError(f"{value!r}: {BAND_PREFIX}LOW:HIGH with LOW and HIGH two numbers") from None
    if not (np.isfinite(low) and np.isfinite(high) and 0.0 < low <= high):
        raise ValueError(f"{value!r}: {BAND_PREFIX}LOW:HIGH with 0 < LOW <= HIGH, finite")
    return low, high


def compile_fixed_oracle(cohorts, ca: np.ndarray, da: np.ndarray, style: np.ndarray, peg_target: np.ndarray,
                         peg_unit: np.ndarray, maker_style: int, symbols: np.ndarray | None = None,
                         P0: np.ndarray | None = None) -> FixedOracle | None:
    """The network's :class:`FixedOracle` from its cohorts table (the columns absent or all ``market``: None, and
    the engine reads every oracle as before). The fixed price is the token's peg: its ``peg_target`` where its
    ``peg_unit`` is USD (validation rejects ``fixed_usd`` on any other token, and on a Maker-style cohort, whose
    OSM reads the market; :mod:`core.oracle_checks`). ``asset:SYMBOL`` reads the asset ``SYMBOL`` of
    ``symbols`` at the ratio of the reference prices ``P0`` (validation rejects an unknown symbol).
    ``band:LOW:HIGH`` reads the token's own oracle price (ratio 1) clamped into ``[LOW, HIGH]`` times its USD peg
    (validation rejects a malformed band, a token with no USD peg and a Maker-style cohort)."""
    usd_peg = np.where(peg_unit == -1, peg_target, np.nan)
    index = {} if symbols is None else {str(s): i for i, s in enumerate(symbols)}
    sides: list[tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray | None]] = []
    for column, asset in (("collateral_oracle", ca), ("debt_oracle", da)):
        values = cohorts[column].to_numpy(dtype=object) if column in cohorts else np.full(len(ca), MARKET, object)
        codes, distinct = pd.factorize(values)  # read each distinct value once (a positions table has 1e6 rows)
        named = [referenced_symbol(v) for v in distinct]
        ref_of = np.array([-1 if s is None else index.get(s, -2) for s in named] + [-1], dtype=int)  # code -1: NaN
        edges = [band_edges(v) for v in distinct]
        band_of = np.array([(np.nan, np.nan) if e is None else e for e in edges] + [(np.nan, np.nan)], float)
        ref_all = ref_of[codes]
        unknown = np.flatnonzero(ref_all == -2)
        if unknown.size:
            raise ValueError(f"cohorts {list(cohorts['id'].iloc[unknown])}: {column} names an asset not in the network")
        band_all = band_of[codes]  # (n, 2): NaN where no band
        banded_all = np.isfinite(band_all[:, 0])
        flag = (values == FIXED_USD) | (ref_all >= 0) | banded_all
        cols = np.flatnonzero(flag & (style != maker_style))
        banded = banded_all[cols]
        ref = np.where(banded, asset[cols], ref_all[cols])  # a banded token reads its own oracle price
        fixed = ref < 0
        price = np.where(fixed, usd_peg[asset[cols]], np.nan)
        if not np.isfinite(price[fixed]).all():
            bad = cols[fixed & ~np.isfinite(price)]
            raise ValueError(f"cohorts {list(cohorts['id'].iloc[bad])}: {column} fixed_usd on a token with no USD peg")
        band = None
        if banded.any():
            peg = usd_peg[asset[cols]]
            if not np.isfinite(peg[banded]).all():
                bad = cols[banded & ~np.isfinite(peg)]
                raise ValueError(f"cohorts {list(cohorts['id'].iloc[bad])}: {column} band on a token with no USD peg")
            band = np.where(banded[None], band_all[cols].T * peg[None], [[-np.inf], [np.inf]])  # (2, m) USD edges
        if fixed.all():
            sides.append((cols, price[None].astype(float), None, None, None))
        else:
            assert P0 is not None
            ratio = np.where(fixed, np.nan, np.where(banded, 1.0, P0[asset[cols]] / P0[np.maximum(ref, 0)]))
            sides.append((cols, price[None].astype(float), ref, ratio, band))
    if not (sides[0][0].size or sides[1][0].size):
        return None
    (cc, cp, cr, cq, cb), (dc, dp, dr, dq, db) = sides
    return FixedOracle(cc, cp, dc, dp, cr, cq, dr, dq, cb, db)


def fixed_oracle(c: Compiled) -> FixedOracle | None:
    """The network's (or a cohort view's) oracles priced apart from the market; None where no cohort has one (a
    stand-in network without the field too)."""
    return getattr(c, "fixed_oracle", None)


def cohort_oracle_prices(c: Compiled, Pc: np.ndarray, Pd: np.ndarray,
                         Po: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each cohort's collateral and debt price at its protocol's oracle, (S, c) each: ``Pc`` and ``Pd`` (the
    oracle's prices gathered per cohort, :func:`~core.engine.books.debt_price`'s for the debt) with the fixed
    ones at their fixed USD value and those read at another asset's price at it (``Po``, (S, k): the oracle's
    prices of every asset); themselves where no cohort has one. The liquidation step's
    (:func:`core.engine.liquidate.liquidate`)."""
    fixed = fixed_oracle(c)
    return (Pc, Pd) if fixed is None else fixed.prices(Pc, Pd, Po)
