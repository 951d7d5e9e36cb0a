"""Sky's own Maker system on crypto-2025-10 (``maker_ilks.csv``, written by ``data/crypto-2025-10/_maker.py``): the
figures Sky's executive spells state for 1 October 2025, the auctions they set checked against the dss arithmetic,
and the Vow with its debt auctions switched off.

Source: sky-ecosystem/spells-mainnet, ``archive/2025-09-18-DssSpell/test/config.sol`` (``afterSpell``: ETH-A,
WSTETH-A, WBTC-A; ``vow_sump = type(uint256).max``, ``vow_hump_min/max`` 1M, ``vow_bump`` 10,000, ``split_hop``
2,160 s, ``dog_Hole`` 150M, ``vow_wait`` 156 hours); dss ``abaci.sol`` (``StairstepExponentialDecrease.price``:
``rmul(top, rpow(cut, dur / step, RAY))``), ``clip.sol`` (``kick``: ``top = rmul(feedPrice, buf)``, ``coin = tip +
wmul(tab, chip)``; ``redo`` when ``block.timestamp - tic > tail`` or ``rdiv(price, top) < cusp``), ``dog.sol``
(``bark``: ``tab = mul(due, chop)``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import core
from core.engine import compile_network, simulate_batch
from core.engine.maker_book import KEEPER_MARGIN
from core.mechanisms.maker_clip import clip_round, stairstep_exponential_price
from core.mechanisms.maker_dog import keeper_incentive
from core.network import Network
from core.results import MAKER_HISTORY

RAY = 10**27
M = {k: i for i, k in enumerate(MAKER_HISTORY)}


@pytest.fixture(scope="module")
def net25() -> Network:
    return core.datasets.load("crypto-2025-10")


def test_the_ilks_are_the_spells_afterspell(net25):
    ilks = net25.maker_ilks.set_index("ilk")
    # afterSpell: mat 14500 / 150_00 / 15000 bp, chop 1300 / 1300 / 0 bp, dog_hole 40M / 30M / 10M, dust 7,500,
    # clip_buf 110_00, clip_tail 7_200, clip_cusp 45_00, clip_chip 10 bp, clip_tip 250, calc_step 90, calc_cut 9900
    want = {"ETH-A": ("ETH", 1.45, 1.13, 40e6), "WSTETH-A": ("stETH", 1.50, 1.13, 30e6), "WBTC-A": ("WBTC", 1.50, 1.00, 10e6)}
    assert sorted(ilks.index) == sorted(want)
    for ilk, (coll, mat, chop, hole) in want.items():
        row = ilks.loc[ilk]
        assert (row.collateral_asset, row.liquidation_ratio, row.chop, row.hole_usd) == (coll, mat, chop, hole)
        assert (row.dust_usd, row.buf, row.tail_seconds, row.cusp, row.chip, row.tip_usd) == (7_500, 1.10, 7_200, 0.45, 0.001, 250)
        assert (row.step_seconds, row.cut, row.auction) == (90, 0.99, "clip")
    system = ilks.iloc[0]
    assert (system.system_hole_usd, system.surplus_hump_usd, system.flap_bump_usd) == (150e6, 1e6, 10_000)
    assert (system.flap_hop_seconds, system.vow_wait_seconds, bool(system.debt_auctions)) == (2_160, 156 * 3600, False)
    # SKY's price is dated ($0.0651, CMC AI, 26 Sep 2025), its supply is not (~23.46bn, undated): the rows stay estimates
    assert pd_isna(system.flap_lid_usd) and (ilks["flag"] == "estimate").all()
    assert (system.mkr_supply, system.mkr_price_usd) == (23.46e9, 0.0651)
    assert "26 Sep 2025 03:32 UTC" in system.note and "yoyo.ilark.io/cmc-ai/sky/price-analysis" in system.source


def pd_isna(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def test_every_sky_cohort_is_in_the_ilk_of_its_collateral(net25):
    c = compile_network(net25)
    mk = c.maker
    assert mk is not None and not mk.debt_auctions and mk.hop == 2_160.0
    cohorts = net25.cohorts.iloc[mk.cohorts]
    ilk_of = net25.maker_ilks["ilk"].to_numpy()[mk.ilk]
    assert len(cohorts) == 18 and (cohorts["protocol"] == "SKY").all()
    assert dict(zip(cohorts["collateral_asset"], ilk_of)) == {"ETH": "ETH-A", "stETH": "WSTETH-A", "WBTC": "WBTC-A"}
    # WBTC-A's chop is 0 (2024-10-04 spell): the cohorts' penalty says so too
    wbtc = cohorts["collateral_asset"] == "WBTC"
    assert (cohorts.loc[wbtc, "liquidation_bonus"] == 0.0).all()
    assert np.allclose(cohorts.loc[wbtc, "liquidation_threshold"] * 1.50, 1.0)


def _rpow(x: int, n: int, base: int) -> int:
    """dss ``rpow``: x**n in fixed point ``base``, rounding half up at every product (abaci.sol)."""
    z = base if n % 2 == 0 else x
    half = base // 2
    n //= 2
    while n:
        x = (x * x + half) // base
        if n % 2:
            z = (z * x + half) // base
        n //= 2
    return z


def test_the_eth_a_price_curve_is_abaci_stairstep(net25):
    # ETH-A: feed $4,000 at the bark -> top = rmul(feed, buf) = 4,400; price(top, dur) = rmul(top, rpow(cut, dur / step))
    ilk = net25.maker_ilks.set_index("ilk").loc["ETH-A"]
    top = 4_000.0 * ilk.buf
    assert top == pytest.approx(4_400.0)
    top_ray, cut_ray = 4_400 * RAY, 99 * RAY // 100
    for dur in (0, 89, 90, 1_170, 3_600, 7_110, 7_200):
        dss = (top_ray * _rpow(cut_ray, dur // 90, RAY) + RAY // 2) // RAY / RAY
        assert float(stairstep_exponential_price(top, dur, ilk.step_seconds, ilk.cut)) == pytest.approx(dss, rel=1e-12)
    # needsRedo: price/top = 0.99^k falls below cusp 0.45 at k = 80 (0.99^79 = 0.4521, 0.99^80 = 0.4475), i.e. at
    # 80 x 90 s = 7,200 s, the tail: both reset conditions of the 2025 curve meet at two hours
    k = math.ceil(math.log(ilk.cusp) / math.log(ilk.cut))
    assert k == 80 and k * ilk.step_seconds == ilk.tail_seconds
    assert 0.99**79 >= 0.45 > 0.99**80


def test_a_sky_eth_a_vault_liquidated_under_the_2025_clipper(net25):
    # A vault of 100 ETH owing 290,000 DAI: safe at ETH 4,350 (435,000 >= 290,000 x 1.45 = 420,500), unsafe at 4,000
    # (400,000 < 420,500). bark: tab = 290,000 x chop 1.13 = 327,700 DAI, lot 100 ETH; the keeper who kicks gets
    # tip + chip x tab = 250 + 327.70 = 577.70 DAI. Keepers take at the first step at or below the market less their
    # margin, 4,000 x 0.97 = 3,880: 4,400 x 0.99^k <= 3,880 at k = 13 (0.99^12 x 4,400 = 3,900.1), after 1,170 s,
    # at 4,400 x 0.99^13 = 3,861.09; they pay the whole tab for 327,700 / 3,861.09 = 84.872 ETH and 15.128 ETH go
    # back to the vault's owner.
    ilk = net25.maker_ilks.set_index("ilk").loc["ETH-A"]
    debt, lot, feed = 290_000.0, 100.0, 4_000.0
    assert lot * 4_350.0 >= debt * ilk.liquidation_ratio > lot * feed
    tab = debt * ilk.chop
    assert tab == pytest.approx(327_700.0)
    assert float(keeper_incentive(tab, ilk.tip_usd, ilk.chip)) == pytest.approx(577.70)
    k = math.ceil(math.log(feed * (1 - KEEPER_MARGIN) / (feed * ilk.buf)) / math.log(ilk.cut))
    price = feed * ilk.buf * ilk.cut**k
    assert k == 13 and price == pytest.approx(3_861.09, abs=0.01)
    r = clip_round(tab, lot, feed * ilk.buf, 0.0, feed, feed, buf=ilk.buf, step=ilk.step_seconds, cut=ilk.cut,
                   tail=ilk.tail_seconds, cusp=ilk.cusp, round_seconds=3_600.0, keeper_margin=KEEPER_MARGIN)
    assert float(r.price) == pytest.approx(price, rel=1e-12)
    assert float(r.slice) == pytest.approx(tab / price, rel=1e-12) and float(r.slice) == pytest.approx(84.872, abs=1e-3)
    assert float(r.returned) == pytest.approx(lot - tab / price, rel=1e-12) and float(r.tab) == 0.0


def _with_debt_auctions(net: Network, on: bool) -> Network:
    ilks = net.maker_ilks.copy()
    ilks["debt_auctions"] = on
    return Network.from_frames(name="edited", **{**net.frames(), "maker_ilks": ilks})


def test_no_debt_auction_starts_while_sump_is_at_its_maximum(net25):
    # ETH -80% and stETH -80% on the 2025 network: Sky's vaults' auctions leave the Vow a deficit beyond its
    # buffer. With the spells' vow.sump = max uint256 no SKY is minted and nothing is raised from SKY holders;
    # the same network with debt auctions on (vow.wait 156 hours: the deficit owed by SKY holders, flop_pledge)
    # books a pledge. Nothing else differs between the two runs.
    sc = core.Scenario(price_shocks={"ETH": -0.8, "stETH": -0.8}, horizon=8)
    off = simulate_batch(net25, [sc], record=True)
    on = simulate_batch(_with_debt_auctions(net25, True), [sc], record=True)
    h_off, h_on = off.history["maker"][0], on.history["maker"][0]
    assert h_off[:, M["deficit_usd"]].max() > 1e8  # the deficit is there
    assert h_off[:, M["mkr_minted"]].max() == 0.0 and h_off[:, M["pledged_usd"]].max() == 0.0
    assert h_off[:, M["flop_raised_usd"]].max() == 0.0 and float(off.governance_backstop[0]) == 0.0
    assert h_on[:, M["pledged_usd"]].max() > 0.0 or h_on[:, M["flop_raised_usd"]].max() > 0.0
    # SKY's supply only falls (the Splitter's buy-backs; burnt while the system stands), never grows
    assert (np.diff(h_off[:, M["mkr_supply"]]) <= 0.0).all()


def test_the_splitter_pays_one_lot_per_hop(net25):
    # A 1% ETH dip: the Vow holds SKY's $150M buffer (insurance_fund_usd), 149M above hump, and the Splitter takes one
    # bump of 10,000 every 2,160 s: 400,000 a day (40 lots) in daily rounds; in hourly rounds the kicks at multiples
    # of 2,160 s fall 1, 2, 2 to a round (5 lots in 3 hours).
    for hours, per_round in ((24.0, [400_000.0] * 3), (1.0, [10_000.0, 20_000.0, 20_000.0])):
        br = simulate_batch(net25, [core.Scenario(price_shocks={"ETH": -0.01}, horizon=3, round_hours=hours)], record=True)
        paid = np.diff(np.concatenate([[0.0], br.history["maker"][0, :, M["flap_paid_usd"]]]))
        assert paid[:3] == pytest.approx(per_round, rel=1e-9)
