r"""Step 1b of a round: perpetual futures — marks, liquidations, the venues' waterfalls, and what passes on.

Each round every perpetuals venue marks its positions at this round's prices,
values its customers' collateral under its own collateral policy (its order
book, the index, or the token's redemption value), liquidates the margin
accounts below maintenance into its market makers' depth (which shrinks as the
round's move grows), and covers the deficits in its rule's order: backstop
vault, insurance fund, then auto-deleveraging or a socialised haircut. The
round itself is :func:`core.perps_round.perps_round` (the mechanisms:
:mod:`core.mechanisms.perps_book`, :func:`core.perps_round.market_maker_depth`,
the square-root fills); this step feeds it the cascade's state and passes its
results on.

Accounting (who bears what)
---------------------------
A venue is the central counterparty of its positions. The network knows its
*named* accounts (entities: funds, market makers, a backstop vault) and the
venue itself; anonymous cohorts and the rest of the market stand for the world
outside the network, whose gains and losses are not the network's.

What an entity gains or loses on perpetuals is kept in ``perps_value`` (S, n), which
clearing adds to its outside assets (:func:`core.engine.clear.mark_and_clear`): a
claim or a debt, never cash a run could withdraw or an estate could sell.

* **Named account, open position**: its unrealised PnL on the size it still
  holds, :math:`G_i = \sum_{j \in i} q_j (P_{k_j} - P^0_j)`, is booked;
  each round books the change of :math:`G_i`. Profit taken by
  ADL or socialisation closes that share of the position (perps_round), so it
  leaves :math:`G_i`: the account loses it. Where ADL goes beyond the profit
  (the opposite side's whole profit did not cover the deficit: closed at the
  bankruptcy price), it closes that share of what is left of the position with
  the same share of its margin units, booked as a margin loss below: no
  position gives up more than its margin plus its unrealised profit.
* **Named account, liquidated** (or ADL'd beyond its profit, for the share of its margin taken): its
  positions close (their PnL leaves :math:`G_i`) and it loses its margin. The margin sits in its in-kind claim on
  the venue (its customer balance in ``exposures``): that claim is cut by the
  margin's reference value :math:`C` and the venue's holdings of the token by
  the units seized (handed to the winners; USD margin as USD, booked off the
  venue's assets: session 26 (owed)). Claims are fixed in the clearing
  books, so the cut is booked as a transfer each round: the account books off
  what the cut part is worth to it, :math:`C \lambda_v \rho_v` (the venue's
  in-kind index and paid ratio), and the venue books the same as paid in;
  with :math:`A` and :math:`L` the venue's assets and liabilities without the
  cut part, its ratio :math:`\rho = (A + \rho C\lambda)/(L + C\lambda)` is
  :math:`A/L`, so neither the account nor the venue's other creditors are
  touched by the cut part, and the venue's equity is unchanged while it is
  solvent. A margin beyond the account's claim (held on its own books: Ethena's
  custodied spot) leaves its holdings, the units the venue took, in the same step, and USD margin beyond it
  its other assets, cash first (:mod:`core.engine.perps_seized`). Its loss beyond the margin is the venue's
  deficit, not the account's; so is it at a close that gaps the market past
  the margin before the venue liquidates it (:mod:`core.engine.perps_close`).
* **Named account at a venue that cannot pay in full** (once it has defaulted; :math:`\rho_v < 1` its
  estate's recovery on its customers' claims, :func:`~core.engine.perps_estate.estate_recovery`: last round's clearing shortfall
  shared over what it owes there and its open positions' PnL): the account's stake in the
  venue is its margin *and* its unrealised PnL, one margin account, so the
  estate owes it :math:`\rho_v (M + G)` where clearing pays
  :math:`\rho_v M` on the margin claim (worth :math:`M`, the uncut claim
  times the venue's in-kind index) and :math:`G` is booked at par. The step
  books the difference, the set-off
  :math:`-(1-\rho_v)\max(G, -M)`, each round as a change, and the venue the opposite (what its estate
  does not pay a winner is left for its other creditors: the shortfall is borne once): a losing
  account's loss is paid out of its margin, so it is not lost a second time
  when the venue fails (before, an account short BTC on a venue forced to
  fail lost its whole margin claim *and* its 1.86M loss on the position the
  margin covered, while one liquidated a ulp deeper lost the margin only:
  ``monotone-perps-depeg-mm-maintenance-edge``); a winning account's profit
  is a claim on the estate, paid at :math:`\rho_v` like its margin
  (FTX's customers' claims were valued as their account balances at the
  petition date, positions and PnL included: *In re FTX Trading Ltd.*,
  Case 22-11068, Order estimating claims, Bankr. D. Del., 2024).
* **Backstop vault** (``backstop_vault_entity``): its profit or loss (left-over
  margin kept, deficits paid) is booked at the vault entity, so it reaches the vault's depositors through clearing.
* **Insurance fund**: a pot outside the balance sheets, like a lending
  protocol's (:func:`core.engine.liquidate.insurance`); what it has lost (its
  size less what is left, never below 0) counts as an insurance draw in
  ``ins_draw``, and so in system loss. What it has grown beyond its size (the
  margin left at liquidations, less draws) is the venue's, whose fund it is
  (Binance and BitMEX publish their funds as theirs): booked as a gain of the
  venue, so the fund's result is signed.
* **Accounts outside the network** (anonymous cohorts): their gains and losses
  are the world's, except where their money enters the network: the margin
  left at their liquidation, which the fund or the vault keeps, and the profit
  ADL or a socialised haircut takes from them to cover a venue's deficit. That
  is their loss, counted in system loss (``perps_outside``; the bearer
  ``outside_traders``), so the network's gain from it is a transfer, not
  value created, and a rule that moves a deficit from a vault to traders
  moves the loss, it does not remove it (uncounted, switching Hyperliquid
  from its vault to ADL on the 2025 network lowered system loss by the vault's
  $300M); the margin, as far as the receiver's gain lowers a counted loss
  (``monotone-perps-usdc-depeg-vault-margin``; :mod:`core.engine.outside_transfers`).
* **Uncovered** deficits are the venue's own loss; clearing
  passes what it cannot pay to its creditors one round later.
* **Forced closes**: a liquidated long is a sale of its market's asset, a
  liquidated short a purchase; both enter ``sold`` in units and move prices in
  :func:`core.engine.sell.price_impact` (purchases lift them).

A circuit breaker that halts liquidations halts them on venues too: a halted
scenario keeps its book, fund and vault; marks still move its named accounts'
unrealised PnL. A venue that has defaulted is halted the same way, from the
round its default is known (round 0 for a forced default): a failed exchange
stops trading and its customers become creditors of its estate (FTX halted its
platform on 8-11 November 2022 and its customers' claims are account balances,
FTX Trading Ltd., Case 22-11068, Bankr. D. Del.). Before, a venue forced to fail
still liquidated its accounts in round 0: an account liquidated at its
maintenance sent its left-over margin to the fund, outside the holdings the
forced default had wiped, and so to the estate, while one a ulp above kept it
in its account and lost it with the venue
(``monotone-perps-depeg-mm-maintenance-edge-left-over``).

Sources: see :mod:`core.mechanisms.perps_book` (BitMEX, Hyperliquid and Binance
rules) and :mod:`core.perps_round` (market makers' depth on 10 October 2025).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..network import Network
from ..mechanisms.memberships import transposed
from ..perps_round import PERPS_COLUMNS, perps_round
from ..positions import PositionBook, position_book, venue_rules
from .perps_estate import estate_set_off
from .perps_seized import seize_margin
from .outside_transfers import outside_receipts, vault_outside

if TYPE_CHECKING:
    from .batch import ScenarioBatch
    from .compiled import Compiled
    from .state import CascadeState, Changes

#: The per-venue totals of a round, in the order of the last axis of ``perps_flow`` and ``perps_total``.
TOTALS = PERPS_COLUMNS[2:]


@dataclass(frozen=True, eq=False)
class PerpsCompiled:
    """What the perps step reads of a network with positions, built once (:func:`compile_perps`).

    Rows are the ``positions`` rows; venues the perpetuals venues in entity order.
    """

    pb: PositionBook
    rules: pd.DataFrame            # venue_rules(net): the venues' own rules (scenario overrides ride in the batch)
    venue_entity: np.ndarray       # (V,) entity position of each venue
    vault_entity: np.ndarray       # (V,) entity position of each venue's backstop vault, -1 none (or outside)
    row_entity: np.ndarray         # (N,) named account's entity position, -1 anonymous
    named_rows: np.ndarray         # rows of named accounts
    row_pair: np.ndarray           # (named rows,) their (account entity, venue) pair
    pair_entity: np.ndarray        # (pairs,) the account's entity position
    pair_venue: np.ndarray         # (pairs,) the venue's entity position
    pair_claim: np.ndarray         # (pairs,) the account's in-kind claim on the venue, reference USD (0: none)
    by_entity: sp.csr_array        # (N, n) named rows -> their entity
    by_pair: sp.csr_array          # (named rows, pairs) named rows -> their (account, venue) pair
    entry: np.ndarray              # (N,)
    market: np.ndarray             # (N,) asset position of each row's market
    margin_asset: np.ndarray       # (N,) asset position of the collateral, -1 USD
    # the rules' columns a round reads, as arrays: a DataFrame column read each round leaves pandas a
    # reference to drop later (a sawtooth of dead references that grew a streamed Monte Carlo's memory)
    rule_codes: np.ndarray         # (V,) ADL-rule codes
    policy_codes: np.ndarray       # (V,) collateral-policy codes
    own_book_share: np.ndarray     # (V,) share of the market makers' depth on each venue's own book
    backstop_vault_usd: np.ndarray  # (V,) each venue's backstop vault at the start
    margin_in_books: np.ndarray    # (V,) whether the venue owes its customers' margin as in-kind claims (customer balances)
    pair_venue_index: np.ndarray   # (pairs,) the venue's position among the venues
    receiver_entity: np.ndarray    # (R,) entities that may keep outside accounts' margin: venues (their funds), vaults
    venue_receiver: np.ndarray     # (V,) each venue's position among them
    vault_receiver: np.ndarray     # (V,) its vault entity's (0 where it has none: nothing is added there)

    @property
    def V(self) -> int:
        return len(self.venue_entity)

    def codes(self, adl_rules: Mapping[str, str], collateral_policies: Mapping[str, str]) -> tuple[np.ndarray, np.ndarray]:
        """(V,) rule and policy codes with a scenario's overrides (checked by ``Scenario.check_against``)."""
        if not adl_rules and not collateral_policies:
            return self.rule_codes, self.policy_codes
        # venue_rules needs only the venue tables: overrides on a copy of the rules, same code maps
        from ..mechanisms.perps_book import RULES
        from ..schema import COLLATERAL_POLICIES
        rule, policy = self.rule_codes.copy(), self.policy_codes.copy()
        where = {v: i for i, v in enumerate(self.rules.index)}
        for venue, value in adl_rules.items():
            rule[where[venue]] = RULES.index(value)
        for venue, value in collateral_policies.items():
            policy[where[venue]] = COLLATERAL_POLICIES.index(value)
        return rule, policy


def compile_perps(net: Network, epos: Mapping[str, int], ik_creditor: np.ndarray, ik_debtor: np.ndarray,
                  ik_amount: np.ndarray, ik_sink: np.ndarray) -> PerpsCompiled | None:
    """The perps part of a compiled network (``ik_*``: its in-kind claims); None when it has no positions."""
    if not len(net.positions):
        return None
    rules = venue_rules(net)
    pb = position_book(net, rules)
    n = len(epos)
    venue_entity = np.array([epos[v] for v in rules.index], dtype=np.int64)
    vault = rules["backstop_vault_entity"].fillna("").astype(str)
    vault_entity = np.array([epos.get(v, -1) if v else -1 for v in vault], dtype=np.int64)
    row_entity = np.asarray(pb.account_entity, dtype=np.int64)
    named = np.flatnonzero(row_entity >= 0)
    N = len(row_entity)
    # each named account's in-kind claims on its venue (held claims: an entity's customer balance)
    pairs, row_pair = np.unique(np.stack([row_entity[named], venue_entity[pb.book.venue[named]]]), axis=1, return_inverse=True)
    held = ~np.asarray(ik_sink, dtype=bool)
    owed = pd.Series(np.asarray(ik_amount, dtype=float)[held]).groupby(
        [np.asarray(ik_creditor)[held], np.asarray(ik_debtor)[held]]).sum()
    pair_claim = owed.reindex(pd.MultiIndex.from_arrays([pairs[0], pairs[1]])).fillna(0.0).to_numpy()
    by_entity = sp.csr_array((np.ones(len(named)), (named, row_entity[named])), shape=(N, n))
    margin_in_books = np.isin(venue_entity, np.asarray(ik_debtor))
    venue_index = np.full(n, -1, dtype=np.int64)
    venue_index[venue_entity] = np.arange(len(venue_entity))
    row_pair = row_pair.reshape(-1)
    receiver = np.unique(np.concatenate([venue_entity, vault_entity[vault_entity >= 0]]))
    by_pair = sp.csr_array((np.ones(len(named)), (np.arange(len(named)), row_pair)), shape=(len(named), pairs.shape[1]))
    return PerpsCompiled(pb=pb, rules=rules, venue_entity=venue_entity, vault_entity=vault_entity,
                         row_entity=row_entity, named_rows=named, row_pair=row_pair,
                         pair_entity=pairs[0].astype(np.int64), pair_venue=pairs[1].astype(np.int64), pair_claim=pair_claim,
                         by_entity=by_entity, by_pair=by_pair,
                         entry=pb.book.entry, market=pb.book.market, margin_asset=pb.margin_asset,
                         rule_codes=rules["rule"].to_numpy(), policy_codes=rules["policy"].to_numpy(),
                         own_book_share=rules["own_book_share"].to_numpy(dtype=float),
                         backstop_vault_usd=rules["backstop_vault_usd"].to_numpy(dtype=float),
                         margin_in_books=margin_in_books, pair_venue_index=venue_index[pairs[1]],
                         receiver_entity=receiver, venue_receiver=np.searchsorted(receiver, venue_entity),
                         vault_receiver=np.where(vault_entity >= 0, np.searchsorted(receiver, vault_entity), 0))


def per_entity(pc: PerpsCompiled, x: np.ndarray) -> np.ndarray:
    """Sum (S, N) row values over the rows' named entities: (S, n)."""
    return np.ascontiguousarray(np.asarray(transposed(pc.by_entity) @ x.T).T)  # row-major: see core.perps_round


def account_pnl(pc: PerpsCompiled, size: np.ndarray, P: np.ndarray) -> np.ndarray:
    r"""Named accounts' unrealised PnL :math:`G_i = \sum_{j \in i} q_j (P_{k_j} - P^0_j)`, (S, n)."""
    return per_entity(pc, size * (P[:, pc.market] - pc.entry[None]))


def redemption_prices(c: "Compiled", P: np.ndarray) -> np.ndarray:
    """What each token redeems for, (S, k): its peg target in its unit (USD 1, or the unit asset's price);
    the market price for a token without a peg (:func:`core.positions.redemption_values`)."""
    unit = c.peg_unit
    unit_price = np.where(unit >= 0, P[:, np.maximum(unit, 0)], 1.0)
    return np.where(np.isnan(c.peg_target)[None], P, c.peg_target[None] * unit_price)


def _given(x: np.ndarray | None) -> np.ndarray:
    """A perps field of the state (never None when the network has positions)."""
    assert x is not None
    return x


def initial_perps(c: "Compiled", b: "ScenarioBatch") -> dict[str, Any]:
    """The perps fields of the initial state (None without positions)."""
    pc = c.perps
    names = ("perps_size", "perps_units", "perps_spread", "perps_own_sold", "perps_fund", "perps_vault", "perps_booked",
             "perps_fund_lost", "perps_flow", "perps_total", "perps_taken", "perps_lost", "perps_lost_value", "perps_set_off", "perps_value", "perps_outside",
             "perps_outside_margin", "perps_outside_in")
    if pc is None:
        return dict.fromkeys(names)
    S, V, k = b.S, pc.V, c.k
    return dict(
        perps_size=np.repeat(pc.pb.book.size[None], S, 0), perps_units=np.repeat(pc.pb.margin_units[None], S, 0),
        perps_spread=np.repeat(pc.pb.margin_spread[None], S, 0),
        perps_own_sold=np.zeros((S, V, k)), perps_fund=b.insurance[:, pc.venue_entity].copy(),
        perps_vault=np.repeat(pc.backstop_vault_usd[None], S, 0),
        perps_booked=np.zeros((S, c.n)), perps_fund_lost=np.zeros((S, c.n)),
        perps_flow=np.zeros((S, V, len(TOTALS))), perps_total=np.zeros((S, V, len(TOTALS))),
        perps_taken=np.zeros((S, len(pc.named_rows))), perps_lost=np.zeros((S, len(pc.pair_claim))),
        perps_lost_value=np.zeros((S, len(pc.pair_claim))), perps_set_off=np.zeros((S, len(pc.pair_claim))),
        perps_value=np.zeros((S, c.n)), perps_outside=np.zeros(S),
        perps_outside_margin=np.zeros((S, V)), perps_outside_in=np.zeros((S, len(pc.receiver_entity))),
    )


def perps(c: "Compiled", s: CascadeState, b: "ScenarioBatch", r: int) -> Changes:
    """Reads ``P, price_history, halted, lam, ratio, defaulted, perps_*, sold, H``; writes ``perps_*`` (among
    them ``perps_value``: named accounts' PnL and lost margins, vaults' results, venues' uncovered losses and
    their funds' growth; ``perps_outside``: outside accounts' margin kept at liquidation and profit taken),
    ``sold`` (forced closes, in units: purchases negative), in place ``H`` (margins seized from named
    accounts: the units a venue held for them, and those beyond their claims out of their own holdings) and
    ``oa, illiquid`` (USD margin beyond their claims, out of their other assets: cash first); the
    funds' losses (``perps_fund_lost``) join the protocols' draws in :func:`core.engine.liquidate.insurance`."""
    pc = c.perps
    if pc is None:
        return {}
    P = s.P
    size0, units0, own0, fund0, vault0, booked0, value0, lost0, lost_value0, total0 = (_given(x) for x in (
        s.perps_size, s.perps_units, s.perps_own_sold, s.perps_fund, s.perps_vault, s.perps_booked, s.perps_value,
        s.perps_lost, s.perps_lost_value, s.perps_total))
    rule = b.perps_rule if b.perps_rule is not None else pc.rule_codes
    policy = b.perps_policy if b.perps_policy is not None else pc.policy_codes
    # the round's move, for the market makers' depth: from the last close (the history's last entry is
    # already this round's exogenous move, as the circuit breaker reads it)
    pr = perps_round(pc.pb, pc.rules, P, s.price_history[-2], c.adv, c.vol, insurance_fund=fund0,
                     backstop=vault0, rule=rule, policy=policy, size=size0, margin_units=units0, spread=s.perps_spread,
                     own_book_sold=own0, reference_prices=c.P0, redemption=redemption_prices(c, P),
                     liquidity=b.liquidity, own_book_share=pc.own_book_share)
    st = pr.settlement
    # a halted scenario keeps its book, fund and vault; so does a venue that has defaulted (forced in round 0 or
    # cleared short in an earlier round): its engine stops, its customers are its estate's creditors
    live = ~s.halted[:, None]
    dead = s.defaulted[:, pc.venue_entity] & live  # (S, V)
    live_venue, live_row = live, live
    if dead.any():
        live_venue = live & ~dead
        live_row = live_venue[:, pc.pb.book.venue]
    liquidated = st.liquidated & live_row
    size = np.where(live_row, pr.size_after, size0)
    units = np.where(live_row, pr.margin_units_after, units0)
    spread = np.where(live_row, pr.spread_after, _given(s.perps_spread))
    flow = np.where(live_venue[:, :, None], np.stack([getattr(st, t) for t in TOTALS], axis=2), 0.0)
    fund = np.where(live_venue, st.insurance_after, fund0)
    vault = np.where(live_venue, st.backstop_after, vault0)
    own_sold = np.where(live_venue[:, :, None], pr.own_book_sold_after, own0)
    taken = np.where(live_row, st.adl + st.socialised, 0.0)

    # forced closes: long closes are sales, short closes purchases (USD at the marks -> units); a stopped venue's
    # rows close nothing, so its sales leave the round's (summed over its live rows, as perps_round sums them)
    if dead.any():
        closes = np.where(liquidated, st.liquidated_share * size0 * P[:, pc.market], 0.0)
        sales = np.zeros_like(P)
        np.add.at(sales.T, pc.market, closes.T)
        sold = s.sold + sales / P
    else:
        sold = s.sold + np.where(live, pr.sales_usd / P, 0.0)
    value = value0.copy()
    # named accounts: the change of their unrealised PnL on what they still hold
    booked = account_pnl(pc, size, P)
    value += booked - booked0
    # named accounts lose the margin units the round took (all at liquidation, a share at ADL beyond their profit):
    # within their claim on the venue the claim is cut, beyond it the units leave their holdings (perps_seized)
    lost, lost_value = lost0, lost_value0
    units_taken = (units0 - units)[:, pc.named_rows]
    if (units_taken > 0).any():
        lost = seize_margin(c, s, units_taken, P, lost0, value)
    if lost.any():
        # the cut part of a claim is still in the clearing books (claims there are fixed): paid at the venue's
        # ratio, it is worth lam * ratio of it to the account, which books that value off, and the venue books
        # it as paid from outside, so the cut claim costs neither (and the venue's other creditors share its
        # assets as if it were gone: ratio = A / (L + cut) with A + ratio * cut on the asset side is A / L)
        worth = lost * (s.lam * s.ratio)[:, pc.pair_venue]
        change = worth - lost_value
        lost_value = worth
        np.add.at(value.T, pc.pair_entity, -change.T)
        np.add.at(value.T, pc.pair_venue, change.T)
    # a failed venue owes its named accounts rho * (margin + PnL): the set-off, a transfer with the venue
    set_off0 = _given(s.perps_set_off)
    set_off = estate_set_off(pc, s, size0, size, P, lost, set_off0)
    if set_off is not set_off0:
        np.add.at(value.T, pc.pair_entity, (set_off - set_off0).T)
        np.add.at(value.T, pc.pair_venue, -(set_off - set_off0).T)
    # backstop vaults' profit or loss; venues' uncovered deficits
    vaults = pc.vault_entity >= 0
    if vaults.any():
        np.add.at(value.T, pc.vault_entity[vaults], (vault - vault0)[:, vaults].T)
    np.add.at(value.T, pc.venue_entity, -flow[:, :, TOTALS.index("uncovered_usd")].T)
    # insurance funds: what each has lost so far (size less what is left), on top of the protocols' draws;
    # what each has grown beyond its size is its venue's gain
    size_at_start = b.insurance[:, pc.venue_entity]
    fund_lost = np.zeros_like(s.perps_fund_lost)
    fund_lost[:, pc.venue_entity] = np.maximum(size_at_start - fund, 0.0)
    grown = np.maximum(fund - size_at_start, 0.0) - np.maximum(fund0 - size_at_start, 0.0)
    np.add.at(value.T, pc.venue_entity, grown.T)
    # outside accounts' margin left at their liquidation (not to a vault outside the network) and their profit taken
    # by ADL or socialisation: their loss, less what the receivers keep above their equity (core.engine.outside_transfers)
    outside_rows = pc.row_entity < 0
    away = vault_outside(pc, rule)
    left = st.left_over if away is None else np.where(away[..., pc.pb.book.venue], 0.0, st.left_over)
    # (a column selection comes back column-major: made row-major, each row's sum runs in one order whatever the
    # number of rows, as in core.perps_round)
    outside = _given(s.perps_outside) + np.ascontiguousarray(
        np.where(live_row, left + st.adl + st.socialised, 0.0)[:, outside_rows]).sum(1)
    margin = _given(s.perps_outside_margin) + np.asarray(
        transposed(pc.pb.book.in_venue) @ np.where(live_row & outside_rows[None], left, 0.0).T).T
    receipts = outside_receipts(pc, rule, margin, fund, size_at_start)
    return dict(perps_size=size, perps_units=units, perps_spread=spread, perps_own_sold=own_sold, perps_fund=fund, perps_vault=vault,
                perps_booked=booked, perps_fund_lost=fund_lost, perps_flow=flow, perps_total=total0 + flow,
                perps_taken=np.ascontiguousarray(taken[:, pc.named_rows]), perps_lost=lost, perps_lost_value=lost_value, perps_set_off=set_off, perps_value=value, perps_outside=outside,
                perps_outside_margin=margin, perps_outside_in=receipts,
                sold=sold)
