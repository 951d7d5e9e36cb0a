"""The dashboard tests' shared fixtures and set-ups; the fixtures are imported by ``tests/conftest.py`` so every test
module has them.

A module that uses them names the snapshot it runs on in a module constant ``SNAPSHOT`` (``"crypto-2022-05"``,
``"crypto-2025-10"``): the app and the network are built from it, one of each per module (``app``, ``net``), and
``ctx`` enters the app's Flask context around each test (callbacks that read ``flask.current_app`` need it);
``server`` serves that app from a thread for a module's browser tests. A module without ``SNAPSHOT`` that asks for
one of them fails with a message, rather than running on a network it did not choose; a module that defines a
fixture of the same name keeps its own (pytest's nearest definition).

The set-ups, imported by name: a callback called as the page calls it (:func:`triggered`, :func:`named`,
:func:`on_controls_showing` with :func:`control_ids`), the props of a component tree (:func:`component_props`), and the
scenario a page's link carries (:func:`linked_scenario`).
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import plotly.utils
import pytest
from dash import Dash

import core
from browser_support import served
from core.network import Network
from core.scenario import Scenario


def snapshot_of(request: pytest.FixtureRequest) -> str:
    """The ``SNAPSHOT`` of the requesting test module."""
    snapshot = getattr(request.module, "SNAPSHOT", None)
    if not isinstance(snapshot, str):
        pytest.fail(f"{request.module.__name__} uses the dashboard fixtures (tests/dashboard_fixtures.py) but sets no "
                    "SNAPSHOT = '<snapshot>' to build them from", pytrace=False)
    return snapshot


@pytest.fixture(scope="module")
def app(request: pytest.FixtureRequest) -> Dash:
    """The dashboard app on the module's snapshot, one per module."""
    from dashboard.app import create_app

    return create_app(snapshot_of(request))


@pytest.fixture
def ctx(app: Dash) -> Iterator[Dash]:
    """The module's app, inside its Flask application context for the test."""
    with app.server.app_context():
        yield app


@pytest.fixture(scope="module")
def net(request: pytest.FixtureRequest) -> Network:
    """The module's snapshot as a network (``core.datasets.load``), one per module."""
    return core.datasets.load(snapshot_of(request))


@pytest.fixture(scope="module")
def server(app: Dash) -> Iterator[Any]:
    """The module's app served from a thread on 127.0.0.1 (``.url``), for the module's browser tests."""
    with served(app) as srv:
        yield srv


# -- a callback called as the page calls it ------------------------------------------------------------------------

def triggered(prop_id: str, func, *args):
    """Call a callback that reads ``dash.ctx.triggered_id`` as if ``prop_id`` had fired."""
    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    def run():
        context_value.set(AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": None}]))
        return func(*args)

    return contextvars.copy_context().run(run)


def named(outputs, values) -> dict[str, Any]:
    """A callback's results by "component_id.property" (a pattern-matching id by its ``type``), read from the
    callback module's Output list, so a reordered or missing output fails by name rather than by position."""
    keys = [f"{o.component_id['type'] if isinstance(o.component_id, dict) else o.component_id}.{o.component_property}"
            for o in outputs]
    assert len(set(keys)) == len(keys), keys
    assert len(values) == len(keys), (len(values), keys)
    return dict(zip(keys, values))


def control_ids(network: Network) -> tuple[list[dict[str, str]], ...]:
    """The pattern ids of the page's controls on ``network``, in the page's order: the price sliders, the depeg
    sliders, and the perpetuals venues' ADL-rule and collateral-policy dropdowns (none on a network without venues)."""
    from dashboard import controls, ids, venues

    v = venues.own_rules(network).index
    return ([{"type": ids.PRICE, "asset": a} for a in controls.price_assets(network)],
            [{"type": ids.DEPEG, "asset": a} for a in controls.peg_assets(network)],
            [{"type": ids.ADL_RULE, "venue": x} for x in v],
            [{"type": ids.COLLATERAL_POLICY, "venue": x} for x in v])


def on_controls_showing(network: Network, sc: Scenario, *, compare: bool = False, forced: list[str] | None = None,
                        rounds: list[Any] | None = None, boxes: list[str] | None = None, horizon: Any = None) -> dict[str, Any]:
    """``cascade.on_controls`` with every control showing ``sc`` (the venues' dropdowns and the forced failures' "fails
    at round" boxes too) on the page's network, but the forced list ``forced``, the boxes' ``rounds`` (the boxes of the
    entities ``boxes``, by default of the forced list) and the ``horizon`` where given, "compare" ticked if
    ``compare``; the extras of ``sc`` loaded. Its results by output name (:func:`named`)."""
    from dashboard import cascade, controls, ids, state

    pid, did, aid, cid = control_ids(network)
    forced = list(sc.forced_defaults) if forced is None else forced
    box_ids = [{"type": ids.DEFAULT_ROUND, "entity": e} for e in (forced if boxes is None else boxes)]
    v = controls.controls_from_scenario(sc, pid, did, aid, cid, network, round_ids=box_ids)
    out = cascade.on_controls(
        v[ids.PRICE], v[ids.DEPEG], forced, v[ids.RUN], v[ids.LIQUIDITY], v[ids.ORACLE_LAG],
        v[ids.HORIZON] if horizon is None else horizon, v[ids.CB_ON], v[ids.CB_THRESHOLD], v[ids.CB_ROUNDS],
        v[ids.COLLATERAL], v[ids.INSURANCE], ["on"] if compare else [], controls.extras_of(sc), pid, did,
        state.network_store(None), None, v[ids.ADL_RULE], v[ids.COLLATERAL_POLICY], aid, cid,
        round_values=v[ids.DEFAULT_ROUND] if rounds is None else rounds, round_ids=box_ids)
    return named(cascade.OUTPUTS, out)


# -- what a page shows -----------------------------------------------------------------------------------------------

def component_props(tree) -> Iterator[dict[str, Any]]:
    """Every component's props in a component tree (depth first)."""
    stack = [json.loads(json.dumps(tree, cls=plotly.utils.PlotlyJSONEncoder, ensure_ascii=False))]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict) and "props" in node:
            yield node["props"]
            stack.extend(v for v in node["props"].values() if isinstance(v, (list, dict)))


def linked_scenario(page) -> Scenario | None:
    """The scenario a browser page's address carries (``?s=``); None without one."""
    from dashboard.state import decode_scenario

    s = parse_qs(urlsplit(page.url).query).get("s")
    return decode_scenario(s[0]) if s else None
