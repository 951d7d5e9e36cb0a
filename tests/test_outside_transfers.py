"""A transfer from outside into the network counts as the payer's loss only as far as the receiver's gain lowers a
counted loss (core.engine.outside_transfers; docs/invariants.md, "Session 31 (s31-kept)").

An entity's loss is max(E0 - max(E, 0), 0): a gain above its start counts 0. An outside borrower's liquidation fee
kept by a lender that ends above its start was counted whole as the borrower's loss (``borrowers_penalty_loss``),
as value destroyed, though the network counted none of the lender's gain. Now kept = min(max(E - max(E0, 0), 0), X)
and counted = X - kept, so lender and borrower together count the lender's loss as if the fee had gone outside:
max(E0 - (E - X), 0), whatever E.

The network: LENDER (a lending protocol; $1M of other assets, ``h`` ETH of its own, 100M USDC, $200M owed outside)
lends 100M USDC against 100,000 ETH ($200M at $2,000; threshold 0.80, bonus 8%, Aave v3: the treasury keeps 10% of
the bonus) to one anonymous cohort; deep markets. ETH -45% in one round: the cohort (HF 0.88) is closed whole,
$108M seized, the fee 0.10 x 108M x (1 - 1/1.08) = $800,000.
"""

from __future__ import annotations

import numpy as np
import pytest

from core import Scenario
from core.engine import simulate_batch
from core.engine.outside_transfers import kept_as_gain
from lending_fixture import ETH0, lending_network
from core.network import Network

OTHER = 1e6
FEE = 0.10 * 108e6 * (1 - 1 / 1.08)  # $800,000


def lender_network(eth_held: float) -> Network:
    """The module docstring's network (:mod:`lending_fixture`): $1M of other assets, $200M owed outside."""
    return lending_network("aave_v3", eth_held=eth_held, other_assets=OTHER, other_liabilities=200e6, fund_deposit=0.0)


def _run(eth_held: float, shocks: list[float]):
    br = simulate_batch(lender_network(eth_held), [Scenario(price_shocks={"ETH": x}, horizon=1) for x in shocks])
    return br, list(br.entity_ids).index("LENDER"), list(br.asset_symbols).index("ETH")


def test_a_lender_ending_below_its_start_counts_the_fee_whole():
    """(a) LENDER holds 2,000 ETH ($4M; E0 = $1M + $4M + $100M + $100M - $200M = $5M). Its ETH falls to P (deep
    markets: $1,099.94, the liquidators' $108M moving it $0.06 past -45%), 2,000 x (2,000 - P) = $1,800,122.85;
    the fee adds $800,000: E = $5M - $1.80M + $0.80M = $3,999,877.15, below its start. Nothing is kept above it:
    the fee counts whole, $800,000, and system loss is LENDER's $1,000,122.85 and the borrowers' $800,000,
    $1,800,122.85: the ETH's fall, as without the fee."""
    br, i, eth = _run(2000.0, [-0.45])
    P = br.prices[0, eth]
    eth_loss = 2000.0 * (ETH0 - P)
    assert P == pytest.approx(1099.9386, abs=1e-4)
    assert br.initial_equity[i] == pytest.approx(5e6, rel=1e-12)
    assert br.fee_income[0, i] == pytest.approx(FEE, rel=1e-12)
    assert br.equity[0, i] == pytest.approx(5e6 - eth_loss + FEE, rel=1e-9)
    assert br.equity[0, i] == pytest.approx(3_999_877.15, abs=0.01)
    assert br.borrowers_penalty_loss[0] == pytest.approx(FEE, rel=1e-12)
    assert br.loss[0, i] == pytest.approx(eth_loss - FEE, rel=1e-9)
    assert br.total_loss[0] == pytest.approx(eth_loss, rel=1e-9)
    assert br.total_loss[0] == pytest.approx(1_800_122.85, abs=0.01)


def test_a_lender_ending_above_its_start_keeps_the_fee_it_gains():
    """(b) LENDER holds 500 ETH ($1M; E0 $2M): the ETH's fall is 500 x (2,000 - P) = $450,030.71, less than the
    $800,000 fee: E = $2,349,969.29, $349,969.29 above its start. That gain is no loss the network counts, so it
    is no outside borrower's either: kept $349,969.29, counted $800,000 - $349,969.29 = $450,030.71. System loss:
    LENDER's 0 and the borrowers' $450,030.71, the ETH's fall, as without the fee (before: $800,000, the fee
    counted whole as value destroyed though LENDER ended above its start)."""
    br, i, eth = _run(500.0, [-0.45])
    P = br.prices[0, eth]
    eth_loss = 500.0 * (ETH0 - P)
    assert br.initial_equity[i] == pytest.approx(2e6, rel=1e-12)
    assert br.equity[0, i] == pytest.approx(2e6 - eth_loss + FEE, rel=1e-9)
    kept = br.equity[0, i] - br.initial_equity[i]
    assert kept == pytest.approx(349_969.29, abs=0.01)
    assert br.loss[0, i] == 0.0
    assert br.borrowers_penalty_loss[0] == pytest.approx(FEE - kept, rel=1e-9)
    assert br.total_loss[0] == pytest.approx(eth_loss, rel=1e-9)
    assert br.total_loss[0] == pytest.approx(450_030.71, abs=0.01)


def test_a_deeper_shock_never_lowers_the_loss_through_the_fee():
    """ETH -30% to -48% on (b)'s network, by 0.5%: from -35% the cohort is liquidated (the fee $46,153.85 at -35%,
    $800,000 from -43.5% to -46%, less past it, where the collateral no longer pays the whole bonus and LENDER books
    bad debt); LENDER crosses its start upward at -39% (the fee outgrows its ETH's fall: $2,001,781 on $2M) and back
    below it at -46.5%; at -47.5% it fails. System loss rises throughout (about $5,000 a step while LENDER is
    solvent): at every depth it is LENDER's loss and the fee less what LENDER keeps above its start, and, while
    LENDER is solvent, its loss as if the fee had gone outside, max(E0 - (E - fee), 0), the ETH's fall."""
    shocks = list(np.linspace(-0.30, -0.48, 37))
    br, i, _ = _run(500.0, shocks)
    E0, E, fee = br.initial_equity[i], br.equity[:, i], br.fee_income[:, i]
    assert fee[0] == 0.0 and fee.max() == pytest.approx(FEE, rel=1e-12)
    above = E > E0
    assert above.any() and (~above & (fee > 0)).any()  # both sides of its start, with a fee
    kept = np.minimum(np.maximum(E - E0, 0.0), fee)
    np.testing.assert_allclose(br.borrowers_penalty_loss, fee - kept, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(br.total_loss, np.maximum(E0 - np.maximum(E, 0.0), 0.0) + fee - kept + br.outside_loss,
                               rtol=1e-9)
    solvent = E >= 0.0  # there: LENDER's loss as if the fee had gone outside
    assert solvent.sum() == 35 and br.outside_loss[solvent].max() == 0.0
    np.testing.assert_allclose(br.total_loss[solvent], np.maximum(E0 - (E - fee), 0.0)[solvent], rtol=1e-9)
    assert (np.diff(br.total_loss) >= 0.0).all(), np.diff(br.total_loss).min()


def test_one_cap_for_a_receiver_of_several_kinds():
    """A receiver of $300 ending at $330 that received $40 of outside margin and a $10 fee keeps $30 above its
    start, once, shared pro rata ($24 of margin, $6 of fee): counted $16 + $4 = $20 = max(300 - (330 - 50), 0).
    Capped per kind it would keep $30 + $10 = $40 and count $10, the gain counted twice."""
    margin, fee = kept_as_gain(np.array([300.0]), np.array([[330.0]]), np.array([[40.0]]), np.array([[10.0]]))
    assert (float(margin[0, 0]), float(fee[0, 0])) == (24.0, 6.0)
    assert 40.0 - margin[0, 0] + 10.0 - fee[0, 0] == max(300.0 - (330.0 - 50.0), 0.0)
    # a receiver with a negative start is read from zero (limited liability), one below it keeps nothing
    m2, = kept_as_gain(np.array([-5.0, 100.0]), np.array([[3.0, 90.0]]), np.array([[10.0, 10.0]]))
    np.testing.assert_array_equal(m2, [[3.0, 0.0]])
