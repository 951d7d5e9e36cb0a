r"""Bad debt in its debt token's units, valued at the token's reference price: beside bad debt marked at the round's prices.

Model. A protocol's bad debt is a shortfall in the token its loans were made in: its lenders are owed that
token, and a cohort's shortfall is so many units of it (Aave v3.3 burns a bad debtor's variable-debt tokens and
accounts the deficit to the reserve, in the reserve's own token; Compound v2's reserves are per cToken). The
engine books it two ways, from the same units:

* **marked** (``BatchResult.bad_debt``, ``bad_debt_usd`` in tables): the units at the round's prices, as every
  other balance is marked (:func:`~core.engine.books.booked_bad_debt`,
  :func:`~core.engine.books.unbooked_bad_debt`): what the shortfall costs the lenders today;
* **at reference prices** (``BatchResult.bad_debt_reference_usd``, ``bad_debt_reference_usd`` in tables): the
  same units at the debt token's reference price, :func:`reference_debt_price` (a token pegged to the dollar at
  its peg, a protocol's own stablecoin at its peg, any other token at its snapshot price ``P0``): the quantity a
  lender's risk team tracks ("179.30M UST short"), which does not move with the debt token's own price.
  It also counts, and the marked measure does not, what DAI's holders are left short when Maker's End shuts the
  system down at a tag above the market (decision 23; "Maker's cage" below).

Their difference, reference less marked (``BatchResult.bad_debt_token_fall_usd``), is the part of the
shortfall the debt token's own fall takes off its dollar value: a real gain to the debtor (issue 11's
exception), not less bad debt; where End caged Maker above the market it also holds what End leaves DAI's holders. A deeper shock that leaves more of a loan unpaid while its debt token falls
further shows less marked bad debt and more bad debt at reference prices: on crypto-2022-05 with Anchor's bid
queue, ANCHOR's UST shortfall rose 176.61M -> 179.30M UST while UST fell 25.9%, and marked bad debt fell
$67.1M (``monotone-shipped-anchor-queue-ust-bad-debt``). The monotone invariant on bad debt
(``tests/invariants_support.py``) therefore reads the reference measure.

Maker's cage (decision 23). End's ``cage`` fixes each ilk's ``tag`` at the OSM's price (``pip``, lagged where the
scenario lags its oracle; decision 8) and ``skim`` books a gap at that tag; where the tag is above the market the
collateral End holds for DAI's holders is worth less than the debt it cancelled past that gap, and DAI's holders
(Maker's creditors) bear the rest through ``end.cash`` (makerdao/dss ``end.sol``: ``cage(ilk)``, ``skim``,
``flow``, ``cash``). Its units (``maker_end_left``, :func:`~core.engine.maker_end.left_to_holders`) are counted
here beside ``bad_units``, so Maker's bad debt at reference is what it leaves unpaid to its creditors; the marked
measure and the engine's losses and prices are not moved by it. A tag below the market counts 0, and nothing is
netted across ilks.

Units. A liquidation's booked shortfall is kept in units when it is booked (``bad_units``,
:func:`~core.engine.books.booked_units`), at the debt token's price to its protocol's oracle, ``Pdo``
(:func:`core.engine.liquidate.liquidate`: ``booked_units(bad_debt, Pdo)``). A loan still under water is short
the units its protocol's own liquidation would book (candidate decision (debtoracle)): its debt less its
collateral at the market, converted at the debt token's price to its protocol's oracle,

.. math:: u = \max\left(D - \frac{C\,P_{coll}}{P^o_{debt}},\ 0\right)
            = \frac{\max(D\,P^o_{debt} - C\,P_{coll},\ 0)}{P^o_{debt}},

with :math:`P^o_{debt}` the debt token's price to its protocol (:func:`protocol_debt_price`: a protocol's own
stablecoin at its peg, :func:`~core.engine.books.debt_price`; a ``debt_oracle`` ``fixed_usd`` at its peg, an
``asset:SYMBOL`` one at the reference asset's price, a banded one in its band, :mod:`core.engine.oracle`; else the
market). Collateral stays at the market: it is what the lender recovers (a fixed collateral oracle leaves the
lender holding the loss at the market, :mod:`core.engine.oracle`). Where the protocol prices the debt at the
market this is the collateral sold at the market buying back ``collateral x price / debt price`` units, as
before; where its oracle fixes the debt at $1 the loan is short its debt less its collateral's dollars, in
units, whatever the coin trades at. Anchor's overseer weighs a loan at $1 a UST (``compute_borrow_limit``:
collateral x the oracle's ``uusd`` rate x ``max_ltv`` against ``loan_amount`` in uusd, money-market-contracts
``e8853fa``, ``contracts/overseer/src/collateral.rs`` 152, 240-272; :mod:`core.engine.oracle`), SparkLend's DAI
"uses a fixed price of 1.00 USD, and does not deviate even if the market price of DAI deviates from this value"
(docs.spark.fi, "Using SparkLend / Oracles"): counted at the market cross rate instead, the same loan was short
more units once liquidated than left under water, and a deeper shock that sank UST faster than the collateral
cut the units short (Session 45 (defender): ``monotone-shipped-cel-13-19-...-capital-50m``, ANCHOR's bLUNA loans
$528.02M -> $524.11M at UST 0.5884 -> 0.4256; at Anchor's own $1, $679.5M -> $737.7M).

The oracle read at the round's close is unlagged (``P``, the close's prices, through the same oracle rule): a
liquidation books at the lagged oracle because the protocol acts on the price it has then; a loan not liquidated
is measured at the close, against its collateral at the close's market price, and the debt's price to its
protocol is taken at the same instant (a fixed oracle is the peg at every lag; a market-priced debt keeps the
close's price, so only debt priced apart moves). A lagged debt price against a current collateral price would
count a shortfall at no one instant's prices.

A collateral at the price floor covers no units (:func:`floored_cover`). The cascade holds every price at or above
``PRICE_FLOOR x P0`` (:data:`core.mechanisms.market.PRICE_FLOOR`, :func:`core.engine.defend.floor_prices`: "a token
can become worthless, not free of sign"), so a price at the floor is a bound on a worthless token, not a price at
which anything trades; where the debt token is near its own floor the ratio of the two bounds is their snapshot
ratio, and the worthless collateral would cover ``P0 collateral / P0 debt`` units each. Such a loan is short
``debt`` units, its whole debt: ``units = debt`` where ``collateral price <= PRICE_FLOOR x P0 collateral``, else
the formula above. (Session 45 (shortfall), ``s44-terraedge-...-bad-debt``: on crypto-2022-05 at the close ANCHOR's
bLUNA is at its floor, 7.7e-11, at both depths; UST closes at 9.7e-10, then at its floor 1e-12 a deeper shock on,
so each bLUNA covered 0.079 UST, then 77: ANCHOR's bLUNA loans counted 1,069.56M UST short, then 0 of the 925.01M
still owed, a $917.05M fall; counted whole, 1,071.84M, then 1,077.52M.) Where the debt's oracle is fixed (Anchor's
UST, that example) the rule above already counts such a loan short all but ``collateral x PRICE_FLOOR x P0`` units
(a price over the peg, not over a bound): there the floor rule moves the units by that much at most, and it is
needed for a debt priced at the market, whose own floor makes the ratio of two bounds; it stays one rule for
every cohort. The marked measure is not moved: the
floored collateral's dollars are ``collateral x PRICE_FLOOR x P0``, the bound itself, and the debt token's price
marks them.
[Aave v3.3 bad debt management:
https://github.com/aave-dao/aave-v3-origin/blob/main/docs/3.3/Aave-v3.3-features.md; a monetary item in another
currency at the closing rate (marked) against its historical rate (reference): IAS 21.23]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..mechanisms.market import PRICE_FLOOR
from .books import booked_units, debt_price
from .memo import per_network
from .oracle import fixed_oracle

if TYPE_CHECKING:
    from .compiled import Compiled


def reference_debt_price(c: Compiled) -> np.ndarray:
    """Reference price of each cohort's debt token, (c,): its peg where it is pegged to the dollar (a protocol's
    own stablecoin: its peg, as :func:`~core.engine.books.debt_price` counts it), else its snapshot price ``P0``."""
    return per_network(c, "reference_debt_price", lambda: _reference_debt_price(c))


def _reference_debt_price(c: Compiled) -> np.ndarray:
    usd_pegged = (c.peg_unit == -1) & np.isfinite(c.peg_target)
    ref = np.where(usd_pegged, np.nan_to_num(c.peg_target), c.P0)[c.c_da]
    return np.where(c.c_self_issued, c.c_peg, ref)


def protocol_debt_price(c: Compiled, P: np.ndarray) -> np.ndarray:
    """Each cohort's debt token at its protocol's oracle at prices ``P``, unlagged, (S, c): a protocol's own coin
    at its peg (:func:`~core.engine.books.debt_price`), a debt priced apart at its oracle's price (the peg where
    ``debt_oracle`` is ``fixed_usd``: :meth:`~core.engine.oracle.FixedOracle.debt_prices`), else the market;
    :func:`~core.engine.books.debt_price`'s own array where no cohort's debt is priced apart."""
    fixed = fixed_oracle(c)
    Pd = debt_price(c, P)
    return Pd if fixed is None else fixed.debt_prices(Pd, P)


def _debt_priced_apart(c: Compiled) -> bool:
    """Whether some cohort's debt is priced apart from the market by its protocol's oracle."""
    fixed = fixed_oracle(c)
    return fixed is not None and bool(fixed.debt_cols.size)


def cohort_bad_units(c: Compiled, P: np.ndarray, coll: np.ndarray, debt: np.ndarray, bad_units: np.ndarray,
                     short: np.ndarray | None = None) -> np.ndarray:
    """Each cohort's bad debt in units of its debt token at prices ``P``, (S, c): booked by liquidations
    (``bad_units``) plus the units short on its loans still under water, ``max(debt x Pdo - collateral x price, 0)
    / Pdo`` at the debt's price to its protocol (:func:`protocol_debt_price`; module docstring). ``short``: the
    cohorts' :func:`~core.engine.books.underwater_shortfall` (at the market debt price), used as it is where no
    debt is priced apart."""
    Pdo = protocol_debt_price(c, P)
    if short is None or _debt_priced_apart(c):
        short = np.maximum(debt * Pdo - coll * np.take(P, c.c_ca, axis=1), 0.0)  # underwater_shortfall's at Pdo
    short = floored_cover(c, P, debt, short, Pdo)
    if not short.any():
        return bad_units
    return bad_units + booked_units(short, Pdo)


def floored_cover(c: Compiled, P: np.ndarray, debt: np.ndarray, short: np.ndarray, Pdo: np.ndarray) -> np.ndarray:
    """The cohorts' shortfall in USD at the debt token's price to its protocol ``Pdo``, (S, c), with a collateral at
    the price floor covering nothing: ``debt x Pdo`` where ``collateral price <= PRICE_FLOOR x P0`` (a bound, not
    a price: module docstring), ``short`` elsewhere; ``short`` itself where no collateral is at its floor."""
    floored = np.take(P, c.c_ca, axis=1) <= per_network(c, "collateral_floor", lambda: PRICE_FLOOR * c.P0[c.c_ca])[None]
    if not floored.any():
        return short
    return np.where(floored & (debt > 0), debt * Pdo, short)


def reference_bad_debt(c: Compiled, P: np.ndarray, coll: np.ndarray, debt: np.ndarray, bad_units: np.ndarray,
                       short: np.ndarray | None = None) -> np.ndarray:
    """Each protocol's bad debt at reference prices, (S, n): ``sum over its cohorts of units short x reference
    price`` (:func:`cohort_bad_units`, :func:`reference_debt_price`); ``short``: the cohorts'
    :func:`~core.engine.books.underwater_shortfall` at these arguments, when the caller has it."""
    units = cohort_bad_units(c, P, coll, debt, bad_units, short)
    if not units.any():
        return np.zeros((P.shape[0], c.n))
    return c.by_proto(units * reference_debt_price(c)[None])
