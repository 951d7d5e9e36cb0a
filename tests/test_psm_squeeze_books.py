"""The CDP squeeze's PSM re-mint booked in the PSM's and Maker's books (issue 12; :func:`core.mechanisms.psm.sell_gem`,
:func:`core.engine.backing.backing_links`).

Above peg, arbitrageurs sell the backing coin into the PSM at par up to its autoline's room in the round and sell
the DAI to the holders the auctions left short (:func:`core.mechanisms.cdp_premium.remint`). dss-psm ``sellGem``
takes in ``gemAmt`` of USDC, frobs the PSM's urn by ``gemAmt`` of collateral and debt, hands out ``gemAmt (1 - tin)``
of DAI and moves the fee ``gemAmt tin`` to the Vow. Before, the re-mint was a price effect only: the PSM's USDC and
the DAI minted against it stayed where they were, and a later USDC depeg hit the reference reserve.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import core
from cascade_rounds import cascade_after
from core.engine import backing
from core.engine.backing import backed_liabilities
from core.engine.batch import build_batch
from core.engine.compiled import compile_network
from core.engine.rounds import STEPS, run_round
from core.engine.state import initial_state
from core.mechanisms._checks import trusted
from core.mechanisms.psm import psm_arbitrage, psm_backed_value, sell_gem

PRESET = core.datasets.scenario_dir() / "black_thursday_eth_crash.json"
TIN = 0.001  # a worked tin: PSM-USDC-A's before the 2021-11-05 spell (the 2022 network's row held it until session 41)
ROOM_GEM = 950e6 * 2 / 24  # its autoline's gap in a two-hour round, USDC (core.mechanisms.psm.autoline_ceiling)


def test_sell_gem_worked_numbers():
    """A PSM holding X = 3.2bn USDC of an 8.5bn DAI supply re-mints Y = 79,087,500 DAI at tin 0.1% (its room in a
    two-hour round): G = Y / (1 - tin) = 79,166,666.67 USDC in, the reserve X + G, the supply + G (DAI minted: the
    urn's debt), Y to the sellers and G tin = 79,166.67 DAI to the Vow. The fee falls on the seller's side: the PSM
    takes a whole USDC for each DAI of debt. With tin 0 the sellers get every DAI minted."""
    none = psm_arbitrage(1.0, 1.0, 3.2e9, 8.5e9, 1e8, tin=TIN)  # DAI at par: the arbitrage swaps nothing
    assert float(none.minted) == 0.0 and float(none.redeemed) == 0.0
    y = ROOM_GEM * (1 - TIN)
    r = sell_gem(none, y, TIN)
    gem = y / (1 - TIN)
    assert gem == pytest.approx(79_166_666.67, abs=0.01)
    assert float(r.psm_balance) == 3.2e9 + gem and float(r.dai_supply) == 8.5e9 + gem
    assert float(r.minted) == y == pytest.approx(79_087_500.0, rel=1e-15)
    assert gem - y == pytest.approx(79_166.67, abs=0.01)  # the Vow's fee
    assert float(r.psm_share) == pytest.approx((3.2e9 + gem) / (8.5e9 + gem), rel=1e-15)
    assert float(r.price) == 1.0
    r0 = sell_gem(none, 5e6, 0.0)
    assert float(r0.psm_balance) == 3.2e9 + 5e6 and float(r0.minted) == 5e6


@settings(max_examples=200, deadline=None)
@given(p0=st.floats(1.0, 1.2), balance=st.floats(0.0, 1e10), supply=st.floats(1e6, 2e10), depth=st.floats(1e6, 1e10),
       tin=st.floats(0.0, 0.05))
def test_sell_gem_books_a_mint_as_the_arbitrage_does(p0, balance, supply, depth, tin):
    """The PSM's arbitrage inflow and sell_gem of the same DAI handed out leave the same books: one USDC in and one
    DAI of debt per unit, the fee the difference; nothing is created (balance and supply move together) and the share
    stays within [0, 1]."""
    arb = psm_arbitrage(p0, 1.0, balance, supply, depth, tin=tin)
    idle = psm_arbitrage(1.0, 1.0, balance, supply, depth, tin=tin)
    booked = sell_gem(idle, arb.minted, tin)
    assert float(booked.psm_balance) == pytest.approx(float(arb.psm_balance), rel=1e-12, abs=1e-3)
    assert float(booked.dai_supply) == pytest.approx(float(arb.dai_supply), rel=1e-12, abs=1e-3)
    moved = float(booked.psm_balance) - balance
    assert float(booked.dai_supply) - supply == pytest.approx(moved, rel=1e-9, abs=1e-3)
    assert moved >= float(booked.minted) - 1e-6 * max(moved, 1.0)  # the fee, G tin, never negative
    assert 0.0 <= float(booked.psm_share) <= 1.0


def _backing_step_books():
    """The 2022 network's Black-Thursday-crash preset (two-hour rounds), the backing step of each round read around:
    per round the PSM's balance and supply moves, MAKER_PSM's USDC and liabilities, MAKER's DAI, fee income and the
    outside fees (borrowers_penalty), and the network's holdings' worth less its pass-through liabilities."""
    net = core.datasets.load("crypto-2022-05")
    sc = core.load_scenario(PRESET)
    c = compile_network(net)
    b = build_batch(c, [sc], net, True)
    s = initial_state(c, b)
    ids, syms = list(c.ids), list(c.symbols)
    maker, psm_entity, usdc, dai = ids.index("MAKER"), ids.index("MAKER_PSM"), syms.index("USDC"), syms.index("DAI")
    rows = []
    with trusted():
        for r in range(b.horizon):
            for step in STEPS:
                if step is backing.backing_links:
                    before = (s.psm_balance.copy(), s.psm_supply.copy(), s.H.copy(), s.fee_income.copy(),
                              s.borrowers_penalty.copy())
                changes = step(c, s, b, r)
                if changes:
                    s.apply(changes)
                if step is backing.backing_links:
                    bal0, sup0, H0, fee0, paid0 = before
                    P = s.P
                    owed0, owed1 = backed_liabilities(c, P, bal0), backed_liabilities(c, P, s.psm_balance)
                    rows.append(dict(
                        balance=float((s.psm_balance - bal0)[0, 0]), supply=float((s.psm_supply - sup0)[0, 0]),
                        psm_usdc=float(s.H[0, psm_entity, usdc] - H0[0, psm_entity, usdc]),
                        psm_owed=float(owed1[0, psm_entity] - owed0[0, psm_entity]),
                        maker_dai=float(s.H[0, maker, dai] - H0[0, maker, dai]),
                        fee=float(s.fee_income[0, maker] - fee0[0, maker]), paid=float(s.borrowers_penalty[0] - paid0[0]),
                        # what the step added to the network's books at the step's prices, the books' par prices for
                        # DAI (core.engine.books.booked_prices: the premium is no holder's gain), less what it owes
                        net=float(((s.H[0] - H0[0]) * np.where(np.arange(len(syms)) == dai, 1.0, P[0])).sum()
                                  - (owed1[0] - owed0[0]).sum()),
                        usdc=float(P[0, usdc]), dai=float(P[0, dai])))
    return rows, s, c


@pytest.fixture(scope="module")
def preset_books():
    return _backing_step_books()


def test_the_squeeze_re_mint_is_booked_in_the_psm_and_makers_books(preset_books):
    """Each round of the preset (USDC at par throughout), the USDC the squeeze's re-mint sells into the PSM is in
    MAKER_PSM's holdings and, one DAI per USDC, in its liabilities (its equity unchanged) and in DAI's supply; the
    fee, tin per USDC, is DAI in MAKER's Vow and MAKER's fee income, paid by the arbitrageurs outside (counted with
    the outside fees, borrowers_penalty): the step creates no value in the network beyond that fee. From round 10
    the burnt DAI outruns the room: 79,166,666.67 USDC a round, the autoline's 950M x 2/24 (measured: rounds 10-26;
    9-26 before session 40 (anchor), below).
    Before, none of this moved: 1.503bn of DAI re-minted over the run stayed out of every book."""
    rows, s, c = preset_books
    # the network's own tin: 0 since session 41 (data) (the 2021-11-05 spell to the 2023-03-11 one), so the sellers get
    # every DAI minted and the Vow's fee is 0 each round (it was 0.001 per USDC: sell_gem's worked numbers keep it)
    tin = float(core.datasets.load("crypto-2022-05").pegs.set_index("asset").loc["DAI", "psm_tin"])
    assert tin == 0.0
    for r, row in enumerate(rows):
        assert row["usdc"] == 1.0
        assert row["balance"] >= 0.0, r  # the squeeze only mints; the preset redeems nothing
        assert row["psm_usdc"] == pytest.approx(row["balance"], rel=1e-12, abs=1e-6), r
        assert row["supply"] == pytest.approx(row["balance"], rel=1e-12, abs=1e-6), r
        assert row["psm_owed"] == pytest.approx(row["balance"], rel=1e-12, abs=1e-6), r
        fee = row["balance"] * tin
        assert row["maker_dai"] == pytest.approx(fee, rel=1e-9, abs=1e-6), r
        assert row["fee"] == pytest.approx(fee, rel=1e-9, abs=1e-6), r
        assert row["paid"] == pytest.approx(fee, rel=1e-9, abs=1e-6), r
        assert row["net"] == pytest.approx(row["paid"], rel=1e-6, abs=1e-3), r  # value in = value out, per step
    full = [r for r, row in enumerate(rows) if row["balance"] == pytest.approx(ROOM_GEM, rel=1e-12)]
    # session 40 (anchor: Anchor's queue repays the contract's amount, each position below HF 1 at its own HF): the
    # bETH liquidations move ($9.80M -> $12.48M in round 5, $32.20M -> $38.34M in 7, $17.20M -> $5.57M in 8), ETH closes
    # round 7 at 2014.29 -> 2014.65 and MAKER's vaults are liquidated $81.92M -> $79.32M in round 9: fewer DAI burnt
    # that round, within the room, so the re-mint fills it from round 10 (was 9)
    assert full == list(range(10, 27))
    total = sum(row["balance"] for row in rows)
    # 1.5016bn since session 41 (data), was 1.503bn: DAI's tin 0 (was 0.001), so a round the re-mint does not fill
    # takes G = Y USDC for the Y DAI the auctions burnt, not Y / (1 - tin); the full rounds 10-26 take the room as
    # before (on a copy of the data with tin 0.001 the 1.503bn and the 4.54M below hold)
    assert total / 1e9 == pytest.approx(1.5016, abs=1e-4)
    assert float(s.psm_balance[0, 0] - c.pegs.psm_balance0[0]) == pytest.approx(total, rel=1e-12)
    # the DAI re-minted is back in the holders' market: DAI ends at par; vault owners re-minted 4.61M at the premium
    # (4.64M before session 30 (s30-anchor) seized Anchor's collateral at its liquidation queue's price); 4.48M since
    # session 31 (s31-poolidx: a claim held on a pool valued at the pool's index of the same round,
    # core.engine.held_claims), was 4.6056M: 3AC's 400M on CRV_STETH carries the pool's fall a round sooner (3AC's
    # equity $20.6M lower at round 7, below zero at round 8, -$8.76M, not round 9), its creditors VOYAGER, BLOCKFI,
    # BCOM, EFH and DERIBIT default in round 10, not 11, and in round 11 $30.6M less ETH is sold and MAKER's vaults
    # are liquidated $7.4M less: fewer DAI burnt, DAI's premium 3.576e-5 -> 3.354e-5, the re-mint 0.3058M -> 0.2873M
    # that round and less in each round after (4.4772M over the run); 4.45M since session 34 (anchorfee: Anchor's
    # queue keeps its 1% liquidator fee beside the bid fee), 4.4506M (was 4.4772M; the path not traced)
    assert rows[-1]["dai"] == 1.0
    # 4.54M since session 40 (anchor, the round-9 shift above: the vault owners re-mint more at the premium in the
    # rounds the squeeze does not fill; was 4.45M)
    # 4.51M since session 41 (data), was 4.54M: DAI's tin 0 (above); the path not traced further
    assert float(s.peg_reminted[0, 0]) / 1e6 == pytest.approx(4.51, abs=0.01)


def test_a_later_usdc_depeg_hits_the_larger_reserve():
    """The preset with USDC 10% off peg from round 28, after the squeeze's re-mint: the PSM holds the 1.503bn of USDC
    sold into it on top of its 3.2bn, all of it falls with USDC (its liabilities at USDC's price: its equity stays
    0, the DAI holders carry the fall), and DAI's backing is the larger share of a cheaper USDC: 0.95297 at round
    28 (0.96234 with the reference reserve, measured on the tree before this change, whose PSM held 3.202bn)."""
    net = core.datasets.load("crypto-2022-05")
    sc0 = core.load_scenario(PRESET)
    paths = dict(sc0.price_paths)
    paths["USDC"] = [0.0] * 28 + [-0.1]
    sc = sc0.model_copy(update=dict(price_paths=paths, horizon=32))
    cascade = cascade_after(net, sc, 29)
    c, s = cascade.c, cascade.s
    psm_entity, usdc = cascade.entity("MAKER_PSM"), cascade.asset("USDC")
    assert float(s.P[0, usdc]) == pytest.approx(0.9, rel=1e-12)
    held = float(s.H[0, psm_entity, usdc])
    # 4.7033bn since session 41 (data), was 4.705bn: the re-mint's 1.5016bn at DAI's tin 0, not 1.503bn at 0.001
    # (test_the_squeeze_re_mint_is_booked_in_the_psm_and_makers_books); the value 0.95298, was 0.95297
    assert held / 1e9 == pytest.approx(4.7033, abs=1e-4)
    owed = float(backed_liabilities(c, s.P, s.psm_balance)[0, psm_entity])
    assert owed == pytest.approx(held * 0.9, rel=1e-9)
    share = float(s.psm_balance[0, 0] / s.psm_supply[0, 0])
    assert share == pytest.approx(4.7033 / 10.0033, abs=1e-4)
    assert float(s.psm_value[0, 0]) == pytest.approx(float(psm_backed_value(share, 0.9, 1.0)), rel=1e-9)
    assert float(s.psm_value[0, 0]) == pytest.approx(0.95298, abs=1e-5)


def test_a_squeeze_against_a_cheap_usdc_dilutes_dai():
    """The fingerprint's mixed row 11 (2022: USDC -31.1%, ETH -42.2%, BTC -81.6%, runs 0.70, lag 2, liquidity 0.32,
    daily rounds): Maker's auctions burn 1.11bn of DAI in round 2, when Maker's 60-hour halt leaves sellGem open
    half the round; the squeeze's re-mint sells 469.1M of USDC at 0.6895 into the PSM beside the arbitrage's 11.8M.
    DAI, halted from round 3 at its backed value, ends at that value with the PSM's larger share: 0.8715 (0.8815
    before, when the re-mint was a price effect and the PSM held 3.260bn), and the loss is $91.0M higher: DAI's
    holders carry the cheap USDC the squeeze sold in."""
    net = core.datasets.load("crypto-2022-05")
    sc = core.Scenario(price_shocks={"USDC": -0.31117308638007557, "ETH": -0.4220173470802362,
                                     "BTC": -0.8155209050060046},
                       run_intensity=0.6973610887362978, oracle_lag=2, liquidity=0.3202526581169974)
    c = compile_network(net)
    b = build_batch(c, [sc], net)
    s = initial_state(c, b)
    dai, usdc = list(c.symbols).index("DAI"), list(c.symbols).index("USDC")
    balances = []
    for r in range(b.horizon):
        run_round(c, s, b, r)
        balances.append(float(s.psm_balance[0, 0]))
    # 480.93M since session 41 (data), was 480.91M: DAI's tin 0 (was 0.001; on a copy with 0.001 the 480.91M holds)
    assert (balances[2] - balances[1]) / 1e6 == pytest.approx(480.93, abs=0.01)  # 469.1M re-minted + 11.8M arbitrage
    assert balances[-1] == balances[2]  # halted from round 3: nothing more taken in
    share = float(s.psm_balance[0, 0] / s.psm_supply[0, 0])
    assert share == pytest.approx(0.413, abs=1e-3)
    pb = float(s.P[0, usdc])
    assert float(s.P[0, dai]) == pytest.approx(float(psm_backed_value(share, pb, 1.0)), rel=1e-9)
    assert float(s.P[0, dai]) == pytest.approx(0.8715, abs=1e-4)
