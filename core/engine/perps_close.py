r"""The named accounts' open perpetuals at the close: marked with the spot, and non-recourse past their margin.

Split out of :mod:`core.engine.perps` (its accounting: a named account, open position); the clearing adds what
:func:`marked_at_close` returns to the entities' outside assets (:func:`core.engine.clear.clear_books`).

Between a round's perps step and the next one a named account's open positions move with the close: the
round's forced sales can gap the market past an account's bankruptcy price before its venue liquidates it (the
next round's perps step). A perpetuals venue's margin is non-recourse: an account's loss beyond its margin is
the venue's, covered by its waterfall (backstop vault, insurance fund, then auto-deleveraging or a socialised
haircut), and its customer never owes a negative balance (BitMEX, "BitMEX Insurance Fund: Your Questions
Answered", 2020: "losing traders never owe more than the margin posted", and the fund "does not demand payments
from traders with negative account balances"; Binance, "Insurance Fund" (FAQ 360033525371): the fund covers
"losses when the client accounts go below 0 in value", so that "the profits of winning positions are paid out to
winning traders in full"; Hyperliquid docs, "Liquidations": a cross account backstop-liquidated by the
liquidator vault "ends up with zero account equity", and "Auto-deleveraging": an account whose value "becomes
negative" is closed against the winners, "ensuring that the platform has no bad debt"). So at the close each
(named account, venue) pair's PnL :math:`G` is floored at minus its margin :math:`M` on a venue that has not
failed, and the excess

.. math:: x = \max(-(G + M), 0)

is booked at that close as the venue's *provisional deficit*: the venue owes its winners their whole PnL, so
:math:`x` is borne where the venue's waterfall stands (:func:`close_deficit`: what is left of its backstop vault,
then of its insurance fund, then its winners, then the venue itself); the account books :math:`G + x = -M`, and
the shares of :math:`x` add up to it, so the account's loss, the venue's deficit and the winners' gain close at
every round. It is recomputed at each close, so it is replaced, not added to, when the venue's next perps step
liquidates the account and its waterfall pays the real deficit (from the fill, not the close: a vault's, a fund's
or ADL'd traders' loss, or the venue's uncovered loss). A run cut by its horizon at such a close counts
:math:`x` in its losses once, as the waterfall's. (Booked at the venue's own equity, a clearinghouse with none,
Hyperliquid's, defaulted on ABC's $1.148M in round 0, with HLP and ABC after it, while its ADL would have paid
it.) (Before, the excess was the account's debt, an outside liability in :func:`core.engine.books.outside_books`: Hyperliquid's ABC, whose only asset is
its $47.95M margin claim and who owes nothing, was marked $1.148M past it at round 0's close of
``monotone-2025-sol-68-alts-56-hype-38-sparklend-failed-wbtc-86-full-runs-lag1-liquidity-033-owed-defaults``'s
shallower run and defaulted, while the deeper run's perps step liquidated it before the gap and it did not:
12 -> 11 defaults.)

A failed venue's estate already caps a losing account at its margin (the set-off of
:func:`core.engine.perps_estate.estate_set_off`): no floor there.

The margin :math:`M` is what the venue takes at liquidation (:func:`core.engine.perps.perps`): the account's
margin units, within its remaining in-kind claim on the venue (its customer balance, cut by the margins already
lost) valued as the clearing values the claim, at the venue's in-kind index :math:`\lambda_v`, and beyond the
claim (margin the account holds elsewhere: Ethena's spot collateral, Wintermute's USD) at the close.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..mechanisms.perps_book import RULES
from ..mechanisms.memberships import transposed
from .perps import account_pnl, per_entity
from .perps_estate import pair_pnl

if TYPE_CHECKING:
    from .batch import ScenarioBatch
    from .compiled import Compiled
    from .perps import PerpsCompiled
    from .state import CascadeState

__all__ = ["CloseDeficit", "beyond_claim_share", "close_deficit", "marked_at_close", "pair_margin", "provisional_deficit"]

_VAULT = RULES.index("backstop_vault")


def _by_pair(pc: PerpsCompiled, x: np.ndarray) -> np.ndarray:
    """Sum (S, named rows) values over their (account, venue) pairs: (S, pairs), row-major."""
    return np.ascontiguousarray(np.asarray(transposed(pc.by_pair) @ x.T).T)


def pair_margin(pc: PerpsCompiled, units: np.ndarray, lost: np.ndarray, P0: np.ndarray, P: np.ndarray,
                lam: np.ndarray) -> np.ndarray:
    r"""Each (named account, venue) pair's margin at prices ``P``, (S, pairs): its margin ``units`` (S, N) at
    reference prices ``P0`` within its remaining claim (``pair_claim`` less ``lost``) times the venue's in-kind
    index (``lam``, (S, n)), and the share beyond the claim at ``P``, as :func:`core.engine.perps.perps` takes
    them at liquidation (the same share of every row)."""
    rows = pc.named_rows
    a = pc.margin_asset[rows]
    token = a >= 0
    u = units[:, rows]
    now = _by_pair(pc, u * np.where(token[None], P[:, np.maximum(a, 0)], 1.0))
    within, beyond = _claim_split(pc, units, lost, P0)
    return within * lam[:, pc.pair_venue] + beyond * now


def _claim_split(pc: PerpsCompiled, units: np.ndarray, lost: np.ndarray, P0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each pair's margin within its remaining claim (reference USD) and the share of its units beyond it, (S, pairs)."""
    rows = pc.named_rows
    a = pc.margin_asset[rows]
    token = a >= 0
    at_reference = _by_pair(pc, units[:, rows] * np.where(token, P0[np.maximum(a, 0)], 1.0)[None])
    within = np.minimum(at_reference, np.maximum(pc.pair_claim[None] - lost, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        beyond = np.where(at_reference > 0, 1.0 - within / np.where(at_reference > 0, at_reference, 1.0), 0.0)
    return within, beyond


def beyond_claim_share(pc: PerpsCompiled, units: np.ndarray, lost: np.ndarray, P0: np.ndarray) -> np.ndarray:
    """The share of each (named account, venue) pair's margin ``units`` (S, N) beyond its remaining in-kind claim on
    the venue (``pair_claim`` less ``lost``, at reference prices ``P0``), (S, pairs): margin the account holds outside
    the venue's books (:mod:`core.engine.perps_pledged`)."""
    return _claim_split(pc, units, lost, P0)[1]


def provisional_deficit(c: Compiled, s: CascadeState, P: np.ndarray, lam: np.ndarray) -> np.ndarray:
    r"""Each (named account, venue) pair's loss beyond its margin at prices ``P``, (S, pairs): :math:`x =
    \max(-(G + M), 0)` on a venue that has not failed, 0 elsewhere (the module docstring)."""
    pc = c.perps
    assert pc is not None and s.perps_size is not None and s.perps_units is not None and s.perps_lost is not None
    excess = -(pair_pnl(pc, s.perps_size, P) + pair_margin(pc, s.perps_units, s.perps_lost, c.P0, P, lam))
    live = ~s.defaulted[:, pc.pair_venue]
    return np.where(live & (excess > 0), excess, 0.0)


@dataclass(frozen=True)
class CloseDeficit:
    """Where each (S, ...) share of the named accounts' losses beyond their margin sits at a close
    (:func:`close_deficit`): ``books`` (S, n) what the entities book (the accounts +, the vaults, the winners in the
    network and the venues -), ``drawn`` (S, n) the venues' insurance funds' provisional draws (at the venue's
    column), ``taken`` (S,) the outside winners' provisional loss."""

    books: np.ndarray
    drawn: np.ndarray
    taken: np.ndarray


def close_deficit(c: Compiled, s: CascadeState, b: ScenarioBatch, P: np.ndarray, lam: np.ndarray) -> CloseDeficit | None:
    r"""The venues' provisional deficits at prices ``P`` (the close) and who bears them until the next perps step,
    in the venue's waterfall as it stands (:func:`core.mechanisms.perps_book.settle_book`'s order): its backstop
    vault (what is left of it, on a vault venue), its insurance fund (what is left: what it has grown beyond
    its size is the venue's, as :func:`core.engine.perps.perps` books it), then its winners, whose profit at the
    close is cut pro rata (provisionally: the next perps step's ADL takes it in its rank order, or its
    socialisation pro rata), and what they cannot cover the venue's own. ``None`` where no account is past its
    margin (nothing to book).

    Each share is booked once: the account's :math:`x` (its PnL floored at :math:`-M`) against the vault's,
    the fund's, the winners' and the venue's shares, which add up to it, so no value is created or lost at the
    close; the next close books them again from the state then (replaced, not added to)."""
    pc = c.perps
    assert pc is not None and s.perps_size is not None and s.perps_vault is not None and s.perps_fund is not None
    x = provisional_deficit(c, s, P, lam)
    if not x.any():
        return None
    S, n, V = x.shape[0], c.n, pc.V
    books = np.zeros((S, n))
    np.add.at(books.T, pc.pair_entity, x.T)
    deficit = np.zeros((S, V))
    np.add.at(deficit.T, pc.pair_venue_index, x.T)
    rule = np.broadcast_to(b.perps_rule if b.perps_rule is not None else pc.rule_codes, (S, V))
    by_vault = np.where(rule == _VAULT, np.minimum(deficit, s.perps_vault), 0.0)
    vaults = pc.vault_entity >= 0
    if vaults.any():
        np.add.at(books.T, pc.vault_entity[vaults], -by_vault[:, vaults].T)
    by_fund = np.minimum(deficit - by_vault, s.perps_fund)
    from_gain = np.minimum(by_fund, np.maximum(s.perps_fund - b.insurance[:, pc.venue_entity], 0.0))
    drawn = np.zeros((S, n))
    drawn[:, pc.venue_entity] = by_fund - from_gain
    # the winners: open rows in profit at the close, the accounts past their margin aside (they are liquidated)
    bk = pc.pb.book
    pnl = s.perps_size * (P[:, bk.market] - bk.entry[None])
    bankrupt = np.zeros(pnl.shape, bool)
    bankrupt[:, pc.named_rows] = x[:, pc.row_pair] > 0
    profit = np.where(bankrupt, 0.0, np.maximum(pnl, 0.0))
    profit_v = np.ascontiguousarray(np.asarray(transposed(bk.in_venue) @ profit.T).T)
    residual = deficit - by_vault - by_fund
    by_winners = np.minimum(residual, profit_v)
    with np.errstate(divide="ignore", invalid="ignore"):
        cut = np.where(profit_v > 0, by_winners / np.where(profit_v > 0, profit_v, 1.0), 0.0)
    row_cut = cut[:, bk.venue] * profit
    books -= per_entity(pc, row_cut)
    outside_rows = pc.row_entity < 0
    taken = np.ascontiguousarray(row_cut[:, outside_rows]).sum(1)
    np.add.at(books.T, pc.venue_entity, -(from_gain + residual - by_winners).T)
    return CloseDeficit(books=books, drawn=drawn, taken=taken)


def marked_at_close(c: Compiled, s: CascadeState, P: np.ndarray, gap: CloseDeficit | None) -> np.ndarray:
    r"""The named accounts' open positions marked at prices ``P`` (the close) beyond what the round's perps step
    booked, (S, n): :math:`G_i(P) - G_i` booked (:func:`core.engine.perps.account_pnl`, ``perps_booked``), with
    each pair's loss beyond its margin borne by its venue's waterfall (``gap``, :func:`close_deficit` at the same
    close; None: no account past its margin). The clearing adds it to ``perps_value`` (:func:`core.engine.clear.clear_books`); the next
    perps step books the same change of :math:`G_i`.

    Model: a perpetual's unrealised PnL moves with its mark price as the spot does (variation margin), so spot
    hedged short on the venues (Ethena's USDe backing: docs.ethena.fi, "Delta-neutral stability") keeps its
    value through a fall. (Before, the PnL was booked at the round's opening prices and the spot marked at the
    close: round 2's sales took ETH from 4,350 to 4,266.59 and a fully hedged ETHENA's equity from $83.05M to
    -$14.83, a billionth of the $14.83bn it owes, so it defaulted or not on the last cent, and its estate cost
    $7.82bn: ``monotone-2025-steth-jitosol-ethena-edge-unwrap-at-worth``.)"""
    pc = c.perps
    assert pc is not None and s.perps_size is not None and s.perps_booked is not None
    out = account_pnl(pc, s.perps_size, P) - s.perps_booked
    return out if gap is None else out + gap.books
