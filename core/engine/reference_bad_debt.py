"""Bad debt in its debt token's units, valued at the token's reference price: beside bad debt marked at the round's prices.

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
:func:`~core.engine.books.booked_units`); a loan still under water is short
``max(debt x debt price - collateral x price, 0) / debt price`` units
(:func:`~core.engine.books.underwater_shortfall` at the token's price to its protocol,
:func:`~core.engine.books.debt_price`): its collateral, sold at the market, buys back
``collateral x price / debt price`` of the units owed, as a liquidation at those prices would repay them.

A collateral at the price floor covers no units (:func:`floored_cover`). The cascade holds every price at or above
``PRICE_FLOOR x P0`` (:data:`core.mechanisms.market.PRICE_FLOOR`, :func:`core.engine.defend.floor_prices`: "a token
can become worthless, not free of sign"), so a price at the floor is a bound on a worthless token, not a price at
which anything trades; where the debt token is near its own floor the ratio of the two bounds is their snapshot
ratio, and the worthless collateral would cover ``P0 collateral / P0 debt`` units each. Such a loan is short
``debt`` units, its whole debt: ``units = debt`` where ``collateral price <= PRICE_FLOOR x P0 collateral``, else
the formula above. (Session 45 (shortfall), ``s44-terraedge-...-bad-debt``: on crypto-2022-05 at the close ANCHOR's
bLUNA is at its floor, 7.7e-11, at both depths; UST closes at 9.7e-10, then at its floor 1e-12 a deeper shock on,
so each bLUNA covered 0.079 UST, then 77: ANCHOR's bLUNA loans counted 1,069.56M UST short, then 0 of the 925.01M
still owed, a $917.05M fall; counted whole, 1,071.84M, then 1,077.52M.) The marked measure is not moved: the
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
from .books import booked_units, debt_price, underwater_shortfall
from .memo import per_network

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


def cohort_bad_units(c: Compiled, P: np.ndarray, coll: np.ndarray, debt: np.ndarray, bad_units: np.ndarray,
                     short: np.ndarray | None = None) -> np.ndarray:
    """Each cohort's bad debt in units of its debt token at prices ``P``, (S, c): booked by liquidations
    (``bad_units``) plus the shortfall of its loans still under water."""
    short = underwater_shortfall(c, P, coll, debt) if short is None else short
    short = floored_cover(c, P, debt, short)
    if not short.any():
        return bad_units
    return bad_units + booked_units(short, debt_price(c, P))


def floored_cover(c: Compiled, P: np.ndarray, debt: np.ndarray, short: np.ndarray) -> np.ndarray:
    """The cohorts' shortfall in USD at the debt token's price, (S, c), with a collateral at the price floor covering
    nothing: ``debt x debt price`` where ``collateral price <= PRICE_FLOOR x P0`` (a bound, not a price: module
    docstring), ``short`` (:func:`~core.engine.books.underwater_shortfall`) elsewhere; ``short`` itself where no
    collateral is at its floor."""
    floored = np.take(P, c.c_ca, axis=1) <= per_network(c, "collateral_floor", lambda: PRICE_FLOOR * c.P0[c.c_ca])[None]
    if not floored.any():
        return short
    return np.where(floored & (debt > 0), debt * debt_price(c, P), short)


def reference_bad_debt(c: Compiled, P: np.ndarray, coll: np.ndarray, debt: np.ndarray, bad_units: np.ndarray,
                       short: np.ndarray | None = None) -> np.ndarray:
    """Each protocol's bad debt at reference prices, (S, n): ``sum over its cohorts of units short x reference
    price`` (:func:`cohort_bad_units`, :func:`reference_debt_price`); ``short``: the cohorts'
    :func:`~core.engine.books.underwater_shortfall` at these arguments, when the caller has it."""
    units = cohort_bad_units(c, P, coll, debt, bad_units, short)
    if not units.any():
        return np.zeros((P.shape[0], c.n))
    return c.by_proto(units * reference_debt_price(c)[None])
