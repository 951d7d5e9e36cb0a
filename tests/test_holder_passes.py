"""The same-round index solve over the holders' rows alone (:class:`core.engine.held_claims.HolderPasses`, session
32) gives the bits of the session-31 solve it replaced: each pass one product over the whole claims-held matrix,
``c.held_value(lam * ratio)``, the holders' columns taken out and written back into ``lam``.

Every call of :func:`core.engine.held_claims.solve_indices` in a run is checked against that reference, to the bit
(int64 views, so NaN payloads and signed zeros count), on synthetic(1,000) and synthetic(10,000): seeded storms,
one scenario and a batch. There the holders are one large cycle of holding and the levels 5 and 10 passes deep,
so the later passes re-value indices the earlier ones moved.
"""

from __future__ import annotations

import numpy as np
import pytest

import core
import core.engine.books as books
from core import Scenario
from core.engine import compile_network, simulate_batch
from core.engine.held_claims import HolderPasses, first_pass_input, holder_rows, index_levels, solve_indices
from core.engine.memo import per_network


def full_product_solve(c, lam: np.ndarray, unheld: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    """The session-31 solve: every pass a product over every row of the claims-held matrix."""
    rows, passes = index_levels(c)
    for _ in range(passes):
        held = c.held_value(lam * ratio).take(rows, axis=1)
        v = unheld + held
        v *= c.inv_base0[rows]
        v *= c.lam_follow[rows]
        v += c.lam_fixed[rows]
        lam[:, rows] = v
    return lam


def first_pass_reference(c, lam: np.ndarray, unheld: np.ndarray, ratio: np.ndarray,
                         lam_last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``lam`` with the holders' first values as :func:`core.engine.books.inkind_index` computed them before
    session 35 (the claims held at ``lam_last`` over every row of the claims-held matrix, added to ``V``), and
    ``unheld`` in :func:`index_levels`' order (given in the passes' order, :func:`holder_rows`)."""
    rows, _ = index_levels(c)
    in_levels = np.empty_like(unheld)
    in_levels[:, np.argsort(np.argsort(holder_rows(c)))] = unheld  # passes' order -> the rows' increasing order
    assert (np.diff(rows) > 0).all()
    lam = lam.copy()
    v = in_levels + c.held_value(lam_last * ratio).take(rows, axis=1)
    v *= c.inv_base0[rows]
    v *= c.lam_follow[rows]
    v += c.lam_fixed[rows]
    lam[:, rows] = v
    return lam, in_levels


def storms(net: core.Network, count: int, seed: int) -> list[Scenario]:
    rng = np.random.default_rng(seed)
    ids = np.asarray(net.entities["id"])
    return [Scenario(forced_defaults=list(rng.choice(ids, size=max(1, len(ids) // 1000), replace=False)),
                     price_shocks={"ETH": float(-rng.uniform(0.1, 0.6)), "BTC": float(-rng.uniform(0.1, 0.5))},
                     run_intensity=float(rng.uniform(0.2, 0.8)), horizon=8) for _ in range(count)]


@pytest.mark.parametrize("n,expected_passes", [(1_000, 5), (10_000, 10)])
@pytest.mark.parametrize("scenarios", [1, 4])
def test_holders_alone_equal_the_full_product_to_the_bit(monkeypatch, n, expected_passes, scenarios):
    net = core.datasets.synthetic(n, 10 * n, seed=1)
    c = compile_network(net)
    rows, passes = index_levels(c)
    assert passes == expected_passes and len(rows) > 0.7 * n
    calls = {"checked": 0, "moved": 0}

    def checked(c_, lam, unheld, ratio, lam_last=None):
        if lam_last is None:
            expected = full_product_solve(c_, lam.copy(), unheld.copy(), ratio)
        else:  # the holders' first pass from the last round's indices, as inkind_index took it before session 35
            first, in_levels = first_pass_reference(c_, lam, unheld, ratio, lam_last)
            # the first pass alone (the later passes damp a difference in it below an ulp: checked on its own)
            h = per_network(c_, "holder_passes", lambda: HolderPasses.of(c_, index_levels(c_)[0]))
            x = first_pass_input(h, lam_last, ratio.take(h.rows, axis=1), ratio.take(h.debtors, axis=1))
            assert np.array_equal(h.one_pass(x, unheld).view(np.int64), first.take(h.rows, axis=1).view(np.int64))
            expected = full_product_solve(c_, first, in_levels, ratio)
        before = lam.copy()
        got = solve_indices(c_, lam, unheld, ratio, lam_last)
        assert got is lam and got.shape == expected.shape
        assert np.array_equal(got.view(np.int64), expected.view(np.int64))
        calls["checked"] += 1
        calls["moved"] += int(not np.array_equal(got.view(np.int64), before.view(np.int64)))
        return got

    monkeypatch.setattr(books, "solve_indices", checked)
    simulate_batch(net, storms(net, scenarios, seed=n + scenarios))
    assert calls["checked"] >= 8  # every round's solve, each against the reference
    assert calls["moved"] >= calls["checked"] - 1  # the passes move the indices: the comparison is not vacuous


def test_holder_rows_renumbered_holders_first():
    """The holders' rows keep their stored values and order, their columns renumbered holders first."""
    c = compile_network(core.datasets.synthetic(1_000, 10_000, seed=1))
    rows, _ = index_levels(c)
    h = HolderPasses.of(c, rows)
    assert np.array_equal(h.rows, rows[h.order])
    lengths = np.diff(h.product.MT.indptr)
    assert (lengths[1:] <= lengths[:-1]).all()
    entity = np.concatenate([h.rows, h.debtors])  # local column -> entity
    MT = c.held_value.MT
    for k in (0, len(rows) // 2, len(rows) - 1):
        lo, hi = h.product.MT.indptr[k], h.product.MT.indptr[k + 1]
        r = h.rows[k]
        assert np.array_equal(entity[h.product.MT.indices[lo:hi]], MT.indices[MT.indptr[r]:MT.indptr[r + 1]])
        assert np.array_equal(h.product.MT.data[lo:hi], MT.data[MT.indptr[r]:MT.indptr[r + 1]])


@pytest.mark.parametrize("network", ["crypto-2022-05", "crypto-2025-10", "synthetic"])
def test_first_pass_in_the_solve_gives_the_clearing_bits(monkeypatch, network):
    """:func:`core.engine.held_claims.first_pass_here` (session 35): the claims held at the last round's index left
    out of ``marks`` and taken as one more pass over the holders' rows gives every round's clearing of the full
    product's first pass to the bit (int64 views): the index, the paid ratios, equity and outside liabilities."""
    import core.engine.clear as clear
    from core.engine import rounds
    from core.engine.held_claims import first_pass_here

    net = (core.datasets.synthetic(1_000, 10_000, seed=1) if network == "synthetic" else core.datasets.load(network))
    c = compile_network(net)
    assert first_pass_here(c)
    compared = {"rounds": 0}
    kept = rounds.STEPS

    def both(step):
        def run(c_, s, b, r):
            with monkeypatch.context() as m:
                m.setattr(clear, "first_pass_here", lambda _c: False)
                old = clear.clear_books(c_, s, b, s.P)
            new = clear.clear_books(c_, s, b, s.P)
            for a_, b_ in ((old[0], new[0]), (old[1].paid_ratio, new[1].paid_ratio), (old[1].equity, new[1].equity),
                           (old[2], new[2])):
                assert np.array_equal(np.asarray(a_).view(np.int64), np.asarray(b_).view(np.int64))
            compared["rounds"] += 1
            return step(c_, s, b, r)
        return run

    monkeypatch.setattr(rounds, "STEPS", tuple(both(s) if s.__name__ == "mark_and_clear" else s for s in kept))
    simulate_batch(net, storms(net, 3, seed=35))
    assert compared["rounds"] >= 6
