"""A Maker the cascade puts in default past its backstop is shut down: End cages it at the next round's opening,
exactly as a forced default is caged (``core.engine.maker_end``; the lead's decision 1 in ``docs/invariants.md``:
past the MKR backstop anyone burning the ESM's ``min`` fires ``end.cage``, so the shutdown is the default).

Source: dss ``src/end.sol`` (``cage``: no bark, no flop; ``cage(ilk)``: ``tag = par / pip.read()``; ``snip``: a live
auction's lot and tab back on the urn; ``skim``: ``wad = min(ink, art * rate * tag)``, ``gap += owe - wad``) and
``src/vow.sol`` (``cage``: ``Sin = 0``, ``Ash = 0``, the flopper caged: MKR holders owe nothing).

Worked numbers, crypto-2022-05 (Maker owes $5.3bn of DAI, 31 ETH and WBTC cohorts, $3.823bn of vault debt, each
cohort's vaults spread +-5% about its ratio, MKR 977,000 at $1,338.70, its dated close of 6 May 2022 (session 37;
the figures at the rows' former ~$1,700 are kept beside each pin), ``vow.wait`` set):

* ``A``: ETH -85%, BTC -70%, liquidity 0.3, liquidators' capital $50M. Maker's round-0 clearing pays 0.65796 of
  its $5.3bn (0.66877 before session 31's same-round pool index took its AAVE_ETH deposit's round-0 fall), beyond
  MKR's backstop: in default at round 0, caged at round 1's opening, where End books a gap of
  $1,816.87M (the vaults' debt their collateral does not cover at the tag) and DAI trades, from round 1, at the
  blend of the shut system's paid ratio on the vaults' DAI and the PSM's USDC on its DAI (round 1: 0.78088, the
  paid ratio 0.64849 of a clearing of the caged books at the cage's opening; 0.79352 before session 31, at round
  0's paid ratio).
  Before (no cage): DAI 0.94197 at the end, loss $35.53869bn, bad debt $4,888.31M; now DAI 0.77972, loss
  $35.49792bn, bad debt $4,754.42M (the cage's gap instead of 11 rounds of auctions into a falling market).
* ``B``: ETH -77.82%, LUNA -77.78%, WBTC 15.53% under BTC (the falls found at MKR's former price, -81.06%, -81.02%,
  16.18%, scaled by 0.96 to sit on the edge again at MKR's dated close), liquidity 1.19, capital $500M: MKR holders
  have pledged $1,107.53M for the deficit waiting ``vow.wait`` by round 1 ($1,388.1M at the old falls and price),
  when the clearing finds Maker short beyond what is left of MKR's backstop: in default at round 1, caged at round
  2's opening (the pledge released).
* ``L``: ETH -40%: Maker stays live; its row is the engine's without the cage to the bit.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import core
from core.engine import compile_network, simulate_batch
from core.engine import clear as clear_step
from core.engine import maker_end
from core.engine.batch import build_batch
from core.engine.clear import clear_books
from core.engine.maker_ask import keeper_ask
from core.engine.outcome import PER_SCENARIO
from core.engine.rounds import STEPS
from core.engine.state import initial_state
from core.mechanisms.cohort_spread import covered_debt
from core.scenario import Scenario

A = Scenario(price_shocks={"ETH": -0.85, "BTC": -0.7}, liquidity=0.3, liquidator_capacity_usd=5e7)
#: B's falls as found at MKR's former ~$1,700, scaled by 0.96 (session 37): at MKR's dated close of 6 May 2022,
#: $1,338.70, MKR's smaller cap ($1,307.91M against $1,660.90M) put MAKER in default at round 0 at the old falls
#: (the cage's rounds [0, -1, -1] -> [0, 0, -1]); with all three falls scaled by one factor MAKER defaults at round 1
#: for factors 0.9556-0.9623 (round 0 above, rounds 2-6 and never below), and 0.96 sits inside that band.
B_FOUND = {"ETH": -0.8106438032740194, "LUNA": -0.8101601291264254, "WBTC": -0.16180801738463857}
B = Scenario(price_shocks={a: v * 0.96 for a, v in B_FOUND.items()}, liquidity=1.187787597769597,
             liquidator_capacity_usd=5e8)
L = Scenario(price_shocks={"ETH": -0.4})
F = Scenario(price_shocks={"ETH": -0.5}, forced_defaults=["MAKER"])


@pytest.fixture(scope="module")
def net():
    network = core.datasets.load("crypto-2022-05")
    return network, compile_network(network)


def _rounds(net, scenarios, horizon=6):
    """Run the batch step by step; per round, the state just before its exogenous step (``opening``), just after it
    (``caged``) and at its close, and the Maker keepers' ask after the round's opening."""
    network, c = net
    b = build_batch(c, scenarios, network)
    s = initial_state(c, b)
    out = []
    for r in range(horizon):
        rec = {}
        for step in STEPS:
            if step.__name__ == "exogenous":
                rec["opening"] = dataclasses.replace(s, coll=s.coll.copy(), debt=s.debt.copy(), maker_free=s.maker_free.copy(),
                                                     maker_lot=s.maker_lot.copy(), bad=s.bad.copy(), H=s.H.copy(),
                                                     P=s.P.copy(), price_history=list(s.price_history))
            changes = step(c, s, b, r)
            if changes:
                s.apply(changes)
            if step.__name__ == "exogenous":
                rec["caged"] = dict(debt=s.debt.copy(), coll=s.coll.copy(), bad=s.bad.copy(), H=s.H.copy(),
                                    cage_round=s.maker_cage_round.copy(), pledge=s.maker_pledge.copy(),
                                    recovery=s.maker_recovery.copy(), tab=s.maker_tab.copy())
                rec["ask"] = keeper_ask(c, s, b)
                rec["caged_state"] = dataclasses.replace(s, H=s.H.copy(), oa=s.oa.copy(), coll=s.coll.copy(),
                                                         debt=s.debt.copy(), bad=s.bad.copy(), P=s.P.copy())
            if step.__name__ == "vault_auctions":
                rec["sold"] = (np.zeros(b.S) if s.liq_by_proto is None else s.liq_by_proto[:, c.maker.protocol].copy())
                rec["tab"] = s.maker_tab.sum((1, 2)).copy()
        rec.update(default_round=s.default_round[:, c.maker.protocol].copy(), cage_round=s.maker_cage_round.copy(),
                   recovery=s.maker_recovery.copy(), paid=s.clearing.paid_ratio[:, c.maker.protocol].copy(),
                   P=s.P.copy(), psm=s.psm_balance.copy(), flop=s.maker_flop_raised.copy(), minted=s.mkr_minted.copy(),
                   pledge=s.maker_pledge.copy())
        out.append(rec)
    return c, out


@pytest.fixture(scope="module")
def run(net):
    return _rounds(net, [A, B, L])


def test_the_cage_comes_the_round_after_the_default(run, net):
    c, rounds = run
    assert rounds[0]["default_round"].tolist() == [0, -1, -1]
    assert rounds[1]["default_round"].tolist() == [0, 1, -1]
    assert [r_["cage_round"].tolist() for r_ in rounds] == [[-1, -1, -1], [1, -1, -1]] + [[1, 2, -1]] * 4
    # the default's own round still counts the debt auctions (A: 0.87019 against the clearing's 0.65796; 0.92746 at
    # MKR's former ~$1,700: the debt auctions reach 0.86 x $1,307.91M of MKR's cap at its dated close, not $1,660.90M).
    # Session 31 (s31-poolidx): Maker's $200M deposit at AAVE_ETH is valued at AAVE_ETH's index of the same round,
    # 0.713480 at round 0's close (before, the last round's, 1.0): $57.30M less in round 0's clearing, so the paid
    # ratio 0.66877 -> 0.65796 and the recovery counting the debt auctions 0.93828 -> 0.92746 (both -0.010812)
    assert rounds[0]["recovery"][0] == pytest.approx(0.87019, abs=1e-5)
    assert rounds[0]["paid"][0] == pytest.approx(0.65796, abs=1e-5)
    # the cage's opening prices DAI at the shut system's recovery: the paid ratio of a clearing of the caged books
    # at that opening (session 31, s31-cage; before, the last clearing's, which for B still held MKR holders' pledge
    # that the cage released: 0.98880 against 0.72684). A's cage round closes lower than its opening (0.64794 against
    # 0.64849, $2.93M): AAVE_ETH's round-1 fall (index 0.713480 -> 0.690899) reaches Maker's deposit in the round
    # itself since s31-poolidx; before, a round later, and the close equalled the opening
    network, c_ = net
    for row, cage in ((0, 1), (1, 2)):
        opening = rounds[cage]["caged_state"]
        b = build_batch(c_, [A, B, L], network)
        assert rounds[cage]["caged"]["recovery"][row] == clear_books(c_, opening, b, opening.P)[1].paid_ratio[row, c_.maker.protocol]
    assert rounds[1]["caged"]["recovery"][0] == pytest.approx(0.64849, abs=1e-5)
    assert rounds[1]["paid"][0] == pytest.approx(0.64794, abs=1e-5)
    # session 33 (anchor): ANCHOR's UST debt weighed at $1 (debt_oracle fixed_usd) moves B's recovery 0.72684 -> 0.72644;
    # session 34 (anchorfee, the queue's 1% liquidator fee): 0.72644 -> 0.72642, and round 1's 0.98845 -> 0.98844
    # session 37 (MKR's dated close, B's falls scaled by 0.96 to sit on the edge again): 0.72642 -> 0.78215, and
    # round 1's 0.98844 -> 0.99116 (the shallower falls leave the vaults' collateral worth more)
    # Session 40 (anchor: Anchor's queue repays the contract's amount, each position below HF 1 at its own HF, on
    # decisions 19 and 21): in B ANCHOR's liquidations $352.05M -> $360.86M in round 0, $352.38M -> $353.61M in 1,
    # $54.51M -> $49.48M in 2 (its bETH positions past HF m / d sell all of their stETH); ETH closes round 0 at 603.359
    # -> 603.453, MAKER's own liquidations $287.42M -> $279.16M in round 0, DAI 0.872465 -> 0.872382 after round 2:
    # B's recovery 0.78215 -> 0.78223, round 1's 0.99116 -> 0.99120
    # session 41 (data): DAI's tin 0 (no PSM fee booked as Maker's surplus; with tin 0.001 on this tree session 40's
    # figures): B's recovery 0.78223 -> 0.78212, round 1's 0.99120 -> 0.99115, the pledge $1,107.318103M -> $1,107.586913M
    assert rounds[2]["caged"]["recovery"][1] == pytest.approx(0.78212, abs=1e-5)
    assert rounds[1]["paid"][1] == pytest.approx(0.99115, abs=1e-5)  # the pledge still in B's assets (0.98880 before session 33, anchor)


def _skim_by_hand(c, s, row):
    """End's skim of the Maker cohorts of ``row`` from the state the cage's round opens with, computed apart from the
    engine: each auction's lot and unraised debt back on its vault (``snip``: the vaults are then the cohort's
    collateral less what finished auctions handed back, and its whole debt), ``tag`` = 1 / the oracle price (no
    lag: the last close), and each cohort a spread of vaults, the ratio of collateral to debt uniform on
    ``[1 - w, 1 + w]`` about the cohort's: a vault gives at most its own debt's worth, the rest is the gap."""
    M = c.maker.cohorts
    coll, debt, free = s.coll[row, M], s.debt[row, M], s.maker_free[row]
    on_auction = s.maker_lot[row].sum(0)
    ink = coll - np.minimum(free, np.maximum(coll - on_auction, 0.0))
    feed = s.P[row, c.maker.ca]
    value, w = ink * feed, s.maker_spread[row]
    y = 1.0 + (2.0 * (np.arange(200_000) + 0.5) / 200_000 - 1.0)[:, None] * w[None]
    covered = np.minimum(value[None] * y, debt[None]).mean(0)
    return ink, debt, feed, covered, debt - covered


def test_the_skim_books_the_vaults_gap_as_bad_debt(run):
    c, rounds = run
    j = c.maker.protocol
    M = c.maker.cohorts
    for row, cage in ((0, 1), (1, 2)):
        opening, caged = rounds[cage]["opening"], rounds[cage]["caged"]
        ink, debt, feed, covered, gap = _skim_by_hand(c, opening, row)
        exact = np.maximum(debt - covered_debt(ink * feed, debt, opening.maker_spread[row]), 0.0)
        np.testing.assert_allclose(exact, gap, rtol=1e-6, atol=1e-3 * debt.max())  # the rule, by quadrature
        booked = caged["bad"][row, j] - opening.bad[row, j]
        assert booked == pytest.approx(exact.sum(), rel=1e-12)
        assert booked == pytest.approx(gap.sum(), rel=1e-6)
        assert caged["debt"][row, M].tolist() == [0.0] * len(M)
        assert caged["tab"][row].sum() == 0.0  # the live auctions snipped
        # End holds what it took for DAI's holders: each cohort's covered debt at the tag, in its collateral
        taken = caged["H"][row, j] - opening.H[row, j]
        for a in np.unique(c.maker.ca):
            on = c.maker.ca == a
            assert taken[a] == pytest.approx(np.minimum(exact_wad(ink, covered_debt(ink * feed, debt, opening.maker_spread[row]),
                                                                  feed)[on], ink[on]).sum(), rel=1e-12)
        # the owners keep the rest, free
        np.testing.assert_allclose(caged["coll"][row, M] + exact_wad(ink, covered_debt(ink * feed, debt, opening.maker_spread[row]), feed),
                                   opening.coll[row, M], rtol=1e-12, atol=1e-9)
    # A's worked gap, $1,816.87M, its whole bad debt at round 1's opening (none booked before: the auctions of
    # round 0 had not finished)
    assert rounds[1]["caged"]["bad"][0, j] == pytest.approx(1816.87e6, rel=1e-5)
    assert rounds[1]["opening"].bad[0, j] == 0.0
    # B: MKR holders' pledge is released with the Vow (vow.cage: Sin = 0, Ash = 0)
    # (session 33, anchor: ANCHOR's UST debt at $1 moves B's pledge $1,388.11M -> $1,388.29M; session 37, B's falls
    # scaled by 0.96 at MKR's dated close: $1,388.29M -> $1,107.53M)
    # (session 40 (anchor), B's round-0 liquidations above (test_the_cage_comes_the_round_after_the_default):
    # $1,107.53M -> $1,107.32M)
    assert rounds[1]["pledge"][1] == pytest.approx(1107.586913e6, rel=1e-5) and rounds[2]["caged"]["pledge"][1] == 0.0


def exact_wad(ink, covered, feed):
    return np.minimum(covered / feed, ink)


def test_nothing_is_barked_or_auctioned_after_the_cage(run):
    c, rounds = run
    for row, cage in ((0, 1), (1, 2)):
        for r in range(cage, len(rounds)):
            assert rounds[r]["tab"][row] == 0.0 and rounds[r]["sold"][row] == 0.0
            assert rounds[r]["ask"][row] == 0.0  # keepers are asked for nothing
            assert rounds[r]["flop"][row] == rounds[cage - 1]["flop"][row]  # no debt auction
            assert rounds[r]["minted"][row] == rounds[cage - 1]["minted"][row]
            assert rounds[r]["pledge"][row] == 0.0
            assert rounds[r]["recovery"][row] == rounds[r]["paid"][row]  # the shut system's recovery
    # before its cage, B's vaults were still auctioned (round 1, the default's round)
    assert rounds[1]["sold"][1] > 0.0 and rounds[0]["sold"][0] > 0.0


def test_dai_trades_at_the_shut_systems_blend_with_the_psm(run, net):
    """From the cage DAI trades at ``end.cash``'s blend: the shut system's paid ratio on the vaults' DAI and the
    PSM's USDC (at $1) on the DAI it minted, ``(owed rho + psm) / (owed + psm)``
    (:func:`core.engine.maker_co_issued.coin_recoveries`). A, round 1: rho = 0.64849 (the cage's opening clearing),
    0.78075 (session 37: round 0's DAI counts MKR's smaller backstop at its dated close, recovery 0.92746 -> 0.87019,
    and the PSM's DAI after it moves; was 0.78088 since session 31, 0.79352 at round 0's 0.66877)."""
    c, rounds = run
    dai, usdc = list(c.symbols).index("DAI"), list(c.symbols).index("USDC")
    for row, cage in ((0, 1), (1, 2)):
        for r in range(cage, len(rounds)):
            rho = rounds[r - 1]["recovery"][row] if r > cage else rounds[cage]["caged"]["recovery"][row]
            psm_dai = 3.2e9 + float(rounds[r]["psm"][row, 0] - c.pegs.psm_balance0[0])
            owed = 5.3e9
            assert rounds[r]["P"][row, usdc] == 1.0
            assert rounds[r]["P"][row, dai] == pytest.approx((owed * rho + psm_dai) / (owed + psm_dai), rel=1e-12)
    assert rounds[1]["P"][0, dai] == pytest.approx(0.78075, abs=1e-5)


def _without_the_endogenous_cage(monkeypatch):
    """The engine as it was before the endogenous cage: a clearing's default is never caged (forced ones still are)."""
    monkeypatch.setattr(maker_end, "ended", lambda c, s: None)
    monkeypatch.setattr(clear_step, "ended", lambda c, s: None)


def _same(x, y, rows_x, rows_y):
    for f in PER_SCENARIO:
        a, b_ = getattr(x, f), getattr(y, f)
        if a is None:
            continue
        np.testing.assert_array_equal(np.asarray(a)[rows_x], np.asarray(b_)[rows_y], err_msg=f)


def test_rows_where_maker_stays_live_are_the_engine_without_the_cage(net, monkeypatch):
    network, _ = net
    scenarios = [A, B, L, F]
    now = simulate_batch(network, scenarios)
    _without_the_endogenous_cage(monkeypatch)
    before = simulate_batch(network, scenarios)
    _same(now, before, [2, 3], [2, 3])  # the live row and the forced one: to the bit
    # without the cage the engine gives main's figures (session 28's tree, measured there):
    # A loss $35,538,688,318.89, bad debt $4,888,305,192.30, DAI 0.94197; B $34,934,147,153.52, $3,885,554,485.21.
    # Session 30 (s30-anchor, Anchor's collateral seized at its queue's price): A $35,540,217,315.47,
    # $4,889,701,750.39, DAI 0.94197; B $34,938,159,101.91, $3,887,812,341.27.
    # Session 31 (s31-poolidx: every claim held on a pool at the pool's index of the same round, so Maker's AAVE_ETH
    # deposit and the other pool claims held in the network take each round's pool losses in that round, and the
    # end state leaves no last round unrecognised): A $35,541,107,508.60 (+$890,193.13), $4,889,700,742.22, DAI
    # 0.9419682; B $34,937,988,968.92 (-$170,132.99), $3,887,810,635.66.
    # Session 33 (s32-coinexit: coin exits run without a run intensity, core.engine.withdraw.runs_possible): B has
    # run intensity 0 and LUNA -81.02%, so UST is below peg from round 0 and Anchor's depositors now leave it at
    # (1 + 0)(1 - q) (before, only beside a batch-mate with a run; B alone at intensity 1e-12 gave these figures on
    # main too). From round 3 on, their redemptions mint LUNA: UST 0.12657 -> 0.00000 and LUNA $2.668 -> 0 at the
    # end, ANCHOR in default at round 3 (its deposits paid out). Anchor's depositors lose $3,389.64M less, LFG
    # $1,853.53M, STABLE_HOLDERS $759.95M, LP_PROVIDERS $486.77M and TFL $140.82M more: B $34,814,299,236.17
    # (-$123,689,732.75), bad debt $3,850,891,959.72 (-$36,918,675.94). A (UST at peg) is unchanged.
    # Session 33 (anchor: ANCHOR's UST debt weighed at $1, debt_oracle fixed_usd): A unchanged; B $34,930,717,891.60
    # (+$116,418,655.43: Anchor's loans come due as LUNA falls instead of being held up by the cheaper UST).
    # Session 34 (anchorfee: Anchor's queue keeps its 1% liquidator fee beside the bid fee, more bETH and bLUNA
    # seized a UST repaid): A $35,542,064,268.49 (+$956,759.89), $4,890,567,797.80, DAI 0.9419677; B
    # $34,932,452,069.08 (+$1,734,177.48), $3,852,715,931.57 (were $35,541,107,508.60, $4,889,700,742.22,
    # 0.9419682; $34,930,717,891.60, $3,852,714,392.05).
    # (session 35: B's $34,932,452,069.07594 was of numpy's AVX-512 path; the suite's path, libm's, gives ...07595,
    # one ulp apart: scripts/install-and-test.sh)
    # s36-poolpays (decision 17, a failed pool's runners paid their claims' value): B ...07595 -> ...07683
    # (+$0.00088); B's ANCHOR is in default from round 3 with its deposits paid out; the cents not traced.
    # Session 37 (MKR's dated close of 6 May 2022, $1,338.70; B's falls scaled by 0.96 to sit on the edge again):
    # A $35,542,064,268.49 -> $35,534,497,206.36, bad debt $4,890,567,797.80 -> $4,863,730,055.59, DAI 0.9419677 ->
    # 0.9061793 (without the cage a defaulted Maker's DAI counts the debt auctions, which now reach 0.86 x $1,307.91M
    # of MKR's cap, not $1,660.90M); B (shallower falls) $34,932,452,069.08 -> $33,287,015,805.51, bad debt
    # $3,852,715,931.57 -> $3,299,625,929.54.
    # Decision 19 (CRV_UST's quote side is 3CRV, a reserve's defence lifts the coin by its purchase's move of the
    # pool), session 40 (crvust): A has no LUNA shock, but without the cage DAI closes round 1 at 0.9190323, so a
    # unit of 3CRV's coins is worth 0.97301 and UST's pool prices UST there after round 2's price impact; beyond
    # decision 21's band, LFG's defence sells 20,889.66 of its 80,394 BTC in round 2 and lifts UST to 0.998492, BTC
    # closes round 2 at $10,678.91 against $10,777.60 (WBTC follows) and rounds 3-11 keep it ~$85 lower ($10,671.55
    # against $10,755.17 at round 11): A $35,534,497,206.36 -> $35,577,649,714.04 (+$43.15M), bad debt
    # $4,863,730,055.59 -> $4,868,474,180.60, DAI 0.9061793 -> 0.9059365 (the vaults' WBTC worth less).
    # B (UST in its spiral from round 0 on both trees): $33,287,015,805.51 -> $33,286,798,364.88 (-$0.22M), bad
    # debt $3,299,625,929.54 -> $3,299,626,254.57; not traced to the step (most likely LFG's defence into the
    # 3CRV-quoted pool, as in the pledge test below).
    # Session 40 (anchor: the queue's contract amount, each position below HF 1 at its own HF; measured on the base
    # and on the merged tree): A +$3,643.86 (ANCHOR's round-8 liquidation $8.66M -> $8.63M, COMP's $7.77M -> $7.80M),
    # B -$5,437,747.52 (ANCHOR's liquidations $352.05M -> $360.86M in round 0, $352.38M -> $353.61M in 1, $54.51M ->
    # $49.48M in 2: its bETH positions past HF m / d sell all of their stETH; ETH closes round 0 at 603.359 -> 603.453,
    # MAKER's own liquidations $287.42M -> $279.16M in round 0, DAI 0.872465 -> 0.872382 after round 2).
    # Session 42 (data: crypto-2022-05's dated 6 May rows, each part measured on a copy of the data with DAI's tin
    # 0.001, i.e. the stETH rows alone): A's move is DAI's tin 0 alone (on the copy A keeps every old figure):
    # $35,577,653,357.90544 -> $35,577,654,070.9421 (+$713.04), bad debt $4,868,492,821.709452 -> ...2,035.444175,
    # DAI 0.9059362156755729 -> 0.9059351623812383 (the PSM re-mints at 1, not 0.999; not traced further). B: Aave v2
    # stETH's threshold 0.75 with the loops' debt at it, $33,281,360,617.36 -> $33,281,206,258.51 (-$154,358.85;
    # not traced to the step), then the tin -> $33,281,175,562.24 (-$30,696.27); bad debt $3,299,629,809.40 -> $3,299,595,949.03 -> $3,299,555,628.26
    # Decision 29 (Session 46 (defender): LFG, UST's reserve, is paid the LUNA minted for the UST it redeems and keeps
    # it, its defence sells none of it, the queue none of its UST). B (UST in its spiral from round 0, LUNA to ~0 from
    # round 3): LFG keeps LUNA the spiral makes worthless where it took the window's cash, its equity at the close
    # $1,088.53M -> $156.15M: B $33,281,175,562.24 -> $33,908,102,908.96 (+$626.93M; the other holders keep more),
    # bad debt $3,299,555,628.26 -> $3,299,555,624.55. A (UST near peg, LFG defending from round 2): LFG's defence sells
    # no LUNA, its equity $1,165.94M -> $1,165.50M: $35,577,654,070.94 -> $35,577,587,955.19 (-$66,115.75), bad debt
    # $4,868,492,035.44 -> $4,868,972,440.57, DAI 0.9059351624 -> 0.9059133861; not traced further
    assert before.total_loss[:2].tolist() == [35577587955.19234, 33908102908.96107]
    assert before.bad_debt[:2].sum(1).tolist() == [4868972440.574446, 3299555624.55204]
    dai = list(now.asset_symbols).index("DAI")
    assert before.prices[0, dai] == 0.9059133860936638
    # with it, the caged rows: A loss $35.50297bn, bad debt $4,757.88M, DAI 0.77967 (session 34, anchorfee; was
    # $35.50135bn, $4,756.57M, 0.7796834 since s31-poolidx; session 30: $35.50061bn, $4,756.57M, 0.7796852; before
    # it $35.49792bn, $4,754.42M, 0.77972)
    # session 37 (MKR's dated close: round 0's DAI counts the smaller backstop): $35.50297bn -> $35.50405bn, bad debt
    # $4,757.88M -> $4,757.78M, DAI 0.7796656 -> 0.7795383
    # decision 19 (session 40, crvust): the cage prices DAI at 0.7807543 from round 1's opening, so UST's 3CRV pool
    # prices UST at 0.926918 after round 2's price impact; LFG's defence sells 22,119.44 BTC in round 2 (UST
    # 0.992287, BTC $10,787.07 -> $10,676.86) and 197.58 more in round 3 (UST 0.9999996); BTC and WBTC close round 11
    # at $10,666.17 against $10,763.63: $35.50405bn -> $35.56352bn (+$59.48M), bad debt $4,757.78M -> $4,755.95M,
    # DAI 0.7795383 -> 0.7794074
    # session 40 (anchor, as above): $35.56352bn -> $35.56353bn (+$6,604.15), bad debt +$4.69k, DAI 0.7794074 ->
    # 0.7794070
    # session 42 (data, DAI's tin 0 alone: on a copy with tin 0.001 the old figures hold): $35.56353046bn ->
    # $35.56353270bn (+$2,241.24), bad debt $4,755,959,164.09 -> $4,755,958,277.54, DAI 0.7794070 -> 0.7794058
    # decision 29 (above; A caged, LFG's defence from round 2 selling no LUNA, its equity $1,178.99M -> $1,178.23M):
    # $35.56353270bn -> $35.56549607bn (+$1,963,368.63), bad debt $4,755,958,277.54 -> $4,756,046,239.49, DAI
    # 0.7794058 -> 0.7793694; not traced to the step
    assert now.total_loss[0] == pytest.approx(35565496069.69, rel=1e-9)
    assert now.bad_debt[0].sum() == pytest.approx(4756046239.49, rel=1e-9)
    assert now.prices[0, dai] == pytest.approx(0.7793694, abs=1e-7)


def test_a_forced_and_an_endogenous_cage_in_one_batch_are_each_alone(net):
    """One batch of a forced cage at round 0 (F), two endogenous ones (A at round 1, B at round 2), B with MAKER also
    forced at round 2 (the forced and the endogenous cage at one opening: one cage) and A with MAKER forced at round 3,
    after its cage (nothing left to skim): every row as it runs alone, to the bit."""
    network, _ = net
    both = B.model_copy(update=dict(forced_defaults=["MAKER"], forced_default_rounds={"MAKER": 2}))
    after = A.model_copy(update=dict(forced_defaults=["MAKER"], forced_default_rounds={"MAKER": 3}))
    scenarios = [F, A, B, L, both, after]
    batch = simulate_batch(network, scenarios)
    for i, sc in enumerate(scenarios):
        _same(batch, simulate_batch(network, [sc]), [i], [0])
    j = list(batch.entity_ids).index("MAKER")
    assert batch.default_round[:, j].tolist() == [0, 0, 1, -1, 1, 0]
    # B caged at round 2 by its default and by the forced failure alike: the forced one also takes MAKER's outside
    # assets but the recovery share (0), so the two rows differ only by that loss
    assert batch.total_loss[4] > batch.total_loss[2]


def test_a_cage_after_round_0_releases_mkr_holders_pledge(net):
    """``vow.cage`` (``Sin = 0``, ``Ash = 0``): MKR holders owe nothing once Maker is caged, whichever path cages it.
    MAKER forced at round 1 with B's shock: by then MKR holders have pledged $1,366.37M for the deficit waiting
    ``vow.wait``, booked in Maker's other assets. Before, the pledge stayed in ``maker_pledge`` (the row idle in
    ``vault_auctions`` once its vaults were skimmed), counted as MKR holders' payment ($1,366.37M of
    ``governance_backstop``) while the forced loss (recovery 0) had taken it from ``oa`` with the rest: loss
    $37.72667bn. Now it is released before the forced loss: the same paid ratio (0.42499), no payment, $36.36030bn.
    Session 30 (s30-anchor, Anchor's collateral seized at its queue's price): 0.42491 and $36.36450bn.
    Session 31 (s31-poolidx): Maker's $200M AAVE_ETH deposit at AAVE_ETH's index of the same round (round 0 pays
    0.995266, was 1.0; the pledge is unchanged): round 1's paid ratio 0.42491 -> 0.42390, loss $36.36425bn.
    Session 33 (s32-coinexit: coin exits run without a run intensity): with UST below peg from round 0 (LUNA
    -81.02%), Anchor's depositors leave it at (1 + 0)(1 - q) though the scenario has no run intensity (before, only
    beside a batch-mate with a run; alone at intensity 1e-12 main gave this figure too). The pledge, the cage and
    round 1's paid ratio are unchanged; from round 3 the exits' redemptions take UST and LUNA to 0 and ANCHOR into
    default: Anchor's depositors lose $3,411.51M less, LFG $1,866.19M, STABLE_HOLDERS $765.62M, LP_PROVIDERS
    $489.87M and TFL $140.91M more, loss $36,364.25M -> $36,239.82M (-$124.43M).
    Session 37: at MKR's dated close of 6 May 2022 ($1,338.70, was ~$1,700) B's falls are scaled by 0.96 (B above):
    the pledge by round 1 $1,366.37M -> $1,085.21M, round 1's paid ratio 0.42290 -> 0.47639 (shallower falls), loss
    $36.368614bn -> $34.739373bn; still no payment by MKR holders."""
    network, c = net
    forced = B.model_copy(update=dict(forced_defaults=["MAKER"], forced_default_rounds={"MAKER": 1}))
    _, rounds = _rounds(net, [forced], horizon=3)
    # session 40 (anchor, B's round-0 liquidations: test_the_cage_comes_the_round_after_the_default): the pledge
    # $1,085.21M -> $1,085.15M, round 1's paid ratio 0.47639 -> 0.47797 (0.47624 on decisions 19 and 21 alone, the
    # part s40-crvust re-finds), the loss $34.739373bn -> $34.726063bn
    assert rounds[0]["pledge"][0] == pytest.approx(1085.154e6, rel=1e-5)
    assert rounds[1]["caged"]["pledge"][0] == 0.0 and rounds[1]["caged"]["cage_round"][0] == 1
    # session 33 (anchor): ANCHOR's UST debt at $1: 0.42390 -> 0.42297; session 34 (anchorfee, the queue's 1%
    # liquidator fee): 0.42297 -> 0.42290
    # decision 19 (session 40, crvust): MAKER forced at round 1 puts DAI at 0.6854894 at round 1's opening, which
    # takes a tenth off CRV_UST's 3CRV quote; LFG's round-1 defence buys 667.23M UST from the pool (354.57M on
    # the tree before) and sells 15,988.17 BTC for it (9,239.62), lifting UST 0.291702 -> 0.321578 by its own move
    # of the pool (before: no lift); BTC closes round 1 at $35,823.72 against $35,865.20 and WBTC at $30,259.02
    # against $30,294.05, so Maker's WBTC vaults cover less: round 1's paid ratio 0.47639 -> 0.47624
    # session 40 (anchor, B's round-0 liquidations: test_the_cage_comes_the_round_after_the_default): 0.47624 ->
    # 0.47797, the loss $34.738329bn -> $34.726063bn
    assert rounds[1]["paid"][0] == pytest.approx(0.47797, abs=1e-5)
    br = simulate_batch(network, [forced])
    assert br.governance_backstop[0] == 0.0
    # session 34 (anchorfee): was $36.366686bn; session 33 (anchor): was $36.23982bn
    # decision 19 (session 40, crvust, the round-1 defence above): $34.739373bn -> $34.738329bn (-$1.04M)
    # session 42 (data): $34.726063bn -> $34.725718bn: Aave v2 stETH's threshold 0.75 with the loops' debt at it
    # -$0.160M ($34.725903bn on a copy of the data with DAI's tin 0.001), DAI's tin 0 -$0.185M; the pledge
    # ($1,085.154M) and round 1's paid ratio (0.47797) unmoved
    # decision 29 (Session 46 (defender)): $34.725718bn -> $35.579513bn (+$853.79M): in B's spiral LFG keeps the LUNA
    # minted for the UST it redeems, which the spiral makes worthless, where it took the window's cash: its equity at
    # the close $1,303.40M -> $145.53M; the pledge ($1,085.154M) unmoved, round 1's paid ratio 0.4779704 -> 0.4779683
    assert br.total_loss[0] == pytest.approx(35.579513e9, rel=1e-6)  # 34.725718e9 before decision 29; 36.368614e9 before 37


def test_what_end_holds_is_not_the_maker_systems_holding_of_a_failed_token():
    """``monotone-2025-cbbtc-20-23-lido-failed-liquidity-145-capital-500m-end-holds-steth``: LIDO forced to fail
    (stETH at its floor), CBBTC -19.95% / -23.32%, liquidity 1.45, capital $500M on crypto-2025-10. SKY defaults in
    round 0 at both depths and is caged at round 1; at the deeper depth its stETH cohort's auction is still live, so
    End snips it and skims all 77,577.81 stETH (``maker_end_units``), where at the shallower keepers had taken the lot.
    End holds them for DAI's holders, so they are not network-held (``maker_end.network_holdings``): LIDO's outside
    write-downs stay $36.7000bn at both depths, as on main, not $36.3625bn at the deeper (77,577.81 x $4,350 =
    $337.46M counted nowhere), and the loss rises with the fall, $48.0561bn -> $48.2249bn (was -> $47.8874bn).
    Session 31 (s31-kept): the lending pools' fees from outside borrowers kept above their start are no longer
    counted (core.engine.outside_transfers): $332,756.43 and $385,282.15 (KAMINO $324,446.98 / $376,952.61, EULER,
    AAVE_OTHER), so the rise is $168,627,328.99, $52,525.72 less than $168,679,854.70. Session 33 (DAI $5.02bn and
    USDS $4.363bn of 10 Oct 2025, was $10.465bn together): SKY's shortfall falls on $1.082bn fewer coins, which pay
    0.96546 / 0.96518 at the two depths (were 0.96906 / 0.96882), so DAI's and USDS's holders lose more between the
    depths: STABLE_HOLDERS +$2,634,381.50 (was +$2,558,655.06), DEFI_DEPOSITORS +$9,884,192.38 (was
    +$9,842,328.42), and the rise is $168,744,919.39 (+$117,590.40; loss $48.0604bn -> $48.2291bn)."""
    network = core.datasets.load("crypto-2025-10")
    c = compile_network(network)
    # Session 37 (s37-skycage, decision 18): the clearing no longer defaults SKY; its deficit ($250.45M after round
    # 0) defaults it by the clock at round 2 and End cages it at round 3, by when keepers have taken the deeper
    # depth's lot (End holds nothing at either depth). The scenario now forces SKY's failure at round 1
    # (forced_default_rounds: the cage a scenario dates, decision 18's (a)), so End meets the live auction as before
    base = dict(forced_defaults=["LIDO", "SKY"], forced_default_rounds={"SKY": 1}, liquidity=1.445451950662451,
                liquidator_capacity_usd=5e8)
    scenarios = [Scenario(price_shocks={"CBBTC": -x}, **base) for x in (0.19947304089932305, 0.2331589965914267)]
    b = build_batch(c, scenarios, network)
    s = initial_state(c, b)
    for r in range(2):
        for step in STEPS:
            changes = step(c, s, b, r)
            if changes:
                s.apply(changes)
    steth = list(c.symbols).index("stETH")
    assert s.maker_cage_round.tolist() == [1, 1]
    assert s.maker_end_units[:, steth].tolist() == [0.0, pytest.approx(77577.81, rel=1e-7)]
    held = maker_end.network_holdings(c, s.H, s.maker_end_units)
    assert held[1, c.maker.protocol, steth] == 0.0 and s.H[1, c.maker.protocol, steth] == s.maker_end_units[1, steth]
    br = simulate_batch(network, scenarios)
    np.testing.assert_allclose(br.outside_loss, 36.7e9, rtol=1e-9)
    # s35-data (COMPOUND_V3's book dated at $1.06bn, was $0.90bn; its supply $3.23bn, was $3.05bn): $168,734,788.84,
    # -$10,130.55 (the per-entity split between the depths not traced)
    # s37-skycage: SKY forced to fail at round 1 (above), its forced loss at the scenario's recovery: loss
    # $56,332.37M -> $56,482.42M, the rise $150,054,786.80 (was $168,734,788.84 with the clearing's default at round 0)
    # s44-skyedge (SKY's one book: DAI's backed value no longer takes the vaults' cover B < 1 on its own row): at the
    # deeper depth DAI was below par in round 0 (vault side B < 1, USDC at par) and buyGem redeemed 72.0M DAI for
    # USDC before the cage (the DAI row 5,020.0M -> 4,948.0M); now DAI is at par and nothing is redeemed, so End's
    # blend (SKY's forced recovery) is shared by 72.0M more DAI: DAI 0.19651241 -> 0.19500447 in round 1 (0.18790683
    # -> 0.18644962 at the close), STABLE_HOLDERS +$13.67M, DEFI_DEPOSITORS +$1.75M; the deeper loss $56,482.42M ->
    # $56,497.85M, the rise $150,054,786.80 -> $165,477,776.40
    assert br.total_loss[1] - br.total_loss[0] == pytest.approx(165_477_776.40, rel=1e-8)  # 150,054,786.80 before s44, 168,744,919.39 before s35, 168,627,328.99 before s33
