r"""The margin a perpetuals venue takes from its named accounts: out of their claim on it, or out of their holdings.

Split out of :mod:`core.engine.perps` (its accounting: a named account, liquidated). A round's perps step closes a
liquidated account's positions and takes its margin units, all of them, or at auto-deleveraging beyond its profit
the share of its equity taken (:func:`core.perps_round.perps_round`, ``margin_units_after``). Where those units sit
decides whose books they leave:

* **Within the account's in-kind claim on the venue** (its customer balance, ``exposures``: ABC's USDC on
  Hyperliquid): the venue holds the units for it. The claim is cut by their reference value (``perps_lost``, booked
  by the perps step as a transfer at the venue's paid ratio), and the venue's holdings of the token lose the units,
  handed to the winners; USD margin leaves the venue's assets as USD (session 26 (owed)).
* **Beyond the claim** (margin the account holds outside the venue's books, which the venue counts as posted:
  Ethena's BTC, ETH and SOL with off-exchange settlement custodians, :mod:`core.engine.perps_pledged`): the units
  :math:`u` leave the *account's own holdings*, :math:`H'_{i,a} = H_{i,a} - u`, in the same step. The clearing
  marks what is left, so the account's loss is the units at the close, once, and no later price moves units it no
  longer has. Any units beyond what the account holds (margin rows that count more than the holdings) are written
  off from ``perps_value`` at the index price.
* **USD margin beyond the claim** (Wintermute's, in its other assets ``oa``) leaves those other assets, the dollars
  the venue took, :math:`O' = O - t` with :math:`t = \min(u, O^+)`: out of their liquid part first (USD margin is
  cash or stablecoins posted at the venue), then out of the illiquid book (:func:`usd_out_of_other_assets`;
  decision 14, docs/invariants.md, session 33 (seizedusd)). So the clearing, a default's :math:`\alpha` on the
  other assets, a forced failure's recovery share, the runs' cash and the estate's sale of its book all see what
  is left. Dollars beyond what the other assets hold are written off from ``perps_value``, as units are.

Sources. A liquidated account's margin is the venue's: Binance closes the positions and "a portion of the remaining
collateral (if any) will go to the Insurance Fund", and a bankrupt account's deficit is covered by the fund (Binance
Futures, "Liquidation Protocols"; "Insurance Fund", FAQ 360033525371); Hyperliquid's backstop liquidation leaves a
cross account with "zero account equity" (Hyperliquid docs, "Liquidations"). Collateral posted through off-exchange
settlement is the same collateral: delegated units are locked at the custodian for the exchange and the P&L is
settled there on each cycle, the client's locked units paying the exchange's claim (Copper developer guide,
"ClearLoop", "Delegate (lock) funds"; Ethena docs, "Off-Exchange Settlement in detail"). So the seized units leave
the holder, as a claim's units leave the venue. The value goes where the venue's waterfall sends it (the winners,
the fund or the vault: :mod:`core.engine.perps`), from the margin the venue counted.

USD-margined perpetuals are margined in stablecoins the venue holds: Binance's USDS-M futures in USDT or USDC
(Binance Futures, "USDS-M Futures"), Hyperliquid's perps in the USDC of the account's perp balance (Hyperliquid
docs, "Margining"); so the cash leaves first.

Before, the units beyond the claim were written off at the index price of the perps step while they stayed in the
holder's holdings: marked at every later close and sold by its estate, they were value created when the price rose
again and a loss counted twice when it fell, and a later forced failure lost them again (docs/invariants.md,
session 33 (seized): on the perps example with a market maker's 5x BTC long margined with 20 BTC it held, its
equity after the seizure moved by 20 BTC times every later move of BTC, +$298,290.77 on a rebound from -20 % to
-5 %). USD margin beyond the claim was written off from ``perps_value`` while the dollars stayed in ``oa``: a
later default's :math:`\alpha` took a share of them again, and a later forced failure lost them again (session 33
(seizedusd): on the same example margined with 1.6M USD, -1.72M after the default instead of -1.4M).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .compiled import Compiled
    from .state import CascadeState

__all__ = ["seize_margin", "usd_out_of_other_assets"]


def seize_margin(c: Compiled, s: CascadeState, units_taken: np.ndarray, P: np.ndarray, lost0: np.ndarray,
                 value: np.ndarray) -> np.ndarray:
    """The named accounts' margin units the round took, ``units_taken`` (S, named rows), out of their claims and
    holdings (the module docstring): returns the claims cut so far, reference USD (S, pairs: ``lost0`` plus this
    round's cut, at most each claim); in place, ``s.H`` (units leave the accounts beyond their claims, and the
    venues within them), ``s.oa`` and ``s.illiquid`` (USD margin beyond the claims leaves the accounts' other
    assets: :func:`usd_out_of_other_assets`) and ``value`` (S, n: units beyond the holdings, written off at ``P``,
    and USD margin beyond the other assets; USD margin within a claim leaves the venue's)."""
    pc = c.perps
    assert pc is not None
    si, rj = np.nonzero(units_taken > 0)
    j = pc.named_rows[rj]
    a = pc.margin_asset[j]
    token = a >= 0
    u = units_taken[si, rj]
    ref = u * np.where(token, c.P0[np.maximum(a, 0)], 1.0)
    asked = np.zeros_like(lost0)
    np.add.at(asked, (si, pc.row_pair[rj]), ref)
    lost = np.minimum(lost0 + asked, pc.pair_claim[None])
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(asked > 0, (lost - lost0) / np.where(asked > 0, asked, 1.0), 0.0)
    within = share[si, pc.row_pair[rj]]
    # beyond the claim: the units leave the account's own holdings (the clearing marks the loss at the close)
    holder, beyond = pc.row_entity[j], (1.0 - within) * u
    taken_out = np.zeros_like(s.H)
    np.add.at(taken_out, (si[token], holder[token], a[token]), beyond[token])
    from_holdings = np.minimum(taken_out, np.maximum(s.H, 0.0))
    s.H -= from_holdings  # in place: the state owns its holdings
    # units the account no longer holds, written off at the index price
    value -= np.einsum("snk,sk->sn", taken_out - from_holdings, P)
    # USD margin beyond the claim: out of the account's other assets, cash first, then the illiquid book (decision 14)
    usd = np.zeros_like(s.oa)
    np.add.at(usd, (si[~token], holder[~token]), beyond[~token])
    if usd.any():
        value -= usd - usd_out_of_other_assets(s, usd)
    # within the claim: the venue hands the units it held for the account to the winners, and USD margin as USD
    venue, seized = pc.venue_entity[pc.pb.book.venue[j]], np.zeros_like(s.H)
    np.add.at(seized, (si[token], venue[token], a[token]), (within * u)[token])
    s.H -= np.minimum(seized, np.maximum(s.H, 0.0))
    np.add.at(value, (si[~token], venue[~token]), -(within * u)[~token])
    return lost


def usd_out_of_other_assets(s: CascadeState, usd: np.ndarray) -> np.ndarray:
    r"""USD margin ``usd`` (S, n) a venue took beyond the accounts' claims, out of their other assets: returns what
    left them (S, n), :math:`t = \min(u, O^+)`; in place, ``s.oa`` (:math:`O' = O - t`) and ``s.illiquid``.

    USD margin is cash or stablecoins posted at the venue, so it comes out of the account's liquid part first,
    :math:`\ell = O^+ - B` with :math:`B = \min(I, O^+)` its illiquid book (as the runs step and the estate read
    them), and out of the book only beyond it: :math:`I' = I - \max(t - \ell, 0)`. The liquid part falls by
    :math:`\min(t, \ell)`: what a run can be paid from, and what an estate holds as cash, no longer counts it. What
    the account's other assets do not hold (:math:`u - t`) the caller writes off, as for units beyond the holdings."""
    held = np.maximum(s.oa, 0.0)
    taken = np.minimum(usd, held)
    liquid = held - np.minimum(s.illiquid, held)
    s.oa -= taken  # in place: the state owns them (core.engine.exogenous copies them each round)
    s.illiquid -= np.maximum(taken - liquid, 0.0)
    return taken
