"""Drive the dashboard's background callbacks over HTTP, as the browser's renderer does (no browser).

The renderer asks ``/_dash-update-component`` with the page's signed ``endId``;
the first answer carries the signed job handles (``cacheKey``, ``job``), and it
polls with them until the answer has a ``response``. Cancel is the cancel
button's own callback with ``cancelJob``.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import urlencode

from dashboard import ids, montecarlo, state

MC_DEFAULTS = {ids.MC_RUN: 1, ids.MC_RUNS: 300, ids.MC_SEED: 7, ids.MC_CONFIDENCE: 0.99, ids.MC_DIST: "normal",
               ids.MC_HORIZON: 1, ids.SCENARIO: {"name": "stress", "price_shocks": {"ETH": -0.4}},
               ids.NETWORK: state.network_store(None), ids.SW_RUN: 1, ids.SW_X: "collateral_multiplier",
               ids.SW_X_VALUES: "1:2:3", ids.SW_Y: None, ids.SW_Y_VALUES: "", ids.SW_RUNS: 0, ids.SW_METRIC: "bad_debt_usd"}


class PageClient:
    """One page load (its own ``endId``) against a Flask test client or a live server (``base_url``)."""

    def __init__(self, app=None, base_url: str | None = None):
        self.app = app
        if base_url:
            import requests

            self.http, self.base = requests.Session(), base_url.rstrip("/")
        else:
            self.http, self.base = app.server.test_client(), ""
        page = self._get("/")
        cfg = json.loads(re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>', page, re.S).group(1))
        self.end_id = cfg["end_id"]

    def _get(self, path: str) -> str:
        r = self.http.get(self.base + path)
        return r.text if hasattr(r, "text") and not callable(getattr(r, "get_data", None)) else r.get_data(as_text=True)

    def _post(self, args: list[tuple[str, str]], body: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        url = f"{self.base}/_dash-update-component?{urlencode([('endId', self.end_id), *args])}"
        r = self.http.post(url, data=json.dumps(body), headers={"Content-Type": "application/json"})
        status = r.status_code
        text = r.text if hasattr(r, "text") and not callable(getattr(r, "get_data", None)) else r.get_data(as_text=True)
        return status, (json.loads(text) if status == 200 and text else None)

    @staticmethod
    def body(output: str, inputs: list[tuple[str, str]], states: list[tuple[str, str]], values: dict[str, Any]) -> dict:
        outs = [dict(zip(("id", "property"), o.rsplit(".", 1))) for o in output.strip(".").split("...")]
        return {"output": output, "outputs": outs,
                "inputs": [{"id": i, "property": p, "value": values.get(i)} for i, p in inputs],
                "state": [{"id": i, "property": p, "value": values.get(i)} for i, p in states],
                "changedPropIds": [f"{inputs[0][0]}.{inputs[0][1]}"]}

    def start(self, kind: str = "mc", **values: Any) -> dict[str, Any]:
        """Press Run (``mc`` or ``sweep``): the job's handles."""
        cb = monte_carlo_callback(kind, self.app)
        vals = {**MC_DEFAULTS, **{getattr(ids, k.upper()): v for k, v in values.items()}}
        self._cb, self._body = cb, self.body(cb["output"], [(d["id"], d["property"]) for d in cb["inputs"]],
                                             [(d["id"], d["property"]) for d in cb["state"]], vals)
        status, data = self._post([], self._body)
        assert status == 200 and data and "job" in data, (status, data)
        return {"cacheKey": data["cacheKey"], "job": data["job"], "body": self._body}

    def poll(self, handle: dict[str, Any]) -> dict[str, Any]:
        status, data = self._post([("cacheKey", handle["cacheKey"]), ("job", handle["job"])], handle["body"])
        if status == 204:
            return {"response": None, "no_update": True}
        assert status == 200, status
        return data

    def wait(self, handle: dict[str, Any], timeout: float = 120.0, interval: float = 0.1) -> dict[str, Any]:
        """Poll until the job answers; its ``response`` (outputs by id)."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            data = self.poll(handle)
            if "response" in data and not data.get("no_update"):  # a 204 in between is not the answer
                return data
            time.sleep(interval)
        raise AssertionError(f"no answer in {timeout} s")

    def cancel(self, handle: dict[str, Any], kind: str = "mc") -> int:
        cancel_id = ids.MC_CANCEL if kind == "mc" else ids.SW_CANCEL
        body = {"output": f"{cancel_id}.id", "outputs": {"id": cancel_id, "property": "id"},
                "inputs": [{"id": cancel_id, "property": "n_clicks", "value": 1}], "state": [],
                "changedPropIds": [f"{cancel_id}.n_clicks"]}
        status, _ = self._post([("cancelJob", handle["job"])], body)
        return status


def monte_carlo_callback(kind: str = "mc", app=None) -> dict[str, Any]:
    """The callback_map entry (with its key as ``output``) of the Monte Carlo or sweep background callback."""
    if app is None:
        from dashboard.app import app

    first = ids.MC_RESULT if kind == "mc" else ids.SW_RESULT
    for key, cb in app.callback_map.items():
        if cb.get("background") and key.startswith(f"..{first}."):
            return {**cb, "output": key}
    raise LookupError(kind)


def status_text(data: dict[str, Any], kind: str = "mc") -> str:
    """The status line of an answer, as text."""
    status_id = ids.MC_STATUS if kind == "mc" else ids.SW_STATUS
    return json.dumps(data["response"][status_id]["children"], ensure_ascii=False)


__all__ = ["PageClient", "monte_carlo_callback", "status_text", "montecarlo"]
