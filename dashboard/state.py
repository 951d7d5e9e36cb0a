"""Per-user state: what the stores hold, how it is read back, and the error guard.

Nothing here is mutable global state. The page keeps everything a user did in
``dcc.Store`` components and the URL:

* the network store holds ``{"source": "base"}`` for the server's read-only
  dataset, or ``{"source": "upload", "name": ..., "json": <network JSON>}`` for
  a network the user uploaded;
* the scenario store holds the scenario as a validated dict.

Derived values (the parsed network, an engine run, node positions) are pure
functions of those stores; they are memoised per process with ``lru_cache``,
keyed by content, so any worker answers any user the same way.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
import zlib
from typing import Any, Callable
from urllib.parse import parse_qs

import flask
from dash import no_update

from core.io import network_from_json_text
from core.network import Network
from core.scenario import Scenario, parse_scenario
from core.validation import DataValidationError

log = logging.getLogger("sfm.dashboard")

#: Flask config key under which the app keeps its read-only base network.
BASE_NETWORK_KEY = "SFM_BASE_NETWORK"


# -- the network ---------------------------------------------------------------

def base_network() -> Network:
    """The network the app was created with (read-only, shared by all users).

    Outside a request (a Celery worker running a background callback) it is the
    network of the module-level app, built from ``$SFM_DATA_PATH`` as the web workers' is.
    """
    if flask.has_app_context():
        return flask.current_app.config[BASE_NETWORK_KEY]
    from .app import server

    return server.config[BASE_NETWORK_KEY]


@functools.lru_cache(maxsize=8)
def _parse_network_json(text: str) -> Network:
    return network_from_json_text(text, file="uploaded network")


def network_from_store(store: dict[str, Any] | None) -> Network:
    """The network a network-store value stands for."""
    if not store or store.get("source") != "upload":
        return base_network()
    return _parse_network_json(store["json"])


def network_store(network: Network | None) -> dict[str, Any]:
    """The store value for a network (``None``: the base network)."""
    if network is None:
        return {"source": "base"}
    return {"source": "upload", "name": network.name, "json": network.to_json()}


# -- engine runs -----------------------------------------------------------------

def simulate(network: Network, scenario: Scenario):
    """Run the engine (memoised on the network object and the scenario's JSON)."""
    return _simulate_cached(network, scenario.model_dump_json())


@functools.lru_cache(maxsize=64)
def _simulate_cached(network: Network, scenario_json: str):
    from core.engine import simulate as run

    return run(network, Scenario.model_validate_json(scenario_json))


@functools.lru_cache(maxsize=8)
def systemic_importance(network: Network):
    from core import metrics

    return metrics.systemic_importance(network)


# -- the URL -------------------------------------------------------------------

def encode_scenario(scenario: dict[str, Any]) -> str:
    """Compact, URL-safe text for a scenario: only the fields that differ from the defaults."""
    doc = _strip_defaults(scenario, Scenario().model_dump())
    raw = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def decode_scenario(text: str) -> Scenario:
    """Inverse of :func:`encode_scenario`; raises DataValidationError on anything malformed."""
    try:
        raw = zlib.decompress(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        doc = json.loads(raw)
    except (binascii.Error, zlib.error, ValueError) as exc:
        from core.validation import Problem

        raise DataValidationError([Problem("link", None, "s", text[:40], f"a scenario encoded by sfm ({exc})")]) from None
    return parse_scenario(doc, file="link")


def parse_query(search: str | None) -> dict[str, Any]:
    """Read ``?s=<scenario>&cmp=1&r=<round>&e=<entity>`` into a dict (missing keys absent)."""
    q = parse_qs((search or "").lstrip("?"))
    out: dict[str, Any] = {}
    if q.get("s"):
        out["scenario"] = decode_scenario(q["s"][0])
    if q.get("cmp"):
        out["compare"] = q["cmp"][0] == "1"
    if q.get("r"):
        try:
            out["round"] = max(0, int(q["r"][0]))
        except ValueError:
            pass
    if q.get("e"):
        out["entity"] = q["e"][0]
    return out


def _strip_defaults(doc: Any, default: Any) -> Any:
    if isinstance(doc, dict) and isinstance(default, dict):
        out = {}
        for k, v in doc.items():
            if k in default and v == default[k]:
                continue
            out[k] = _strip_defaults(v, default.get(k)) if isinstance(v, dict) else v
        return out
    return doc


# -- errors --------------------------------------------------------------------

def describe_error(exc: BaseException) -> str:
    """Readable text for an error, for the page (never a traceback)."""
    if isinstance(exc, DataValidationError):
        return str(exc)
    return f"Something went wrong ({type(exc).__name__}: {exc}). The last good state is kept."


def guarded(n_outputs: int, message_at: int | None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a callback so that an exception never reaches the page.

    On error every output is left as it was (``no_update``) except the one at
    ``message_at``, which receives the error text; the traceback goes to the log.
    """

    def wrap(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def inner(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - the page must never show a traceback
                from dash.exceptions import PreventUpdate

                if isinstance(exc, PreventUpdate):
                    raise
                if not isinstance(exc, DataValidationError):
                    log.exception("callback %s failed", func.__name__)
                out: list[Any] = [no_update] * n_outputs
                if message_at is None:
                    raise PreventUpdate from None
                out[message_at] = error_message(exc)
                return out if n_outputs > 1 else out[0]

        return inner

    return wrap


def error_message(exc: BaseException):
    """An alert component listing an error's problems."""
    from dash import html

    if isinstance(exc, DataValidationError):
        n = len(exc.problems)
        items = [html.Li(str(p)) for p in exc.problems[:50]]
        if n > 50:
            items.append(html.Li(f"... and {n - 50} more"))
        return html.Div(
            [html.Strong(f"{n} problem{'s' if n != 1 else ''} in the input; nothing was changed."), html.Ul(items)],
            className="alert alert-error", role="alert",
        )
    return html.Div(describe_error(exc), className="alert alert-error", role="alert")


def info_message(text: str):
    from dash import html

    return html.Div(text, className="alert alert-info", role="status")


# -- formatting ----------------------------------------------------------------

def usd(x: float | None) -> str:
    """$1.23bn, $45.6M, $7.8k, $12."""
    if x is None or x != x:
        return "–"
    sign = "−" if x < 0 else ""
    x = abs(float(x))
    for unit, div in (("tn", 1e12), ("bn", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= div:
            return f"{sign}${x / div:,.{2 if x / div < 10 else 1}f}{unit}"
    return f"{sign}${x:,.0f}"


def pct(x: float | None, digits: int = 1) -> str:
    if x is None or x != x:
        return "–"
    return f"{100 * float(x):.{digits}f}%"
