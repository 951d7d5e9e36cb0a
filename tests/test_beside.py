"""The engine's second thread (:func:`core.chunks.beside`) and the work handed to it give the bits of one thread.

A single large scenario's claims received are summed there while the books are marked
(:func:`core.engine.clear.clear_books`): the same function on the same inputs. Checked: what ``beside`` does
(one thread where ``engine_threads(1)``, errors handed back, the caller's numpy error state, one task at a time, no
second thread inside a chunked batch), and whole runs with ``engine_threads(1)`` and ``engine_threads(2)`` array by
array, to the bit.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import core
import core.engine.clear as clear
from core.chunks import beside, engine_threads, engine_workers, map_chunks
from core.engine import compile_network, simulate_batch


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
    """synthetic(2,000) with the size threshold lowered so that every round sums the claims received on the
    second thread: every array of the result, history included, to the bit."""
    monkeypatch.setattr(clear, "RECEIVED_BESIDE_MIN_VALUES", 0)
    net = core.datasets.synthetic(2_000, 20_000, seed=3)
    compile_network(net)
    handed = []
    kept = clear.beside
    monkeypatch.setattr(clear, "beside", lambda fn, *a: handed.append(fn) or kept(fn, *a))
    ids = list(net.entities["id"][:3])
    sc = core.Scenario(forced_defaults=ids, price_shocks={"ETH": -0.35, "BTC": -0.25}, run_intensity=0.5, horizon=10)
    out = {}
    for k in (1, 2):
        with engine_threads(k):
            out[k] = simulate_batch(net, [sc], record=record)
    assert out[1].rounds_run[0] >= 5 and len(handed) >= 2 * out[1].rounds_run[0]  # every round, both ways
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
