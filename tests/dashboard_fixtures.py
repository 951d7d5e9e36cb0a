"""The dashboard tests' shared fixtures, imported by ``tests/conftest.py`` so every test module has them.

A module that uses them names the snapshot it runs on in a module constant ``SNAPSHOT`` (``"crypto-2022-05"``,
``"crypto-2025-10"``): the app and the network are built from it, one of each per module (``app``, ``net``), and
``ctx`` enters the app's Flask context around each test (callbacks that read ``flask.current_app`` need it).
A module without ``SNAPSHOT`` that asks for one of them fails with a message, rather than running on a network it
did not choose; a module that defines a fixture of the same name keeps its own (pytest's nearest definition).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dash import Dash

import core
from core.network import Network


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
