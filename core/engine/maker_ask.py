r"""What the Maker system's keepers ask of the round's one liquidators' capital, known before it is split.

Model. Liquidators and keepers are the same profit-seeking capital, racing for every protocol's liquidations at
once [Qin et al., "An Empirical Study of DeFi Liquidations: Incentives, Risks, and Instabilities" (IMC 2021)],
so the network's own Maker system (:mod:`core.engine.maker`) is served the same share of what it asks as the
close-factor cohorts and the other Maker-style auctions (:func:`core.engine.capital.split_capital`), not what
they leave. Its ask :math:`M` is read from the round's opening state, before any rule runs, as its step
(:func:`core.engine.maker.vault_auctions`) will find it, the liquidation step before it leaving its vaults and
prices as they are:

* the vaults' collateral and debt outside their live auctions and outside what finished auctions handed back
  (``maker_free``), the owners' defence applied first (:func:`core.engine.maker.owners_repay`);
* the barks ``dog.bark`` makes at the OSM (oracle) price and par within ``hole``/``Hole`` (over the round's
  auction cycles, :func:`core.engine.maker.round_limits`; the ilks' own in the flip era) and ``dust``
  (:func:`~core.mechanisms.maker_liquidations._barks`, the bark the round itself makes), none where halted;
* each new lot and each live auction valued at the price keepers take it at, the market less their selling cost
  (:data:`~core.engine.maker_book.KEEPER_MARGIN`), at most its tab: ``min(tab, lot x market x (1 - margin))``,
  what ``clip.take`` pays (and what flip.sol's bidders pay, :func:`~core.mechanisms.maker_flip.flip_round`),
  as the Maker-style cohorts' ask (:func:`~core.engine.auction_vaults.auction_lots`) is their lots' value at
  their clearing price, at most their tab;
* at most what the system's keepers can bring: the table's ``keeper_capacity_usd`` scaled by the liquidity and
  the round's length (:func:`core.engine.maker.keeper_capacity`), so capital they could not use is not taken
  from the other rules.

[Model choices: the auctions' step price (``abaci.sol``'s stairstep, at or below the keepers' price) and the
market of the moment a vault crosses its ratio within the round (:mod:`~core.mechanisms.maker_crossing`) are
replaced by the round's market less the margin, which keeps the ask continuous in prices; an auction whose curve
cannot reach the keepers' price within the round asks as one that can. Where the ask is larger than what the
round's auctions take, the share it stands for goes unused by the other rules, as the Maker-style cohorts'.]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..mechanisms.maker_liquidations import MakerState
from ..mechanisms.maker_liquidations import _barks as maker_barks  # the round's own bark, not a copy of it
from .maker import keeper_capacity, owners_repay, round_limits
from .maker_book import maker_columns, vault_books
from .maker_book import KEEPER_MARGIN

if TYPE_CHECKING:
    from .batch import ScenarioBatch
    from .compiled import Compiled
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
