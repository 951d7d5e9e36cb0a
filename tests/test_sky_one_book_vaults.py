"""A live Sky's vaults under water (2025 network): their shortfall is Sky's, borne by its one book, not one coin's.

Model (:func:`core.engine.backing.backing_links`). A PSM coin is a claim on the PSM's backing for the PSM's share
``s`` of its supply and on the vaults for the rest, ``V = s p_b + (1 - s) min(1, B)``, ``B`` the vaults' cover of
their debt (``end.skim``'s ``min(ink, owe)``). SKY holds its LitePSM's USDC itself and owes DAI and USDS as one book
(``DaiUsds`` converts them 1:1, sky-ecosystem/usds ``DaiUsds.sol``); its vault loans are its assets, so the clearing
marks their shortfall in its equity, and what it owes beyond all it holds is its deficit, which reaches both coins
through its paid ratio: decision 18's ``deficit_priced`` while live, ``end.cash``'s blend ``rho L_t / D`` once caged
(:func:`core.engine.maker_co_issued._blend`). So the vault side of such an issuer's coins is at par (``B = 1``).

Before (session 44, skyedge), the DAI row, to which the data assigns all 18 of Sky's vault cohorts (USDS's row none),
also took ``B`` < 1 over DAI's non-PSM share: the vaults' shortfall was counted twice (in SKY's equity and in DAI's
holders' marks), spread over DAI's $2.9bn non-PSM face instead of the $1.5bn of vault debt, and DAI traded below
USDS and below what a cage pays. The closing search's `s43-lead-2025-wbtc-88-wbeth-37-one-ulp-...` entry (-$330.34M)
was that gap: DAI 0.87447 live at the shallower (SKY defaulted in round 11, caged after the horizon) against 0.92593
at the deeper (caged at round 11's opening), on the network's 6,311M DAI held.
"""

from __future__ import annotations

import numpy as np
import pytest

import core
from core import Scenario
from core.engine.backing import securing_collateral
from core.engine.batch import build_batch
from core.engine.compiled import compile_network
from core.engine.maker_claim import vaults_cover
from core.engine.rounds import STEPS
from core.engine.state import initial_state
from core.mechanisms._checks import trusted


def test_a_live_sky_s_vault_shortfall_is_its_book_s_not_dai_s():
    """WBTC -88%, USDC 17% off peg, oracle lag 2 (the vaults' liquidations wait for the oracle), two daily rounds.

    After round 1 Sky's vaults owe $1,500.000M and their collateral covers $1,371.613M of it (B = 0.914409): $128.387M
    short. The LitePSM's sellGem is halted (``psm_halt_hours`` 12), so each coin trades at its backed value with its
    PSM share frozen, ``s p_b + (1 - s)``, USDC at 0.83: DAI's share 0.4281982 -> 1 - 0.17 x 0.4281982 = 0.9272063,
    USDS's 0.4277571 -> 0.9272813 (the two shares differ by each row's own round-0 mint). Before the fix DAI took
    B over its non-PSM share: 0.4272704 x 0.83 + 0.5727296 x 0.914409 = 0.8783433, 0.0489 below USDS, while SKY's
    equity bore the same shortfall ($150M at reference, $5.50M after round 1; now $10.33M: part of its book moves
    with DAI's price)."""
    net = core.datasets.load("crypto-2025-10")
    c = compile_network(net)
    sc = Scenario(price_shocks={"WBTC": -0.88}, depegs={"USDC": 0.17}, oracle_lag=2, horizon=2)
    b = build_batch(c, [sc], net, True)
    s = initial_state(c, b)
    with trusted():
        for r in range(2):
            for step in STEPS:
                changes = step(c, s, b, r)
                if changes:
                    s.apply(changes)
    g, sky = c.pegs, c.maker.protocol
    syms = list(c.symbols)
    dai, usds = syms.index("DAI"), syms.index("USDS")
    assert [syms[a] for a in g.psm_asset] == ["DAI", "USDS"]
    # the vaults are under water, and SKY is live and bears it in its equity
    coll = securing_collateral(c, s) * np.take(s.P, c.c_ca, axis=1)
    debt = s.debt * c.peg1[c.c_da][None]
    vaults = g.psm_cohorts.any(0)
    cover = vaults_cover(c, s, coll, debt, np.flatnonzero(vaults))[0, vaults].sum()
    assert debt[0, vaults].sum() == pytest.approx(1_500e6)
    assert cover == pytest.approx(1_371.613e6, abs=1e3)
    assert not s.defaulted[0, sky]
    assert s.equity[0, sky] < 150e6 - (1_500e6 - cover)
    # each coin at its backed value with the vault side at par: the PSM's share of the USDC fall alone
    share = s.psm_balance[0] / s.psm_supply[0]
    usdc = s.P[0, syms.index("USDC")]
    assert usdc == pytest.approx(0.83, rel=1e-12)
    assert share == pytest.approx([0.4281982, 0.4277571], abs=1e-7)
    assert s.P[0, dai] == pytest.approx(share[0] * usdc + 1.0 - share[0], rel=1e-12)
    assert s.P[0, usds] == pytest.approx(share[1] * usdc + 1.0 - share[1], rel=1e-12)
    assert s.P[0, [dai, usds]] == pytest.approx([0.9272063, 0.9272813], abs=1e-7)
    # DAI and USDS, which DaiUsds converts 1:1, apart by their shares' difference alone (was 0.0489)
    assert abs(s.P[0, dai] - s.P[0, usds]) <= (1.0 - usdc) * abs(share[0] - share[1]) * (1 + 1e-9)
