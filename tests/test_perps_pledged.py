"""Margin pledged to a perpetuals venue from outside its books survives its holder's forced failure
(core.engine.perps_pledged; docs/invariants.md, Session 33 (ethena))."""

from __future__ import annotations

import numpy as np
import pytest

from core.engine.batch import build_batch
from core.engine.compiled import compile_network
from core.engine.exogenous import exogenous
from core.engine.perps_pledged import pledged_margin
from core.engine.state import initial_state
from core.mechanisms._checks import trusted
from core.scenario import Scenario
from invariants_support import network

#: ETHENA's spot on crypto-2025-10 (holdings.csv) and the sum of its five venues' margin units (positions.csv, rounded
#: to 1e-6 a row): the spot is the margin of its 1x shorts, held with off-exchange settlement custodians. What it
#: keeps is the smaller of the two, a unit at a time.
SPOT = {"BTC": 22_305.841026, "ETH": 916_327.449077, "SOL": 3_468_150.697674}
MARGIN = {"BTC": 22_305.841025, "ETH": 916_327.449078, "SOL": 3_468_150.697675}
KEPT = {a: min(SPOT[a], MARGIN[a]) for a in SPOT}


def _round_zero_opening(scenarios):
    net = network("crypto-2025-10")
    c = compile_network(net)
    b = build_batch(c, scenarios, net, True)
    s = initial_state(c, b)
    with trusted():
        s.apply(exogenous(c, s, b, 0))
    return c, s


def test_a_forced_ethena_keeps_the_spot_its_venues_hold_as_margin():
    """ETHENA forced to fail with no price shock, at recovery 0 and 0.5, and WINTERMUTE at recovery 0, after round 0's
    exogenous step. Worked numbers:

    * ETHENA at recovery 0 keeps the units its venues count as its margin (22,305.841025 BTC, 916,327.449077 ETH,
      3,468,150.697674 SOL, the smaller of its holdings and its margin units, which differ by the margin rows'
      rounding; its holdings' 1e-6 BTC beyond the margin is lost) and loses its $7,571,587,796.51
      of other assets: forced loss $7,571,587,796.51 + 1e-6 x 117,000 = $7,571,587,796.627. Its estate is the spot,
      $7,341,460,203.41 at reference prices, hedged by its shorts, against $14.83bn of USDe, which opens at
      7,341,460,203.41 / 14.83e9 = 0.495041147. Before: the spot was lost too (forced loss $14,913,048,000.04) while
      the venues still counted it as margin, and USDe opened at the price floor 1e-12 (the shorts' profit is 0 with
      no shock).
    * At recovery 0.5 it keeps half its other assets, $3,785,793,898.255, and the spot whole: USDe opens at
      (7,341,460,203.41 + 3,785,793,898.255) / 14.83e9 = 0.750320573 (before: 0.5028, half of each).
    * WINTERMUTE at recovery 0 keeps its $250M of USDT margin on Binance (its other assets, half of them illiquid book,
      $125M) and loses its $1,000,000,000.02 of spot inventory, which is not margin (before: $1.25bn lost)."""
    c, s = _round_zero_opening([Scenario(name="ethena", forced_defaults=["ETHENA"]),
                                Scenario(name="ethena-half", forced_defaults=["ETHENA"], forced_default_recovery=0.5),
                                Scenario(name="wintermute", forced_defaults=["WINTERMUTE"])])
    ids, sym = list(c.ids), list(c.symbols)
    e, w = ids.index("ETHENA"), ids.index("WINTERMUTE")
    for asset, units in KEPT.items():  # at recovery 0.5 it keeps half the 1e-6 BTC beyond the margin too
        np.testing.assert_allclose(s.H[:2, e, sym.index(asset)], [units, units + 0.5 * (SPOT[asset] - units)], rtol=1e-15)
    assert s.oa[0, e] == 0.0 and s.oa[1, e] == pytest.approx(3_785_793_898.255, rel=1e-12)
    np.testing.assert_allclose(s.shock_loss[:2, e], [7_571_587_796.627, 3_785_793_898.3135], rtol=1e-12)
    spot_usd = sum(units * c.P0[sym.index(a)] for a, units in KEPT.items())
    assert spot_usd == pytest.approx(7_341_460_203.41, rel=1e-12)
    usde = sym.index("USDe")
    np.testing.assert_allclose(s.P[:2, usde], [0.4950411465549468, 0.7503205732787163], rtol=1e-12)
    assert s.P[0, usde] == pytest.approx(spot_usd / 14.83e9, rel=1e-9)
    assert s.oa[2, w] == pytest.approx(250e6, rel=1e-12) and s.illiquid[2, w] == pytest.approx(125e6, rel=1e-12)
    assert s.shock_loss[2, w] == pytest.approx(1_000_000_000.0214, rel=1e-12) and (s.H[2, w] == 0).all()


def test_pledged_margin_is_the_margin_beyond_the_venues_claims():
    """At the start: ETHENA's pledged units are its margin units (no claim on its venues), WINTERMUTE's pledged USD
    its $250M (no claim on Binance's futures book), ABC's nothing (its $47,945,205.48 of USDC margin sits in its claim
    on Hyperliquid, which a forced failure does not cut)."""
    net = network("crypto-2025-10")
    c = compile_network(net)
    s = initial_state(c, build_batch(c, [Scenario(name="calm")], net, True))
    pledged = pledged_margin(c, s)
    assert pledged is not None
    units, usd = pledged
    ids, sym = list(c.ids), list(c.symbols)
    e = ids.index("ETHENA")
    for asset, u in MARGIN.items():
        assert units[0, e, sym.index(asset)] == pytest.approx(u, rel=1e-15)
    assert units[0, e].sum() == pytest.approx(sum(MARGIN.values()), rel=1e-15)
    assert usd[0, ids.index("WINTERMUTE")] == pytest.approx(250e6, rel=1e-12)
    assert units[0, ids.index("ABC")].sum() == 0.0 and usd[0, ids.index("ABC")] == 0.0


def test_a_forced_failure_without_pledged_margin_is_the_same_beside_one_with_it():
    """COINBASE forced at recovery 0.46 (its holdings and $14.5bn of other assets, $2.9bn illiquid; nothing pledged)
    alone and beside a scenario that forces ETHENA: its row leaves round 0's exogenous step the same to the bit. The
    pledged branch scales a row with nothing pledged exactly as before; scaled by what it kept of its other assets over
    what it had, (0.46 x 14.5e9) / 14.5e9, its illiquid book would differ from 0.46 times it in the last bit."""
    scenario = Scenario(name="coinbase", forced_defaults=["COINBASE"], forced_default_recovery=0.46)
    alone = _round_zero_opening([scenario])[1]
    c, beside = _round_zero_opening([Scenario(name="ethena", forced_defaults=["ETHENA"]), scenario])
    e = list(c.ids).index("COINBASE")
    assert alone.oa[0, e] > 0 and alone.illiquid[0, e] > 0 and alone.H[0, e].any()
    for field in ("H", "oa", "illiquid", "shock_loss", "P"):
        np.testing.assert_array_equal(getattr(alone, field)[0], getattr(beside, field)[1], err_msg=field)
