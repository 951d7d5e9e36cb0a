"""A run pays its runners the coins they are owed in kind, and never the coins owed to the depositors who stay
(core.engine.withdraw.in_kind_payout).

Model: a depositor's claim on an exchange or lender follows the tokens it holds for its customers (its reference
book, core.engine.books.inkind_index); a withdrawal of ``w`` of the depositors takes ``w`` of the units owed in
kind, and the rest of what they ask (the part of the claims fixed in dollars) from cash, then the entity's own
tokens beyond what it owes in kind, then its book at the fire-sale discount. Before, the dollar part took cash and
then every token pro rata, so the runners carried off the coins owed to those who stay and the lender was left
short them: a deeper fall of the coin then raised its equity (on the 2022 network Celsius, short 282.4M CEL after
its run, survived CEL -31.18% and defaulted at -31.12%, $3.1bn of system loss apart:
monotone-shipped-cel-31-celsius-survives-deeper).

Worked numbers (the network below): LENDER holds 100M COIN at $1, $1,000M of other assets (20% cash: $200M, and an
$800M book) and a $100M loan to FUND; it owes DEPOSITORS $1,000M, whose claims follow its reference book up to its
value: $100M follows COIN (100M units owed in kind), $900M is fixed in dollars. FUND is forced to fail with nothing
recovered: LENDER's depositors run at the panic rate (30% a round at intensity 1) until 40% have withdrawn
(runs.RUN_SHARE). Round 1 asks $300M: 30M COIN in kind ($30M), then $200M of cash, then $70M raised by selling
$93.33M of the book at the 25% discount. Round 2 asks $100M: 10M COIN, then $90M from $120M of the book. LENDER ends
holding 60M COIN and owing 60M COIN in kind (to the 60% who stay), $53.33M lost in fire sales, equity $46.67M.
Before, round 1 paid $200M of cash and all 100M COIN, round 2 $100M from $133.33M of the book: LENDER held no COIN
and owed 60M, short 60M COIN, and each dollar COIN fell after the run was $60M of equity gained.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import Scenario
from core.engine import simulate_batch
from core.network import Network

from cascade_rounds import cascade_after
from test_liquid_stock import _PROV, DISCOUNT, lender_network as _liquid_stock_lender

COIN_UNITS, DEPOSITS = 100e6, 1000e6


def lender_network() -> Network:
    """test_liquid_stock's lender, owing $1,000M, with 100M COIN at $1 in its reference book."""
    base = _liquid_stock_lender(DEPOSITS)
    assets = pd.concat([base.assets, pd.DataFrame([dict(symbol="COIN", name="Coin", kind="volatile", price_usd=1.0,
                                                        supply=1e9, adv_usd=1e14, daily_vol=0.04, **_PROV)])])
    holdings = pd.concat([base.holdings, pd.DataFrame([dict(entity="LENDER", asset="COIN", amount=COIN_UNITS, **_PROV)])])
    return Network.from_frames(name="run-in-kind", entities=base.entities, assets=assets, holdings=holdings,
                               exposures=base.exposures)


@pytest.fixture(scope="module")
def net() -> Network:
    return lender_network()


def _scenario(coin_fall_after_run: float = 0.0) -> Scenario:
    """FUND fails; COIN falls by ``coin_fall_after_run`` in round 3, once the run (rounds 1 and 2) is over."""
    paths = {"COIN": [0.0, 0.0, 0.0, -coin_fall_after_run]} if coin_fall_after_run else {}
    return Scenario(forced_defaults=["FUND"], forced_default_recovery=0.0, run_intensity=1.0, liquidity=1.0,
                    price_paths=paths, horizon=40)


def _rounds(net: Network, rounds: int):
    """LENDER's COIN units and DEPOSITORS' COIN units after each of the first ``rounds`` rounds."""
    def units(cascade, r):
        coin = cascade.asset("COIN")
        return float(cascade.s.H[0, cascade.entity("LENDER"), coin]), float(cascade.s.H[0, cascade.entity("DEPOSITORS"), coin])

    return cascade_after(net, _scenario(), rounds, each_round=units).records


def test_the_run_pays_the_runners_their_coins_and_keeps_the_stayers(net):
    (h0, d0), (h1, d1), (h2, d2) = _rounds(net, 3)
    assert (h0, d0) == (COIN_UNITS, 0.0)  # round 0: the shock; nobody runs before the first clearing
    # round 1: 30% run, paid 30M COIN in kind (the old code paid 70M: all the cash, then COIN pro rata)
    assert h1 == pytest.approx(0.7 * COIN_UNITS, rel=1e-12) and d1 == pytest.approx(0.3 * COIN_UNITS, rel=1e-12)
    # round 2: the 10% left to reach 40%, 10M COIN; LENDER holds what it owes the 60% who stay
    assert h2 == pytest.approx(0.6 * COIN_UNITS, rel=1e-12) and d2 == pytest.approx(0.4 * COIN_UNITS, rel=1e-12)


def test_worked_numbers_of_the_run(net):
    br = simulate_batch(net, [_scenario()])
    i = list(br.entity_ids).index("LENDER")
    assert not br.defaulted[0, i]
    raised = 70e6 + 90e6  # from the book, at the 25% discount
    assert br.channel_parts["run"][0, i] == pytest.approx(DISCOUNT / (1 - DISCOUNT) * raised, rel=1e-9)
    assert br.equity[0, i] == pytest.approx(100e6 - DISCOUNT / (1 - DISCOUNT) * raised, rel=1e-9)


def test_a_deeper_fall_of_the_coin_never_raises_the_lenders_equity(net):
    """Holding what it owes in kind, the lender is flat the coin after its run: its equity does not move with it
    (the old code left it short 60M COIN, and COIN -20% instead of -10% after the run raised its equity by $6M)."""
    br = simulate_batch(net, [_scenario(x) for x in (0.0, 0.1, 0.2, 0.5)])
    i = list(br.entity_ids).index("LENDER")
    eq = br.equity[:, i]
    assert not br.defaulted[:, i].any()
    np.testing.assert_allclose(eq, eq[0], rtol=1e-12)
