"""Valid scenarios at the schema's edges run to a story on every shipped snapshot: no exception but a placed
validation error, no RuntimeWarning (a numpy overflow or a division printed above ``sfm simulate``'s story), and
strict JSON out (no ``NaN`` or ``Infinity``; a non-finite value is ``null`` with its reason).

Hypothesis draws the scenarios: deep and shallow price shocks (to -99.99 %), paths, depegs to 99 %, forced defaults,
runs, oracle lags, thin and deep markets, horizons, gradual shocks, round lengths, liquidators' capital from a millionth of a dollar, and
circuit breakers. A fuzz of 3,827 such scenarios (session 43) found one warning, an overflow in
``core.mechanisms.perps_spread.deficit_and_left_over`` (kept in ``tests/test_perps_spread.py``), and no crash.
"""

from __future__ import annotations

import json
import math
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import core
from core.scenario import Scenario

NETWORKS = ("crypto-2020-03", "crypto-2022-05", "crypto-2025-10")
DEPTHS = st.one_of(st.sampled_from([-0.9999, -0.99, -0.5, -1e-9, 0.0, 1e-9, 0.5]), st.floats(-0.999, 0.5))


@pytest.fixture(scope="module")
def networks():
    return {key: core.datasets.load(key) for key in NETWORKS}


@st.composite
def scenarios(draw, network):
    symbols = sorted(network.assets["symbol"])
    entities = sorted(network.entities["id"])
    pegged = sorted(set(network.pegs["asset"])) if network.pegs is not None and len(network.pegs) else []
    doc: dict = {}
    shocked = draw(st.lists(st.sampled_from(symbols), min_size=0, max_size=5, unique=True))
    if shocked:
        doc["price_shocks"] = {s: draw(DEPTHS) for s in shocked}
        if draw(st.booleans()):  # one of them as a three-step path instead
            s = shocked[0]
            end = doc["price_shocks"].pop(s)
            doc["price_paths"] = {s: [end / 3, 2 * end / 3, end]}
    if pegged and draw(st.booleans()):
        doc["depegs"] = {s: draw(st.sampled_from([0.0, 0.01, 0.5, 0.99])) for s in
                         draw(st.lists(st.sampled_from(pegged), min_size=1, max_size=3, unique=True))}
    if draw(st.booleans()):
        doc["forced_defaults"] = draw(st.lists(st.sampled_from(entities), min_size=1, max_size=4, unique=True))
    doc["run_intensity"] = draw(st.sampled_from([0.0, 0.5, 1.0]))
    doc["oracle_lag"] = draw(st.integers(0, 4))
    doc["liquidity"] = draw(st.sampled_from([0.01, 0.1, 1.0, 5.0]))
    doc["horizon"] = draw(st.sampled_from([3, 12, 40]))  # a path has three steps
    doc["shock_rounds"] = draw(st.integers(1, 3))
    doc["round_hours"] = draw(st.sampled_from([0.1, 6.0, 24.0, 168.0]))
    capital = draw(st.sampled_from([None, 1e-6, 1.0, 5e7, 1e12]))
    if capital is not None:
        doc["liquidator_capacity_usd"] = capital
    if draw(st.booleans()):
        doc["safeguards"] = {"circuit_breaker": {"threshold": draw(st.sampled_from([0.01, 0.2, 0.9])),
                                                 "rounds": draw(st.integers(1, 5))}}
    return doc


@pytest.mark.parametrize("key", NETWORKS)
def test_valid_scenarios_run_to_strict_results_without_warnings(networks, key):
    network = networks[key]

    @settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(scenarios(network))
    def run(doc):
        scenario = Scenario.model_validate(doc)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            try:
                result = core.simulate(network, scenario)
            except core.DataValidationError as exc:  # a placed message is the right answer to a bad combination
                assert str(exc)
                return
        text = result.to_json()
        json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in the result JSON of {doc}"))
        summary = result.summary_dict()
        assert all(math.isfinite(v) for v in summary.values() if isinstance(v, float)), doc

    run()
