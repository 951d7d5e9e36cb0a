"""A run-prone entity's liquid assets are a stock paid out once (core.engine.withdraw, ``CascadeState.illiquid``).

Model: ``liquid_share`` of an entity's other assets at the snapshot is cash (plus what it receives later); a run pays
from it once, then sells the illiquid book at the fire-sale discount; the estate sells what is left of the book at
the same discount at default (core.engine.sell). The book is then realised at the discount whether the run or the
estate sold it, so the round the entity defaults in does not change its fire-sale loss. Before, ``liquid_share`` of
the other assets *left* was liquid again every round: a run lasting a round longer took more of the book at par
(monotone-shipped-wbtc-celsius-run-round, -$181.3M on the 2022 network).

Worked numbers (the network below): LENDER holds $1,000M of other assets, 20% cash ($200M) and an $800M book, and
a $100M loan to FUND; it owes its depositors $900M. FUND is forced to fail: LENDER's only claim is on a defaulted
debtor, so its depositors run at the panic rate (30% a round at intensity 1) until 40% of them have withdrawn
(runs.RUN_SHARE). Round 1 asks $270M: $200M of cash, then $70M raised by selling $93.33M of the book at a 25%
discount ($23.33M lost). Round 2 asks the 10% of the depositors left to reach 40%, $90M (a seventh of the $630M
left): no cash is left (it was $141.3M again under the per-round reading), so $120M of the book is sold ($30M lost).
Then the run is over: LENDER keeps $46.67M of equity. With $990M of deposits it has $10M after FUND's default and
fails (in round 1 at intensity 1, in round 2 at 0.6), and its whole book is realised at the discount, once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import Scenario
from core.engine import simulate_batch
from core.network import Network

_PROV = dict(as_of="2022-05-06", source="https://example.org/liquid-stock-test", flag="estimate", note="")
BOOK, CASH, DEPOSITS, DISCOUNT = 800e6, 200e6, 900e6, 0.25


def _entity(id_: str, type_: str, other_assets: float, liquid_share: float) -> dict:
    return dict(id=id_, name=id_, type=type_, region="cefi", chain="various", other_assets_usd=other_assets,
                other_liabilities_usd=0.0, liquid_share=liquid_share, insurance_fund_usd=0.0, **_PROV)


def lender_network(deposits: float = DEPOSITS) -> Network:
    entities = pd.DataFrame([
        _entity("LENDER", "cefi_lender", BOOK + CASH, CASH / (BOOK + CASH)),
        _entity("FUND", "fund", 500e6, 0.2),
        _entity("DEPOSITORS", "depositor_aggregate", 0.0, 1.0),
    ])
    assets = pd.DataFrame([dict(symbol="ETH", name="Ether", kind="volatile", price_usd=2000.0, supply=1.2e8,
                                adv_usd=1e14, daily_vol=0.04, **_PROV)])
    holdings = pd.DataFrame([dict(entity="FUND", asset="ETH", amount=1.0, **_PROV)])
    exposures = pd.DataFrame([
        dict(id="X1", creditor="DEPOSITORS", debtor="LENDER", kind="customer_balance", amount_usd=deposits, **_PROV),
        dict(id="X2", creditor="LENDER", debtor="FUND", kind="loan", amount_usd=100e6, **_PROV),
    ])
    return Network.from_frames(name="liquid-stock", entities=entities, assets=assets, holdings=holdings,
                               exposures=exposures)


@pytest.fixture(scope="module")
def net() -> Network:
    return lender_network()


@pytest.fixture(scope="module")
def thin() -> Network:
    return lender_network(990e6)


def _run(net: Network, intensity: float, horizon: int = 40):
    return simulate_batch(net, [Scenario(forced_defaults=["FUND"], forced_default_recovery=0.0, run_intensity=intensity,
                                         liquidity=1.0, horizon=horizon)])


def test_cash_is_paid_once_then_the_book_is_sold(net):
    br = _run(net, 1.0)
    i = list(br.entity_ids).index("LENDER")
    assert not br.defaulted[0, i]
    # the docstring's two rounds: $70M and $90M raised from the book at a 25% discount, then the run is over
    assert br.channel_parts["run"][0, i] == pytest.approx(DISCOUNT / (1 - DISCOUNT) * (70e6 + 90e6), rel=1e-9)
    assert br.equity[0, i] == pytest.approx(100e6 - DISCOUNT / (1 - DISCOUNT) * 160e6, rel=1e-9)


def test_a_failed_lender_realises_its_book_at_the_discount_whatever_its_run(thin):
    """However long the run lasted before the default, the whole book is realised at the discount, once."""
    br = simulate_batch(thin, [Scenario(forced_defaults=["FUND"], forced_default_recovery=0.0, run_intensity=x,
                                        liquidity=1.0, horizon=40) for x in (0.6, 1.0)])
    i = list(br.entity_ids).index("LENDER")
    assert br.defaulted[:, i].all()
    assert br.default_round[0, i] != br.default_round[1, i], br.default_round[:, i]
    np.testing.assert_allclose(br.channel_parts["run"][:, i], DISCOUNT * BOOK, rtol=1e-9)
