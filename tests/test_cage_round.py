"""The round End cages an endogenously defaulted Maker, and the round after it, count Maker's gap the same way.

The case is the ledger's ``monotone-shipped-btc-89-eth-76-lag1-liquidity-131-capital-50m`` (2022 network, BTC
-88.54%, ETH -75.56%, oracle lag 1, liquidity 1.307, liquidators' capital $50M, no runs). Its shallower run: MAKER
in default at round 10 (its clearing short beyond MKR's backstop; paid ratio 0.99231 with MKR holders' pledge of
$1,393.94M in its assets), caged by End at round 11's opening (``core.engine.maker_end``), where ``vow.cage``
releases the pledge (MakerDAO dss ``src/end.sol``: ``cage`` -> ``vow.cage``: ``Sin = 0``, ``Ash = 0``, the flopper
caged; DAI is then redeemed at ``fix`` by ``end.cash``, a share of the collateral End holds).

Session 34 (s34-anchorfee: Anchor's queue keeps its documented 1% liquidator fee) moved the case's figures by
cents of the whole: the pledge $1,393.92M -> $1,393.94M, round 11's paid ratio 0.72846 -> 0.72845, the held
claims' move the old books left $88.24M -> $88.26M, the raw step at the cage $14.81M -> $14.86M, the entry's rise at
12 rounds $5.87M -> $5.82M (the figures below are the new ones).

Before session 31 the cage's round priced DAI at the blend of the default's ratio (0.99231), which still counted the
released pledge: DAI closed round 11 at 0.99540, so the price carried $39.30M of the vaults' $1,436.68M gap and
``maker_co_issued.dai_holders_outside`` booked the rest, $1,397.38M, as an outside write-down; from round 12 DAI traded at
0.83773 and the network's holders bore it (outside $42.43M). The gap was counted in full at both closes, by different
holders. Now DAI trades from the cage's round at the paid ratio of a clearing of the caged books at that opening
(0.72922; ``core.engine.exogenous.fail_forced``, as a forced cage's DAI is priced).

What remained of the ~$70M step within one run after that was no measure of the gap but the engine's one-round
recognition of a pool's loss by the holders of claims on it (before session 31 (s31-poolidx), "LP claims held on
other pools enter V at last round's index"): CONVEX holds half of CRV_3POOL's claims, and CRV_3POOL holds 1,066.67M
DAI, so half of its fall at DAI's repricing reached LP_PROVIDERS through CONVEX a round later ($86.45M of the
$88.26M held claims' move at the cage). Now the in-kind indices are solved in the order entities hold claims on each
other (``core.engine.held_claims``): every held claim is taken at its debtor's index of the same round, and the
loss moves across the cage's round by the round's own new losses, with nothing left unrecognised.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from core.engine import run_batch  # noqa: E402
from core.engine.batch import build_batch  # noqa: E402
from core.engine.clear import clear_books  # noqa: E402
from core.engine.compiled import compile_network  # noqa: E402
from core.engine.rounds import STEPS  # noqa: E402
from core.engine.state import initial_state  # noqa: E402
from core.scenario import Scenario  # noqa: E402
from depth_points import at_point, depth_points  # noqa: E402
from invariants_support import entry_monotone_violation, load_regressions, network  # noqa: E402

ENTRY = "monotone-shipped-btc-89-eth-76-lag1-liquidity-131-capital-50m"

#: Session 37: at MKR's dated close of 6 May 2022 ($1,338.70; the rows had ~$1,700) MKR's cap is $1,307.91M, not
#: $1,660.90M, and the entry's own pair defaults MAKER in round 0 at both depths (cage rounds [-1, -1, 11, 11] ->
#: [1, 1, 1, 1]): the edge moved off it. Both depths of every asset scaled by one factor put it back on the edge:
#: the shallower defaults in round 10 for factors 0.9582-0.9591, the deeper in round 9 from 0.9588 (rounds 11 / 10
#: just below, 8 and earlier above): 0.95895 keeps the entry's shape (default 10 / 9, cage 11 / 10).
FACTOR = 0.95895


def scaled(entry: dict) -> dict:
    """The entry with every depth scaled by :data:`FACTOR` (the edge re-found at MKR's dated close)."""
    return dict(entry) | {"depths": {a: [v * FACTOR for v in vs] for a, vs in entry["depths"].items()}}


@pytest.fixture(scope="module")
def case():
    entry = scaled(next(e for e in load_regressions() if e["id"] == ENTRY))
    net = network(entry["network"])
    c = compile_network(net)
    points = depth_points(tuple(entry["assets"]), entry["depths"])

    def scenario(point: int, horizon: int) -> Scenario:
        doc = dict(entry["scenario"]) | {"horizon": horizon}
        return at_point(Scenario.model_validate(doc), points[point], entry["mode"])

    return entry, net, c, scenario


def _closes(case, point: int, rounds: int):
    """Run one depth step by step; per round, what the cage's opening and the close show."""
    entry, net, c, scenario = case
    b = build_batch(c, [scenario(point, 365)], net, True)
    s = initial_state(c, b)
    mk = c.maker.protocol
    out = []
    for r in range(rounds):
        rec = {"pledge_before": float(s.maker_pledge[0])}
        for step in STEPS:
            changes = step(c, s, b, r)
            if changes:
                s.apply(changes)
            if step.__name__ == "exogenous":
                rec["opening_paid"] = float(clear_books(c, s, b, s.P)[1].paid_ratio[0, mk])
                rec["recovery_at_opening"] = float(s.maker_recovery[0])
                rec["pledge_after"] = float(s.maker_pledge[0])
        rec.update(paid=float(s.clearing.paid_ratio[0, mk]), cage=int(s.maker_cage_round[0]), P=s.P[0].copy(),
                   psm=s.psm_balance[0].copy(), lam=s.lam[0].copy(), ratio=s.ratio[0].copy())
        out.append(rec)
    return out


def test_the_cage_round_prices_dai_at_the_caged_books(case):
    """Worked numbers, the shallower run: round 11 opens with the pledge of $1,104.26M released, and DAI trades that
    round at ``end.cash``'s blend of the caged books' paid ratio (0.78664) on the vaults' $5.3bn and the PSM's USDC
    (at $1) on its DAI, ``(5.3e9 rho + D_p) / (5.3e9 + D_p)`` (``core.engine.maker_co_issued.coin_recoveries``): 0.87220
    (the default's ratio with the pledge, round 10: 0.99506); round 12 at round 11's close, 0.78607: 0.87186.
    Session 37 (the entry's depths x :data:`FACTOR` at MKR's dated close): were the pledge $1,393.94M, the caged
    books' 0.72922, DAI 0.83791, round 10's 0.99231, round 11's close 0.72845 and DAI 0.83745 at the entry's own
    depths and MKR ~$1,700 (0.72893 and 0.83773 before s31-poolidx: Maker's 200M of claims on AAVE_ETH were taken
    at the last round's index; 0.99540 before session 31, the blend of the default's ratio with the pledge)."""
    entry, net, c, scenario = case
    closes = _closes(case, 0, 13)
    sy = list(c.symbols)
    dai, usdc = sy.index("DAI"), sy.index("USDC")
    assert [r_["cage"] for r_ in closes[9:13]] == [-1, -1, 11, 11]
    cage = closes[11]
    # Session 42 (data: crypto-2022-05's dated 6 May rows; each part measured on a copy of the data with DAI's tin
    # 0.001, i.e. Aave v2 stETH's threshold 0.75 with the loops' debt at it alone, then both): round 10's paid
    # 0.99506 -> 0.995085 -> 0.99508, the pledge $1,104.18M -> $1,104.27M -> $1,104.57M, the caged books' 0.78665 ->
    # 0.786656 -> 0.78659, DAI at the cage 0.87220 -> 0.872138 -> 0.87209, round 11's close 0.78607 -> 0.786088 ->
    # 0.78602 and round 12's DAI 0.87185 -> 0.871798 -> 0.87175; the stETH rows' part not traced to the step
    assert closes[10]["paid"] == pytest.approx(0.99508, abs=1e-5)  # the default's: the pledge in Maker's assets
    # Session 40 (anchor: Anchor's queue repays the contract's amount, each position below HF 1 at its own HF, on
    # decisions 19 and 21): under the $50M capital ANCHOR's cohorts repay a little more each round ($33.49M ->
    # $33.82M in round 1 at the shallower depth, ... $17.99M -> $24.74M in round 7, nothing left in round 8), MAKER's
    # own liquidations a little less ($36.52M -> $36.20M in round 1), COMP's shift ($15.46M -> $8.92M in round 7,
    # $28.62M -> $33.15M in 8); ETH 754.958 -> 754.968 after round 1, DAI 0.872203 -> 0.872195 at the end:
    # the pledge $1,104.26M -> $1,104.18M, the caged books' 0.78664 -> 0.78665, round 12's DAI 0.87186 -> 0.87185
    assert cage["pledge_before"] == pytest.approx(1104.57e6, abs=0.01e6) and cage["pledge_after"] == 0.0
    assert cage["recovery_at_opening"] == cage["opening_paid"]  # the caged books' clearing, exactly
    assert cage["opening_paid"] == pytest.approx(0.78659, abs=1e-5)
    for r, rho in ((11, cage["opening_paid"]), (12, closes[11]["paid"])):
        psm_dai = 3.2e9 + float(closes[r]["psm"][0] - c.pegs.psm_balance0[0])
        assert closes[r]["P"][usdc] == 1.0
        assert closes[r]["P"][dai] == pytest.approx((5.3e9 * rho + psm_dai) / (5.3e9 + psm_dai), rel=1e-12)
    assert closes[11]["P"][dai] == pytest.approx(0.87209, abs=1e-5)  # 0.87220 before s42-data, 0.83791 before 37
    assert closes[11]["paid"] == pytest.approx(0.78602, abs=1e-5)
    assert closes[12]["P"][dai] == pytest.approx(0.87175, abs=1e-5)


def _unrecognised(c, prev, now) -> float:
    """What the network's holders of claims on pools have not yet recognised of those pools' latest move, USD: their
    claims as the books take them at this round's close (``core.engine.held_claims.held_at_index``: this round's
    index, the last clearing's paid ratio) less the same claims at this round's index and paid ratio. Only the paid
    ratio's one-round lag (the clearing's, as on every network claim) is left in it."""
    books = c.held_value((now["lam"] * prev["ratio"])[None])[0]
    after = c.held_value((now["lam"] * now["ratio"])[None])[0]
    return float((books - after).sum())


def _at_last_index(c, prev, now) -> float:
    """The same, with the claims at the last round's index (as the books took them before s31-poolidx)."""
    before = c.held_value((prev["lam"] * prev["ratio"])[None])[0]
    after = c.held_value((now["lam"] * now["ratio"])[None])[0]
    return float((before - after).sum())


def test_the_cage_round_and_the_next_count_the_gap_alike(case):
    """Within one run (the shallower depth), the loss at horizons h and h + 1 across the cage's round (h = 11, 12, 13:
    the default's close, the cage's, the next).

    The checks. (1) The pledge leaves ``governance_backstop`` at the cage (MKR holders' $1,104.26M at 11 rounds, 0
    from 12), and DAI's holders bear it through DAI's price from the same close: the outside write-downs at the
    cage's close stay within $15M of the default's ($103.27M -> $106.53M; session 38, below); the close after it is
    :func:`test_the_outside_write_downs_stay_within_15m_across_the_cage` (xfail since session 38). (2) The loss moves across each of these rounds by the round's own new losses: each
    step of the loss is within $20M of the step of the round before the default (+$13.10M: the cascade's own
    progress), where the pledge moved is $1,104.26M. Before s31-poolidx this held only with ``U``, the held claims'
    move not yet recognised at the last round's index, added (:func:`_at_last_index`, $69.56M at the cage's close:
    CONVEX's half of CRV_3POOL's DAI fall, $68.16M), and the raw step was -$74.08M (on the entry's own depths). Now
    the claims are taken at this round's index, what is left unrecognised is the paid ratios' lag alone (within
    $1.3M at every close: -$0.93M at the cage's, AAVE_ETH's ratio rising), and the raw loss passes the check; the
    term the old books left out is still checked at the cage, so the check is not vacuous.

    Session 37 (the entry's depths x :data:`FACTOR` at MKR's dated close), were on the entry's own depths at MKR
    ~$1,700: pledge $1,393.94M, ordinary step +$12.63M, the step at the cage +$14.86M (now +$23.09M), U at the cage
    -$1.26M, the old books' term $88.26M and CONVEX's $86.45M.

    Session 38 (decision 19: CRV_UST holds 3CRV's coins, 116.67M DAI among them): the default and cage rounds, the
    pledge, DAI's closes and every loss step are as at session 37; two figures move. The outside write-downs at the
    cage's close, $121.44M -> $106.53M: DAI's fall at the cage (1 - 0.87220) on CRV_UST's 116.67M DAI, $14.91M, is now
    borne by CRV_UST's LPs inside the network (the loss at 12 rounds is $16,611.34M in both trees), so the 12-round
    check holds again ($3.26M, xfail in session 37 at $18.17M). The old books' term $69.56M -> $81.28M: CRV_UST's index
    falls with 3CRV's at the cage (1 -> 0.97870, half of CRV_3POOL's 1 -> 0.95740), $11.71M of claims on it beside
    CRV_3POOL's $68.16M, AAVE_ETH's $1.16M and CRV_STETH's $0.24M."""
    entry, net, c, scenario = case
    hs = (10, 11, 12, 13)
    brs = {h: run_batch(c, build_batch(c, [scenario(0, h)], net, True)) for h in hs}
    loss = {h: float(brs[h].total_loss[0]) for h in hs}
    outside = {h: float(brs[h].outside_loss[0]) for h in hs}
    pledge = {h: float(brs[h].governance_backstop[0]) for h in hs}
    # session 40 (anchor, test_the_cage_round_prices_dai_at_the_caged_books): $1,104.26M -> $1,104.18M; the old books'
    # term $81.28M -> $81.32M; the ordinary step $13.10M -> $12.95M, the raw step at the cage $23.09M -> $23.27M
    # session 42 (data, the dated rows; with DAI's tin 0.001 on a copy: the stETH rows alone): the pledge $1,104.18M
    # -> $1,104.27M -> $1,104.57M; the old books' term $81.32M -> $81.31M -> $81.34M, CRV_3POOL's $68.16M -> $68.19M
    # -> $68.22M; the ordinary step $12.95M -> $12.92M (the stETH rows alone), the raw step at the cage $23.27M ->
    # $23.00M -> $23.00M; not traced to the step
    assert pledge[11] == pytest.approx(1104.57e6, abs=0.01e6) and pledge[12] == pledge[13] == 0.0
    assert abs(outside[12] - outside[11]) < 15e6, outside  # 13 rounds: the xfail below (session 38)
    closes = _closes(case, 0, 13)
    U = {r + 1: _unrecognised(c, closes[r - 1], closes[r]) for r in range(9, 13)}  # horizon r + 1 closes round r
    for h in hs:
        assert abs(U[h]) < 1.3e6, (h, U)
    assert U[12] == pytest.approx(-0.93e6, abs=0.01e6)  # the cage's close: the paid ratios' lag alone
    # what the old books left: $69.56M before session 38, CRV_UST's $11.71M added (decision 19; docstring)
    assert _at_last_index(c, closes[10], closes[11]) == pytest.approx(81.34e6, abs=0.01e6)
    crv = list(c.ids).index("CRV_3POOL")
    assert 1600e6 * (closes[10]["lam"][crv] - closes[11]["lam"][crv]) == pytest.approx(68.22e6, abs=0.01e6)
    ordinary = loss[11] - loss[10]
    assert ordinary == pytest.approx(12.92e6, abs=0.01e6)
    # The cage's close (h = 11 -> 12) is checked; the close after it (12 -> 13) no longer is, since decision 29
    # (Session 46 (defender)): in round 12 UST's pool dips with 3CRV after DAI's repricing at the cage (session 38),
    # and LFG's defence, which sells none of its LUNA (0.7781M LUNA with its BTC before, which with BTC at -89 % was
    # much of its reserve), lifts UST to 0.97935, not 0.99892; beyond the calm band the holders redeem (LFG 24.04M UST
    # for 0.3193M LUNA) and LUNA falls 75.276 -> 72.858: the step 12 -> 13 is $504.43M ($16,611.47M -> $17,115.90M),
    # UST's, not the cage's. (Before, it was within $20M of the ordinary step.)
    assert abs((loss[12] - loss[11]) - ordinary) < 20e6, loss
    assert loss[13] - loss[12] == pytest.approx(504.43e6, abs=0.01e6)
    assert loss[12] - loss[11] == pytest.approx(23.00e6, abs=0.01e6)  # the raw step at the cage (-$74.08M before 31)


@pytest.mark.xfail(strict=True, reason="session 38: decision 19 (CRV_UST holds 3CRV's coins) moves the outside "
                   "write-downs $19.71M at the close after the cage ($103.27M at 11 rounds -> $83.56M at 13; "
                   "$110.09M at session 37), over the $15M bound: one round after DAI's repricing to 0.8722 UST's "
                   "pool dips with 3CRV (UST 0.99892, LUNA $75.276 -> $75.170). Which outside holdings fall not "
                   "traced; the bound is not widened. The cage's close (12 rounds, session 37's xfail at $18.17M) "
                   "holds again, $3.26M, checked in test_the_cage_round_and_the_next_count_the_gap_alike")
def test_the_outside_write_downs_stay_within_15m_across_the_cage(case):
    """The outside write-downs at the cage's close (12 rounds) and the close after it (13) within $15M of the
    default's close (11 rounds): DAI's holders bear the released pledge through DAI's price, not the outside
    creditors (before session 31: $1,475.47M at 12, the gap counted outside a round before the network's holders
    bore it)."""
    entry, net, c, scenario = case
    outside = {h: float(run_batch(c, build_batch(c, [scenario(0, h)], net, True)).outside_loss[0])
               for h in (11, 12, 13)}
    assert abs(outside[12] - outside[11]) < 15e6, outside
    assert abs(outside[13] - outside[11]) < 15e6, outside


def test_the_entrys_pair_holds_at_its_horizon_and_at_the_cage_round(case):
    """The entry's pair at its horizon (12 rounds): the deeper depth caged at round 10 and the shallower at round 11
    both count the gap through DAI's price; the loss rises $25.38M (session 38; $5.21M at session 37; -$74.56M
    before session 31, +$94.48M with the
    cage's fix alone: the deeper run's CRV_3POOL fall recognised through CONVEX at 12 rounds, the shallower's not
    yet). At 11 rounds the deeper depth's cage round against the shallower's default round, the entry
    ``s37-mkrclose-...-horizon-11-pool-claims-lag`` (the edge of ``...-horizon-11-pool-claims-lag`` re-found at MKR's
    dated close, the same depths x :data:`FACTOR`): its loss rises, +$20.16M, and it stays open for its bad debt at
    reference alone ($39.99M, the DAI cohorts' shortfall in units at the deeper run's lower DAI, which the
    pool-claims fix does not touch). Session 37: were +$5.82M, +$11.10M and $59.37M on the entry's own depths at
    MKR ~$1,700; at MKR's dated close the old entry's pair defaults MAKER in round 0 at both depths and passes.
    Session 38 (decision 19): the rise at 12 rounds $5.21M -> $25.38M, the shallower's loss unchanged ($16,611.34M),
    the deeper's $16,616.55M -> $16,636.72M: caged a round earlier, the deeper run's DAI (0.87173) has moved 3CRV and
    with it UST's pool by 12 rounds (UST 0.99879, LUNA $75.276 -> $75.170; the shallower's dip comes at 13 rounds),
    ANCHOR_DEPOSITORS +$16.98M, LP_PROVIDERS +$14.89M (was +$2.54M), LFG -$8.51M. The 11-round pair is unmoved."""
    entry = case[0]
    v = entry_monotone_violation(entry)
    assert v.size == 0.0
    # session 40 (anchor, test_the_cage_round_prices_dai_at_the_caged_books): the rise $25.38M -> $24.92M, the
    # shallower $16,611.34M -> $16,611.31M, the deeper $16,636.72M -> $16,636.23M (ANCHOR_DEPOSITORS -$0.19M,
    # DEFI_SUPPLIERS -$0.14M, LP_PROVIDERS -$0.10M there); the 11-round pair's bad debt $39.99M -> $40.17M, its rise
    # $20.16M -> $20.18M
    # session 42 (data, the dated rows; on a copy with DAI's tin 0.001, the stETH rows alone): the rise $24.92M ->
    # $25.44M -> $25.45M, the shallower $16,611.31M -> $16,611.47M, the deeper $16,636.23M -> $16,636.92M; the
    # 11-round pair's bad debt $40.17M -> $39.85M -> $39.86M, its rise $20.18M -> $20.08M -> $20.08M (the entry's
    # size re-measured in session 41 (data)); not traced to the step
    # decision 29 (Session 46 (defender), test_the_cage_round_and_the_next_count_the_gap_alike): UST's dip with 3CRV
    # after the cage comes at round 11 at the deeper depth (caged a round sooner) and at round 12 at the shallower;
    # LFG's defence, selling none of its LUNA, lifts UST to 0.97935 where it lifted it to 0.99878, its holders redeem
    # and LUNA falls 75.276 -> 72.857 at the deeper by 12 rounds, at the shallower a round later: the rise $25.45M ->
    # $502.48M (the pair holds)
    assert v.detail["total_loss_usd"]["values"][1] - v.detail["total_loss_usd"]["values"][0] == pytest.approx(
        502.48e6, abs=0.01e6)  # $25.45M before decision 29, $24.92M before s42-data, $25.38M before session 40
    deeper = next(e for e in load_regressions() if e["id"] == "s37-mkrclose-" + ENTRY + "-horizon-11-pool-claims-lag")
    assert deeper["scenario"]["horizon"] == 11 and "fixed" not in deeper
    assert deeper["depths"] == entry["depths"]  # the re-found pair: the entry's depths x FACTOR
    w = entry_monotone_violation(deeper)
    # decision 23 (s41-endgap, decision 8's second reading): the deeper depth, caged at round 10 on round 9's close (lag 1) above
    # the market, leaves DAI's holders $1.33M past its gap (maker_end.left_to_holders), now counted in its bad debt at
    # reference ($3,214.82M -> $3,216.14M; the shallower, not yet caged at 11 rounds, $3,254.98M as before):
    # $40.17M -> $38.84M on the undated rows.
    # Both together (session 42, lead's merge: the dated 6 May rows' $39.86M less decision 23's count at the deeper):
    # $38.54M
    assert w.size == pytest.approx(38.54e6, abs=0.01e6)  # bad debt at reference alone
    assert w.size == pytest.approx(deeper["measured"]["size"], rel=1e-9)
    assert w.detail["total_loss_usd"]["values"][1] - w.detail["total_loss_usd"]["values"][0] == pytest.approx(
        20.08e6, abs=0.01e6)
