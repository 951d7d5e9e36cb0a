"""The cascade engine: the one place that knows the order of a round.

A cascade runs in rounds until nothing changes or the horizon is reached.
Round 0 applies the scenario's shock (price moves, depegs, sales into AMM
pools, forced defaults); every round then does, in this order:

1. **Liquidations** (:mod:`core.mechanisms.lending`): borrower cohorts are
   valued at oracle prices (``oracle_lag`` rounds old), liquidated under their
   protocol's rules (Aave close factor and bonus, Compound, Maker auctions)
   within the liquidators' capacity; bad debt is booked at the protocol and
   absorbed by its insurance fund first.
2. **Runs** (:mod:`core.mechanisms.runs`): depositors of entities that owe
   depositor aggregates withdraw at a rate rising with the entity's distress
   (its losses, defaulted counterparties, the discount of its own token);
   withdrawals are paid in kind: cash, then the entity's tokens (which pass to
   the depositors), then other assets sold at a fire-sale discount. Too little
   to pay is a liquidity default.
3. **Sales and price impact** (:mod:`core.mechanisms.market`,
   :mod:`core.mechanisms.amm`): collateral seized by liquidators and the
   tokens of defaulted estates (which also realise their other assets at the
   fire-sale discount) are sold; a token
   whose price an AMM pool sets is swapped into that pool (stableswap or
   constant product), every other token moves by the square-root law.
4. **Depegs** (:mod:`core.mechanisms.pegs`): a reserve defending a pegged
   token below peg sells its other tokens and buys the token in its pool; an
   algorithmic stablecoin below peg is redeemed for its backing token by mint-and-burn (the UST/LUNA
   spiral); a stablecoin whose issuer defaulted trades at the issuer's
   recovery; an exchange token follows its issuer's equity (wrong-way risk).

A circuit breaker, checked at the start of each round, halts liquidations,
runs and estate sales for a number of rounds once any price has fallen more
than its threshold over the last round (the shock itself, in round 0).
5. **Mark to market, defaults and clearing** (:mod:`core.mechanisms.clearing`):
   every entity's outside assets are valued at the new prices, its claims at
   what its debtors paid in the previous round, and it pays what it can
   (:func:`~core.mechanisms.clearing.clearing_step`, the Rogers–Veraart map
   applied once; Eisenberg–Noe with ``alpha = beta = 1``). A default thus
   reaches the creditors one round later, as in Furfine's (2003) sequential
   default, and once prices stop moving the rounds converge to the greatest
   clearing vector.

Every state array carries a leading scenario axis, so a batch of scenarios
(each entity as the seed of a failure, or Monte Carlo draws) is one run; a
large batch is cut into chunks that fit a core's cache and run on threads
(:mod:`core.chunks`), with the same results.

Accounting conventions (stated once, used throughout)
-----------------------------------------------------
* Outside assets of entity i: token holdings at market, other assets, its
  equity in protocol positions (collateral minus debt, floored at 0: the
  shortfall is the protocol's bad debt), a protocol's loan book (its cohorts'
  debt; a protocol's own stablecoin counts at peg), its legs of collateralised
  loans, and in-kind claims it holds on others.
* A collateralised loan of ``owed`` with ``u`` units of collateral splits at
  reference prices into a secured leg ``s0 = min(owed, u·p0)`` and an
  unsecured claim ``owed − s0`` that enters clearing. The secured leg is worth
  ``min(s0, u·p)`` to the creditor and ``max(0, u·p − s0)`` to the debtor, so
  the collateral's value is split, never counted twice.
* Claims of depositors, customers and liquidity providers are *in kind*
  (:func:`_inkind_index`): they follow the assets held for them.
* In-kind claims are the debtor's outside liabilities, paid pro rata with its
  network claims; what remains of depositors' claims after withdrawals is
  what clearing pays on.
* Bad debt shrinks a protocol's loan book; its insurance fund pays it in
  first, then its equity absorbs it, and what exceeds that reaches its
  suppliers through clearing.
* An entity's loss is ``E0 − max(E, 0)`` (limited liability: its creditors
  record the rest as their own losses); system loss adds outside creditors'
  write-downs and insurance-fund draws.
"""

from __future__ import annotations

import contextlib
import functools
import os
import weakref
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from .chunks import chunk_rows, map_chunks, single_threaded_blas
from .mechanisms import amm, lending, market, pegs, runs
from .mechanisms._checks import trusted
from .mechanisms.clearing import ClearingStep, clearing_step, network_matrix
from .network import Network
from .results import CHANNELS, CascadeResult
from .scenario import Scenario, as_scenario

#: Loss share of initial equity at which an entity counts as distressed.
DISTRESS_SHARE = 0.2
#: Share of a defaulted entity's tokens its estate sells in the round after default (the rest in the next).
ESTATE_SALE_RATE = 0.5
#: Fire-sale discount on illiquid assets at normal liquidity (divided by the liquidity multiplier, capped at 0.9).
FIRE_SALE_DISCOUNT = 0.25
#: Largest share of an algorithmic stablecoin's supply redeemed in one round.
ALGO_MAX_RATE = 0.5
#: Mint/burn capacity per round as a share of the initial supply (Terra's market module: about $1bn a day).
ALGO_REDEMPTION_CAP = 0.05
#: Floor of an exchange token's price relative to its reference when its issuer's equity is gone.
EXCHANGE_TOKEN_FLOOR = 0.03
#: Shortfall, relative to what is owed, below which an entity has not defaulted (floating-point slack).
DEFAULT_TOL = 1e-9
#: Share of its reference value below which a peg-defence reserve stops spending.
RESERVE_EXHAUSTED = 0.01
#: Lowest price relative to the reference (LUNA ended at 2e-6 of its May price).
PRICE_FLOOR = 1e-12
#: Relative change below which the cascade is considered settled.
SETTLE_TOL = 1e-9

#: Entity types whose estates sell their tokens after a default (protocols and pools do not sell).
_ESTATE_TYPES = ("cefi_lender", "centralised_exchange", "perpetuals_venue", "fund", "reserve", "stablecoin_issuer")
#: Entities that hold what they owe in kind: deposits and customer balances with them follow asset prices.
_IN_KIND_DEBTORS = ("lending_protocol", "cdp_protocol", "amm_pool", "liquid_staking", "centralised_exchange", "perpetuals_venue", "bridge")
#: Entities whose in-kind claims follow their current positions (reserves, idle tokens and loan book).
_LIVE_BOOK_TYPES = ("amm_pool", "lending_protocol", "cdp_protocol")
_RUN_TYPES = ("cefi_lender", "centralised_exchange", "perpetuals_venue", "lending_protocol", "fund")
_STABLE_KINDS = ("fiat_stable", "cdp_stable")
_CH = {c: i for i, c in enumerate(CHANNELS)}
_CALM, _PANIC = float(runs.withdrawal_rate(0.0)), float(runs.withdrawal_rate(10.0))


# ---------------------------------------------------------------------------
# Compiled network: arrays the rounds work on, built once per network
# ---------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Group:
    """Sums (S, m) item weights into ``n`` groups by ``idx`` (items to entities or assets), (S, n).

    One scenario takes ``np.bincount``; a batch takes one matrix product with
    the membership matrix, built once per network: dense (items × groups
    present) when that is small, so the product stays row-major and goes to
    BLAS, else sparse.
    """

    idx: np.ndarray
    n: int
    present: np.ndarray            # groups with items
    D: np.ndarray | None           # (m, len(present)) dense membership, when small
    M: sp.csr_array | None         # (n, m) sparse membership, otherwise

    @classmethod
    def of(cls, idx: np.ndarray, n: int) -> "Group":
        idx = np.asarray(idx, dtype=int)
        present, pos = np.unique(idx, return_inverse=True)
        if idx.size * len(present) <= DENSE_GROUP_MAX:
            D = np.zeros((idx.size, len(present)))
            D[np.arange(idx.size), pos] = 1.0
            return cls(idx, n, present, D, None)
        return cls(idx, n, present, None, sp.csr_array((np.ones(idx.size), (idx, np.arange(idx.size))), shape=(n, idx.size)))

    def __call__(self, w: np.ndarray) -> np.ndarray:
        if self.idx.size == 0:
            return np.zeros((w.shape[0], self.n))
        if w.shape[0] == 1:
            return np.bincount(self.idx, weights=w[0], minlength=self.n)[None]
        if self.D is not None:
            out = np.zeros((w.shape[0], self.n))
            out[:, self.present] = w @ self.D
            return out
        return np.ascontiguousarray((self.M @ w.T).T)


@dataclass(frozen=True, eq=False)
class Product:
    """``X @ M`` for a batch X of shape (S, n), M given transposed as CSR: a bincount for one scenario
    (a sparse product's call costs more than the work there), one sparse product for many."""

    MT: sp.csr_array
    rows: np.ndarray               # row of MT of each stored value

    @classmethod
    def of(cls, MT: sp.csr_array) -> "Product":
        MT = sp.csr_array(MT)
        return cls(MT, np.repeat(np.arange(MT.shape[0]), np.diff(MT.indptr)))

    def __call__(self, X: np.ndarray) -> np.ndarray:
        if self.MT.nnz == 0:
            return np.zeros((X.shape[0], self.MT.shape[0]))
        if X.shape[0] == 1:
            return np.bincount(self.rows, weights=self.MT.data * X[0][self.MT.indices], minlength=self.MT.shape[0])[None]
        return np.ascontiguousarray((self.MT @ X.T).T)


#: Largest dense membership matrix (items × groups) a :class:`Group` keeps.
DENSE_GROUP_MAX = 65_536


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
    c_proto: np.ndarray            # cohorts
    c_borrower: np.ndarray
    c_ca: np.ndarray
    c_da: np.ndarray
    c_coll: np.ndarray
    c_debt: np.ndarray
    c_lt: np.ndarray
    c_bonus: np.ndarray
    c_cf: np.ndarray
    c_style: np.ndarray            # 0 aave, 1 compound, 2 maker
    c_full_close: np.ndarray       # health factor at or below which the whole debt may be repaid (Aave 0.95; -1: never)
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
    issued_stable: np.ndarray      # (k,) fiat/CDP stablecoins with an issuer entity
    exchange_token: np.ndarray     # (k,) exchange tokens with an issuer entity
    pool_token_counter: np.ndarray  # pools whose counter is a token
    pool_usd_counter: np.ndarray   # pools whose counter is USD (the pool's other tokens)
    pool_usd_others: np.ndarray    # (len(pool_usd_counter), k) those other tokens
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
    for a, (pool, A) in enumerate(zip(ast["amm_pool"], ast["amplification"])):
        if not pool:
            continue
        pi = epos[pool]
        cu = peg_unit[a] if peg_unit[a] >= 0 else -1
        tok = H0[pi, a]
        if cu >= 0:
            cnt = H0[pi, cu]
        else:  # USD counter: the pool's other holdings at reference prices
            others = np.arange(k) != a
            cnt = float(H0[pi, others] @ P0[others])
        if tok <= 0 or cnt <= 0:
            continue  # a pool with no reserves cannot set a price; the token trades on order books
        pa.append(a), pc.append(cu), pA.append(A), pres.append((tok, cnt))

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
    style_code = {"aave": 0, "compound": 1, "maker": 2}
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
        price_set_elsewhere=np.isin(np.arange(k), pa) | np.isin(ast["kind"].to_numpy(dtype=object), _STABLE_KINDS),
        claims_total=np.bincount(Lc.col.astype(int), Lc.data, n),
        pool_ref=np.zeros(len(pa)),
        defender_of=np.array([(epos[e], apos[a]) for e, a in zip(ent["id"], ent["defends"]) if a], dtype=int).reshape(-1, 2),
        held_value=Product.of(held_T),
        held_owed=np.bincount(debt[dmask & ~is_agg[cred]], unsec[dmask & ~is_agg[cred]], n),
        sec_creditor=cred[secured], sec_debtor=debt[secured], sec_asset=coll_asset[secured],
        sec_units=coll_units[secured], sec_value0=sec_val0[secured],
        other_assets=ent["other_assets_usd"].to_numpy(dtype=float),
        other_liab=ent["other_liabilities_usd"].to_numpy(dtype=float),
        liquid_share=ent["liquid_share"].to_numpy(dtype=float),
        insurance=ent["insurance_fund_usd"].to_numpy(dtype=float),
        is_aggregate=is_agg,
        run_prone=np.isin(etype, _RUN_TYPES) & (np.bincount(debt[dmask & is_agg[cred]], minlength=n) > 0),
        c_proto=net.entity_pos(c["protocol"]),
        c_borrower=c_borrower,
        c_ca=net.asset_pos(c["collateral_asset"]), c_da=net.asset_pos(c["debt_asset"]),
        c_coll=c["collateral_amount"].to_numpy(dtype=float), c_debt=c["debt_amount"].to_numpy(dtype=float),
        c_lt=c["liquidation_threshold"].to_numpy(dtype=float), c_bonus=c["liquidation_bonus"].to_numpy(dtype=float),
        c_cf=c["close_factor"].to_numpy(dtype=float),
        c_style=np.array([style_code[s] for s in c["style"]], dtype=int),
        c_full_close=np.where(c["style"].to_numpy(dtype=object) == "aave", 0.95, -1.0),
        c_self_issued=issuer[net.asset_pos(c["debt_asset"])] == net.entity_pos(c["protocol"]),
        c_peg=np.nan_to_num(ast["peg_target"].to_numpy(dtype=float), nan=0.0)[net.asset_pos(c["debt_asset"])] * np.where(peg_unit[net.asset_pos(c["debt_asset"])] == -1, 1.0, np.nan),
        E0=np.zeros(n), pool_token_counter=np.flatnonzero(pool_counter >= 0), pool_usd_counter=usd_counter,
        pool_usd_others=usd_others,
        **_derived(n, k, L, net.entity_pos(c["protocol"]), c_borrower, net.asset_pos(c["collateral_asset"]),
                   cred[secured], debt[secured], debt[dmask], cred[dmask], is_agg[cred[dmask]], etype,
                   ik_total0, base0, ast["peg_target"].to_numpy(dtype=float), ast["kind"].to_numpy(dtype=object),
                   backing, issuer),
    )
    object.__setattr__(comp, "pool_ref", _pool_price(comp, comp.pool_res0[None])[0])
    one = np.ones((1, n))
    m0 = _marks(comp, comp.P0[None], comp.H0[None], comp.c_debt[None], one, one)
    e0, xl0 = _outside_books(comp, comp.P0[None], m0, comp.other_assets[None], comp.c_coll[None],
                             comp.c_debt[None], comp.ik_amount[None], one)
    sink = comp.ik_sink
    object.__setattr__(comp, "E0", (e0 - xl0 + np.bincount(comp.edge_creditor, comp.edge_amount, n) -
                                    np.bincount(comp.edge_debtor, comp.edge_amount, n) +
                                    np.bincount(comp.ik_creditor[sink], comp.ik_amount[sink], n))[0])
    _CACHE[net] = comp
    return comp


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
        inv_base0=np.where(base0 > 0, 1.0 / np.where(base0 > 0, base0, 1.0), 0.0),
        peg1=np.nan_to_num(peg_target, nan=1.0),
        algo_idx=np.flatnonzero((kind == "algorithmic_stable") & (backing >= 0)),
        issued_stable=(issuer >= 0) & np.isin(kind, _STABLE_KINDS), exchange_token=(issuer >= 0) & (kind == "exchange_token"),
        by_proto=Group.of(c_proto, n), by_borrower=Group.of(c_borrower[named], n), by_coll_asset=Group.of(c_ca, k),
        by_sec_creditor=Group.of(sec_creditor, n), by_sec_debtor=Group.of(sec_debtor, n),
        by_sink_debtor=Group.of(ik_debtor[ik_sink], n), by_sink_creditor=Group.of(ik_creditor[ik_sink], n),
        by_ik_debtor=Group.of(ik_debtor, n), by_ik_creditor=Group.of(ik_creditor, n),
        claims_received=Product.of(L.T.tocsr()),
    )


def _debt_price(c: Compiled, P: np.ndarray) -> np.ndarray:
    """Price of each cohort's debt token to its protocol, (S, c): a protocol's own stablecoin
    (DAI at Maker) is worth its peg to it, since repaid debt is burnt against its liability."""
    Pd = P[:, c.c_da]
    return np.where(c.c_self_issued[None], c.c_peg[None], Pd)


def _clip(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """``np.clip`` through the ufuncs alone: its wrapper costs more than the work on a cascade's small arrays."""
    return np.minimum(np.maximum(x, lo), hi)


def _holdings_value(H: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Value of each entity's tokens, (S, n): ``H[s] @ P[s]`` as one batched product."""
    return np.matmul(H, P[:, :, None])[..., 0]


@dataclass(frozen=True, eq=False)
class Marks:
    """What every entity's positions are worth at current prices, (S, n) each: read by both books."""

    hold: np.ndarray    # token holdings at market
    book: np.ndarray    # a protocol's loan book (its cohorts' debt)
    held: np.ndarray    # in-kind claims held on others, at last round's index times last round's paid ratio


def _marks(c: Compiled, P, H, debt, lam_held, ratio) -> Marks:
    held = c.held_value(lam_held * ratio)
    return Marks(_holdings_value(H, P), c.by_proto(debt * _debt_price(c, P)), held)


def _outside_books(c: Compiled, P, m: Marks, oa, coll, debt, ik_left, lam):
    """Outside assets and outside liabilities of every entity, (S, n) each.

    ``ik_left`` is what remains of each in-kind claim in reference dollars and
    ``lam`` (S, n) each debtor's in-kind index (:func:`_inkind_index`); claims
    held on others enter at ``m.held``, last round's index (:func:`_marks`).
    """
    raw = m.hold + oa
    raw += m.book
    named = c.c_named
    if named.any():  # a named borrower's equity in its protocol positions
        pos = coll[:, named] * P[:, c.c_ca[named]] - debt[:, named] * P[:, c.c_da[named]]
        raw += c.by_borrower(np.maximum(pos, 0.0))
    if c.sec_asset.size:
        cv = c.sec_units[None] * P[:, c.sec_asset]
        raw += c.by_sec_creditor(np.minimum(c.sec_value0[None], cv))
        raw += c.by_sec_debtor(np.maximum(cv - c.sec_value0[None], 0.0))
    # Claims held by entities (LP shares, deposits) never shrink; depositors' claims do in runs.
    raw += m.held
    ext_liab = c.by_sink_debtor(ik_left[:, c.ik_sink] * lam[:, c.sink_debtor])
    ext_liab += c.other_liab
    ext_liab += lam * c.held_owed
    ext_liab += np.maximum(-raw, 0.0)
    return np.maximum(raw, 0.0), ext_liab


def _inkind_index(c: Compiled, P, m: Marks, bad, paid_out=None) -> np.ndarray:
    """Each debtor's in-kind index ``lam``, (S, n): what a reference dollar of its in-kind claims is worth now.

    Customers of an exchange or lender and suppliers of a protocol are owed the
    tokens they deposited, and an LP owns its share of the pool: their claims
    follow the prices of the assets held for them. Up to ``ik_follow0`` (the
    smaller of the claims and the assets they follow), claims move with the
    value ``V`` of those assets; the rest is fixed in dollars::

        lam = (C0 - K0 + K0 * V(P) / V0) / C0,   K0 = min(C0, V0).

    ``V`` values the reference token units of an exchange or lender at current
    prices; for pools and lending protocols it values their current reserves,
    idle tokens and loan book, with tokens paid out in withdrawals and bad debt
    added back (withdrawals shrink the claims themselves): bad debt falls on the
    protocol's insurance fund and equity first, and on its suppliers only
    through clearing. LP claims held on other pools enter ``V`` at last
    round's index (``m.held``): like claims in clearing, a holder recognises a
    pool's loss one round later, and the rounds converge to the fixed point.
    """
    live = c.live_idx
    base = P @ c.H0.T  # reference units at current prices
    if len(live):
        base[:, live] = m.hold[:, live] + bad[:, live]
        if paid_out is not None:
            base[:, live] += _holdings_value(paid_out, P)
    base += m.book
    base += m.held
    base *= c.inv_base0
    base *= c.lam_follow
    base += c.lam_fixed
    return base


# ---------------------------------------------------------------------------
# Scenario arrays
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ScenarioBatch:
    """A batch of scenarios as arrays, one row per scenario (what the rounds read).

    Build one with :func:`scenario_batch` and vary its arrays with
    :meth:`replace` (Monte Carlo draws, parameter sweeps); run it with
    :func:`run_batch`.
    """

    S: int
    shock: np.ndarray          # (S, k) price multipliers at round 0
    depeg: np.ndarray          # (S, k) fall below peg (0 = none)
    pool_sales: np.ndarray     # (S, k) USD sold into pools
    forced: np.ndarray         # (S, n) bool
    forced_recovery: np.ndarray  # (S,)
    run: np.ndarray            # (S,)
    lag: np.ndarray            # (S,) int
    liquidity: np.ndarray      # (S,)
    capacity: np.ndarray       # (S,) liquidator capacity USD per round (inf = unlimited)
    horizon: int
    cb_threshold: np.ndarray   # (S,) inf = no breaker
    cb_rounds: np.ndarray      # (S,) int
    coll_mult: np.ndarray      # (S,)
    insurance: np.ndarray      # (S, n)
    max_bonus: np.ndarray      # (S,)
    max_cf: np.ndarray         # (S,)
    alpha: np.ndarray          # (S,)
    beta: np.ndarray           # (S,)

    def replace(self, **arrays: np.ndarray) -> "ScenarioBatch":
        """A copy with some arrays replaced (each must keep a leading axis of length S)."""
        for k_, v in arrays.items():
            if k_ not in self.__dataclass_fields__ or k_ in ("S", "horizon"):
                raise ValueError(f"unknown batch array {k_!r}")
            if np.shape(v)[:1] != (self.S,):
                raise ValueError(f"{k_} must have leading length {self.S}, got shape {np.shape(v)}")
        return ScenarioBatch(**(self.__dict__ | arrays))


def scenario_batch(network: Network, scenarios: Scenario | Sequence[Scenario], repeat: int = 1) -> ScenarioBatch:
    """Arrays for ``scenarios`` (each validated against the network), optionally repeated ``repeat`` times."""
    scs = [scenarios] if isinstance(scenarios, Scenario) else list(scenarios)
    b = _batch(compile_network(network), scs, network, True)
    return b if repeat == 1 else _batch_take(b, np.tile(np.arange(b.S), repeat))


def _batch(c: Compiled, scenarios: Sequence[Scenario], net: Network, check: bool = True) -> ScenarioBatch:
    S = len(scenarios)
    apos = {s: i for i, s in enumerate(c.symbols)}
    epos = {e: i for i, e in enumerate(c.ids)}
    shock = np.ones((S, c.k))
    depeg = np.zeros((S, c.k))
    sales = np.zeros((S, c.k))
    forced = np.zeros((S, c.n), bool)
    ins = np.repeat(c.insurance[None], S, 0)
    for s, sc in enumerate(scenarios):
        if check:
            sc.check_against(net)
        for a, v in sc.price_shocks.items():
            shock[s, apos[a]] = 1.0 + v
        for a, v in sc.depegs.items():
            depeg[s, apos[a]] = v
        for a, v in sc.pool_sales_usd.items():
            sales[s, apos[a]] = v
        forced[s, [epos[e] for e in sc.forced_defaults]] = True
        g = sc.safeguards
        ins[s] *= g.insurance_multiplier
        for e, v in g.insurance_funds_usd.items():
            ins[s, epos[e]] = v

    def col(f, dtype=float):
        return np.array([f(sc) for sc in scenarios], dtype=dtype)

    return ScenarioBatch(
        S=S, shock=shock, depeg=depeg, pool_sales=sales, forced=forced,
        forced_recovery=col(lambda sc: sc.forced_default_recovery),
        run=col(lambda sc: sc.run_intensity), lag=col(lambda sc: sc.oracle_lag, int),
        liquidity=col(lambda sc: sc.liquidity),
        capacity=col(lambda sc: np.inf if sc.liquidator_capacity_usd is None else sc.liquidator_capacity_usd * sc.liquidity),
        horizon=max(sc.horizon for sc in scenarios),
        cb_threshold=col(lambda sc: np.inf if sc.safeguards.circuit_breaker is None else sc.safeguards.circuit_breaker.threshold),
        cb_rounds=col(lambda sc: 0 if sc.safeguards.circuit_breaker is None else sc.safeguards.circuit_breaker.rounds, int),
        coll_mult=col(lambda sc: sc.safeguards.collateral_multiplier), insurance=ins,
        max_bonus=col(lambda sc: np.inf if sc.safeguards.max_liquidation_bonus is None else sc.safeguards.max_liquidation_bonus),
        max_cf=col(lambda sc: np.inf if sc.safeguards.max_close_factor is None else sc.safeguards.max_close_factor),
        alpha=col(lambda sc: sc.default_costs.alpha), beta=col(lambda sc: sc.default_costs.beta),
    )


# ---------------------------------------------------------------------------
# The cascade
# ---------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class BatchResult:
    """Final state of a batch of cascades (leading axis: scenario).

    ``history`` holds per-round arrays when the run was recorded.
    """

    entity_ids: np.ndarray
    asset_symbols: np.ndarray
    initial_equity: np.ndarray     # (n,)
    equity: np.ndarray             # (S, n) final
    loss: np.ndarray               # (S, n) final, limited liability
    channel_parts: dict[str, np.ndarray]  # (S, n) each: losses by named channel, before the split (see loss_by_channel)
    defaulted: np.ndarray          # (S, n)
    default_round: np.ndarray      # (S, n), -1 never
    bad_debt: np.ndarray           # (S, n) cumulative bad debt booked at each protocol (gross)
    insurance_draw: np.ndarray     # (S, n)
    outside_loss: np.ndarray       # (S,) outside creditors' write-downs
    liquidated_usd: np.ndarray     # (S,) collateral sold in liquidations
    total_loss: np.ndarray         # (S,)
    prices: np.ndarray             # (S, k) final
    rounds_run: np.ndarray         # (S,) rounds until settled
    writedowns: np.ndarray         # (S,) creditors' write-downs (network + depositors + outside)
    shortfall: np.ndarray          # (S,) debtors' unpaid obligations
    history: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def system_equity(self) -> float:
        return float(np.maximum(self.initial_equity, 0).sum())

    @functools.cached_property
    def loss_by_channel(self) -> np.ndarray:
        """(S, n, channels): each entity's loss split over the channels that caused it (built when first read)."""
        return _split_channels(self.loss, self.channel_parts)[0]


def simulate_batch(network: Network, scenarios: Sequence[Scenario], *, record: bool = False,
                   check: bool = True) -> BatchResult:
    """Run a batch of scenarios at once; see the module docstring for the round.

    Scenarios that have settled drop out of the batch, so a batch costs what
    its longest cascades cost, not ``len(scenarios) × horizon`` rounds.
    ``check=False`` skips checking each scenario's names against the network
    (for batches built from the network's own ids).
    """
    if not scenarios:
        raise ValueError("at least one scenario is needed")
    c = compile_network(network)
    return run_batch(c, _batch(c, scenarios, network, check), record=record)


def _batch_take(b: ScenarioBatch, idx: np.ndarray) -> ScenarioBatch:
    return ScenarioBatch(**{f_: (v if f_ in ("S", "horizon") else v[idx]) for f_, v in b.__dict__.items()} | {"S": len(idx)})



def run_batch(network: Network | Compiled, b: ScenarioBatch, *, record: bool = False,
              workers: int | None = None) -> BatchResult:
    """The cascade over arrays: ``b`` holds one row per scenario (see :func:`simulate_batch`).

    A large batch is run in chunks of scenarios whose (scenario, entity)
    arrays fit a core's cache (:mod:`core.chunks`): a round makes some fifty
    passes over them, which then stay out of main memory. The chunks run on
    ``workers`` threads (default: the usable cores, or what
    :func:`~core.chunks.engine_threads` set). A scenario's result never
    depends on its batch-mates, so the result is the same to the last bit
    however the batch is cut.
    """
    c = network if isinstance(network, Compiled) else compile_network(network)
    if record or b.S <= chunk_rows(c.n):
        # network and scenarios were validated on loading: the mechanisms skip their checks
        with trusted(), (single_threaded_blas() if b.S > 1 else contextlib.nullcontext()):
            return _run(c, b, record)

    def job(idx: np.ndarray) -> BatchResult:
        with trusted():
            return _run(c, _batch_take(b, idx), False)

    parts = map_chunks(job, b.S, c.n, workers)
    merged = {f_: (np.concatenate([getattr(p_, f_) for p_ in parts]) if f_ in _PER_SCENARIO else getattr(parts[0], f_))
              for f_ in BatchResult.__dataclass_fields__}
    merged["channel_parts"] = {ch: np.concatenate([p_.channel_parts[ch] for p_ in parts]) for ch in parts[0].channel_parts}
    return BatchResult(**merged)


_PER_SCENARIO = ("equity", "loss", "defaulted", "default_round", "bad_debt", "insurance_draw",
                 "outside_loss", "liquidated_usd", "total_loss", "prices", "rounds_run", "writedowns", "shortfall")


def _run(c: Compiled, b: ScenarioBatch, record: bool) -> BatchResult:
    S, n, k = b.S, c.n, c.k
    out = {
        "equity": np.zeros((S, n)), "loss": np.zeros((S, n)), "parts": {ch: np.zeros((S, n)) for ch in _NAMED_CHANNELS},
        "defaulted": np.zeros((S, n), bool), "default_round": np.full((S, n), -1), "bad": np.zeros((S, n)),
        "ins_draw": np.zeros((S, n)), "outside": np.zeros(S), "liq_total": np.zeros(S), "total_loss": np.zeros(S),
        "P": np.zeros((S, k)), "rounds_run": np.zeros(S, int), "writedowns": np.zeros(S), "shortfall": np.zeros(S),
    }
    ids = np.arange(S)  # rows of ``out`` the live batch stands for

    # --- round 0: the shock --------------------------------------------------------------
    P = np.repeat(c.P0[None], S, 0) * b.shock
    pegged = c.peg_unit >= -1
    peg_ref = np.where(c.peg_unit >= 0, P[:, np.maximum(c.peg_unit, 0)], 1.0) * np.nan_to_num(c.peg_target)
    P = np.where((b.depeg > 0) & pegged, peg_ref * (1 - b.depeg), P)
    st: dict[str, np.ndarray] = {}
    # Forced defaults lose their outside assets but the recovery share (few (scenario, entity) pairs).
    H = np.repeat(c.H0[None], S, 0)
    oa = np.repeat(c.other_assets[None], S, 0)
    fs, fi = np.nonzero(b.forced)
    lost = 1.0 - b.forced_recovery[fs]
    st["shock_loss"] = np.zeros((S, n))
    st["shock_loss"][fs, fi] = lost * (oa[fs, fi] + (H[fs, fi] * P[fs]).sum(1))
    oa[fs, fi] *= 1.0 - lost
    H[fs, fi] *= (1.0 - lost)[:, None]
    st["oa"], st["H"] = oa, H
    pool_ref = c.pool_ref[None]   # (1, p)
    st["pool_res"] = np.repeat(c.pool_res0[None], S, 0)  # (S, p, 2)
    if len(c.pool_asset):
        units = b.pool_sales[:, c.pool_asset] / np.maximum(P[:, c.pool_asset], 1e-12)
        st["pool_res"] = _pool_sell(c, st["pool_res"], units)
    st["pool_px"] = _pool_price(c, st["pool_res"])
    if len(c.pool_asset):
        P = _apply_pool_prices(c, P, st["pool_px"], pool_ref)
    st["P"] = P
    st["coll"] = np.repeat(c.c_coll[None], S, 0)
    st["debt"] = np.repeat(c.c_debt[None], S, 0)
    st["bad"] = np.zeros((S, n))
    st["ik_left"] = np.repeat(c.ik_amount[None], S, 0)
    st["ratio"] = np.ones((S, n))
    st["supply"] = np.repeat(c.supply[None], S, 0)
    st["algo_queue"] = np.zeros((S, k))
    with np.errstate(divide="ignore"):
        st["log_mcap"] = np.repeat(np.log(c.supply * c.P0)[None], S, 0)  # for backing tokens of algorithmic stables
    st["defaulted"] = b.forced.copy()
    st["default_round"] = np.where(b.forced, 0, -1)
    st["cb_left"] = np.zeros(S, int)
    st["liq_total"] = np.zeros(S)
    st["run_loss"] = np.zeros((S, n))
    st["liq_loss"] = np.zeros((S, n))
    st["rounds_run"] = np.zeros(S, int)
    st["estate"] = np.zeros((S, n), bool)  # estate sales under way
    st["ins_paid"] = np.zeros((S, n))
    st["run_units"] = np.zeros((S, len(c.live_idx), k))  # tokens live-book entities paid out in withdrawals
    hist_p = [np.repeat(c.P0[None], S, 0), P.copy()]  # reference, then each round's closing prices (oracle lag)
    issuer_ok = c.issuer >= 0
    named = c.c_borrower >= 0
    hist: dict[str, list] = {k_: [] for k_ in ("equity", "status", "loss", "channels", "channels_raw", "prices", "liquidated", "bad_debt",
                                                "edge_loss", "dep_loss", "hold_loss", "sold", "cohort_bad", "liq_by_proto",
                                                "outside", "ins_draw", "liquidated_total")} if record else {}
    prev_equity: np.ndarray | None = None
    clearing = None
    settle_tol = SETTLE_TOL * max(1.0, float(np.abs(c.E0).max()))
    lt_eff = None
    stored = np.zeros(S, bool)  # live rows whose result is already taken
    r = 0
    for r in range(b.horizon):
        P = st["P"]
        Sb = len(ids)
        sold = np.zeros((Sb, k))
        if lt_eff is None or len(lt_eff) != Sb:  # safeguards on the cohorts' terms, for the rows still live
            lt_eff = c.c_lt[None] / b.coll_mult[:, None]
            bonus_eff = np.minimum(c.c_bonus[None], b.max_bonus[:, None])
            cf_eff = np.minimum(c.c_cf[None], b.max_cf[:, None])
            breaker = np.isfinite(b.cb_threshold)
        # The circuit breaker watches the last round's move (the shock itself, in round 0).
        if breaker.any():
            fell = (P < hist_p[-2] * (1 - np.minimum(b.cb_threshold, 1.0)[:, None])).any(1)
            trip = fell & (st["cb_left"] == 0) & breaker
            st["cb_left"] = np.where(trip, b.cb_rounds, st["cb_left"])
        halted = st["cb_left"] > 0

        # 1. liquidations at oracle prices
        Po = _oracle_prices(hist_p, b.lag, P)
        liq_proto = cohort_bad = None  # this round's liquidations by protocol and bad debt by cohort, if any
        coll, debt = st["coll"], st["debt"]
        if len(c.c_coll) and _any_liquidatable(c, coll, debt, Po, lt_eff):
            res = _liquidate(c, coll, debt, Po, lt_eff, bonus_eff, cf_eff, b.capacity, halted)
            before = np.maximum(coll * P[:, c.c_ca] - debt * P[:, c.c_da], 0.0)
            st["coll"], st["debt"] = res.collateral_after, res.debt_after
            after = np.maximum(st["coll"] * P[:, c.c_ca] - st["debt"] * P[:, c.c_da], 0.0)
            st["liq_loss"] = st["liq_loss"] + c.by_borrower((before - after)[:, named] * res.liquidated[:, named])
            # Repayments arrive in the debt token.
            np.add.at(st["H"], (slice(None), c.c_proto, c.c_da), res.debt_repaid)
            cohort_bad = res.bad_debt
            st["bad"] = st["bad"] + c.by_proto(res.bad_debt)
            sold += c.by_coll_asset(res.collateral_seized)
            liq_usd = res.collateral_seized * P[:, c.c_ca]
            liq_proto = c.by_proto(liq_usd)
            st["liq_total"] = st["liq_total"] + liq_usd.sum(1)
        if st["bad"].any():  # bad debt only grows: none yet means no draws yet
            bad_net = np.maximum(st["bad"] - b.insurance, 0.0)
            ins_draw = np.minimum(st["bad"], b.insurance)
            st["oa"] = st["oa"] + ins_draw - st["ins_paid"]  # the insurance fund pays bad debt in
            st["ins_paid"] = ins_draw
        else:
            bad_net = ins_draw = st["bad"]

        # 2. runs on entities that owe depositors
        st["run_paid"] = np.zeros(Sb)
        runs_on = bool(b.run.any())  # no run intensity in the batch: nobody withdraws, nothing is paid out
        if prev_equity is not None and runs_on:
            _run_round(c, st, b, prev_equity, halted, P, r)

        # 3. sales: estates of defaulted entities, then price impact of everything sold.
        # The (scenario, entity) pairs selling are few, so work on them alone (in place: each pair once).
        es, ei = np.nonzero(st["defaulted"] & c.sells_estate[None] & ~halted[:, None])
        if len(es):
            # An estate realises its illiquid assets at the fire-sale discount, once, as a run would.
            first = ~st["estate"][es, ei]
            disc = np.minimum(0.9, FIRE_SALE_DISCOUNT / b.liquidity[es])
            haircut = np.where(first, st["oa"][es, ei] * (1 - c.liquid_share[ei]) * disc, 0.0)
            st["oa"][es, ei] -= haircut
            st["run_loss"][es, ei] += haircut
            st["estate"][es, ei] = True
            units = st["H"][es, ei] * np.where(first, ESTATE_SALE_RATE, 1.0)[:, None]
            st["H"][es, ei] -= units
            st["oa"][es, ei] += (units * P[es]).sum(1)
            np.add.at(sold, es, units)
        P = _price_impact(c, st, P, sold, b.liquidity, pool_ref)
        _sync_pool_holdings(c, st)

        # 4. depegs and the circuit breaker
        P = _defend_pegs(c, st, P, b.liquidity, halted)
        P = _algo_stable_step(c, st, P, b.run)
        if clearing is not None:
            P = _issuer_effects(c, P, clearing, st["defaulted"], prev_equity, issuer_ok)
        if breaker.any():
            st["cb_left"] = np.maximum(st["cb_left"] - 1, 0)
        P = np.maximum(P, PRICE_FLOOR * c.P0[None])  # a token can become worthless, not free of sign
        st["P"] = P

        # 5. mark to market, clearing, defaults
        lam_prev = st["lam"] if "lam" in st else np.ones((Sb, n))
        # Held LP claims are valued at last round's index on both sides of the holder's book.
        marks = _marks(c, P, st["H"], st["debt"], lam_prev, st["ratio"])
        st["lam"] = _inkind_index(c, P, marks, st["bad"], st["run_units"] if runs_on else None)
        e, xl = _outside_books(c, P, marks, st["oa"], st["coll"], st["debt"], st["ik_left"], st["lam"])
        clearing = clearing_step(c.L, e, st["ratio"], b.alpha[:, None], b.beta[:, None], xl, checked=True,
                                 liabilities_t=c.claims_received.MT, network_owed=c.owed_network)
        st["ratio"] = clearing.paid_ratio
        equity = clearing.equity + _sink_claims(c, st)
        # A default is a shortfall beyond rounding: a dollar, or a billionth of what is owed.
        ds, di = np.nonzero(clearing.defaulted & ~st["defaulted"])  # candidates: few pairs
        if len(ds):
            owed = np.broadcast_to(clearing.total_liabilities, equity.shape)[ds, di]
            short = clearing.payments[ds, di] < owed - np.maximum(1.0, DEFAULT_TOL * owed)
            st["defaulted"][ds[short], di[short]] = True  # in place: the state owns its arrays
            st["default_round"][ds[short], di[short]] = r
        hist_p.append(P.copy())
        if record:
            _record(hist, c, clearing, equity, st, np.zeros((Sb, n)) if liq_proto is None else liq_proto, sold, bad_net,
                    ins_draw, np.zeros((Sb, len(c.c_coll))) if cohort_bad is None else cohort_bad, xl)
        changed = np.ones(Sb, bool) if prev_equity is None else np.abs(equity - prev_equity).max(1) > settle_tol
        if breaker.any():
            changed |= (st["cb_left"] > 0) | halted  # a halt only postpones liquidations
        if runs_on:
            changed |= st["run_paid"] > 1.0  # a run paid from cash moves no equity yet, but drains it
        st["rounds_run"] = np.where(changed, r + 1, st["rounds_run"])
        prev_equity = equity
        done = ~changed if r > 0 else np.zeros(Sb, bool)
        last = r == b.horizon - 1
        if last or done.all():
            _store(out, ids, c, clearing, equity, st, bad_net, ins_draw, xl, ~stored)
            break
        # A scenario's result is taken the round it settles, so it never depends on its batch-mates;
        # settled rows leave the arrays once they are a quarter of the batch (copying costs).
        new = done & ~stored
        if not record and new.any():
            _store(out, ids, c, clearing, equity, st, bad_net, ins_draw, xl, new)
            stored = stored | new
        if not record and stored.mean() > 0.25:
            live = ~stored
            stored = stored[live]
            ids = ids[live]
            st = {k_: v[live] for k_, v in st.items()}
            b = _batch_take(b, np.flatnonzero(live))
            hist_p = [h_[live] for h_ in hist_p]
            prev_equity = prev_equity[live]
            clearing = ClearingStep(**{f_: getattr(clearing, f_)[live] for f_ in ClearingStep.__dataclass_fields__})

    return BatchResult(
        entity_ids=c.ids, asset_symbols=c.symbols, initial_equity=c.E0, equity=out["equity"],
        loss=out["loss"], channel_parts=out["parts"], defaulted=out["defaulted"],
        default_round=out["default_round"], bad_debt=out["bad"], insurance_draw=out["ins_draw"],
        outside_loss=out["outside"], liquidated_usd=out["liq_total"], total_loss=out["total_loss"], prices=out["P"],
        rounds_run=out["rounds_run"], writedowns=out["writedowns"], shortfall=out["shortfall"],
        history={k_: np.stack(v, 1) for k_, v in hist.items()},
    )


def _store(out, ids, c: Compiled, clearing, equity, st, bad_net, ins_draw, xl, sel) -> None:
    """Write the final state of the selected live scenarios into the output rows they stand for."""
    rows = ids[sel]
    cl = ClearingStep(**{f_: getattr(clearing, f_)[sel] for f_ in ClearingStep.__dataclass_fields__})
    fin = _final_losses(c, cl, equity[sel], st["shock_loss"][sel], st["liq_loss"][sel], st["run_loss"][sel],
                        bad_net[sel], st["ik_left"][sel] * st["lam"][sel][:, c.ik_debtor], xl[sel])
    out["equity"][rows] = equity[sel]
    out["loss"][rows] = fin["loss"]
    for ch, v in fin["parts"].items():
        out["parts"][ch][rows] = v
    out["defaulted"][rows] = st["defaulted"][sel]
    out["default_round"][rows] = st["default_round"][sel]
    out["bad"][rows] = st["bad"][sel]
    out["ins_draw"][rows] = ins_draw[sel]
    out["outside"][rows] = fin["outside"]
    out["liq_total"][rows] = st["liq_total"][sel]
    out["total_loss"][rows] = fin["loss"].sum(1) + fin["outside"] + ins_draw[sel].sum(1)
    out["P"][rows] = st["P"][sel]
    out["rounds_run"][rows] = st["rounds_run"][sel]
    out["writedowns"][rows] = fin["writedowns"]
    out["shortfall"][rows] = fin["shortfall"]


def _sink_claims(c: Compiled, st) -> np.ndarray:
    """What depositor aggregates recover on their in-kind claims, (S, n)."""
    d = c.sink_debtor
    return c.by_sink_creditor(st["ik_left"][:, c.ik_sink] * (st["lam"] * st["ratio"])[:, d])


def _sync_pool_holdings(c: Compiled, st) -> None:
    """A pool entity's holdings are its reserves: copy the swapped reserves back (in place: the state owns H)."""
    if not len(c.pool_asset):
        return
    H, res = st["H"], st["pool_res"]
    H[:, c.pool_entity, c.pool_asset] = res[..., 0]
    tc = c.pool_token_counter
    if tc.size:
        H[:, c.pool_entity[tc], c.pool_counter[tc]] = res[:, tc, 1]
    uc = c.pool_usd_counter
    if uc.size:  # USD counter: the pool's other tokens scale with the counter reserve
        pe = c.pool_entity[uc]
        scale = res[:, uc, 1] / c.pool_res0[uc, 1][None]
        H[:, pe, :] = np.where(c.pool_usd_others[None], c.H0[pe][None] * scale[..., None], H[:, pe, :])


def _any_liquidatable(c: Compiled, coll, debt, Po, lt) -> bool:
    """Cheap screen: is any cohort below its liquidation threshold in any scenario?"""
    with np.errstate(divide="ignore", invalid="ignore"):
        return bool((coll * Po[:, c.c_ca] * lt < debt * Po[:, c.c_da]).any())


def _run_round(c: Compiled, st, b: ScenarioBatch, prev_equity, halted, P, r) -> None:
    """Withdrawals from run-prone entities (updates the state).

    Depositors are paid in kind: cash first, then the tokens the entity holds
    (they pass to the depositors' holdings, not to the market), then other
    assets sold at the fire-sale discount.
    """
    # Entities without equity to lose (pass-throughs) are distressed only once they are short.
    loss_share = np.where(c.E0 > 0, _clip(1 - prev_equity / np.where(c.E0 > 0, c.E0, 1.0), 0.0, 1.0),
                          (prev_equity < -np.maximum(1.0, DEFAULT_TOL * np.abs(c.E0))).astype(float))
    # Peers: the share of an entity's claims owed by defaulted debtors.
    claims = c.claims_total
    bad_claims = c.claims_received(st["defaulted"].astype(float))
    peer = np.where(claims > 0, bad_claims / np.where(claims > 0, claims, 1.0), 0.0)
    d = runs.run_distress(loss_share, peer, _own_token_discount(c, P))
    # Calm-market withdrawals are business as usual: the run is the excess over them, scaled by intensity.
    calm, panic = _CALM, _PANIC
    w = b.run[:, None] * _clip((runs.withdrawal_rate(d) - calm) / (panic - calm), 0.0, 1.0) * panic
    w = np.where(c.run_prone[None] & ~st["defaulted"] & ~halted[:, None], w, 0.0)
    H, oa = st["H"], st["oa"]
    sink, sd = c.ik_sink, c.sink_debtor
    dep_val = st["ik_left"][:, sink] * st["lam"][:, sd]
    D = c.by_sink_debtor(dep_val)
    cash = c.liquid_share[None] * oa
    tok_val = _holdings_value(H, P)
    fs_disc = np.minimum(0.9, FIRE_SALE_DISCOUNT / b.liquidity)[:, None]
    rs = runs.run_step(D, cash + tok_val, oa - cash, fs_disc, w)
    tok_used = np.maximum(rs.liquid_used - cash, 0.0)
    frac = np.where(tok_val > 0, np.minimum(tok_used / np.where(tok_val > 0, tok_val, 1.0), 1.0), 0.0)
    units_out = H * frac[:, :, None]
    st["H"] = H - units_out
    st["run_units"] = st["run_units"] + units_out[:, c.live_idx]
    cash_out = np.minimum(rs.liquid_used, cash) + rs.fire_sale_proceeds
    st["oa"] = oa - np.minimum(rs.liquid_used, cash) - rs.illiquid_sold
    st["run_loss"] = st["run_loss"] + rs.haircut_loss
    paid_share = np.where(D > 0, rs.withdrawals_paid / np.where(D > 0, D, 1.0), 0.0)
    st["run_paid"] = rs.withdrawals_paid.sum(1)
    # Each depositor aggregate receives its pro-rata part of the cash and of the tokens.
    Dd = D[:, sd]
    part = np.where(Dd > 0, dep_val / np.where(Dd > 0, Dd, 1.0), 0.0)
    st["oa"] = st["oa"] + c.by_sink_creditor(part * cash_out[:, sd])
    if units_out.any():
        got = units_out[:, sd, :] * part[:, :, None]  # (S, claims, k)
        for a in np.flatnonzero(got.any(axis=(0, 1))):  # assets actually paid out: a handful
            st["H"][:, :, a] += c.by_sink_creditor(got[:, :, a])
    left = st["ik_left"].copy()
    left[:, sink] = left[:, sink] * (1 - paid_share[:, sd])
    st["ik_left"] = left
    newly = rs.liquidity_default & ~st["defaulted"]
    st["default_round"] = np.where(newly, r, st["default_round"])
    st["defaulted"] = st["defaulted"] | newly


def _oracle_prices(price_hist: list[np.ndarray], lag: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Prices the protocols' oracles report: ``lag`` rounds old, per scenario."""
    if not lag.any():
        return P
    stack = np.stack(price_hist)  # (rounds, S, k)
    idx = np.maximum(len(price_hist) - 1 - lag, 0)
    return stack[idx, np.arange(len(lag))]


def _liquidate(c: Compiled, coll, debt, Po, lt, bonus, cf, cap, halted):
    """Liquidations under each cohort's own rules, merged into one result; none where halted.

    Aave and Compound positions follow the close-factor rule (Aave's full
    close at HF <= 0.95, none for Compound) in one call, so liquidators'
    capacity is shared among them pro rata; Maker vaults go to auction, with
    keepers of the same capacity. A rule runs only if one of its cohorts is due.
    """
    Pc, Pd = Po[:, c.c_ca], Po[:, c.c_da]
    due = (coll * Pc * lt < debt * Pd).any(0)
    maker = c.c_style == 2
    cfr = (lending.liquidate_aave(coll, debt, Pc, Pd, lt, bonus, cf, c.c_full_close, cap)
           if (due & ~maker).any() else None)
    mkr = (lending.liquidate_maker(coll, debt, Pc, 1.0 / lt, bonus, 0.0, keeper_capacity_usd=cap, liquidity=1.0, debt_price=Pd)
           if (due & maker).any() else None)
    fields = lending.LiquidationResult.__dataclass_fields__
    idle = {"collateral_after": coll, "debt_after": debt}

    def idle_value(name):
        return idle[name] if name in idle else np.zeros(coll.shape, bool if name == "liquidated" else float)

    # a cohort whose rule did not run was not due: the other rule leaves it idle too
    if cfr is None and mkr is None:
        return lending.LiquidationResult(**{f_: idle_value(f_) for f_ in fields})
    if cfr is None or mkr is None:
        res = {f_: getattr(cfr if mkr is None else mkr, f_) for f_ in fields}
    else:
        res = {f_: np.where(maker, getattr(mkr, f_), getattr(cfr, f_)) for f_ in fields}
    if halted.any():
        off = halted[:, None]
        res = {f_: np.where(off, idle_value(f_), v) for f_, v in res.items()}
    return lending.LiquidationResult(**res)


def _pool_price(c: Compiled, res: np.ndarray, only: int | None = None) -> np.ndarray:
    """Marginal price of each pool's token in counter units, (S, p); ``only`` prices one pool, (S, 1)."""
    if not len(c.pool_asset):
        return np.zeros((res.shape[0], 0))
    if only is not None:
        r, A = res[:, None] if res.ndim == 2 else res[:, [only]], c.pool_A[[only]]
        if np.isfinite(A[0]):
            return amm.stableswap_price(r, A[None], 0, 1)
        return r[..., 1] / r[..., 0]
    ss = np.isfinite(c.pool_A)
    out = res[..., 1] / res[..., 0]  # constant product
    if ss.any():
        out = out.copy()
        out[:, ss] = amm.stableswap_price(res[:, ss], c.pool_A[ss][None], 0, 1)
    return out


def _pool_sell(c: Compiled, res: np.ndarray, units: np.ndarray) -> np.ndarray:
    """Swap ``units`` (S, p) of each pool's token into it."""
    units = np.maximum(units, 0.0)
    if not units.any():
        return res
    ss = np.isfinite(c.pool_A)
    new = res.copy()
    if ss.any():
        new[:, ss] = amm.stableswap_swap(res[:, ss], c.pool_A[ss][None], 0, 1, units[:, ss]).balances
    cp = ~ss
    if cp.any():
        sw = amm.cp_swap(res[:, cp, 0], res[:, cp, 1], units[:, cp])
        new[:, cp, 0], new[:, cp, 1] = sw.reserves_in, sw.reserves_out
    return new


def _apply_pool_prices(c: Compiled, P, px, ref):
    """Pool tokens move with their pool: P = P0 * (pool price / reference pool price) * counter move."""
    if not len(c.pool_asset):
        return P
    rel = px / ref
    counter = np.where(c.pool_counter >= 0, P[:, np.maximum(c.pool_counter, 0)] / c.P0[np.maximum(c.pool_counter, 0)], 1.0)
    P = P.copy()
    P[:, c.pool_asset] = np.minimum(P[:, c.pool_asset], c.P0[c.pool_asset] * rel * counter)
    return P


def _price_impact(c: Compiled, st, P, sold, liquidity, pool_ref):
    """Sold units move prices: through the pool that sets a token's price, else the square-root law.

    Fiat-backed and CDP stablecoins are redeemable at par: selling them does
    not move their price (their issuer's solvency does, in the depeg step).
    Updates the pools' reserves and prices in the state.
    """
    if len(c.pool_asset) and sold[:, c.pool_asset].any():
        st["pool_res"] = _pool_sell(c, st["pool_res"], sold[:, c.pool_asset])
        st["pool_px"] = _pool_price(c, st["pool_res"])
    impact = market.log_sqrt_impact(sold * P, c.adv[None], c.vol[None], 1.0, liquidity[:, None])
    P = np.where(c.price_set_elsewhere[None], P, P * np.exp(-impact))
    return _apply_pool_prices(c, P, st["pool_px"], pool_ref)


def _defend_pegs(c: Compiled, st, P, liquidity, halted):
    """Reserves defend their pegged token: below peg they sell their other tokens and buy it in its pool.

    The sale moves the sold tokens by the square-root law; the purchase is a
    swap of the proceeds into the token's pool (:func:`pegs.reserve_defence`).
    """
    if not c.defender_of.size or not len(c.pool_asset):
        return P
    P = P.copy()
    spent = False
    for i, a in zip(c.defender_of[:, 0], c.defender_of[:, 1]):  # a reserve or two at most
        if a not in c.pool_asset:
            continue
        p = list(c.pool_asset).index(a)
        peg = c.peg1[a] * (P[:, c.pool_counter[p]] if c.pool_counter[p] >= 0 else 1.0)
        if not pegs.reserve_defence(P[:, a], peg, 1.0).any():
            continue  # at peg everywhere: the reserve holds still
        others = np.arange(c.k) != a
        held = st["H"][:, i, :] * others[None]
        value = (held * P).sum(1)
        # A reserve down to its last percent has given up (LFG was empty by 10 May).
        spent_out = value < RESERVE_EXHAUSTED * (c.H0[i] * others) @ c.P0
        spend = np.where(st["defaulted"][:, i] | halted | spent_out, 0.0, pegs.reserve_defence(P[:, a], peg, value))
        if not spend.any():
            continue
        spent = True
        frac = np.where(value > 0, spend / np.where(value > 0, value, 1.0), 0.0)
        sold = held * frac[:, None]
        impact = market.log_sqrt_impact(sold * P, c.adv[None], c.vol[None], 1.0, liquidity[:, None])
        P = np.where(c.price_set_elsewhere[None], P, P * np.exp(-impact))
        st["H"][:, i, :] -= sold
        # Buy the token back: the proceeds go into the pool on the counter side.
        counter_units = spend / (P[:, c.pool_counter[p]] if c.pool_counter[p] >= 0 else 1.0)
        res = st["pool_res"].copy()
        if np.isfinite(c.pool_A[p]):
            sw = amm.stableswap_swap(res[:, p], c.pool_A[p], 1, 0, counter_units)
            bought, res[:, p] = sw.amount_out, sw.balances
        else:
            sw = amm.cp_swap(res[:, p, 1], res[:, p, 0], counter_units)
            bought, res[:, p, 1], res[:, p, 0] = sw.amount_out, sw.reserves_in, sw.reserves_out
        st["H"][:, i, a] += bought
        st["pool_res"] = res
        px = st["pool_px"].copy()
        px[:, p] = _pool_price(c, res, p)[:, 0]
        st["pool_px"] = px
        # The purchase lifts the defended token with its pool.
        cu = c.pool_counter[p]
        move = P[:, cu] / c.P0[cu] if cu >= 0 else 1.0
        lifted = c.P0[a] * px[:, p] / c.pool_ref[p] * move
        P[:, a] = np.where(spend > 0, np.maximum(P[:, a], np.minimum(lifted, peg)), P[:, a])
    if spent:
        _sync_pool_holdings(c, st)
    return P


def _algo_stable_step(c: Compiled, st, P, run):
    """One round of mint-and-burn redemptions of algorithmic stablecoins (the UST/LUNA spiral).

    Holders redeem a share ``w = min(ALGO_MAX_RATE, (1 + run) * (1 - q))`` of
    the supply when the stablecoin trades at ``q`` of its peg; redemptions
    beyond the mint/burn capacity (``ALGO_REDEMPTION_CAP`` of the supply per
    round) queue. Each redeemed dollar mints a dollar of the backing token,
    sold into depth equal to its market cap: :func:`core.mechanisms.pegs.algo_stable_step`.
    """
    algo = c.algo_idx
    if not len(algo):
        return P
    P, supply, queue = P.copy(), st["supply"].copy(), st["algo_queue"].copy()
    log_mcap = st["log_mcap"].copy()
    for a in algo:  # a handful of algorithmic stablecoins at most
        bk = c.backing[a]
        peg = c.peg1[a]
        # The backing's market cap in logs: a diluted token's price sits on the price floor,
        # so supply times floored price would overstate it by orders of magnitude.
        with np.errstate(divide="ignore"):
            lmc = np.minimum(log_mcap[:, bk], np.log(np.maximum(supply[:, bk], 1e-300)) + np.log(np.maximum(P[:, bk], 1e-300)))
            # It cannot trade above its backing's market cap per token, redemptions or not.
            cover = np.where(supply[:, a] > 0, np.exp(np.minimum(lmc - np.log(np.maximum(supply[:, a] * peg, 1e-300)), 700.0)), np.inf)
        P[:, a] = np.minimum(P[:, a], peg * np.minimum(1.0, cover))
        q = np.minimum(P[:, a] / peg, 1.0)
        w = _clip((1.0 + run) * (1.0 - q), 0.0, ALGO_MAX_RATE)
        U = supply[:, a] * peg
        X = np.minimum(queue[:, a] + w * (U - queue[:, a]), U)
        R = np.minimum(X, ALGO_REDEMPTION_CAP * c.supply[a] * peg)
        queue[:, a] = X - R
        lL0 = np.log(np.maximum(supply[:, bk], 1e-300))
        if not (R > 0).any():  # no redemptions: only the backing's market-cap record applies
            log_mcap[:, bk] = lmc
            P[:, bk] = np.exp(lmc - lL0)
            continue
        with np.errstate(divide="ignore"):
            U, lL, lP, q_new, _ = pegs.algo_stable_step(U, lL0, lmc - lL0, R)
        supply[:, a] = U / peg
        supply[:, bk] = np.exp(np.minimum(lL, 700.0))
        log_mcap[:, bk] = lL + lP
        P[:, bk] = np.exp(lP)
        P[:, a] = np.where(R > 0, np.minimum(P[:, a], peg * q_new), P[:, a])
    st["supply"], st["algo_queue"], st["log_mcap"] = supply, queue, log_mcap
    return P


def _issuer_effects(c: Compiled, P, clearing, defaulted, equity, issuer_ok):
    """Stablecoins of defaulted issuers trade at recovery; exchange tokens follow their issuer's equity."""
    if not issuer_ok.any():
        return P
    P = P.copy()
    iss = np.maximum(c.issuer, 0)
    ratio = clearing.paid_ratio
    stable = c.issued_stable
    if stable.any():
        target = c.peg1[None] * ratio[:, iss]
        P = np.where(stable[None] & defaulted[:, iss], np.minimum(P, target), P)
    xt = c.exchange_token
    if xt.any() and equity is not None:
        e0 = np.where(c.E0[iss] > 0, c.E0[iss], 1.0)
        health = _clip(equity[:, iss] / e0[None], EXCHANGE_TOKEN_FLOOR, 1.0)
        P = np.where(xt[None], np.minimum(P, c.P0[None] * health), P)
    return P


def _own_token_discount(c: Compiled, P) -> np.ndarray:
    """Discount of the tokens an entity issued (its stablecoin or exchange token), (S, n)."""
    out = np.zeros((P.shape[0], c.n))
    has = c.issuer >= 0
    if has.any():
        disc = _clip(1 - P[:, has] / c.P0[has][None], 0.0, 1.0)
        np.maximum.at(out.T, c.issuer[has], disc.T)
    return out


#: Channels a loss is traced to; "market" is what remains of a loss once they are counted.
_NAMED_CHANNELS = ("shock", "liquidation", "bad_debt", "default", "run")


def _split_channels(loss: np.ndarray, parts: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Each entity's loss split over the channels, (S, n, channels), and the unscaled parts with "market".

    The named channels' losses are scaled so that they and "market" (the loss
    none of them explains: prices) add up to the limited-liability loss.
    """
    named = sum(parts.values())
    market = np.maximum(loss - named, 0.0)
    tot = named + market
    scale = np.divide(loss, tot, out=np.zeros_like(loss), where=tot > 0)
    raw = np.zeros(loss.shape + (len(CHANNELS),))
    for ch, v in parts.items():
        raw[..., _CH[ch]] = v
    raw[..., _CH["market"]] = market
    return raw * scale[..., None], raw


def _final_losses(c, clearing, equity, shock_loss, liq_loss, run_loss, bad_net, ik_val, xl, edges=False):
    """Limited-liability losses per entity and their named channels; write-downs and shortfalls."""
    pbar = clearing.total_liabilities
    short = 1 - clearing.paid_ratio
    dep_loss = ik_val * short[:, c.ik_debtor]
    credit = c.claims_received(short) + c.by_ik_creditor(dep_loss)
    # Outside liabilities other than depositors' claims go unpaid in the same proportion.
    outside_owed = xl - c.by_ik_debtor(ik_val)
    outside = (outside_owed * short).sum(1)
    loss = np.maximum(c.E0[None] - np.maximum(equity, 0.0), 0.0)
    loss = np.where(c.E0[None] > 0, np.minimum(loss, np.maximum(c.E0[None], 0) + credit), loss)
    writedowns = short @ c.owed_network + dep_loss.sum(1) + outside
    shortfall = (pbar - clearing.payments).sum(1)
    parts = dict(zip(_NAMED_CHANNELS, (shock_loss, liq_loss, bad_net, credit, run_loss)))
    out = {"loss": loss, "parts": parts, "outside": outside,
           "writedowns": writedowns, "shortfall": shortfall, "dep_loss": dep_loss, "credit": credit}
    if edges:  # per-edge write-downs, for the contagion paths of a recorded run
        out["edge_loss"] = c.edge_amount[None] * short[:, c.edge_debtor]
    return out


def _record(hist, c, clearing, equity, st, liq_proto, sold, bad_net, ins_draw, cohort_bad, xl):
    fin = _final_losses(c, clearing, equity, st["shock_loss"], st["liq_loss"], st["run_loss"], bad_net,
                        st["ik_left"] * st["lam"][:, c.ik_debtor], xl, edges=True)
    loss = fin["loss"]
    P = st["P"]
    e0 = np.where(c.E0 > 0, c.E0, np.inf)[None]
    status = np.where(st["defaulted"], 3, np.where(liq_proto > 0, 2, np.where(loss / e0 >= DISTRESS_SHARE, 1, 0)))
    hist["equity"].append(equity.copy())
    hist["status"].append(status)
    hist["loss"].append(loss)
    split, raw = _split_channels(loss, fin["parts"])
    hist["channels"].append(split)
    hist["channels_raw"].append(raw)
    hist["prices"].append(P.copy())
    hist["liquidated"].append(liq_proto)
    hist["bad_debt"].append(st["bad"].copy())
    hist["edge_loss"].append(fin["edge_loss"])
    hist["dep_loss"].append(fin["dep_loss"])
    # Price losses per (entity, asset): tokens held and collateral locked in protocol positions.
    units = st["H"].copy()
    named = c.c_borrower >= 0
    if named.any():
        np.add.at(units, (slice(None), c.c_borrower[named], c.c_ca[named]), st["coll"][:, named])
    hist["hold_loss"].append(np.clip(units * (c.P0[None, None] - P[:, None, :]), 0.0, None))
    hist["sold"].append(sold * P)
    hist["cohort_bad"].append(cohort_bad.copy())
    hist["liq_by_proto"].append(liq_proto)
    hist["outside"].append(fin["outside"])
    hist["ins_draw"].append(ins_draw.copy())
    hist["liquidated_total"].append(st["liq_total"].copy())


# ---------------------------------------------------------------------------
# Public entry point: one scenario, full tables
# ---------------------------------------------------------------------------

def simulate(network: Network, scenario: Scenario | Mapping[str, Any] | str | os.PathLike[str]) -> CascadeResult:
    """Run one scenario through the cascade and return its round-by-round tables.

    Parameters
    ----------
    network : Network
        The system (e.g. :func:`core.datasets.default`, :func:`core.load_network`).
    scenario : Scenario, Mapping or str or os.PathLike
        The shock: a :class:`~core.scenario.Scenario`, a mapping of its fields,
        or the path of a scenario JSON file (see :func:`core.scenario.as_scenario`).

    Returns
    -------
    CascadeResult
        ``rounds``, ``prices``, ``totals``, ``nodes``, ``paths`` and ``summary``
        (see :mod:`core.results`).

    Raises
    ------
    TypeError
        When ``scenario`` is none of the above.
    core.validation.DataValidationError
        When the scenario is invalid or names an entity or asset the network lacks.

    Examples
    --------
    >>> import core
    >>> net = core.datasets.default()
    >>> res = core.simulate(net, {"name": "eth-40", "price_shocks": {"ETH": -0.4}})
    >>> res.summary_value("total_loss_usd") > 0
    True
    >>> same = core.simulate(net, core.datasets.scenario_dir() / "terra_may_2022.json")
    >>> int(same.summary_value("defaults")) >= 1
    True
    """
    scenario = as_scenario(scenario)
    br = simulate_batch(network, [scenario], record=True)
    from .report import build_result

    return build_result(network, scenario, br)
