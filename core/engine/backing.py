r"""Step 4 of a round, backing links: PSM-backed CDP stablecoins, their premium, partly collateralised coins.

* **PSM** (``psm`` rows of the ``pegs`` table; Maker's ``dss-psm``): a CDP
  coin is a claim on the PSM's backing coin for the PSM's share ``s`` of its
  supply and on vault collateral for the rest,
  ``V = s p_b + (1-s) min(1, B)`` (:func:`~core.mechanisms.psm.psm_backed_value`),
  ``B`` what the vaults' collateral covers of their debt, each vault's of its own debt only (``end.skim``'s
  ``min(ink, owe)``, each cohort a spread of vaults: :func:`core.engine.maker_claim.vaults_cover`), over
  their debt; for a live Maker system it counts
  what its debt auctions can still raise behind the vaults (a vault deficit is
  MKR holders' first, ``vow.flop``: :func:`core.engine.maker_claim.vault_claim`);
  for an issuer that holds its PSM's backing itself (SKY's DAI and USDS, one book) ``B = 1``: its vault loans are
  its assets, so the clearing marks their shortfall in its equity, and what it owes beyond all it holds reaches
  every coin alike through its paid ratio (decision 18's ``deficit_priced`` while live, ``end.cash``'s blend
  :math:`\rho L_t / D` once caged; ``DaiUsds`` converts DAI and USDS 1:1). Before session 44 (skyedge) DAI's row,
  which holds all of Sky's vault cohorts, also took ``B`` over its non-PSM share: the shortfall counted twice, DAI
  0.0515 under USDS and under End's blend (WBTC -88%, USDC -17%, lag 2: 0.8745 against 0.9259), and the round of
  Sky's cage moved the loss by $330.34M (``tests/test_sky_one_book_vaults.py``);
  arbitrage through the PSM (fees ``tin``/``tout``, ceiling ``line``) pulls the
  market toward the backing coin's price and moves the PSM's holdings and the
  coin's supply (:func:`~core.mechanisms.psm.psm_arbitrage`), and the PSM
  entity's books with them (:func:`follow_balance`). DAI follows USDC while
  Maker is live. Once the coin's issuer has defaulted it is shut down
  (``end.cage`` cages the Vat, whose ``frob`` both swaps call): the PSM swaps
  nothing, this step leaves the coin's price alone, and it trades at
  ``end.cash``'s blend of the vaults' recovery and the PSM's backing
  (:func:`core.engine.maker_co_issued.coin_recoveries`), USDC moving it only
  through the PSM's share. An issuer that holds its PSM's backing itself (SKY
  on the 2025 network, owing DAI and USDS, which ``DaiUsds`` converts 1:1, as
  one book) pays each of its coins the same blend: its paid ratio on its
  liabilities at the backing's worth, times their worth over their face. The
  PSM's fees are the issuer's surplus, paid by the arbitrageurs
  (:func:`book_fees`).
  Governance halts ``sellGem`` once the backing has traded below the sell pin for the row's ``psm_halt_hours``
  (:mod:`~core.mechanisms.psm_halt`; ``safeguards.psm_governance_halt`` off: never): the coin then trades at
  its backed value, the PSM's share frozen, not at the backing's price.
* **CDP premium**, two parts. (a) Vault owners of the issuing protocol below their target
  ratio (liquidation ratio times ``1 + CDP_TARGET_MARGIN``) buy the coin to
  repay, ``CDP_REPAY_SHARE`` of what they need per day
  (:func:`~core.mechanisms.cdp_premium.repay_demand`); for a Maker system
  (``maker_ilks``) the demand is the DAI its vault owners did repay this round
  (``maker_repaid``, :func:`core.engine.maker_ask.owners_repay`); demand beyond what the
  PSM can mint lifts the price above peg, by at most 12%
  (:func:`~core.mechanisms.cdp_premium.cdp_premium_price`; Black Thursday:
  DAI 1.06-1.12). This is the one mechanism that puts a stablecoin above peg.
  It lifts the price the PSM's arbitrage left (its minted coin sold, or bought back to redeem) by the factor
  ``1 + 0.12 (1 - exp(-u/K))``, ``u`` the demand beyond the PSM's room; until session 33 it replaced that
  price by the backed value after the swaps, so a live Maker's DAI with USDC failed was 0.5626 in a round its
  vault owners repaid $1.2M and 0.0059 (949M DAI minted against worthless USDC and sold) in one they repaid none.
  The demand is a flow (a round of ``h`` hours carries ``h/24`` of a day's),
  and so is the depth it meets: the market's depth ``K`` is what it absorbs in
  a day, ``K h/24`` in the round, so the premium depends on the demand per day,
  not on the round's length [model: the order book refills as fast as the
  demand arrives; DAI's premium held for days after 12-13 March 2020, notes
  §4.1]. Before, the depth stood for any round, and the premium fell with
  shorter rounds: Black Thursday's peak 1.049 in one daily round, 1.0006 in
  hourly rounds. (b) The **supply squeeze**: the DAI the collateral and debt
  auctions raise is burnt (``flip.sol``/``clip.sol`` bids go to the Vow,
  ``vow.sol`` heals them), so the coin's supply shrinks while its holders'
  dollar demand stays; the price clears at ``S0 / (S0 - u)`` times the
  premium of (a), ``u`` the DAI burnt less what was re-minted: by the PSM at
  par, up to the autoline's room in each round (the ceiling the arbitrage had,
  :func:`~core.mechanisms.psm.autoline_ceiling`), and by vault owners
  (:func:`~core.mechanisms.cdp_premium.remint`). The PSM's re-mint is ``sellGem``'s, booked in the round it
  happens (:func:`~core.mechanisms.psm.sell_gem`, dss-psm ``src/psm.sol``): ``Y`` DAI handed out take in
  ``G = Y/(1 - tin)`` of the backing coin, the PSM's balance, its entity's holdings and liabilities
  (:func:`follow_balance`) and the coin's supply grow by ``G``, the fee ``G tin`` is the issuer's
  (:func:`book_fees`), so a later fall of the backing coin hits the larger reserve; from the next round the
  coin's supply carries it and the vault owners' part alone stays a stock (``peg_reminted``). For the share of
  the round governance has halted ``sellGem`` the re-mint is not booked [residual: a price effect, as all of it
  was before session 23]. The AMM pools holding the coin
  (the 3pool's DAI) sell it along their curves before the holders give theirs
  up (:func:`~core.mechanisms.cdp_premium.supply_squeeze_factor`,
  :func:`~core.mechanisms.cdp_premium.squeeze_curve`: Klages-Mundt & Minca's
  market clearing with Curve's and Uniswap's curves), never above the 12% cap. Black Thursday's hourly
  path: the peak went from 1.0146 (the flow alone, whose vaults the hourly
  oracle liquidates within an hour or two) to the cap, 1.12: 1.105 after the
  10:00-11:00 UTC crash hour (9.55M of 104M DAI burnt), the cap from 22:00
  UTC. The clearing alone reaches 1.30 (24.1M burnt), so the cap binds: real
  holders sold more readily than a fixed dollar demand implies, and vault
  owners mint against a premium: above peg they re-mint what is missing at
  :data:`~core.mechanisms.cdp_premium.REMINT_RATE` (3.9% a day, DAI's re-peg
  after March 2020), so the squeeze fades over weeks
  (:func:`~core.mechanisms.cdp_premium.remint`). The
  squeeze lifts a coin at its peg only: not one the scenario depegs nor one
  whose issuer is in default [model choice: their holders' claim is worth
  less than par, and lifting it would be value paid from outside the books
  that a deeper shock raises; crypto-2020-03 searches found both: DAI 17.8%
  off peg, ETH -24.4% -> -25.0%, loss -$6.35M; Maker forced, ETH -52.2%,
  loss -$9.76M].
* **Fractional** (FRAX v2): redemption returns the collateral ratio in the
  collateral coin and the rest in the governance token, taken at par
  (:func:`~core.mechanisms.psm.fractional_stable_value`, :func:`fractional_values`).
  Once its issuer has defaulted the coin trades at the issuer's paid ratio
  times that value (:func:`core.engine.maker_co_issued.coin_recoveries`).

Each channel sets a factor on the coin's price (``peg_factor``): the price is
divided by last round's factor and multiplied by this round's, so it composes
with the issuer's default and with scenario depegs, and it re-pegs when the
backing coin does.

The pass-through issuers' books (the PSM entity's holdings and liabilities following its balance, the
PSM's fees) are :mod:`core.engine.backing_books`'s, whose names are re-exported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import dataclass

import numpy as np

from ..mechanisms import cdp_premium, psm, psm_halt
from .backing_books import backed_liabilities as backed_liabilities  # the books, importable from here
from .backing_books import book_fees, follow_balance
from .batch import ScenarioBatch
from .compiled import Compiled
from .maker_book import securing_collateral
from .maker_claim import vault_claim, vaults_cover
from .memo import per_network
from .peg_terms import end_cash_holder, squeeze_pools
from .reserves import days

if TYPE_CHECKING:
    from .state import CascadeState, Changes

#: Vault owners aim this far above their liquidation ratio when they deleverage [estimate].
CDP_TARGET_MARGIN = 0.10
#: Share of the repayment they need that vault owners make in a day [estimate].
CDP_REPAY_SHARE = 0.25


@dataclass(frozen=True, eq=False)
class BackingTerms:
    """What the PSM channel reads that is fixed for a run, per scenario: built once by :func:`backing_terms`,
    cut with the batch (:meth:`~core.engine.state.CascadeState.take`)."""

    depth: np.ndarray         # (S, q) each PSM coin's market depth under the scenario's liquidity
    round_days: np.ndarray    # (S, 1) days a round stands for: the premium's depth over the round is depth * days
    target: np.ndarray        # (S, 1, c) the collateral ratio vault owners aim for when they deleverage
    acting_share: np.ndarray  # (S, 1) share of the repayment they need that vault owners make in a round
    halt_hours: np.ndarray    # (S, q) hours below the sell pin after which governance halts each PSM's sellGem (inf: never)


def backing_terms(c: Compiled, b: ScenarioBatch, lt_eff: np.ndarray) -> BackingTerms | None:
    """The run's :class:`BackingTerms` (None without PSMs); ``lt_eff`` (S, c) the cohorts' thresholds under
    the scenario's safeguards."""
    g = c.pegs
    if g is None or not len(g.psm_asset):
        return None
    target = np.where(lt_eff > 0, 1.0 / np.maximum(lt_eff, 1e-12), 1.0) * (1.0 + CDP_TARGET_MARGIN)
    halt = np.ones(b.S, bool) if b.psm_halt is None else b.psm_halt
    return BackingTerms(depth=g.psm_depth[None] * b.liquidity[:, None], round_days=days(b)[:, None],
                        target=target[:, None], acting_share=CDP_REPAY_SHARE * days(b)[:, None],
                        halt_hours=np.where(halt[:, None], g.psm_halt_hours[None], np.inf))


def backing_links(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """Reads ``P, peg_factor, coll, debt, lt_eff, psm_balance, psm_supply, psm_paid_in, psm_impaired_hours, peg_reminted,
    maker_repaid, defaulted, fee_income, borrowers_penalty, borrowers_penalty_in, maker_surplus``; writes ``P, peg_factor, psm_balance,
    psm_supply, psm_paid_in, psm_value, psm_impaired_hours, peg_reminted``, the PSM fees' ``fee_income, borrowers_penalty, borrowers_penalty_in, maker_surplus`` and, in place, the
    holdings ``H`` of the PSM entities and of the issuers whose Vow takes the fees (:func:`follow_balance`,
    :func:`book_fees`)."""
    g = c.pegs
    if g is None or not (len(g.psm_asset) or len(g.frac_asset)):
        return {}
    P, factor = s.P.copy(), s.peg_factor.copy()
    changes: Changes = {}
    if len(g.psm_asset):
        qa, bk = g.psm_asset, g.psm_backing
        k = per_network(c, "psm_constants", lambda: _PsmConstants.of(c))
        pb = P[:, bk] / c.peg1[bk]
        m = g.psm_cohorts[None]                                   # (1, q, c): each coin's vaults
        t = s.backing
        assert t is not None
        # the vaults' collateral, locked or on auction: not what finished auctions handed back to their owners
        coll_usd = securing_collateral(c, s) * np.take(P, c.c_ca, axis=1)  # P[:, c_ca], by the faster gather
        debt = s.debt * k.debt_peg                              # at par: what the vault owes
        # sums per row (not a matrix product, whose rounding may depend on the batch's size)
        coll_by_coin, debt_by_coin = np.where(m, coll_usd[:, None], 0.0), np.where(m, debt[:, None], 0.0)
        # each vault's collateral covers its own debt only (end.skim: min(ink, owe); clip.take hands the rest
        # of a lot back), so the claim is sum over vaults of min(collateral, debt) over the debt: at most par
        vault_paid = np.where(m, vaults_cover(c, s, coll_usd, debt, k.coin_cohorts)[:, None], 0.0).sum(-1)
        vault_debt = debt_by_coin.sum(-1)
        owes = vault_debt > 0
        B = np.where(owes, vault_paid / np.where(owes, vault_debt, 1.0), 1.0)
        solvent = ~np.where(k.has_issuer, s.defaulted[:, k.issuer_at], False)
        mk = c.maker
        if mk is not None and mk.m and mk.debt_auctions:  # a live Maker's vault deficit is MKR holders' first (vow.flop), then DAI's
            B = np.where(k.maker_own & solvent, vault_claim(s, vault_paid, vault_debt), B)
        # an issuer holding its PSM's backing itself owes all its coins out of one book (SKY's DAI and USDS): its
        # vaults' shortfall is its own, borne by its equity first, and reaches every coin alike through its paid ratio
        # (maker_governance.deficit_priced while live, end.cash's blend once shut down), not one coin's vault side
        B = np.where(k.one_book, 1.0, B)
        supply = np.maximum(s.psm_supply, 1e-9)
        share = np.minimum(s.psm_balance / supply, 1.0)
        value = psm.psm_backed_value(share, pb, B)
        K = t.depth
        # a defaulted issuer is shut down (end.cage cages the Vat): its PSM swaps nothing (psm.psm_arbitrage, live)
        # and the coin trades at end.cash's claim (below)
        hours = t.round_days * 24.0  # governance's clock (psm_halt): none where no row has a reaction time
        acts = bool(np.isfinite(t.halt_hours).any())
        below = (pb < 1.0 - g.psm_tin[None]) if acts else False
        sell_open = psm_halt.sell_open_share(s.psm_impaired_hours, hours, t.halt_hours) if acts else 1.0
        ceiling = psm.autoline_ceiling(s.psm_balance, g.psm_line[None], g.psm_gap[None], g.psm_gap_hours[None], hours)
        arb = psm.psm_arbitrage(np.maximum(value, 1e-12), np.maximum(pb, 1e-12), s.psm_balance, supply, K,
                                line=ceiling, tin=g.psm_tin[None], tout=g.psm_tout[None], live=solvent,
                                sell_open=sell_open)
        demand = cdp_premium.repay_demand(coll_by_coin, debt_by_coin, t.target, t.acting_share)
        if mk is not None and mk.m:  # the Maker system's vault owners: the DAI they repaid this round
            demand = np.where(k.maker_own, s.maker_repaid[:, None], demand)
        # squeeze room: what the PSM may still mint this round, in DAI, under the ceiling its arbitrage had (the autoline's)
        room = np.maximum(ceiling - arb.psm_balance, 0.0) * (1.0 - g.psm_tin[None])
        squeeze = demand > room
        # their buying meets the market the PSM's arbitrage left: the premium lifts the arbitrage's price (after the
        # coin it minted was sold, or bought back to redeem), not the backed value after its swaps, which dropped their
        # price impact (a 949M-DAI mint against a worthless USDC erased by $1.2M of repayments: 0.5626, not 0.0059)
        lift = cdp_premium.cdp_premium_price(1.0, demand, K * t.round_days, psm_mint_room_usd=room)
        base = np.where(squeeze, arb.price * lift, arb.price)
        # the supply squeeze: DAI the auctions (and debt auctions) burnt leaves the holders' market short
        # a premium over the coin's par claim: it lifts a coin at its peg, not one below it (depegged by the
        # scenario, or its issuer in default), whose holders' claim a shrinking supply does not make worth more;
        # a coin its PSM pins to a backing coin below par is at its peg there (else a USDC a hair below par would
        # switch the squeeze off: the test_psm_halt pair, $9.7M less loss for USDC 1e-6 deeper); only a PSM that
        # can hold the backing coin pins (a debt line or a balance): with none, as DAI's on 12 March 2020 (Maker's
        # PSM came in December 2020), a failed backing coin at 1e-12 lowered the floor to 1e-12 and a DAI the
        # scenario depegged was lifted to the 12% cap (session 28, t20: the 2020 CIRCLE/DAI pairs)
        pins = (g.psm_line[None] > 0) | (share > 0)
        at_peg = P[:, qa] / factor[:, qa] * base >= k.at_peg_floor * np.where(pins, np.minimum(pb, 1.0), 1.0)
        # the coin the PSM's arbitrage minted beyond the reference supply is back in the holders' market: it offsets
        # what the auctions burnt (with the backing below par the PSM mints; its fee DAI, the Vow's, counts as burnt)
        burnt = np.maximum(_burnt(c, s, qa) - np.maximum(arb.dai_supply - k.supply_units, 0.0) * k.peg, 0.0)
        # the PSM re-mints what is missing at par up to its room this round (the autoline's share of it), and above
        # peg vault owners part of the rest (the premium's fade): the stock re-minted, cdp_premium.remint
        lifts = solvent & at_peg
        stock = np.where(lifts, cdp_premium.remint(burnt, s.peg_reminted, t.round_days, psm_mint_room_usd=room),
                         s.peg_reminted)
        short = np.maximum(burnt - stock, 0.0)
        # the PSM's part is sellGem's while it is open, booked (psm.sell_gem): the backing coin in, the DAI handed
        # out, the fee to the Vow; from the next round the coin's supply carries it (the offset above: what it adds
        # beyond the reference) and the fee counts as burnt (_burnt), so peg_reminted keeps the rest of the stock:
        # the vault owners' part, and the halted share of the round's [residual: a price effect, as all of it was
        # before; a halted sellGem takes no backing in (psm_halt), and what relieves the squeeze then, the issuer's
        # other coin converted (DaiUsds), is not modelled]
        sold_in = np.where(lifts, sell_open * np.minimum(room, np.maximum(burnt - s.peg_reminted, 0.0)), 0.0)
        before = arb.dai_supply
        arb = psm.sell_gem(arb, sold_in / k.peg, g.psm_tin[None])
        carried = (np.maximum(arb.dai_supply - k.supply_units, 0.0) - np.maximum(before - k.supply_units, 0.0)) * k.peg
        fee = np.where(k.has_issuer, (arb.dai_supply - before) * g.psm_tin[None] * k.peg, 0.0)
        reminted = np.maximum(stock + fee - carried, 0.0)
        backed = psm.psm_backed_value(arb.psm_share, pb, B)  # the coin's backing after the swaps
        if not (short <= 0.0).all():  # some coin short (or NaN: computed, as it was)
            kf = cdp_premium.supply_squeeze_factor(short, k.supply_usd)
            for j, curve in k.squeeze_curves:  # the few coins AMM pools hold (DAI's 3pool): cleared along their curves
                kf[:, j] = cdp_premium.supply_squeeze_factor(short[:, j], k.supply_usd[0, j], curve=curve)
            top = backed * (1.0 + cdp_premium.MAX_PREMIUM)
            new = np.where((kf > 1.0) & solvent & at_peg, np.minimum(base * kf, top), base)
        else:  # nothing missing: every factor is 1.0 exactly, S0 / S0 or a curve's par point (price 1 at nothing
            # supplied), and ``kf > 1`` lifts no coin: the base, to the bit
            new = base
        # a shut-down issuer's coin paid out of its vaults and a PSM's backing (DAI: MAKER and MAKER_PSM in 2022;
        # DAI and USDS: SKY, holding the PSM's USDC itself, in 2025) is priced by end.cash's claim, the blend
        # issuer_effects caps it at (maker_co_issued.coin_recoveries): no channel of this step moves it (no swaps, no
        # repayments: vat.frob requires live)
        new = np.where(solvent | k.no_end_cash, new, 1.0)
        P[:, qa] = P[:, qa] / factor[:, qa] * new
        factor[:, qa] = new
        moved = arb.psm_balance - s.psm_balance
        follow_balance(c, s.H, moved)
        changes.update(psm_balance=arb.psm_balance, psm_supply=arb.dai_supply, peg_reminted=reminted, psm_value=backed,
                       psm_impaired_hours=s.psm_impaired_hours + np.where(below, hours, 0.0) if acts else s.psm_impaired_hours,
                       psm_paid_in=s.psm_paid_in + moved * P[:, bk], **book_fees(c, s, arb, k))
    if len(g.frac_asset):
        fr = g.frac_asset
        new = fractional_values(c, P)
        P[:, fr] = P[:, fr] / factor[:, fr] * new
        factor[:, fr] = new
    return changes | dict(P=P, peg_factor=factor)


def fractional_values(c: Compiled, P: np.ndarray) -> np.ndarray:
    r"""Each fractional coin's redemption value per unit of its peg at prices ``P``, (S, r) (the ``fractional`` rows'
    order): ``CR p_b + 1 - CR``, ``p_b`` its collateral coin's price over its peg
    (:func:`~core.mechanisms.psm.fractional_stable_value`). What its pass-through issuer owes a unit's holder
    (:func:`backed_liabilities`: :math:`L_t = S(\mathrm{CR}\,p_b + 1 - \mathrm{CR})`), the factor the coin's price
    carries (:func:`backing_links`), and, times the issuer's paid ratio, what a failed issuer's coin recovers
    (:func:`~core.engine.maker_co_issued.coin_recoveries`)."""
    g = c.pegs
    assert g is not None
    co = g.frac_collateral
    return psm.fractional_stable_value(g.frac_ratio[None], P[:, co] / c.peg1[co])


def fractional_rows(c: Compiled) -> np.ndarray | None:
    """The ``fractional`` rows of the pegs table whose coin has an issuer (FRAX on the 2022 network, USDtb on the
    2025 one); None where the network has none."""
    g = c.pegs
    if g is None or not len(g.frac_asset):
        return None
    rows = np.flatnonzero(c.issuer[g.frac_asset] >= 0)
    return rows if len(rows) else None


@dataclass(frozen=True, eq=False)
class _PsmConstants:
    """What :func:`backing_links` reads of the network alone, (1, q) per PSM coin unless said: constants, taken once
    (:func:`~core.engine.memo.per_network`) by the same indexing and products the step made every round."""

    debt_peg: np.ndarray      # (1, c) each cohort's debt token's peg
    has_issuer: np.ndarray    # the coin has an issuer entity
    issuer_at: np.ndarray     # (q,) its issuer (0 where none)
    maker_own: np.ndarray     # the Maker system's own coin (False without one)
    at_peg_floor: np.ndarray  # peg * (1 - 1e-12): at or above it a coin is at its peg
    supply_usd: np.ndarray    # the coin's reference supply at its peg
    supply_units: np.ndarray  # the coin's reference supply, units (the PSM's arbitrage moves it: psm_supply)
    no_end_cash: np.ndarray   # no end.cash blend prices the coin once shut down (peg_terms.end_cash_holder)
    one_book: np.ndarray      # the coin's issuer holds its PSM's backing itself (SKY's DAI and USDS, end_cash_holder)
    burnt_held0: np.ndarray   # the issuer's reference holding of the coin (0 where no issuer)
    peg: np.ndarray           # the coin's peg
    coin_cohorts: np.ndarray  # (cohorts,) the cohorts owing some PSM coin (psm_cohorts' columns with any), increasing
    squeeze_curves: tuple     # (row, cdp_premium.SqueezeCurve) of each PSM coin some AMM pool holds (squeeze_pools)

    @classmethod
    def of(cls, c: Compiled) -> "_PsmConstants":
        g = c.pegs
        assert g is not None
        qa = g.psm_asset
        iss = c.issuer[qa]
        has = iss >= 0
        mk = c.maker
        own = (qa == mk.da) & (iss == mk.protocol) if mk is not None and mk.m else np.zeros(len(qa), bool)
        return cls(debt_peg=c.peg1[c.c_da][None], has_issuer=iss[None] >= 0, issuer_at=np.maximum(iss, 0),
                   maker_own=own[None], at_peg_floor=c.peg1[qa][None] * (1.0 - 1e-12),
                   supply_usd=c.supply[qa][None] * c.peg1[qa][None], supply_units=c.supply[qa][None],
                   no_end_cash=(end_cash_holder(c) < 0)[None],
                   one_book=((iss >= 0) & (end_cash_holder(c) == iss))[None],
                   burnt_held0=c.H0[np.where(has, iss, 0), qa][None], peg=c.peg1[qa][None],
                   coin_cohorts=np.flatnonzero(g.psm_cohorts.any(0)),
                   squeeze_curves=tuple((j, cdp_premium.squeeze_curve(c.supply[a] * c.peg1[a], pools))
                                        for j, a in enumerate(qa) if (pools := squeeze_pools(c, j))))



def _burnt(c: Compiled, s: CascadeState, qa: np.ndarray) -> np.ndarray:
    """Each PSM coin's supply burnt so far by its issuer's liquidations, (S, q), USD face: the coin its issuer
    took in (auctions' and liquidators' DAI, held against its liability: :mod:`~core.engine.maker`,
    :mod:`~core.engine.liquidate`) beyond what it held at reference, and the DAI its debt auctions raised less what
    its surplus auctions paid out (``vow.flap``: back in circulation); not what
    its vault owners repaid (:func:`core.engine.maker_ask.owners_repay`, booked at face value outside its holdings),
    whose buying is the flow premium's demand (counting it here too would count it twice). ``qa``: the PSM coins,
    ``c.pegs.psm_asset``."""
    k = per_network(c, "psm_constants", lambda: _PsmConstants.of(c))
    took = np.where(k.has_issuer, s.H[:, k.issuer_at, qa] - k.burnt_held0, 0.0)
    burnt = np.maximum(took, 0.0) * k.peg
    mk = c.maker
    if mk is not None and mk.m:
        # the debt auctions' DAI leaves circulation; the surplus auctions' returns to it (paid to MKR bidders)
        net = s.maker_flop_raised - s.maker_flap_paid
        burnt = np.maximum(burnt + np.where(k.maker_own, net[:, None], 0.0), 0.0)
    return burnt
