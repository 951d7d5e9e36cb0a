"""Collateral Maker's finished auctions handed back to vault owners secures no debt
(:func:`core.engine.maker_book.securing_collateral`).

``clip.take`` moves a lot's remainder to the vault's owner (``vat.flux(ilk, address(this), usr, lot)``), ``flip.deal``
likewise: free collateral in no urn, while ``dog.bark`` already took the barked debt off the urn (``vat.grab``). The
engine keeps it in the cohort's ``coll`` (``maker_free``), so the clearing's loan book (a loan worth its debt but no
more than its collateral, :func:`core.engine.books.marks`), the coin's claim on its vaults
(:func:`core.engine.backing.backing_links`) and the bad-debt measures counted it against the cohort's debt.
"""

from __future__ import annotations

import numpy as np
import pytest

import core
from core import Scenario
from core.engine import compile_network
from core.engine.batch import build_batch
from core.engine.books import marks, unbooked_bad_debt
from core.engine.maker_book import securing_collateral
from core.engine.state import initial_state



def _first_maker_cohort():
    """crypto-2020-03 before its first round: the network, its compiled form, the state, Maker's first cohort and
    that cohort's collateral price."""
    net = core.datasets.load("crypto-2020-03")
    c = compile_network(net)
    s = initial_state(c, build_batch(c, [Scenario(horizon=1)], net))
    assert c.maker is not None
    j = int(c.maker.cohorts[0])
    return net, c, s, j, c.P0[c.c_ca[j]]

def test_free_collateral_does_not_secure_the_cohorts_debt():
    """crypto-2020-03, Maker's first cohort ($2M of DAI debt) at ETH's reference price: its collateral set to $2.4M
    of ETH, of which $0.8M handed back to owners by finished auctions (free) and none on auction. The debt is
    secured by the $1.6M left in the vaults: MAKER's loan book is short $0.4M (2.0 - 1.6) and that is under-water
    debt not yet booked. Before, the $2.4M covered the $2M: short 0, the owners' free ETH counted as MAKER's."""
    net, c, s, j, eth = _first_maker_cohort()
    assert s.debt[0, j] * c.peg1[c.c_da[j]] == pytest.approx(2e6)
    s.coll[0, j] = 2.4e6 / eth
    s.maker_free[0, 0] = 0.8e6 / eth
    secured = securing_collateral(c, s)
    assert secured[0, j] * eth == pytest.approx(1.6e6, rel=1e-12)
    others = np.arange(len(c.c_coll)) != j
    np.testing.assert_array_equal(secured[0, others], s.coll[0, others])
    P = c.P0[None]
    maker = list(c.ids).index("MAKER")
    m = marks(c, P, s.H, s.debt, s.lam, s.ratio, secured)
    before = marks(c, P, s.H, s.debt, s.lam, s.ratio, s.coll)
    assert m.book[0, maker] == pytest.approx(before.book[0, maker] - 0.4e6, rel=1e-12)
    assert m.underwater[0, maker] == pytest.approx(0.4e6, rel=1e-9) and before.underwater[0, maker] == 0.0
    assert unbooked_bad_debt(c, P, secured, s.debt)[0, maker] == pytest.approx(0.4e6, rel=1e-9)
    assert unbooked_bad_debt(c, P, s.coll, s.debt)[0, maker] == pytest.approx(0.0, abs=1e-6)


def test_free_collateral_on_auction_is_not_taken_twice():
    """What is on auction (``maker_lot``) secures the auction's debt: the free collateral taken off is at most what
    is not on auction (as :func:`core.engine.maker_book.vault_books` takes it). Cohort collateral $2.4M, $2.0M of it
    in lots, $0.8M recorded free: $0.4M comes off (the rest of ``coll``), $2.0M secures the debt."""
    net, c, s, j, eth = _first_maker_cohort()
    s.coll[0, j] = 2.4e6 / eth
    s.maker_lot = s.maker_lot.copy()  # a new array, as a step writes it (the empty slots start frozen: known_zeros)
    s.maker_lot[0, 0, 0] = 2.0e6 / eth
    s.maker_free[0, 0] = 0.8e6 / eth
    assert securing_collateral(c, s)[0, j] * eth == pytest.approx(2.0e6, rel=1e-12)
