"""The state of a batch of cascades between two steps of a round.

:class:`CascadeState` holds every array the steps read and write, each with a
leading scenario axis: ``(S,)``, ``(S, n)`` (entities), ``(S, k)`` (assets),
``(S, c)`` (borrower cohorts), ``(S, p, 2)`` (pool reserves) or ``(S, m)``
(in-kind claims). Its fields are fixed (``slots``) and their shapes never
change during a run, except that :meth:`CascadeState.take` keeps some
scenarios (the batch drops scenarios that have settled). A step returns the
fields it changes as a dict (:data:`Changes`); :meth:`CascadeState.apply`
writes them. Steps that add to a large array in place (holdings, estates)
say so in their docstring.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from ..mechanisms.clearing import ClearingStep
from .known_zeros import repeated, zeros
from .maker import initial_fields as maker_fields
from .row_views import rows_of
from .unfollowed import empty_ranges

if TYPE_CHECKING:
    from .batch import ScenarioBatch
    from .compiled import Compiled
    from .backing import BackingTerms
    from .staking import StakingTerms

#: The fields a step changes and their new values.
Changes = dict[str, Any]


@dataclass(eq=False, slots=True, weakref_slot=True)  # weakly referenced: maker_book.securing_collateral
class CascadeState:
    # --- prices and markets
    P: np.ndarray                   # (S, k) prices now
    price_history: list[np.ndarray]  # reference prices, then each round's closing prices (oracle lag, breaker)
    pool_res: np.ndarray            # (S, p, 2) pool reserves [token units, counter units]
    pool_px: np.ndarray             # (S, p) pools' marginal prices in counter units
    supply: np.ndarray              # (S, k) token supplies (algorithmic stablecoins and their backing)
    algo_queue: np.ndarray          # (S, k) redemptions of algorithmic stablecoins waiting for mint/burn capacity (USD)
    algo_redeemed: np.ndarray       # (S, k) the round's mint-and-burn redemptions by holders (USD): the capacity they used
    log_mcap: np.ndarray            # (S, k) log market cap of the backing token of an algorithmic stablecoin
    impact_log: np.ndarray          # (S, k) cumulative log-price impact of sales on order books
    sold_reference_usd: np.ndarray  # (S, k) units sold on order books so far, at reference prices (supply-scaled)
    # --- pegs held by reserves, PSMs, collateral and staking floors (core.engine.peg_terms)
    peg_factor: np.ndarray          # (S, k) multiplier the backing channels apply to each token's price (1: none)
    issuer_cap: np.ndarray          # (S, k) multiplier a defaulted issuer's recovery applied to its coin last round (1: none)
    fiat_liquid: np.ndarray         # (S, f, 3) fiat issuers' liquid reserves (cash, T-bills, other), USD
    fiat_frozen: np.ndarray         # (S, f, 3) their frozen reserves, USD
    fiat_supply: np.ndarray         # (S, f) coins outstanding (USD face)
    fiat_queue: np.ndarray          # (S, f) redemption requests waiting, USD
    redeemed_usd: np.ndarray        # (S, n) face each fiat issuer has paid its coin's holders so far: its liabilities fall by it
    psm_balance: np.ndarray         # (S, q) backing coin held by each PSM, units
    psm_supply: np.ndarray          # (S, q) supply of the PSM-backed coin
    psm_paid_in: np.ndarray         # (S, q) USD of backing paid into each PSM since the reference, at each swap's price (out: negative)
    psm_value: np.ndarray           # (S, q) each PSM coin's backed value a unit of its peg after the round's swaps
    #                                 (core.mechanisms.psm.psm_backed_value): what the arbitrage's pin may hold it below
    psm_impaired_hours: np.ndarray  # (S, q) hours each PSM's backing has traded below its sell pin: governance's clock
    #                                 (core.mechanisms.psm_halt.sell_open_share)
    peg_reminted: np.ndarray        # (S, q) coin re-minted against its premium so far and not booked in the PSM (vault
    #                                 owners', and a halted PSM's share), USD (cdp_premium.remint, backing.backing_links)
    lst_open_res: np.ndarray        # (S, l, 2) and their reserves
    lst_held: np.ndarray            # (S, l) tokens arbitrageurs bought below the floor, held (core.mechanisms.lst_holdings)
    lst_capital: np.ndarray         # (S, l) their capital arrived by this round's end, at the reference gap
    lp_withdrawn: np.ndarray        # (S, p, 2) units LPs withdrew from each pool (still theirs: the pool entity's holdings)
    pool_unfollowed: np.ndarray     # (S, p, r, 2) the pool prices a queue sale, the arbitrage or the counter's fall took the pool
    #                                 down through while its coin, trading below, stayed (core.engine.unfollowed), as up to r
    #                                 disjoint ranges [low, high] in counter units at pool_counter_seen; low >= high: none
    pool_counter_seen: np.ndarray   # (S, p) the counter's move (core.engine.pools.counter_move) when each pool last priced its
    #                                 coin: the value at which pool_unfollowed is expressed (queue_sales.counter_fall)
    # --- balance sheets
    H: np.ndarray                   # (S, n, k) token units held
    oa: np.ndarray                  # (S, n) other (non-token) assets, USD
    illiquid: np.ndarray            # (S, n) the part of ``oa`` that is illiquid (book value); the rest is cash, paid once
    run_kept: np.ndarray            # (S, n) share of each entity's depositors who have not run (core.engine.withdraw)
    coll: np.ndarray                # (S, c) collateral units of each cohort
    debt: np.ndarray                # (S, c) debt units of each cohort
    ik_left: np.ndarray             # (S, m) what remains of each in-kind claim, reference USD
    lam: np.ndarray                 # (S, n) in-kind index of each debtor (see books.inkind_index)
    ratio: np.ndarray               # (S, n) share of its obligations each entity paid last round
    bad: np.ndarray                 # (S, n) cumulative bad debt booked at each protocol (gross), USD at the last close
    bad_units: np.ndarray           # (S, c) the same per cohort, in units of its debt token (what ``bad`` re-marks)
    ins_paid: np.ndarray            # (S, n) insurance fund paid in so far (with pooled_cover)
    pooled_cover: np.ndarray        # (S, n) what owners of a pooled collateral (Sai's PETH holders) paid in so far
    pooled_free: np.ndarray         # (S, c) units of a pooled collateral barked vaults' auctions handed back to their
    #                                 owners (core.engine.liquidate): out of the cohort, still claims on the pool
    run_units: np.ndarray           # (S, live, k) tokens live-book entities paid out in withdrawals
    run_out: np.ndarray             # (S, e, k) tokens each run-prone estate (``clawback_idx``) paid out in withdrawals
    run_cash: np.ndarray            # (S, e) and the cash, USD (recovered at its default: preferences.claw_back)
    # --- defaults, estates, breaker
    defaulted: np.ndarray           # (S, n) bool
    default_round: np.ndarray       # (S, n) int, -1 never
    estate: np.ndarray              # (S, n) share of a defaulted estate's tokens whose sale the market has taken
    cb_left: np.ndarray             # (S,) int rounds the circuit breaker still halts
    halted: np.ndarray              # (S,) bool: halted this round
    # --- running tallies
    shock_loss: np.ndarray          # (S, n) loss the scenario itself imposed (forced defaults)
    liq_loss: np.ndarray            # (S, n) borrowers' loss to liquidation bonuses
    run_loss: np.ndarray            # (S, n) fire-sale losses of runs and estates
    pool_run_haircut: np.ndarray    # (S, n) supplier haircut a pass-through's runners took on what they withdrew, USD
    pool_run_claims: np.ndarray     # (S, n) and the claims they gave up for it, USD at the index (both booked with
    #                                 its suppliers' haircut: core.engine.losses.supplier_haircuts)
    liq_total: np.ndarray           # (S,) collateral sold in liquidations, USD
    fee_income: np.ndarray          # (S, n) protocols' income from liquidation penalties and fees (paid by borrowers), USD
    borrowers_penalty: np.ndarray   # (S,) of those penalties and fees, what borrowers outside the network (anonymous cohorts) paid, USD
    borrowers_penalty_in: np.ndarray  # (S, n) the same by the protocol that booked it, its receiver (core.engine.outside_transfers)
    rounds_run: np.ndarray          # (S,) int rounds until settled
    settled: np.ndarray             # (S,) bool: nothing changed this round
    # --- terms of the cohorts under the scenario's safeguards
    lt_eff: np.ndarray              # (S, c) liquidation thresholds
    bonus_eff: np.ndarray           # (S, c) liquidation bonuses
    cf_eff: np.ndarray              # (S, c) close factors
    auction_spread: np.ndarray      # (S, c) half-width of a Maker-style cohort's vaults' ratios about its own (0 elsewhere;
    #                                 core.engine.auction_vaults.auction_spread0), narrowed as its lowest vaults are barked
    # --- this round's flows
    sold: np.ndarray                # (S, k) units sold this round (seized collateral, estates)
    liq_by_proto: np.ndarray | None  # (S, n) collateral sold in liquidations at each protocol this round (None: none)
    cohort_bad: np.ndarray | None   # (S, c) bad debt booked this round per cohort (None: none)
    bad_net: np.ndarray             # (S, n) bad debt beyond the insurance fund
    ins_draw: np.ndarray            # (S, n) insurance fund drawn
    ins_drawn_seen: np.ndarray      # (S,) insurance drawn in all when the last round's settle check looked (clear.settle)
    psm_seen: np.ndarray            # (S, q) the PSMs' balances when the last round's settle check looked (clear.settle)
    run_paid: np.ndarray            # (S,) withdrawals paid this round, USD
    maker_capital: np.ndarray       # (S,) the Maker system's keepers' share of the round's liquidators' capital
    #                                 (core.engine.capital.split_capital; the capacity, inf where unlimited)
    # --- the last clearing
    clearing: ClearingStep | None   # last round's clearing step (None before the first)
    equity: np.ndarray | None       # (S, n) equity after the last clearing (None before the first)
    prev_equity: np.ndarray | None  # (S, n) equity after the clearing before it
    outside_liab: np.ndarray        # (S, n) outside liabilities at the last clearing
    opening_custodian_paid: np.ndarray | None  # (S, w) round 0 only: what each wrapped token's custodian pays in the
    #                                 opening clearing where the scenario forces it to fail, 1 elsewhere (None: none
    #                                 forced, and from round 1; core.engine.exogenous.forced_issuer_prices)
    # --- perpetuals (core.engine.perps; None without positions): N positions, V venues
    perps_size: np.ndarray | None       # (S, N) signed size still open
    perps_units: np.ndarray | None      # (S, N) margin units still posted (USD for USD margin)
    perps_spread: np.ndarray | None     # (S, N) each anonymous bucket's accounts' margin spread left (core.mechanisms.perps_spread)
    perps_own_sold: np.ndarray | None   # (S, V, k) collateral each venue sold on its own book so far, reference USD
    perps_fund: np.ndarray | None       # (S, V) insurance fund left
    perps_vault: np.ndarray | None      # (S, V) backstop vault's equity
    perps_booked: np.ndarray | None     # (S, n) named accounts' unrealised PnL booked in ``oa``
    perps_fund_lost: np.ndarray | None  # (S, n) what each venue's insurance fund has lost so far
    perps_flow: np.ndarray | None       # (S, V, 7) this round's totals (core.engine.perps.TOTALS)
    perps_total: np.ndarray | None      # (S, V, 7) the totals so far
    perps_taken: np.ndarray | None      # (S, named rows) profit taken this round by ADL or socialisation
    perps_lost: np.ndarray | None       # (S, pairs) margin lost by each (named account, venue), cut from its claim, reference USD
    perps_lost_value: np.ndarray | None  # (S, pairs) what that cut part of the claim is worth to the account, as booked
    perps_set_off: np.ndarray | None    # (S, pairs) the set-off of PnL and margin at a venue paying less than in full, as booked
    perps_value: np.ndarray | None      # (S, n) each entity's gains (+) and losses (-) on perpetuals, an outside asset
    perps_outside: np.ndarray | None    # (S,) margin of liquidated accounts outside the network kept by funds and vaults so far
    #                                 and their profit taken by ADL or socialisation (gross of perps_outside_in's kept part)
    perps_outside_margin: np.ndarray | None  # (S, V) outside accounts' margin left at each venue so far (its vault or fund)
    perps_outside_in: np.ndarray | None  # (S, R) what each receiver holds of it as a gain (core.engine.outside_transfers)
    perps_close_drawn: np.ndarray | None  # (S, n) venues' funds' provisional draws for accounts past their margin at the
    #                                 last close (core.engine.perps_close.close_deficit; None: none)
    perps_close_taken: np.ndarray | None  # (S,) outside winners' provisional loss for them (None: none)
    # --- the Maker system (core.engine.maker): m of its cohorts, one auction slot each; ilks; the Vow; MKR
    maker_tab: np.ndarray           # (S, slots, m) DAI each live auction still has to raise (AUCTION_SLOTS per cohort)
    maker_lot: np.ndarray           # (S, slots, m) collateral left in it (units)
    maker_top: np.ndarray           # (S, slots, m) its starting price (feed * buf)
    maker_elapsed: np.ndarray       # (S, slots, m) seconds since kick or reset
    maker_due: np.ndarray           # (S, slots, m) debt it took over from the vaults (DAI)
    maker_raised: np.ndarray        # (S, slots, m) DAI raised so far
    maker_ilk_dirt: np.ndarray      # (S, ilks) ilk.dirt: DAI under auction per ilk
    maker_dirt: np.ndarray          # (S,) Dirt: DAI under auction
    maker_surplus: np.ndarray       # (S,) the Vow's surplus buffer (USD)
    maker_deficit: np.ndarray       # (S,) debt the buffer and the debt auctions have not covered yet
    mkr_supply: np.ndarray          # (S,) MKR outstanding
    mkr_price: np.ndarray           # (S,) MKR price after the debt auctions run so far (0: the backstop failed); the market price also prices maker_pledge (maker_vow.mkr_market_price)
    mkr_minted: np.ndarray          # (S,) MKR minted by debt auctions so far
    maker_flop_raised: np.ndarray   # (S,) DAI the debt auctions raised so far
    maker_penalty: np.ndarray       # (S,) liquidation penalties credited to the Vow so far
    maker_bad: np.ndarray           # (S,) auction shortfalls so far (bad debt)
    maker_failed: np.ndarray        # (S,) bool: the backstop failed
    maker_repaid: np.ndarray        # (S,) DAI vault owners repaid this round (core.mechanisms.vault_defence)
    maker_spread: np.ndarray        # (S, m) half-width of each cohort's vaults' ratios about its own (cohort_spread)
    maker_free: np.ndarray          # (S, m) collateral finished auctions handed back to owners, free (in ``coll``)
    maker_flap_paid: np.ndarray     # (S,) DAI surplus auctions paid out to MKR holders so far (vow.flap)
    mkr_burnt: np.ndarray           # (S,) MKR they burnt so far
    maker_flap_seen: np.ndarray     # (S,) maker_flap_paid when the last round's settle check looked (clear.settle)
    maker_feed_seen: np.ndarray     # (S, m) the OSM price of each cohort's collateral at the last round's step
    maker_market_seen: np.ndarray   # (S, m) its market price then (the round's path starts there: maker_crossing)
    maker_sin_queue: np.ndarray     # (S, rounds) deficit that first showed in each round, waiting vow.wait ((S, 0): no wait)
    maker_pledge: np.ndarray        # (S,) the waiting deficit MKR holders owe (in Maker's other assets; 0 with no wait)
    maker_exposed_pledge: np.ndarray  # (S,) the part of it for live auctions' exposed sin (their vaults' shortfall, maker_claim.vault_claim)
    maker_recovery: np.ndarray      # (S,) the last clearing's Maker recovery counting its pending debt auctions (maker_vow.clearing_recovery)
    maker_cage_round: np.ndarray    # (S,) int: the round End caged the Maker system at (-1: live; maker_end.caged)
    maker_end_units: np.ndarray     # (S, k) units End took by end.skim, held for DAI's holders (maker_end.network_holdings)
    maker_end_left: np.ndarray      # (S, c) DAI End cancelled past its gap and what it holds at the market (maker_end.left_to_holders)
    maker_deficit_since: np.ndarray  # (S,) int: the round whose clearing first showed a governed Maker's open deficit (-1: none; maker_governance)
    # --- the runs step's claims on defaulted debtors, kept until a new default (core.engine.withdraw)
    peer_defaulted: np.ndarray | None   # (S, n) the defaults they were valued at (None: not yet)
    peer_bad_claims: np.ndarray | None  # (S, n) each entity's network claims on those debtors
    # --- what does not change during a run, per scenario (built once in initial_state)
    staking: "StakingTerms | None"  # the liquid-staking step's floors, capital and sensitivities (None: no such pools)
    backing: "BackingTerms | None"  # the PSM channel's depths and vault owners' targets (None: no PSMs)

    @property
    def S(self) -> int:
        return int(self.P.shape[0])

    def apply(self, changes: Changes) -> None:
        """Write a step's changes (a misspelt field fails: the class has slots)."""
        for name, value in changes.items():
            setattr(self, name, value)

    def take(self, rows: np.ndarray) -> "CascadeState":
        """The state of the scenarios ``rows`` (indices or a boolean mask), every array cut along its first axis
        (by ``ndarray.take`` on the indices: the same elements as indexing by the mask, copied in about half the time)."""
        idx = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows)
        return CascadeState(**{f.name: rows_of(getattr(self, f.name), idx, f.name) for f in fields(self)})


def initial_state(c: Compiled, b: ScenarioBatch) -> CascadeState:
    """Every scenario at the reference state, before its shock (applied by the first round's exogenous step)."""
    from .auction_vaults import auction_spread0
    from .perps import initial_perps
    from .pools import counter_move
    from .backing import backing_terms
    from .staking import staking_terms
    S, n, k = b.S, c.n, c.k
    staking = staking_terms(c, b)
    lt_eff = c.c_lt[None] / b.coll_mult[:, None]
    P = np.repeat(c.P0[None], S, 0)
    g = c.pegs
    fa = g.fiat_asset if g is not None else np.zeros(0, int)
    reserves0 = g.fiat_reserves0 if g is not None else np.zeros((0, 3))
    qa = g.psm_asset if g is not None else np.zeros(0, int)
    psm0 = g.psm_balance0 if g is not None else np.zeros(0)
    with np.errstate(divide="ignore"):
        log_mcap = np.repeat(np.log(c.supply * c.P0)[None], S, 0)
    return CascadeState(
        P=P, price_history=[P, P], pool_res=np.repeat(c.pool_res0[None], S, 0),
        pool_px=np.repeat(c.pool_ref[None], S, 0), supply=np.repeat(c.supply[None], S, 0),
        algo_queue=np.zeros((S, k)), algo_redeemed=np.zeros((S, k)), log_mcap=log_mcap, impact_log=np.zeros((S, k)),
        sold_reference_usd=np.zeros((S, k)),
        peg_factor=np.ones((S, k)), issuer_cap=np.ones((S, k)), fiat_liquid=np.repeat(reserves0[None], S, 0), fiat_frozen=np.zeros((S, len(fa), 3)),
        fiat_supply=np.repeat((c.supply[fa] * c.P0[fa])[None], S, 0), fiat_queue=np.zeros((S, len(fa))),
        redeemed_usd=zeros((S, n)),
        psm_balance=np.repeat(psm0[None], S, 0), psm_supply=np.repeat(c.supply[qa][None], S, 0),
        psm_seen=np.repeat(psm0[None], S, 0),
        psm_paid_in=np.zeros((S, len(qa))), psm_value=np.ones((S, len(qa))), psm_impaired_hours=np.zeros((S, len(qa))),
        peg_reminted=np.zeros((S, len(qa))),
        lst_open_res=np.repeat(c.pool_res0[g.lst_pool][None] if g is not None else np.zeros((1, 0, 2)), S, 0),
        lst_held=np.zeros((S, len(g.lst_pool) if g is not None else 0)),
        lst_capital=(staking.capital.copy() if staking is not None
                     else np.zeros((S, len(g.lst_pool) if g is not None else 0))),
        lp_withdrawn=np.zeros_like(np.repeat(c.pool_res0[None], S, 0)),
        pool_unfollowed=empty_ranges((S, len(c.pool_asset))), pool_counter_seen=np.repeat(counter_move(c, c.P0[None]), S, 0),
        H=np.repeat(c.H0[None], S, 0), oa=np.repeat(c.other_assets[None], S, 0),
        illiquid=np.repeat(((1.0 - c.liquid_share) * c.other_assets)[None], S, 0), run_kept=np.ones((S, n)),
        coll=np.repeat(c.c_coll[None], S, 0), debt=np.repeat(c.c_debt[None], S, 0),
        ik_left=np.repeat(c.ik_amount[None], S, 0), lam=np.ones((S, n)), ratio=np.ones((S, n)),
        bad=np.zeros((S, n)), bad_units=np.zeros((S, len(c.c_coll))), ins_paid=np.zeros((S, n)), pooled_cover=zeros((S, n)),
        pooled_free=zeros((S, len(c.c_coll))), run_units=zeros((S, len(c.live_idx), k)),
        run_out=zeros((S, len(c.clawback_idx), k)), run_cash=np.zeros((S, len(c.clawback_idx))),
        defaulted=np.zeros((S, n), bool), default_round=np.full((S, n), -1), estate=np.zeros((S, n)),
        cb_left=np.zeros(S, int), halted=np.zeros(S, bool),
        shock_loss=zeros((S, n)), liq_loss=zeros((S, n)), run_loss=np.zeros((S, n)), pool_run_haircut=np.zeros((S, n)),
        pool_run_claims=np.zeros((S, n)),
        liq_total=np.zeros(S), fee_income=np.zeros((S, n)), borrowers_penalty=np.zeros(S), borrowers_penalty_in=zeros((S, n)), rounds_run=np.zeros(S, int), settled=np.zeros(S, bool),
        lt_eff=lt_eff, bonus_eff=np.minimum(c.c_bonus[None], b.max_bonus[:, None]),
        cf_eff=np.minimum(c.c_cf[None], b.max_cf[:, None]),
        auction_spread=repeated(auction_spread0(c), S),
        sold=np.zeros((S, k)), liq_by_proto=None, cohort_bad=None, bad_net=np.zeros((S, n)), ins_draw=np.zeros((S, n)), ins_drawn_seen=np.zeros(S),
        run_paid=np.zeros(S), maker_capital=b.capacity.copy(), clearing=None, equity=None, prev_equity=None, outside_liab=np.zeros((S, n)),
        opening_custodian_paid=None,
        **initial_perps(c, b),
        **maker_fields(c, b),
        perps_close_drawn=None, perps_close_taken=None,
        peer_defaulted=None, peer_bad_claims=None, staking=staking, backing=backing_terms(c, b, lt_eff),
    )
