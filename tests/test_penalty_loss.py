"""Liquidation penalties and protocol fees paid by borrowers outside the network are their loss, in system loss
(``borrowers_penalty_loss``; core.engine.fees.outside_borrowers_paid, core.engine.outcome).

Maker's ``chop`` (dog.sol ``tab = art * rate * chop``; clip.sol raises the tab into the Vow), Aave v3's
``liquidationProtocolFee`` and Compound v2's ``protocolSeizeShareMantissa`` move value from a borrower into a
protocol of the network. Where the borrower is outside the network (an anonymous cohort) the protocol's gain was,
before, value created: a deeper shock that liquidated more anonymous vaults paid Maker more penalty and lowered
system loss (``monotone-2020-eth-uni-pool-failed-lag2``). Equity changes plus outside parties' losses now equal
the value destroyed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import core
from core import Scenario
from core.engine import simulate_batch
from core.mechanisms import vault_defence
from core.network import Network
from lending_fixture import lending_network  # LENDER (no equity) funded by FUND's $200M deposit

_PROV = dict(as_of="2022-05-06", source="https://example.org/penalty-test", flag="estimate", note="")
ETH0, HELD, VAULT_ETH, VAULT_DEBT = 2000.0, 1000.0, 1000.0, 1e6
CHOP = 1.13


def maker_network(borrower: str = "") -> Network:
    """MAKER (a CDP protocol holding 1,000 ETH of its own, owing $1M) and one ETH-A cohort of 1,000 ETH against
    1M DAI (ratio 2.0 at $2,000; mat 1.45, chop 1.13, no tip or chip, no hole, no dust, no vow.wait, no flap),
    anonymous unless ``borrower`` names FUND (a fund in the network) as its owner."""
    ilks = pd.read_csv(core.datasets.scenario_dir().parent / "crypto-2022-05" / "maker_ilks.csv", keep_default_na=False)
    ilk = ilks.iloc[[0]].copy()
    for col, v in dict(chop=CHOP, hole_usd=1e12, dust_usd=0.0, chip=0.0, tip_usd=0.0, system_hole_usd=1e12,
                       vow_wait_seconds=0.0, surplus_hump_usd=1e12).items():
        ilk[col] = v
    entities = pd.DataFrame([
        dict(id="MAKER", name="Maker", type="cdp_protocol", region="defi", chain="Ethereum", other_assets_usd=0.0,
             other_liabilities_usd=1e6, liquid_share=0.1, insurance_fund_usd=0.0, **_PROV),
        dict(id="FUND", name="Fund", type="fund", region="cefi", chain="BVI", other_assets_usd=1e6,
             other_liabilities_usd=0.0, liquid_share=1.0, insurance_fund_usd=0.0, **_PROV),
    ])
    assets = pd.DataFrame([
        dict(symbol="ETH", name="Ether", kind="volatile", price_usd=ETH0, supply=1.2e8, adv_usd=1e10, daily_vol=0.04,
             **_PROV),
        dict(symbol="DAI", name="Dai", kind="cdp_stable", price_usd=1.0, supply=1e9, adv_usd=1e10, daily_vol=0.001,
             peg_target=1.0, peg_unit="USD", issuer="MAKER", **_PROV)])
    holdings = pd.DataFrame([dict(entity="MAKER", asset="ETH", amount=HELD, **_PROV)])
    exposures = pd.DataFrame(columns=["id", "creditor", "debtor", "kind", "amount_usd", *_PROV])
    cohorts = pd.DataFrame([dict(
        id="MAKER.ETH-A.vault", protocol="MAKER", borrower=borrower, collateral_asset="ETH", debt_asset="DAI",
        collateral_amount=VAULT_ETH, debt_amount=VAULT_DEBT, liquidation_threshold=1 / 1.45, liquidation_bonus=CHOP - 1,
        close_factor=1.0, style="maker", underwater_ok=False, **_PROV)])
    return Network.from_frames(name="penalty", entities=entities, assets=assets, holdings=holdings,
                               exposures=exposures, cohorts=cohorts, maker_ilks=ilk)


@pytest.fixture
def no_defence(monkeypatch):
    """Owners do not repay before the bark (core.mechanisms.vault_defence): the whole vault is barked."""
    monkeypatch.setattr(vault_defence, "DAILY_SHARE", 0.0)


def test_worked_example_an_anonymous_vault_barked(no_defence):
    """ETH -40%: the vault's ratio is 1.2 (below mat 1.45) and it is barked whole; keepers pay the 1.13M DAI tab
    (its 1,000 ETH fetch $1.17M), so the Vow takes 130,000 DAI of chop from the vault's owner, outside the network.
    Value destroyed in the network: Maker's own 1,000 ETH, $2,000 -> $1,199.33 after the auction's sale, $800,671.
    Maker loses that less the penalty, $670,671; the owner's $130,000 is counted: total $800,671, the value
    destroyed. Before, total loss was Maker's $670,671 alone: the penalty was value created."""
    br = simulate_batch(maker_network(), [Scenario(price_shocks={"ETH": -0.4})])
    i = list(br.entity_ids).index("MAKER")
    eth = br.prices[0, list(br.asset_symbols).index("ETH")]
    penalty = (CHOP - 1.0) * VAULT_DEBT
    destroyed = HELD * (ETH0 - eth)
    assert br.liquidated_usd[0] > CHOP * VAULT_DEBT            # the auction raised the whole tab
    assert br.fee_income[0, i] == pytest.approx(penalty, rel=1e-12)
    assert br.borrowers_penalty_loss[0] == pytest.approx(penalty, rel=1e-12)
    assert br.equity[0, i] - br.initial_equity[i] == pytest.approx(penalty - destroyed, rel=1e-9)
    assert destroyed == pytest.approx(800_671.44, abs=0.01)
    assert br.loss[0, i] == pytest.approx(destroyed - penalty, rel=1e-9)
    assert br.total_loss[0] == pytest.approx(destroyed, rel=1e-12)
    # the conservation identity: equity changes less outside parties' losses are minus the value destroyed
    change = (br.equity[0] - br.initial_equity).sum() - br.outside_loss[0] - br.borrowers_penalty_loss[0]
    assert change == pytest.approx(-destroyed, rel=1e-12)


def test_a_named_borrowers_penalty_is_a_transfer_within_the_network(no_defence):
    """The same vault owned by FUND, in the network: its penalty is FUND's loss and Maker's gain, counted once in
    FUND's equity; no outside borrower pays, and total loss is the network's losses."""
    br = simulate_batch(maker_network(borrower="FUND"), [Scenario(price_shocks={"ETH": -0.4})])
    ids = list(br.entity_ids)
    assert br.fee_income[0, ids.index("MAKER")] == pytest.approx((CHOP - 1.0) * VAULT_DEBT, rel=1e-12)
    assert br.borrowers_penalty_loss[0] == 0.0
    assert br.total_loss[0] == pytest.approx(br.loss[0].sum() + br.outside_loss[0], rel=1e-12)


def test_deeper_shock_never_less_loss(no_defence):
    """ETH -25% to -45%: deeper falls bark more of the vault (its vaults' ratios spread about 1.5) and the Vow takes
    more chop, up to the whole 130,000 DAI, then less once the collateral no longer covers the tab (the rest of the
    tab is never raised and the debt's shortfall is Maker's bad debt). The chop is never more than the tab's and
    the loss counting it never falls."""
    depths = np.linspace(0.25, 0.45, 21)
    br = simulate_batch(maker_network(), [Scenario(price_shocks={"ETH": -d}) for d in depths])
    penalty = br.borrowers_penalty_loss
    top = int(np.argmax(penalty))
    assert penalty[top] == pytest.approx((CHOP - 1.0) * VAULT_DEBT, rel=1e-12) and 0 < top < len(depths) - 1
    assert (np.diff(penalty[:top + 1]) >= 0).all() and (np.diff(penalty[top:]) <= 0).all() and penalty.min() > 0
    assert (np.diff(br.total_loss) >= -1e-6).all()


def test_black_thursday_counts_the_vaults_chop():
    """The Black Thursday preset: every 2020 Maker cohort is anonymous and Compound kept no seize share before
    autumn 2021, so outside borrowers' penalties are the chop of every auction, gross of keepers' incentives, as
    the Vow credited it (the ``maker`` summary's ``penalty_income_usd``), and total loss counts them."""
    from core.results import MAKER_HISTORY
    sc = core.load_scenario(core.datasets.scenario_dir() / "black_thursday_2020.json")
    br = simulate_batch(core.datasets.network_of(sc), [sc], record=True)
    m = np.asarray(br.history["maker"])[0]
    chop = m[-1, MAKER_HISTORY.index("penalty_usd")]
    assert chop > 1e6
    assert br.borrowers_penalty_loss[0] == pytest.approx(chop, rel=1e-9)
    total = (br.loss[0].sum() + br.outside_loss[0] + br.insurance_draw[0].sum() + br.governance_backstop[0]
             + br.traders_loss[0] + br.pooled_cover_usd[0] + br.borrowers_penalty_loss[0])
    assert br.total_loss[0] == pytest.approx(total, rel=1e-12)


@pytest.mark.parametrize("style, seized, fee", [
    # Compound v2 (2022): the close factor's half, $50M repaid x 1.08 = $54M seized; reserves keep 2.8% of it
    ("compound_v2", 54e6, 0.028 * 54e6),
    # Aave v3: HF 0.88 <= 0.95 closes the position whole, $108M seized; the treasury keeps 10% of the bonus part
    ("aave_v3", 108e6, 0.10 * 108e6 * (1 - 1 / 1.08)),
    # Aave v2 had no protocol fee: the whole bonus goes to liquidators, outside the network, and is not counted
    ("aave_v2", 54e6, 0.0),
])
def test_lenders_fees_from_outside_borrowers(style, seized, fee):
    """ETH -45% in one round: the anonymous cohort (HF 0.88) is liquidated; what the protocol keeps
    (core.engine.fees.kept_by_protocol) is paid by the outside borrower into LENDER, whose equity (0 at the start)
    it raises by as much. A gain above the start lowers no counted loss, so the fee counts 0 of the borrower's
    loss (core.engine.outside_transfers): no entity of the network held ETH, so no value was destroyed in it, and
    system loss is 0, as had the fee gone to the liquidators (session 31, s31-kept; from session 14 to it the fee
    was counted whole, system loss the fee, a transfer counted as value destroyed). Owned by FUND (in the network),
    the same fee is FUND's loss within the network: no outside borrower pays. (A lender below its start counts
    the fee whole: tests/test_outside_transfers.py.)"""
    sc = Scenario(price_shocks={"ETH": -0.45}, horizon=1)
    br = simulate_batch(lending_network(style), [sc])
    i = list(br.entity_ids).index("LENDER")
    assert br.liquidated_usd[0] == pytest.approx(seized, rel=1e-12)
    assert br.fee_income[0, i] == pytest.approx(fee, rel=1e-12, abs=1e-6)
    assert br.initial_equity[i] == 0.0
    assert br.equity[0, i] == pytest.approx(fee, rel=1e-12, abs=1e-6)  # the whole fee kept above its start
    assert br.borrowers_penalty_loss[0] == pytest.approx(0.0, abs=1e-6)
    assert br.total_loss[0] == pytest.approx(0.0, abs=1e-6)
    named = simulate_batch(lending_network(style, borrower="FUND"), [sc])
    assert named.fee_income[0, i] == pytest.approx(fee, rel=1e-12, abs=1e-6)
    assert named.borrowers_penalty_loss[0] == 0.0
