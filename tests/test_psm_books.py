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


def eth_vaults_network(held: float, depth: float) -> Network:
    """The two-issuer network with VAULTS' $65M in 32,500 ETH (at $2,000) instead of other assets, so an ETH fall
    defaults it in the round it lands; FUND holds ``held`` DAIX; the DAIX market's depth ``depth`` (what the PSM's
    arbitrage trades against); the PSM with room to mint."""
    net = two_issuer_network(held)
    entities = net.entities.copy()
    entities.loc[entities["id"] == "VAULTS", "other_assets_usd"] = 0.0
    eth = net.holdings.iloc[:1].assign(entity="VAULTS", asset="ETH", amount=65e6 / 2000.0)
    pegs = net.pegs.copy()
    pegs["psm_line_usd"], pegs["market_depth_usd"] = 1e12, depth
    return Network.from_frames(name="two-issuers-eth", entities=entities, pegs=pegs,
                               holdings=pd.concat([net.holdings, eth], ignore_index=True),
                               **{t: getattr(net, t) for t in ("assets", "exposures", "cohorts")})


def destroyed_and_books(net: Network, sc: Scenario, network_dai: float = 0.0) -> tuple[float, float, float]:
    """Value destroyed over the run, the largest gap between the PSM entity's books and its balance, and the
    outside agents' net gain on the PSM's swaps, run round by round on the engine's state: VAULTS' assets' fall
    (ETH, and what selling it realised) and the fall of the PSM's USDY from the price each unit came in at (units
    held over a round times that round's fall: the units the arbitrage swapped came in at the round's price); the
    books' gap, every round, is ``|H[PSM, USDY] - 40M - (balance - balance0)|`` and
    ``|liabilities - H[PSM, USDY] x p|`` (equity 0); the outside agents' gain is the discount the swaps' DAIX came
    at, ``sum_t m_t (1 - p_t)``, less the outside holders' share of the PSM's write-down at the end,
    ``(D_p - L_p)(1 - N / (60M + D_p))``, where positive (``network_dai`` N: the network's DAIX, FUND's)."""
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
    return 65e6 - vault_assets + usdy_fall, gap, max(discount - written, 0.0)


@settings(max_examples=30, deadline=None)
@given(usdy=st.lists(st.floats(0.0, 0.6), min_size=1, max_size=4), eth_fall=st.floats(0.1, 0.8),
       eth_round=st.integers(0, 3), share=st.floats(0.0, 1.0), depth=st.floats(1e7, 1e9))
def test_conservation_with_the_psm_swapping(usdy, eth_fall, eth_round, share, depth):
    """Over USDY depeg paths (any path of falls below par, recoveries included), an ETH fall of 10-80% that
    defaults VAULTS in any of rounds 0-3 (the shutdown that stops the PSM: its $5M of equity is 7.7% of its ETH),
    FUND's share of DAIX and the DAIX market's depth (how much the arbitrage swaps before the shutdown): the PSM
    entity's holdings and liabilities follow its balance every round (equity 0), and the sum of equity changes
    and outside creditors' write-downs and the PSM fees the arbitrageurs outside paid equals the value destroyed
    (test_the_psm_fee_is_the_issuers_surplus) plus what left the network to the outside agents: their net gain on
    the swaps (the discount the arbitrageurs' DAIX came at beyond the outside holders' share of the PSM's
    write-down), which is no negative write-down (session 18: core.engine.maker_vow.dai_holders_outside; the
    convention for liquidators' bonuses, invariants_support.system_value_change). (While Maker is live the PSM's arbitrage can hold DAIX at
    USDY / (1 - tin), below its backing's worth, and its holders in the network bear that mark too: the identity is
    checked here once Maker has failed, where DAIX trades at the blend; a live Maker whose DAIX trades at its
    backing is checked in test_a_live_makers_psm_pass_through_is_the_outside_holders.) Before,
    the PSM's books stayed at the reference while its balance moved, a shut-down Maker's PSM kept swapping and
    DAIX took the blend of the reference supply: on the path USDY -10% (rounds 0-1) then -30%, ETH -40% in
    round 1, the system counted $43.38M of $45.03M destroyed (test_a_shut_down_makers_psm_does_not_pin_dai_to_usdc's
    network with ETH: measured on the session's starting tree)."""
    path = [-f for f in usdy]
    eth = [0.0] * eth_round + [-eth_fall]
    sc = Scenario(price_paths={"USDY": path, "ETH": eth}, horizon=8)
    net = eth_vaults_network(share * SUPPLY, depth)
    destroyed, gap, outside_gain = destroyed_and_books(net, sc, share * SUPPLY)
    br = simulate_batch(net, [sc])
    assert br.defaulted[0, list(br.entity_ids).index("VAULTS")]
    # the PSM's tin fees the arbitrageurs outside paid into VAULTS' Vow: their loss, VAULTS' income (backing.book_fees)
    counted = (br.outside_loss[0] - (np.maximum(br.equity[0], 0.0) - br.initial_equity).sum()
               + br.borrowers_penalty_loss[0])
    target(abs(counted - destroyed - outside_gain), label="conservation gap, USD")
    target(outside_gain, label="outside agents' gain, USD")
    target(gap, label="PSM books gap, USD")
    assert gap <= 1e-6 * 40e6
    assert counted == pytest.approx(destroyed + outside_gain, rel=1e-9, abs=1.0)
    assert br.total_loss[0] == pytest.approx(destroyed + outside_gain, rel=1e-9, abs=1.0)


def test_the_psm_fee_is_the_issuers_surplus():
    """dss-psm ``sellGem``: ``fee = gemAmt18 * tin / WAD``, the DAI minted less the fee to the seller and the fee
    moved to the Vow (``vat.move(address(this), vow, mul(fee, RAY))``): the issuer's surplus. USDY 10% off peg and
    room for 99.9M more DAIX (line 40M + 99.9M) in a market deep enough to take it in round 0: the seller deposits
    100M USDY and gets 99.9M DAIX, 100M DAIX are minted (supply 200M), the 0.1M fee (tin 0.1%) is VAULTS' (its
    Vow's DAIX, its fee income, its equity) and the sellers', outside the network, paid in: system loss counts
    it (``borrowers_penalty_loss``) and the sum of equity changes, outside write-downs and that payment is the
    value destroyed, 40M x 0.1 = $4M (the 100M USDY came in at 0.9): FUND's 30M DAIX at 0.93, its backed value
    once the room is used (140M of USDY at 0.9 behind 200M, the rest at par), -$2.1M; VAULTS +$0.1M; the outside
    holders' share of the PSM's $14M write-down, 14M x (1 - 30/200) = $11.9M, less the sellers' discount, 100M
    DAIX minted against USDY worth $90M: outside write-downs $1.9M. Before: no fee booked, VAULTS' equity
    unchanged, the 0.1M DAIX of the Vow left with the sellers; and (session 18) the outside write-downs 0 while
    Maker is live: system loss $2.2M, the identity short by $1.9M."""
    from core.engine import compile_network
    from core.engine.batch import build_batch
    from core.engine.rounds import run_round
    from core.engine.state import initial_state

    net = with_room(line=40e6 + 99.9e6)
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
    assert br.borrowers_penalty_loss[0] == pytest.approx(0.1e6, rel=1e-9)
    fund_loss = 30e6 * (1.0 - (0.7 * 0.9 + 0.3))
    assert br.loss[0, ids.index("FUND")] == pytest.approx(fund_loss, rel=1e-9)
    assert br.outside_loss[0] == pytest.approx(14e6 * (1.0 - 30e6 / 200e6) - 10e6, rel=1e-9)
    assert br.total_loss[0] == pytest.approx(fund_loss + 0.1e6 + 1.9e6, rel=1e-9)
    counted = br.outside_loss[0] - gained.sum() + br.borrowers_penalty_loss[0]
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
               + br.borrowers_penalty_loss[0])
    assert counted == pytest.approx(40e6 * 0.2, rel=1e-9)
    assert br.total_loss[0] == pytest.approx(40e6 * 0.2, rel=1e-9)


def test_the_2022_maker_default_edge_loses_no_less():
    """The ledger's ``monotone-shipped-circle-failed-eth-cel-wbtc-lag2-capital-500m-maker-default-edge``: CIRCLE
    forced to fail (USDC ~0, DAI 0.3463 at both depths), ETH, CEL and WBTC deepened by 1 ulp, MAKER defaulting in
    round 5 at the deeper depth only. The PSM's pass-through is counted alike live and shut down, so the outside
    write-downs are the same at both depths ($232.3M) and the system loss does not fall (it rises by the entities'
    $97.9k). Before: $67.2516bn -> $64.6396bn, the outside write-downs +$232.3M -> -$2,379.8M."""
    from invariants_support import load_regressions, network

    case = next(c for c in load_regressions() if c["id"].endswith("-lag2-capital-500m-maker-default-edge"))
    scenarios = [Scenario.model_validate({**case["scenario"],
                                          "price_shocks": {a: -d[i] for a, d in case["depths"].items()}})
                 for i in (0, 1)]
    br = simulate_batch(network(case["network"]), scenarios)
    maker = list(br.entity_ids).index("MAKER")
    assert list(br.defaulted[:, maker]) == [False, True]
    np.testing.assert_allclose(br.outside_loss, 232.32e6, atol=0.01e6)  # the vaults' side at the default: $409
    assert br.total_loss[1] >= br.total_loss[0]
