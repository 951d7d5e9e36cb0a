"""A loop's liquidation swaps the seized collateral back into the debt it repays (core.engine.loop_swaps)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import core
from core.engine.compiled import compile_network
from core.engine.loop_swaps import loop_cohorts, swapped_back
from core.scenario import Scenario

NET25 = core.datasets.load("crypto-2025-10")


def test_the_2025_loops_are_the_wrapped_collateral_against_its_own_underlying():
    c = compile_network(NET25)
    loop, _ = loop_cohorts(c)
    symbols = list(c.symbols)
    pairs = {(symbols[a], symbols[d]) for a, d in zip(c.c_ca[loop], c.c_da[loop])}
    assert ("weETH", "ETH") in pairs and ("stETH", "ETH") in pairs
    assert all(symbols[c.peg_unit[symbols.index(a)]] == d for a, d in pairs)
    # a cohort borrowing a stablecoin against weETH is no loop
    weeth = symbols.index("weETH")
    assert not loop[(c.c_ca == weeth) & (c.c_da != symbols.index("ETH"))].any()


@settings(max_examples=200, deadline=None)
@given(sold=st.floats(0.0, 1e9), repaid=st.floats(0.0, 1e9), worth=st.floats(0.0, 2.0))
def test_what_reaches_the_book_is_at_most_what_was_sold_and_what_the_debt_leaves(sold, repaid, worth):
    """Never negative, never more than sold, and the rest is the seized worth beyond the repaid debt; a cohort
    that is no loop keeps its figure to the last bit."""
    from types import SimpleNamespace
    c = SimpleNamespace(k=3, wrapped_idx=np.array([1]), peg_unit=np.array([-2, 0, -2]), c_ca=np.array([1, 2]),
                        c_da=np.array([0, 0]), peg1=np.array([1.0, 1.0, 1.0]))
    out = swapped_back(c, np.array([[sold, sold]]), np.array([[repaid, repaid]]), np.array([[worth]]), None)
    assert out[0, 1] == sold  # BTC-style collateral against ETH debt: no loop
    assert 0.0 <= out[0, 0] <= sold
    if worth > 0:
        assert np.isclose(out[0, 0] * worth, max(sold * worth - repaid, 0.0), rtol=1e-9, atol=1e-6 * max(1.0, sold))


def test_a_subnormal_worth_swaps_the_whole_sale_back_without_an_overflow_warning():
    """A seized collateral worth a subnormal amount of its underlying (5e-324 ETH a weETH): the repaid debt would
    need more units than a float holds, so the whole sale goes back into the debt and none reaches the book. The
    quotient's overflow to inf is allowed where it is taken (no RuntimeWarning, the result finite)."""
    import warnings
    from types import SimpleNamespace
    c = SimpleNamespace(k=2, wrapped_idx=np.array([1]), peg_unit=np.array([-2, 0]), c_ca=np.array([1]),
                        c_da=np.array([0]), peg1=np.array([1.0, 1.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = swapped_back(c, np.array([[7.0]]), np.array([[3.0]]), np.array([[5e-324]]), None)
    assert out.tolist() == [[0.0]]


def test_a_deeper_shock_on_a_loops_collateral_no_longer_sells_less_of_its_underlying():
    """BNB -86.9% -> -87.0%, weETH -30.7% -> -31.6%, WBTC -57.0% -> -57.5% with HYPE -45.8% and ETH -1.07% on
    crypto-2025-10, no runs, oracle lag 1, liquidity 0.58, horizon 365. The ETH-debt loops' liquidators repay ETH
    and their seized weETH was pressed whole on ETH's book (488,759 ETH in round 1 at the shallower depth, no ETH
    bought back): ETH closed at $4,229.12 against $4,248.93, and the deeper shock lost $311.39M less
    (monotone-2025-bnb-87-weeth-31-wbtc-57-no-runs-lag1-365). With the swap back only the bonus reaches the book:
    ETH $4,288.56 and $4,288.42, loss $38.8536bn and $38.9492bn. (Before session 31's kept rule, s31-kept,
    $38.8537bn and $38.9493bn, pinned as $38.8540bn and $38.9496bn: five lending pools of ~$1 of equity, AAVE_ARB,
    AAVE_BASE, SPARKLEND, KAMINO and FLUID, end above their start by exactly the outside borrowers' fees they
    booked, $119,192.02 and $119,064.25 (SPARKLEND $54,438.54 and $54,388.09 of them), which are kept, no loss
    the network counts: ``borrowers_penalty_loss`` $18,756,996.82 -> $18,637,804.81 at the shallower depth, the
    paid $18,756,996.82 unchanged; prices and every entity's loss the same to the bit.)"""
    depths = [{"BNB": 0.8688053396274751, "WBTC": 0.5698476295167386, "weETH": 0.30741401047061007},
              {"BNB": 0.8703493840668957, "WBTC": 0.5749101402459279, "weETH": 0.31556513143023557}]
    scs = [Scenario(price_shocks={"HYPE": -0.4584263602876838, "ETH": -0.010725820354938253}
                    | {a: -x for a, x in d.items()}, oracle_lag=1, liquidity=0.5788248130648481, horizon=365)
           for d in depths]
    br = core.engine.simulate_batch(NET25, scs)
    eth = list(br.asset_symbols).index("ETH")
    # s35-data (COMPOUND_V3's book dated at $1.06bn, was $0.90bn): its larger ETH/USDC and stETH/ETH books sell a
    # little more: ETH $4,288.516 and $4,288.369 (were $4,288.552 and $4,288.405), loss $38.8771bn and $38.9729bn
    # (were $38.8536bn and $38.9492bn; +$23.5M and +$23.7M)
    assert np.abs(br.prices[:, eth] - 4288.44).max() < 0.1
    assert br.total_loss[0] == pytest.approx(38.8771e9, rel=1e-5) and br.total_loss[1] == pytest.approx(38.9729e9, rel=1e-5)


def test_a_loops_liquidator_weighs_no_sale_on_the_book():
    """core.engine.limits: a loop's liquidator swaps the seizure back into the debt (no sale on the underlying's
    book to weigh: the close factor while the margin pays, as on a peg); a wrapped collateral against any other debt
    is still weighed on its underlying's book."""
    from core.engine.limits import _SaleTokens

    c = compile_network(NET25)
    loop, _ = loop_cohorts(c)
    sale = _SaleTokens.build(c)
    assert loop.any() and not sale.book[loop].any()
    weeth, eth = list(c.symbols).index("weETH"), list(c.symbols).index("ETH")
    other = (c.c_ca == weeth) & (c.c_da != eth)
    assert other.any() and sale.book[other].all()
