"""Per-user state: what the stores hold, how it is read back, and the error guard.

Nothing here is mutable global state. The page keeps everything a user did in
``dcc.Store`` components and the URL:

* the network store holds ``{"source": "base"}`` for the server's read-only
  dataset, ``{"source": "snapshot", "name": ...}`` for another shipped snapshot
  (read-only too, :mod:`dashboard.snapshots`), or ``{"source": "upload", "name": ...,
  "z": <compressed network JSON>}`` for a network the user uploaded;
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
import os
import uuid
import zlib
from typing import Any, Callable
from urllib.parse import parse_qs

import flask
from dash import no_update

from core.formatting import pct, usd  # noqa: F401 - the panels import them from here
from core import datasets
from core.io import network_from_json_text
from core.network import Network
from core.scenario import Scenario, parse_scenario
from core.validation import DataValidationError, Problem

from . import limits

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
    return _process_network()


@functools.lru_cache(maxsize=1)
def _process_network() -> Network:
    """The network a worker outside any request serves: what the module-level app loads (:func:`load`)."""
    return load()[0]


#: Synthetic network shown when the shipped dataset is not on disk (a development checkout).
FALLBACK = dict(n_entities=60, n_exposures=200, seed=1)


def load(data: str | os.PathLike[str] | Network | None = None) -> tuple[Network, str]:
    """The network to serve, and a note for the page when it is not the one asked for.

    ``data`` (else ``$SFM_DATA_PATH``) is a shipped snapshot's name or a dataset folder
    or JSON file; without either, the newest shipped snapshot, or a small synthetic
    network when it is missing.
    """
    if isinstance(data, Network):
        return data, ""
    data = data or os.environ.get("SFM_DATA_PATH") or None
    if data is not None:
        return datasets.resolve(os.fspath(data)), ""
    if datasets.data_path(datasets.DEFAULT_DATASET).is_dir():
        return datasets.default(), ""
    log.warning("shipped dataset %s not found; serving a synthetic network", datasets.data_path(datasets.DEFAULT_DATASET))
    return datasets.synthetic(**FALLBACK), "The shipped dataset is not installed: this is a synthetic network."


def network_from_store(store: dict[str, Any] | None) -> Network:
    """The network a network-store value stands for.

    The store comes back from the browser with every request, so it is input like
    any other: its size is bounded (:func:`dashboard.limits.inflate`) and the network
    it holds must be one the page draws (:func:`dashboard.limits.check_network_size`).
    """
    if isinstance(store, dict) and store.get("source") == "snapshot":
        return snapshot_network(store.get("name"))
    if not store or not isinstance(store, dict) or store.get("source") != "upload":
        return base_network()
    packed = store.get("z")
    if isinstance(packed, str) and len(packed) <= limits.MAX_REQUEST_BYTES:
        return _unpack_network(packed)
    if isinstance(store.get("json"), str) and len(store["json"]) <= limits.MAX_STORE_JSON_BYTES:  # a page from before compression
        return _parse_network_json(store["json"])
    raise DataValidationError([Problem("the page's network store", None, None, None,
                                       "a network the page stored (reload the page, then upload the files again)")])


@functools.lru_cache(maxsize=8)
def _unpack_network(packed: str) -> Network:
    try:
        raw = base64.b64decode(packed, validate=True)
    except binascii.Error:
        raise DataValidationError([Problem("the page's network store", None, None, None,
                                           "a network the page stored (reload the page, then upload the files again)")]) from None
    return _parse_network_json(limits.inflate(raw, limits.MAX_STORE_JSON_BYTES, "the page's network store").decode("utf-8"))


@functools.lru_cache(maxsize=8)
def _parse_network_json(text: str) -> Network:
    limits.check_json_size(text, "uploaded network")
    network = network_from_json_text(text, file="uploaded network")
    limits.check_network_size(network, "uploaded network")
    return network


def snapshot_network(name: Any) -> Network:
    """The shipped snapshot ``name`` (read-only, shared); an unknown name is a validation error listing them."""
    if not isinstance(name, str) or name not in datasets.snapshot_names():
        shown = _clip(name) if isinstance(name, str) else type(name).__name__
        raise DataValidationError([Problem("snapshot", None, "snapshot", shown,
                                           "a shipped snapshot: " + ", ".join(datasets.snapshot_names()))])
    return datasets.load(name)


def snapshot_store(name: str) -> dict[str, Any]:
    """The network-store value of the shipped snapshot ``name``."""
    return {"source": "snapshot", "name": name}


def snapshot_of_store(store: Any) -> str | None:
    """The shipped snapshot a network store shows (the base network's, when it is one), None for an upload."""
    if isinstance(store, dict) and store.get("source") == "snapshot":
        return store.get("name") if store.get("name") in datasets.snapshot_names() else None
    if isinstance(store, dict) and store.get("source") == "upload":
        return None
    return datasets.snapshot_of(base_network())


def network_store(network: Network | None) -> dict[str, Any]:
    """The store value for a network (``None``: the base network).

    An uploaded network is kept as zlib-compressed JSON in base64: the browser sends the
    store back with every slider move, and the JSON (one provenance per row) compresses
    about 13 to 1 (4.1 MB to 0.31 MB for 1,000 entities and 10,000 exposures, the page's bounds).
    """
    if network is None:
        return {"source": "base"}
    text = network.to_json().encode("utf-8")
    if len(text) > limits.MAX_STORE_JSON_BYTES:  # rows within the bounds, but long texts: the page could not read it back
        raise limits.too_large(f"{network.name or 'network'} (as JSON)", len(text), limits.MAX_STORE_JSON_BYTES)
    packed = base64.b64encode(zlib.compress(text, 6)).decode("ascii")
    return {"source": "upload", "name": network.name, "z": packed}


# -- engine runs -----------------------------------------------------------------

def simulate(network: Network, scenario: Scenario):
    """Run the engine (memoised on the network object and the scenario's JSON), on :func:`dated`'s network."""
    return _simulate_cached(dated(network, scenario), scenario.model_dump_json())


def dated(network: Network, scenario: Scenario) -> Network:
    """The network a scenario runs on: a shipped snapshot with the parameters in force at the scenario's ``date``
    (its dated changes, :mod:`core.parameter_changes`), as the command line and :func:`core.simulate` run it
    (:func:`core.snapshots.dated`); a dated scenario on any other network (an upload) is refused with a
    validation error, not run on another network's figures nor on the wrong day's."""
    return datasets.dated(network, scenario.date)


@functools.lru_cache(maxsize=64)
def _simulate_cached(network: Network, scenario_json: str):
    from core.engine import simulate as run

    return run(network, Scenario.model_validate_json(scenario_json))


@functools.lru_cache(maxsize=8)
def systemic_importance(network: Network):
    from core import chunks, metrics

    # a request's memory counts against limits.REQUEST_MEMORY_BUDGET_MB: freed arrays go back to the kernel,
    # not kept for the next round (core.chunks.leave_heap_lean; ~235 MB at the page's bounds, 380-500 MB kept)
    chunks.leave_heap_lean()
    return metrics.systemic_importance(network)


# -- the URL -------------------------------------------------------------------

def encode_scenario(scenario: dict[str, Any]) -> str:
    """Compact, URL-safe text for a scenario: only the fields that differ from the defaults."""
    doc = _strip_defaults(scenario, Scenario().model_dump())
    raw = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def decode_scenario(text: str) -> Scenario:
    """Inverse of :func:`encode_scenario`; raises DataValidationError on anything malformed.

    The text is at most :data:`~dashboard.limits.MAX_LINK_CHARS` long and is inflated by a
    bounded decompressor: a link that would expand past
    :data:`~dashboard.limits.MAX_SCENARIO_BYTES` is refused after that many bytes.
    """
    if len(text) > limits.MAX_LINK_CHARS:
        raise limits.too_large("link", len(text), limits.MAX_LINK_CHARS, "s")
    try:
        packed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        packed = None
    if not packed:
        raise DataValidationError([Problem("link", None, "s", _clip(text), "a scenario encoded by sfm (base64url text)")])
    raw = limits.inflate(packed, limits.MAX_SCENARIO_BYTES, "link", "s")
    try:
        doc = json.loads(raw)
    except ValueError:
        raise DataValidationError([Problem("link", None, "s", _clip(text), "a scenario encoded by sfm (compressed JSON)")]) from None
    return parse_scenario(doc, file="link")


#: The parameters of a link (each at most once).
LINK_PARAMETERS = ("s", "cmp", "r", "e", "snapshot", "p", "preset")


def parse_query(search: str | None) -> dict[str, Any]:
    """Read ``?snapshot=<name>&p=<preset>&s=<scenario>&cmp=1&r=<round>&e=<entity>`` into a dict (missing keys absent).

    ``snapshot`` is a shipped snapshot's name (key ``snapshot``); ``p`` (or ``preset``) a preset's key
    (key ``preset``, and its scenario under ``scenario`` unless ``s`` gives one).

    Raises DataValidationError naming each bad parameter and its value; unknown
    parameters (a tracker's ``utm_source``, say) are ignored.
    """
    try:
        q = parse_qs((search or "").lstrip("?"), max_num_fields=20)
    except ValueError:
        raise DataValidationError([Problem("link", None, None, "more than 20 parameters", "a link made by sfm (?s=…&cmp=1&r=…&e=…)")]) from None
    problems = [Problem("link", None, k, f"{len(v)} values", "one value") for k, v in q.items() if k in LINK_PARAMETERS and len(v) > 1]
    out: dict[str, Any] = {}
    if q.get("cmp"):
        if q["cmp"][0] not in ("0", "1"):
            problems.append(Problem("link", None, "cmp", _clip(q["cmp"][0]), "0 or 1"))
        out["compare"] = q["cmp"][0] == "1"
    if q.get("r"):
        r = q["r"][0]
        if not (r.isascii() and r.isdigit() and len(r) <= 6):
            problems.append(Problem("link", None, "r", _clip(r), "a round number (a whole number from 0)"))
        else:
            out["round"] = int(r)
    if q.get("e"):
        if len(q["e"][0]) > 200:
            problems.append(Problem("link", None, "e", _clip(q["e"][0]), "an entity id (at most 200 characters)"))
        out["entity"] = q["e"][0]
    if q.get("snapshot"):
        if q["snapshot"][0] not in datasets.snapshot_names():
            problems.append(Problem("link", None, "snapshot", _clip(q["snapshot"][0]),
                                    "a shipped snapshot: " + ", ".join(datasets.snapshot_names())))
        else:
            out["snapshot"] = q["snapshot"][0]
    if q.get("s"):
        try:
            out["scenario"] = decode_scenario(q["s"][0])
        except DataValidationError as exc:
            problems += exc.problems
    key = "p" if q.get("p") else "preset" if q.get("preset") else None  # ``preset=`` reads as ``p=``
    if key:
        from .scenarios import presets  # the menu's presets (a broken file is left out there, not raised)

        shipped = presets()
        if q[key][0] not in shipped:
            problems.append(Problem("link", None, key, _clip(q[key][0]), "a preset: " + ", ".join(shipped)))
        else:
            out["preset"] = q[key][0]
            out.setdefault("scenario", shipped[q[key][0]])
    if problems:
        raise DataValidationError(problems)
    return out


def link_snapshot(search: str | None) -> str | None:
    """The shipped snapshot a link names (``?snapshot=``), None when it names none or an unknown one.

    Read on its own, so a link whose other parameters are bad still opens its snapshot
    (:func:`parse_query` reports those).
    """
    try:
        values = parse_qs((search or "").lstrip("?"), max_num_fields=20).get("snapshot", [])
    except ValueError:
        return None
    return values[0] if len(values) == 1 and values[0] in datasets.snapshot_names() else None


def _clip(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[:n] + "…"


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

#: What the page says when the server fails (the details go to the server log, never to the page).
SERVER_ERROR = ("The server could not finish this request, and nothing on the page was changed. Try again; "
                "if it happens again, reload the page. If it persists, report reference {ref} (the details are in the server log).")


def describe_error(exc: BaseException) -> str:
    """Readable text for an error, for the page: a validation error's problems, else a plain message.

    Anything but a :class:`DataValidationError` is a fault of the server, not of the
    input: the page gets :data:`SERVER_ERROR` with a short reference, and the log gets
    the exception and its traceback under that reference (never the page: an exception's
    text can hold paths, values and internals).
    """
    if isinstance(exc, DataValidationError):
        return str(exc)
    ref = uuid.uuid4().hex[:8]
    log.error("request failed (reference %s): %s: %s", ref, type(exc).__name__, exc, exc_info=(type(exc), exc, exc.__traceback__))
    return SERVER_ERROR.format(ref=ref)


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
                if message_at is None:
                    describe_error(exc)  # logs it
                    raise PreventUpdate from None
                out: list[Any] = [no_update] * n_outputs
                out[message_at] = error_message(exc)
                return out if n_outputs > 1 else out[0]

        return inner

    return wrap


def error_message(exc: BaseException):
    """An alert component listing an error's problems (or, for a server fault, the plain :data:`SERVER_ERROR`)."""
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
