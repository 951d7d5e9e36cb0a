"""Maker's PSM after Emergency Shutdown, and the PSM's books following its balance (issue 12, item 2).

After Maker defaults (``end.cage``: the Vat's ``live`` set to 0) the PSM swaps nothing: ``sellGem`` and ``buyGem``
frob the PSM's urn, and ``vat.frob`` requires ``live == 1`` (dss ``src/vat.sol``, dss-psm ``src/psm.sol``;
:func:`core.mechanisms.psm.psm_arbitrage`, ``live``). DAI then trades at the ``end.cash`` blend of the vaults'
recovery and the PSM's USDC (:func:`core.mechanisms.psm.two_issuer_recovery`): USDC's price moves it only through
the PSM's share, it no longer pins it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st, target

from core import Scenario
from core.engine import simulate_batch
from core.network import Network
from test_two_issuers import SUPPLY, two_issuer_network

TABLES = ("entities", "assets", "holdings", "exposures", "cohorts")


def with_room(line: float = 1e12, **changes) -> Network:
    """The two-issuer network (VAULTS owes 60M DAIX against $65M, the PSM 40M against 40M USDY, FUND holds 30M
    DAIX) with the PSM's debt ceiling at ``line``: room to mint."""
    net = two_issuer_network(**changes)
    pegs = net.pegs.copy()
    pegs["psm_line_usd"] = line
    return Network.from_frames(name="two-issuers-room", pegs=pegs, **{t: getattr(net, t) for t in TABLES})


def test_a_shut_down_makers_psm_does_not_pin_dai_to_usdc():
    """VAULTS forced to fail (it keeps 80% of $65M: pays 52/60 of its 60M DAIX), USDY at par for two rounds then
    30% off peg. Rounds 0-1: DAIX at the blend (52 + 40 x 1.0) / 100 = 0.92. From round 2: (52 + 40 x 0.7) / 100
    = 0.80, the blend at USDY's new price. Before, the PSM kept minting after the shutdown: arbitrageurs sold it
    USDY for new DAIX and held DAIX at 0.7 / (1 - tin) = 0.7007 (it followed USDY), FUND lost $8.98M instead of
    30M x 0.2 = $6M and the system $30.38M; now $25M, the value destroyed: 20% of VAULTS' $65M and 30% of the
    PSM's 40M USDY."""
    sc = Scenario(forced_defaults=["VAULTS"], forced_default_recovery=0.8, price_paths={"USDY": [0.0, 0.0, -0.3]},
                  horizon=6)
    br = simulate_batch(with_room(), [sc], record=True)
    syms, ids = list(br.asset_symbols), list(br.entity_ids)
    P = br.history["prices"][0]
    usdy, dai = P[:, syms.index("USDY")], P[:, syms.index("DAIX")]
    assert len(dai) >= 4
    np.testing.assert_allclose(usdy[2:], 0.7, rtol=1e-12)
    np.testing.assert_allclose(dai[:2], 0.92, rtol=1e-12)
    np.testing.assert_allclose(dai[2:], 0.80, rtol=1e-12)
    assert (dai[2:] > usdy[2:] / (1 - 0.001) + 0.09).all()  # not pinned: USDY's PSM price is 0.7007
    assert br.loss[0, ids.index("FUND")] == pytest.approx(30e6 * 0.2, rel=1e-9)
    assert br.loss[0, ids.index("PSM")] == 0.0
    assert br.total_loss[0] == pytest.approx(0.2 * 65e6 + 0.3 * 40e6, rel=1e-9)


def test_a_live_makers_psm_still_pins_dai():
    """The same USDY path with VAULTS solvent: the PSM mints against cheap USDY and DAIX follows it down to
    0.7 / (1 - tin) from round 2 (the rule of dss-psm while the Vat is live)."""
    sc = Scenario(price_paths={"USDY": [0.0, 0.0, -0.3]}, horizon=6)
    br = simulate_batch(with_room(), [sc], record=True)
    syms = list(br.asset_symbols)
    dai = br.history["prices"][0][:, syms.index("DAIX")]
    np.testing.assert_allclose(dai[:2], 1.0, rtol=1e-12)
    np.testing.assert_allclose(dai[2:], 0.7 / 0.999, rtol=1e-12)


def eth_vaults_network(held: float, depth: float, tin: float = 0.001, tout: float = 0.0) -> Network:
    """The two-issuer network with VAULTS' $65M in 32,500 ETH (at $2,000) instead of other assets, so an ETH fall
    defaults it in the round it lands; FUND holds ``held`` DAIX; the DAIX market's depth ``depth`` (what the PSM's
    arbitrage trades against); the PSM with room to mint, its fees ``tin`` and ``tout``.

    Built from the shared two-issuer network with FUND's DAIX set to ``held`` (the same tables, cell for cell, as
    from ``two_issuer_network(held)``: one network validated per hypothesis example instead of two)."""
    net = two_issuer_network()
    entities = net.entities.copy()
    entities.loc[entities["id"] == "VAULTS", "other_assets_usd"] = 0.0
    holdings = net.holdings.copy()
    holdings.loc[(holdings["entity"] == "FUND") & (holdings["asset"] == "DAIX"), "amount"] = held
    eth = net.holdings.iloc[:1].assign(entity="VAULTS", asset="ETH", amount=65e6 / 2000.0)
    pegs = net.pegs.copy()
    pegs["psm_line_usd"], pegs["market_depth_usd"], pegs["psm_tin"], pegs["psm_tout"] = 1e12, depth, tin, tout
    return Network.from_frames(name="two-issuers-eth", entities=entities, pegs=pegs,
                               holdings=pd.concat([holdings, eth], ignore_index=True),
                               **{t: getattr(net, t) for t in ("assets", "exposures", "cohorts")})


def destroyed_and_books(net: Network, sc: Scenario, network_dai: float = 0.0) -> tuple[float, float, float]:
    """Value destroyed over the run, the largest gap between the PSM entity's books and its balance, and the
    outside agents' net gain on the PSM's swaps, run round by round on the engine's state: VAULTS' assets' fall
    (ETH, and what selling it realised) and the fall of the PSM's USDY from the price each unit came in at (units
    held over a round times that round's fall: the units the arbitrage swapped came in at the round's price); the
    books' gap, every round, is ``|H[PSM, USDY] - 40M - (balance - balance0)|`` and
    ``|liabilities - H[PSM, USDY] x p|`` (equity 0); the outside agents' gain is the discount the swaps' DAIX came
    at, ``sum_t m_t (1 - p_t)``, less the outside holders' share of the PSM's write-down at the end, where
    positive: the write-down ``W = D_p - L_p`` less what the network's holders (``network_dai`` N: FUND's DAIX)
    bore of it through DAIX's price ``p``. With VAULTS shut down DAIX trades at the blend and they bore their
    pro-rata ``N W / D`` (``D = 60M + D_p``); with VAULTS live (its vaults' side at par) at ``N (1 - p)``: its
    pro-rata share ``N (1 - V)``, ``V = (60M + L_p) / D`` DAIX's backing, and the pin's mark ``N (V - p)``."""
    from core.engine import compile_network
    from core.engine.backing import backed_liabilities
    from core.engine.batch import build_batch
    from core.engine.rounds import run_round
    from core.engine.state import initial_state

    c = compile_network(net)
    b = build_batch(c, [sc], net)
    s = initial_state(c, b)
    ids, syms = list(c.ids), list(c.symbols)
    vaults, psm, eth, usdy = ids.index("VAULTS"), ids.index("PSM"), syms.index("ETH"), syms.index("USDY")
    units, price, usdy_fall, gap, discount = 40e6, 1.0, 0.0, 0.0, 0.0
    for r in range(sc.horizon):
        run_round(c, s, b, r)
        p = float(s.P[0, usdy])
        usdy_fall += units * (price - p)
        discount += (float(s.psm_balance[0, 0]) - units) * (1.0 - p)
        units, price = float(s.psm_balance[0, 0]), p
        held = float(s.H[0, psm, usdy])
        owed = float(backed_liabilities(c, s.P, s.psm_balance)[0, psm])
        gap = max(gap, abs(held - 40e6 - float(s.psm_balance[0, 0] - c.pegs.psm_balance0[0])), abs(owed - held * p))
    vault_assets = float(s.H[0, vaults, eth] * s.P[0, eth] + s.oa[0, vaults])
    face = 40e6 + units - float(c.pegs.psm_balance0[0])
    written = max(face - owed, 0.0) * max(1.0 - network_dai / (60e6 + face), 0.0)
    if not s.defaulted[0, vaults]:  # the live PSM's pin: DAIX at p below its backing V
        backing = (60e6 + owed) / (60e6 + face)
        written -= network_dai * max(backing - float(s.P[0, syms.index("DAIX")]), 0.0)
    return 65e6 - vault_assets + usdy_fall, gap, max(discount - written, 0.0)


def conservation_gap(usdy: list[float], eth_fall: float, eth_round: int, share: float, depth: float,
                     tin: float = 0.001, tout: float = 0.0) -> tuple[float, float, float, object]:
    """The conservation identity's gap on :func:`eth_vaults_network` (USD): the sum of equity changes, outside
    creditors' write-downs and the PSM fees the arbitrageurs outside paid, less the value destroyed and the outside
    agents' net gain (:func:`destroyed_and_books`); the scale it is measured against (the sums' magnitudes and the
    books' sizes, the PSM's 40M USDY and VAULTS' $65M: a path that depegs and re-pegs nets their falls to 0); the
    largest gap of the PSM's books; and the batch result."""
    sc = Scenario(price_paths={"USDY": [-f for f in usdy], "ETH": [0.0] * eth_round + [-eth_fall]}, horizon=8)
    net = eth_vaults_network(share * SUPPLY, depth, tin, tout)
    destroyed, books, outside_gain = destroyed_and_books(net, sc, share * SUPPLY)
    br = simulate_batch(net, [sc])
    # the PSM's tin fees the arbitrageurs outside paid into VAULTS' Vow: their loss, VAULTS' income (backing.book_fees)
    changes = np.maximum(br.equity[0], 0.0) - br.initial_equity
    counted = br.outside_loss[0] - changes.sum() + br.borrowers_penalty_paid[0]
    scale = (40e6 + 65e6 + abs(br.outside_loss[0]) + np.abs(changes).sum() + br.borrowers_penalty_paid[0]
             + abs(destroyed) + outside_gain)
    return counted - destroyed - outside_gain, scale, books, br


@settings(max_examples=60, deadline=None)
@given(usdy=st.lists(st.floats(0.0, 0.6), min_size=1, max_size=4), eth_fall=st.floats(0.0, 0.8),
       eth_round=st.integers(0, 3), share=st.floats(0.0, 1.0), depth=st.floats(1e7, 1e9),
       tin=st.floats(0.0, 0.02), tout=st.floats(0.0, 0.02))
def test_conservation_with_the_psm_swapping(usdy, eth_fall, eth_round, share, depth, tin, tout):
    """Over USDY depeg paths (any path of falls below par, recoveries included), an ETH fall of 0-80% in any of
    rounds 0-3 (VAULTS, its $5M of equity 7.7% of its ETH, stays live below that and is shut down above it, which
    stops the PSM), FUND's share of DAIX, the DAIX market's depth (how much the arbitrage swaps) and the PSM's fees:
    the PSM entity's holdings and liabilities follow its balance every round (equity 0), and the sum of equity
    changes and outside creditors' write-downs and the PSM fees the arbitrageurs outside paid equals the value
    destroyed (test_the_psm_fee_is_the_issuers_surplus) plus what left the network to the outside agents: their net
    gain on the swaps (the discount the arbitrageurs' DAIX came at beyond the outside holders' share of the PSM's
    write-down), which is no negative write-down (session 18: core.engine.maker_co_issued.dai_holders_outside; the
    convention for liquidators' bonuses, invariants_support.system_value_change). Exact to float rounding, live or
    shut down. Before (session 19), a live PSM's arbitrage that held DAIX at USDY / (1 - tin) below its backing's
    worth V counted the network holders' mark N (V - p) twice, through their holdings and in the outside holders'
    share: the identity was checked only once VAULTS had failed
    (test_a_live_pin_is_counted_once: +$1,944,262). Before session 18, the PSM's books stayed at the reference
    while its balance moved, a shut-down Maker's PSM kept swapping and DAIX took the blend of the reference supply:
    on the path USDY -10% (rounds 0-1) then -30%, ETH -40% in round 1, the system counted $43.38M of $45.03M
    destroyed."""
    gap, scale, books, _ = conservation_gap(usdy, eth_fall, eth_round, share, depth, tin, tout)
    target(abs(gap) / scale, label="conservation gap over the sums")
    target(abs(gap), label="conservation gap, USD")
    target(books, label="PSM books gap, USD")
    assert books <= 1e-6 * 40e6
    assert abs(gap) <= 1e-9 * scale


def test_a_live_pin_is_counted_once():
    """The two-issuer network with room to mint, DAIX's market $100M deep, VAULTS live, USDY 20% off peg for 8
    rounds: the arbitrage sells USDY into the PSM and holds DAIX at the dss-psm pin 0.8 / (1 - tin) = 0.800801 while
    its backing V = (60M + 0.8 D_p) / D is 0.86561: FUND's 30M DAIX lose 30M x (1 - 0.800801) through their mark,
    N (V - p) = $1.944M more than their pro-rata share N (1 - V) of the PSM's write-down. The outside holders' share
    is the write-down less what the network bore, less the arbitrageurs' discount: the sum of equity changes, outside
    write-downs and the fees paid is the value destroyed, the 40M reference USDY x 0.2 = $8M. Before (session 18's
    count, N (1 - V) for the network's share): $9,944,262, the mark counted twice."""
    net = with_room()
    pegs = net.pegs.copy()
    pegs["market_depth_usd"] = 1e8
    net = Network.from_frames(name="two-issuers-pin", pegs=pegs, **{t: getattr(net, t) for t in TABLES})
    br = simulate_batch(net, [Scenario(depegs={"USDY": 0.2}, horizon=8)])
    ids, syms = list(br.entity_ids), list(br.asset_symbols)
    assert not br.defaulted[0].any()
    p = br.prices[0, syms.index("DAIX")]
    assert p == pytest.approx(0.8 / 0.999, rel=1e-12)
    assert br.loss[0, ids.index("FUND")] == pytest.approx(30e6 * (1.0 - p), rel=1e-9)
    changes = np.maximum(br.equity[0], 0.0) - br.initial_equity
    counted = br.outside_loss[0] - changes.sum() + br.borrowers_penalty_paid[0]
    assert counted == pytest.approx(8e6, rel=1e-12)
    # VAULTS' gain is the fee, above its start: kept, not counted (core.engine.outside_transfers); system loss is
    # the value destroyed (before session 31, s31-kept: $8M and the fee)
    vaults = ids.index("VAULTS")
    assert br.equity[0, vaults] - br.initial_equity[vaults] == pytest.approx(br.borrowers_penalty_paid[0], rel=1e-9)
    assert br.borrowers_penalty_loss[0] == pytest.approx(0.0, abs=1e-6)
    assert br.total_loss[0] == pytest.approx(8e6, rel=1e-12)


def test_the_psm_fee_is_the_issuers_surplus():
    """dss-psm ``sellGem``: ``fee = gemAmt18 * tin / WAD``, the DAI minted less the fee to the seller and the fee
    moved to the Vow (``vat.move(address(this), vow, mul(fee, RAY))``): the issuer's surplus. USDY 10% off peg and
    room for 100M more USDY (line 140M: the line bounds the PSM's balance, so 99.9M of DAIX minted to sellers) in a
    market deep enough to take it in round 0: the seller deposits
    100M USDY and gets 99.9M DAIX, 100M DAIX are minted (supply 200M), the 0.1M fee (tin 0.1%) is VAULTS' (its
    Vow's DAIX, its fee income, its equity) and the sellers', outside the network, paid in
    (``borrowers_penalty_paid``): the sum of equity changes, outside write-downs and that payment is the
    value destroyed, 40M x 0.1 = $4M (the 100M USDY came in at 0.9): FUND's 30M DAIX at 0.93, its backed value
    once the room is used (140M of USDY at 0.9 behind 200M, the rest at par), -$2.1M; VAULTS +$0.1M; the outside
    holders' share of the PSM's $14M write-down, 14M x (1 - 30/200) = $11.9M, less the sellers' discount, 100M
    DAIX minted against USDY worth $90M: outside write-downs $1.9M. VAULTS ends $0.1M above its start, so system
    loss counts none of the fee (``borrowers_penalty_loss`` 0, core.engine.outside_transfers; from session 19 to
    session 31 it counted the $0.1M as destroyed): $2.1M + $1.9M = $4M, the value destroyed. Before: no fee booked, VAULTS' equity
    unchanged, the 0.1M DAIX of the Vow left with the sellers; and (session 18) the outside write-downs 0 while
    Maker is live: system loss $2.2M, the identity short by $1.9M."""
    from core.engine import compile_network
    from core.engine.batch import build_batch
    from core.engine.rounds import run_round
    from core.engine.state import initial_state

    net = with_room(line=140e6)
    pegs = net.pegs.copy()
    pegs["market_depth_usd"] = 1e11
    net = Network.from_frames(name="two-issuers-deep", pegs=pegs, **{t: getattr(net, t) for t in TABLES})
    sc = Scenario(depegs={"USDY": 0.1}, horizon=4)
    c = compile_network(net)
    b = build_batch(c, [sc], net)
    s = initial_state(c, b)
    ids, syms = list(c.ids), list(c.symbols)
    vaults, psm, dai, usdy = ids.index("VAULTS"), ids.index("PSM"), syms.index("DAIX"), syms.index("USDY")
    run_round(c, s, b, 0)
    assert s.H[0, psm, usdy] == pytest.approx(140e6, rel=1e-12)       # 100M USDY sold into the PSM
    assert s.psm_supply[0, 0] == pytest.approx(200e6, rel=1e-12)       # 100M DAIX minted
    assert s.H[0, vaults, dai] == pytest.approx(0.1e6, rel=1e-9)       # 0.1M of it in the Vow
    assert s.fee_income[0, vaults] == pytest.approx(0.1e6, rel=1e-9)
    assert s.borrowers_penalty[0] == pytest.approx(0.1e6, rel=1e-9)
    assert s.psm_supply[0, 0] - SUPPLY - s.H[0, vaults, dai] == pytest.approx(99.9e6, rel=1e-12)  # the sellers'
    br = simulate_batch(net, [sc])
    gained = br.equity[0] - br.initial_equity
    assert gained[ids.index("VAULTS")] == pytest.approx(0.1e6, rel=1e-9)
    assert br.borrowers_penalty_paid[0] == pytest.approx(0.1e6, rel=1e-9)
    assert br.borrowers_penalty_loss[0] == pytest.approx(0.0, abs=1e-6)  # all of it VAULTS' gain above its start
    fund_loss = 30e6 * (1.0 - (0.7 * 0.9 + 0.3))
    assert br.loss[0, ids.index("FUND")] == pytest.approx(fund_loss, rel=1e-9)
    assert br.outside_loss[0] == pytest.approx(14e6 * (1.0 - 30e6 / 200e6) - 10e6, rel=1e-9)
    assert br.total_loss[0] == pytest.approx(fund_loss + 1.9e6, rel=1e-9)
    counted = br.outside_loss[0] - gained.sum() + br.borrowers_penalty_paid[0]
    assert counted == pytest.approx(40e6 * 0.1, rel=1e-9)


def test_a_live_makers_psm_pass_through_is_the_outside_holders():
    """dss-psm: the DAI minted by ``sellGem`` is a claim on the PSM's USDC (the 2022 PSM row: $3.2bn of DAI against
    $3.2bn of USDC), so a live Maker's DAI carries the PSM's share of USDC's fall in its price, and the PSM's
    liabilities follow its backing (core.engine.backing). The two-issuer network at its debt ceiling (no room to
    mint, nothing to redeem with DAIX above USDY), VAULTS solvent, USDY 20% off peg: DAIX at its backing,
    (60M + 40M x 0.8) / 100M = 0.92; FUND's 30M DAIX lose $2.4M through its price, the 70M held outside $5.6M, an
    outside write-down; the value destroyed is the PSM's 40M USDY x 0.2 = $8M, and the system loss is $8M, live or
    with Maker shut down. Before (b8f9ffe), the outside holders' $5.6M was counted only where Maker had defaulted:
    system loss $2.4M live; on the 2022 network a 1-ulp deeper shock that defaulted MAKER with USDC at ~0 cut system
    loss by $2.612bn (``monotone-shipped-circle-failed-eth-cel-wbtc-lag2-capital-500m-maker-default-edge``)."""
    br = simulate_batch(two_issuer_network(), [Scenario(depegs={"USDY": 0.2}, horizon=4)])
    ids, syms = list(br.entity_ids), list(br.asset_symbols)
    assert not br.defaulted[0].any()
    assert br.prices[0, syms.index("DAIX")] == pytest.approx(0.92, rel=1e-12)
    assert br.loss[0, ids.index("FUND")] == pytest.approx(30e6 * 0.08, rel=1e-9)
    assert br.outside_loss[0] == pytest.approx(70e6 * 0.08, rel=1e-9)
    counted = (br.outside_loss[0] - (np.maximum(br.equity[0], 0.0) - br.initial_equity).sum()
               + br.borrowers_penalty_paid[0])
    assert counted == pytest.approx(40e6 * 0.2, rel=1e-9)
    assert br.total_loss[0] == pytest.approx(40e6 * 0.2, rel=1e-9)


def test_the_2022_maker_default_edge_loses_no_less():
    """The ledger's ``monotone-shipped-circle-failed-eth-cel-wbtc-lag2-capital-500m-maker-default-edge``: CIRCLE
    forced to fail (USDC ~0, DAI 0.3463 at both depths), ETH, CEL and WBTC deepened by 1 ulp, MAKER defaulting in
    round 5 at the deeper depth only. The PSM's pass-through is counted alike live and shut down, so the outside
    write-downs were the same at both depths ($232.3M; $235.7M with session 29's fixed oracles; session 29: until
    the deeper depth's cage, below) and the system loss does not fall (it rises by the entities' $97.5k; $97.9k at
    the case's own depths before the edge moved, below). Before: $67.2516bn -> $64.6396bn, the
    outside write-downs +$232.3M -> -$2,379.8M. Run without the PSM's autoline (tests/test_psm_autoline.py), which
    the pair was found without: with it the PSM mints 950M a day, not the line at once, and MAKER defaults in
    round 5 at both depths (loss $66.0166bn at both)."""
    from invariants_support import load_regressions, network
    from test_psm_autoline import without_autoline

    case = next(c for c in load_regressions() if c["id"].endswith("-lag2-capital-500m-maker-default-edge"))
    # the edge moved when psm_arbitrage stopped filling the PSM past its line (10bn, not 10.01bn with tin 0.1%):
    # at the case's depths MAKER now defaults at both; re-found by bisection on one scale of the shallower depths,
    # two adjacent floats. Moved again in session 27 (was 0.9999994243989795, ...796), when the lag-2 capital began
    # buying the debt tokens it repays at the market (core.engine.capital.debt_cost): the loss now rises $97.3k there.
    # Moved again in session 29 (was 1.000024080487317, ...173), when Compound v2's USDC debt came to be read at its
    # fixed $1 oracle (core.engine.oracle: USDC ~0 no longer relieves COMP's USDC borrowers): re-found by the same
    # bisection. Moved again in session 30 (was 0.9998511382379344, ...345), when Anchor's queue came to seize at the
    # bid's discounted price less its fee (core.mechanisms.bid_queue): re-found by the same bisection. Moved again in
    # session 31 (s31-poolidx, was 0.9998458508978552, ...553), when a claim held on a pool came to be valued at the
    # pool's index of the same round (core.engine.held_claims): MAKER's 200M on AAVE_ETH now carries AAVE_ETH's fall
    # into MAKER's equity a round sooner, so MAKER defaults at a slightly shallower scale (MAKER defaulted at both
    # depths of the old edge); re-found by the same bisection. Moved again in session 33 (daipeg, was
    # 0.9998419757106595, ...596), when vault owners' repayment premium came to lift the price the PSM's arbitrage
    # left rather than the backed value after its swaps (core.engine.backing): without the autoline round 0's
    # 6,800M DAI minted against USDC at ~0 now price DAI at ~0 for that round (0.348 before, the $14.4M repaid having
    # switched to the premium branch), MAKER's claims held on the books marking DAI move, and at the old edge MAKER
    # stays live at both; re-found by the same bisection. Moved again in session 34 (anchorfee, was
    # 0.9998477418219173, ...174), when Anchor's queue came to keep the 1% liquidator fee beside the 1% bid fee
    # (core.mechanisms.bid_queue: 10.91% more collateral a UST repaid, was 9.79%): MAKER defaulted at both depths of
    # the old edge; re-found by the same bisection. Moved again in session 37 (was 0.9998447506241721, ...722), when
    # MKR's price became its dated close of 6 May 2022 ($1,338.70, was ~$1,700): MKR's backstop is 0.86 x $1,307.91M,
    # not x $1,660.90M, and MAKER defaulted at both depths of the old edge (round 0 from scale 0.975, 4 at 0.96,
    # never below 0.9566); re-found by the same bisection, MAKER in round 5 at the deeper as before. Moved again in
    # session 38 (was 0.9568666334858883, ...884), when CRV_UST came to hold 3CRV's coins (decision 19: CIRCLE failed
    # moves UST's pool by a third of USDC's fall) with UST's holders leaving only beyond the 0.5% band (decision 21):
    # MAKER defaulted in round 5 at both depths of the old edge (live at every scale from 0.80 to 0.955); re-found by
    # the same bisection, 0.006% shallower, MAKER in round 5 at the deeper as before. Moved again in session 40 (was
    # 0.95680985436069, ...6901), when Anchor's queue came to repay the contract's amount (query_liquidation_amount,
    # each position below HF 1 at its own HF): MAKER defaulted in round 5 at both depths of the old edge; re-found by
    # the same bisection between 0.95 (live) and the old deeper scale, 0.0005% shallower, MAKER in round 5 at the
    # deeper as before. Moved again in session 42 (data: crypto-2022-05's dated 6 May rows, Aave v2 stETH's
    # threshold 0.75 with the loops' debt at it and DAI's tin 0; was 0.9568052974615048, ...049): MAKER defaulted in
    # round 5 at both depths of the old edge (live at every scale from 0.90 to 0.955, round 4 at 0.96); re-found by
    # the same bisection between 0.955 and 0.96, 0.12 % shallower, MAKER in round 5 at the deeper as before. The move
    # is DAI's tin: on a copy of the data with tin 0.001 (the stETH rows alone) the edge is 0.9568050437667515 /
    # ...516 (2.7e-7 shallower than session 40's; there $230.71M -> $538.62M, the pledge $914.61M, +$6.80M)
    # Moved again in session 46 (defender, decision 29; was 0.9556308789562553, ...554): LFG keeps the LUNA minted for
    # the UST it redeems and its defence sells none of it (so more of its BTC): MAKER defaulted in round 5 at both
    # depths of the old edge (live at x 0.9556, round 5 at 0.956, round 4 at 0.96); re-found by the same bisection
    # between 0.9556 and the old shallower scale, 3.7e-6 shallower, MAKER in round 5 at the deeper as before. Which
    # of MAKER's books moves it (the WBTC vaults at a lower BTC, as in test_two_issuers, or UST's pool) not traced
    edge = (0.9556273696869666, 0.9556273696869667)
    scenarios = [Scenario.model_validate({**case["scenario"],
                                          "price_shocks": {a: -d[0] * scale for a, d in case["depths"].items()}})
                 for scale in edge]
    br = simulate_batch(without_autoline(network(case["network"])), scenarios)
    maker = list(br.entity_ids).index("MAKER")
    assert list(br.defaulted[:, maker]) == [False, True]
    # session 29 (cage): the deeper depth's Maker, in default from round 5, is caged by End at round 6's opening
    # (core.engine.maker_end): vow.cage releases MKR holders' $1,232.1M pledge for the deficit waiting vow.wait
    # (governance_backstop $1,232.1M -> $0) and DAI's holders bear it through DAI's price (0.3464 -> 0.2529), so
    # the outside write-downs are no longer the same at both depths ($232.32M -> $672.79M); the loss still rises,
    # $67.25044bn -> $67.25616bn (+$5.72M). The shallower depth, live, is as before. With the fixed oracles at the
    # re-found edge (above): $235.69M -> $676.06M, the pledge $1,229.07M -> $0, the loss $67.37735bn -> $67.38990bn;
    # session 30's edge (Anchor's queue): $235.69M -> $676.05M, the pledge $1,229.03M -> $0, the loss $67.37985bn ->
    # $67.39246bn; session 31 (s31-cage: the cage's round prices DAI at the caged books' opening clearing, not at
    # the default's ratio that still held the pledge): $676.07M, the loss $67.39247bn; session 31 (s31-poolidx) at
    # its re-found edge (above): $235.69M -> $676.05M, the pledge $1,229.01M -> $0, the loss $67.37889bn ->
    # $67.38797bn (+$9.08M); session 33 (daipeg) at its re-found edge: $235.67M -> $676.09M, the pledge $1,230.54M ->
    # $0, the loss $67.38006bn -> $67.38801bn (+$7.96M); session 34 (anchorfee, the queue's liquidator fee) at its
    # re-found edge: $235.67M -> $676.09M, the pledge $1,230.51M -> $0 (was $1,230.54M), the loss $67.38156bn ->
    # $67.38956bn (+$8.00M); session 37 (MKR's dated close) at its re-found edge, 4.3% shallower: $230.71M ->
    # $556.03M, the pledge $914.46M -> $0, the loss $66.71732bn -> $66.72264bn (+$5.32M); session 38 (decisions 19
    # and 21, not split) at its re-found edge: $230.72M -> $538.63M, the pledge $914.57M -> $0, the loss $66.79557bn
    # -> $66.80241bn (+$6.84M); session 40 (anchor, the queue's contract amount) at its re-found edge: $230.72M ->
    # $538.63M, the pledge $914.61M -> $0 (was $914.57M), the loss $66.79518bn -> $66.80197bn (+$6.80M)
    # session 42 (data) at its re-found edge: $230.58M -> $538.84M, the pledge $912.61M -> $0, the loss $66.77795bn
    # -> $66.78556bn (+$7.61M)
    np.testing.assert_allclose(br.outside_loss[0], 230.58e6, atol=0.01e6)  # the vaults' side at the default
    np.testing.assert_allclose(br.outside_loss[1], 538.84e6, atol=0.01e6)
    # session 46 (defender, decision 29) at its re-found edge: $230.58M -> $538.84M, the pledge $912.59M -> $0 (was
    # $912.61M), the loss $66.77846bn -> $66.78610bn (+$7.64M)
    np.testing.assert_allclose(br.governance_backstop, [912.59e6, 0.0], atol=0.01e6)
    assert br.total_loss[1] >= br.total_loss[0]
