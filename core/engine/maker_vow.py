"""The Vow's side of Maker in the engine: whether the debt auctions still cover a shortfall, the deficit that
waits ``vow.wait`` for them, and the surplus auctions' ``hump``.

The mechanisms are in :mod:`core.mechanisms.maker_backstop` (``vow.sol``, ``flop.sol``, ``flap.sol``); the step
that calls these is :func:`core.engine.maker.vault_auctions`, and the clearing asks :func:`backstop_covers`
before it lets the Maker system default (:func:`core.engine.clear.mark_and_clear`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..mechanisms import maker_backstop
from ..mechanisms import psm as maker_psm
from .backing import backed_liabilities, fractional_rows, fractional_values
from .maker_book import MakerBook
from .maker_claim import FLOP_DISCOUNT
from .maker_surplus import FLAP_SECONDS, flap_capacity, flap_hump  # noqa: F401  (the Vow's surplus side, re-exported)
from .memo import per_network
from .peg_terms import book_shares, end_cash_holder
from .token_holders import recovery_priced

if TYPE_CHECKING:
    from .state import CascadeState

    from ..mechanisms.clearing import ClearingStep
    from .batch import ScenarioBatch
    from .compiled import Compiled


def backstop_covers(c: Compiled, s: CascadeState, rows: np.ndarray, shortfall: np.ndarray) -> np.ndarray:
    r"""Whether the debt auctions can still cover a shortfall of the Maker system's protocol, one per candidate
    default of it (scenario ``rows``, ``shortfall`` USD it is short in the clearing): its backstop has not failed
    and the shortfall is within what MKR's market cap raises at the auctions' discount,
    :math:`\text{shortfall} / (1 - d) < M p` (the failure test of
    :func:`~core.mechanisms.maker_backstop.flop_auction`).

    Model. Maker owes DAI, not a claim its holders can call: a deficit of the system is ``sin`` in the Vow,
    met by the surplus buffer and then by minting MKR (``vow.flop``, ``flop.sol``); DAI holders are paid less
    only when that backstop fails or governance shuts the system down (``end.sol``). The clearing marks the
    vaults at the market before their auctions run (an oracle lag holds the barks back) and credits no penalty
    until an auction raises it, so its marked equity can fall below zero before any deficit reaches the Vow,
    and recover once the auctions' penalties come in. Such a shortfall is not a default: the clearing's rule
    (a shortfall beyond a dollar) applied to it made DAI's issuer fail, capped DAI at its recovery for the rest
    of the run and removed its CDP premium. On the 2020 network, ETH -47.6744302323% with full runs, oracle lag 2,
    liquidity 1.11 and capital $500M left MAKER $1.00000000 short after round 0 and 1 ulp deeper
    $1.00000001 short: only the deeper defaulted, DAI ended at 1.000 instead of 1.084 and Compound's DAI bad
    debt was worth $415k less (system loss $12.682M -> $12.263M), while MAKER's equity was +$474,961 at both
    depths from round 2 (``monotone-2020-eth-one-ulp-full-runs-bad-debt``).

    Where governance has switched the debt auctions off (``vow.sump`` set to the largest uint256, so ``flop``'s
    ``require(sump <= ...)`` never holds: Sky from its 15 May 2025 spell, ``MigrationInit``: "MKR flops are turned
    off"; ``MakerBook.debt_auctions``), no shortfall is a default (the lead's decision 18): its deficit sits in the
    Vow and only governance cages the system, once the deficit has lasted its delay
    (:mod:`~core.engine.maker_governance`). Before, the clearing's rule applied to it as to any protocol, and an
    $8.5bn Sky was defaulted $8.50 short after round 0 on the 2025 network (WBTC -87%, USDC depegged:
    ``s36-trace-2025-wbtc-87-usdc-depeg-23-...``, -$256.56M for a deeper shock that defaulted it a round earlier).

    Source: MakerDAO ``dss`` ``vow.sol`` (``flop``: "debt auction" minting MKR against ``sin``), ``end.sol``
    (emergency shutdown, the only path on which DAI is redeemed below par); Maker docs, "Vow - Detailed
    Documentation" and "Emergency Shutdown Module"; sky-ecosystem/spells-mainnet ``archive/2025-05-15-DssSpell``
    (``dependencies/chief-migration/MigrationInit.sol``)."""
    mk = c.maker
    assert mk is not None
    if not mk.debt_auctions:  # vow.sump = max uint256: governance, not the clearing, shuts it down (decision 18)
        return np.ones(len(rows), bool)
    market_cap = s.mkr_supply[rows] * mkr_market_price(s)[rows]  # net of the deficit MKR holders already owe
    return ~s.maker_failed[rows] & (shortfall / (1.0 - FLOP_DISCOUNT) < market_cap)


def clearing_recovery(c: Compiled, s: CascadeState, clearing: ClearingStep, shut: np.ndarray) -> np.ndarray:
    """The Maker system's recovery counting the DAI its debt auctions will raise, (S,), taken with the clearing
    that prices it (:func:`~core.mechanisms.maker_backstop.flop_recovery`; written as ``maker_recovery`` by
    :func:`core.engine.clear.mark_and_clear`): the clearing's assets carry the pledge and the debt auctions' DAI
    of the same round as the MKR supply and price it is taken with, so MKR's equity is counted once. The clearing's
    paid ratio where the backstop failed, where End has caged the system (``shut``, (S,),
    :func:`~core.engine.maker_end.caged`: a default the scenario forces, or the clearing's from the round after it;
    ``end.cage`` cages the flopper, so no debt auction comes) or where there is no Maker system."""
    mk = c.maker
    if mk is None or not mk.m:
        return np.ones(s.S)
    j = mk.protocol
    if not mk.debt_auctions:  # no debt auction can start (vow.sump = max): the clearing's ratio
        return clearing.paid_ratio[:, j].copy()
    total = clearing.total_liabilities
    owed = total[:, j] if total.ndim == 2 else np.full(s.S, total[j])
    rho = maker_backstop.flop_recovery(clearing.payments[:, j], owed, s.mkr_supply, s.mkr_price, s.maker_pledge,
                                       auction_discount=FLOP_DISCOUNT)
    return np.where(s.maker_failed | shut, clearing.paid_ratio[:, j], rho)


def debt_auction_recovery(c: Compiled, s: CascadeState, paid_ratio: np.ndarray) -> np.ndarray:
    """The last clearing's paid ratios, (S, n), with the Maker system's counting the DAI its debt auctions will
    raise (``maker_recovery``, :func:`clearing_recovery`): what a defaulted Maker's DAI trades at
    (:func:`core.engine.defend.issuer_effects`).

    Model. The engine runs the Vow's debt auctions after the clearing has found the system short until End cages
    it (``end.cage`` -> ``vow.cage`` -> ``flopper.cage``, the one path on which they stop: at the round a forced
    default comes, or at the opening of the round after the clearing's default, :mod:`~core.engine.maker_end`), so
    a failed Maker's DAI counts them in the round it fails, not from the rounds later when they raise their DAI
    (session 29: from the cage on, the clearing's ratio, :func:`clearing_recovery`; before, to the end of the run):
    on the shipped 2022 network (ETH -80.57%, WBTC 25.4% under BTC) DAI sat at the clearing's 0.727-0.730 for
    the rounds between Maker's failure and the Vow's pledge and then at 0.982, and a shock that failed Maker a
    round earlier cut Compound's bad debt by $12.1M (``monotone-shipped-eth-80-wbtc-depeg-maker-fails-earlier-dai``)."""
    return debt_auction_ratio(c, paid_ratio, s.maker_recovery)


def debt_auction_ratio(c: Compiled, paid_ratio: np.ndarray, maker_recovery: np.ndarray) -> np.ndarray:
    """:func:`debt_auction_recovery` of given paid ratios (S, n) and Maker recovery (S,)."""
    mk = c.maker
    if mk is None or not mk.m:
        return paid_ratio
    out = paid_ratio.copy()
    out[:, mk.protocol] = maker_recovery
    return out


def held_dai_cover(c: Compiled, paid_ratio: np.ndarray, held: np.ndarray, maker_recovery: np.ndarray) -> np.ndarray:
    r"""What MKR holders' debt auctions will still pay for the DAI of a defaulted Maker held in the network, (S,):
    :math:`N\,(\rho - r)^+`, ``held`` :math:`N` (S, n) the network-held liabilities
    (:func:`~core.engine.token_holders.network_held_liabilities`), :math:`r` the clearing's paid ratio and
    :math:`\rho` = ``maker_recovery`` (:func:`clearing_recovery`: the recovery counting what the debt auctions
    will raise, :func:`~core.mechanisms.maker_backstop.flop_recovery`); 0 without a Maker system.

    Model. A clearing shortfall of Maker within MKR's backstop is MKR holders' loss still to come: the debt
    auctions raise it once the vaults' auctions book it in the Vow (``vow.flop``), and its DAI is then paid in
    full. Before Maker defaults the system loss counts it with the outside write-downs, at the clearing's ratio
    (no network-held DAI is set aside: :func:`~core.engine.token_holders.network_held_liabilities` is 0 for a
    solvent issuer). Once Maker defaults, the network holders' DAI is set aside as borne through DAI's price, at
    :math:`1 - r` of it, while DAI trades at :math:`\rho` (:func:`debt_auction_recovery`): its holders bear only
    :math:`1 - \rho`, and the rest, this cover, was counted nowhere. So a shortfall counted the same before and
    after the default declared on it lost $1.428bn at the default: on the shipped 2022 network (BTC -67.4%,
    ETH -79.8%, GBTC -85.0%, CRV_3POOL failed) Maker was short $1.428374bn of its $5.3bn of DAI, all of it held
    in the network, MKR's backstop 0.86 x 977,000 x $1,700 = $1.428374bn; defaulting in round 11 it counted $0 of
    it, not yet defaulted $1.428bn (``monotone-shipped-3pool-failed-maker-default-round-horizon``). Where the
    backstop failed or End has caged the system (a shutdown) :math:`\rho = r` and nothing is added.

    Example: $5.3bn of DAI held in the network, paid 0.7305 in the clearing, DAI at 0.9999 counting the debt
    auctions: MKR holders will pay 5.3e9 x 0.2694 = $1.428bn of it."""
    mk = c.maker
    if mk is None or not mk.m:
        return np.zeros(len(paid_ratio))
    j = mk.protocol
    return held[:, j] * np.maximum(maker_recovery - paid_ratio[:, j], 0.0)


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
    a failed Maker's debt auctions, :func:`debt_auction_recovery`) on the DAI it owes, the PSM's backing at prices
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
    rule (:mod:`core.engine.token_holders`, :func:`held_dai_cover`), which removes
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


def mkr_market_price(s: CascadeState) -> np.ndarray:
    """MKR's market price per scenario, (S,): the state's price (before the debt auctions still owed) with the
    deficit its holders owe priced in (:func:`~core.mechanisms.maker_backstop.pledged_price`)."""
    return maker_backstop.pledged_price(s.mkr_supply, s.mkr_price, s.maker_pledge, auction_discount=FLOP_DISCOUNT)


def flop_capacity(mk: MakerBook, queue: np.ndarray, b: ScenarioBatch, r: int, flopped: np.ndarray) -> np.ndarray:
    """DAI the debt auctions may raise in round ``r``, (S,): the deficit of the rounds whose sin ``vow.wait`` has
    released by the round's end, less what they raised so far
    (:func:`~core.mechanisms.maker_backstop.flop_ready`). Round ``q``'s era is its start, ``q`` round lengths in
    [model: a deficit's sin is dated by the start of the round it shows in; the contract dates it by its bark, which
    may come later in that round, or earlier for a Clipper auction that outlives a round (at most ``tail``)]."""
    seconds = (b.round_hours if b.round_hours is not None else np.full(b.S, 24.0)) * 3600.0
    eras = np.arange(queue.shape[1])[None] * seconds[:, None]
    return maker_backstop.flop_ready(queue, eras, (r + 1) * seconds, mk.wait, flopped)


def queued_deficit(deficit: np.ndarray, flop_raised: np.ndarray, deficit_before: np.ndarray) -> np.ndarray:
    """Deficit that first showed in a round, (S,): what the Vow's deficit after the round and the debt auctions'
    DAI add up to beyond the deficit it started with (``vow_round`` then ``flop``: while a deficit is left the
    debt auctions' DAI all went to it); none where the round leaves no deficit."""
    return np.where(deficit > 0, np.maximum(deficit + flop_raised - deficit_before, 0.0), 0.0)


def queue_room(queue: np.ndarray, r: int) -> np.ndarray:
    """``queue`` with a column for round ``r`` (a run longer than the batch's horizon adds columns)."""
    if r < queue.shape[1]:
        return queue
    return np.concatenate([queue, np.zeros((queue.shape[0], r + 1 - queue.shape[1]))], axis=1)
