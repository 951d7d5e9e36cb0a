"""Balance sheets at current prices: what every entity's positions are worth, (S, n) arrays.

Read by the clearing step (outside assets and liabilities) and by the runs
step (the in-kind index of depositors' claims). Conventions: see the package
docstring.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..mechanisms._checks import broadcast_shape
from .columns import column_index, put_columns
from .held_claims import holder_rows, index_levels, solve_indices
from .memo import per_network

if TYPE_CHECKING:
    from .compiled import Compiled


#: Relative change of equity (of the largest initial equity) below which a scenario has settled
#: (:func:`core.engine.clear.settle`).
SETTLE_TOL = 1e-9


@dataclass(frozen=True, eq=False)
class EquityTerms:
    """Constants of the entities' reference books the runs step and the settling check divide by or compare
    with, (n,) each (built once from ``E0``; :mod:`core.engine.withdraw`, :func:`core.engine.clear.settle`)."""

    positive: np.ndarray        # E0 > 0
    divisor: np.ndarray         # E0 where positive, else 1
    short_of: np.ndarray        # equity below which an entity without reference equity is short: -max(1, tol |E0|)
    has_claims: np.ndarray      # claims_total > 0
    claims_divisor: np.ndarray  # claims_total where positive, else 1
    issued: np.ndarray          # tokens with an issuer entity
    issued_p0: np.ndarray       # (1, len(issued)) their reference prices
    issuers: np.ndarray         # their issuers
    one_token_each: bool        # no issuer has two of them
    settle_tol: float           # equity move below which a cascade has settled (SETTLE_TOL of the largest |E0|)

    @classmethod
    def of(cls, E0: np.ndarray, claims_total: np.ndarray, issuer: np.ndarray, P0: np.ndarray) -> "EquityTerms":
        from ..mechanisms.clearing import DEFAULT_TOL

        has = issuer >= 0
        return cls(positive=E0 > 0, divisor=np.where(E0 > 0, E0, 1.0), short_of=-np.maximum(1.0, DEFAULT_TOL * np.abs(E0)),
                   has_claims=claims_total > 0, claims_divisor=np.where(claims_total > 0, claims_total, 1.0),
                   issued=np.flatnonzero(has), issued_p0=P0[has][None], issuers=issuer[has],
                   one_token_each=len(np.unique(issuer[has])) == int(has.sum()),
                   settle_tol=SETTLE_TOL * max(1.0, float(np.abs(E0).max())) if E0.size else SETTLE_TOL)



def debt_price(c: Compiled, P: np.ndarray) -> np.ndarray:
    """Price of each cohort's debt token to its protocol, (S, c): a protocol's own stablecoin
    (DAI at Maker) is worth its peg to it, since repaid debt is burnt against its liability.

    Its liquidations price it so too (:func:`core.engine.liquidate.liquidate_cohorts`, the due test, the
    close-factor ask): Sai's tap sold PETH for Sai at ``s2s = tag / par`` (makerdao/sai ``tap.sol``), ``dog.bark``
    tests ``ink * spot`` with ``spot = feed / (par * mat)`` (dss ``spot.sol``), Aave's GHO oracle is fixed at $1 (aave/gho-core ``GhoOracle.sol``),
    and the Maker system's own auctions raise DAI at par (:mod:`core.engine.maker`); the coin paid in is burnt at
    par (:func:`burnt_at_par`). Keepers' dollars thus retire a coin each: whoever sells them the coin below its
    peg takes the discount. (Converted at the market, a failed Sai's SAI at 0.427 turned keepers' $5.39M into
    12.6M SAI credited at par, $7.2M made from nothing, and a deeper fall that cheapened SAI retired more:
    Sai's bad debt $7.38M -> $4.97M, ``monotone-2020-eth-sai-failed-capital-50m``.)"""
    Pd = np.take(P, c.c_da, axis=1)  # P[:, c_da], by the faster gather (the same elements)
    if not per_network(c, "any_self_issued", lambda: bool(c.c_self_issued.any())):
        return Pd  # np.where's answer with no cohort self-issued (a new array either way)
    # np.where(c_self_issued, c_peg, Pd)'s elements: the self-issued cohorts' columns of the new array set to their peg
    # (a slice where contiguous, the 2022 network's 31 Maker cohorts: one (S, c) pass fewer)
    cols, peg = per_network(c, "self_issued_columns", lambda: (column_index(np.flatnonzero(c.c_self_issued)),
                                                                 c.c_peg[c.c_self_issued][None]))
    Pd[:, cols] = peg
    return Pd


def clip(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """``np.clip`` through the ufuncs alone: its wrapper costs more than the work on a cascade's small arrays."""
    return np.minimum(np.maximum(x, lo), hi)


def reciprocal(x: np.ndarray) -> np.ndarray:
    """``1 / x`` where it is finite, else 0: a reference book of a subnormal size (a holding of 5e-324 of a
    supply, found by a search) has no finite reciprocal, and its in-kind index term (``lam_follow * V / V0``,
    ``lam_follow`` itself ~``V0``) is 0 to the last bit; 1/x there made the index, and every loss, NaN."""
    with np.errstate(over="ignore", divide="ignore"):
        inv = 1.0 / np.where(x > 0, x, 1.0)
    return np.where((x > 0) & np.isfinite(inv), inv, 0.0)


def holdings_value(H: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Value of each entity's tokens, (S, n): ``H[s] @ P[s]`` as one batched product."""
    return np.matmul(H, P[:, :, None])[..., 0]


@dataclass(frozen=True, eq=False)
class Marks:
    """What every entity's positions are worth at current prices, (S, n) each: read by both books."""

    hold: np.ndarray    # token holdings at market
    book: np.ndarray    # a protocol's loan book: each cohort's debt, at most its collateral's value
    held: np.ndarray | None  # in-kind claims held on others, at an index times last round's paid ratio (held_claims);
    #                          None: left to the in-kind index's passes (marks' lam_held None)
    underwater: np.ndarray  # a protocol's loans' debt beyond their collateral: bad debt not yet booked


def booked_prices(c: Compiled, P: np.ndarray) -> np.ndarray:
    """Prices at which holdings and loan books are booked: ``P``, with a CDP coin above its peg (the premium
    of :mod:`core.engine.backing`) at its peg. A holder's coin is a claim on its issuer worth par at most; the
    premium is paid by the coin's buyers (keepers bidding in auctions, vault owners repaying), outside the
    books, so marking holders (and the issuer's burnt coin) at it would create value that a deeper shock
    then raises: on crypto-2020-03, ETH -12.7% -> -28.7% with USDC 27% off peg lowered the total loss by
    $8.99M (DAI 1.022 -> 1.12) before this."""
    g = c.pegs
    if g is None or not len(g.psm_asset):
        return P
    q = g.psm_asset
    above = P[:, q] > c.peg1[q]
    if not above.any():
        return P
    Pb = P.copy()
    Pb[:, q] = np.where(above, c.peg1[q], P[:, q])
    return Pb


def marks(c: Compiled, P: np.ndarray, H: np.ndarray, debt: np.ndarray, lam_held: np.ndarray | None, ratio: np.ndarray,
          coll: np.ndarray | None = None) -> Marks:
    """Every entity's positions at prices ``P`` (holdings at :func:`booked_prices`). A loan is worth to its
    protocol its debt, but never more than the collateral securing it (``coll``): a position under water is a
    loss when prices put it there, not when liquidations have used up its collateral (with liquidators'
    capacity short, rounds later). The claims held at ``lam_held`` times ``ratio``; ``lam_held`` None: not
    valued here (``held`` None), where :func:`inkind_index` takes them in its passes
    (:func:`core.engine.held_claims.first_pass_here`)."""
    held = None if lam_held is None else c.held_value(lam_held * ratio)
    Ph = booked_prices(c, P)
    owed = debt * debt_price(c, Ph)  # a loan of the coin is a claim on it too: at most par to its lender
    burnt = _burnt_below_peg(c, Ph, H)
    hold = holdings_value(H, Ph) + (0.0 if burnt is None else burnt)  # the issuers' coin burnt at par
    if coll is None:
        return Marks(hold, c.by_proto(owed), held, np.zeros_like(hold))
    short = np.maximum(owed - coll * np.take(P, c.c_ca, axis=1), 0.0)  # P[:, c_ca], by the faster gather
    if not short.any():
        return Marks(hold, c.by_proto(owed), held, np.zeros_like(hold))
    under = c.by_proto(short)
    return Marks(hold, c.by_proto(owed) - under, held, under)


def burnt_at_par(c: Compiled, Ph: np.ndarray, H: np.ndarray) -> np.ndarray:
    r"""What marking an issuer's own coin at its market price below peg misses, (S, n), at the issuers: the coin
    it took in beyond its reference holding, :math:`u = \max(H_{e,a} - H^0_{e,a}, 0)`, is worth its peg to it,
    :math:`u\,(\text{peg}_a - P_a)^+`.

    Model. DAI that keepers pay into Maker's auctions and that borrowers repay is burnt against Maker's
    liability (``vat.heal``; ``flip.sol``/``clip.sol`` bids go to the Vow): each unit extinguishes one DAI
    owed at par, whatever DAI trades at, as a loan of the coin counts at its peg to its issuer
    (:func:`debt_price`). The engine keeps the issuer's liability at par and the burnt coin in its holdings,
    so the coin must be worth par there; marked at the market it was a claim on the issuer worth the issuer's
    own recovery, a loop that drove a failed Maker's recovery (and DAI, which trades at it) down round after
    round, and a bark turned a loan worth par into DAI worth the market: on crypto-2020-03, ETH -52.598% with
    Maker failed and full runs, a $25M cohort barked one ulp deeper turned Maker's $34M of burnt DAI from
    $0.957 to par and lowered the system loss $5.54M for a $3.25M penalty
    (``monotone-2020-maker-failed-one-ulp``). Pass-through issuers, whose liabilities follow their backing
    whole (:func:`~core.engine.backing.backed_liabilities`: a PSM, a fully backed fractional coin), are left at
    the market, and so is any fractional coin (FRAX: each unit owed at ``CR p_b + 1 - CR``, the value its price
    carries). An issuer only part of whose coins pass through (Sky in 2025: $4.0bn of its $9.383bn minted
    through its USDC PSM) owes the rest at par, and the coin it burns extinguishes that part: worth its peg to
    it, as its loans of the coin are (:func:`debt_price`), up to the liabilities it owes at par, :math:`L_0 - u
    p_{b,0}` (the coin it took in beyond that, at the market). (At the market, a vault repaid in DAI at 0.39 cost
    Sky 61 cents a DAI while one left under water cost its fund a dollar of cover: WBTC -79.5% -> -83.5% with
    CIRCLE failed made $22.97M more of its WBTC vaults' debt a covered shortfall and $22.97M less repaid in DAI,
    and Sky defaulted at the shallower depth only, ``monotone-2025-wbtc-circle-failed-runs-lag1-capital-50m-defaults``.)
    [MakerDAO ``vat.sol`` ``heal``, ``vow.sol``; https://docs.makerdao.com/smart-contract-modules/system-stabilizer-module/vow-module]"""
    out = _burnt_below_peg(c, Ph, H)
    return np.zeros(H.shape[:2]) if out is None else out


def _burnt_below_peg(c: Compiled, Ph: np.ndarray, H: np.ndarray) -> np.ndarray | None:
    """:func:`burnt_at_par`, None where it is 0 everywhere (no coin burnt below its peg: :func:`marks` then adds
    0.0, the same bits as adding the zeros, without them)."""
    tok, iss, h0, peg, room = per_network(c, "burnt_at_par", lambda: _burnt_coins(c))
    if not len(tok):
        return None
    took = np.maximum(H[:, iss, tok] - h0, 0.0)
    gap = np.maximum(peg - Ph[:, tok], 0.0)
    if room is not None:  # a partly pass-through issuer: its coins at par up to what it owes at par, pro rata
        face = np.zeros(H.shape[:2])
        np.add.at(face.T, iss, (took * peg).T)
        at_issuer = face[:, iss]
        with np.errstate(divide="ignore", invalid="ignore"):
            took = took * np.where(at_issuer > room, room / np.where(at_issuer > 0, at_issuer, 1.0), 1.0)
    if not (took * gap).any():
        return None
    out = np.zeros(H.shape[:2])
    np.add.at(out.T, iss, (took * gap).T)
    return out


def _burnt_coins(c: Compiled) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """:func:`burnt_at_par`'s coins (issued stablecoins but fractional coins, each unit of which is owed at its
    backing's worth, :func:`~core.engine.backing.fractional_values`, and those of issuers whose liabilities follow
    their backing whole), their issuers, the issuers' reference holdings of them and their pegs, (1, m) each, and what each
    coin's issuer owes at par where only part of its liabilities pass through (:math:`L_0 - u p_{b,0}`, inf
    elsewhere; None: no such issuer)."""
    tok = np.flatnonzero(c.issued_stable)
    room = None
    g = c.pegs
    if g is not None and len(g.frac_asset):  # every unit of a fractional coin is owed at its backing's worth
        tok = tok[~np.isin(tok, g.frac_asset)]
    if g is not None and len(g.liable_entity):
        passed = g.liable_units * c.P0[g.liable_backing]  # the liabilities that follow the backing, at reference
        at_par = c.other_liab[g.liable_entity] - passed
        tok = tok[~np.isin(c.issuer[tok], g.liable_entity[at_par <= 0])]
        part = g.liable_entity[at_par > 0]
        if np.isin(c.issuer[tok], part).any():
            owed = np.full(c.n, np.inf)
            owed[part] = at_par[at_par > 0]
            room = owed[c.issuer[tok]][None]
    iss = c.issuer[tok]
    return tok, iss, c.H0[iss, tok][None], c.peg1[tok][None], room


def underwater_shortfall(c: Compiled, P: np.ndarray, coll: np.ndarray, debt: np.ndarray) -> np.ndarray:
    """Each cohort's debt beyond its collateral at prices ``P``, (S, c), in USD at the debt token's price:
    ``max(debt x debt price - collateral x price, 0)`` (:func:`unbooked_bad_debt` per cohort)."""
    return np.maximum(debt * debt_price(c, P) - coll * np.take(P, c.c_ca, axis=1), 0.0)  # P[:, c_ca], the faster gather


def unbooked_bad_debt(c: Compiled, P: np.ndarray, coll: np.ndarray, debt: np.ndarray,
                      short: np.ndarray | None = None) -> np.ndarray:
    """Each protocol's loans' debt beyond their collateral at prices ``P``, (S, n): bad debt not yet booked.

    ``sum over its cohorts of max(debt x debt price - collateral x price, 0)``, the part of its loan book
    :func:`marks` writes off. A position under water is bad debt when prices put it there; liquidations
    book it later, or never when liquidators' capacity runs short or the horizon comes first. ``short``: the
    cohorts' :func:`underwater_shortfall` at these arguments, when the caller has it."""
    short = underwater_shortfall(c, P, coll, debt) if short is None else short
    return c.by_proto(short) if short.any() else np.zeros((P.shape[0], c.n))



def booked_units(usd: np.ndarray, price: np.ndarray) -> np.ndarray:
    """Bad debt a liquidation booked, ``usd`` (S, c) at the debt token's ``price`` (S, c) it was booked at, in units
    of the debt token (0 where nothing was booked or the price is 0)."""
    return np.divide(usd, price, out=np.zeros(broadcast_shape(usd.shape, price.shape)), where=(usd != 0) & (price > 0))


def booked_bad_debt(c: Compiled, P: np.ndarray, bad_units: np.ndarray) -> np.ndarray:
    """Each protocol's booked bad debt at prices ``P``, (S, n): ``sum over its cohorts of units x debt price``.

    Model. A cohort's bad debt is a shortfall in its debt token: the protocol's lenders are owed that token (in
    kind), and what the shortfall costs them is its units at the token's price now, as every other balance
    is marked, at the prices loan books are booked at (:func:`booked_prices`: a CDP coin above its peg at its
    peg, as in :func:`marks`); a protocol's own stablecoin at its peg (:func:`debt_price`). Booked at the oracle price of the round a liquidation exhausted the
    collateral, the same shortfall was worth more or less with the round it fell in: a debt token off peg
    that recovered made a cohort booked while it was low (a deeper shock exhausts it sooner) cheaper than the
    same cohort booked a few rounds later (``monotone-2020-eth-usdc-depeg-bad-debt``: ETH deeper by 0.02%,
    USDC 7.7% off peg, lag 1: Compound's ETH/DAI cohort booked 1.65M DAI in round 2 at DAI $0.894 instead
    of round 5 at $0.978, total bad debt -$137k). The same add-back in :func:`inkind_index` values tokens
    paid out in withdrawals at current prices [a monetary item in another currency at the closing rate: IAS 21.23; the
    Aave and Compound deficits are per reserve token: Aave v3.3 ``_deficit``, Compound v2 ``reserves``]."""
    booked = bad_units.any(0)
    if not booked.any():
        return np.zeros((P.shape[0], c.n))
    price = debt_price(c, booked_prices(c, P))
    held = np.flatnonzero(booked)
    if 2 * held.size >= booked.size:
        return c.by_proto(bad_units * price)
    # the cohorts with bad debt booked alone (synthetic(100k): some 4,000 of 44,845): every other's units are zeros,
    # their value zeros too, which add nothing to a protocol's sum (Group.some, the same bits)
    return c.by_proto.some(bad_units.take(held, axis=1) * price.take(held, axis=1), held)


def outside_books(c: Compiled, P, m: Marks, oa, coll, debt, ik_left, lam, other_liab=None):
    """Outside assets and outside liabilities of every entity, (S, n) each.

    ``other_liab`` (S, n) replaces the entities' ``other_liabilities_usd`` where some are valued at prices
    (:func:`core.engine.backing.backed_liabilities`); ``None``: at par.

    ``ik_left`` is what remains of each in-kind claim in reference dollars and
    ``lam`` (S, n) each debtor's in-kind index (:func:`inkind_index`); claims
    held on others enter at ``m.held`` (:func:`core.engine.held_claims.held_at_index`: this round's index, the
    last clearing's paid ratio).
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
    other = c.other_liab if other_liab is None else other_liab
    if c.by_sink_debtor.idx.size:
        ext_liab = c.by_sink_debtor(ik_left[:, c.ik_sink] * lam[:, c.sink_debtor])
        ext_liab += other
    else:  # no depositor aggregates: their empty sums' zeros plus the rest, as 0.0 + each (the same bits)
        ext_liab = np.add(0.0, other, out=np.empty(raw.shape))
    ext_liab += lam * c.held_owed
    ext_liab += np.maximum(-raw, 0.0)
    return np.maximum(raw, 0.0), ext_liab


def inkind_index(c: Compiled, P, m: Marks, bad, ratio, paid_out=None, lam_last=None) -> np.ndarray:
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
    (booked, or not yet booked: loans under water) added back (withdrawals
    shrink the claims themselves): bad debt falls on the protocol's insurance
    fund and equity first, and on its suppliers only through clearing. Claims held on others (LP shares of
    another pool, a venue's balance at its bridge) enter ``V`` at their debtor's index of this round times its
    last paid ratio ``ratio`` (S, n): ``m.held`` takes them at the last round's index, and the holders are solved
    again level by level of holding (:func:`core.engine.held_claims.solve_indices`), so a pool's repricing reaches
    the holders of claims on a pool holding it in the same round. (At the last round's index, as before session 31,
    CONVEX's claims on CRV_3POOL carried DAI's fall at Maker's cage to LP_PROVIDERS a round late: $84.09M, and a
    monotone violation of -$77.96M where a deeper shock moved the cage by a round.)
    With ``m.held`` None (:func:`marks` without them), the holders' first values are a pass of the solve from
    ``lam_last`` (S, n), the last round's indices (:func:`core.engine.held_claims.first_pass_here`: the same bits).
    """
    live = c.live_idx
    base = c.reference_value(P)  # reference units at current prices (sparse: a row never depends on its batch-mates)
    if len(live):  # (the live books' columns by the faster gather: the same elements)
        put_columns(base, live, m.hold.take(live, axis=1) + bad.take(live, axis=1))
        if paid_out is not None:
            put_columns(base, live, base.take(live, axis=1) + holdings_value(paid_out, P))
    base += m.book
    base += m.underwater
    rows, passes = index_levels(c)
    unheld: np.ndarray | None
    if m.held is None:  # the holders' first pass from lam_last, in the solve (their rows in its order)
        unheld = base.take(holder_rows(c), axis=1)
    else:
        unheld = base.take(rows, axis=1) if passes else None
        base += m.held
    base *= c.inv_base0
    base *= c.lam_follow
    base += c.lam_fixed
    if unheld is None:  # no index reads a claim held on another: the first pass is the solution
        return base
    # the holders, level by level of holding
    return solve_indices(c, base, unheld, ratio, None if m.held is not None else lam_last)



def owed_in_kind_units(c: Compiled, ik_left: np.ndarray, rows: np.ndarray) -> np.ndarray:
    r"""Token units each entity of ``rows`` owes in kind on its reference book, (S, len(rows), k): what its
    in-kind index (:func:`inkind_index`) makes its claims follow, in units.

    For an exchange or lender (a reference-book entity, not a live book), a reference dollar of its claims is
    worth ``lam_fixed + lam_follow V(P) / V0`` with ``V(P) = H0 P + ...``, so the claims left, ``C`` reference
    dollars (its depositors' and the claims entities hold on it), owe :math:`C\,\lambda_{follow} H^0_{a} / V_0`
    units of each token ``a``: the derivative of its liabilities in the price of ``a`` (the slope an exchange
    token's issuer's equity has in its token's price, :func:`core.engine.exchange_tokens.exchange_token_prices`, is its
    holding less this). Live books (pools and lending protocols, whose claims follow their current holdings and
    what they paid out) owe none here."""
    live, follow, h0 = per_network(c, ("owed_in_kind_units", np.asarray(rows).tobytes()),
                                   lambda: (np.isin(rows, c.live_idx), (c.lam_follow * c.inv_base0)[rows], c.H0[rows][None]))
    left = c.by_ik_debtor(ik_left)[:, rows]
    coef = np.where(live, 0.0, left * follow)
    return coef[:, :, None] * h0


def add_to_holdings(H: np.ndarray, rows: np.ndarray | None, entity: np.ndarray, token: np.ndarray,
                    values: np.ndarray) -> None:
    """``np.add.at(H, (rows[:, None], entity, token), values)`` in place (``rows`` None: every row), ``H``
    (S, n, k), ``values`` (R, m): each value added to its cell one after another, in the order of ``values``'
    elements, so the same bits. On a C-contiguous ``H`` it adds by each value's flat position in ``H`` (one
    index array, the ``ufunc.at`` loop numpy runs without a multi-index: some 25x faster on 45,000 values,
    numpy 2.4); elsewhere as ``np.add.at``."""
    if not H.flags.c_contiguous:
        np.add.at(H, (slice(None) if rows is None else rows[:, None], entity, token), values)  # type: ignore[arg-type]
        return
    n, k = H.shape[1], H.shape[2]
    cells = entity * k + token  # (m,) within a row
    at = cells[None] + ((np.arange(len(H)) if rows is None else np.asarray(rows)) * (n * k))[:, None]
    np.add.at(H.reshape(-1), at.ravel(), np.ascontiguousarray(values).ravel())
