"""A coin owed by two issuers: DAI, by Maker's vaults and by its PSM (core.mechanisms.psm.two_issuer_recovery,
core.engine.maker_co_issued.coin_recoveries and dai_holders_outside).

A failed Maker's DAI is redeemed by ``end.cash`` for a share of every ilk's collateral, the PSM's USDC included:
its holders recover the blend of the vaults' recovery and the PSM's USDC at USDC's price, and bear both issuers'
shortfalls pro rata. Before, the whole supply was priced at the vaults' recovery (on the 2022 network $3.2bn of
the $8.5bn of DAI is the PSM's), and where the PSM's USDC held DAI below that recovery the shortfall set aside as
borne through DAI's price was counted nowhere (``monotone-shipped-circle-failed-backstop-edge-held-dai``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from core import Scenario
from core.engine import simulate_batch
from core.mechanisms.psm import two_issuer_recovery
from core.network import Network

_PROV = dict(as_of="2022-05-09", source="https://example.org/two-issuers-test", flag="estimate", note="")
VAULT_DAI, PSM_DAI, VAULT_ASSETS = 60e6, 40e6, 65e6  # VAULTS owes 60M DAIX against $65M; PSM 40M against 40M USDY
SUPPLY = VAULT_DAI + PSM_DAI
PEG_COLUMNS = ("asset,mechanism,reserve_cash,reserve_tbills,reserve_other,redemption_capacity_usd_per_day,backing_asset,"
               "backing_share,psm_line_usd,psm_tin,psm_tout,market_depth_usd,liable_entity,withdrawals,exit_queue_days,"
               "years_to_redemption,funding_rate,staking_yield,arbitrage_units_per_day,lp_sensitivity_per_day,"
               "arbitrage_reference_gap,arbitrage_elasticity,as_of,source,flag,note").split(",")


@lru_cache(maxsize=32)
def two_issuer_network(held: float = 30e6) -> Network:
    """VAULTS (Maker's vaults' side: $5M of equity, the surplus buffer) and PSM (its PSM: 40M USDY for the 40M DAIX
    minted through it, equity 0, at its debt ceiling) owe DAIX; FUND holds ``held`` DAIX, outsiders the rest.

    Validated once per ``held`` in a process and shared (a Network's tables are read-only): the helpers that derive
    a network from its frames (:func:`without_exposures`, ``test_psm_books``) built and validated a fresh one per
    call, per hypothesis example, only to read them."""
    entity = dict(region="defi", chain="Ethereum", liquid_share=1.0, insurance_fund_usd=0.0, **_PROV)
    entities = pd.DataFrame([
        dict(id="VAULTS", name="Vaults", type="cdp_protocol", other_assets_usd=VAULT_ASSETS,
             other_liabilities_usd=VAULT_DAI, **entity),
        dict(id="PSM", name="PSM", type="reserve", other_assets_usd=0.0, other_liabilities_usd=PSM_DAI, **entity),
        dict(id="FUND", name="Fund", type="fund", other_assets_usd=10e6, other_liabilities_usd=0.0, **entity),
    ])
    coin = dict(adv_usd=1e10, daily_vol=0.001, peg_target=1.0, peg_unit="USD", **_PROV)
    assets = pd.DataFrame([
        dict(symbol="ETH", name="Ether", kind="volatile", price_usd=2000.0, supply=1.2e8, adv_usd=1e10, daily_vol=0.04,
             **_PROV),
        dict(symbol="USDY", name="USD Y", kind="fiat_stable", price_usd=1.0, supply=1e9, **coin),
        dict(symbol="DAIX", name="DAI X", kind="cdp_stable", price_usd=1.0, supply=SUPPLY, issuer="VAULTS", **coin),
    ])
    holdings = pd.DataFrame([dict(entity="PSM", asset="USDY", amount=PSM_DAI, **_PROV),
                             dict(entity="FUND", asset="DAIX", amount=held, **_PROV)])
    pegs = pd.DataFrame([dict({k: None for k in PEG_COLUMNS}, asset="DAIX", mechanism="psm", backing_asset="USDY",
                              backing_share=PSM_DAI / SUPPLY, psm_line_usd=PSM_DAI, psm_tin=0.001, psm_tout=0.0,
                              market_depth_usd=3e8, liable_entity="PSM", withdrawals=False, **_PROV)])
    exposures = pd.DataFrame(columns=["id", "creditor", "debtor", "kind", "amount_usd", *_PROV])
    cohorts = pd.DataFrame(columns=["id", "protocol", "borrower", "collateral_asset", "debt_asset", "collateral_amount",
                                    "debt_amount", "liquidation_threshold", "liquidation_bonus", "close_factor", "style",
                                    *_PROV])
    return Network.from_frames(name="two-issuers", entities=entities, assets=assets, holdings=holdings,
                               exposures=exposures, cohorts=cohorts, pegs=pegs)


def forced(entity: str, recovery: float, usdy_depeg: float) -> Scenario:
    """``entity`` forced to fail keeping ``recovery`` of its assets, USDY ``usdy_depeg`` off its peg."""
    return Scenario(forced_defaults=[entity], forced_default_recovery=recovery, depegs={"USDY": usdy_depeg})


def failed(recovery: float, usdy_depeg: float) -> Scenario:
    return forced("VAULTS", recovery, usdy_depeg)


def without_exposures(name: str, entities: pd.DataFrame, assets: pd.DataFrame, holdings: pd.DataFrame,
                      pegs: pd.DataFrame) -> Network:
    """A small network of these frames with no exposures and no cohorts (those of :func:`two_issuer_network`)."""
    empty = two_issuer_network()
    return Network.from_frames(name=name, entities=entities, assets=assets, holdings=holdings,
                               exposures=empty.exposures, cohorts=empty.cohorts, pegs=pegs)


def assert_borne(br, issuer: str, fund: float, outside: float, total: float) -> None:
    """The first scenario's losses (USD): the forced ``issuer`` its $5M of equity, FUND ``fund``, the outside
    creditors ``outside`` and the system ``total``."""
    ids = list(br.entity_ids)
    assert br.loss[0, ids.index(issuer)] == pytest.approx(5e6, rel=1e-12)
    assert br.loss[0, ids.index("FUND")] == pytest.approx(fund, rel=1e-9)
    assert br.outside_loss[0] == pytest.approx(outside, rel=1e-9)
    assert br.total_loss[0] == pytest.approx(total, rel=1e-9)


def assert_conserved(br, destroyed: float) -> None:
    """The first scenario's sum of equity changes and outside creditors' write-downs, and its system loss, are the
    value ``destroyed`` (USD)."""
    equity_change = (np.maximum(br.equity[0], 0.0) - br.initial_equity).sum()
    assert br.outside_loss[0] - equity_change == pytest.approx(destroyed, rel=1e-9, abs=1.0)
    assert br.total_loss[0] == pytest.approx(destroyed, rel=1e-9, abs=1.0)


def test_the_blend_from_the_2022_figures():
    """The 2022 network's $5.3bn of vault DAI and $3.2bn minted through the PSM (Maker's 9 May 2022 figures): with
    the vaults paying 0.9 and USDC at its 11 March 2023 low of 0.878 a DAI recovers 0.891718; with USDC at par,
    0.937647 (before: 0.9, the vaults' recovery, for the PSM's DAI too)."""
    assert float(two_issuer_recovery(5.3e9, 0.9, 3.2e9, 0.878)) == pytest.approx(0.891718, abs=5e-7)
    assert float(two_issuer_recovery(5.3e9, 0.9, 3.2e9, 1.0)) == pytest.approx((5.3 * 0.9 + 3.2) / 8.5, rel=1e-12)


def test_worked_example():
    """VAULTS keeps 80% of its $65M: it pays 52/60 = 0.866667 of its 60M DAIX; USDY 10% off peg. A DAIX recovers
    (60 x 0.866667 + 40 x 0.9) / 100 = 0.88 and trades there from round 0. Destroyed: $13M of VAULTS' assets and
    $4M of the PSM's USDY, $17M. Borne: VAULTS its $5M of equity, FUND 30M x 0.12 = $3.6M, outside holders
    70M x 0.12 = $8.4M. Before: DAIX at 0.866667 (the vaults' recovery on all of it), FUND $4.0M, outside $0.8M
    (the PSM's $2.8M of outside holders' USDY loss and the vaults' $5.6M share counted nowhere), $9.8M in all."""
    br = simulate_batch(two_issuer_network(), [failed(0.8, 0.1)], record=True)
    ids, syms = list(br.entity_ids), list(br.asset_symbols)
    dai = br.history["prices"][0][:, syms.index("DAIX")]
    np.testing.assert_allclose(dai, 0.88, rtol=1e-12)
    assert br.loss[0, ids.index("PSM")] == 0.0
    assert_borne(br, "VAULTS", fund=3.6e6, outside=8.4e6, total=17e6)


@settings(max_examples=30, deadline=None)
@given(recovery=st.floats(0.0, 0.9), depeg=st.floats(0.0, 0.6), share=st.floats(0.0, 1.0))
def test_conservation(recovery, depeg, share):
    """Sum of equity changes + outside creditors' write-downs = value destroyed, whoever holds the coin: VAULTS'
    forced loss (1 - recovery) x $65M and the PSM's USDY depeg x $40M. Each holder bears the blend's shortfall."""
    held = share * SUPPLY
    br = simulate_batch(two_issuer_network(held), [failed(recovery, depeg)])
    assert_conserved(br, (1.0 - recovery) * VAULT_ASSETS + depeg * PSM_DAI)
    blend = (recovery * VAULT_ASSETS + (1.0 - depeg) * PSM_DAI) / SUPPLY
    assert br.prices[0, list(br.asset_symbols).index("DAIX")] == pytest.approx(blend, rel=1e-9)
    assert br.outside_loss[0] == pytest.approx((SUPPLY - held) * (1.0 - blend), rel=1e-9, abs=1.0)


def test_the_vaults_shortfall_is_counted_where_the_coin_trades_below_the_blend():
    """USDY 70% off peg and the scenario depegging DAIX by 60% besides: DAIX trades at 0.4, below the blend
    (60 x 0.975 + 40 x 0.3) / 100 = 0.705 (a shut-down Maker's coin takes no factor from the PSM's channel), so the issuer cap
    does not bind and the price carries none of the vaults' shortfall (VAULTS keeps 90% of $65M and pays 0.975 of
    its 60M DAIX: $1.5M short). That shortfall is the outside creditors' in full, with the outside holders' share
    of the PSM's USDY write-down, 40M x 0.7 x (1 - 30/100) = $19.6M: $21.1M. Before: $0.75M, the network's
    30M x 0.025 set aside as borne through a price that did not carry it and the PSM's write-down counted nowhere
    (the mechanism of monotone-shipped-circle-failed-backstop-edge-held-dai: DAI at 0.346 after CIRCLE's failure,
    Maker's $160M beyond MKR's backstop counted nowhere). This case first held DAIX below the blend by the PSM's
    arbitrage (line $1,000bn: 0.3 / (1 - tin)), which a failed Maker's caged Vat no longer runs
    (test_psm_books.py)."""
    net = two_issuer_network()
    pegs = net.pegs.copy()
    pegs["psm_line_usd"] = 1e12
    net = Network.from_frames(name="two-issuers-room", pegs=pegs,
                              **{t: getattr(net, t) for t in ("entities", "assets", "holdings", "exposures", "cohorts")})
    br = simulate_batch(net, [Scenario(forced_defaults=["VAULTS"], forced_default_recovery=0.9,
                                       depegs={"USDY": 0.7, "DAIX": 0.6})], record=True)
    dai = br.history["prices"][0][:, list(br.asset_symbols).index("DAIX")]
    np.testing.assert_allclose(dai, 0.4, rtol=1e-12)
    assert br.outside_loss[0] == pytest.approx(1.5e6 + 19.6e6, rel=1e-9)
    ids = list(br.entity_ids)
    assert br.loss[0, ids.index("VAULTS")] == pytest.approx(5e6, rel=1e-12)
    assert br.loss[0, ids.index("FUND")] == pytest.approx(30e6 * (1 - 0.4), rel=1e-9)  # at the market price


def test_a_forced_makers_dai_on_the_2022_network():
    """MAKER forced to fail on the 2022 network (ETH -20%, runs 0.5: the engine fingerprint's seeds row): every
    round's DAI is the blend of the last clearing's paid ratio on the vaults' $5.3bn and the PSM's 3.2bn USDC at
    USDC's price, over the $8.5bn supply (a forced Maker is shut down: no debt auction is counted). Round 1's
    clearing paid 0.7594: DAI 0.84999, where before it was 0.7594 on the whole supply, the PSM's USDC-backed
    $3.2bn included; the system loss fell $6.734bn -> $5.905bn. Since session 27 the shut-down Maker's vaults are
    skimmed at round 0's opening (core.engine.maker_end: tag 1/$2,200 for ETH, every vault above water), so End
    holds 3,150M / 2,200 = 1,431,818 ETH and 18,694 WBTC for DAI's holders, who bear ETH's fall to round 0's close
    ($2,182.64: -$24.9M) and get no auction's penalty (-$1.9M): round 0's clearing pays 0.75507, DAI 0.84728 in
    round 1 (system loss $5.914bn -> $5.976bn). Session 31 (s31-poolidx): Maker's $200M deposit at AAVE_ETH is
    valued at AAVE_ETH's index of the same round (0.917971 at round 0's close), not the last round's (1.0), so round
    0's clearing pays $16.39M less ($4,001.87M -> $3,985.48M; 200M x 0.082029 = $16.41M): 0.75507 -> 0.75198, DAI in
    round 1 0.84728 -> 0.84535. Session 39 (lead; decision 19): DAI's fall reaches UST through CRV_UST's quote side
    (the 3pool's coins), the pool prices UST at 0.99782 in round 0 and LFG's defence sells 7,423.85 of its 80,394 BTC:
    BTC and WBTC $36,000 -> $35,869.96, End's 18,694.44 WBTC worth $2.43M less, round 0's clearing pays $2.44M less
    ($3,985.48M -> $3,983.04M): 0.75198 -> 0.75152, DAI in round 1 0.84535 -> 0.84506. Decision 29 (Session 46
    (defender)): LFG's defence sells none of its LUNA (156,176.61 before), so it sells 7,752.24 BTC, not 7,423.85, for
    the same purchase: BTC closes round 0 at $35,867.12 (was $35,869.96), End's WBTC is worth less and round 0's
    clearing pays 0.7515162 -> 0.7515061, DAI in round 1 0.8450630 -> 0.8450568."""
    from core.engine import compile_network
    from core.engine.batch import build_batch
    from core.engine.rounds import run_round
    from core.engine.state import initial_state
    import core

    net = core.datasets.load("crypto-2022-05")
    c = compile_network(net)
    b = build_batch(c, [Scenario(forced_defaults=["MAKER"], price_shocks={"ETH": -0.2}, run_intensity=0.5)], net)
    s = initial_state(c, b)
    ids, syms = list(c.ids), list(c.symbols)
    mk, psm, dai, usdc = ids.index("MAKER"), ids.index("MAKER_PSM"), syms.index("DAI"), syms.index("USDC")
    assert c.other_liab[mk] == 5.3e9 and c.other_liab[psm] == 3.2e9
    run_round(c, s, b, 0)
    for r in range(1, 5):
        paid = float(s.clearing.paid_ratio[0, mk])
        run_round(c, s, b, r)
        usdc_price = float(s.P[0, usdc])
        assert usdc_price == 1.0
        assert s.P[0, dai] == pytest.approx((5.3e9 * paid + 3.2e9 * usdc_price) / 8.5e9, rel=1e-12)
        if r == 1:
            assert paid == pytest.approx(0.751506, abs=1e-6) and s.P[0, dai] == pytest.approx(0.845057, abs=1e-6)
