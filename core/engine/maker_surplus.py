"""The Vow's surplus side in the engine: how much of the buffer beyond ``hump`` the surplus auctions take in a
round (the 2022 flapper's ``lid``; from 2024 the Splitter's ``hop``, one lot of ``bump`` per hop) and when there
is none (a defaulted or failed system).

The mechanism is :func:`core.mechanisms.maker_flap.flap_auction`; the step that calls it is
:func:`core.engine.maker.vault_auctions`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .maker_book import MakerBook
    from .state import CascadeState

#: Life of a surplus auction (s): the flapper's ``lid`` holds this long [estimate: flap ``ttl`` 30 minutes to
#: one hour, the bid life, MakerDAO forum t/6006 (Jan 2021); bids come in the first minutes].
FLAP_SECONDS = 3600.0


def flap_capacity(mk: MakerBook, seconds: np.ndarray, r: int = 0) -> np.ndarray:
    r"""DAI the surplus auctions may take out of the Vow in round ``r`` of ``seconds``, (S,): the flapper's ``lid``
    over the auctions' life (:data:`FLAP_SECONDS`, at least one life a round) and, where a Splitter calls
    ``vow.flap``, one lot of ``bump`` per ``hop`` (``Splitter.kick``: ``require(block.timestamp >= zzz + hop)``):
    the lots whose kick times :math:`j\,\text{hop}` fall in the round,
    :math:`\text{bump}\,(\lfloor (r+1)t/\text{hop} \rfloor - \lfloor r t/\text{hop} \rfloor)` [model: a kick at
    each multiple of ``hop`` from the run's start; the contract's ``zzz`` is the last kick, of unknown phase].

    Sky on 1 October 2025: bump 10,000 USDS every 2,160 s, 400,000 USDS a day (40 lots) whatever the buffer above
    its ``hump`` of 1M; hourly rounds take 1, 2, 2, 1, 2, ... lots, 5 in 3 hours
    (sky-ecosystem/spells-mainnet ``archive/2025-09-18-DssSpell/test/config.sol``).

    >>> from types import SimpleNamespace
    >>> sky = SimpleNamespace(lid=np.inf, bump=10_000.0, hop=2_160.0)
    >>> [float(flap_capacity(sky, np.array([3600.0]), r)[0]) for r in range(4)]
    [10000.0, 20000.0, 20000.0, 10000.0]
    >>> float(flap_capacity(sky, np.array([86400.0]), 5)[0])
    400000.0
    >>> float(flap_capacity(SimpleNamespace(lid=150_000.0, bump=30_000.0, hop=np.inf), np.array([7200.0]))[0])
    300000.0
    """
    lid = mk.lid * np.maximum(seconds / FLAP_SECONDS, 1.0)
    if not np.isfinite(mk.hop):
        return lid
    kicks = np.floor((r + 1) * seconds / mk.hop + 1e-9) - np.floor(r * seconds / mk.hop + 1e-9)
    return np.minimum(lid, mk.bump * kicks)


def flap_room(mk: MakerBook, s: CascadeState, capacity: np.ndarray) -> np.ndarray:
    r"""``capacity`` (S,) held to what the protocol's own books can pay out: its equity at the last clearing beyond
    ``hump``, :math:`\min(\text{capacity}, \max(E - \text{hump}, 0))` (uncapped before the first clearing, where
    the equity is the reference one, the buffer).

    ``vow.flap`` sees only the Vow: its DAI against the sin queued there and the live auctions' tab (both in
    :func:`~core.mechanisms.maker_flap.flap_auction`). A loss the protocol's books carry before it reaches the
    Vow as ``sin`` (vaults under water not yet barked, the part of a live auction's tab its lot will not raise,
    a claim on a failed debtor) is not there yet; it will be, and the buffer is what meets it. Paying that
    buffer out to MKR holders meanwhile walks the protocol into default at the Splitter's pace: on
    crypto-2025-10 a $32.7M loss at round 1 left Sky's equity at $116.9M under its $149.2M buffer, and 400,000
    a day took it below zero at round 292 of a 365-round run (``monotone-2025-jitosol-cbeth-cbbtc-flap-default``).
    Governance stops the buybacks when the buffer is needed (the Splitter's ``hop``/``burn`` are
    governance parameters, and Maker's buffer exists to absorb bad debt before MKR holders are paid:
    MakerDAO docs, "System Surplus"): in reduced form, the protocol pays out no surplus its equity does not
    show beyond ``hump`` [model]."""
    if s.equity is None:
        return capacity
    return np.minimum(capacity, np.maximum(s.equity[:, mk.protocol] - mk.hump, 0.0))


def flap_hump(mk: MakerBook, s: CascadeState) -> np.ndarray:
    """The Vow's ``hump`` per scenario, (S,): none (inf) once the protocol has defaulted or its backstop failed,
    as ``vow.cage`` (emergency shutdown) cages the flapper."""
    return np.where(s.defaulted[:, mk.protocol] | s.maker_failed, np.inf, mk.hump)
