"""Arbitrageurs buy UST where the Curve pool sells it below what the market module pays and redeem it with the
module's spare capacity (core.engine.module_arbitrage), worked on the Terra preset."""

from __future__ import annotations

import numpy as np
import pytest

import core
import core.engine.rounds as rounds
from core.engine import module_arbitrage
from core.engine.pools import pool_price
from core.mechanisms.pegs import ALGO_REDEMPTION_CAP, PEG_CALM_BAND

NET = core.datasets.load("crypto-2022-05")
SYMS = list(NET.assets["symbol"])
UST, LUNA = SYMS.index("UST"), SYMS.index("LUNA")


@pytest.fixture(scope="module")
def terra():
    """Each round's module-arbitrage step on the Terra preset: (round, before, after)."""
    seen = []

    def step(c, s, b, r):
        p = list(c.pool_asset).index(UST)
        pe = c.pool_entity[p]
        before = dict(supply=s.supply[0].copy(), res=s.pool_res[0, p].copy(), px=s.pool_px[0, p], P=s.P[0].copy(),
                      redeemed=s.algo_redeemed[0, UST], lmc=s.log_mcap[0, LUNA], held=s.H[0, pe].copy(),
                      cap=ALGO_REDEMPTION_CAP * c.supply[UST] * c.peg1[UST], peg=c.peg1[UST])
        out = module_arbitrage.redeem_pool_coins(c, s, b, r)
        after = dict(supply=np.asarray(out.get("supply", s.supply))[0], res=np.asarray(out.get("pool_res", s.pool_res))[0, p],
                     px=np.asarray(out.get("pool_px", s.pool_px))[0, p], P=np.asarray(out.get("P", s.P))[0],
                     held=s.H[0, pe].copy(), priced=pool_price(c, np.asarray(out.get("pool_res", s.pool_res)))[0, p])
        seen.append((r, before, after))
        return out

    mp = pytest.MonkeyPatch()
    mp.setattr(rounds, "STEPS", tuple(step if f is module_arbitrage.redeem_pool_coins else f for f in rounds.STEPS))
    try:
        core.simulate(NET, core.load_scenario(core.datasets.scenario_dir() / "terra_may_2022.json"))
    finally:
        mp.undo()
    return seen


def test_arbitrageurs_redeem_pool_ust_with_the_spare_capacity_only(terra):
    bought = []
    for r, before, after in terra:
        units = before["supply"][UST] - after["supply"][UST]
        assert units >= 0
        if units == 0:
            assert after["res"].tolist() == before["res"].tolist()
            continue
        bought.append((r, units))
        # at most what the holders' redemptions left of the round's capacity
        assert units * before["peg"] <= before["cap"] - before["redeemed"] + 1e-6
        # the units burnt are the units the pool gave up, and the pool's holdings follow it
        assert before["res"][0] - after["res"][0] == pytest.approx(units, abs=1e-15 * before["supply"][UST])
        assert after["held"][UST] == pytest.approx(after["res"][0], rel=1e-9)  # the holdings carry withdrawn units
        # the arbitrageurs paid the counter coin in; the pool's price rose to what the redemption realises
        assert after["res"][1] > before["res"][1] and after["px"] > before["px"]
        assert after["px"] == after["priced"]
        worth = module_arbitrage._worth(np.array([units * before["peg"]]), before["peg"], np.array([before["lmc"]]))[0]
        assert after["px"] <= worth * (1 + 1e-9)
        assert after["px"] == pytest.approx(worth, rel=1e-6)
        # LUNA was minted for them and fell; UST rose at most to the pool's new price (session 39: by the purchase's
        # own move of the pool, as a reserve's purchase lifts it, core.engine.module_arbitrage)
        assert after["supply"][LUNA] > before["supply"][LUNA] and after["P"][LUNA] < before["P"][LUNA]
        assert after["P"][UST] <= after["priced"] * (1 + 1e-12)
    # Anchor's depositors leave UST every round it is below peg (core.engine.withdraw.coin_exit_share), so from 9 May
    # (round 2) the holders' own redemptions use the whole capacity ($925M) every round and nothing is left for the
    # arbitrageurs. (Before, the run on Anchor stopped at 32% of its depositors, the holders' own UST ran out on 18
    # May, and arbitrageurs bought 28.2M, 6,159 and 2,939 UST from the pool in rounds 11-13.)
    assert bought == []
    assert all(before["redeemed"] == before["cap"] for r, before, _ in terra if r >= 2)


def test_arbitrageurs_use_what_the_holders_leave_worked_numbers():
    """10 May (round 3) of the Terra preset, the round's steps up to the module arbitrage as the preset has them, then
    the arbitrage as if the holders had redeemed nothing this round (their own UST gone): the whole $925M of
    capacity is spare. The pool holds 704.28M UST against 10.06M of counter at a price of 0.40774; the arbitrageurs
    buy 74.162M UST, which lifts it to 0.97141, what a redemption of $74.162M realises against LUNA's market cap,
    w(R) = 0.98 / (1 + 0.98 R / MC); 3.832M LUNA are minted for them and LUNA falls from 18.964 to 18.633. UST stays at
    0.40774: the purchase lifts it by its own move of the pool (session 39), but not through the range of pool prices
    the round's queue sale took the pool down through while UST stayed (the whole move lies in it).
    (Decision 29, Session 46 (defender): LFG is paid the LUNA minted for the UST it redeems in rounds 2-3 (0.055M and
    1.472M LUNA, where it took $1.45M and $30.76M of the window's cash), its defence sells none of its LUNA (0.222M in
    round 3 before) and the queue none of its UST (0.29M and 12.93M in rounds 2-3 before): LUNA opens round 3's
    arbitrage at 18.96428023 (was 18.95836674); the queue sells less into the pool, which holds 704.28031040M /
    10.05687893M at 0.4077407309 (was 704.28375660M / 10.05547389M at 0.4076745877); 74.16218452M bought (74.16240186M),
    w 0.9714111331 (0.9714086668), 3.832412300M LUNA minted (3.833618941M), LUNA -> 18.63332529 (18.62742041).)
    (Session 41, reserve, decision 22: LFG's budget in proportion to the discount beyond the band. UST opens round 0
    at 0.9949766, 2.34e-5 beyond the band's edge, so LFG may spend 0.47 % of its half ($6.86M of its $2,930.00M,
    against $1,465.00M, of which $184M lifted UST to 0.99999); it spends that, UST closes rounds 0-1 at 0.995421
    against 0.999992 with the pool at 528.11M / 172.26M against 350.60M / 349.47M, round 2's queue sale sells
    $0.170bn into the pool against $0.348bn and UST closes it at 0.520919 against 0.520818; round 3's pool is then
    704.28375660M / 10.05547389M at 0.4076745877 (before: 704.19210331M / 10.09291927M at 0.4094353983), 74.16240186M
    bought (74.08103950M), w 0.9714086668 (0.9714165262), 3.833618941M LUNA minted (3.830195452M), LUNA 18.95836674
    -> 18.62742041 (18.95449452 -> 18.62391715), UST 0.4076745877 (0.4094353983).
    Session 40, anchor: Anchor's queue sells the contract's amount, each position below HF 1 sized at its own HF, all
    of a position's LUNA past HF m / d, so more LUNA is seized and sold in rounds 0-2 (ANCHOR's liquidations $12.58M,
    $109.83M, $494.92M -> $17.13M, $125.12M, $778.30M) and LUNA opens round 3 lower (63.48 -> 63.39 after round 1);
    before, on decisions 19 and 21, 704.12M against 10.12M at 0.41074, 74.074M bought, 3.802M LUNA minted, LUNA
    19.091 -> 18.760, w 0.97146. Session 38, decision 21: the holders no longer redeem at 0.99999 in rounds 0-1, $0.59M less burnt and
    LUNA a little higher; before, 704.12M against 10.12M at 0.41075 (704.12398627M / 10.12085344M), 74.07395525M
    bought, 3.802587598M LUNA minted, LUNA 19.09028373 -> 18.75913581, w 0.9714630752. Session
    34, anchorfee: Anchor's queue keeps its 1% liquidator fee beside the bid fee, more bLUNA seized and sold a UST
    repaid; before, 704.12M against 10.12M at 0.41083, 74.0735M bought, 3.801M LUNA minted, LUNA 19.098 -> 18.767.
    Session 33, anchor: Anchor's loans weighed at $1 a UST come due in round 3, more bLUNA sold; before, the pool held
    703.95M against 10.19M at 0.41415, 74.056M bought, 3.744M LUNA minted, LUNA 19.384 -> 19.052. Session 30,
    s30-anchor, before that: 703.94M against 10.20M at 0.41430, 74.055M, 3.741M, LUNA 19.398 -> 19.066.)"""
    from core.engine.batch import build_batch
    from core.engine.compiled import compile_network
    from core.engine.rounds import STEPS, run_round
    from core.engine.state import initial_state

    c = compile_network(NET)
    b = build_batch(c, [core.load_scenario(core.datasets.scenario_dir() / "terra_may_2022.json")], NET, True)
    s = initial_state(c, b)
    p = list(c.pool_asset).index(UST)
    for r in range(3):
        run_round(c, s, b, r)
    for step in STEPS[:STEPS.index(module_arbitrage.redeem_pool_coins)]:
        changes = step(c, s, b, 3)
        if changes:
            s.apply(changes)
    assert s.algo_redeemed[0, UST] == pytest.approx(925e6)  # the holders used it all
    assert s.pool_res[0, p].tolist() == pytest.approx([704.28031040e6, 10.05687893e6], rel=1e-9)
    assert s.pool_px[0, p] == pytest.approx(0.4077407309, rel=1e-9)
    s.algo_redeemed[:, UST] = 0.0
    supply, lmc, P = s.supply[0].copy(), s.log_mcap[0, LUNA], s.P[0].copy()
    out = module_arbitrage.redeem_pool_coins(c, s, b, 3)
    units = supply[UST] - out["supply"][0, UST]
    assert units == pytest.approx(74.16218452e6, rel=1e-8)
    assert units * c.peg1[UST] <= ALGO_REDEMPTION_CAP * c.supply[UST] * c.peg1[UST]
    worth = module_arbitrage._worth(np.array([units * c.peg1[UST]]), c.peg1[UST], np.array([lmc]))[0]
    assert out["pool_px"][0, p] == pytest.approx(worth, rel=1e-9)
    assert worth == pytest.approx(0.9714111331, rel=1e-9)
    assert (s.pool_res[0, p, 0] - out["pool_res"][0, p, 0]) == pytest.approx(units, rel=1e-12)
    assert out["supply"][0, LUNA] - supply[LUNA] == pytest.approx(3.832412300e6, rel=1e-8)
    assert (P[LUNA], out["P"][0, LUNA]) == pytest.approx((18.96428023, 18.63332529), rel=1e-9)
    # Not lifted: the purchase moves the pool only through the range round 3's queue sale took it down through while
    # UST stayed (from 0.40767458766388 to 0.99998), so UST keeps its price to the bit (session 41, reserve:
    # redeem_pool_coins returns P itself where no lift is due). (Session 40 had rel=1e-12: on that tree the
    # queue sale left the pool 3 ulps under the range's low, UST's queue value, 0.40943539828564496 against ...623,
    # and the arbitrage lifts UST back to the low; the product P * px / px_before / round_trip also returned P
    # only up to rounding where the move was all inside the range.)
    low, high = s.pool_unfollowed[0, p, 0]
    assert low <= s.pool_px[0, p] and out["pool_px"][0, p] <= high
    assert out["P"][0, UST] == P[UST]
    assert P[UST] == pytest.approx(0.4077407309, rel=1e-9)


def test_no_purchase_while_the_holders_use_the_whole_capacity(terra):
    for _r, before, after in terra:
        if before["redeemed"] >= before["cap"]:
            assert after["supply"][UST] == before["supply"][UST]


@pytest.mark.parametrize("rows", [1, 3, 8, 9])
def test_the_bisections_coin_balances_are_the_solves_to_the_last_bit(rows):
    """The bisection's lean evaluation of the moved pool (module_arbitrage._coin_zero_at: the reserves, D, D^3, 4A
    and the price at the reserves made Python floats once, then the per-pool float solve at each step) returns
    stableswap_balances_for_price's coin 0, bit for bit, at prices below, at and above the pool's, for a few rows
    (the float path) and for more than FLOAT_POOLS rows (which it hands back to the solve itself)."""
    from core.engine.compiled import compile_network
    from core.engine.module_arbitrage import _at_price, _coin_zero_at, _invariant_of, _MAX_ITER
    from core.mechanisms.stableswap_price_target import stableswap_balances_for_price
    import inspect

    assert _MAX_ITER == inspect.signature(stableswap_balances_for_price).parameters["max_iter"].default
    c = compile_network(NET)
    p = list(c.pool_asset).index(UST)
    assert np.isfinite(c.pool_A[p]), "UST's pool is a stableswap pool"
    rng = np.random.default_rng(rows)
    pool = c.pool_res0[p] * rng.uniform(0.2, 5.0, (rows, 2))
    invariant = _invariant_of(c, p, pool)
    quote = invariant[1]
    coin_zero = _coin_zero_at(c, p, pool, invariant)
    for scale in (0.5, 1.0, 1.0 + 1e-12, 1.3, 4.0, rng.uniform(0.5, 3.0, rows)):
        price = quote * scale
        want = _at_price(c, p, pool, price, invariant)[:, 0]
        assert coin_zero(price).tobytes() == want.tobytes()
        solved = stableswap_balances_for_price(pool, np.full(rows, c.pool_A[p]), price)[:, 0]
        assert coin_zero(price).tobytes() == solved.tobytes()


def test_the_arbitrage_lifts_the_coin_it_buys_with_its_pool():
    """TETHER forced to fail on the 2022 network, nothing else: USDT at 0 puts UST's pool (priced over 3CRV's coins,
    decision 19) at 2/3 of a dollar, LFG buys it back to 0.972861 and the holders redeem in round 0; with the
    capacity they leave, arbitrageurs buy 0.209M UST from the pool and lift it to 0.979993, and UST with it: a coin
    trading at its pool's price rises with the pool its redemption lifts, by the purchase's own move (Terra x/market
    spec: arbitrage against the market module holds the peg; core.engine.module_arbitrage). Round 1's defence buys
    the pool to peg and UST to 0.99999992, inside decision 21's band: the run stops and the cascade settles after 3
    rounds. (Before, session 38: UST stayed at 0.973246 under a pool at 0.979993, round 1's defence lifted it by its
    own move only, to 0.993115 under a pool at peg, and nothing lifted it again: its holders redeemed a little every
    round and LUNA fell $74.52 -> $63.96 over 60 rounds without settling; the closing search's pair
    s39-crvust-2022-btc-57-…-tether-failed-… fell $1,188.01M that way.)"""
    from core.engine import simulate_batch
    from core.engine.pools import counter_move
    from core.scenario import Scenario

    seen = []

    def step(c, s, b, r):
        p = list(c.pool_asset).index(UST)

        def pool_usd(P, px):  # the dollar price at which the pool sells UST
            return c.P0[UST] * px[0, p] / c.pool_ref[p] * counter_move(c, P)[0, p]

        before = (s.P[0, UST], pool_usd(s.P, s.pool_px), s.supply[0, UST])
        out = module_arbitrage.redeem_pool_coins(c, s, b, r)
        P, px = np.asarray(out.get("P", s.P)), np.asarray(out.get("pool_px", s.pool_px))
        seen.append((r, before, (P[0, UST], pool_usd(P, px), np.asarray(out.get("supply", s.supply))[0, UST])))
        return out

    mp = pytest.MonkeyPatch()
    mp.setattr(rounds, "STEPS", tuple(step if f is module_arbitrage.redeem_pool_coins else f for f in rounds.STEPS))
    try:
        res = simulate_batch(NET, [Scenario(forced_defaults=["TETHER"], horizon=60)], record=True)
    finally:
        mp.undo()
    r, (coin, pool, supply), (coin_after, pool_after, supply_after) = seen[0]
    # Decision 29 (Session 46 (defender)): round 0's defence no longer counts LFG's LUNA in its reserve, so its budget
    # buys 331.9596M UST, not 331.9711M, and the steep end of the pool (18.0M UST left of 350M) stops at 1.4592911370
    # counter units, not 1.4598688992: UST 0.9732459328 -> 0.9728607580; the arbitrageurs buy 197,315.0647 ->
    # 208,764.6636 UST and lift it to 0.9799930382 -> 0.9799926602. LFG keeps the 0.3712M LUNA minted for the 28.58M
    # UST it redeems in round 0 (it took $27.68M of the window's cash) and sells none (0.1261M before): LUNA closes
    # rounds 0-1 at 74.52368936 / 74.32378565 -> 74.77291301 / 74.40593163, UST round 1 0.9999999210 -> 0.9999999182
    assert coin == pytest.approx(pool, rel=1e-12) == pytest.approx(0.9728607580, rel=1e-9)  # at its pool's price
    assert supply - supply_after == pytest.approx(208_764.6636, rel=1e-8)  # the units bought and redeemed
    assert coin_after == pytest.approx(pool_after, rel=1e-12) == pytest.approx(0.9799926602, rel=1e-9)
    assert all(after[0] <= after[1] * (1 + 1e-12) for _, _, after in seen)  # never above the pool
    assert int(res.rounds_run[0]) == 3
    prices = res.history["prices"][0]
    assert prices[1, UST] == pytest.approx(0.9999999182, rel=1e-9) and prices[1, UST] > 1 - PEG_CALM_BAND
    # session 40 (anchor, the queue's contract amount, each position below HF 1 at its own HF): round 1's bLUNA
    # liquidations $20.42M -> $18.59M (LUNA -3.2 %: the positions below HF 1 repay the contract's ~45 % of their debt
    # where the data's close factor repaid half), so less LUNA sold: round 1's LUNA 74.30851479 -> 74.32378565
    assert (prices[0, LUNA], prices[1, LUNA]) == pytest.approx((74.77291301, 74.40593163), rel=1e-9)
