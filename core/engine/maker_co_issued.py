"""A coin with two issuers in the engine: DAI owed by Maker's vaults and by its PSM (or by one issuer that holds
the PSM's backing itself, SKY's DAI and USDS), what ``end.cash`` pays its holders once the issuer is shut down, and
what its PSM's pass-through adds to the outside creditors' write-downs, live or shut down.

Model. ``end.cash`` pays every DAI the same share of every ilk's collateral, the PSM's gem included, so a failed
Maker's DAI is priced at the blend of the vaults' recovery and the PSM's backing
(:func:`~core.mechanisms.psm.two_issuer_recovery`, :func:`coin_recoveries`); the PSM's DAI is a claim on its gem
(``sellGem`` mints DAI 1:1 against it, ``buyGem`` pays it out 1:1), so its liabilities follow the backing
(:func:`~core.engine.backing.backed_liabilities`) and the outside holders' share of the backing's fall is an outside
write-down (:func:`dai_holders_outside`). Each function's docstring states its part with its worked numbers.

Source: MakerDAO ``dss`` ``end.sol`` (``cash``, ``flow``'s ``fix``); ``dss-psm`` ``src/psm.sol`` (``sellGem``,
``buyGem``, ``tin``, ``tout``) and ``dss-lite-psm``; MakerDAO docs, "Emergency Shutdown Module" and "Peg Stability
Module". The Vow's side (the debt auctions' cover these prices count) is :mod:`core.engine.maker_vow`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..mechanisms import psm as maker_psm
from .backing import backed_liabilities, fractional_rows, fractional_values
from .memo import per_network
from .peg_terms import book_shares, end_cash_holder
from .token_holders import recovery_priced

if TYPE_CHECKING:
    from .compiled import Compiled


def co_issued_rows(c: Compiled) -> np.ndarray:
    """The ``psm`` rows of the pegs table whose coins :func:`co_issued` lists, in its order."""
    g = c.pegs
    assert g is not None
    return np.flatnonzero((end_cash_holder(c) >= 0) & (c.issuer[g.psm_asset] >= 0))


def co_issued(c: Compiled) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The coins ``end.cash`` pays out of an issuer's vaults and a PSM's backing, as ``(coin, issuer, psm)`` index
    arrays (:func:`~core.engine.peg_terms.end_cash_holder`): owed by two entities, the issuer and a PSM of its own
    (DAI on the 2022 network: MAKER's vaults and MAKER_PSM), or by one that holds the PSM's backing itself
    (``psm`` = ``issuer``: SKY's DAI and USDS on the 2025 network); None where the network has none. A constant of
    the network, computed once: its readers run every round."""
    return per_network(c, "co_issued", lambda: _co_issued(c))


def _co_issued(c: Compiled) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    g = c.pegs
    if g is None or not len(g.psm_asset):
        return None
    q = co_issued_rows(c)
    if not len(q):
        return None
    coin = g.psm_asset[q]
    return coin, c.issuer[coin], end_cash_holder(c)[q]


def coin_recoveries(c: Compiled, P: np.ndarray, ratio: np.ndarray, failed: np.ndarray,
                    psm_balance: np.ndarray | None = None) -> np.ndarray | None:
    r"""What each stablecoin's holders recover from its issuers, (S, k): the issuer's ``ratio`` (S, n), and for a
    coin owed partly by a PSM of its own the blend of the two
    (:func:`~core.mechanisms.psm.two_issuer_recovery`): the vaults' side at its recovery (``ratio``, which counts
    a failed Maker's debt auctions, :func:`~core.engine.maker_vow.debt_auction_recovery`) on the DAI it owes, the
    PSM's backing at prices
    ``P`` (:func:`~core.engine.backing.backed_liabilities`, times the PSM's own paid ratio) on the DAI minted
    through it. None where no coin has two issuers or none's issuer has failed (``failed`` (S, n): the coin's
    price is its issuer's concern only then; the issuer's ratio is the coin's).

    Model: DAI holders are paid by ``end.cash`` a share of every ilk's collateral, the PSM's USDC included, so a
    failed Maker's DAI is priced at that blend (:func:`core.engine.issuer_caps.recovery_capped`), not at the vaults'
    recovery alone. Before, the whole $8.5bn of DAI on the 2022 network took the vaults' recovery, though
    $3.2bn of it is the PSM's and backed 1:1 by USDC. An issuer holding its PSM's backing itself (SKY on the
    2025 network: DAI and USDS, which ``DaiUsds`` converts 1:1) pays both coins the blend of its one book
    (:func:`_blend`): its paid ratio times its liabilities' worth over their face. Before, its coins traded at
    the lower of their PSM-backed value and that ratio: with ETH -80%, BTC -70% and USDC -30% on the 2025
    network, DAI 0.882895 and USDS 0.883776 against SKY's ratio 0.969336 on liabilities worth 9.3143 of
    10.5355bn owed, where ``end.cash`` pays both 0.856982. ``psm_balance`` (S, q): the PSMs' balances (the state's);
    the DAI minted or burnt through the PSM before the shutdown moved its urn's debt and collateral alike
    (:func:`~core.engine.backing.follow_balance`), and ``end.cash`` shares the whole supply's claim pro rata, so
    :math:`D_p` and the PSM's backing are those at the shutdown; None: at reference.

    A fractional coin (FRAX v2; USDtb, ratio 1 in BUIDL) is owed by its pass-through issuer at its backing's
    worth, :math:`L_t = S V_t` (:func:`~core.engine.backing.backed_liabilities`), on which the issuer pays its
    ratio :math:`\rho`: the coin recovers :math:`\rho V_t` a unit of face
    (:func:`~core.engine.backing.fractional_values`), the form of ``_blend``'s :math:`\rho L_t / D`. Before, FRAX
    (of kind ``algorithmic_stable``) was never capped: with FRAX forced to fail on the 2022 network (recovery 0.8,
    USDC 20% off peg) it stayed at V = 0.826 while its issuer paid 0.801917 (now 0.662383), and USDtb, capped at
    the ratio alone, traded at min(V, rho): 0.8 with ETHENA_USDTB paying 0.8 on BUIDL at 0.8 (now 0.64)."""
    terms = co_issued(c)
    rows = fractional_rows(c)
    fractional = c.pegs.frac_asset[rows] if rows is not None and c.pegs is not None else None
    hit = terms is not None and failed[:, terms[1]].any()
    hit_fractional = fractional is not None and failed[:, c.issuer[fractional]].any()
    if not (hit or hit_fractional):
        return None
    out = ratio[:, np.maximum(c.issuer, 0)].copy()
    if hit:
        assert terms is not None
        coin, issuer, psm_entity = terms
        out[:, coin] = _blend(c, P, ratio[:, issuer], ratio[:, psm_entity], issuer, psm_entity, psm_balance)
    if hit_fractional:
        assert fractional is not None
        # the issuer's paid ratio on its liabilities at the backing's worth, S V_t: rho V_t a unit of face
        out[:, fractional] = ratio[:, c.issuer[fractional]] * fractional_values(c, P)[:, rows]
    return out


def _blend(c: Compiled, P: np.ndarray, vault_ratio: np.ndarray, psm_ratio: np.ndarray, issuer: np.ndarray,
           psm_entity: np.ndarray, psm_balance: np.ndarray | None = None) -> np.ndarray:
    r""":func:`~core.mechanisms.psm.two_issuer_recovery` of the co-issued coins, (S, q): the PSM's DAI at its face
    (its backed liabilities at reference prices, :func:`~core.engine.backing.backed_liabilities`, with the
    balance ``psm_balance``) and its backing at prices ``P``.

    An issuer that holds its PSM's backing itself (SKY in 2025, ``psm_entity == issuer``) owes the whole coin as
    one book: its backed liabilities are its vaults' side at face and the PSM's side at its backing's worth,
    :math:`L_t = D_v + u\,p_b`, and its paid ratio :math:`\rho` is on them. ``end.cash`` pays every coin the same
    share of both, :math:`(D_v \rho + D_p \rho\,p_b)/(D_v + D_p) = \rho\,L_t / D`, :math:`D` the whole face: the
    blend with the issuer's book as the PSM's side and no vaults' side apart."""
    owed, value = _psm_side(c, P, psm_entity, psm_balance)
    face = np.where(owed > 0, owed, 1.0)
    vault_face = np.where(issuer == psm_entity, 0.0, c.other_liab[issuer])[None]
    return maker_psm.two_issuer_recovery(vault_face, vault_ratio, owed, psm_ratio * value / face)


def _psm_side(c: Compiled, P: np.ndarray, psm_entity: np.ndarray,
              psm_balance: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The PSMs' DAI at face and their backing's worth at prices ``P``, (S, q) each (broadcastable): their backed
    liabilities (:func:`~core.engine.backing.backed_liabilities`) at reference prices and at ``P``, with the
    balances ``psm_balance`` (None: at reference)."""
    owed = c.other_liab[psm_entity][None]
    backed = backed_liabilities(c, P, psm_balance)
    if backed is None:
        return owed, np.broadcast_to(owed, (len(P), len(psm_entity)))
    at_ref = backed_liabilities(c, np.broadcast_to(c.P0, P.shape), psm_balance)
    assert at_ref is not None
    return at_ref[:, psm_entity], backed[:, psm_entity]


def dai_holders_outside(c: Compiled, P: np.ndarray, issuer_cap: np.ndarray, units: np.ndarray, held: np.ndarray,
                        recovery: np.ndarray, defaulted: np.ndarray, owed_outside: np.ndarray,
                        psm: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
                        shut: np.ndarray | None = None) -> np.ndarray:
    r"""What a co-issued coin (DAI, :func:`co_issued`) adds to the outside creditors' write-downs, (S,): its PSM's
    pass-through whether its issuer is live or not, and for a failed issuer its vaults' side beyond the one-issuer
    rule (:mod:`core.engine.token_holders`, :func:`~core.engine.maker_vow.held_dai_cover`), which removes
    :math:`N_v (1 - \rho)` from them as borne by the network's holders through the coin's price (:math:`N_v`
    = ``held``, the network's coin at par capped at what the vaults owe, :math:`\rho` = ``recovery`` (S, n),
    the vaults' side counting its debt auctions). With two issuers the price is the blend
    (:func:`coin_recoveries`), so:

    * the network's holders bear through the price only what the issuer cap took off it,
      :math:`N p\,(1/\kappa - 1)` (``units`` :math:`N`, ``issuer_cap`` :math:`\kappa`, price :math:`p`), and at
      most their share of the vaults' uncovered deficit, :math:`\min(N w_v, \bar x_v)(1 - \rho)`, :math:`w_v`
      the vaults' share of the coin's face: :math:`B`;
    * the outside holders' share of the PSM's write-down (its backing's fall, passed to the coin's holders:
      :func:`~core.engine.backing.backed_liabilities`) is an outside creditor's: the write-down
      :math:`W = (D_p - L_p)^+` less what the network's holders bore of it through the coin's price,
      :math:`W (1 - N/D)^+ - N (V - p)^+` with :math:`D = D_v + D_p`, :math:`V` the coin's backing a unit
      (``psm`` 's ``psm_value``, :func:`~core.mechanisms.psm.psm_backed_value`) and the last term only while the
      issuer is live (below).

    The term is :math:`N_v(1 - \rho) - B` where the issuer has failed, 0 elsewhere, so the vaults' whole shortfall
    :math:`\bar x_v (1 - r)` is borne: by MKR's debt auctions, by the network's holders through the price, or by
    outside holders; plus :math:`(D_p - L_p)^+ (1 - N / D)^+` less the swaps' discount (below), where positive,
    whether the issuer is live or shut down.

    Model: the PSM's pass-through is the same live and shut down. dss-psm ``sellGem`` mints DAI 1:1 against the
    gem and ``buyGem`` pays the gem out 1:1 (``src/psm.sol``), so the PSM's DAI is a claim on its USDC (the 2022
    PSM row: $3.2bn of DAI against $3.2bn of USDC): the PSM's liabilities follow its backing
    (:func:`~core.engine.backing.backed_liabilities`) and a live Maker's DAI carries the PSM's share of the
    backing's fall in its price (:func:`~core.mechanisms.psm.psm_backed_value`), as a shut-down one's does through
    ``end.cash``'s blend. Only the vaults' side switches at the default (MKR's debt auctions stand behind it while
    Maker is live). Before session 18, the PSM's part was counted only where the issuer had failed: live, the
    outside holders' write-down and the outside arbitrageurs' discount were counted nowhere, and the sum of equity
    changes and outside write-downs fell short of the value destroyed (USDY 20% off peg on a two-issuer network,
    VAULTS live: $2.4M of $8M, ``tests/test_psm_books.py``). On the 2022 network with CIRCLE forced to fail
    (USDC ~0, DAI 0.3463 at both depths), ETH -79.3%, CEL -86.8%, WBTC -63.2%, oracle lag 2, capital $500M, a 1-ulp
    deeper shock that defaulted MAKER in round 5 switched the term on and cut the system loss by $2.612bn
    (outside write-downs +$232.3M -> -$2,379.8M: the arbitrageurs' discount on the DAI they minted against
    worthless USDC, netted; ``monotone-shipped-circle-failed-eth-cel-wbtc-lag2-capital-500m-maker-default-edge``);
    now the same term at both depths, floored (below). Before, a failed Maker's DAI priced by the PSM's USDC below
    the vaults' recovery (the cap not binding) set :math:`N_v(1-\rho)` aside as borne through a price that did
    not carry it: CIRCLE forced to fail, CEL -26.39%, ETH -80.93%, stETH -83.97% on the 2022 network, DAI at
    0.346 at both depths, Maker $0.160bn short: counted at the shallower depth (MKR's cover) and nowhere at the
    deeper, where MKR's backstop had failed (-$160.4M, ``monotone-shipped-circle-failed-backstop-edge-held-dai``).

    Where the PSM swapped before the shutdown (``psm`` = the state's ``(psm_balance, psm_paid_in, ...)``, (S, q) each;
    None: nothing moved), :math:`D_p` and the PSM's backing are those at the shutdown (``end.cash`` pays the whole
    supply pro rata, :func:`coin_recoveries`), and the outside holders' write-down is taken against what the DAI
    cost them: the DAI minted through the PSM went to arbitrageurs outside for backing worth ``psm_paid_in``
    (:math:`\sum_t m_t p_{b,t}`), not its face :math:`\sum_t m_t`, and the DAI burnt through it was redeemed for
    backing worth :math:`m_t p_{b,t}`, so :math:`\sum_t m_t (1 - p_{b,t})` comes off the term (a DAI redeemed
    below par adds its loss). With it the write-downs add up to the value destroyed: the vaults' shortfall and
    each unit of backing's fall from the price it came in at (``tests/test_psm_books.py``). Where the discount
    exceeds the outside holders' share of the write-down, the outside agents as a whole gained on the swaps (DAI
    minted against a backing that then recovered, or against one worth ~0 while DAI keeps the vaults' side): that
    gain left the network to outside agents and is no negative write-down, as a liquidator's bonus is not
    (``tests/invariants_support.py`` ``system_value_change``), so the PSM's part is floored at 0 [model choice:
    the aggregate of the outside holders and arbitrageurs, whose DAI the engine does not tell apart]. Netted, a
    deeper USDC impairment that resolves lowered the system loss (SVB 6.25% -> 9.375% resolved in round 2 on the
    2022 network: -$2.47M -> -$5.24M, the arbitrageurs' DAI minted at USDC 0.888 worth par at the end).

    The live PSM's pin. While the issuer is live, dss-psm's two swaps bound the coin's price by its backing coin's:
    ``sellGem`` mints :math:`1 - \mathrm{tin}` DAI for one USDC, so arbitrageurs sell DAI until
    :math:`p \le p_b/(1 - \mathrm{tin})`, and ``buyGem`` pays one USDC for :math:`1 + \mathrm{tout}` DAI, so
    :math:`p \ge p_b/(1 + \mathrm{tout})` (``src/psm.sol``; MakerDAO docs, "Peg Stability Module";
    dss-lite-psm ``sellGem``/``buyGem`` alike; :func:`~core.mechanisms.psm.psm_arbitrage`). With room to mint
    the coin trades at that pin, below its backing :math:`V = (D_v B + L_p)/D` (the vaults' side at its claim
    :math:`B`, the PSM's at its backing's worth). Who holds what at which price: the network's holders hold
    :math:`N` at :math:`p`, their equity marks :math:`N (1 - p) = N (1 - V) + N (V - p)`; their pro-rata share of
    the PSM's write-down is :math:`N W / D` (of :math:`1 - V`, with the vaults' side at par), so they bore
    :math:`N (V - p)` more of it through their mark, and the outside holders that much less. Counting the outside
    share as :math:`W (1 - N/D)` counted that mark twice (session 18: two-issuer network, USDY -20%, DAIX's market
    $100M deep, VAULTS live: DAIX at 0.8/(1 - 0.001) = 0.80080 against its backing 0.86561, system count $9,944,262
    for the $8M destroyed, +30M x 0.06481; now $8M, ``tests/test_psm_books.py``). Once the issuer is shut down the
    coin trades at ``end.cash``'s blend, not at a pin, and the network's holders bear their pro-rata share.

    ``owed_outside`` (S, n) the outside liabilities other than depositors' claims; ``defaulted`` (S, n); ``psm`` =
    the state's ``(psm_balance, psm_paid_in, psm_value)``; ``shut`` (S, n): the issuers in default where
    ``defaulted`` also marks a live one priced at its recovery (decision 18, a governed Maker short in the clearing:
    its PSM still pins, against the coin's price before that cap, ``P / issuer_cap``); None: ``defaulted``."""
    terms = co_issued(c)
    if terms is None:
        return np.zeros(len(P))
    coin, issuer, psm_entity = terms
    own = (issuer == psm_entity)[None]
    tok = recovery_priced(c)
    N = np.maximum(units[:, np.searchsorted(tok, coin)], 0.0)
    face_v = np.where(own, 0.0, c.other_liab[issuer][None])
    psm_balance, paid_in, backed = (None, None, None) if psm is None else psm
    face_p, value = _psm_side(c, P, psm_entity, psm_balance)
    rho = recovery[:, issuer]
    cap = issuer_cap[:, coin]
    share = per_network(c, "book_share", lambda: book_shares(c, coin, issuer))
    with np.errstate(divide="ignore", invalid="ignore"):
        borne = np.where(cap > 0, N * P[:, coin] * (1.0 / cap - 1.0), 0.0)
    # a coin a pool prices takes min(P, target) with no cap recorded: its price is taken to carry the blend (kept)
    borne = np.where(per_network(c, "co_issued_pooled", lambda: np.isin(coin, c.pool_asset)[None]), np.inf, borne)
    # the share of a coin's face its issuer's ratio is paid on: the vaults' face, or an issuer's whole book at its
    # worth where it holds the PSM's backing itself (L_t / D, _blend)
    on_ratio = np.where(own, value, face_v) / (face_v + face_p)
    uncovered = np.minimum(N * on_ratio, share * np.maximum(owed_outside[:, issuer], 0.0)) * np.maximum(1.0 - rho, 0.0)
    B = np.minimum(np.maximum(borne, 0.0), uncovered)
    psm_out = np.maximum(face_p - value, 0.0) * np.maximum(share - N / (face_v + face_p), 0.0)
    rows, g = co_issued_rows(c), c.pegs
    assert g is not None
    if backed is not None:  # a live PSM's arbitrage pins the coin below its backing: its network holders bore
        # N (V - p) of the write-down through their mark beyond their pro-rata share
        pinned = P[:, coin] if shut is None else P[:, coin] / np.where(cap > 0, cap, 1.0)
        pin = N * np.maximum(backed[:, rows] * c.peg1[coin][None] - pinned, 0.0)
        psm_out = psm_out - np.where((defaulted if shut is None else shut)[:, issuer], 0.0, pin)
    if paid_in is not None:  # the discount (or the loss) the swaps' DAI came at: face less the backing's worth
        booked = (g.psm_liable[rows] >= 0)[None]  # the swaps moved the books (backing.follow_balance)
        assert psm_balance is not None  # given with paid_in
        # each row's own swaps: rows sharing a book (SKY's DAI and USDS) each count the face they minted
        minted = (psm_balance[:, rows] - g.psm_balance0[rows][None]) * c.P0[g.psm_backing[rows]][None]
        psm_out = psm_out - np.where(booked, minted - paid_in[:, rows], 0.0)
    vaults_side = share * held[:, issuer] * np.maximum(1.0 - rho, 0.0) - B
    # outside agents' net gain on the swaps left the system: not netted against its loss
    return (np.where(defaulted[:, issuer], vaults_side, 0.0) + np.maximum(psm_out, 0.0)).sum(1)
