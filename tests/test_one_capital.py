"""One liquidators' capital a round (``liquidator_capacity_usd``), not one per rule (issue 11, Engine 2).

Model (core.engine.capital.split_capital): the close-factor cohorts ask :math:`A` (USD their rule repays at the
liquidators' limits), the Maker-style auctions :math:`V` (what keepers pay for their lots: a lot's value at the price
it clears at, at most its tab, as ``clip.take`` pays) and the Maker system's own auctions :math:`M`
(core.engine.maker_ask.keeper_ask, tests/test_maker_ask.py); where :math:`A + V + M > K` each has the share of
:math:`K` its ask is of :math:`A + V + M`, else the Maker system has what the other two leave, :math:`K - A - V`;
Compound v3 absorptions take none. Before, each rule had the whole capital: at $200 a close-factor cohort repaid $200 and keepers took $200 of
lots beside it; on the 2020 snapshot at ETH -50% and $20M a round, round 0 used $44.07M (close-factor $13.34M,
Maker-style keepers $10.73M, the Maker system's keepers $20.00M: 2.20 x the capital); on crypto-2022-05 at ETH
-50%, BTC -40% and $50M, $100M a round (close-factor $50M and Maker's keepers $50M).

Worked numbers (liquidate_cohorts alone), ETH $100, DAI and USDC $1, capital $200:

* A, close-factor (Aave v3): 10 ETH against 820 USDC, LT 0.8, bonus 5%: HF 0.976, its close factor asks 410.
* B, Maker-style: 10 ETH against 900 DAI, ratio 1.5, penalty 13%: barked whole, a $1,000 lot.

:math:`A + V = 1{,}410 > 200`: A has 200 x 410 / 1,410 = 58.1560 and repays it (0.61064 ETH seized); keepers
have 200 x 1,000 / 1,410 = 141.8440, 0.141844 of the lot: 1.41844 ETH for $141.84 (127.66 DAI repaid, $14.18 of
penalty; the tab 144.26 is more than the lot). $200.00 used in all (was $400: A $200, keepers $200).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import core
from core.engine import simulate_batch
from core.engine import liquidate as liquidate_module
from core.engine import maker as maker_module
from core.engine import rounds as rounds_module
from core.engine.capital import split_capital
from core.engine.compiled import ABSORB, CLOSE_FACTOR, MAKER_AUCTION
from core.engine.liquidate import liquidate_cohorts
from core.engine.maker_ask import keeper_capacity
from core.scenario import Scenario

ETH, USD = 0, 1
A = (CLOSE_FACTOR, 10.0, 820.0, 0.8, 0.05)
B = (MAKER_AUCTION, 10.0, 900.0, 1 / 1.5, 0.13)
C = (ABSORB, 10.0, 950.0, 0.9, 0.07)


def _round(*cohorts, capacity=200.0, flip=False):
    styles = [k[0] for k in cohorts]
    m = len(styles)
    c = SimpleNamespace(c_ca=np.full(m, ETH), c_da=np.full(m, USD), c_style=np.array(styles), c_spread=np.zeros(m),
                        c_self_issued=np.zeros(m, bool), c_peg=np.zeros(m),
                        c_named=np.zeros(m, bool), maker=SimpleNamespace(flip=True, cohort_mask=np.zeros(m, bool)) if flip else None,
                        c_full_close=np.array([0.95 if s == CLOSE_FACTOR else -1.0 for s in styles]),
                           c_safe_ratio=np.full(len(styles), np.nan))
    row = lambda i: np.array([[k[i] for k in cohorts]])  # noqa: E731
    coll, debt, lt, bonus = row(1), row(2), row(3), row(4)
    return liquidate_cohorts(c, coll, debt, np.array([[100.0, 1.0]]), lt, bonus, np.full_like(coll, 0.5),
                             np.array([capacity]), np.zeros(1, bool))


def _used(r, styles):
    """USD the round's liquidators paid: close-factor repayments, keepers' payments for lots (DAI at $1)."""
    close = np.array([s == CLOSE_FACTOR for s in styles])
    maker = np.array([s == MAKER_AUCTION for s in styles])
    return float(r.debt_repaid[0, close].sum()), float((r.debt_repaid + r.protocol_fee)[0, maker].sum())


@pytest.mark.parametrize("flip", [False, True], ids=["clip", "flip"])
def test_the_close_factor_cohort_and_the_auction_share_one_capital(flip):
    r = _round(A, B, C, flip=flip)
    close, keepers = _used(r, [A[0], B[0], C[0]])
    assert close == pytest.approx(200.0 * 410.0 / 1410.0, rel=1e-12)  # 58.156 (200 before)
    assert keepers == pytest.approx(200.0 * 1000.0 / 1410.0, rel=1e-12)  # 141.844 (200 before)
    assert close + keepers <= 200.0 * (1 + 1e-12)
    assert r.collateral_seized[0, 0] == pytest.approx(close * 1.05 / 100.0, rel=1e-12)
    if flip:  # flip.sol: the whole lot goes, at the price keepers' share pays (the rest at zero bids)
        assert r.collateral_seized[0, 1] == pytest.approx(10.0)
        assert r.bad_debt[0, 1] == pytest.approx(900.0 - keepers, rel=1e-12)
    else:  # clip.sol: keepers take their share of the lot, the rest stays in its auction
        assert r.collateral_seized[0, 1] == pytest.approx(10.0 * 200.0 / 1410.0, rel=1e-12)
        assert r.debt_after[0, 1] == pytest.approx(900.0 * (1.0 - 200.0 / 1410.0), rel=1e-12)
    # Compound v3 absorbs C whole whatever the capital: 930 repaid, $20 of bad debt
    np.testing.assert_allclose([r.debt_repaid[0, 2], r.bad_debt[0, 2]], [930.0, 20.0])


def test_keepers_ask_what_a_lot_costs_them_at_most_its_tab():
    """B2, 10 ETH against 700 DAI (barked: $1,000 < 700 x 1.5), a $1,000 lot with a tab of 791 (13% penalty): keepers
    ask 791, not 1,000. A + V = 1,201 > 200: A has 200 x 410 / 1,201 = 68.28, keepers 200 x 791 / 1,201 = 131.72,
    200 / 1,201 = 0.16653 of the barked vault: 1.3172 ETH for $131.72 (116.57 DAI repaid, $15.15 of penalty); the
    rest of that share's 1.6653 ETH, 0.3481, goes back to its owner, out of the (anonymous) cohort
    (core.engine.auction_vaults.returned_to_owner)."""
    B2 = (MAKER_AUCTION, 10.0, 700.0, 1 / 1.5, 0.13)
    r = _round(A, B2)
    close, keepers = _used(r, [A[0], B2[0]])
    taken = 200.0 / (410.0 + 791.0)
    assert close == pytest.approx(410.0 * taken, rel=1e-12)
    assert keepers == pytest.approx(791.0 * taken, rel=1e-12)
    assert close + keepers == pytest.approx(200.0, rel=1e-12)
    np.testing.assert_allclose([r.collateral_seized[0, 1], r.debt_repaid[0, 1], r.protocol_fee[0, 1]],
                               [7.91 * taken, 700.0 * taken, 91.0 * taken], rtol=1e-12)
    np.testing.assert_allclose([r.collateral_after[0, 1], r.debt_after[0, 1]], [10.0 - 10.0 * taken, 700.0 * (1 - taken)],
                               rtol=1e-12)


def test_ample_capital_is_each_rules_own():
    """With $2,000 (more than the 1,410 asked) and with none, each rule's figures are its own alone."""
    for capacity in (2000.0, np.inf):
        both = _round(A, B, capacity=capacity)
        for cohort, j in ((A, 0), (B, 1)):
            alone = _round(cohort, capacity=capacity)
            for f in ("debt_repaid", "collateral_seized", "debt_after", "protocol_fee", "bad_debt"):
                assert getattr(both, f)[0, j] == getattr(alone, f)[0, 0], (capacity, f)


def test_split_by_hand():
    close, auctions, maker = split_capital(np.array([200.0, 2000.0, np.inf, 200.0, 200.0]),
                                          np.array([410.0, 410.0, 410.0, 410.0, 0.0]),
                                          np.array([1000.0, 1000.0, 1000.0, 0.0, 1000.0]))
    np.testing.assert_allclose(close, [58.156028368794324, 2000.0, np.inf, 200.0, 0.0], rtol=1e-15)
    np.testing.assert_allclose(auctions, [141.8439716312057, 2000.0, np.inf, 0.0, 200.0], rtol=1e-15)
    np.testing.assert_array_equal(maker, [0.0, 590.0, np.inf, 0.0, 0.0])  # the Maker system, asking none: what is left
    # a rule alone has the capital exactly (no rounding through the ratio)
    assert close[3] == 200.0 and auctions[4] == 200.0


def test_split_is_continuous_and_monotone_in_the_asks():
    """The close-factor share falls continuously as the lots grow from 0 (no cliff where auctions start), and
    the two shares never exceed the capital."""
    lots = np.concatenate([[0.0, 1e-9, 1e-6], np.linspace(0.001, 5000.0, 4001)])
    K = np.full(len(lots), 200.0)
    close, auctions, maker = split_capital(K, np.full(len(lots), 410.0), lots)
    assert close[0] == 200.0 and close[1] == pytest.approx(200.0, rel=1e-11)
    assert (np.diff(close) <= 1e-12).all() and (np.diff(auctions[1:]) >= -1e-12).all()
    assert (close + auctions <= 200.0 * (1 + 1e-15)).all() and (maker == 0.0).all()
    served = np.where(lots > 0, auctions / np.where(lots > 0, lots, 1.0), 1.0)
    np.testing.assert_allclose(served[1:], (close / 410.0)[1:], rtol=1e-12)  # one share of every ask


def test_the_maker_systems_keepers_have_their_share():
    """Their share of the capital (core.engine.capital.split_capital), at most the table's 300 a day; none halted."""
    mk = SimpleNamespace(keeper_capacity=np.array(300.0))
    b = SimpleNamespace(capacity=np.array([200.0, 200.0, np.inf, np.inf]), liquidity=np.ones(4), round_hours=None, S=4)
    halted = np.array([False, False, False, True])
    np.testing.assert_array_equal(keeper_capacity(mk, b, halted, np.array([0.0, 150.0, np.inf, np.inf])),
                                  [0.0, 150.0, 300.0, 0.0])
    np.testing.assert_array_equal(keeper_capacity(mk, b, halted), [200.0, 200.0, 300.0, 0.0])  # the whole capacity


def _used_each_round(monkeypatch, network, scenarios):
    """USD paid by every rule in each round of each scenario, (rounds, scenarios): close-factor repayments,
    Maker-style keepers' payments (repaid + penalty, at the oracle's debt price) and the Maker system's DAI raised."""
    used: list[list[float]] = []
    now: dict[str, np.ndarray] = {}
    run_round, cohorts, clip_round, flip_round = (rounds_module.run_round, liquidate_module.liquidate_cohorts,
                                                  maker_module.maker_round, maker_module.maker_flip_round)

    def cohorts_spy(c, coll, debt, Po, *a, **k):
        res = cohorts(c, coll, debt, Po, *a, **k)
        Pd = Po[:, c.c_da]
        maker = (c.c_style == MAKER_AUCTION) & ~(c.maker.cohort_mask if c.maker is not None else False)
        close = (c.c_style != MAKER_AUCTION) & (c.c_style != ABSORB)
        now["rows"] = (res.debt_repaid * Pd)[:, close].sum(1) + (res.debt_repaid * Pd + res.protocol_fee)[:, maker].sum(1)
        return res

    def maker_spy(run):
        def spy(*a, **k):
            res = run(*a, **k)
            now["maker"] = res.dai_raised.sum(1)
            return res
        return spy

    def round_spy(c, s, b, r):
        now.clear()
        run_round(c, s, b, r)
        used[-1].append(float(np.sum(now.get("rows", 0.0)) + np.sum(now.get("maker", 0.0))))

    monkeypatch.setattr(rounds_module, "run_round", round_spy)
    monkeypatch.setattr(liquidate_module, "liquidate_cohorts", cohorts_spy)
    monkeypatch.setattr(maker_module, "maker_round", maker_spy(clip_round))
    monkeypatch.setattr(maker_module, "maker_flip_round", maker_spy(flip_round))
    for sc in scenarios:  # one a batch: the steps compute the rows with something to do, a row at most
        used.append([])
        simulate_batch(network, [sc])
    return np.array(used).T


@pytest.mark.parametrize("name, shocks, capital", [
    ("crypto-2020-03", [{"ETH": -0.5}, {"ETH": -0.3}, {"ETH": -0.65, "BTC": -0.3}], 20e6),
    ("crypto-2022-05", [{"ETH": -0.5, "BTC": -0.4}, {"ETH": -0.3}], 50e6),
])
def test_no_round_spends_more_than_the_capital(monkeypatch, name, shocks, capital):
    """Every rule together pays at most the capital in every round (the rows whose shocks leave rules idle
    too). Before: 2.20 x on 2020 (round 0 of ETH -50%), 2.00 x on 2022."""
    network = core.datasets.load(name)
    scenarios = [Scenario(price_shocks=sh, liquidator_capacity_usd=capital, horizon=3) for sh in shocks]
    used = _used_each_round(monkeypatch, network, scenarios)
    assert used.max() > 0.5 * capital  # the capital binds somewhere
    assert (used <= capital * (1 + 1e-9)).all(), used / capital
