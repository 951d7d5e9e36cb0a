"""Maker's PSM after Emergency Shutdown, and the PSM's books following its balance (issue 12, item 2).

After Maker defaults (``end.cage``: the Vat's ``live`` set to 0) the PSM swaps nothing: ``sellGem`` and ``buyGem``
frob the PSM's urn, and ``vat.frob`` requires ``live == 1`` (dss ``src/vat.sol``, dss-psm ``src/psm.sol``;
:func:`core.mechanisms.psm.psm_arbitrage`, ``live``). DAI then trades at the ``end.cash`` blend of the vaults'
recovery and the PSM's USDC (:func:`core.mechanisms.psm.two_issuer_recovery`): USDC's price moves it only through
the PSM's share, it no longer pins it.
"""

from __future__ import annotations

import numpy as np
import pytest

from core import Scenario
from core.engine import simulate_batch
from core.network import Network
from test_two_issuers import two_issuer_network

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
