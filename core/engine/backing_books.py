r"""The pass-through issuers' books: a PSM entity's holdings and liabilities follow its balance, its fees are its issuer's.

Split out of :mod:`core.engine.backing` (which re-exports these names), whose step prices the coins and moves the
PSMs' balances; this module books those moves (:func:`follow_balance`, :func:`book_fees`) and values what the
pass-through issuers owe (:func:`backed_liabilities`).

**Pass-through issuers** (``liable_entity`` of a ``psm`` or ``fractional``
row): the PSM, or a fractional coin's issuer, owes the coin's holders the
backing it holds, not dollars. ``sellGem`` frobs the PSM's own urn with as
much collateral as debt (``vat.frob(ilk, psm, psm, psm, gemAmt18, gemAmt18)``)
and ``buyGem`` pays one USDC per DAI burnt (plus ``tout``), whatever USDC is
worth (MakerDAO ``dss-psm``, ``src/psm.sol``); FRAX v2 redeems ``CR`` of a
dollar in USDC and the rest in FXS. Their liabilities (the entity's
``other_liabilities_usd``, :math:`L_0` at reference) therefore move dollar for
dollar with the backing they hold for the holders,

.. math:: L_t = L_0 + u\,(p_{b,t} - p_{b,0}), \qquad u = \min(H_{e,b},\ L_0 / p_{b,0}),

:math:`u` the units of the backing coin :math:`b` the entity :math:`e` holds
at reference. For a PSM, whose liabilities are all coins minted 1:1 against
its backing, :math:`L_t = L_0\,p_{b,t}/p_{b,0}`; for FRAX, holding ``CR`` of
its supply :math:`S` in USDC, :math:`L_t = S(\mathrm{CR}\,p_b + 1 - \mathrm{CR})`,
its redemption value (:func:`~core.mechanisms.psm.fractional_stable_value`);
for an issuer only part of whose coins were minted through a PSM (Sky in 2025)
only that part moves. A loss on the backing coin then costs them nothing and
they do not default: the coin's holders carry it through the coin's price, set
by the steps above. This is how DAI followed USDC on 11 March 2023 (USDC
0.878, DAI 0.897 at the low, FRAX 0.885; Maker's PSM held ~$3.1bn USDC, about
half of DAI's backing; research notes §2 SVB overlay, [S:SVB-block],
[S:SVB-crypto1st]) with no Maker loss or default (:func:`backed_liabilities`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..mechanisms import psm
from .compiled import Compiled
from .memo import per_network
from .peg_terms import moved_units, psm_books

if TYPE_CHECKING:
    from .backing import _PsmConstants
    from .state import CascadeState, Changes


def follow_balance(c: Compiled, H: np.ndarray, moved: np.ndarray) -> None:
    """The PSM entity's holdings follow its balance: ``moved`` (S, q) units of the backing coin each PSM took in
    this round (negative: paid out) are added to its ``liable_entity``'s holdings ``H`` (S, n, k), in place (the
    state owns them). Its liabilities follow in :func:`backed_liabilities`: ``sellGem`` takes in ``gemAmt`` and
    frobs the PSM's urn by as much collateral and debt (``vat.frob(ilk, address(this), address(this),
    address(this), int256(gemAmt18), int256(gemAmt18))``), ``buyGem`` the same negative (dss-psm ``src/psm.sol``),
    so the entity's holdings and what it owes move together and its equity stays where it was. The ``tin``/``tout``
    fees stay DAI, moved to the Vow, so the coin's supply follows the balance too
    (:func:`~core.mechanisms.psm.psm_arbitrage`); the Vow's DAI is the issuer's surplus (:func:`book_fees`). A PSM
    with no ``liable_entity`` moves nothing; psm rows naming one entity (Sky's LitePSM behind DAI and USDS) move its
    one holding of the backing coin by both rows' swaps."""
    g = c.pegs
    assert g is not None
    has = g.psm_liable >= 0
    if not has.any():
        return
    books = per_network(c, "psm_books", lambda: psm_books(c))
    # psm rows sharing one book (SKY's DAI and USDS) both move its one holding: summed per book first (a fancy
    # += with a repeated index would keep one row's move)
    # (a sum per row over the few psm rows, not a matrix product, whose rounding may depend on the batch's size)
    by_book = np.where(books.rows[None], moved[:, has, None], 0.0).sum(1)
    H[:, g.liable_entity[books.book], g.liable_backing[books.book]] += by_book


def book_fees(c: Compiled, s: CascadeState, arb: psm.PSMArbitrageResult, k: "_PsmConstants") -> Changes:
    r"""The PSM's fees booked to the coin's issuer: ``sellGem`` of ``gemAmt`` mints ``gemAmt`` of DAI, pays
    ``gemAmt (1 - tin)`` of it to the seller and moves the fee ``gemAmt tin`` to the Vow (``fee = gemAmt18 * tin /
    WAD; ... vat.move(address(this), vow, mul(fee, RAY))``); ``buyGem`` takes ``gemAmt (1 + tout)`` of DAI and moves
    ``gemAmt tout`` to the Vow (dss-psm ``src/psm.sol``). The Vow's DAI is the issuer's surplus, its equity: booked
    as the auctions' DAI is (:func:`core.engine.maker.vault_auctions`), in its holdings of the coin (out of the
    holders' market, :func:`core.engine.backing._burnt`), its ``fee_income``, and for a Maker system its Vow's surplus
    (``maker_surplus``). The arbitrageurs who pay it are outside the network: their payment is a transfer into it,
    counted in system loss as outside borrowers' penalties are (``borrowers_penalty``,
    :func:`core.engine.fees.outside_borrowers_paid`), so the fee creates no value. With ``x`` the DAI the market
    sold into the PSM's mint and ``y`` the DAI it paid in to redeem (:func:`~core.mechanisms.psm.psm_arbitrage`),
    the fee is :math:`x\,\mathrm{tin}/(1-\mathrm{tin}) + y\,\mathrm{tout}/(1+\mathrm{tout})` DAI.

    Example: $100M of USDC sold into the PSM at tin 0.1% mints 100M DAI, 99.9M to the seller and 0.1M to the Vow:
    the issuer's surplus gains $0.1M, the seller pays $0.1M (``tests/test_psm_books.py``).

    Reads ``H, fee_income, borrowers_penalty, borrowers_penalty_in, maker_surplus`` (writes ``H`` in place: the state owns it); the
    PSM rows' ``k`` constants (:class:`core.engine.backing._PsmConstants`). [Before, the fee stayed with the arbitrageurs: a transfer
    left out, ``follow_balance``.]"""
    g = c.pegs
    assert g is not None
    fee = (arb.minted * g.psm_tin[None] / (1.0 - g.psm_tin[None])
           + arb.redeemed * g.psm_tout[None] / (1.0 + g.psm_tout[None]))
    fee = np.where(k.has_issuer, fee, 0.0)
    if not fee.any():
        return {}
    issuer = k.issuer_at
    s.H[:, issuer, g.psm_asset] += fee
    usd = fee * k.peg
    income = s.fee_income.copy()
    np.add.at(income.T, issuer, usd.T)  # an issuer of two PSM coins (SKY: DAI and USDS) takes both fees
    paid_in = s.borrowers_penalty_in.copy()  # by receiver, the issuer (core.engine.outside_transfers)
    np.add.at(paid_in.T, issuer, usd.T)
    out: Changes = dict(fee_income=income, borrowers_penalty=s.borrowers_penalty + usd.sum(1), borrowers_penalty_in=paid_in)
    if c.maker is not None and c.maker.m:
        out["maker_surplus"] = s.maker_surplus + np.where(k.maker_own, usd, 0.0).sum(1)
    return out


def backed_liabilities(c: Compiled, P: np.ndarray, psm_balance: np.ndarray | None = None) -> np.ndarray | None:
    r"""Every entity's outside liabilities at prices ``P``, (S, n): ``other_liabilities_usd``, with those of the
    pass-through issuers at their coins' backing value (module docstring); ``None`` when the network has none
    (they are all at par). ``psm_balance`` (S, q): the PSMs' balances (the state's), whose moves since the
    reference the liabilities follow: :math:`L_t = L_0 + u\,(p_{b,t} - p_{b,0}) + m\,p_{b,t}`, :math:`m` the
    units moved in (:func:`~core.engine.peg_terms.moved_units`, :func:`follow_balance`: the DAI minted against them is owed in the
    backing coin, as the rest of the PSM's); None: at the reference balances.

    Examples
    --------
    Maker's PSM on the 2022 network owes $3.2bn of DAI minted against $3.2bn of USDC; with USDC at 0.9 it
    owes DAI's holders $2.88bn of USDC, FRAX ($2.64bn at an 87% collateral ratio) $2.41bn:

    >>> import core
    >>> from core.engine.compiled import compile_network
    >>> c = compile_network(core.datasets.load("crypto-2022-05"))
    >>> P = c.P0[None].copy(); P[0, list(c.symbols).index("USDC")] = 0.9
    >>> L = backed_liabilities(c, P)[0]
    >>> ids = list(c.ids)
    >>> [round(float(L[ids.index(e)]) / 1e9, 3) for e in ("MAKER_PSM", "FRAX", "MAKER")]
    [2.88, 2.41, 5.3]
    """
    g = c.pegs
    if g is None or not len(g.liable_entity):
        return None
    e, bk = g.liable_entity, g.liable_backing
    out = np.repeat(c.other_liab[None], P.shape[0], 0)
    moved = moved_units(c, psm_balance)
    owed = c.other_liab[e] + g.liable_units * (P[:, bk] - c.P0[bk])
    out[:, e] = np.maximum(owed if moved is None else owed + moved * P[:, bk], 0.0)
    return out
