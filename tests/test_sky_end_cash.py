"""A shut-down Sky's coins (issue 12): ``end.cash`` pays every DAI the same share of every ilk's collateral, the
PSM's USDC included, and USDS converts 1:1 with DAI (``DaiUsds``), so a failed issuer that holds its PSM's backing
itself (SKY on the 2025 network, owing DAI and USDS as one book) pays each of its coins the same blend,
:math:`\\rho\\,L_t/D` (:func:`core.engine.maker_co_issued._blend`): its paid ratio :math:`\\rho` on its liabilities at
their backing's worth :math:`L_t` (:func:`core.engine.backing.backed_liabilities`), over the coins' face :math:`D`.
Before, its coins traded at :math:`\\min(V, \\rho)`, ``V`` the PSM's backed value: a USDC fall was taken off the
liabilities the ratio is on and then not off the coin, so the holders were paid more than the issuer had and the
outside holders' share of the USDC fall was counted nowhere.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from core import Scenario
from core.engine import simulate_batch
from core.network import Network
from cascade_rounds import cascade_after
from test_two_issuers import PEG_COLUMNS, _PROV, assert_borne, assert_conserved, forced, without_exposures

DAI_FACE, USDS_FACE, USDY_HELD, OTHER = 50e6, 50e6, 40e6, 65e6  # SKYX owes 100M of coins; holds 40M USDY and $65M


def sky_network(held: float = 30e6, room: float = 0.0, depth: float = 3e8, usds_named: bool = True) -> Network:
    """SKYX (Sky in 2025 in small: one entity owing DAIX and USDSX, 50M each, holding its PSM's 40M USDY itself and
    $65M of other assets, equity $5M; named ``liable_entity`` on both coins' rows, one book, as SKY on
    crypto-2025-10; ``usds_named`` False: on DAIX's row only, as before session 19); FUND holds ``held`` DAIX,
    outsiders the rest; each coin's PSM ``room`` USD below its debt ceiling, its market ``depth`` deep."""
    entity = dict(region="defi", chain="Ethereum", liquid_share=1.0, insurance_fund_usd=0.0, **_PROV)
    entities = pd.DataFrame([
        dict(id="SKYX", name="Sky", type="cdp_protocol", other_assets_usd=OTHER,
             other_liabilities_usd=DAI_FACE + USDS_FACE, **entity),
        dict(id="FUND", name="Fund", type="fund", other_assets_usd=10e6, other_liabilities_usd=0.0, **entity)])
    coin = dict(adv_usd=1e10, daily_vol=0.001, peg_target=1.0, peg_unit="USD", **_PROV)
    assets = pd.DataFrame([
        dict(symbol="ETH", name="Ether", kind="volatile", price_usd=2000.0, supply=1.2e8, adv_usd=1e10, daily_vol=0.04,
             **_PROV),
        dict(symbol="USDY", name="USD Y", kind="fiat_stable", price_usd=1.0, supply=1e9, **coin),
        dict(symbol="DAIX", name="DAI X", kind="cdp_stable", price_usd=1.0, supply=DAI_FACE, issuer="SKYX", **coin),
        dict(symbol="USDSX", name="USDS X", kind="cdp_stable", price_usd=1.0, supply=USDS_FACE, issuer="SKYX", **coin)])
    holdings = pd.DataFrame([dict(entity="SKYX", asset="USDY", amount=USDY_HELD, **_PROV),
                             dict(entity="FUND", asset="DAIX", amount=held, **_PROV)])
    share = USDY_HELD / (DAI_FACE + USDS_FACE)
    row = dict({k: None for k in PEG_COLUMNS}, mechanism="psm", backing_asset="USDY", backing_share=share,
               psm_tin=0.0, psm_tout=0.0, market_depth_usd=depth, withdrawals=False, **_PROV)
    pegs = pd.DataFrame([dict(row, asset="DAIX", liable_entity="SKYX", psm_line_usd=share * DAI_FACE + room),
                         dict(row, asset="USDSX", liable_entity="SKYX" if usds_named else None,
                              psm_line_usd=share * USDS_FACE + room)])
    return without_exposures("sky-one-book", entities, assets, holdings, pegs)


def failed(recovery: float, usdy_depeg: float) -> Scenario:
    return forced("SKYX", recovery, usdy_depeg)


def test_worked_example():
    """SKYX forced to fail keeping 80% of its assets, USDY 10% off peg: it keeps 0.8 x (65 + 36) = $80.8M and owes
    its coins' holders 100M less the USDY fall passed to them, L_t = 100 - 4 = $96M: paid ratio 80.8 / 96 =
    0.841667. ``end.cash`` pays every DAIX and USDSX the same 80.8 / 100 = 0.808 (the blend: 60M of face paid
    0.841667 and 40M of the PSM's paid 0.841667 x 0.9). Destroyed: 20% of $65M, 20% of the $36M of USDY it kept
    and the USDY fall of $4M, $24.2M; borne: SKYX's $5M of equity, FUND 30M x 0.192 = $5.76M, outside holders
    70M x 0.192 = $13.44M. Before: both coins at 0.841667, FUND $4.75M, system loss $20.2M (the outside holders'
    share of the $4M USDY fall and of what they were overpaid counted nowhere)."""
    br = simulate_batch(sky_network(), [failed(0.8, 0.1)], record=True)
    syms = list(br.asset_symbols)
    P = br.history["prices"][0]
    np.testing.assert_allclose(P[:, syms.index("DAIX")], 0.808, rtol=1e-12)
    np.testing.assert_allclose(P[:, syms.index("USDSX")], 0.808, rtol=1e-12)
    assert_borne(br, "SKYX", fund=5.76e6, outside=13.44e6, total=24.2e6)


def test_with_usdy_at_par_nothing_moves():
    """USDY at par: the liabilities are at face (L_t = D), the blend is the paid ratio, as before: 0.8 x 105 / 100
    = 0.84 for both coins, $21M destroyed and counted."""
    br = simulate_batch(sky_network(), [failed(0.8, 0.0)])
    syms = list(br.asset_symbols)
    assert br.prices[0, syms.index("DAIX")] == pytest.approx(0.84, rel=1e-12)
    assert br.prices[0, syms.index("USDSX")] == pytest.approx(0.84, rel=1e-12)
    assert br.total_loss[0] == pytest.approx(21e6, rel=1e-9)


@settings(max_examples=30, deadline=None)
@given(recovery=st.floats(0.0, 0.95), depeg=st.floats(0.0, 0.6), share=st.floats(0.0, 1.0))
def test_conservation(recovery, depeg, share):
    """Sum of equity changes + outside creditors' write-downs = value destroyed, whoever holds DAIX: SKYX's forced
    loss on its $65M and on its USDY at the depegged price, and the USDY depeg on its 40M. Each coin trades at the
    blend, what SKYX keeps over its 100M of coins (SKYX short: the recovery below 1 - depeg x 40/105 of what it
    had leaves it under its 100M less the passed USDY fall)."""
    br = simulate_batch(sky_network(share * DAI_FACE), [failed(recovery, depeg)])
    kept = recovery * (OTHER + USDY_HELD * (1.0 - depeg))
    assert_conserved(br, OTHER + USDY_HELD - kept)
    owed = DAI_FACE + USDS_FACE - depeg * USDY_HELD
    blend = min(kept / owed, 1.0) * owed / (DAI_FACE + USDS_FACE)
    syms = list(br.asset_symbols)
    assert br.prices[0, syms.index("DAIX")] == pytest.approx(blend, rel=1e-9)
    assert br.prices[0, syms.index("USDSX")] == pytest.approx(blend, rel=1e-9)


def test_one_book_behind_two_coins():
    """SKYX live, named on both coins' PSM rows (one LitePSM, one pile of USDY), room for 10M more of each coin in
    a market deep enough ($100bn) to take it in round 0, USDY 10% off peg: the arbitrage sells 10M USDY into each
    row and mints 10M DAIX and 10M USDSX. SKYX then holds 60M USDY for both coins' holders, and its liabilities
    move by those units together: L = 100M + 40M x (0.9 - 1) + 20M x 0.9 = $114M, against 60M x 0.9 + $65M =
    $119M (equity $5M, unchanged). Each coin, 60M, half of it behind USDY: backing 0.5 x 0.9 + 0.5 = 0.95, where
    both trade from round 1. Destroyed: the 40M reference USDY x 0.1 = $4M; borne: FUND's 30M DAIX 30M x 0.05 =
    $1.5M, the outside holders of each coin their share of the book's $6M write-down less the arbitrageurs'
    discount, 10M x 0.1 (DAIX: 6M x (0.5 - 30/120) - 1M = $0.5M; USDSX: 6M x 0.5 - 1M = $2M). Before (USDS's row
    named no entity): USDS's swaps moved no books, SKYX held 50M USDY and owed $105M, the 10M USDY the USDS
    arbitrageurs paid in were nobody's and the system loss was $4,136,364 for the $4M destroyed."""
    from core.engine.backing import backed_liabilities

    net = sky_network(room=10e6, depth=1e11)
    sc = Scenario(depegs={"USDY": 0.1}, horizon=4)
    cascade = cascade_after(net, sc, 2)
    c, s = cascade.c, cascade.s
    sky, usdy = cascade.entity("SKYX"), cascade.asset("USDY")
    np.testing.assert_allclose(s.psm_balance[0], [30e6, 30e6], rtol=1e-12)
    assert s.H[0, sky, usdy] == pytest.approx(60e6, rel=1e-12)
    assert backed_liabilities(c, s.P, s.psm_balance)[0, sky] == pytest.approx(114e6, rel=1e-12)
    br = simulate_batch(net, [sc])
    bids, bsyms = list(br.entity_ids), list(br.asset_symbols)
    assert br.prices[0, bsyms.index("DAIX")] == pytest.approx(0.95, rel=1e-12)
    assert br.prices[0, bsyms.index("USDSX")] == pytest.approx(0.95, rel=1e-12)
    assert br.equity[0, bids.index("SKYX")] == pytest.approx(5e6, rel=1e-9)
    assert br.loss[0, bids.index("FUND")] == pytest.approx(1.5e6, rel=1e-9)
    assert br.outside_loss[0] == pytest.approx(0.5e6 + 2e6, rel=1e-9)
    assert br.total_loss[0] == pytest.approx(4e6, rel=1e-9)


def test_a_failed_sky_on_the_2025_network():
    """crypto-2025-10, ETH -80%, BTC -70%, USDC -30%: SKY (owing $5.02bn of DAI and $4.363bn of USDS since session 33,
    $5.146bn and $5.319bn before; $4.0bn of USDC in its LitePSM) defaults in round 0. From round 1 both coins trade at the blend of the last clearing: SKY's
    paid ratio on its liabilities at the USDC's worth times those liabilities over the coins' face (the DAI its
    PSM minted in round 0 included): round 1, 0.952188 x 9.5779 / 10.9120 = 0.835774. Before, DAI traded at its
    PSM-backed value 0.882895 and USDS at 0.883776, two prices for coins end.cash pays alike, above what SKY has.

    Session 23: the DAI the squeeze's re-mint sold into the LitePSM in round 0 is booked (core.mechanisms.psm.sell_gem):
    329.5M of USDC at 0.7 (the rest of the autoline's 400M a day after the arbitrage's 70.5M) on SKY's book, the DAI
    minted against it in the coin's face; before, the re-mint moved the price only and round 1 paid 0.951008 x
    9.3472 / 10.5825 = 0.840001 (0.950791 and DAI 0.840783 with the halt, half of round 0 open: 182.4M more USDC booked now).

    Session 19, two changes: (1) Sky's own Maker system (``maker_ilks``): round 0's clearing pays less (paid
    ratio 0.969336 -> 0.950835 on its own): -$150.0M because SKY's surplus buffer (its insurance_fund_usd, the
    same $150M as its equity) is now the Vow's, absorbing the vaults' bad debt inside SKY's books, where the
    generic insurance step paid it in as outside cash on top of that equity; -$22.3M from the vaults' clip
    auctions (bad debt $585.6M -> $606.3M, keepers' margin and incentives, $11.9M of vault debt still to auction
    after round 0). (2) SKY named on USDS's PSM row (one book behind both coins): the 47.0M USDC USDS's swaps took
    in round 0 are on SKY's book and the USDS minted against them owed by SKY (alone: 0.969444 x 9.3472 / 10.5825
    = 0.856285; before both: 0.969336 x 9.3143 / 10.5355 = 0.856982)."""
    import core
    from core.engine import compile_network
    from core.engine.backing import backed_liabilities
    from core.engine.batch import build_batch
    from core.engine.clear import clear_books
    from core.engine.rounds import STEPS, run_round
    from core.engine.state import initial_state

    from core.scenario import Safeguards

    net = core.datasets.load("crypto-2025-10")
    c = compile_network(net)
    ids, syms = list(c.ids), list(c.symbols)
    sky, dai, usds = ids.index("SKY"), syms.index("DAI"), syms.index("USDS")
    # the worked numbers are the LitePSM's open for round 0 (governance not acting); with Sky's 12-hour halt
    # (core.mechanisms.psm_halt) half of round 0 is open, less USDC comes in and round 0 pays less. Session 30:
    # stETH at the snapshot's 0.999 ETH (core.engine.sell.reference_basis), not par, so SKY's WSTETH-A collateral
    # is worth 0.1% less: 0.952188 -> 0.952164 and 0.951457 -> 0.951433, DAI 0.835774 -> 0.835752.
    # Session 31 (s31-poolidx): SKY's $800M deposit at SPARKLEND is valued at SPARKLEND's index of the same round,
    # so SPARKLEND's round-0 loss reaches SKY's round-0 clearing (before, a round later): round 0 pays
    # 0.952164 -> 0.946319 (halt 0.951433 -> 0.946928).
    # Session 31 (s31-cage): End cages SKY at round 1's opening (the round after the default), and from the cage's
    # round DAI is priced at a clearing of the caged books at that opening (core.engine.exogenous.fail_forced),
    # which no longer counts what vow.cage releases: 0.940237 (halt 0.939979), not round 0's close; so DAI at
    # round 1 is 0.940237 x worth / face = 0.825284 (was 0.952164 x worth / face = 0.835752). From round 2 on
    # DAI is the blend at the last close's ratio, as before.
    # Session 33 (DAI $5.02bn and USDS $4.363bn of 10 Oct 2025, were $10.465bn together): the same vaults, USDC and
    # $150M of equity stand behind $1.082bn fewer coins, of which the PSM's $4.0bn is a larger share (0.4263, was
    # 0.382), so the USDC's fall weighs more on what SKY pays: round 0 0.946319 -> 0.939491 (halt 0.946928 ->
    # 0.939957), the cage's opening 0.940237 -> 0.932619 (halt 0.939979 -> 0.932148), and round 1's DAI
    # 0.932619 x 8.4938 / 9.8270 = 0.806094 (was 0.940237 x 9.5779 / 10.9120 = 0.825284).
    # Session 37 (s37-skycage, decision 18): SKY's debt auctions are off, so the clearing no longer defaults it at
    # round 0 ($514M short: round 0 paid 0.939491, halt 0.939957, as above); its deficit lasts, the clock defaults
    # it at round 2's clearing (48 h on, the delay 36 h) and End cages it at round 3's opening. Live in rounds 1-2
    # its coins stay at their other bounds (the LitePSM's pin to USDC, under end.cash's recovery). Round 2 pays
    # 0.932253 (halt 0.928822), the cage's opening 0.932305 (halt 0.928923), and round 3's DAI
    # 0.932305 x worth / face = 0.797776 (was round 1's 0.806094: the cage two rounds later, on two more rounds of
    # vault auctions and PSM swaps).
    for halt, cage_paid_before, cage_paid, dai_at_cage in ((False, 0.932253, 0.932305, 0.797776),
                                                           (True, 0.928822, 0.928923, 0.806159)):
        sc = Scenario(price_shocks={"ETH": -0.8, "BTC": -0.7}, depegs={"USDC": 0.3},
                      safeguards=Safeguards(psm_governance_halt=halt))
        b = build_batch(c, [sc], net)
        s = initial_state(c, b)
        for r in range(3):
            run_round(c, s, b, r)
            assert s.defaulted[0, sky] == (r == 2) and int(s.maker_cage_round[0]) == -1
        for r in range(3, 6):
            paid = float(s.clearing.paid_ratio[0, sky])
            for step in STEPS:
                changes = step(c, s, b, r)
                if changes:
                    s.apply(changes)
                if step.__name__ == "exogenous" and r == 3:
                    opening = float(clear_books(c, s, b, s.P)[1].paid_ratio[0, sky])
            worth = float(backed_liabilities(c, s.P, s.psm_balance)[0, sky])
            face = float(backed_liabilities(c, c.P0[None], s.psm_balance)[0, sky])
            assert int(s.maker_cage_round[0]) == 3
            blend_paid = opening if r == 3 else paid
            assert s.P[0, dai] == pytest.approx(blend_paid * worth / face, rel=1e-12)
            assert s.P[0, usds] == s.P[0, dai]
            if r == 3:
                assert paid == pytest.approx(cage_paid_before, abs=1e-6)
                assert opening == pytest.approx(cage_paid, abs=1e-6)
                assert s.P[0, dai] == pytest.approx(dai_at_cage, abs=1e-6)


def test_one_book_needs_one_backing_coin():
    """An entity named on several ``psm`` rows holds one pile of one backing coin for them all: rows of different
    backing coins (or a ``fractional`` row beside a ``psm`` one) are no shared book, an error naming the row, the
    column and the value."""
    from core.validation import DataValidationError

    net = sky_network()
    pegs = net.pegs.copy()
    pegs.loc[pegs["asset"] == "USDSX", "backing_asset"] = "ETH"
    with pytest.raises(DataValidationError, match="one pegs row only, or on psm rows alone that share one") as err:
        without_exposures("sky-two-backings", net.entities, net.assets, net.holdings, pegs)
    assert {(p.row, p.column, p.value) for p in err.value.problems} >= {(2, "liable_entity", "SKYX")}
    pegs["backing_asset"] = "USDY"
    pegs.loc[pegs["asset"] == "USDSX", "mechanism"] = "fractional"
    with pytest.raises(DataValidationError, match="one pegs row only"):
        without_exposures("sky-fractional", net.entities, net.assets, net.holdings, pegs)
