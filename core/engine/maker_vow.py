"""The Vow's side of Maker in the engine: whether the debt auctions still cover a shortfall, the deficit that
waits ``vow.wait`` for them, and the surplus auctions' ``hump``. What ``end.cash`` and a PSM pay the holders of a
coin with two issuers (DAI: Maker's vaults and its PSM) is :mod:`core.engine.maker_co_issued`.

The mechanisms are in :mod:`core.mechanisms.maker_backstop` (``vow.sol``, ``flop.sol``, ``flap.sol``); the step
that calls these is :func:`core.engine.maker.vault_auctions`, and the clearing asks :func:`backstop_covers`
before it lets the Maker system default (:func:`core.engine.clear.mark_and_clear`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..mechanisms import maker_backstop
from .maker_book import MakerBook
from .maker_claim import FLOP_DISCOUNT
from .maker_surplus import FLAP_SECONDS, flap_capacity, flap_hump  # noqa: F401  (the Vow's surplus side, re-exported)

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
    after the default declared on it lost MKR's whole backstop at the default: on the shipped 2022 network (BTC
    -67.4%, ETH -79.8%, GBTC -85.0%, CRV_3POOL failed) Maker was short its backstop of its $5.3bn of DAI, all of it
    held in the network, then 0.86 x 977,000 x $1,700 = $1.428374bn (MKR's price before session 37; at its dated
    close of 6 May 2022, 0.86 x 977,000 x $1,338.70 = $1.124803bn); defaulting in round 11 it counted $0 of it, not
    yet defaulted all of it (``monotone-shipped-3pool-failed-maker-default-round-horizon``). Where the backstop
    failed or End has caged the system (a shutdown) :math:`\rho = r` and nothing is added.

    Example: $5.3bn of DAI held in the network, paid 0.7878 in the clearing (short about that $1.1248bn), DAI at
    1.0 counting the debt auctions: MKR holders will pay 5.3e9 x 0.2122 = $1.12466bn of it."""
    mk = c.maker
    if mk is None or not mk.m:
        return np.zeros(len(paid_ratio))
    j = mk.protocol
    return held[:, j] * np.maximum(maker_recovery - paid_ratio[:, j], 0.0)


def mkr_market_price(s: CascadeState) -> np.ndarray:
    """MKR's market price per scenario, (S,): the state's price (before the debt auctions still owed) with the
    deficit its holders owe priced in (:func:`~core.mechanisms.maker_backstop.pledged_price`); 0 once End has caged
    the system (``s.maker_cage_round >= 0``, :func:`core.engine.maker_end.caged`).

    A caged Maker pays MKR's holders nothing: ``end.cage`` cages the Vow (``vow.cage``: the flapper and flopper
    shut, the surplus healed against the sin), ``thaw`` fixes the DAI the collateral is shared over, and ``cash``
    pays DAI's holders; no step of makerdao/dss ``end.sol`` or ``vow.sol`` pays MKR, and the governance token of a
    shut-down system has no debt auction left to dilute nor surplus to buy it back. Without this rule the caged
    run's price went back to the state's pre-pledge price once ``vow.cage`` released the pledge (a 2022 pair at
    ETH -76.56 %: $182.98 in round 0, $1,338.70 from the cage in round 1 on)."""
    price = maker_backstop.pledged_price(s.mkr_supply, s.mkr_price, s.maker_pledge, auction_discount=FLOP_DISCOUNT)
    return np.where(s.maker_cage_round >= 0, 0.0, price)


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
