"""The Maker system defaults only when its debt auctions cannot cover its shortfall (core.engine.maker.backstop_covers).

Worked numbers: the 2020 snapshot's MKR, 1,000,000 at $490.48 (its dated close of 11 Mar 2020, applied in session 37;
the row had ~$440, a $440M cap and a line of $378.4M), a $490.48M market cap, debt auctions at ``FLOP_DISCOUNT`` =
14% below MKR's value after the dilution: the flop covers a shortfall ``D`` while ``D / 0.86 < $490.48M``, up to
$421.8128M (:func:`core.mechanisms.maker_backstop.flop_auction` fails beyond it)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import core
from core.engine import compile_network, simulate_batch
from core.engine.batch import build_batch
from core.engine.maker import FLOP_DISCOUNT, backstop_covers
from core.engine.state import initial_state
from core.mechanisms.maker_backstop import flop_auction
from core.scenario import Scenario


@pytest.fixture(scope="module")
def net20():
    return core.datasets.load("crypto-2020-03")


def test_backstop_covers_what_a_debt_auction_raises(net20):
    c = compile_network(net20)
    s = initial_state(c, build_batch(c, [Scenario(), Scenario()], net20, True))
    # (1,000,000, 440.0, 0.14) before session 37 applied MKR's dated close of 11 Mar 2020
    assert (c.maker.mkr_supply0, c.maker.mkr_price0, FLOP_DISCOUNT) == (1.0e6, 490.48, 0.14)
    limit = 0.86 * 490.48e6  # $421.8128M ($378.4M at $440)
    rows = np.array([0, 0, 0])
    short = np.array([1.0, limit - 1e3, limit + 1e3])
    assert backstop_covers(c, s, rows, short).tolist() == [True, True, False]
    # the same line as the debt auction's own failure test
    assert not bool(flop_auction(limit - 1e3, 1.0e6, 490.48, auction_discount=0.14).failed)
    assert bool(flop_auction(limit + 1e3, 1.0e6, 490.48, auction_discount=0.14).failed)
    s.maker_failed[1] = True  # a failed backstop covers nothing
    assert backstop_covers(c, s, np.array([1]), np.array([1.0])).tolist() == [False]


def test_a_marked_shortfall_the_flop_covers_is_no_default(net20):
    """``monotone-2020-eth-one-ulp-full-runs-bad-debt``: MAKER ended round 0 $1.00000000 and, 1 ulp deeper,
    $1.00000001 short at marks (vaults under water, no bark yet under lag 2, no penalty in); only the deeper
    defaulted, which capped DAI at its recovery: DAI 1.084 -> 1.000, loss $12.682M -> $12.263M."""
    base = dict(run_intensity=1.0, oracle_lag=2, liquidity=1.109961631866723, liquidator_capacity_usd=5e8)
    depths = (0.47674430232302667, 0.4767443023230269, 0.48, 0.5)
    br = simulate_batch(net20, [Scenario(price_shocks={"ETH": -d}, **base) for d in depths])
    mk = list(br.entity_ids).index("MAKER")
    dai = list(br.asset_symbols).index("DAI")
    assert not br.defaulted[:, mk].any()
    assert np.all(np.diff(br.total_loss) >= -1.0)  # the invariant's tolerance: $1 (1 ulp apart: -1.3e-8)
    assert np.all(np.diff(br.bad_debt.sum(1)) >= -1.0)
    # was $12.2625M: MAKER defaulted; $12.6817M before session 30, when Compound's oracle read DAI at its market
    # 1.087, not at its band's 1.05 (core.engine.oracle, "Banded market prices": fewer Compound liquidations)
    assert br.total_loss[1] == pytest.approx(12.4372e6 + 0.60996e6, rel=1e-4)
    # of which $0.610M is the chop the anonymous vaults barked in later rounds paid into the Vow (their owners'
    # loss since session 14: borrowers_penalty_loss); $12.6817M without it, as before
    assert br.borrowers_penalty_loss[1] == pytest.approx(0.60996e6, rel=1e-4)
    assert br.prices[0, dai] == pytest.approx(br.prices[1, dai], abs=1e-9) and br.prices[0, dai] > 1.08


def test_a_forced_default_of_maker_still_defaults(net20):
    br = simulate_batch(net20, [Scenario(price_shocks={"ETH": -0.3}, forced_defaults=["MAKER"])])
    mk = list(br.entity_ids).index("MAKER")
    assert br.defaulted[0, mk] and br.default_round[0, mk] == 0
    # a forced default is a shutdown: DAI is not priced with debt auctions that end.cage stops
    dai = list(br.asset_symbols).index("DAI")
    assert br.prices[0, dai] < 0.98


def test_a_failed_makers_dai_counts_its_pending_debt_auctions():
    """``monotone-shipped-eth-80-wbtc-depeg-maker-fails-earlier-dai``, the deeper depth (ETH -80.573%, WBTC 25.4%
    under BTC, liquidity 0.69, $500M of liquidators' capital): Maker owes $5.3bn of DAI and its round-4 clearing pays
    $3.8495bn, a shortfall of $1.4505bn beyond what 977,000 MKR at $1,700 raise at the debt auctions' discount
    (1.4505 / 0.86 = $1.6866bn > $1.6609bn): it has defaulted. Its DAI then trades at the recovery counting what those
    auctions raise, (3.8495 + 0.86 x 1.6609) / 5.3 = 0.99583 (core.mechanisms.maker_backstop.flop_recovery), not the
    clearing's 0.7263 (the engine runs the debt auctions after the default).

    (Session 12: the close-factor rule shares the liquidators' capital over its own cohorts only, no longer over
    Maker-style cohorts that asked for capital they never used (core.engine.liquidate._close_factor), so more of
    the $500M reaches the close-factor cohorts and round 2's clearing pays Maker $3.8519bn instead of $3.8601bn;
    the worked numbers follow: paid ratio 0.7283 -> 0.7268, recovery 0.9978 -> 0.9963. Session 13: one capital a
    round (core.engine.capital.split_capital): Maker's keepers have what the close-factor liquidations leave of
    the $344M ($500M x 0.69), none in rounds 0-4, where before they had it all beside them, so Maker's vaults wait
    in their auctions and Maker defaults in round 4, not 2: paid $3.8519bn -> $3.8711bn, paid ratio 0.7268 ->
    0.7304, recovery 0.9963 -> 0.99989. Then Maker's keepers asked their share of it, K x M / (A + V + M)
    (core.engine.maker_ask.keeper_ask): $175.4M of the $344M in round 0, $170.7M in round 4, so Maker's vaults are
    sold from round 0 into falling prices and Maker defaults in round 3: round 4 pays $3.8711bn -> $3.8495bn, paid
    ratio 0.7304 -> 0.7263, recovery 0.99989 -> 0.99583.)

    Session 29 (cage): that recovery holds in the default's round only. Past its backstop Maker is shut down (the
    lead's decision 1): End cages it at the next round's opening (core.engine.maker_end), MKR holders' pledge is
    released with the Vow and no debt auction counts, so DAI trades from then on at the shut system's paid ratio
    blended with the PSM's USDC (round 5: 0.84342, was 0.99768).

    Session 37: at MKR's dated close of 6 May 2022 ($1,338.70, was ~$1,700; MKR's cap $1,307.91M, not $1,660.90M)
    the pair's depth defaults MAKER in round 0; the falls scaled by one factor (ETH and WBTC's depeg x 0.958) put
    the default back in round 3 (round 3 for factors 0.9569-0.9590, round 2 above, 4 and later below): ETH
    -77.19%, WBTC 24.35% under BTC. There round 3's clearing pays $5.250259bn with MKR holders' pledge of
    $1,083.24M (ratio 0.99062), short beyond what is left of MKR's backstop, and DAI's recovery counting the debt
    auctions is (5.250259 - 1.08324 + 0.86 x 1.30791) / 5.3 = 0.99846; the cage's opening 0.78620, round 4's DAI
    0.87696, round 4's close 0.78493, round 5's DAI 0.87623, the PSM's re-mint 709.762M (were, at the old depth and
    price: $5.236145bn, $1,372.42M, 0.98795, 0.99851, 0.72897, 0.84377, 0.72793, 0.84317, 694.657M)."""
    from core.engine.maker_vow import clearing_recovery
    from core.engine.rounds import run_round
    from core.mechanisms.maker_backstop import flop_recovery
    net = core.datasets.load("crypto-2022-05")
    c = compile_network(net)
    sc = Scenario(price_shocks={"ETH": -0.8057331742371634 * 0.958}, depegs={"WBTC": 0.2541431283655862 * 0.958},
                  liquidity=0.6880495846276431, liquidator_capacity_usd=5e8)  # x 0.958: session 37 (above)
    b = build_batch(c, [sc], net)
    s = initial_state(c, b)
    mk, dai = c.maker.protocol, list(c.symbols).index("DAI")
    for r in range(4):
        run_round(c, s, b, r)
    owed, paid = float(s.clearing.total_liabilities[0, mk]), float(s.clearing.payments[0, mk])
    assert s.defaulted[0, mk] and s.default_round[0, mk] == 3 and not s.maker_failed[0]
    # session 23: the squeeze's PSM re-mint booked (core.mechanisms.psm.sell_gem): 693.9M of USDC sold into the PSM
    # before the default, its tin fee ($0.694M) Maker's surplus: paid $3.84956bn -> $3.85026bn, ratio 0.72634 -> 0.72646
    # session 24: what the live auctions' lots cannot raise is MKR holders' pledge under vow.wait (maker_round's
    # exposed sin, 1,321.0M from round 0, 1,381.70M by round 4), in Maker's assets: paid $3.85026bn -> $5.23196bn,
    # ratio 0.72646 -> 0.98716; 0.86 x $1.6609bn = $1.428374bn of MKR's backstop less that pledge does not cover the
    # $68.04M still short, so Maker still defaults in round 3, and DAI's recovery counts the pledge once.
    # Session 29 (cage): the figures are now taken at round 3's clearing, the default's (round 4 is End's cage, below):
    # paid $5.236205bn, pledge $1,372.33M, ratio 0.98796. Session 30 (s30-anchor, Anchor's collateral seized at its
    # queue's price): paid $5.236197bn, pledge $1,372.39M, recovery 0.99853 (were $5.236205bn, $1,372.33M, 0.99854),
    # the PSM's re-mint 694.371M (was 693.899M). Session 31 (s31-poolidx): Maker's $200M deposit at AAVE_ETH is
    # valued at AAVE_ETH's index of the same round, not the last round's, so AAVE_ETH's losses reach Maker's books a
    # round earlier (round 0 pays 0.995456, was 1.0): round 3 paid $5,236,196,806 -> $5,236,150,500 (-$46,306),
    # ratio 0.987962 -> 0.987953, recovery 0.998525 -> 0.998517; the pledge is unchanged. Session 34 (anchorfee:
    # Anchor's queue keeps its 1% liquidator fee beside the bid fee, more bETH seized a UST repaid; the path to
    # Maker's books not traced): paid $5,236,150,500 -> $5,236,145,247, pledge $1,372.39M -> $1,372.42M, recovery
    # 0.998517 -> 0.998509, the PSM's re-mint 694.371M -> 694.657M
    # session 37 (MKR's dated close, the falls x 0.958): paid $5.236145bn -> $5.250259bn, pledge $1,372.42M ->
    # $1,083.24M, ratio 0.98795 -> 0.99062, recovery 0.99851 -> 0.99846
    # session 40 (anchor: Anchor's queue repays the contract's amount, each position below HF 1 at its own HF, on
    # decisions 19 and 21): ANCHOR's round-0 liquidations $163.19M -> $182.78M (its bETH positions past HF m / d sell
    # all of their stETH at once; round 1 $20.10M -> $5.02M), ETH closes round 0 at 620.152 -> 620.289, WBTC 27,210.2
    # -> 27,229.3; COMP's round-0 liquidations $19.11M -> $0 (its cohorts stay above HF 1 at the higher close), $159.69M
    # -> $174.22M in round 1: paid $5.250259bn -> $5.250583bn, pledge $1,083.24M -> $1,083.71M, ratio 0.99062 ->
    # 0.99068, recovery 0.99846 -> 0.99843; the cage's opening 0.78620 -> 0.78617, the PSM's re-mint 709.762M ->
    # 709.802M, round 4's DAI 0.87696 -> 0.87695, its close 0.78493 -> 0.78491, round 5's DAI 0.87623 -> 0.87622
    # session 41 (data): DAI's tin 0 (the row held 0.001; with tin 0.001 on this tree every figure below is session
    # 40's): the USDC sold into the PSM no longer pays Maker the 0.1 % fee session 23 booked as surplus, and sellGem mints
    # DAI 1:1 for it: paid $5.250583bn -> $5.250408bn, pledge $1,083.71M -> $1,084.24M, ratio 0.99068 -> 0.99064,
    # recovery 0.99843 -> 0.99830; the cage's opening 0.78617 -> 0.78604, the PSM's re-mint 709.802M -> 709.092M,
    # round 4's DAI 0.87695 -> 0.87686, its close 0.78491 -> 0.78477, round 5's DAI 0.87622 -> 0.87613
    assert owed == pytest.approx(5.3e9, rel=1e-3) and paid == pytest.approx(5.250408e9, rel=1e-6)
    assert float(s.maker_pledge[0]) == pytest.approx(1084.24e6, rel=1e-5)
    assert s.clearing.paid_ratio[0, mk] == pytest.approx(0.99064, abs=1e-5)
    expected = flop_recovery(paid, owed, 977e3, 1338.7, s.maker_pledge[0], auction_discount=FLOP_DISCOUNT)
    assert float(expected) == pytest.approx((paid - float(s.maker_pledge[0]) + 0.86 * 977e3 * 1338.7) / owed, rel=1e-12)
    # 0.99596 at round 4 before session 29; 0.99853 before s31-poolidx; 0.99852 before session 34 (anchorfee)
    assert float(expected) == pytest.approx(0.99830, abs=1e-5)
    assert clearing_recovery(c, s, s.clearing, np.zeros(1, bool))[0] == pytest.approx(float(expected), rel=1e-12)
    assert s.maker_recovery[0] == pytest.approx(float(expected), rel=1e-12)  # the default's round: not yet caged
    # a caged Maker (end.cage cages the flopper) is priced at the clearing's ratio
    assert clearing_recovery(c, s, s.clearing, np.ones(1, bool))[0] == s.clearing.paid_ratio[0, mk]
    ratio3 = float(s.clearing.paid_ratio[0, mk])
    # session 29 (cage): past its backstop Maker is shut down (the lead's decision 1): End cages it at round 4's
    # opening, vow.cage releases MKR holders' $1,372.33M pledge and no debt auction counts from then on; round 4's
    # DAI trades at the blend of round 3's paid ratio (the shut system's recovery) on the vaults' $5.3bn and the
    # PSM's USDC on its DAI (core.mechanisms.psm.two_issuer_recovery); round 5's at round 4's
    # session 31 (s31-cage): the cage's round prices DAI at what the caged books pay, a clearing of them at round
    # 4's opening (the pledge released, the vaults skimmed), as a forced cage's DAI is priced; round 3's ratio
    # counted the pledge vow.cage had just released (DAI 0.99306 in round 4, the gap an outside write-down)
    from core.engine.clear import clear_books
    from core.engine.rounds import STEPS
    for step in STEPS:
        changes = step(c, s, b, 4)
        if changes:
            s.apply(changes)
        if step.__name__ == "exogenous":
            opening = float(clear_books(c, s, b, s.P)[1].paid_ratio[0, mk])
            assert s.maker_recovery[0] == opening and opening == pytest.approx(0.78604, abs=1e-5)  # 0.72897 before s37
    assert s.maker_cage_round[0] == 4 and s.maker_pledge[0] == 0.0
    psm = list(c.ids).index("MAKER_PSM")
    usdc = float(s.P[0, list(c.symbols).index("USDC")])
    assert usdc == 1.0 and float(s.clearing.paid_ratio[0, psm]) == 1.0
    # session 15: the PSM's DAI at the shutdown, not at reference (core.engine.backing.follow_balance); session 17: a
    # live Maker's DAI counts the debt auctions behind its vaults (core.engine.maker_claim.vault_claim), so DAI holds
    # its PSM-backed par until the default, nobody redeems and the PSM owes its $3.2bn of the reference and the
    # squeeze's re-mint (session 23)
    psm_dai = 3.2e9 + float(s.psm_balance[0, 0] - c.pegs.psm_balance0[0])
    assert psm_dai == pytest.approx(3.2e9 + 709.092e6, rel=1e-6)  # 709.762M before s40; 694.657M before s37, 694.371M before s34 (anchorfee)
    assert s.P[0, dai] == pytest.approx((owed * opening + psm_dai * usdc) / (owed + psm_dai), rel=1e-12)
    assert float(s.P[0, dai]) == pytest.approx(0.87686, abs=1e-5)  # 0.84377 before s37, 0.99306 (ratio3's blend) before s31
    assert ratio3 == pytest.approx(0.99064, abs=1e-5)
    ratio4 = float(s.clearing.paid_ratio[0, mk])
    # s31-poolidx: round 4's close 0.728383 -> 0.727926 (-$2.42M on the $5.3bn): AAVE_ETH's round-4 loss (DAI's
    # repricing at the cage) reaches Maker's $200M deposit in round 4, not round 5; the opening (0.7289702) and
    # round 4's DAI (0.8437676) measure the same before and after s31-poolidx, round 5's DAI follows ratio4
    assert s.maker_recovery[0] == ratio4 and ratio4 == pytest.approx(0.78477, abs=1e-5)  # the pledge gone (0.72793 before s37)
    run_round(c, s, b, 5)
    assert s.P[0, dai] == pytest.approx((owed * ratio4 + psm_dai * usdc) / (owed + psm_dai), rel=1e-12)
    assert float(s.P[0, dai]) == pytest.approx(0.87613, abs=1e-5)  # 0.84317 before s37; 0.99768 before session 29 (no cage); 0.84342 before s31-poolidx


def test_flop_recovery_pays_no_more_than_owed_and_no_less_than_the_clearing():
    from core.mechanisms.maker_backstop import flop_recovery
    rng = np.random.default_rng(11)
    owed = rng.uniform(0, 1e10, 2000)
    paid = owed * rng.uniform(0, 1, 2000)
    price, pledge = rng.uniform(0, 3000, 2000), rng.uniform(0, 2e9, 2000)
    rho = flop_recovery(paid, owed, 977e3, price, pledge)
    assert np.all(rho <= 1.0) and np.all(rho >= paid / owed - 1e-15)
    # more MKR equity never pays DAI holders less; none (the backstop failed) pays the clearing's ratio
    assert np.all(flop_recovery(paid, owed, 977e3, price * 1.1, pledge) >= rho)
    assert np.array_equal(flop_recovery(paid, owed, 977e3, 0.0, pledge), np.minimum(paid / owed, 1.0))


def test_held_dai_cover_is_what_the_debt_auctions_add_to_the_clearing():
    """:func:`core.engine.maker_vow.held_dai_cover`: $5.3bn of DAI held in the network, paid 0.7878 in the clearing
    (short about MKR's backstop at its dated close, 0.86 x 977,000 x $1,338.70 = $1.124803bn; 0.7305 at the former
    ~$1,700), DAI at 1.0 counting the debt auctions: MKR holders owe 5.3e9 x 0.2122 = $1.12466bn of it; a failed
    backstop (recovery = the clearing's ratio) or a Maker not defaulted (nothing held set aside) owes nothing here."""
    from types import SimpleNamespace

    from core.engine.maker_vow import held_dai_cover
    c = SimpleNamespace(maker=SimpleNamespace(m=1, protocol=1))
    paid_ratio = np.array([[1.0, 0.7878], [1.0, 0.7878], [1.0, 0.7878]])
    held = np.array([[0.0, 5.3e9], [0.0, 5.3e9], [0.0, 0.0]])
    cover = held_dai_cover(c, paid_ratio, held, np.array([1.0, 0.7878, 1.0]))
    assert cover[0] == pytest.approx(1.12466e9, rel=1e-12) and cover[1] == 0.0 and cover[2] == 0.0


def test_a_short_maker_counts_the_same_loss_before_and_after_its_default():
    """The pair of ``monotone-shipped-3pool-failed-maker-default-round-horizon`` (BTC -67.41%, ETH -79.76%, GBTC
    -85.02%, CRV_3POOL failed, full runs, capital $50M, 12 rounds), all three falls scaled by one factor ``t``,
    and the factor where MAKER's default first falls within the horizon found by bisection: a Maker short within
    MKR's backstop, its DAI held in the network. Found (before the one capital moved the edge), Maker's clearing
    was $1.428374bn short of its $5.3bn of DAI at both depths (paid ratio 0.7305); not defaulted, the shortfall
    was counted with the outside write-downs ($4.7119bn); defaulted, the network's DAI was set aside as borne
    through DAI's price, which counts the debt auctions (recovery 1.0000): the $1.428374bn was counted nowhere,
    outside $3.2835bn and system loss $25.570bn against $26.998bn. Now both count it
    (core.engine.maker_vow.held_dai_cover): on the tree of session 13's end the edge is at t = 1.00231473
    (Maker defaulting in round 11), the loss $27.0005bn on both sides, $5.73 apart at a gap of 2.3e-10 in t.
    (The pair itself no longer straddles the edge: the bisection keeps the test on it as the engine moves.)
    Session 37: at MKR's dated close of 6 May 2022 ($1,338.70, was ~$1,700) MKR's backstop is $1,307.91M x 0.86,
    not $1,660.90M x 0.86, and MAKER defaults within the horizon already at t = 1 (round 2 at t = 1.0, 0 from
    0.98): the bracket [1.0, 1.02] moved to [0.96, 0.97]; the edge is at t = 0.96220458 (Maker defaulting in round
    11, as before), the loss $25.9705bn on both sides, $15.45 apart at a gap of 6e-10 in t."""
    import json
    from pathlib import Path

    from invariants_support import at_point, network

    cases = json.loads((Path(__file__).parent / "regressions" / "invariant_counterexamples.json").read_text())
    case = next(c for c in cases if c["id"] == "monotone-shipped-3pool-failed-maker-default-round-horizon")
    base = Scenario.model_validate(case["scenario"])
    depths = {a: v[0] for a, v in case["depths"].items()}

    def run(ts):
        return simulate_batch(network("shipped"), [at_point(base, {a: v * t for a, v in depths.items()}, "price")
                                                   for t in ts])

    lo, hi = 0.96, 0.97  # [1.0, 1.02] before session 37 (MKR's dated close)
    br = run([lo, hi])
    mk = list(br.entity_ids).index("MAKER")
    assert br.default_round[:, mk].tolist()[0] == -1 and br.default_round[1, mk] >= 0, "the edge left [0.96, 0.97]"
    while hi - lo > 1e-9:
        ts = np.linspace(lo, hi, 9)
        late = run(ts).default_round[:, mk] >= 0
        k = int(np.argmax(late))
        lo, hi = ts[k - 1], ts[k]
    br = run([lo, hi])
    assert br.default_round[0, mk] == -1 and br.default_round[1, mk] >= 0
    # a factor 1e-9 apart moves the system loss by ~$30 (about $29.5bn per unit of t): no jump at the default
    assert abs(br.total_loss[1] - br.total_loss[0]) < 100.0
    assert abs(br.outside_loss[1] - br.outside_loss[0]) < 100.0


#: The line of ``monotone-2020-eth-74-full-runs-lag1-capital-50m-bad-debt``: full runs, oracle lag 1,
#: liquidity 0.98, liquidators' capital $50M a round.
LINE_2020 = dict(run_intensity=1.0, oracle_lag=1, liquidity=0.9762640210385409, liquidator_capacity_usd=5e7)
ETH_74 = (0.7449201320887404, 0.7452198783785391)


def _first_round_dai(net, depths):
    br = simulate_batch(net, [Scenario(price_shocks={"ETH": -d}, **LINE_2020) for d in depths], record=True)
    return br, br.history["prices"][:, 0, list(br.asset_symbols).index("DAI")]


def test_a_live_makers_dai_counts_its_debt_auctions_behind_its_vaults(net20):
    """``monotone-2020-eth-74-full-runs-lag1-capital-50m-bad-debt`` (core.engine.maker_claim.vault_claim). At ETH
    -74.52% the first round opens with Maker's ETH-A vaults under water in aggregate: 1,979,381 ETH at $49.427
    ($97.835M) for $98.505M of DAI ($100M less the $1.495M their owners repaid), a ratio of 0.99330. Priced at
    it, DAI's first-round price fell with ETH (1.00038 -> 0.99913 over the pair: the ratio times the CDP
    premium), drew the scarce capital to the ETH/DAI cohorts before DAI's 12% premium, and bad debt at reference
    fell $258.6k. The gap ($0.67M in aggregate; $17.87M vault by vault, session 18) is MKR holders' (vow.flop):
    1M MKR at $490.48 raise up to 0.86 x $490.48M = $421.81M ($378.4M at the row's former ~$440, session 37),
    so the claim is whole and DAI's first-round price is the CDP premium's alone at both depths; with MKR at
    one cent (0.86 x $10k = $8.6k behind the vaults) it is what the vaults pay again, each its own debt at most
    (session 18: 0.81865, not the aggregate ratio (97.835M + 8.6k) / 98.505M = 0.99329)."""
    br, dai = _first_round_dai(net20, ETH_74)
    assert dai[0] == pytest.approx(1.005992, abs=1e-6) and dai[1] == pytest.approx(1.005971, abs=1e-6)
    bad = br.bad_debt_reference_usd.sum(1)
    assert bad[1] >= bad[0] and br.total_loss[1] >= br.total_loss[0]
    # was $77.011M -> $76.752M; $77.0515M -> $77.0876M before session 27, when the capital bought the COMP and
    # DYDX cohorts' DAI at the lagging oracle's price: it pays DAI's market premium now (core.engine.capital.debt_cost)
    # $77.0767M -> $77.1127M before session 30: Compound's oracle reads DAI at its band's 1.05, not at its 12% premium
    # $76.7196M -> $76.7561M before session 45 (debtoracle): COMP's DAI cohorts still under water at the close are
    # short the units Compound's liquidation would book, at DAI's price to its oracle (the 0.95-1.05 band's 1.05),
    # not at DAI's premium: COMP $10,067,422 / $10,080,824 -> $9,565,993 / $9,580,176 (-$501,429 / -$500,648)
    assert bad.tolist() == pytest.approx([76.2182e6, 76.2555e6], rel=1e-5)
    ilks = net20.maker_ilks.copy()
    ilks["mkr_price_usd"] = 0.01
    poor = core.Network.from_frames(name="mkr_one_cent", **{**net20.frames(), "maker_ilks": ilks})
    _, dai_poor = _first_round_dai(poor, ETH_74[1:])
    eth = 194.0 * (1.0 - ETH_74[1])
    assert dai_poor[0] < 1.0
    # the skim rule (session 18, core.engine.maker_claim.vaults_cover): each vault's collateral covers its own debt
    # only, so the claim is no longer the aggregate (1_979_381.44 * eth + 0.86 * 1e6 * 0.01) / 98.505e6 = 0.99329
    # but what the under-water cohorts' vaults pay plus the above-water ones' debt, 0.81865 (measured; integrated
    # cohort by cohort in tests/test_vaults_cover.py)
    assert 1_979_381.44 * eth / 98.505e6 == pytest.approx(0.99320, abs=1e-5)
    assert dai_poor[0] / dai[1] == pytest.approx(0.8186537, rel=2e-5)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(x=st.floats(0.70, 0.80), dx=st.floats(1e-6, 0.01))
def test_a_deeper_eth_fall_on_the_2020_line_never_lowers_loss_or_bad_debt(net20, x, dx):
    """The line of ``monotone-2020-eth-74-...`` with $50M a round: loss and bad debt at reference prices
    never fall as ETH falls deeper (before the fix a 201-point grid over ETH -70% .. -80% found a $413.8k fall of
    bad debt between -74.45% and -74.55%, where Maker's vaults went under water in aggregate)."""
    from invariants_support import usd_tolerance

    br = simulate_batch(net20, [Scenario(price_shocks={"ETH": -d}, **LINE_2020) for d in (x, min(x + dx, 0.8))])
    tol = usd_tolerance(br)
    bad = br.bad_debt_reference_usd.sum(1)
    assert bad[1] >= bad[0] - tol and br.total_loss[1] >= br.total_loss[0] - tol
