"""The network's ``pegs`` table as arrays: which tokens hold their peg by which mechanism, and its terms.

Built once per network with the compiled arrays (:func:`compile_pegs`). Four
groups, each a set of tokens with per-token terms (the table's columns are
described in :mod:`core.schema`):

* ``fiat``: fiat-backed stablecoins with named reserves (cash at banks,
  T-bills, other) and a daily redemption capacity
  (:mod:`core.mechanisms.fiat_reserves`);
* ``psm``: CDP stablecoins backed partly through a peg stability module, with
  the cohorts of their protocol whose repayments create the CDP premium
  (:mod:`core.mechanisms.psm`, :mod:`core.mechanisms.cdp_premium`);
* ``frac``: partly collateralised stablecoins (FRAX) and their collateral;
* ``lst``: liquid-staking tokens priced by a stableswap pool, with the terms of
  their redemption-arbitrage floor and of LP withdrawals
  (:mod:`core.mechanisms.liquid_staking`).

and the pass-through issuers of the ``psm`` and ``fractional`` rows
(``liable_entity``): the PSM or issuer whose liabilities are the coin, valued at
its backing (:func:`core.engine.backing.backed_liabilities`), with the custodians
of wrapped tokens that hold the underlying (:func:`wrapped_custodians`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .memo import per_network

if TYPE_CHECKING:
    from ..network import Network
    from .compiled import Compiled

#: Reserve assets of a fiat-backed issuer, in the order it pays redemptions from them.
RESERVE_ASSETS = ("cash", "tbills", "other")


@dataclass(frozen=True, eq=False)
class PegTerms:
    # fiat-backed stablecoins
    fiat_asset: np.ndarray          # (f,) asset index
    fiat_reserves0: np.ndarray      # (f, 3) reserves at reference, USD: supply * price * shares
    fiat_capacity_day: np.ndarray   # (f,) redemptions paid per day, USD
    # PSM-backed CDP stablecoins
    psm_asset: np.ndarray           # (q,) asset index
    psm_backing: np.ndarray         # (q,) the coin the PSM holds
    psm_share0: np.ndarray          # (q,) share of supply backed through the PSM
    psm_line: np.ndarray            # (q,) debt ceiling, USD
    psm_tin: np.ndarray
    psm_tout: np.ndarray
    psm_depth: np.ndarray           # (q,) market depth K, USD per unit log move
    psm_halt_hours: np.ndarray      # (q,) hours below the sell pin after which governance halts sellGem; inf: never
    psm_gap: np.ndarray             # (q,) autoline gap, USD a psm_gap_hours (core.mechanisms.psm.autoline_ceiling); inf: none
    psm_gap_hours: np.ndarray       # (q,) autoline ttl, hours
    psm_pool_A: np.ndarray          # (q,) stableswap A of the coin's stablecoin pools (cdp_premium.squeeze_curve); nan: none
    psm_cohorts: np.ndarray         # (q, c) bool: cohorts of the issuing protocol that owe the coin
    psm_coissuer: np.ndarray        # (q,) the PSM entity owing part of the coin, where not its issuer (MAKER_PSM); -1
    psm_balance0: np.ndarray        # (q,) backing coin the PSM holds at reference, units: share * supply / price
    psm_liable: np.ndarray          # (q,) the row of liable_entity holding the PSM's backing (psm rows sharing a
    #                                 book share it); -1: none named
    # partly collateralised stablecoins
    frac_asset: np.ndarray          # (r,)
    frac_collateral: np.ndarray     # (r,) collateral coin
    frac_ratio: np.ndarray          # (r,) collateral ratio
    # liquid-staking tokens
    lst_asset: np.ndarray           # (l,)
    lst_pool: np.ndarray            # (l,) index into the compiled pools
    lst_withdrawals: np.ndarray     # (l,) bool
    lst_queue_days: np.ndarray      # (l,)
    lst_years: np.ndarray           # (l,) years to redemption without withdrawals
    lst_funding: np.ndarray         # (l,) per year
    lst_yield: np.ndarray           # (l,) per year
    lst_arbitrage_day: np.ndarray   # (l,) units of the underlying per day (at the reference gap, if elastic)
    lst_gap: np.ndarray             # (l,) reference gap to the floor of that capital; inf: a fixed capital
    lst_elasticity: np.ndarray      # (l,) elasticity of the capital to the gap
    lst_lp_day: np.ndarray          # (l,) LP withdrawal sensitivity per day
    # pass-through issuers: entities owing a coin's holders the backing they hold (``liable_entity``)
    liable_entity: np.ndarray       # (j,) entity index
    liable_backing: np.ndarray      # (j,) the backing coin
    liable_units: np.ndarray        # (j,) units of the backing coin it holds for the coins' holders

    @property
    def any(self) -> bool:
        return bool(len(self.fiat_asset) or len(self.psm_asset) or len(self.frac_asset) or len(self.lst_asset))


def _col(df, name: str, default: float = np.nan) -> np.ndarray:
    return df[name].astype(float).fillna(default).to_numpy() if name in df else np.full(len(df), default)


def compile_pegs(net: Network, c: Compiled) -> PegTerms:
    """The arrays of the ``pegs`` table on the compiled network ``c`` (validated rows: every needed value is set)."""
    pg = net.pegs
    apos = {s: i for i, s in enumerate(c.symbols)}

    def rows(mechanism: str):
        return pg[pg["mechanism"] == mechanism] if len(pg) else pg

    f = rows("fiat_reserves")
    fa = np.array([apos[a] for a in f["asset"]], dtype=int)
    shares = np.stack([_col(f, f"reserve_{k}") for k in RESERVE_ASSETS], axis=-1) if len(f) else np.zeros((0, 3))
    q = rows("psm")
    qa = np.array([apos[a] for a in q["asset"]], dtype=int)
    issuer = c.issuer[qa] if len(qa) else np.zeros(0, int)
    psm_cohorts = (c.c_proto[None] == issuer[:, None]) & (c.c_da[None] == qa[:, None]) & (issuer[:, None] >= 0)
    r = rows("fractional")
    ll = rows("liquid_staking")
    la = np.array([apos[a] for a in ll["asset"]], dtype=int)
    pool_of = {int(a): p for p, a in enumerate(c.pool_asset)}
    has_pool = np.array([int(a) in pool_of and np.isfinite(c.pool_A[pool_of[int(a)]]) for a in la], dtype=bool)
    la, ll = la[has_pool], ll[has_pool] if len(ll) else ll  # a pool with no reserves sets no price (compile_network)
    named = pg[pg["mechanism"].isin(("psm", "fractional")) & (pg["liable_entity"].fillna("") != "")] \
        if len(pg) and "liable_entity" in pg else pg.iloc[:0]
    # one pass-through book per entity: psm rows naming the same entity share its backing (Sky's LitePSM holds one
    # pile of USDC for DAI and USDS; consistency_checks: one backing_asset, psm rows alone)
    j = named.drop_duplicates("liable_entity")
    je = net.entity_pos(j["liable_entity"].to_numpy(dtype=object)).astype(int) if len(j) else np.zeros(0, int)
    jb = np.array([apos[a] for a in j["backing_asset"]], dtype=int) if len(j) else np.zeros(0, int)
    ce, cb = wrapped_custodians(c, je)
    je, jb = np.concatenate([je, ce]), np.concatenate([jb, cb])
    return PegTerms(
        fiat_asset=fa, fiat_reserves0=(c.supply[fa] * c.P0[fa])[:, None] * shares,
        fiat_capacity_day=_col(f, "redemption_capacity_usd_per_day"),
        psm_asset=qa, psm_backing=np.array([apos[a] for a in q["backing_asset"]], dtype=int),
        psm_share0=_col(q, "backing_share"), psm_line=_col(q, "psm_line_usd"), psm_tin=_col(q, "psm_tin"),
        psm_tout=_col(q, "psm_tout"), psm_depth=_col(q, "market_depth_usd"), psm_halt_hours=_col(q, "psm_halt_hours", np.inf),
        psm_gap=_col(q, "psm_gap_usd", np.inf), psm_gap_hours=_col(q, "psm_gap_hours", 24.0),
        psm_pool_A=_col(q, "pool_amplification"), psm_cohorts=psm_cohorts.reshape(len(qa), len(c.c_proto)),
        psm_coissuer=_coissuer(net, q, issuer),
        psm_balance0=_col(q, "backing_share") * c.supply[qa] / c.P0[np.array([apos[a] for a in q["backing_asset"]], dtype=int)]
        if len(qa) else np.zeros(0),
        psm_liable=_psm_liable(q, named, j),
        frac_asset=np.array([apos[a] for a in r["asset"]], dtype=int),
        frac_collateral=np.array([apos[a] for a in r["backing_asset"]], dtype=int), frac_ratio=_col(r, "backing_share"),
        lst_asset=la, lst_pool=np.array([pool_of[int(a)] for a in la], dtype=int),
        lst_withdrawals=ll["withdrawals"].fillna(False).astype(bool).to_numpy() if len(ll) else np.zeros(0, bool),
        lst_queue_days=_col(ll, "exit_queue_days", 0.0), lst_years=_col(ll, "years_to_redemption", 0.0),
        lst_funding=_col(ll, "funding_rate"), lst_yield=_col(ll, "staking_yield"),
        lst_arbitrage_day=_col(ll, "arbitrage_units_per_day"), lst_lp_day=_col(ll, "lp_sensitivity_per_day"),
        lst_gap=_col(ll, "arbitrage_reference_gap", np.inf), lst_elasticity=_col(ll, "arbitrage_elasticity", 1.0),
        liable_entity=je, liable_backing=jb, liable_units=_liable_units(c, je, jb) if len(je) else np.zeros(0),
    )


def _psm_liable(q, named, j) -> np.ndarray:
    """Each ``psm`` row's pass-through book (its ``liable_entity``'s row of ``j``, the named rows one per entity),
    (q,); -1 where the row names none."""
    book = {e: i for i, e in enumerate(j["liable_entity"])}
    who = dict(zip(named.index, named["liable_entity"]))
    return np.array([book[who[i]] if i in who else -1 for i in q.index], dtype=int)


def moved_units(c: Compiled, psm_balance: np.ndarray | None) -> np.ndarray | None:
    """Units of the backing coin each pass-through issuer took in through its PSMs since the reference, (S, j)
    (0 for rows with no PSM; the sum of its rows' where several psm rows share its book: SKY's DAI and USDS); None
    where ``psm_balance`` (S, q) is None or nothing moved."""
    g = c.pegs
    if psm_balance is None or g is None or not (g.psm_liable >= 0).any():
        return None
    has = g.psm_liable >= 0
    delta = psm_balance[:, has] - g.psm_balance0[has][None]
    if not delta.any():
        return None
    # summed per book, row by row (no matrix product: its rounding may depend on the batch's size): psm rows
    # sharing one (SKY's DAI and USDS) both move it
    onto = g.psm_liable[has][:, None] == np.arange(len(g.liable_entity))[None]
    return np.where(onto[None], delta[:, :, None], 0.0).sum(1)


def end_cash_holder(c: Compiled) -> np.ndarray:
    """Each ``psm`` row's entity whose PSM backing ``end.cash`` shares out to the coin's holders when its issuer is
    shut down, (q,): the PSM that owes part of the coin (``psm_coissuer``: MAKER_PSM beside MAKER on the 2022
    network), or the coin's issuer itself where it holds a PSM's backing (the ``liable_entity`` of a ``psm`` row:
    SKY on the 2025 network, for DAI and USDS, whose USDS converts 1:1 with DAI); -1 elsewhere. A constant of the
    network, computed once (its readers run every round: 2.4 ms of a recorded Terra preset's 25.6 ms otherwise)."""
    return per_network(c, "end_cash_holder", lambda: _end_cash_holder(c))


def _end_cash_holder(c: Compiled) -> np.ndarray:
    g = c.pegs
    assert g is not None
    issuer = c.issuer[g.psm_asset]
    holders = g.liable_entity[g.psm_liable[g.psm_liable >= 0]]
    own = (issuer >= 0) & np.isin(issuer, holders)
    out = np.where(g.psm_coissuer >= 0, g.psm_coissuer, np.where(own, issuer, -1))
    out.flags.writeable = False
    return out


def _coissuer(net, q, issuer: np.ndarray) -> np.ndarray:
    """Each ``psm`` row's ``liable_entity`` where it is an entity of its own, not the coin's issuer (the PSM that
    owes the DAI minted through it, MAKER_PSM beside MAKER), -1 elsewhere (Sky in 2025 owes its whole coin)."""
    if not len(q) or "liable_entity" not in q:
        return np.full(len(q), -1, int)
    names = q["liable_entity"].fillna("").to_numpy(dtype=object)
    named = names != ""
    pos = np.full(len(q), -1, int)
    if named.any():
        pos[named] = net.entity_pos(names[named]).astype(int)
    return np.where(named & (pos != issuer), pos, -1)


def wrapped_custodians(c: Compiled, named: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Custodians of wrapped tokens that hold the underlying: (entity, underlying) pairs, each once.

    A wrapped token (pegged to another asset and priced by no pool: WBTC, cbBTC) is redeemable for its
    underlying through its custodian, its ``issuer`` (BitGo burns WBTC and releases the BTC it holds; Coinbase
    cbBTC likewise), so a custodian holding the underlying owes the holders that underlying, not dollars: like
    a ``liable_entity`` of the pegs table, its liabilities move with the underlying's price for the units it
    holds (:func:`core.engine.backing.backed_liabilities`), a move of the underlying leaves it solvent, and only
    a loss of its own (a forced default, a hack) opens the wrapped token's basis, through its recovery
    (:func:`core.engine.defend.wrapped_prices`). The same holds for the issuer of a token pegged to an asset
    whose price a pool sets (a liquid-staking token with its own pool): Lido owes stETH's holders ETH whatever
    the pool's discount. Entities already named as ``liable_entity`` (``named``) and custodians that hold none
    of the underlying (a pass-through in USD) are left out."""
    w = np.flatnonzero(c.peg_unit >= 0)  # wrapped tokens and pool-priced tokens pegged to an asset
    iss, und = c.issuer[w], c.peg_unit[w]
    keep = (iss >= 0) & (und >= 0)
    taken = set(named.tolist())
    first: dict[int, int] = {}  # one underlying per custodian (backed_liabilities sets one value per entity)
    for e, u in zip(iss[keep].tolist(), und[keep].tolist()):
        if e not in taken and e not in first and c.H0[e, u] > 0 and c.other_liab[e] > 0:
            first[e] = u
    pairs = sorted(first.items())
    if not pairs:
        return np.zeros(0, int), np.zeros(0, int)
    e, u = np.array(pairs, dtype=int).T
    return e, u


def _liable_units(c: Compiled, entity: np.ndarray, backing: np.ndarray) -> np.ndarray:
    """Units of the backing coin each pass-through issuer holds for its coins' holders: what it holds at
    reference, but no more than its liabilities buy (``min(H0, L0 / p0)``)."""
    return np.minimum(c.H0[entity, backing], c.other_liab[entity] / c.P0[backing])


@dataclass(frozen=True, eq=False)
class PsmBooks:
    """The pass-through books the ``psm`` rows that name a ``liable_entity`` move: ``book`` (u,) each book's row of
    the pegs terms' ``liable_entity``, ``rows`` (q', u) bool: which named psm row moves which book (several
    rows may share one: Sky's LitePSM behind DAI and USDS)."""

    book: np.ndarray
    rows: np.ndarray


def psm_books(c: Compiled) -> PsmBooks:
    """The network's :class:`PsmBooks` (constants: taken once, :func:`~core.engine.memo.per_network`)."""
    g = c.pegs
    assert g is not None
    named = g.psm_liable[g.psm_liable >= 0]
    book = np.unique(named)
    return PsmBooks(book=book, rows=named[:, None] == book[None])


def book_shares(c: Compiled, coin: np.ndarray, issuer: np.ndarray) -> np.ndarray:
    """Each co-issued coin's share of its issuer's co-issued coins at reference (face), (1, q): 1 for a coin that
    is its issuer's only one (DAI in 2022), DAI's and USDS's shares of SKY's book in 2025, so that the issuer's
    terms of :func:`~core.engine.maker_co_issued.dai_holders_outside` (its network-held coin, its PSM's write-down) are
    counted once over its coins."""
    face = c.supply[coin] * c.peg1[coin]
    same = issuer[:, None] == issuer[None]
    total = (same * face[None]).sum(1)
    return (face / np.where(total > 0, total, 1.0))[None]


def squeeze_pools(c: Compiled, row: int) -> list:
    """The AMM pools holding the ``row``-th PSM coin at reference, as :func:`core.mechanisms.cdp_premium.squeeze_curve`
    takes them: ``(balances, amplification)``, the coin's reserve first (USD at reference prices). A pool holding it
    against stablecoins only (Curve's 3pool: DAI, USDC, USDT) is a stableswap of the coin's ``pool_amplification``
    (the pegs row's) over its holdings, the largest other first; any other (Uniswap's ETH/DAI), or one with no
    amplification given, a constant product of the coin against the rest of its holdings."""
    g = c.pegs
    assert g is not None
    a = int(g.psm_asset[row])
    out = []
    for e in np.flatnonzero((c.etype == "amm_pool") & (c.H0[:, a] > 0)):  # the network's few pools: a constant
        usd = c.H0[e] * c.P0
        others = np.flatnonzero((usd > 0) & (np.arange(len(usd)) != a))
        if not len(others):
            continue
        others = others[np.argsort(-usd[others], kind="stable")]
        stable = np.isin(c.kind[others], ("fiat_stable", "cdp_stable", "algorithmic_stable")).all()
        A = float(g.psm_pool_A[row])
        if stable and np.isfinite(A):
            out.append((np.concatenate([[usd[a]], usd[others]]), A))
        else:
            out.append((np.array([usd[a], usd[others].sum()]), np.nan))
    return out
