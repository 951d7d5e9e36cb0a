"""``benchmarks/value_search.py`` (invariant 2's search, session 31) and ``step_trace.py`` on a value entry."""

from __future__ import annotations

import numpy as np

from benchmark_scripts import load_benchmark
from invariants_support import load_regressions, tables

SQUEEZE = "value-2025-alts-94-liquidity-009-abc-btc-squeeze"


def _load(name: str):
    return load_benchmark(name, imports_siblings=True)  # value_search imports monotone_search's generator


def test_the_draws_are_falls_only():
    """Every scenario drawn moves prices down, depegs coins below peg, and nothing else up."""
    vs = _load("value_search")
    t = tables("crypto-2025-10")
    rng = np.random.default_rng(5)
    pure, owed = vs.monotone_assets("crypto-2025-10")
    docs = [d for _ in range(200) for d in vs.falls(rng, pure, owed, list(t.entity_ids), list(t.usd_pegged))]
    docs += [vs.mutant(rng, d) for d in docs[:100]]
    assert all(v <= 0.0 for d in docs for v in d.get("price_shocks", {}).values())
    assert all(0.0 <= v < 1.0 for d in docs for v in d.get("depegs", {}).values())
    assert any(d.get("depegs") for d in docs) and any(d.get("forced_defaults") for d in docs)
    assert {a for d in docs for a in d.get("price_shocks", {})} >= {"ALTS", "BTC", "ETH"}  # owed ones fall too


def test_the_search_measures_the_squeeze_as_the_tests_do():
    """The ledger's squeeze: BTC and its wrappers above their reference price, and since decision 13's check
    (session 32) no gain left unexplained: the search's allowance is the tests' (``value_of_falls``), which reads
    ABC's forced buy-back from the run ($858.57M unexplained before; ``tests/test_squeeze_allowance.py``); without
    its falls the same scenario gives none and nothing rises."""
    vs = _load("value_search")
    case = next(e for e in load_regressions() if e["id"] == SQUEEZE)
    calm = {k: v for k, v in case["scenario"].items() if k != "price_shocks"}
    usd, system, rose, lead = vs.measure(case["network"], [case["scenario"], calm])
    assert usd[0] == 0.0 and lead[0] == ""
    assert rose[0] == ("BTC", "WBTC", "CBBTC")
    assert system[0] < -80e9  # the system's value change holds: ALTS's fall destroys far more
    assert (usd[1], rose[1], lead[1]) == (0.0, (), "")


def test_a_value_entry_traces_beside_its_calm_twin():
    """ABC's liquidation buys back its 384.6 BTC short in round 0: the round's impact lifts BTC 117,000 -> 117,295."""
    lines = _load("step_trace").trace(SQUEEZE, None, 1, ["BTC"], None, None, ["price_impact"])
    assert lines[0] == f"{SQUEEZE}: without its falls / the scenario"
    assert lines[1] == "round 0 price_impact"
    calm, shocked = (float(v) for v in lines[2].split()[1].split("/"))
    assert calm == 117000.0 and shocked == 117295.0  # printed to six digits: 117,295.06
