"""Outside accounts' margin kept in the network is counted once (core.engine.outside_transfers, was perps_kept; docs/invariants.md,
"Session 31 (s31-hlp)").

A hand-built network: one venue (VENUE, BTC perpetuals, maintenance 5%), an anonymous 10x long bucket (100 BTC from
100,000 on 1m USDC, spread +-5%), and HOLDER, a fund holding 10 BTC. BTC falls 7% or 7.5%: the marks 93,000 and
92,500 put every account of the bucket past maintenance (the richest, 1.05m - 100 x 7,000 = 350k, is below 5% of
9.3m = 465k) with equity left at the fill (the poorest, 950k - 700k - the slippage, is above 0), so the margin left
is ``1m + 100 (fill - 100,000)``: 300k less the slippage at -7%, 250k less it at -7.5% (the fills 92,931.61 and
92,430.31: 0.074% and 0.075% under the marks, square-root slippage on half the day's depth). The rest of the margin
went to the counterparties who took the close at the fill, outside the network.

Who keeps the margin left: the venue's backstop vault (VAULT, an entity with 1m of USDC: ``backstop_vault``), or its
insurance fund of 100k (``adl``: the fund's growth beyond its size is the venue's gain; VENUE holds 1m). Either
ends above its initial equity, a gain system loss does not count (an entity's loss is ``max(E0 - max(E, 0), 0)``);
before session 31 the margin was also counted as the outside accounts' loss (``traders_loss``), so system loss
counted the transfer as value destroyed and *fell* with the deeper fill: 363,670.28 -> 318,537.92 (-45,132.36: the
margin's 50,129.62 less HOLDER's 4,997.26), the fall of ``monotone-2025-alts-6-half-runs-lag1-…-owed`` in small.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.engine import simulate_batch
from core.network import Network
from core.scenario import Scenario

SIGMA, ADV, P0 = 0.03, 3e10, 1e5
_PROV = {"as_of": "2025-10-10", "source": "test network", "flag": "estimate", "note": "invented"}


def fill_price(mark: float, notional: float) -> float:
    """A long's liquidation fill in round 0 by hand (tests/test_engine_perps.py): depth (sigma / |r|)^0.75 of the
    volume, square-root slippage."""
    depth = min(1.0, SIGMA / abs(np.log(mark / P0))) ** 0.75
    return mark * np.exp(-SIGMA * np.sqrt(notional / (depth * ADV)))


def network(keeper: str, bankrupt_margin: float = 0.0) -> Network:
    """The module's network; ``keeper`` "vault" or "fund"; ``bankrupt_margin`` > 0 adds an anonymous bucket long 100
    BTC on that margin (maintenance 0.5%) that ends below 0 at the fill: its deficit, ``100 (100,000 - fill) -
    margin``, is paid from the vault or the fund (then the venue)."""
    def frame(rows: list[dict]) -> pd.DataFrame:
        return pd.DataFrame([{**r, **_PROV} for r in rows])

    def entity(id_: str, type_: str, other: float = 0.0, fund: float = 0.0) -> dict:
        return {"id": id_, "name": id_.title(), "type": type_, "region": "exchange", "chain": "Synthetic",
                "other_assets_usd": other, "other_liabilities_usd": 0.0, "insurance_fund_usd": fund}

    def long(id_: str, margin: float, maintenance: float) -> dict:
        return {"id": id_, "venue": "VENUE", "account": "", "market": "BTC", "side": "long", "size": 100.0,
                "entry_price": P0, "margin": margin, "margin_asset": "USDC", "margin_mode": "isolated",
                "leverage_bucket": f"{round(100 * P0 / margin)}x", "maintenance_margin": maintenance}

    vault = keeper == "vault"
    return Network.from_frames(
        name="perps-transfers",
        entities=frame([entity("VENUE", "perpetuals_venue", other=1e6, fund=0.0 if vault else 1e5),
                        entity("VAULT", "fund"), entity("HOLDER", "fund")]),
        assets=frame([{"symbol": "BTC", "name": "Bitcoin", "kind": "volatile", "price_usd": P0, "supply": 2e7,
                       "adv_usd": ADV, "daily_vol": SIGMA},
                      {"symbol": "USDC", "name": "USD Coin", "kind": "fiat_stable", "price_usd": 1.0, "supply": 7e10,
                       "adv_usd": 1e10, "daily_vol": 0.001, "peg_target": 1.0, "peg_unit": "USD"}]),
        holdings=frame([{"entity": "VAULT", "asset": "USDC", "amount": 1e6}, {"entity": "HOLDER", "asset": "BTC", "amount": 10.0}]),
        exposures=frame([]).reindex(columns=["id", "creditor", "debtor", "kind", "amount_usd", *_PROV]),
        positions=frame([long("LONGS_10X", 1e6, 0.05)] + ([long("LONGS_BANKRUPT", bankrupt_margin, 0.005)] if bankrupt_margin else [])),
        venues=frame([{"venue": "VENUE", "maintenance_margin": 0.05, "adl_rule": "backstop_vault" if vault else "adl",
                       "backstop_vault_usd": 5e6 if vault else 0.0, "backstop_vault_entity": "VAULT" if vault else "",
                       "collateral_policy": "index", "own_book_share": 1.0}]))


MARKS = (93_000.0, 92_500.0)  # BTC -7% and -7.5%


def run(net: Network):
    return simulate_batch(net, [Scenario(price_shocks={"BTC": m / P0 - 1}) for m in MARKS])


def holder_loss(br) -> np.ndarray:
    return 10 * (P0 - br.prices[:, list(br.asset_symbols).index("BTC")])


@pytest.mark.parametrize("keeper", ["vault", "fund"])
def test_margin_kept_above_the_keepers_equity_is_no_loss_and_the_deeper_fill_costs_more(keeper):
    """The keeper gains the margin left, ``1m + 100 (fill - 100,000)``, 293,161.04 and 243,031.42, and ends above
    its initial equity at both depths: the outside accounts' margin is no counted loss (``traders_loss`` 0), system
    loss is HOLDER's alone (70,509.24 and 75,506.50: BTC closes at 92,949.08 and 92,449.35 after the forced sale),
    and it rises with the deeper shock."""
    br = run(network(keeper))
    ids = list(br.entity_ids)
    left = np.array([1e6 + 100 * (fill_price(m, 100 * m) - P0) for m in MARKS])
    assert left == pytest.approx([293_161.04, 243_031.42], abs=0.01)
    keeper_id = "VAULT" if keeper == "vault" else "VENUE"
    gain = br.equity[:, ids.index(keeper_id)] - br.initial_equity[ids.index(keeper_id)]
    np.testing.assert_allclose(gain, left, atol=0.01)
    np.testing.assert_array_equal(br.traders_loss, [0.0, 0.0])
    np.testing.assert_allclose(br.total_loss, holder_loss(br), atol=0.01)
    np.testing.assert_allclose(br.total_loss, [70_509.24, 75_506.50], atol=0.01)  # HOLDER: 10 BTC x ~500 more


@pytest.mark.parametrize("keeper", ["vault", "fund"])
@pytest.mark.parametrize("bankrupt_margin", [5e5, 2.5e5])
def test_a_keeper_that_pays_deficits_counts_the_margin_as_far_as_it_lowered_its_loss(keeper, bankrupt_margin):
    """A second bucket (20x: 500k; 40x: 250k) is bankrupt at the fill; its deficit ``100 (100,000 - fill) -
    margin`` (the fill on both buckets' 200 BTC) is paid from the margin the 10x bucket left and then the keeper's
    own money (the vault's, or the fund's 100k and then the venue's). Counted once, system loss is what it would
    be had the margin gone outside: HOLDER's loss plus the deficit paid to the winners outside, whatever the part
    of it the margin covered. The fills on 200 BTC, 92,903.30 and 92,401.46, leave 290,329.72 and 240,146.48 of the
    10x bucket's margin; the 20x deficit, 209,670.28 and 259,853.52, is covered by it at -7% (the keeper ends 80,659.43
    above its start: counted 209,670.28 of the margin) and not at -7.5% (it ends 19,707.04 below: the keeper's loss,
    and the whole margin counted); the 40x deficit, 459,670.28 and 509,853.52, is beyond it at both (the vault pays
    the rest; the fund pays its 100k and the venue the rest, uncovered)."""
    br = run(network(keeper, bankrupt_margin))
    fills = np.array([fill_price(m, 200 * m) for m in MARKS])
    left = 1e6 + 100 * (fills - P0)
    deficit = 100 * (P0 - fills) - bankrupt_margin
    assert left == pytest.approx([290_329.72, 240_146.48], abs=0.01)
    assert deficit == pytest.approx(np.array([709_670.28, 759_853.52]) - bankrupt_margin, abs=0.01)
    kept = np.maximum(left - deficit, 0.0)  # the margin the keeper ends with above its initial equity
    np.testing.assert_allclose(br.traders_loss, left - kept, atol=0.01)
    np.testing.assert_allclose(br.total_loss, holder_loss(br) + deficit, atol=0.01)
    assert br.total_loss[1] - br.total_loss[0] == pytest.approx(50_183.24 + 4_996.13, abs=0.01)
