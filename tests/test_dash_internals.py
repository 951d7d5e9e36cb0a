"""The private Dash internals the dashboard relies on, pinned and checked: an upgrade fails here, never in the page.

Three internals, each checked on dash 4.4.1 and dash-cytoscape 1.0.2 (the
versions ``pyproject.toml`` pins to their minor series):

* ``dash._callback.GLOBAL_CALLBACK_MAP`` / ``GLOBAL_CALLBACK_LIST`` and
  ``Dash.callback_map`` / ``Dash._callback_list``: ``dashboard/app.py`` moves the
  panel modules' ``@callback`` registrations into each app it creates, so that
  several apps can live in one process (tests, gunicorn workers);
* ``window._dashPlotlyJSURL`` (dash-renderer and dcc): ``assets/sfm.js`` points
  it at the vendored plotly.js so that ``dcc.Graph`` loads that file;
* ``element._cyreg.cy`` (dash-cytoscape): ``assets/sfm.js`` reaches the
  Cytoscape instance through it to drive the round-by-round animation.

A new use of a private name must be added here (the last test lists them).
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import dash
import dash_cytoscape
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
DASH_DIR = Path(dash.__file__).parent
CYTOSCAPE_DIR = Path(dash_cytoscape.__file__).parent


def _pins() -> dict[str, Requirement]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return {Requirement(d).name.lower().replace("_", "-"): Requirement(d) for d in deps}


def test_installed_versions_are_the_pinned_ones():
    pins = _pins()
    for name in ("dash", "dash-cytoscape", "dash-ag-grid"):
        spec = pins[name].specifier
        assert "<" in str(spec) or "==" in str(spec), f"{name} must be pinned to the series its internals were checked on"
        assert spec.contains(metadata.version(name)), f"{name} {metadata.version(name)} is outside the pin {spec}"


def test_callback_registry_internals_exist():
    from dash import _callback

    assert isinstance(_callback.GLOBAL_CALLBACK_MAP, dict)
    assert isinstance(_callback.GLOBAL_CALLBACK_LIST, list)
    app = dash.Dash(__name__)
    assert isinstance(app.callback_map, dict) and isinstance(app._callback_list, list)


def test_renderer_reads_the_plotly_url_hook():
    renderer = (DASH_DIR / "dash-renderer" / "build" / "dash_renderer.min.js").read_text(encoding="utf-8")
    dcc = (DASH_DIR / "dcc" / "dash_core_components.js").read_text(encoding="utf-8")
    assert "_dashPlotlyJSURL" in renderer and "_dashPlotlyJSURL" in dcc


def test_cytoscape_exposes_its_registry_on_the_element():
    bundle = (CYTOSCAPE_DIR / "dash_cytoscape.min.js").read_text(encoding="utf-8")
    assert "_cyreg" in bundle


def test_the_app_context_factory_exists():
    # dashboard.jobs.bind wraps the callback view so a page's jobs are signed with its own app's secret
    from dash._get_app import with_app_context_factory

    app = dash.Dash(__name__)
    assert callable(with_app_context_factory(lambda: None, app))


def test_no_other_private_internal_is_used():
    js = (ROOT / "assets" / "sfm.js").read_text(encoding="utf-8")
    assert set(re.findall(r"\b(_dash\w+|_cy\w+)", js)) <= {"_dashPlotlyJSURL", "_cyreg"}
    py = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "dashboard").glob("*.py"))
    private = set(re.findall(r"\bfrom dash(?:\.\w+)* import (_\w+)|\bdash\.(_\w+)", py))
    assert {name for pair in private for name in pair if name} <= {"_callback", "_get_app"}
