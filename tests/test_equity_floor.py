"""An entity whose initial equity is a floating-point remainder (its assets and in-kind liabilities cancel) has no
equity to lose a share of: it is never "distressed" by it, and its loss share is 0 (core.results.EQUITY_FLOOR_USD).
Before, JITO on crypto-2025-10 ($0.00031 of a $3.2bn book) lost "24.3%" of it in the October 2025 preset, and
CRV_STETH ($0.000595) "27.1%" in the Terra preset, and both counted as distressed.

Session 37: nor has an entity whose equity is a millionth of its book or less (core.results.EQUITY_FLOOR_SHARE): the
data's rounding, not capital. UNI_ETH on crypto-2022-05 ($0.9995 of a $1bn pool: 181,818.181818 ETH and $500M
against LP claims floored a dollar below) read "distressed" at 22.4% / 34.2% of that dollar in the ETH-crash, stETH
and TAC presets; the 2020 Uniswap pools and the 2025 lending pools (their suppliers' claims a dollar below the
books) had the same dollar."""

import numpy as np
import pytest
import pandas as pd

import core
import core.network
from core.presets import load_preset
from core.metrics import equity_floors
from core.results import EQUITY_FLOOR_SHARE, EQUITY_FLOOR_USD, loss_shares


def test_loss_shares_of_no_equity_are_zero():
    shares = loss_shares(np.array([5.0, 1e-4, 3.0, 0.4]), np.array([10.0, 3.1e-4, -2.0, EQUITY_FLOOR_USD]))
    assert shares.tolist() == [0.5, 0.0, 0.0, 0.8]


@pytest.mark.parametrize("key, entity", [("october_2025_crash", "JITO"), ("terra_may_2022", "CRV_STETH")])
def test_a_remainder_of_equity_is_never_distressed(key, entity):
    scenario, network = load_preset(key)
    result = core.simulate(network, scenario)
    row = result.nodes.set_index("entity").loc[entity]
    assert 0 < row.initial_equity_usd < 1e-3  # the remainder of floating point, not equity
    assert row.loss_share == 0.0
    assert row.status == "healthy"


def test_a_millionth_of_the_book_is_no_equity():
    """The floor is the larger of $0.50 and a millionth of the entity's gross assets at the reference prices."""
    shares = loss_shares(np.array([0.22, 0.22, 600.0]), np.array([0.9995, 0.9995, 1200.0]),
                         np.array([1e9, 1e5, 1e9]) * EQUITY_FLOOR_SHARE)
    assert shares.tolist() == [0.0, 0.22 / 0.9995, 0.5]


@pytest.mark.parametrize("dataset, entities", [
    ("crypto-2022-05", ["UNI_ETH"]),
    ("crypto-2020-03", ["UNI_ETH_DAI", "UNI_ETH_USDC"]),
    ("crypto-2025-10", ["AAVE_ETH", "MORPHO", "SPARKLEND", "COMPOUND_V3", "KAMINO", "FLUID"]),
])
def test_the_data_s_dollar_of_rounding_is_below_each_floor(dataset, entities):
    """These entities' equity is the data's dollar (LP and supplier claims written a dollar below the book so that
    rounding never leaves a pass-through short), below a millionth of their book; every other entity with equity
    of at least $0.50 holds more than a thousandth of its book (TETHER's 0.2% on 2022 is the least), far above it."""
    network = core.datasets.load(dataset)
    floors = equity_floors(network)
    e0 = core.engine.compile_network(network).E0
    below = set(floors.index[(e0 >= EQUITY_FLOOR_USD) & (e0 < floors.to_numpy())])
    assert set(entities) <= below
    assert all(0.99 < e0[list(floors.index).index(e)] < 1.05 for e in below), below
    assert not below - set(entities) - {"AAVE_PLASMA", "AAVE_ARB", "AAVE_BASE", "AAVE_OTHER", "AAVE_GHO", "EULER"}


@pytest.mark.parametrize("key", ["black_thursday_eth_crash", "steth_june_2022", "tac_june_2022"])
def test_a_pool_s_dollar_of_rounding_is_never_distressed(key):
    scenario, network = load_preset(key)
    row = core.simulate(network, scenario).nodes.set_index("entity").loc["UNI_ETH"]
    assert 0.99 < row.initial_equity_usd < 1.0 and row.loss_usd > 0.2  # it loses 22.4% / 34.2% of that dollar
    assert row.loss_share == 0.0
    assert row.status == "healthy"


def _every_term() -> core.network.Network:
    """A network holding every term of the floor: LENDER's tokens (100M USDC, 5,000 ETH), loan book ($100M of USDC
    lent) and other assets ($7M); FUND's deposit claim on LENDER ($200M, in kind) and other assets ($300M); SAVERS,
    a depositor aggregate, with a $50M deposit at LENDER (its equity is that claim); FUND's network claim on LENDER
    ($30M lent against 10,000 ETH pledged, $20M of it secured at $2,000: $10M unsecured), all far above the $0.50."""
    from tests.lending_fixture import PROV, lending_network

    base = lending_network(eth_held=5_000.0, other_assets=7e6)
    entities = pd.concat([base.entities, pd.DataFrame([dict(
        id="SAVERS", name="Savers", type="depositor_aggregate", region="defi", chain="Ethereum", other_assets_usd=0.0,
        other_liabilities_usd=0.0, liquid_share=1.0, insurance_fund_usd=0.0, **PROV)])], ignore_index=True)
    exposures = pd.concat([base.exposures, pd.DataFrame([
        dict(id="X2", creditor="SAVERS", debtor="LENDER", kind="deposit", amount_usd=50e6, **PROV),
        dict(id="X3", creditor="FUND", debtor="LENDER", kind="loan", amount_usd=30e6, collateral_asset="ETH",
             collateral_amount=10_000.0, **PROV)])], ignore_index=True)
    return core.network.Network.from_frames(name="every-floor-term", entities=entities, assets=base.assets,
                                            holdings=base.holdings, exposures=exposures, cohorts=base.cohorts)


@pytest.mark.parametrize("dataset", ["crypto-2020-03", "crypto-2022-05", "crypto-2025-10", "every term"])
def test_the_compiled_floor_is_the_book_s_floor(dataset):
    """``Compiled.equity_floor`` (and ``core.metrics.equity_floors``, which reads it) against the floor computed from
    the network's own tables (``tests/report_reference.py``, independent of the compiled network): every entity
    alike, to floating-point summation order. On the synthetic network every term of gross assets moves a floor
    (dropping any one from either side fails here; session 38 checked it by dropping one on purpose)."""
    from tests.report_reference import reference_equity_floors

    network = _every_term() if dataset == "every term" else core.datasets.load(dataset)
    expected = reference_equity_floors(network)
    floors = equity_floors(network)
    assert list(floors.index) == list(expected.index)
    np.testing.assert_allclose(floors.to_numpy(), expected.to_numpy(), rtol=1e-12, atol=0.0)
    if dataset == "every term":
        # LENDER: 100M USDC + 5,000 ETH x $2,000 + $100M loan book + $7M other; FUND: $200M deposit + $10M unsecured
        # loan + $300M other; SAVERS: its $50M deposit
        assert expected.to_dict() == pytest.approx({"LENDER": 217.0, "FUND": 510.0, "SAVERS": 50.0}, rel=1e-12)
