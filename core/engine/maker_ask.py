r"""What the Maker system's keepers ask of the round's one liquidators' capital, known before it is split.

Model. Liquidators and keepers are the same profit-seeking capital, racing for every protocol's liquidations at
once [Qin et al., "An Empirical Study of DeFi Liquidations: Incentives, Risks, and Instabilities" (IMC 2021)],
so the network's own Maker system (:mod:`core.engine.maker`) is served the same share of what it asks as the
close-factor cohorts and the other Maker-style auctions (:func:`core.engine.capital.split_capital`), not what
they leave. Its ask :math:`M` is read from the round's opening state, before any rule runs, as its step
(:func:`core.engine.maker.vault_auctions`) will find it, the liquidation step before it leaving its vaults and
prices as they are:

* the vaults' collateral and debt outside their live auctions and outside what finished auctions handed back
  (``maker_free``), the owners' defence applied first (:func:`owners_repay`);
* the barks ``dog.bark`` makes at the OSM (oracle) price and par within ``hole``/``Hole`` (over the round's
  auction cycles, :func:`round_limits`; the ilks' own in the flip era) and ``dust``
  (:func:`~core.mechanisms.maker_liquidations._barks`, the bark the round itself makes), none where halted;
* each new lot and each live auction valued at the price keepers take it at, the market less their selling cost
  (:data:`~core.engine.maker_book.KEEPER_MARGIN`), at most its tab: ``min(tab, lot x market x (1 - margin))``,
  what ``clip.take`` pays (and what flip.sol's bidders pay, :func:`~core.mechanisms.maker_flip.flip_round`),
  as the Maker-style cohorts' ask (:func:`~core.engine.auction_vaults.auction_lots`) is their lots' value at
  their clearing price, at most their tab;
* at most what the system's keepers can bring: the table's ``keeper_capacity_usd`` scaled by the liquidity and
  the round's length (:func:`keeper_capacity`), so capital they could not use is not taken
  from the other rules.

[Model choices: the auctions' step price (``abaci.sol``'s stairstep, at or below the keepers' price) and the
market of the moment a vault crosses its ratio within the round (:mod:`~core.mechanisms.maker_crossing`) are
replaced by the round's market less the margin, which keeps the ask continuous in prices; an auction whose curve
cannot reach the keepers' price within the round asks as one that can. Where the ask is larger than what the
round's auctions take, the share it stands for goes unused by the other rules, as the Maker-style cohorts'.]
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from ..mechanisms import vault_defence
from ..mechanisms.maker_liquidations import IlkParameters, MakerState
from ..mechanisms.maker_liquidations import _barks as maker_barks  # the round's own bark, not a copy of it
from .maker_book import maker_columns, vault_books
from .maker_book import KEEPER_MARGIN

if TYPE_CHECKING:
    from .batch import ScenarioBatch
    from .compiled import Compiled
    from .maker_book import MakerBook
    from .state import CascadeState


def keeper_ask(c: Compiled, s: CascadeState, b: ScenarioBatch) -> np.ndarray:
    """(S,) USD the Maker system's keepers ask of the round's capital (module docstring); 0 where the network has
    no Maker system and where a breaker halts liquidations. Reads ``P, price_history, coll, debt, lt_eff, halted``
    and the ``maker_*`` fields; writes nothing."""
    mk = c.maker
    if mk is None or not mk.m:
        return np.zeros(b.S)
    books = vault_books(c, s, b)  # the vaults at the round's opening, as the round's own step reads them
    ink, feed, market = books.ink, books.feed, books.market
    mat = 1.0 / s.lt_eff[:, maker_columns(c)]
    vault_debt = books.vault_debt
    vault_debt = vault_debt - owners_repay(c, b, ink, vault_debt, np.minimum(feed, market), mat)
    hours = b.round_hours if b.round_hours is not None else np.full(b.S, 24.0)
    params = mk.params if mk.flip else round_limits(mk, hours * 3600.0)
    zero = np.zeros_like(ink)
    state = MakerState(ink=ink, debt=vault_debt, tab=s.maker_tab, lot=s.maker_lot, top=s.maker_top,
                       elapsed=s.maker_elapsed, due=s.maker_due, raised=s.maker_raised, ilk_dirt=s.maker_ilk_dirt,
                       Dirt=s.maker_dirt, surplus=zero[:, 0], deficit=zero[:, 0], mkr_supply=s.mkr_supply,
                       mkr_price=s.mkr_price, spread=s.maker_spread)
    barks, _, _ = maker_barks(state, mk.ilk, params, feed, mat, 1.0, ~s.halted[:, None])
    price = market * (1.0 - KEEPER_MARGIN)  # what keepers take a lot at (maker_book.KEEPER_MARGIN)
    new = np.where(barks.tab > 0, np.minimum(barks.tab, barks.dink * price), 0.0).sum(1)
    live = np.where(s.maker_tab > 0, np.minimum(s.maker_tab, s.maker_lot * price[:, None]), 0.0).sum((1, 2))
    # at most what the system's keepers can bring (none where halted), whatever the capital: a rule's ask is not
    # cut to the capital, the split weighs the asks as they are
    return np.minimum(new + live, keeper_capacity(mk, b, s.halted, np.full(b.S, np.inf)))


def round_limits(mk: MakerBook, round_seconds: np.ndarray) -> IlkParameters:
    """The bark limits over a round, per scenario: ``hole`` and ``Hole`` cap the DAI under auction *at once*,
    and auctions that finish free their room (``dog.digs``), so a round of ``T`` seconds holds
    ``T / auction_seconds`` auction cycles of each ilk (at least one) [model: keepers clear each cycle
    before the next barks]; ``Hole`` scales with the ilks' longest cycle."""
    cycles = np.maximum(round_seconds[:, None] / mk.cycle_seconds[None], 1.0)   # (S, ilks)
    p = mk.params
    return replace(p, hole=p.hole[None] * cycles, Hole=p.Hole * cycles.min(1))


def keeper_capacity(mk: MakerBook, b: ScenarioBatch, halted: np.ndarray,
                    maker_capital: np.ndarray | None = None) -> np.ndarray:
    """DAI keepers bring to Maker's auctions this round, (S,): none while a breaker halts liquidations.

    The round's liquidators' capital is one (:func:`core.engine.capital.split_capital`): Maker's keepers have
    the system's share of it (``maker_capital``, the state's, written by :func:`core.engine.liquidate.liquidate`:
    the share of the capital the system's ask is of every rule's, :func:`core.engine.maker_ask.keeper_ask`, or
    what the other rules leave where every ask fits; None: the whole capacity), and at most the table's
    ``keeper_capacity_usd`` scaled by the liquidity and the round's length. [Model: keepers and Aave liquidators
    are the same profit-seeking capital (Qin et al., IMC 2021), so the system's auctions are served the same
    share of their ask as the close-factor cohorts and the Maker-style auctions; with an infinite capacity
    nothing changes. Served last (what the others left), Maker's auctions had no keepers in rounds 0-5 of
    ``monotone-shipped-cel-eth-luna-ulp-celsius-runs-capital-maker`` (close-factor ask $1,735M in round 0 beside
    $286.5M); given the whole capacity, each rule spent it (2.00 x the capital a round on crypto-2022-05).]"""
    hours = b.round_hours if b.round_hours is not None else np.full(b.S, 24.0)
    capital = b.capacity if maker_capital is None else maker_capital
    cap = np.minimum(capital, mk.keeper_capacity * b.liquidity * hours / 24.0)
    return np.where(halted, 0.0, cap)


def owners_repay(c: Compiled, b: ScenarioBatch, ink: np.ndarray, debt: np.ndarray, price: np.ndarray,
                 mat: np.ndarray) -> np.ndarray:
    """DAI the owners of each Maker cohort's vaults repay this round, (S, m)
    (:func:`~core.mechanisms.vault_defence.defence_repayment`): the share of the round
    (:func:`~core.mechanisms.vault_defence.acting_share`, under the scenario's liquidity) of the gap to their
    target at ``price``, the lower of the feed and the market (the OSM shows its next price an hour ahead).
    The target is ``mat * (1 + TARGET_MARGIN)``, or the cohort's ratio at reference where that is lower (never
    below ``mat``): owners restore the ratio they chose, so nothing is repaid before prices move. Named
    borrowers' vaults are left to their own books [model: their defence is not modelled]."""
    mk = c.maker
    assert mk is not None
    hours = b.round_hours if b.round_hours is not None else np.full(b.S, 24.0)
    share = vault_defence.acting_share(hours, b.liquidity, vault_defence.DAILY_SHARE)[:, None]
    debt0 = c.c_debt[mk.cohorts]
    cr0 = np.where(debt0 > 0, c.c_coll[mk.cohorts] * c.P0[mk.ca] / np.where(debt0 > 0, debt0, 1.0), np.inf)
    target = np.minimum(mat * (1.0 + vault_defence.TARGET_MARGIN), np.maximum(cr0[None], mat))
    repaid = vault_defence.defence_repayment(ink * price, debt, target, share)
    return np.where(mk.named[None], 0.0, repaid)
