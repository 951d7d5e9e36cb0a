"""Claims held on a pool that is itself held by another pool are valued at the pool's index of the same round
(core.engine.held_claims): a coin's fall reaches the holder at the end of the chain in the round it happens.

Before session 31 (s31-poolidx) a claim held on another entity entered the holder's books at the debtor's
in-kind index of the last round, so each link of a chain of holding delayed a loss by a round: on the 2022
network DAI's fall at Maker's cage reached LP_PROVIDERS through CONVEX's claims on CRV_3POOL a round late ($84.09M),
and a deeper shock that moved the cage by a round gave a -$77.96M monotone violation
(``monotone-shipped-btc-89-eth-76-lag1-liquidity-131-capital-50m-horizon-11-pool-claims-lag``).

The network here: POOL_A (a pool) holds 100M USDX and owes 100M of LP shares, 60M of them to POOL_B (a pool
holding nothing else) and 40M to LPS (a depositor aggregate); FUND holds all 60M of POOL_B's LP shares and $10M
of its own (reference equity $70M). USDX falls 20%, to $0.80, in round 0 and stays there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import Scenario
from core.engine import compile_network, simulate_batch
from core.engine.held_claims import index_levels
from core.network import Network

_PROV = dict(as_of="2025-10-01", source="https://example.org/pool-claims-index-test", flag="estimate", note="")


def _entity(id_: str, type_: str, other_assets: float = 0.0) -> dict:
    return dict(id=id_, name=id_, type=type_, region="defi", chain="Ethereum", other_assets_usd=other_assets,
                other_liabilities_usd=0.0, liquid_share=1.0, insurance_fund_usd=0.0, **_PROV)


def _lp(creditor: str, debtor: str, amount: float) -> dict:
    return dict(id=f"{creditor}-{debtor}-lp_share", creditor=creditor, debtor=debtor, kind="lp_share",
                amount_usd=amount, **_PROV)


def chain_network() -> Network:
    """USDX in POOL_A, POOL_A's shares in POOL_B (60%) and LPS (40%), POOL_B's in FUND (module docstring)."""
    entities = pd.DataFrame([_entity("POOL_A", "amm_pool"), _entity("POOL_B", "amm_pool"),
                             _entity("FUND", "fund", 10e6), _entity("LPS", "depositor_aggregate")])
    assets = pd.DataFrame([
        dict(symbol="ETH", name="Ether", kind="volatile", price_usd=2000.0, supply=1.2e8, adv_usd=1e10, daily_vol=0.04,
             **_PROV),
        dict(symbol="USDX", name="USD X", kind="fiat_stable", price_usd=1.0, supply=1e9, adv_usd=1e10,
             daily_vol=0.001, peg_target=1.0, peg_unit="USD", **_PROV),
    ])
    holdings = pd.DataFrame([dict(entity="POOL_A", asset="USDX", amount=100e6, **_PROV)])
    exposures = pd.DataFrame([_lp("POOL_B", "POOL_A", 60e6), _lp("LPS", "POOL_A", 40e6), _lp("FUND", "POOL_B", 60e6)])
    cohorts = pd.DataFrame(columns=["id", "protocol", "borrower", "collateral_asset", "debt_asset", "collateral_amount",
                                    "debt_amount", "liquidation_threshold", "liquidation_bonus", "close_factor", "style",
                                    *_PROV])
    return Network.from_frames(name="pool-claims-chain", entities=entities, assets=assets, holdings=holdings,
                               exposures=exposures, cohorts=cohorts)


@pytest.fixture(scope="module")
def net():
    return chain_network()


def depeg(horizon: int) -> Scenario:
    return Scenario(price_shocks={"USDX": -0.2}, horizon=horizon)


def test_the_holding_order(net):
    """POOL_B's index reads the claims it holds on POOL_A: one level of holding to solve after POOL_A's own
    (FUND's index follows nothing: it owes no in-kind claims, and its claims on POOL_B are valued at POOL_B's)."""
    c = compile_network(net)
    rows, passes = index_levels(c)
    assert [c.ids[i] for i in rows] == ["POOL_B"] and passes == 1
    assert c.E0[list(c.ids).index("FUND")] == pytest.approx(70e6, rel=1e-12)


def test_a_depeg_reaches_the_end_of_the_chain_in_its_round(net):
    """By hand, at round 0's close: POOL_A's 100M USDX are worth $80M, its index 80/100 = 0.8; POOL_B's only asset is
    its 60M of POOL_A's shares, worth 60M x 0.8 = $48M, its index 48/60 = 0.8; FUND's 60M of POOL_B's shares are worth
    60M x 0.8 = $48M, its equity $10M + $48M = $58M: a loss of $12M, and LPS's 40M x 0.2 = $8M. The $20M the coin lost
    in POOL_A, all of it, in the round of the fall (horizon 1), and the same at every later horizon. Before, FUND's
    claims were taken at POOL_B's index of the round before, itself taken with POOL_A's of the round before, and the
    cascade settled at round 1 with FUND's loss never recognised: in round 1 POOL_B's index fell to 0.8 (its equity
    stayed 0: its claims follow its assets) while FUND still held POOL_B's shares at round 0's index, 1.0, so no
    equity moved and the settle check stopped the run (FUND's loss $0 and the system's $8M at every horizon)."""
    ids = list(compile_network(net).ids)
    f, lps, a, b = (ids.index(e) for e in ("FUND", "LPS", "POOL_A", "POOL_B"))
    for h in (1, 2, 3):
        br = simulate_batch(net, [depeg(h)])
        assert br.prices[0, list(br.asset_symbols).index("USDX")] == pytest.approx(0.8, rel=1e-12)
        assert br.equity[0, f] == pytest.approx(58e6, rel=1e-12), h
        assert br.loss[0, f] == pytest.approx(12e6, rel=1e-12), h
        assert br.loss[0, lps] == pytest.approx(8e6, rel=1e-12), h
        assert br.loss[0, a] == pytest.approx(0.0, abs=1e-3) and br.loss[0, b] == pytest.approx(0.0, abs=1e-3)
        assert br.total_loss[0] == pytest.approx(20e6, rel=1e-12), h


def test_the_round_by_round_record_shows_no_lag(net):
    """The recorded history: FUND's loss is $12M from round 0 on, and the system's $20M (before: $8M in rounds 0 and
    1, where the run settled)."""
    br = simulate_batch(net, [depeg(4)], record=True)
    ids = list(br.entity_ids)
    loss = np.asarray(br.history["loss"])[0]
    assert np.allclose(loss[:, ids.index("FUND")], 12e6, rtol=1e-12)
    assert np.allclose(loss.sum(1), 20e6, rtol=1e-12)
