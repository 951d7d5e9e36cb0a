"""The compiled network: the arrays a cascade's rounds read, built once per network.

Entity and asset tables become index arrays; exposures split into unsecured
network claims (the clearing matrix ``L``), in-kind claims (depositors',
customers' and liquidity providers' claims, which follow the assets held for
them) and the secured legs of collateralised loans; borrower cohorts become
columns of per-cohort terms. Group sums and sparse products used every round
are built here too (:class:`~core.engine.grouping.Group`,
:class:`~core.engine.grouping.Product`). See the package
docstring for the accounting conventions.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..mechanisms.clearing import network_matrix
from ..mechanisms import lending
from ..mechanisms.bid_queue import ANCHOR_SAFE_RATIO, bid_queue_bonus
from ..mechanisms.cohort_spread import cohort_spread
from ..network import Network
from ..results import equity_floors
from .books import EquityTerms, marks, outside_books, reciprocal
from .oracle import FixedOracle, compile_fixed_oracle
from .peg_terms import PegTerms, compile_pegs
from .fees import LenderFees, compile_fees
from .grouping import Group, Product
from .maker_book import MakerBook, compile_maker
from .perps import PerpsCompiled, compile_perps
from .pool_terms import PoolHoldings
from .pools import pool_price

#: Entity types whose estates sell their tokens after a default (protocols and pools do not sell).
_ESTATE_TYPES = ("cefi_lender", "centralised_exchange", "perpetuals_venue", "fund", "reserve", "stablecoin_issuer")
#: Entities that hold what they owe in kind: deposits and customer balances with them follow asset prices.
_IN_KIND_DEBTORS = ("lending_protocol", "cdp_protocol", "amm_pool", "liquid_staking", "centralised_exchange", "perpetuals_venue", "bridge")
#: Entities whose in-kind claims follow their current positions (reserves, idle tokens and loan book).
_LIVE_BOOK_TYPES = ("amm_pool", "lending_protocol", "cdp_protocol")
_RUN_TYPES = ("cefi_lender", "centralised_exchange", "perpetuals_venue", "lending_protocol", "fund")
_STABLE_KINDS = ("fiat_stable", "cdp_stable")
#: Which liquidation function a version's rule runs (core.engine.liquidate.liquidate_cohorts).
_STYLE_FAMILY = {"aave_v2": 0, "aave_v3": 0, "compound_v2": 0, "anchor": 1, "maker": 2, "compound_v3": 3}
#: Rule families: close factor taken by profit-seeking liquidators; close factor filled by a standing bid queue
#: (Anchor: the same rule, no liquidator weighs the trade, core.engine.liquidate.liquidator_limit); Maker auctions;
#: Comet absorptions.
CLOSE_FACTOR, BID_QUEUE, MAKER_AUCTION, ABSORB = 0, 1, 2, 3

def _close_factor_bonus(bonus: np.ndarray, styles: list[str]) -> np.ndarray:
    """The bonus the close-factor rule applies, per cohort: the data's bonus, except an Anchor cohort's, which is
    its bid queue's premium, a discount on the collateral's price, turned into the bonus that seizes as much
    (:func:`core.mechanisms.bid_queue.bid_queue_bonus`: 8 % -> 10.91 % with the 1 % bid fee and the 1 % liquidator fee)."""
    queue = np.array([s == "anchor" for s in styles], dtype=bool)
    return np.where(queue, bid_queue_bonus(np.where(queue, bonus, 0.0)), bonus)


@dataclass(frozen=True, eq=False)
class Compiled:
    ids: np.ndarray
    symbols: np.ndarray
    etype: np.ndarray
    H0: np.ndarray                 # (n, k) token units held
    P0: np.ndarray                 # (k,) reference prices
    adv: np.ndarray
    vol: np.ndarray
    kind: np.ndarray
    supply: np.ndarray
    peg_target: np.ndarray         # (k,) nan when unpegged
    peg_unit: np.ndarray           # (k,) asset index, -1 = USD, -2 = unpegged
    issuer: np.ndarray             # (k,) entity index or -1
    backing: np.ndarray            # (k,) asset index or -1
    pool_asset: np.ndarray         # (p,) asset priced by pool
    pool_counter: np.ndarray       # (p,) counter asset index or -1 (USD)
    pool_A: np.ndarray             # (p,) nan = constant product
    pool_res0: np.ndarray          # (p, 2) [token units, counter units]
    L: sp.csr_array                # (n, n) unsecured network claims, L[debtor, creditor]
    edge_debtor: np.ndarray        # network edges after aggregation
    edge_creditor: np.ndarray
    edge_amount: np.ndarray
    ik_debtor: np.ndarray          # in-kind claims: depositors' and LP claims (outside liabilities)
    ik_creditor: np.ndarray
    ik_amount: np.ndarray
    ik_sink: np.ndarray            # creditor is a sink depositor aggregate
    ik_base0: np.ndarray           # (n,) reference value of the assets in-kind claims follow
    ik_total0: np.ndarray          # (n,) in-kind claims owed at reference
    ik_follow0: np.ndarray         # (n,) part of them that follows asset prices: min(claims, base)
    pool_entity: np.ndarray        # (p,) entity index of each pool
    is_pool: np.ndarray            # (n,) AMM pools (their holdings are the pool's reserves)
    sells_estate: np.ndarray       # (n,) estates sell tokens after a default
    price_set_elsewhere: np.ndarray  # (k,) tokens whose price a pool or a peg sets, not the order book
    claims_total: np.ndarray       # (n,) network claims held
    defender_of: np.ndarray        # (d, 2) [reserve entity, asset it defends]
    pool_ref: np.ndarray           # (p,) each pool's price at reference reserves
    held_owed: np.ndarray          # (n,) such claims owed by each debtor
    sec_creditor: np.ndarray       # collateralised-loan secured legs
    sec_debtor: np.ndarray
    sec_asset: np.ndarray
    sec_units: np.ndarray
    sec_value0: np.ndarray
    other_assets: np.ndarray
    other_liab: np.ndarray
    liquid_share: np.ndarray
    insurance: np.ndarray
    is_aggregate: np.ndarray
    run_prone: np.ndarray
    clawback_idx: np.ndarray       # run-prone estates: their run withdrawals are recovered at default (preferences.claw_back)
    c_proto: np.ndarray            # cohorts
    c_borrower: np.ndarray
    c_ca: np.ndarray
    c_da: np.ndarray
    c_coll: np.ndarray
    c_debt: np.ndarray
    c_lt: np.ndarray
    c_bonus: np.ndarray
    c_cf: np.ndarray
    c_style: np.ndarray            # rule family: 0 close factor (Aave v2/v3, Compound v2), 1 close factor by a bid queue (Anchor), 2 Maker auction, 3 Comet absorb
    c_full_close: np.ndarray       # health factor at or below which the whole debt may be repaid (Aave 0.95; -1: never)
    c_spread: np.ndarray           # half-width of a close-factor cohort's positions' HF about its own (cohort_spread; 0: one position)
    c_safe_ratio: np.ndarray       # an Anchor cohort's queue's safe ratio (its contract sizes the amount: bid_queue); nan elsewhere
    c_self_issued: np.ndarray      # debt token issued by the cohort's own protocol
    c_peg: np.ndarray              # its peg in USD (nan elsewhere)
    E0: np.ndarray                 # (n,) equity before any shock
    # Derived once, read every round
    owed_network: np.ndarray       # (n,) network claims owed by each debtor
    c_named: np.ndarray            # cohorts with a named borrower entity
    live_idx: np.ndarray           # entities whose in-kind claims follow live books
    sink_debtor: np.ndarray        # in-kind claims of sink depositor aggregates: debtor, creditor
    sink_creditor: np.ndarray
    lam_fixed: np.ndarray          # (n,) in-kind index = lam_fixed + lam_follow * V / V0 (see _inkind_index)
    lam_follow: np.ndarray
    inv_base0: np.ndarray          # (n,) 1 / V0, 0 where V0 = 0
    peg1: np.ndarray               # (k,) peg target, 1 where unpegged
    algo_idx: np.ndarray           # algorithmic stablecoins with a backing token
    wrapped_idx: np.ndarray        # wrapped or bridged tokens: pegged to another asset, no pool of their own
    issued_stable: np.ndarray      # (k,) fiat/CDP stablecoins and fractional coins (``pegs``) with an issuer entity
    exchange_token: np.ndarray     # (k,) exchange tokens with an issuer entity
    pool_token_counter: np.ndarray  # pools whose counter is a token
    pool_usd_counter: np.ndarray   # pools whose counter is USD (the pool's other tokens)
    pool_usd_others: np.ndarray    # (len(pool_usd_counter), k) those other tokens
    pool_holdings: "PoolHoldings"  # where pools' reserves sit in the flattened holdings (core.engine.pools)
    by_proto: Group                # cohorts -> protocol
    by_borrower: Group             # named cohorts -> borrower
    by_coll_asset: Group           # cohorts -> collateral asset (k groups)
    by_sec_creditor: Group
    by_sec_debtor: Group
    by_sink_debtor: Group
    by_sink_creditor: Group
    by_ik_debtor: Group
    by_ik_creditor: Group
    held_value: Product            # X @ (in-kind claims held by entities, [debtor, creditor]): what holders' claims are worth
    claims_received: Product       # X @ L: what creditors receive or lose on their network claims (MT = L transposed)
    reference_value: Product       # P @ H0.T: each entity's reference token units at prices P (MT = H0)
    pegs: PegTerms | None = None   # the pegs table: reserves, PSMs, collateral ratios, staking floors (peg_terms)
    perps: "PerpsCompiled | None" = None  # perpetual positions and venue rules (core.engine.perps); None without positions
    maker: "MakerBook | None" = None  # the Maker system under its contracts' rules (core.engine.maker), if the data has one
    fees: "LenderFees | None" = None  # lenders' share of seized collateral per cohort (core.engine.fees)
    fixed_oracle: "FixedOracle | None" = None  # cohorts whose protocol's oracle fixes a stablecoin's USD price or reads another asset's (core.engine.oracle)
    # pass-through entities (core.mechanisms.pass_through): lending pools, whose suppliers own them, and CDP
    # protocols whose vaults' collateral is one pool (Sai's PETH), whose owners bear bad debt first; (n,) bool each
    pass_through: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    pooled_collateral: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    equity_terms: EquityTerms | None = None  # built with E0 (compile_network)
    # (n,) initial equity below which an entity has none to lose a share of (core.results.equity_floors of what it
    # holds and is owed at the reference prices: tokens, loan book, deposit claims, network claims, other assets)
    equity_floor: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def k(self) -> int:
        return len(self.symbols)


_CACHE: "weakref.WeakKeyDictionary[Network, Compiled]" = weakref.WeakKeyDictionary()


def compile_network(net: Network) -> Compiled:
    """Arrays for the engine (cached per network object; networks are immutable)."""
    hit = _CACHE.get(net)
    if hit is not None:
        return hit
    ent, ast = net.entities, net.assets
    n, k = len(ent), len(ast)
    ids = ent["id"].to_numpy(dtype=object)
    syms = ast["symbol"].to_numpy(dtype=object)
    etype = ent["type"].to_numpy(dtype=object)
    apos = {s: i for i, s in enumerate(syms)}
    epos = {e: i for i, e in enumerate(ids)}

    H0 = np.zeros((n, k))
    h = net.holdings
    np.add.at(H0, (net.entity_pos(h["entity"]), net.asset_pos(h["asset"])), h["amount"].to_numpy())
    P0 = ast["price_usd"].to_numpy(dtype=float)

    peg_unit = np.array([-2 if u == "" else (-1 if u == "USD" else apos[u]) for u in ast["peg_unit"]], dtype=int)
    issuer = np.array([epos.get(x, -1) if x else -1 for x in ast["issuer"]], dtype=int)
    backing = np.array([apos.get(x, -1) if x else -1 for x in ast["backing_asset"]], dtype=int)

    # AMM pools: the pool entity's holdings of the token and of its counter asset.
    pa, pc, pA, pres = [], [], [], []
    # The counter is the asset the pool's quote side holds (``amm_counter``; else the token's peg unit), in which it
    # prices the token and pays its sellers; a pool priced in USD has its other holdings as its counter side.
    quote = ast["amm_counter"] if "amm_counter" in ast.columns else [""] * k
    for a, (pool, A, q) in enumerate(zip(ast["amm_pool"], ast["amplification"], quote)):
        if not pool:
            continue
        pi = epos[pool]
        cu = apos[q] if q else (peg_unit[a] if peg_unit[a] >= 0 else -1)
        tok = H0[pi, a]
        if cu >= 0:
            cnt = H0[pi, cu]
        else:  # USD counter: the pool's other holdings at reference prices
            others = np.arange(k) != a
            cnt = float(H0[pi, others] @ P0[others])
        if tok <= 0 or cnt <= 0:
            continue  # a pool with no reserves cannot set a price; the token trades on order books
        pa.append(a)
        pc.append(cu)
        pA.append(A)
        pres.append((tok, cnt))

    # Exposures: in-kind claims (depositors', LP shares) are outside liabilities; collateralised loans split.
    x = net.exposures
    cred = net.entity_pos(x["creditor"])
    debt = net.entity_pos(x["debtor"])
    owed = x["amount_usd"].to_numpy(dtype=float)
    # Depositor aggregates that owe nothing are sinks: their claims become the debtors' outside
    # liabilities (withdrawable in runs); an aggregate that itself owes stays in the network.
    owes = np.bincount(net.entity_pos(x["debtor"]), minlength=n) > 0
    is_agg = (etype == "depositor_aggregate") & ~owes & (ent["other_liabilities_usd"].to_numpy() == 0)
    coll_asset = np.array([apos.get(s, -1) if s else -1 for s in x["collateral_asset"]], dtype=int)
    coll_units = np.nan_to_num(x["collateral_amount"].to_numpy(dtype=float))
    secured = (coll_asset >= 0) & (coll_units > 0)
    sec_val0 = np.where(secured, np.minimum(owed, coll_units * P0[np.maximum(coll_asset, 0)]), 0.0)
    unsec = owed - sec_val0
    kinds = x["kind"].to_numpy(dtype=object)
    in_kind_debtor = np.isin(etype, _IN_KIND_DEBTORS)
    dep = (is_agg[cred] | (kinds == "lp_share") | (np.isin(kinds, ("deposit", "customer_balance")) & in_kind_debtor[debt])) & (unsec > 0)
    net_e = ~dep & (unsec > 0)
    L = network_matrix(sp.coo_array((unsec[net_e], (debt[net_e], cred[net_e])), shape=(n, n)))
    Lc = L.tocoo()

    dmask = dep
    # The assets in-kind claims follow: tokens held, the loan book, LP claims held.
    c_ = net.cohorts
    book0 = np.bincount(net.entity_pos(c_["protocol"]), c_["debt_amount"].to_numpy() * P0[net.asset_pos(c_["debt_asset"])], n)
    lp_held0 = np.bincount(cred[dmask & ~is_agg[cred]], unsec[dmask & ~is_agg[cred]], n)
    base0 = H0 @ P0 + book0 + lp_held0
    ik_total0 = np.bincount(debt[dmask], unsec[dmask], n)

    pool_counter = np.array(pc, dtype=int)
    usd_counter = np.flatnonzero(pool_counter < 0)  # a pool priced in USD: its other tokens are the counter side
    usd_others = np.ones((len(usd_counter), k), bool)
    usd_others[np.arange(len(usd_counter)), np.array(pa, dtype=int)[usd_counter]] = False
    held = dmask & ~is_agg[cred]  # in-kind claims held by entities (LP shares, deposits), not by depositor aggregates
    held_T = sp.coo_array((unsec[held], (cred[held], debt[held])), shape=(n, n)).tocsr()
    c = net.cohorts
    styles = [lending.canonical_style(s) for s in c["style"]]
    queue = np.array([s == "anchor" for s in styles], dtype=bool)  # cohorts liquidated by a bid queue (Anchor)
    c_borrower = np.array([epos.get(b, -1) if b else -1 for b in c["borrower"]], dtype=int)
    comp = Compiled(
        ids=ids, symbols=syms, etype=etype, H0=H0, P0=P0,
        adv=ast["adv_usd"].to_numpy(dtype=float), vol=ast["daily_vol"].to_numpy(dtype=float),
        kind=ast["kind"].to_numpy(dtype=object), supply=ast["supply"].to_numpy(dtype=float),
        peg_target=ast["peg_target"].to_numpy(dtype=float), peg_unit=peg_unit, issuer=issuer, backing=backing,
        pool_asset=np.array(pa, dtype=int), pool_counter=pool_counter,
        pool_A=np.array(pA, dtype=float), pool_res0=np.array(pres, dtype=float).reshape(-1, 2),
        L=L, edge_debtor=Lc.row.astype(int), edge_creditor=Lc.col.astype(int), edge_amount=Lc.data.astype(float),
        ik_debtor=debt[dmask], ik_creditor=cred[dmask], ik_amount=unsec[dmask], ik_sink=is_agg[cred[dmask]],
        ik_base0=base0, ik_total0=ik_total0, ik_follow0=np.minimum(ik_total0, base0),
        pool_entity=np.array([epos[ast["amm_pool"].iloc[a]] for a in pa], dtype=int),
        is_pool=etype == "amm_pool", sells_estate=np.isin(etype, _ESTATE_TYPES),
        price_set_elsewhere=(np.isin(np.arange(k), pa) | np.isin(ast["kind"].to_numpy(dtype=object), _STABLE_KINDS)
                             | ((peg_unit >= 0) & ~np.isin(np.arange(k), pa))),
        claims_total=np.bincount(Lc.col.astype(int), Lc.data, n),
        pool_ref=np.zeros(len(pa)),
        defender_of=np.array([(epos[e], apos[a]) for e, a in zip(ent["id"], ent["defends"]) if a], dtype=int).reshape(-1, 2),
        held_value=Product.of(held_T), reference_value=Product.of(sp.csr_array(H0)),
        held_owed=np.bincount(debt[dmask & ~is_agg[cred]], unsec[dmask & ~is_agg[cred]], n),
        sec_creditor=cred[secured], sec_debtor=debt[secured], sec_asset=coll_asset[secured],
        sec_units=coll_units[secured], sec_value0=sec_val0[secured],
        other_assets=ent["other_assets_usd"].to_numpy(dtype=float),
        other_liab=ent["other_liabilities_usd"].to_numpy(dtype=float),
        liquid_share=ent["liquid_share"].to_numpy(dtype=float),
        insurance=ent["insurance_fund_usd"].to_numpy(dtype=float),
        is_aggregate=is_agg,
        run_prone=(run_prone := np.isin(etype, _RUN_TYPES) & (np.bincount(debt[dmask & is_agg[cred]], minlength=n) > 0)),
        clawback_idx=np.flatnonzero(run_prone & np.isin(etype, _ESTATE_TYPES)),
        c_proto=net.entity_pos(c["protocol"]),
        c_borrower=c_borrower,
        c_ca=net.asset_pos(c["collateral_asset"]), c_da=net.asset_pos(c["debt_asset"]),
        c_coll=c["collateral_amount"].to_numpy(dtype=float), c_debt=c["debt_amount"].to_numpy(dtype=float),
        c_lt=c["liquidation_threshold"].to_numpy(dtype=float), c_bonus=_close_factor_bonus(c["liquidation_bonus"].to_numpy(dtype=float), styles),
        # an Anchor cohort has no close factor: its queue's contract sizes each liquidation (c_safe_ratio)
        c_cf=np.where(queue, 1.0, c["close_factor"].to_numpy(dtype=float)),
        c_style=np.array([_STYLE_FAMILY[s] for s in styles], dtype=int),
        c_full_close=np.array([lending.FULL_CLOSE_HF.get(s, -1.0) for s in styles]),
        c_spread=_cohort_spreads(c, styles, P0, net),
        c_safe_ratio=np.where(queue, ANCHOR_SAFE_RATIO, np.nan),
        c_self_issued=issuer[net.asset_pos(c["debt_asset"])] == net.entity_pos(c["protocol"]),
        c_peg=np.nan_to_num(ast["peg_target"].to_numpy(dtype=float), nan=0.0)[net.asset_pos(c["debt_asset"])] * np.where(peg_unit[net.asset_pos(c["debt_asset"])] == -1, 1.0, np.nan),
        E0=np.zeros(n), pool_token_counter=np.flatnonzero(pool_counter >= 0), pool_usd_counter=usd_counter,
        pool_usd_others=usd_others,
        pool_holdings=PoolHoldings.of(n, k, H0, np.array([epos[ast["amm_pool"].iloc[a]] for a in pa], dtype=int),
                                      np.array(pa, dtype=int), pool_counter, usd_others),
        wrapped_idx=np.flatnonzero((peg_unit >= 0) & ~np.isin(np.arange(k), pa)),
        pass_through=etype == "lending_protocol",
        pooled_collateral=(etype == "cdp_protocol") & ent["pooled_collateral"].to_numpy(dtype=bool),
        **_derived(n, k, L, net.entity_pos(c["protocol"]), c_borrower, net.asset_pos(c["collateral_asset"]),
                   cred[secured], debt[secured], debt[dmask], cred[dmask], is_agg[cred[dmask]], etype,
                   ik_total0, base0, ast["peg_target"].to_numpy(dtype=float), ast["kind"].to_numpy(dtype=object),
                   backing, issuer),
    )
    object.__setattr__(comp, "pool_ref", pool_price(comp, comp.pool_res0[None])[0])
    object.__setattr__(comp, "pegs", compile_pegs(net, comp))
    if comp.pegs is not None and len(comp.pegs.frac_asset):  # a fractional coin's issuer owes it: its recovery prices it
        fractional = np.zeros(k, bool)
        fractional[comp.pegs.frac_asset] = True
        object.__setattr__(comp, "issued_stable", comp.issued_stable | (fractional & (comp.issuer >= 0)))
    object.__setattr__(comp, "perps", compile_perps(net, epos, comp.ik_creditor, comp.ik_debtor, comp.ik_amount, comp.ik_sink))
    object.__setattr__(comp, "maker", compile_maker(net, comp.c_proto, comp.c_ca, comp.c_da, comp.c_lt, comp.c_borrower, styles, Group.of))
    object.__setattr__(comp, "fees", compile_fees(styles, c["as_of"]))
    object.__setattr__(comp, "fixed_oracle", compile_fixed_oracle(c, comp.c_ca, comp.c_da, comp.c_style, comp.peg_target,
                                                                  peg_unit, MAKER_AUCTION, comp.symbols, comp.P0))
    one = np.ones((1, n))
    m0 = marks(comp, comp.P0[None], comp.H0[None], comp.c_debt[None], one, one, comp.c_coll[None])
    e0, xl0 = outside_books(comp, comp.P0[None], m0, comp.other_assets[None], comp.c_coll[None],
                             comp.c_debt[None], comp.ik_amount[None], one)
    sink = comp.ik_sink
    object.__setattr__(comp, "E0", (e0 - xl0 + np.bincount(comp.edge_creditor, comp.edge_amount, n) -
                                    np.bincount(comp.edge_debtor, comp.edge_amount, n) +
                                    np.bincount(comp.ik_creditor[sink], comp.ik_amount[sink], n))[0])
    object.__setattr__(comp, "equity_terms", EquityTerms.of(comp.E0, comp.claims_total, comp.issuer, comp.P0))
    # gross assets at the reference prices: tokens held, loan book and in-kind claims held (ik_base0), the in-kind
    # claims depositor aggregates hold (their equity is those claims), network claims, other assets
    gross = (comp.ik_base0 + np.bincount(comp.ik_creditor[sink], comp.ik_amount[sink], n)
             + np.bincount(comp.edge_creditor, comp.edge_amount, n) + comp.other_assets)
    object.__setattr__(comp, "equity_floor", equity_floors(gross))
    _CACHE[net] = comp
    return comp


def equity_floors_by_entity(net: Network) -> pd.Series:
    """Each entity's initial equity below which it has no equity to lose a share of, USD, by entity id: the
    compiled network's ``equity_floor`` (:func:`core.results.equity_floors` of its gross assets at the reference
    prices: tokens held, loan book, deposit claims, network claims, other assets), the one floor the round's
    ``distressed`` status, the nodes table's ``loss_share``, the card and the WHY sentence use
    (:func:`core.metrics.equity_floors` and :func:`core.contagion_paths.narrative` read it here).

    Examples
    --------
    >>> import core
    >>> floors = equity_floors_by_entity(core.datasets.load("crypto-2022-05"))
    >>> round(float(floors["UNI_ETH"]), 2)  # a millionth of its $1bn: its $0.9995 of equity is the data's rounding
    1000.0
    """
    c = compile_network(net)
    return pd.Series(c.equity_floor, index=pd.Index(c.ids, name="entity"), name="equity_floor_usd")


def _derived(n, k, L, c_proto, c_borrower, c_ca, sec_creditor, sec_debtor, ik_debtor, ik_creditor, ik_sink, etype,
             ik_total0, base0, peg_target, kind, backing, issuer) -> dict:
    """Index sets, group sums and constants the rounds read (fields of :class:`Compiled`)."""
    named = c_borrower >= 0
    has = ik_total0 > 0
    inv_total0 = np.where(has, 1.0 / np.where(has, ik_total0, 1.0), 0.0)
    follow0 = np.minimum(ik_total0, base0)
    return dict(
        owed_network=np.asarray(L.sum(1)).ravel(), c_named=named, live_idx=np.flatnonzero(np.isin(etype, _LIVE_BOOK_TYPES)),
        sink_debtor=ik_debtor[ik_sink], sink_creditor=ik_creditor[ik_sink],
        # entities owing no in-kind claims have index 1: lam_fixed = 1, lam_follow = 0
        lam_fixed=np.where(has, (ik_total0 - follow0) * inv_total0, 1.0), lam_follow=follow0 * inv_total0,
        inv_base0=reciprocal(base0),
        peg1=np.nan_to_num(peg_target, nan=1.0),
        algo_idx=np.flatnonzero((kind == "algorithmic_stable") & (backing >= 0)),
        issued_stable=(issuer >= 0) & np.isin(kind, _STABLE_KINDS), exchange_token=(issuer >= 0) & (kind == "exchange_token"),
        by_proto=Group.of(c_proto, n), by_borrower=Group.of(c_borrower[named], n), by_coll_asset=Group.of(c_ca, k),
        by_sec_creditor=Group.of(sec_creditor, n), by_sec_debtor=Group.of(sec_debtor, n),
        by_sink_debtor=Group.of(ik_debtor[ik_sink], n), by_sink_creditor=Group.of(ik_creditor[ik_sink], n),
        by_ik_debtor=Group.of(ik_debtor, n), by_ik_creditor=Group.of(ik_creditor, n),
        claims_received=Product.of(L.T.tocsr()),
    )




def _cohort_spreads(c, styles, P0: np.ndarray, net: Network) -> np.ndarray:
    """Each cohort's spread of its positions' health factors (:func:`~core.mechanisms.cohort_spread.cohort_spread`)
    from its health factor at reference prices; 0 (one position) for Maker vaults (their spread is the state's:
    ``maker_spread``, ``auction_spread``) and Compound v3 accounts,
    whose rules are not a close factor."""
    coll = c["collateral_amount"].to_numpy(dtype=float) * P0[net.asset_pos(c["collateral_asset"])]
    debt = c["debt_amount"].to_numpy(dtype=float) * P0[net.asset_pos(c["debt_asset"])]
    with np.errstate(divide="ignore", invalid="ignore"):
        hf0 = np.where(debt > 0, coll * c["liquidation_threshold"].to_numpy(dtype=float) / debt, np.inf)
    close = np.array([_STYLE_FAMILY[s] in (0, 1) for s in styles], dtype=bool)
    return np.where(close, cohort_spread(hf0), 0.0)
