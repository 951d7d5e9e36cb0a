"""Pass-through issuers (``liable_entity`` of the ``pegs`` table; core.engine.backing.backed_liabilities).

Maker's PSM and FRAX owe their coins' holders the USDC they hold, not dollars:
when USDC's reserves are impaired they lose nothing and do not default, and
DAI's and FRAX's holders carry the loss through the coins' prices (11 March
2023: USDC 0.878, DAI 0.897, FRAX 0.885). Before the rule both defaulted in
round 0 of an 8% impairment, their liabilities booked at par against a
marked-down USDC.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import core
from core.engine import simulate_batch
from core.network import Network
from core.results import MAKER_HISTORY
from core.scenario import Scenario
from core.validation import DataValidationError

TABLES = ("entities", "assets", "holdings", "exposures", "cohorts", "maker_ilks")
PASS_THROUGH = ("MAKER_PSM", "FRAX")
USDC_SUPPLY = 49e9
PSM_SHARE0, TIN, TOUT = 0.3765, 0.001, 0.0


@pytest.fixture(scope="module")
def net():
    return core.datasets.load("crypto-2022-05")


def _with_pegs(net, pg, name="variant"):
    return Network.from_frames(name=name, pegs=pg, **{t: getattr(net, t) for t in TABLES})


@pytest.fixture(scope="module")
def at_par(net):
    """The same network with the liabilities at par (the rule off): the defect the rule fixes."""
    pg = net.pegs.copy()
    pg["liable_entity"] = ""
    return _with_pegs(net, pg, "at-par")


def _svb(fraction=0.08, resolved=2, closed=2):
    return Scenario(name="svb", horizon=6, reserve_impairments={"CIRCLE": dict(
        fraction=fraction, resolved_round=resolved, rails_closed_rounds=closed)})


def _col(br, sym):
    return list(br.asset_symbols).index(sym)


def test_usdc_impairment_no_psm_or_frax_default(net, at_par):
    """8% of USDC's reserves frozen (SVB): before the rule MAKER_PSM and FRAX defaulted in round 0; now neither
    does, the PSM's equity stays 0 and FRAX's at its reference in every round."""
    ids = list(net.entities["id"])
    pos = [ids.index(e) for e in PASS_THROUGH]
    old = simulate_batch(at_par, [_svb()])
    assert (old.default_round[0, pos] == 0).all()  # the defect, measured on the same data
    for resolved in (2, None):
        br = simulate_batch(net, [_svb(resolved=resolved)], record=True)
        assert (br.default_round[0, pos] == -1).all()
        eq = br.history["equity"][0][:, pos]                 # (rounds, 2)
        E0 = core.engine.compiled.compile_network(net).E0[pos]
        np.testing.assert_allclose(eq, np.broadcast_to(E0, eq.shape), atol=1.0)


def test_dai_tracks_usdc_within_the_psm_bounds(net):
    """Every round: DAI no lower than USDC / (1 + tout) (redeeming through the PSM) and no higher than the larger
    of USDC / (1 - tin) (minting through it) and its backed value with the reference PSM share,
    ``s p_USDC + (1 - s)``; FRAX at its collateral ratio, ``0.87 p_USDC + 0.13``."""
    br = simulate_batch(net, [_svb(f, r) for f in (0.02, 0.08, 0.2) for r in (2, None)], record=True)
    P = br.history["prices"]
    usdc, dai, frax = P[..., _col(br, "USDC")], P[..., _col(br, "DAI")], P[..., _col(br, "FRAX")]
    assert (usdc < 0.99).any()
    assert (dai >= usdc / (1 + TOUT) - 1e-12).all()
    assert (dai <= np.maximum(np.minimum(usdc / (1 - TIN), 1.0), PSM_SHARE0 * usdc + 1 - PSM_SHARE0) + 1e-12).all()
    np.testing.assert_allclose(frax, 0.87 * usdc + 0.13, rtol=1e-12)


def test_the_loss_moves_to_the_coins_holders_and_does_not_vanish(net, at_par):
    """Unresolved 8% impairment. The coins' holders lose on DAI and FRAX at least what the pass-throughs' USDC
    lost (units x fall in price, every round); the system loses at least the impaired reserves (8% of $49bn:
    all USDC is held inside the network); and the system loss falls against the at-par books only by what
    those booked as unpaid to outside creditors and FRAX's lost equity (the same loss counted twice). That last
    comparison with Circle's rails shut for the whole horizon: with them open the at-par books' PSM and FRAX, which
    hold their USDC on their own account there, redeem some of it at par, which the pass-throughs, holding it
    for their coins' holders, do not (core.engine.redemptions)."""
    br = simulate_batch(net, [_svb(resolved=None)], record=True)
    H = net.holdings
    P = br.history["prices"][0]
    P0 = net.assets.set_index("symbol")["price_usd"]

    def held(entity, asset):
        return float(H.loc[(H["entity"] == entity) & (H["asset"] == asset), "amount"].sum())

    def fall(sym):
        return P0[sym] - P[:, _col(br, sym)]

    moved = (held("MAKER_PSM", "USDC") + held("FRAX", "USDC")) * fall("USDC")
    dai_units = float(H.loc[H["asset"] == "DAI", "amount"].sum())
    frax_units = float(H.loc[H["asset"] == "FRAX", "amount"].sum())
    carried = dai_units * fall("DAI") + frax_units * fall("FRAX")
    assert (moved > 1e8).all() and (carried >= moved - 1.0).all()
    assert br.total_loss[0] >= 0.08 * USDC_SUPPLY
    frax_equity = float(core.engine.compiled.compile_network(net).E0[list(net.entities["id"]).index("FRAX")])
    shut, shut_old = simulate_batch(net, [_svb(resolved=None, closed=6)]), simulate_batch(at_par, [_svb(resolved=None, closed=6)])
    # At par, FRAX owes its coin at par, fails, and (since session 18: a failed issuer's fractional coin trades at its
    # recovery, rho x its backed value) its coin's holders in the network bear the shortfall through the coin's price
    # rather than as outside creditors' loss: 0.8067 -> 0.6581 on the 2.64bn FRAX STABLE_HOLDERS holds, $392.3M that
    # left the at-par books' outside loss ($1,215.9M -> $808.5M) for their holders' equity. The double count
    # subtracted is the same: outside loss, FRAX's lost equity, and now that price step.
    frax = _col(br, "FRAX")
    capped = frax_units * (shut.prices[0, frax] - shut_old.prices[0, frax])
    assert capped > 3e8
    assert shut.total_loss[0] == pytest.approx(shut_old.total_loss[0] - shut_old.outside_loss[0] - frax_equity - capped,
                                               rel=1e-9)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(f=st.floats(0.005, 0.24), g=st.floats(0.005, 0.24), resolved=st.sampled_from([2, 4, None]))
def test_deeper_impairment_never_less_loss_and_never_a_pass_through_default(net, f, g, resolved):
    """Over the impairment's size: no PSM or FRAX default, DAI and FRAX no higher in any round, and the system's
    and the coins' holders' losses no smaller, for the deeper of two impairments."""
    lo, hi = sorted((f, g))
    br = simulate_batch(net, [_svb(lo, resolved), _svb(hi, resolved)], record=True)
    ids = list(br.entity_ids)
    assert (br.default_round[:, [ids.index(e) for e in PASS_THROUGH]] == -1).all()
    P = br.history["prices"]
    for sym in ("USDC", "DAI", "FRAX"):
        assert (P[1, :, _col(br, sym)] <= P[0, :, _col(br, sym)] + 1e-12).all()
    assert br.total_loss[1] >= br.total_loss[0] - 1.0
    holders = ids.index("STABLE_HOLDERS")
    assert br.loss[1, holders] >= br.loss[0, holders] - 1.0


def test_liable_entity_errors_name_row_and_column(net):
    pg = net.pegs.copy()
    pg.loc[pg["asset"] == "FRAX", "liable_entity"] = "CIRCLE"        # holds no USDC
    pg.loc[pg["asset"] == "stETH", "liable_entity"] = "LIDO"         # not a psm or fractional row
    with pytest.raises(DataValidationError) as err:
        _with_pegs(net, pg)
    text = str(err.value)
    assert "holding the row's backing_asset" in text and "except on psm and fractional rows" in text
    assert {(p.row, p.column) for p in err.value.problems} >= {(3, "liable_entity"), (4, "liable_entity")}
    pg = net.pegs.copy()
    pg.loc[pg["asset"] == "FRAX", "liable_entity"] = "MAKER_PSM"     # named twice
    with pytest.raises(DataValidationError, match="one pegs row only"):
        _with_pegs(net, pg)


@pytest.fixture(scope="module")
def net25():
    return core.datasets.load("crypto-2025-10")


def test_2025_sky_passes_a_usdc_loss_to_dai_and_usds_holders(net25):
    """2025: 8% of USDC's reserves frozen, never resolved. Sky's LitePSM holds $4.0bn of USDC behind 42.63% of
    DAI + USDS (38.2% before session 33's supplies of 10 Oct 2025), against $150M of equity. With its liabilities at par SKY defaults in round 0; with them moving
    with the USDC it holds for the holders, the USDC's fall does not move its round-0 equity and it does not
    default, while DAI and USDS trade between USDC and their backed value. What moves its equity is its $800M
    deposit at SPARKLEND, a lender holding USDC: since session 31 (s31-poolidx) a claim held on a pool is valued at
    the pool's index of the same round, so SPARKLEND's round-0 index 0.987663 costs SKY 800M x 0.012337 = $9.87M
    in round 0 (equity $139.73M, was $149.6M there and $139.33M a round later). Session 33 (DAI $5.02bn and USDS
    $4.363bn of 10 Oct 2025, the PSM's share 0.382 -> 0.4263): DAI and USDS follow the USDC more (round 0 0.93151
    -> 0.92940), SPARKLEND's DAI and USDS with them, so its round-0 index is 0.987282 and costs SKY
    800M x 0.012718 = $10.17M (equity $139,730,302.55 -> $139,425,960.81)."""
    sc = Scenario(name="svb-2025", horizon=6, reserve_impairments={"CIRCLE": dict(fraction=0.08, rails_closed_rounds=2)})
    br = simulate_batch(net25, [sc], record=True)
    ids = list(br.entity_ids)
    sky = ids.index("SKY")
    E0 = core.engine.compiled.compile_network(net25).E0[sky]
    # less the Splitter's lots to SKY holders (maker_ilks, session 19: 400,000 USDS in a daily round), a payout the
    # USDC loss does not touch
    flap = br.history["maker"][0][0, MAKER_HISTORY.index("flap_paid_usd")]
    assert flap == pytest.approx(400_000.0)
    from core.engine.batch import build_batch
    from core.engine.rounds import run_round
    from core.engine.state import initial_state
    c = core.engine.compiled.compile_network(net25)
    b = build_batch(c, [sc], net25)
    s = initial_state(c, b)
    run_round(c, s, b, 0)
    lam = float(s.lam[0, ids.index("SPARKLEND")])
    assert lam == pytest.approx(0.987282, abs=1e-6)  # 0.987663 before session 33
    ex = net25.exposures
    assert ex.loc[ex.creditor == "SKY", "debtor"].tolist() == ["SPARKLEND"]  # its only claim on another entity
    deposit = float(ex.loc[ex.creditor == "SKY", "amount_usd"].iloc[0])
    assert deposit == 800e6
    assert br.history["equity"][0][0, sky] == pytest.approx(E0 - flap - deposit * (1.0 - lam), abs=1.0)
    assert br.history["equity"][0][0, sky] == pytest.approx(139_425_960.81, abs=1.0)  # 139,730,302.55 before s33
    assert br.default_round[0, sky] == -1
    pg = net25.pegs.copy()
    pg["liable_entity"] = ""
    at_par = Network.from_frames(name="at-par", pegs=pg, **{t: getattr(net25, t) for t in (
        "entities", "assets", "holdings", "exposures", "cohorts", "correlations", "positions", "venues")})
    assert simulate_batch(at_par, [sc]).default_round[0, sky] == 0
    P = br.history["prices"][0]
    usdc = P[:, _col(br, "USDC")]
    assert usdc.min() < 0.95
    share = float(net25.pegs.set_index("asset").loc["DAI", "backing_share"])
    assert share == 0.4263  # 4.0 / (5.02 + 4.363), the pegs row (was 0.382)
    for coin in ("DAI", "USDS"):
        p = P[:, _col(br, coin)]
        assert (p >= usdc - 1e-12).all() and (p <= np.maximum(usdc, share * usdc + 1.0 - share) + 1e-12).all()


def test_2025_usdtb_follows_buidl_and_its_issuer_passes_the_loss_on(net25):
    """A 5% fall in BUIDL: USDtb (collateral ratio 1 in BUIDL) falls 5% with it and ETHENA_USDTB, which holds the
    $1.83bn of BUIDL, keeps its zero equity."""
    br = simulate_batch(net25, [Scenario(depegs={"BUIDL": 0.05}, horizon=3)], record=True)
    P = br.history["prices"][0]
    np.testing.assert_allclose(P[:, _col(br, "USDtb")], P[:, _col(br, "BUIDL")], rtol=1e-12)
    assert P[-1, _col(br, "BUIDL")] == pytest.approx(0.95, rel=1e-9)
    e = list(br.entity_ids).index("ETHENA_USDTB")
    np.testing.assert_allclose(br.history["equity"][0][:, e], 0.0, atol=1.0)
    assert br.default_round[0, e] == -1


def test_2025_sky_burns_the_dai_it_takes_in_at_par(net25):
    """Sky owes $9.383bn of DAI and USDS (10 Oct 2025; $10.465bn before session 33), $4.0bn of it minted through its
    USDC PSM (passed through, core.engine.backing.backed_liabilities) and $5.383bn at par; its vault loans of DAI count at par to it
    (core.engine.books.debt_price). The DAI it takes in is burnt against the part owed at par, so it is worth its
    peg to Sky (core.engine.books.burnt_at_par) up to $5.383bn, and a vault repaid in DAI neither makes nor loses
    Sky anything. Worked numbers: DAI at 0.3888 (USDC failed), 118.1M DAI repaid into Sky: its loan book falls
    $118.1M, its DAI is $45.92M at the market and $72.18M more at par. At the market (before the rule reached
    Sky) the repayment cost it $72.18M, while a vault left under water cost its fund a dollar of cover a DAI:
    WBTC -79.5% -> -83.5% with CIRCLE failed made $22.97M more of its WBTC vaults' debt a covered shortfall and
    $22.97M less DAI repaid, Sky's equity $14.0M higher and its default gone at the deeper depth only
    (monotone-2025-wbtc-circle-failed-runs-lag1-capital-50m-defaults). Beyond $5.383bn of coin taken in, the rest
    is at the market; ETHENA_USDTB, whose USDtb passes through whole, keeps its USDtb at the market."""
    from core.engine.books import burnt_at_par, debt_price, holdings_value
    from core.engine.compiled import compile_network
    c = compile_network(net25)
    ids, symbols = list(c.ids), list(c.symbols)
    sky, dai, usds = ids.index("SKY"), symbols.index("DAI"), symbols.index("USDS")
    P = c.P0[None].copy()
    P[0, dai], P[0, symbols.index("USDC")] = 0.3888, 1e-12
    vault = next(k for k, x in enumerate(net25.cohorts["id"]) if x == "SKY.WBTC-DAI.hf2.00")
    repaid = 118.1e6
    debt = np.zeros((1, len(c.c_coll)))
    debt[0, vault] = repaid
    H = c.H0[None].copy()

    def worth(H, debt):  # Sky's DAI and loans of DAI
        return holdings_value(H, P)[0, sky] + burnt_at_par(c, P, H)[0, sky] + (debt * debt_price(c, P))[0, vault]

    before = worth(H, debt)
    H_after = H.copy()
    H_after[0, sky, dai] += repaid
    assert worth(H_after, np.zeros_like(debt)) == pytest.approx(before, abs=1e-3)
    assert burnt_at_par(c, P, H_after)[0, sky] == pytest.approx(repaid * (1 - 0.3888), rel=1e-12)  # $72.18M
    # capped at what Sky owes at par, shared by its two coins pro rata: 7bn DAI and 1bn USDS (at par: 1.0) taken in
    H_big = H.copy()
    H_big[0, sky, dai] += 7e9
    H_big[0, sky, usds] += 1e9
    P_usds = P.copy()
    P_usds[0, usds] = 0.5
    room = (5.02e9 + 4.363e9) - 4.0e9  # what Sky owes at par (10.465e9 - 4.0e9 before session 33)
    expected = room * (7 / 8) * (1 - 0.3888) + room * (1 / 8) * (1 - 0.5)
    assert burnt_at_par(c, P_usds, H_big)[0, sky] == pytest.approx(expected, rel=1e-12)
    # a coin passed through whole stays at the market
    usdtb, ethena = symbols.index("USDtb"), ids.index("ETHENA_USDTB")
    P_tb = c.P0[None].copy()
    P_tb[0, usdtb] = 0.5
    H_tb = H.copy()
    H_tb[0, ethena, usdtb] += 1e6
    assert burnt_at_par(c, P_tb, H_tb)[0, ethena] == 0.0
