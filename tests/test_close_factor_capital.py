"""Liquidators' capital in the close-factor rule is shared by the close-factor cohorts only
(core.engine.liquidate._close_factor, liquidate_cohorts): a Maker-style vault (its keepers' share is
core.engine.auction_vaults.taken_share's) or a Compound v3 position (absorbed by its protocol, no capital) asks
for none of it, as core.engine.capital.capital_limit's water-filling assumes (it weighs close-factor repayments
only). The round's capital is one: the close-factor rule has the share of it its ask is of its ask and the
auctions' lots (core.engine.capital.split_capital); an absorption asks none.

Worked numbers, one round, ETH $100, USDC and DAI $1, capital $200:

* A, close-factor (Aave v3): 10 ETH against 820 USDC, LT 0.8, bonus 5%: HF 800 / 820 = 0.976 (below 1, above
  the 0.95 full close), so the close factor's 50% asks 410 USDC for 430.5 USD of ETH. The capital repays 200:
  2.1 ETH seized, 7.9 ETH and 620 USDC left.
* B, Maker-style: 10 ETH against 900 DAI, ratio 1.5, penalty 13%: below its ratio (666.7 < 900), barked whole,
  a $1,000 lot. Beside A the one capital is split pro rata to what each rule asks (core.engine.capital.
  split_capital): A asks 410, B's lot 1,000, so A has 200 x 410 / 1,410 = 58.156 and keepers
  200 x 1,000 / 1,410 = 141.844, 0.14184 of the lot (clip era): 1.41844 ETH raise $141.84 against 127.66 DAI
  (tab 144.26; $14.18 of penalty), 8.58156 ETH and 772.34 DAI stay in their auction. (Before session 13 each
  rule had the whole $200: A repaid 200 and keepers took 0.2 of the lot, 2 ETH for $200, $400 of capital used
  of $200; tests/test_one_capital.py.)
* C, Compound v3: 10 ETH against 950 USDC, LT 0.9, penalty 7%: absorbed, 930 repaid, $20 of bad debt.

Counted in the close-factor rule's pro-rata share (its close factor of 50% on B, HF 0.74, asks 450 DAI), B left A
200 x 410 / 860 = 95.35 USDC of the $200, and the rest of that share went unused (C likewise: 475 asked, 92.66
left to A); a deeper shock that took B below its ratio took capital from A
(``monotone-synthetic1000-seed7-ftt-eth-e000504-runs-lag1-capital``).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from core.engine.compiled import ABSORB, CLOSE_FACTOR, MAKER_AUCTION
from core.engine.liquidate import liquidate_cohorts

ETH, USD = 0, 1


def _cohorts(styles):
    m = len(styles)
    return SimpleNamespace(c_ca=np.full(m, ETH), c_da=np.full(m, USD), c_style=np.array(styles),
                           c_spread=np.zeros(m), c_named=np.zeros(m, bool), maker=None,
                           c_self_issued=np.zeros(m, bool), c_peg=np.zeros(m),
                           c_full_close=np.array([0.95 if s == CLOSE_FACTOR else -1.0 for s in styles]),
                           c_safe_ratio=np.full(len(styles), np.nan))


#: (style, collateral ETH, debt, liquidation threshold, bonus or penalty) of A, B and C (module docstring).
A = (CLOSE_FACTOR, 10.0, 820.0, 0.8, 0.05)
B = (MAKER_AUCTION, 10.0, 900.0, 1 / 1.5, 0.13)
C = (ABSORB, 10.0, 950.0, 0.9, 0.07)


def _round(*cohorts, capacity=200.0):
    c = _cohorts([k[0] for k in cohorts])
    row = lambda i: np.array([[k[i] for k in cohorts]])  # noqa: E731
    coll, debt, lt, bonus = row(1), row(2), row(3), row(4)
    return liquidate_cohorts(c, coll, debt, np.array([[100.0, 1.0]]), lt, bonus, np.full_like(coll, 0.5),
                             np.array([capacity]), np.zeros(1, bool))


def test_close_factor_cohort_alone():
    r = _round(A)
    np.testing.assert_allclose(r.debt_repaid, [[200.0]])
    np.testing.assert_allclose(r.collateral_seized, [[2.1]])
    np.testing.assert_allclose(r.collateral_after, [[7.9]])
    np.testing.assert_allclose(r.debt_after, [[620.0]])


def test_an_absorbed_cohort_takes_none_of_the_close_factor_capital():
    alone, both = _round(A), _round(A, C)
    for f in ("debt_repaid", "collateral_seized", "collateral_after", "debt_after", "bad_debt"):
        np.testing.assert_allclose(getattr(both, f)[:, :1], getattr(alone, f), rtol=1e-12, err_msg=f)
    assert both.debt_repaid[0, 0] == pytest.approx(200.0)  # was 92.66 beside C (its close factor's 475 counted)


def test_a_maker_style_cohort_takes_its_share_of_the_one_capital():
    """Beside B, A has the share of the capital its ask is of both asks: 200 x 410 / 1,410 (was 200 before
    session 13, keepers then taking another $200; 95.35 before session 12, B's close factor counted)."""
    r = _round(A, B)
    assert r.debt_repaid[0, 0] == pytest.approx(200.0 * 410.0 / 1410.0, rel=1e-12)
    assert r.collateral_seized[0, 0] == pytest.approx(200.0 * 410.0 / 1410.0 * 1.05 / 100.0, rel=1e-12)


def test_the_other_rules_figures_are_their_own():
    r = _round(A, B, C)
    # B: keepers take 200 / 1,410 of the barked vault (taken_share: their $141.84 share of a $1,000 lot; 0.2, 2 ETH
    # for $200, before session 13, when keepers had the whole capital beside A's)
    taken = 200.0 / 1410.0
    np.testing.assert_allclose([r.collateral_seized[0, 1], r.debt_repaid[0, 1], r.protocol_fee[0, 1]],
                               [10.0 * taken, 900.0 * taken, 1000.0 * taken - 900.0 * taken], rtol=1e-12)
    np.testing.assert_allclose([r.collateral_after[0, 1], r.debt_after[0, 1]], [10.0 * (1 - taken), 900.0 * (1 - taken)],
                               rtol=1e-12)
    # C: absorbed whole, 10 ETH x 100 x 0.93 = 930 of its 950 repaid, 20 of bad debt
    np.testing.assert_allclose([r.debt_repaid[0, 2], r.collateral_seized[0, 2], r.bad_debt[0, 2], r.debt_after[0, 2]],
                               [930.0, 10.0, 20.0, 0.0])


def test_a_vault_above_its_ratio_asks_none_of_the_capital():
    """B above its ratio (600 DAI: 666.7 > 600, not barked): A has the whole capital, as alone; below it (900) A
    has its pro-rata share (before session 13 A's figures were the same at both, keepers' $200 being a second
    capital). A cohort of one vault is barked whole at its ratio; the engine's cohorts are spreads of vaults,
    barked by shares (core.engine.auction_vaults.barked_share), so the split moves continuously."""
    above = (MAKER_AUCTION, 10.0, 600.0, 1 / 1.5, 0.13)
    ra, rb = _round(A, above), _round(A, B)
    assert not ra.liquidated[0, 1] and rb.liquidated[0, 1]
    np.testing.assert_array_equal(ra.debt_repaid[:, 0], _round(A).debt_repaid[:, 0])
    assert rb.debt_repaid[0, 0] == pytest.approx(200.0 * 410.0 / 1410.0, rel=1e-12)
    np.testing.assert_allclose(ra.debt_after[0, 1], 600.0)
