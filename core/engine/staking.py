r"""Step 3 of a round, liquid-staking tokens: redemption arbitrage floors the discount, LPs leave a stressed pool.

A liquid-staking token with a ``liquid_staking`` row in the ``pegs`` table
trades at ``P_underlying (1 - d)``, the discount ``d`` set by its stableswap
pool (:mod:`core.engine.pools`). After the round's sales have moved the pool:

1. **Arbitrage floor**: below the discount at which buying pays, arbitrageurs
   take the other side of the round's forced sales into the pool and hold what
   they buy to redemption. Their position is a stock
   (:mod:`core.mechanisms.lst_holdings`): tokens worth, at the pool's price, the
   capital that has arrived since the shock (``arbitrage_units_per_day`` of the
   underlying per day at the gap ``arbitrage_reference_gap`` to the floor price,
   times the days since the shock and the scenario's liquidity, state
   ``lst_capital``) times the gap over the reference gap
   (:func:`~core.mechanisms.liquid_staking.arbitrage_capital`; Shleifer & Vishny
   1997, Gromb & Vayanos 2002; slow-moving capital: Mitchell, Pedersen & Pulvino
   2007, Duffie 2010). Each round they buy until they hold the position the
   price draws (state ``lst_held``), never selling back, and never lifting the
   pool above the floor times the scenario's own basis of the token (a shock or
   a depeg of the token itself), whatever the round's opening price. The floor
   is :math:`1-(1-c)^{\tau}` with an exit queue of :math:`\tau` rounds
   (:func:`~core.mechanisms.liquid_staking.withdrawal_floor_discount`) or,
   without withdrawals (stETH in 2022), the holders' cost of carry
   :math:`1-((1+y)/(1+r))^H` (:func:`~core.mechanisms.liquid_staking.carry_floor_discount`).
   They trade with the round's sellers in the same round: the pool absorbs only the net flow, from the
   reserves the round opened with, and is paid the fee on it
   (:func:`~core.mechanisms.lst_holdings.held_arbitrage`). (Before, they lifted the pool from the trough
   of the round's sales: the fees of both legs, paid at a drained pool, left the LPs a gain growing with the
   sale: -$41M of system loss for a $3.08bn sale against a $2.1bn one.)
   As the arbitrage trades in the same round as the sellers, the trough of the scenario's own sale (round 0)
   is no price the market shows: the round's liquidations, runs and estate sales read the price arbitrage
   leaves once it meets that sale (:func:`met_sale_prices`, called by the exogenous step), and this step
   nets it with the cascade's sales as one.

   The pool after a round is then set by the cumulative net sale and the days since the shock, not by how
   the sale was split across rounds, and a price that broke through is lifted back towards the floor as
   capital arrives. (Before, the *arbitrage ratchet*: each round's capital, drawn by the gap, met that
   round's sales alone, and the pool was never lifted above the round's opening price, so the end price was
   where the capital met the largest single round of sales, and a shallower shock that sold 222.5k stETH in
   one round ended at 0.9275 against 0.9320 for 163.6k and 113.3k in two, losing $34.35M more,
   ``monotone-synthetic1000-seed7-steth-ftt-runs-lag2``; the ratchet replaced, in session 5, a per-round
   capital lifting the pool towards the floor every round, which made the end state depend on how early the
   fall came: with a stock of capital arrived since the shock, it does not.)

2. **LPs withdraw**, from the pool the round closes with, a share ``w = min(0.25, gamma * iota)`` of the pool
   (balanced ``remove_liquidity``: the price stays, the pool thins), ``iota``
   the pool's imbalance beyond the one it had at the reference state (LPs were
   content there) and ``gamma`` the table's ``lp_sensitivity_per_day`` times
   the round's days (:func:`~core.mechanisms.liquid_staking.lp_withdrawal_rate`).
   What they take stays theirs: it remains in the pool entity's holdings, which
   their claims follow, while only the reserves left price the token
   (``lp_withdrawn``).
   (Before, they withdrew at the trough of the round's sales, before arbitrage: what they took was then
   marked at the price arbitrage restored, a gain growing with the sale.)

A large enough sale still breaks through the floor, to where the position the
discount draws meets it, instead of as a cliff (a fixed capital, the model
before, left a $1.5bn one-day sale at 0.388 of ETH), and is bought back
towards the floor over the following rounds (June 2022: the discount, 4.7-8 %
at the worst, closed over weeks). Sources: research notes §4.3 (pool
$4.5bn to $0.62bn, discounts 4.7-8% in June 2022); Gauntlet, "Staked ETH and
AAVE Risk (June 11th Update)" (2022).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..mechanisms import _lst_held_floats as held_floats, liquid_staking, lst_holdings
from .batch import ScenarioBatch
from .books import clip
from .compiled import Compiled
from .peg_terms import PegTerms
from .pools import ARBITRAGE_TOL, pool_price, sync_pool_holdings
from .reserves import days

if TYPE_CHECKING:
    from .state import CascadeState, Changes

#: Largest share of a pool LPs withdraw in a round.
LP_MAX_RATE = 0.25
#: Curve's swap fee (stETH/ETH pool, 0.04 %), charged on the round's net sale into the pool.
POOL_FEE = 0.0004
#: Arbitrage only the scenarios with a liquid-staking pool below its cap (off: every row; tests compare the two).
SKIP_IDLE_ROWS = True


def lst_pool_price(c: Compiled, res: np.ndarray, lp: np.ndarray) -> np.ndarray:
    """``pool_price(c, res, lp)``, the liquid-staking pools' prices at the reserves ``res`` (S, l, 2): one scenario's
    one stableswap pool on Python floats (:func:`core.mechanisms._lst_held_floats.pool_price_one`, the steps of
    ``stableswap_price`` with its invariant, so the same bits), where they take the numpy path's branches."""
    if res.shape[:2] == (1, 1) and len(lp) == 1:
        A = float(c.pool_A[lp[0]])
        if np.isfinite(A):
            try:
                return np.array([[held_floats.pool_price_one(float(res[0, 0, 0]), float(res[0, 0, 1]), A)]])
            except (held_floats.Off, ZeroDivisionError, ValueError, OverflowError):
                pass
    return pool_price(c, res, lp)


def floor_discount(g: PegTerms, b: ScenarioBatch) -> np.ndarray:
    """(S, l) discount below which arbitrage buys each liquid-staking token (terms ``g`` of the pegs table)."""
    dt = days(b)[:, None]
    cost = (1.0 + g.lst_funding[None]) ** (dt / 365.0) - 1.0      # cost of capital per round
    queue = liquid_staking.withdrawal_floor_discount(g.lst_queue_days[None] / dt, np.minimum(cost, 1.0))
    carry = liquid_staking.carry_floor_discount(g.lst_years[None], g.lst_funding[None], g.lst_yield[None])
    return np.where(g.lst_withdrawals[None], queue, np.broadcast_to(carry, queue.shape))


@dataclass(frozen=True, eq=False)
class StakingTerms:
    """What the liquid-staking step reads that is fixed for a run, (S, l) each: built once by
    :func:`staking_terms` (not every round), cut with the batch (:meth:`~core.engine.state.CascadeState.take`)."""

    floor_px: np.ndarray        # the pool price at each token's arbitrage floor, before the round-0 basis
    cap_px: np.ndarray          # the most arbitrage lifts the pool to: the floor times the scenario's own basis
    capital: np.ndarray         # arbitrageurs' capital arriving per round at the reference gap, units of the underlying
    lp_sensitivity: np.ndarray  # LPs' withdrawal sensitivity per round
    imbalance0: np.ndarray      # the pools' imbalance at the reference state (LPs were content there)


def staking_terms(c: Compiled, b: ScenarioBatch) -> StakingTerms | None:
    """The run's :class:`StakingTerms` (None without liquid-staking pools)."""
    g = c.pegs
    if g is None or not len(g.lst_asset):
        return None
    la, lp = g.lst_asset, g.lst_pool
    cu = c.pool_counter[lp]
    dt = days(b)[:, None]
    floor_px = c.pool_ref[lp][None] * (1.0 - floor_discount(g, b)) * c.peg1[la][None] * c.P0[cu][None] / c.P0[la][None]
    imbalance0 = np.repeat(liquid_staking.pool_imbalance(c.pool_res0[lp])[None], b.S, 0)
    # the scenario's own basis of the token against its underlying (a shock or a depeg of the token itself)
    basis = np.minimum(b.shock[:, la] / b.shock[:, cu], 1.0)
    basis = np.where(b.depeg[:, la] > 0, 1.0 - b.depeg[:, la], basis)
    return StakingTerms(floor_px=floor_px, cap_px=floor_px * basis, capital=g.lst_arbitrage_day[None] * dt * b.liquidity[:, None],
                        lp_sensitivity=g.lst_lp_day[None] * dt, imbalance0=imbalance0)


def _arbitrage(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int, res: np.ndarray,
               pool_px: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step 1 of :func:`liquid_staking_round`: the liquid-staking pools' reserves ``res`` (S, l, 2) at prices
    ``pool_px`` (S, l) once the arbitrageurs' position meets the round's sales, the underlying they paid in and
    the tokens they bought, (S, l) each."""
    g = c.pegs
    t = s.staking
    assert g is not None and t is not None
    lp = g.lst_pool
    # they lift the pool towards its floor (never above the scenario's own basis of the token), whatever the
    # round's opening price: their position is a stock of the capital arrived since the shock
    # (core.mechanisms.lst_holdings), so a price that broke through is lifted back as more capital arrives
    px_cap = t.cap_px
    below = pool_px < px_cap * (1.0 - ARBITRAGE_TOL)  # a real gap, not rounding
    none = np.zeros(res.shape[:2])
    if not below.any():
        return res, none, none
    # the round's sales and the arbitrage that meets them, netted from the pool the round opened with (in
    # round 0, the reference pool: the scenario's own sale is one of the round's sales)
    opened = np.broadcast_to(c.pool_res0[lp][None], res.shape) if r == 0 else s.lst_open_res
    capital = np.where(below, s.lst_capital, 0.0)
    rows = below.any(1)
    if SKIP_IDLE_ROWS and not rows.all():
        # only the rows with a pool below its cap: each element's search stops on its own
        # (core.mechanisms.lst_arbitrage), and without capital arrived arbitrage buys nothing
        ix = np.flatnonzero(rows)
        netted, part, units = lst_holdings.held_arbitrage(
            opened[ix], res[ix], c.pool_A[lp][None], t.floor_px[ix], px_cap[ix], capital[ix], g.lst_gap[None],
            g.lst_elasticity[None], s.lst_held[ix], fee=POOL_FEE)
        bought, tokens = none.copy(), none.copy()
        bought[ix], tokens[ix] = part, units
        out = res.copy()
        out[ix] = np.where((part > 0)[..., None], netted, res[ix])
        return out, bought, tokens
    netted, bought, tokens = lst_holdings.held_arbitrage(opened, res, c.pool_A[lp][None], t.floor_px, px_cap,
                                                         capital, g.lst_gap[None], g.lst_elasticity[None],
                                                         s.lst_held, fee=POOL_FEE)
    return np.where((bought > 0)[..., None], netted, res), bought, tokens


def lifted_prices(c: Compiled, P: np.ndarray, px: np.ndarray, bought: np.ndarray) -> np.ndarray:
    """``P`` with each liquid-staking token that arbitrage bought (``bought`` > 0) lifted to the price of its
    pool ``px`` (S, l), never above its underlying's, never lowered."""
    g = c.pegs
    assert g is not None
    la, lp = g.lst_asset, g.lst_pool
    cu = c.pool_counter[lp]
    lifted = c.P0[la][None] * px / c.pool_ref[lp][None] * (P[:, cu] / c.P0[cu][None])
    out = P.copy()
    out[:, la] = np.where(bought > 0, np.maximum(P[:, la], np.minimum(lifted, P[:, cu] * c.peg1[la][None])), P[:, la])
    return out


def met_sale_prices(c: Compiled, s: CascadeState, b: ScenarioBatch, P: np.ndarray, pool_res: np.ndarray,
                    pool_px: np.ndarray) -> np.ndarray:
    """Round 0: the prices the round trades at once arbitrage meets the scenario's own sales into the
    liquid-staking pools, (S, k) (``P`` where there are none).

    Arbitrageurs trade with the round's sellers in the same round (:func:`liquid_staking_round`): the pool
    absorbs only the net sale, so the trough of the scenario's sale alone is never a price the market shows.
    Liquidations, runs and estate sales of round 0 read this price; the pool's reserves stay at the trough,
    and :func:`liquid_staking_round` nets all the round's sales, the scenario's and the cascade's, from the
    reference pool. (Before, round 0's liquidations read the trough: a $2.85bn stETH sale left the pool at
    0.03 of ETH until the round's arbitrage, the stETH/ETH loops were wiped out there at ETH -12.5%, $1.43bn of
    Aave bad debt, while at ETH -20.5% liquidators' capacity, shared with ETH/USDC borrowers, left them to
    later rounds at 0.894: $0.38bn, and $858M less system loss for the deeper fall.)"""
    g = c.pegs
    if g is None or not len(g.lst_asset) or s.staking is None:
        return P
    lp = g.lst_pool
    if not (b.pool_sales[:, g.lst_asset] > 0).any():
        return P
    res, bought, _ = _arbitrage(c, s, b, 0, pool_res[:, lp], pool_px[:, lp])
    if not (bought > 0).any():
        return P
    return lifted_prices(c, P, lst_pool_price(c, res, lp), bought)


def sale_met_by_arbitrage(c: Compiled, s: CascadeState, pool_res: np.ndarray) -> np.ndarray:
    """The pools ``pool_res`` (S, p, 2), sold into from the round's opening pools ``s.pool_res``, with each
    liquid-staking pool where the arbitrage its price draws meets that sale (all pools; the others as given).

    A seller of a liquid-staking token meets the arbitrageurs of the same round (:func:`liquid_staking_round`),
    so a sale's own trough is no price it is paid: the sale nets against the position the discount draws
    beyond what the arbitrageurs already hold (:func:`~core.mechanisms.lst_holdings.held_arbitrage`), never
    lifted above the floor times the scenario's own basis.
    Read by the Maker-style auctions' clearing (:func:`core.engine.auctions.price_after`), as
    :func:`met_sale_prices` for the scenario's own sale in round 0. (The auctions cleared at the trough of their
    own lots sold into the bare pool: ETH -13.24% -> -13.75% with TOKEN, E000275 failed, runs 0.5, lag 2 on
    synthetic(1000, 5000, seed 7) had the stETH/DAI vaults barked in round 5 clear at the trough of 262k stETH
    sold into a pool of 212k ETH (0.26 of ETH) while the round closed at 0.924, and booked $162.4M of bad debt,
    against $76.0M at the deeper shock, which had barked more of them in round 2 while the pool was deep,
    ``monotone-synthetic1000-seed7-eth-token-e000275-auction-trough``.)"""
    g = c.pegs
    t = s.staking
    if g is None or not len(g.lst_asset) or t is None:
        return pool_res
    lp = g.lst_pool
    res = pool_res[:, lp]
    px = lst_pool_price(c, res, lp)
    below = px < t.cap_px * (1.0 - ARBITRAGE_TOL)
    if not below.any():
        return pool_res
    netted, bought, _ = lst_holdings.held_arbitrage(s.pool_res[:, lp], res, c.pool_A[lp][None], t.floor_px,
                                                    t.cap_px, np.where(below, s.lst_capital, 0.0), g.lst_gap[None],
                                                    g.lst_elasticity[None], s.lst_held, fee=POOL_FEE)
    out = pool_res.copy()
    out[:, lp] = np.where((bought > 0)[..., None], netted, res)
    return out


def liquid_staking_round(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """Reads ``P, pool_res, lp_withdrawn``; writes ``P, pool_res, pool_px, lp_withdrawn`` and, in place, the
    pools' holdings in ``H``."""
    g = c.pegs
    if g is None or not len(g.lst_asset):
        return {}
    la, lp = g.lst_asset, g.lst_pool
    t = s.staking
    assert t is not None
    # 1. arbitrage buys the token back towards its floor, with the capital the discount draws this round
    res, bought, tokens = _arbitrage(c, s, b, r, s.pool_res[:, lp], s.pool_px[:, lp])
    cu = c.pool_counter[lp]
    # 2. LPs withdraw from the pool the round leaves, if more one-sided than it was (after arbitrage: what they
    # take is valued at the price the round closes with, not at the trough of a sale that arbitrage undid)
    excess = clip(liquid_staking.pool_imbalance(res) - t.imbalance0, 0.0, 1.0)
    w = liquid_staking.lp_withdrawal_rate(excess, t.lp_sensitivity, LP_MAX_RATE)
    # none while halted, nor once the cascade has settled (its result is taken then, whatever its batch-mates do)
    w = np.where((s.halted | s.settled)[:, None], 0.0, w)
    if not w.any() and not (bought > 0).any():
        # nobody withdrew and arbitrage bought nothing: the pools, their prices and the LPs' withdrawals stay as
        # they are (the long way copies them, adds no units and re-prices no pool), and the tokens only follow
        # their pools down, as below
        P = s.P.copy()
        implied = c.P0[la][None] * s.pool_px[:, lp] / c.pool_ref[lp][None] * (P[:, cu] / c.P0[cu][None])
        P[:, la] = np.minimum(P[:, la], implied)
        sync_pool_holdings(c, s.H, s.pool_res, s.lp_withdrawn)
        return dict(P=P, lst_held=s.lst_held + tokens, lst_capital=t.capital * (r + 2))
    taken = res * w[..., None]
    res = res - taken
    withdrawn = s.lp_withdrawn.copy()
    withdrawn[:, lp] += taken
    pool_res = s.pool_res.copy()
    pool_res[:, lp] = res
    px = s.pool_px.copy()
    moved = (w > 0) | (bought > 0)  # pools LPs or arbitrage moved: priced as every other step prices them
    if moved.any():
        px[:, lp] = np.where(moved, lst_pool_price(c, res, lp), px[:, lp])
    P = lifted_prices(c, s.P, px[:, lp], bought)
    # the token at its (thinned) pool's price now, not next round
    implied = c.P0[la][None] * px[:, lp] / c.pool_ref[lp][None] * (P[:, cu] / c.P0[cu][None])
    P[:, la] = np.where(bought > 0, P[:, la], np.minimum(P[:, la], implied))
    sync_pool_holdings(c, s.H, pool_res, withdrawn)
    # what they bought they hold (core.mechanisms.lst_holdings); the next round's capital has arrived by its end
    return dict(P=P, pool_res=pool_res, pool_px=px, lp_withdrawn=withdrawn, lst_held=s.lst_held + tokens,
                lst_capital=t.capital * (r + 2))


def open_pool_prices(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """The liquid-staking pools' reserves before the round's sales (the arbitrage nets the round's sales from them).
    Reads ``pool_res``; writes ``lst_open_res``."""
    g = c.pegs
    if g is None or not len(g.lst_asset):
        return {}
    return dict(lst_open_res=s.pool_res[:, g.lst_pool].copy())
