"""A pool prices and pays in the asset its quote side holds (decision 16 in Session 35 (lead)): UST-like coins its
queued holders sell into a pool whose quote coin has lost its peg are paid in units of that coin at its price.

The network: ALGO, an algorithmic stablecoin backed by BACK (mint and burn, core.engine.defend.redeem_algorithmic),
priced by POOL, a stableswap pool (A = 200) holding 100M ALGO against 100M USDX (``amm_counter`` USDX, its peg unit
USD: the UST-3Crv metapool's shape; the 2022 network holds its 3CRV as the 3pool's three coins, decision 19). HOLDERS hold 700M ALGO on their own
account, LPS own the pool's $200M of LP shares. BACK falls 70% and USDX trades at half its peg: holders queue to
redeem beyond the module's capacity and sell the rest into the pool (core.engine.queue_sales.sell_unserved_queue).

Before, the pool's counter was USD (``pool_counter`` -1) while it held USDX: a unit of USDX the sale took out of the
pool was paid to the sellers as a dollar of cash, worth twice what the pool gave up (session 34 (trace2),
``monotone-2022-luna-36-37-circle-failed-no-runs-lag2-liquidity-111-capital-500m``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import core
import core.engine.rounds as rounds
from core import Scenario
from core.engine import compile_network, queue_sales
from core.network import Network
from core.validation import DataValidationError

_PROV = dict(as_of="2022-05-06", source="https://example.org/pool-quote-depeg-test", flag="estimate", note="")


def _entity(id_: str, type_: str, other_assets: float = 0.0) -> dict:
    return dict(id=id_, name=id_, type=type_, region="defi", chain="Ethereum", other_assets_usd=other_assets,
                other_liabilities_usd=0.0, liquid_share=1.0, insurance_fund_usd=0.0, **_PROV)


def quote_network(amm_counter: str = "USDX") -> Network:
    """The module docstring's network."""
    entities = pd.DataFrame([_entity("ISSUER", "stablecoin_issuer", 1e6), _entity("POOL", "amm_pool"),
                             _entity("HOLDERS", "fund", 10e6), _entity("LPS", "depositor_aggregate")])
    assets = pd.DataFrame([
        dict(symbol="BACK", name="Backing", kind="volatile", price_usd=10.0, supply=1e8, adv_usd=1e9, daily_vol=0.05,
             **_PROV),
        dict(symbol="ALGO", name="Algorithmic dollar", kind="algorithmic_stable", price_usd=1.0, supply=8e8,
             adv_usd=5e8, daily_vol=0.003, amm_pool="POOL", amplification=200.0, peg_target=1.0, peg_unit="USD",
             backing_asset="BACK", issuer="ISSUER", **_PROV) | (dict(amm_counter=amm_counter) if amm_counter else {}),
        dict(symbol="USDX", name="USD X", kind="fiat_stable", price_usd=1.0, supply=1e10, adv_usd=1e10,
             daily_vol=0.001, peg_target=1.0, peg_unit="USD", **_PROV),
    ])
    holdings = pd.DataFrame([dict(entity="POOL", asset="ALGO", amount=100e6, **_PROV),
                             dict(entity="POOL", asset="USDX", amount=100e6, **_PROV),
                             dict(entity="HOLDERS", asset="ALGO", amount=700e6, **_PROV)])
    exposures = pd.DataFrame([dict(id="LPS-POOL-lp_share", creditor="LPS", debtor="POOL", kind="lp_share",
                                   amount_usd=200e6, **_PROV)])
    cohorts = pd.DataFrame(columns=["id", "protocol", "borrower", "collateral_asset", "debt_asset", "collateral_amount",
                                    "debt_amount", "liquidation_threshold", "liquidation_bonus", "close_factor", "style",
                                    *_PROV])
    return Network.from_frames(name="pool-quote-depeg", entities=entities, assets=assets, holdings=holdings,
                               exposures=exposures, cohorts=cohorts)


SCENARIO = Scenario(price_shocks={"BACK": -0.7}, depegs={"USDX": 0.5}, horizon=6)


def _sales(net: Network, scenario: Scenario) -> list[dict]:
    """Each round's queue sale into POOL that sold: the pool's reserves, the sellers' cash and the prices around it."""
    c = compile_network(net)
    p, a, q = 0, list(c.symbols).index("ALGO"), list(c.symbols).index("USDX")
    holders, pool = list(c.ids).index("HOLDERS"), c.pool_entity[0]
    seen: list[dict] = []

    def step(c, s, b, r):
        before = dict(res=s.pool_res[0, p].copy(), oa=s.oa[0, holders], H=s.H[0, holders, a], P=s.P[0].copy(),
                      pool_held=s.H[0, pool].copy())
        out = queue_sales.sell_unserved_queue(c, s, b, r)
        if "pool_res" in out:
            seen.append(dict(round=r, before=before, res=np.asarray(out["pool_res"])[0, p].copy(),
                             oa=np.asarray(out["oa"])[0, holders], H=s.H[0, holders, a], pool_held=s.H[0, pool].copy(),
                             quote=q, coin=a))
        return out

    mp = pytest.MonkeyPatch()
    mp.setattr(rounds, "STEPS", tuple(step if f is queue_sales.sell_unserved_queue else f for f in rounds.STEPS))
    try:
        core.simulate(net, scenario)
    finally:
        mp.undo()
    return seen


def test_the_pool_counter_is_the_held_quote_coin():
    c = compile_network(quote_network())
    assert list(c.symbols[c.pool_counter]) == ["USDX"]
    assert c.pool_res0[0] == pytest.approx([100e6, 100e6], rel=1e-12)
    # without amm_counter the pool is priced in USD, its other holdings (USDX) its counter side
    assert list(compile_network(quote_network("")).pool_counter) == [-1]


def test_an_amm_counter_the_pool_does_not_hold_is_refused():
    with pytest.raises(DataValidationError, match="amm_counter"):
        quote_network("BACK")  # the pool holds none
    with pytest.raises(DataValidationError, match="amm_counter"):
        quote_network("ALGO")  # the token itself


@pytest.mark.parametrize("amm_counter", ["USDX", ""])
def test_sellers_are_paid_what_the_pool_gives_up_at_the_quote_coins_price(amm_counter):
    """In every round the queue sells into the pool, the sellers' cash is the quote units the pool gives up at the
    quote coin's price (half a dollar), never a dollar a unit; with the coin's units the pool takes at the coin's
    price before the sale, the pool's holdings and the sellers' cash together are worth no more than before. The
    same with the pool priced in USD over its USDX (``amm_counter`` empty: a counter unit is worth its slice of
    the pool's other holdings, core.engine.pools.counter_value). On main before this change the sellers received
    $1 a unit of USDX worth $0.50: twice what the pool gave up."""
    seen = _sales(quote_network(amm_counter), SCENARIO)
    assert seen, "the queue sold into the pool"
    for sale in seen:
        before, q, a = sale["before"], sale["quote"], sale["coin"]
        price = before["P"][q]
        assert price == pytest.approx(0.5, rel=1e-9)
        out = before["res"][1] - sale["res"][1]  # counter units the pool paid
        held_out = before["pool_held"][q] - sale["pool_held"][q]  # USDX units that left the pool entity
        taken = sale["res"][0] - before["res"][0]  # coin units the pool took
        cash = sale["oa"] - before["oa"]
        assert out > 0 and taken > 0
        assert held_out == pytest.approx(out, rel=1e-9)
        assert cash == pytest.approx(held_out * price, rel=1e-9)
        assert before["H"] - sale["H"] == pytest.approx(taken, rel=1e-9)  # the holders gave up what the pool took
        pool_before = before["pool_held"] @ before["P"]
        pool_after = sale["pool_held"] @ before["P"]
        assert cash + pool_after <= pool_before + taken * before["P"][a] * (1 + 1e-12)
