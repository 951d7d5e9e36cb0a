"""Membership matrices kept with their book (core.mechanisms.memberships, core.perps_round._memberships): the same
sums as the matrices built afresh, to the last bit, and built once."""

from __future__ import annotations

import gc

import numpy as np
import scipy.sparse as sp

from core.mechanisms import memberships
from core.mechanisms.memberships import transposed
from core.perps_round import perps_round
from core.positions import position_book, venue_rules
from core.synthetic_perps import perps_example


def test_transposed_is_kept_and_sums_as_the_fresh_transpose():
    # rows 0 and 1 in group 0, row 2 in group 1: sums 1 + 2 = 3 and 4
    m = sp.csr_array((np.ones(3), ([0, 1, 2], [0, 0, 1])), shape=(3, 2))
    t = transposed(m)
    assert t is transposed(m)
    x = np.array([[1.0, 2.0, 4.0], [0.1, 0.2, -0.0]])
    assert (t @ x.T).T.tolist() == [[3.0, 4.0], [0.1 + 0.2, 0.0]]
    assert np.array_equal(t @ x.T, m.T @ x.T)
    key = id(m)
    del m, t
    gc.collect()
    assert key not in memberships._TRANSPOSES  # dropped with its matrix (an id is reused only after)


def _example_round(pb, rules, net):
    a = net.assets.set_index("symbol")
    p0 = a["price_usd"].to_numpy()
    p1 = p0.copy()
    p1[0] = 9e4  # BTC -10 %: the worked example of core.perps_round
    return perps_round(pb, rules, p1, p0, a["adv_usd"].to_numpy(), a["daily_vol"].to_numpy(),
                       insurance_fund=rules["insurance_fund_usd"].to_numpy(), backstop=rules["backstop_vault_usd"].to_numpy())


def test_perps_round_memberships_built_once_same_bits():
    net = perps_example()
    rules = venue_rules(net)
    pb = position_book(net, rules)
    first = _example_round(pb, rules, net)
    kept = pb.__dict__["_memberships"]
    again = _example_round(pb, rules, net)  # reads the kept memberships
    assert pb.__dict__["_memberships"] is kept
    fresh = _example_round(position_book(net, rules), rules, net)  # a new book builds its own
    for r in (again, fresh):
        for f in ("sales_usd", "account_value_usd", "size_after", "margin_units_after", "collateral_sold_units",
                  "own_book_sold_after"):
            assert np.array_equal(getattr(first, f), getattr(r, f)), f
    # the worked numbers: A's 20x longs sold 150 BTC at 90,000 (13.5m), A's deficit 507k, the market maker worth 3.59m
    assert first.sales_usd[0].tolist() == [13500000.0, 0.0, 0.0]
    assert round(float(first.settlement.deficit_usd[0, 0]), -3) == 507000.0
    mm = list(first.accounts).index(net.entity_pos(["MM"])[0])
    assert round(float(first.account_value_usd[0, mm])) == 3592513
