"""The engine's second thread (:func:`core.chunks.beside`) and the work handed to it give the bits of one thread.

A single large scenario's held-claims passes run over two blocks of the holders' rows, the second on the second
thread (:func:`core.engine.held_claims._passes_in_blocks`), and the claims received are summed there while the books
are marked (:func:`core.engine.clear.clear_books`). A row's sum is its stored values' products added in their order
from zero whichever block and thread hold it, so the passes are checked against the one-thread loop to the bit on
random matrices (int64 views: NaN payloads and signed zeros count), and whole runs with ``engine_threads(1)`` and
``engine_threads(2)`` array by array.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings, strategies as st

import core
import core.engine.clear as clear
import core.engine.held_claims as held_claims
from core.chunks import beside, engine_threads, engine_workers, map_chunks
from core.engine import compile_network, simulate_batch
from core.engine.grouping import Product
from core.engine.held_claims import HolderPasses, _passes, _passes_in_blocks


def bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).view(np.int64)


def random_passes(seed: int, holders: int, debtors: int, density: float, cut: int) -> tuple:
    """A holders' matrix of random stored values (signed, zeros and subnormals among them), its rows by
    decreasing length as :class:`HolderPasses` keeps them, cut in two blocks at row ``cut``; random inputs."""
    rng = np.random.default_rng(seed)
    M = sp.random_array((holders, holders + debtors), density=density, format="csr", rng=rng,
                        data_sampler=lambda size: rng.choice([-1.0, 1.0], size) * 10.0 ** rng.uniform(-310, 8, size))
    M = sp.csr_array(M[np.argsort(-np.diff(M.indptr), kind="stable")])
    product = Product.of(M)
    MT = product.MT
    cut = min(cut, holders)
    h = HolderPasses(np.arange(holders), np.arange(holders), np.arange(holders, holders + debtors), product,
                     rng.uniform(0, 1, holders), rng.uniform(-0.1, 0.1, holders), rng.uniform(0.5, 2, holders),
                     (0, cut, holders), (sp.csr_array(MT[:cut]), sp.csr_array(MT[cut:])))
    x = rng.uniform(-2, 2, (1, holders + debtors))
    x[0, rng.random(holders + debtors) < 0.1] = -0.0
    unheld = rng.uniform(-1e6, 1e6, (1, holders))
    ratio_rows = rng.uniform(0, 1, (1, holders))
    return h, x, unheld, ratio_rows


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), holders=st.integers(1, 300), debtors=st.integers(0, 100),
       density=st.floats(0.0, 0.2), cut=st.integers(0, 300), passes=st.integers(1, 6), threads=st.sampled_from([1, 2]))
def test_passes_in_two_blocks_equal_the_loop_to_the_bit(seed, holders, debtors, density, cut, passes, threads):
    h, x, unheld, ratio_rows = random_passes(seed, holders, debtors, density, cut)
    expected = _passes(h, x.copy(), unheld, ratio_rows, passes)
    with engine_threads(threads):
        got = _passes_in_blocks(h, x[0].copy(), unheld[0], ratio_rows[0], passes)
    assert np.array_equal(bits(got[None]), bits(expected))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(1, 400), cols=st.integers(1, 200),
       density=st.floats(0.0, 0.3))
def test_a_product_cut_by_rows_equals_the_whole_to_the_bit(seed, rows, cols, density):
    """The premise: each block's product, one on the second thread, put side by side, is the whole product."""
    rng = np.random.default_rng(seed)
    M = sp.csr_array(sp.random_array((rows, cols), density=density, format="csr", rng=rng))
    M.data[:] = rng.choice([-1.0, 1.0], M.nnz) * 10.0 ** rng.uniform(-300, 300, M.nnz)
    x = rng.normal(size=cols) * 10.0 ** rng.uniform(-5, 5, cols)
    cut = int(rng.integers(0, rows + 1))
    with engine_threads(2):
        second = beside(sp.csr_array(M[cut:]).__matmul__, x)
        first = sp.csr_array(M[:cut]) @ x
        split = np.concatenate([first, second.result()])
    assert np.array_equal(bits(split), bits(M @ x))


def test_beside_runs_here_on_one_thread_and_hands_back_errors():
    with engine_threads(1):
        task = beside(threading.get_ident)
        assert task.thread is None and task.result() == threading.get_ident()
    with engine_threads(2):
        assert beside(threading.get_ident).result() != threading.get_ident()

        def fails():
            raise ValueError("in the second thread")

        with pytest.raises(ValueError, match="in the second thread"):
            beside(fails).result()
        assert beside(threading.get_ident).result() != threading.get_ident()  # freed after the error


def test_beside_copies_the_callers_context_and_takes_one_task_at_a_time():
    with engine_threads(2):
        with np.errstate(divide="raise"):
            with pytest.raises(FloatingPointError):
                beside(np.divide, np.ones(3), np.zeros(3)).result()
        with np.errstate(divide="ignore"):
            assert np.isinf(beside(np.divide, np.ones(3), np.zeros(3)).result()).all()
        first = beside(threading.get_ident)
        second = beside(threading.get_ident)  # the second thread is busy: this one runs here
        assert second.thread is None and second.result() == threading.get_ident()
        assert first.result() != threading.get_ident()


def test_chunks_of_a_batch_leave_the_second_thread_alone():
    with engine_threads(2):
        seen = map_chunks(lambda idx: engine_workers(), 64, 100_000, workers=2)
    assert len(seen) > 1 and set(seen) == {1}


@pytest.mark.parametrize("record", [False, True])
def test_one_scenario_on_two_threads_equals_one_thread_to_the_bit(monkeypatch, record):
    """synthetic(2,000) with the size thresholds lowered so that every round takes both paths (the passes in
    blocks, the claims received beside): every array of the result, history included, to the bit."""
    monkeypatch.setattr(held_claims, "PASS_BLOCKS_MIN_VALUES", 0)
    monkeypatch.setattr(clear, "RECEIVED_BESIDE_MIN_VALUES", 0)
    net = core.datasets.synthetic(2_000, 20_000, seed=3)
    c = compile_network(net)
    rows, passes = held_claims.index_levels(c)
    h = held_claims.per_network(c, "holder_passes", lambda: HolderPasses.of(c, rows))
    assert passes > 1 and h.blocks is not None and 0 < h.bounds[1] < h.bounds[2]
    ids = list(net.entities["id"][:3])
    sc = core.Scenario(forced_defaults=ids, price_shocks={"ETH": -0.35, "BTC": -0.25}, run_intensity=0.5, horizon=10)
    out = {}
    for k in (1, 2):
        with engine_threads(k):
            out[k] = simulate_batch(net, [sc], record=record)
    assert out[1].rounds_run[0] >= 5
    one, two = arrays(out[1]), arrays(out[2])
    assert one.keys() == two.keys() and len(one) > 20
    for name, a in one.items():
        b = two[name]
        assert a.shape == b.shape and a.dtype == b.dtype, name
        if a.dtype.kind == "O":  # names
            assert a.tolist() == b.tolist(), name
        else:
            assert np.array_equal(a.view(np.uint8), b.view(np.uint8)), name


def arrays(obj, prefix: str = "") -> dict[str, np.ndarray]:
    if isinstance(obj, np.ndarray):
        return {prefix: np.ascontiguousarray(obj)}
    out: dict[str, np.ndarray] = {}
    if hasattr(obj, "__dataclass_fields__"):
        for f in obj.__dataclass_fields__:
            out |= arrays(getattr(obj, f), f"{prefix}.{f}")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            out |= arrays(v, f"{prefix}[{k!r}]")
    return out
