"""A failed issuer's fractional coin (issue 12): FRAX v2 redeems ``CR`` of a dollar in its collateral coin and the
rest in FXS, so its issuer owes the coin at its backing's worth, :math:`L_t = S V_t`, :math:`V_t = \\mathrm{CR}\\,p_b
+ 1 - \\mathrm{CR}` (:func:`core.engine.backing.backed_liabilities`), and pays its ratio :math:`\\rho` on it: the
coin trades at :math:`\\rho V_t` (:func:`core.engine.maker_co_issued.coin_recoveries`, capped by
:func:`core.engine.issuer_caps.recovery_capped`), the form of a failed Sky's coins (``tests/test_sky_end_cash.py``).
Its holders in the network bear the shortfall through the price, once (:mod:`core.engine.token_holders`); its
outside holders' fall is an outside creditor's write-down.

Before, FRAX's kind (``algorithmic_stable``) kept it out of the issuer caps: with FRAX forced to fail on
crypto-2022-05 (recovery 0.8, USDC 20% off peg) the coin stayed at V = 0.826 in every round while its issuer paid
0.80 of what it owes, and the $431.9M shortfall on the coin, all held by a network entity (STABLE_HOLDERS), was
counted as outside creditors' loss.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

import core
from core import Scenario
from core.engine import compile_network, simulate_batch
from core.engine.batch import build_batch
from core.engine.rounds import run_round
from core.engine.state import initial_state
from core.network import Network
from test_two_issuers import PEG_COLUMNS, _PROV, assert_borne, assert_conserved, forced, without_exposures

SUPPLY, RATIO, OTHER = 100e6, 0.8, 25e6  # FRACX owes 100M FRX, holds 80M USDY (CR 0.8) and $25M: equity $5M


def fractional_network(held: float = 30e6) -> Network:
    """FRACX (FRAX in small: a stablecoin issuer owing 100M FRX of kind ``algorithmic_stable``, a ``fractional``
    row with collateral ratio 0.8 in USDY and FRACX as ``liable_entity``, as FRAX on crypto-2022-05); FUND holds
    ``held`` FRX, outsiders the rest."""
    entity = dict(region="defi", chain="Ethereum", liquid_share=1.0, insurance_fund_usd=0.0, **_PROV)
    entities = pd.DataFrame([
        dict(id="FRACX", name="Frac", type="stablecoin_issuer", other_assets_usd=OTHER, other_liabilities_usd=SUPPLY,
             **entity),
        dict(id="FUND", name="Fund", type="fund", other_assets_usd=10e6, other_liabilities_usd=0.0, **entity)])
    coin = dict(adv_usd=1e10, daily_vol=0.001, peg_target=1.0, peg_unit="USD", **_PROV)
    assets = pd.DataFrame([
        dict(symbol="ETH", name="Ether", kind="volatile", price_usd=2000.0, supply=1.2e8, adv_usd=1e10, daily_vol=0.04,
             **_PROV),
        dict(symbol="USDY", name="USD Y", kind="fiat_stable", price_usd=1.0, supply=1e9, **coin),
        dict(symbol="FRX", name="Frac X", kind="algorithmic_stable", price_usd=1.0, supply=SUPPLY, issuer="FRACX",
             **coin)])
    holdings = pd.DataFrame([dict(entity="FRACX", asset="USDY", amount=RATIO * SUPPLY, **_PROV),
                             dict(entity="FUND", asset="FRX", amount=held, **_PROV)])
    pegs = pd.DataFrame([dict({k: None for k in PEG_COLUMNS}, asset="FRX", mechanism="fractional", backing_asset="USDY",
                              backing_share=RATIO, liable_entity="FRACX", withdrawals=False, **_PROV)])
    return without_exposures("fractional", entities, assets, holdings, pegs)


def failed(recovery: float, usdy_depeg: float) -> Scenario:
    return forced("FRACX", recovery, usdy_depeg)


def test_worked_example():
    """FRACX forced to fail keeping 80%, USDY 10% off peg: V = 0.8 x 0.9 + 0.2 = 0.92, it owes L_t = $92M and keeps
    0.8 x (25 + 72) = $77.6M: paid ratio 0.843478, FRX at 0.843478 x 0.92 = 0.776 in every round. Destroyed: $105M
    of assets less the $77.6M kept, $27.4M; borne: FRACX's $5M of equity, FUND 30M x 0.224 = $6.72M, outside
    holders 70M x 0.224 = $15.68M (the USDY fall, 70M x 0.08, and the shortfall, 70M x 0.92 x 0.156522). Before:
    FRX at 0.92, FUND $2.4M, outside $14.4M (the shortfall on all $92M, FUND's share counted as outside), $21.8M."""
    br = simulate_batch(fractional_network(), [failed(0.8, 0.1)], record=True)
    np.testing.assert_allclose(br.history["prices"][0, :, list(br.asset_symbols).index("FRX")], 0.776, rtol=1e-12)
    assert_borne(br, "FRACX", fund=6.72e6, outside=15.68e6, total=27.4e6)


@settings(max_examples=30, deadline=None)
@given(recovery=st.floats(0.0, 0.95), depeg=st.floats(0.0, 0.6), share=st.floats(0.0, 1.0))
def test_conservation(recovery, depeg, share):
    """Sum of equity changes + outside creditors' write-downs = value destroyed, whoever holds FRX: FRACX's
    forced loss on its $25M and on its USDY at the depegged price, and the USDY depeg on its 80M. FRX trades at
    rho V, what FRACX keeps over the 100M coins where it is short."""
    br = simulate_batch(fractional_network(share * SUPPLY), [failed(recovery, depeg)])
    kept = recovery * (OTHER + RATIO * SUPPLY * (1.0 - depeg))
    assert_conserved(br, OTHER + RATIO * SUPPLY - kept)
    value = RATIO * (1.0 - depeg) + 1.0 - RATIO
    rho = min(kept / (SUPPLY * value), 1.0)
    assert br.prices[0, list(br.asset_symbols).index("FRX")] == pytest.approx(rho * value, rel=1e-9)


FRAX_FAILS = Scenario(forced_defaults=["FRAX"], forced_default_recovery=0.8, depegs={"USDC": 0.2})


def test_frax_follows_its_issuer_on_the_2022_network():
    """crypto-2022-05, FRAX forced to fail (recovery 0.8), USDC 20% off peg: FRAX's backed value is 0.87 x 0.8 +
    0.13 = 0.826, and from round 1 the coin trades at the last clearing's paid ratio times it (0.801917 x 0.826 =
    0.662383). Before: 0.826 in every round."""
    net = core.datasets.load("crypto-2022-05")
    c = compile_network(net)
    b = build_batch(c, [FRAX_FAILS], net)
    s = initial_state(c, b)
    frax_entity, frax = list(c.ids).index("FRAX"), list(c.symbols).index("FRAX")
    run_round(c, s, b, 0)
    assert s.defaulted[0, frax_entity]
    for r in range(1, 5):
        paid = float(s.clearing.paid_ratio[0, frax_entity])
        run_round(c, s, b, r)
        assert s.P[0, frax] == pytest.approx(paid * 0.826, abs=1e-9)
        if r == 1:
            assert paid == pytest.approx(0.801917, abs=1e-6)


def test_frax_default_is_counted_once_on_the_2022_network():
    """Conservation on crypto-2022-05: forcing FRAX to fail (recovery 0.8) on top of USDC's 20% depeg destroys
    FRAX's assets at the depegged prices less what its clearing pays, $398.2M + 2,296.8M USDC x 0.8 = $2,235.64M
    less 0.801917 x $2,180.64M owed = $486.948M, and the system loss rises by exactly that. All 2.64bn FRAX are held
    by STABLE_HOLDERS (a network entity), so it bears the shortfall, 2.64bn x 0.826 x (1 - 0.801917) = $431.948M,
    through FRAX's price and no outside creditor is written down. Before: the same total, with the $431.948M
    counted as outside creditors' loss and STABLE_HOLDERS' FRAX at 0.826."""
    net = core.datasets.load("crypto-2022-05")
    br = simulate_batch(net, [Scenario(depegs={"USDC": 0.2}), FRAX_FAILS])
    ids = list(br.entity_ids)
    assert br.total_loss[1] - br.total_loss[0] == pytest.approx(486.948e6, abs=1e3)
    assert br.outside_loss[1] == pytest.approx(br.outside_loss[0], abs=1.0)
    holders = ids.index("STABLE_HOLDERS")
    assert br.loss[1, holders] - br.loss[0, holders] == pytest.approx(431.948e6, abs=1e3)


def test_usdtb_follows_its_issuer_on_the_2025_network():
    """crypto-2025-10: USDtb (a ``fractional`` row of ratio 1 in BUIDL, its issuer ETHENA_USDTB holding the $1.83bn
    of BUIDL) with ETHENA_USDTB forced to fail keeping 80% and BUIDL 20% off peg: the issuer owes $1.464bn (the
    BUIDL's worth) and keeps 0.8 of it, ratio 0.8, so USDtb trades at 0.8 x 0.8 = 0.64. Before: 0.8, the lower of
    its backed value and the ratio, paying its holders $292.8M more than the issuer has."""
    net = core.datasets.load("crypto-2025-10")
    br = simulate_batch(net, [Scenario(forced_defaults=["ETHENA_USDTB"], forced_default_recovery=0.8,
                                       depegs={"BUIDL": 0.2})], record=True)
    np.testing.assert_allclose(br.history["prices"][0, :, list(br.asset_symbols).index("USDtb")], 0.64, rtol=1e-12)
