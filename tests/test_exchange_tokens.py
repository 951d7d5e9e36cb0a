"""An exchange token at its issuer's health, solved with it (core.engine.exchange_tokens.exchange_token_prices).

The issuer's equity moves with its own token's price when it owes the token in kind; the token's price is set by
that equity. Read a round late, the two alternated (CEL $1.70 / $0.051, Celsius's equity -$9.90 / +$465.6M every
other round on the shipped network) and a default fell on the clearing's tolerance. Solved together, the price
and the equity agree at each close once the run has stopped.
"""
from __future__ import annotations

import numpy as np

from core.engine import compile_network, simulate_batch
from core.mechanisms.pegs import EXCHANGE_TOKEN_FLOOR
from core.scenario import Scenario
from invariants_support import network

# monotone-shipped-celsius-clearing-oscillation-tolerance, its deeper point (tests/regressions)
SCENARIO = Scenario(price_shocks={"GBTC": -0.6284724305270076, "LUNA": -0.020043410252754357, "WBTC": -0.1520830328187015},
                    run_intensity=0.5, oracle_lag=2, liquidity=1.2700526574544)


def test_the_token_and_its_issuers_equity_agree_once_the_run_stops():
    net = network("shipped")
    c = compile_network(net)
    br = simulate_batch(net, [SCENARIO], record=True)
    t, i = list(br.asset_symbols).index("CEL"), list(br.entity_ids).index("CELSIUS")
    cel, equity = br.history["prices"][0][:, t], br.history["equity"][0][:, i]
    at_health = c.P0[t] * np.clip(equity / c.E0[i], EXCHANGE_TOKEN_FLOOR, 1.0)
    # from round 4 (Celsius's run at its share, its book still) the price is the one its issuer's equity gives
    np.testing.assert_allclose(cel[4:], at_health[4:], rtol=1e-9)
    assert np.ptp(cel[4:]) <= 1e-9 * cel[-1]  # no alternation: one price from round 4 to the end (was 1.70 / 0.051)
    assert not br.defaulted[0, i]


def test_a_failed_issuers_token_stays_at_its_floor():
    # an issuer under water gives its token the floor share of its price at full health, whatever it owes of it
    net = network("shipped")
    c = compile_network(net)
    br = simulate_batch(net, [Scenario(forced_defaults=["FTX"])], record=True)
    t = list(br.asset_symbols).index("FTT")
    assert br.defaulted[0, list(br.entity_ids).index("FTX")]
    assert br.history["prices"][0][-1, t] <= EXCHANGE_TOKEN_FLOOR * c.P0[t] * (1 + 1e-12)
