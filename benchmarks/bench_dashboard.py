"""First-load time, bytes and update cost of the dashboard in headless Chromium.

Starts the module's app (``dashboard.app.server``, ``debug=False``, Werkzeug's
threaded server as in the browser tests) in a subprocess on a free port of
127.0.0.1, then with Playwright and Debian's ``/usr/bin/chromium`` (headless,
the tests' flags, 1366 × 768) makes ``--loads`` fresh page loads, each in a new
browser context (an empty HTTP cache), after one warm-up load that fills the
server's caches (the engine's results, the first page's layout). It prints medians (and min–max) of:

* **usable**: ms from navigation start (``performance.timeOrigin``) until the
  page can be used: all of these hold (checked in an animation-frame callback on
  every frame, i.e. on what that frame paints):

  - the Cytoscape graph holds one node per entity and its renderer has drawn
    them (``redrawCount > 0``, no frame requested);
  - every chart of the open side tab (scrolled into view or not) is on screen:
    drawn by plotly.js (an SVG with a drawn trace per trace of its figure), or
    still the static picture of the first paint (``dashboard/chart_svg.py``;
    loaded, decoded and displayed);
  - the headline figures and the round label are on the page;
  - no Dash callback is pending (the renderer's callback queues are empty, and
    no element carries ``data-dash-is-loading=true``).

  Also printed: when the graph was drawn, when the charts were all on screen,
  and when plotly.js had drawn every chart live (the page's work is done then).

* **bytes**: Resource Timing's ``transferSize`` (headers included; responses
  are not compressed) and decoded sizes of what was fetched until usable, and
  until the live charts.
* **main-thread work** until live charts (CDP ``Performance.getMetrics``:
  script and task durations).
* **update**: one slider change per load (ETH price to a new value each time,
  so the server's result cache never answers): the server time of the run
  callback (measured around the WSGI call in the server process and sent back
  in a ``Server-Timing`` header), its response and request sizes, and the time
  from the slider's commit until graph and charts show the new run with no
  callback pending.

* **label overlaps** at 1366 × 768 and 1920 × 1080, the calm network and each preset scenario: pairs of node
  labels whose boxes (Cytoscape's own bounding boxes of the drawn labels) overlap, how many labels are drawn, and
  the smallest label's size on screen (px).

* **bare reference**: the same fresh loads, interleaved with the dashboard's in the same run (so both see the same load
  on the machine), of a blank Dash page served the same way (``--serve-blank``: one ``html.Div``, the renderer and
  Dash's own component bundles only): ms until its text is in a painted frame. The dashboard's time over this one
  is what the dashboard itself costs.

``--breakdown`` also takes a CPU profile of one more load and prints the
main thread's self time per script file until the live charts are drawn.

``--dataset NAME`` serves a shipped snapshot (``core.datasets.load``; default: the default dataset); the label
overlaps are then measured on the calm network and on each preset scenario that applies to that snapshot.

``--compare-with DIR`` also serves the dashboard of another checkout (its own code and assets: the main branch,
say) and loads it in turn with this one, so that a before/after comparison sees the same load on the machine.

Run: ``python benchmarks/bench_dashboard.py [--dataset crypto-2025-10] [--loads 7] [--breakdown] [--compare-with DIR] [--no-labels]``
(no assertions; speed is proven here, never in a test).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
]
VIEWPORT = {"width": 1366, "height": 768}
UPDATE_PATH = "/_dash-update-component"

# In-page probe, installed before any script of the page runs: checks "usable" on every animation frame.
PROBE = r"""
(() => {
  const N = __N__;
  const out = window.__sfmBench = {usable: null, graph: null, charts: null, live: null};
  function pending() {
    const s = window.store && window.store.getState ? window.store.getState() : null;
    if (!s || !s.callbacks) return true;
    for (const [k, v] of Object.entries(s.callbacks)) {
      if (k !== "stored" && k !== "completed" && v && v.length) return true;
    }
    return !!document.querySelector('[data-dash-is-loading="true"], ._dash-loading');
  }
  function graphDrawn() {
    const el = document.getElementById("graph");
    const cy = el && el._cyreg && el._cyreg.cy;
    if (!cy || cy.nodes().not('.sector, .asset').length !== N) return false;
    const r = cy.renderer();
    return !!r && r.redrawCount > 0 && !r.requestedFrame;
  }
  function liveDrawn(holder) {
    const gd = holder.querySelector(".js-plotly-plot");
    if (!gd || !gd._fullLayout || !gd.querySelector(".main-svg")) return false;
    const want = (gd.data || []).filter(t => t.visible !== false).length;
    return gd.querySelectorAll(".cartesianlayer .trace").length >= want;
  }
  function pictureShown(holder) {
    const img = holder.querySelector("img.chart-static");
    return !!img && img.getClientRects().length > 0 && img.complete && img.naturalWidth > 0;
  }
  // the charts of the open side tab (scrolled into view or not): a chart box, or a dcc.Graph outside one
  function charts() {
    return Array.from(document.querySelectorAll(".chart-box, .dash-graph"))
      .filter(h => !(h.classList.contains("dash-graph") && h.closest(".chart-box")) && h.getClientRects().length);
  }
  function chartsDrawn() {  // each drawn by plotly.js, or still its static picture (first paint)
    const shown = charts();
    return shown.length > 0 && shown.every(h => liveDrawn(h) || pictureShown(h));
  }
  function liveChartsDrawn() {
    const shown = charts();
    return shown.length > 0 && shown.every(liveDrawn);
  }
  window.__sfmUsable = function () {
    return !!document.querySelector("#headline .kpi") && /\bof\b/.test((document.getElementById("round-label") || {}).textContent || "")
      && graphDrawn() && chartsDrawn() && !pending();
  };
  // rAF callbacks run just before the frame is painted: a condition seen in one is on screen in that frame
  function mark(key, ok, t) {
    if (out[key] === null && ok) out[key] = t;
  }
  function tick() {
    const t = performance.now();
    mark("graph", graphDrawn(), t);
    mark("charts", chartsDrawn(), t);
    mark("live", liveChartsDrawn(), t);
    mark("usable", window.__sfmUsable(), t);
    if (out.usable === null || out.live === null) requestAnimationFrame(tick);
  }
  requestAnimationFrame(tick);
})();
"""


# Everything the page fetched so far (document first): Resource Timing, with the Server-Timing the server added.
RESOURCES = r"""() => performance.getEntriesByType("navigation").concat(performance.getEntriesByType("resource")).map(e => ({
  url: e.name, transfer: e.transferSize, body: e.decodedBodySize, end: e.responseEnd,
  server_ms: (e.serverTiming || []).filter(t => t.name === "app").map(t => t.duration)[0] ?? NaN}))"""


# -- the server (a subprocess) ------------------------------------------------------------

def serve() -> None:
    """Subprocess body: serve ``dashboard.app.server`` on a free port and print the port."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DASH_DISABLE_VERSION_CHECK", "true")
    import logging

    from werkzeug.serving import make_server

    from dashboard.app import server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request

    def timed(environ, start_response):  # every response says how long the app took (Server-Timing)
        t0 = time.perf_counter()

        def start(status, headers, exc_info=None):
            headers = list(headers) + [("Server-Timing", f"app;dur={1000 * (time.perf_counter() - t0):.2f}")]
            return start_response(status, headers, exc_info)

        return server(environ, start)

    srv = make_server("127.0.0.1", 0, timed, threaded=True)
    print(f"PORT {srv.server_port}", flush=True)
    srv.serve_forever()


def serve_blank() -> None:
    """Subprocess body: serve a blank Dash page (the bare reference) the same way, and print the port."""
    os.environ.setdefault("DASH_DISABLE_VERSION_CHECK", "true")
    import logging

    from dash import Dash, html
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    blank = Dash(__name__, serve_locally=True, assets_folder=str(ROOT / "benchmarks" / "no-assets"))
    blank.layout = html.Div("blank page", id="blank-ready")
    srv = make_server("127.0.0.1", 0, blank.server, threaded=True)
    print(f"PORT {srv.server_port}", flush=True)
    srv.serve_forever()


def start_server(data_path: str | None = None, flag: str = "--serve", root: Path = ROOT) -> tuple[subprocess.Popen, str]:
    """Serve the dashboard of the checkout at ``root`` (its own code and assets) in a subprocess; its URL."""
    env = {**os.environ, **({"SFM_DATA_PATH": data_path} if data_path else {}), "PYTHONPATH": str(root)}
    proc = subprocess.Popen([sys.executable, str(root / "benchmarks" / "bench_dashboard.py"), flag], cwd=root,
                            stdout=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        raise SystemExit(f"the dashboard did not start: {line!r}")
    return proc, f"http://127.0.0.1:{int(line.split()[1])}/"


# -- one page load ------------------------------------------------------------------------

def load_once(browser, url: str, n: int, update_value: float | None, profile: bool = False) -> dict:
    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    run_posts: list[int] = []  # request bodies of the run callback (Resource Timing has no request sizes)
    page.on("request", lambda r: run_posts.append(len(r.post_data_buffer)) if urlsplit(r.url).path == UPDATE_PATH
            and b"frames-store.data" in (r.post_data_buffer or b"") else None)
    cdp = ctx.new_cdp_session(page)  # main-thread metrics and the optional CPU profile only: no network listener
    cdp.send("Performance.enable")
    page.add_init_script(PROBE.replace("__N__", str(n)))
    if profile:
        cdp.send("Profiler.enable")
        cdp.send("Profiler.setSamplingInterval", {"interval": 250})
        cdp.send("Profiler.start")
    page.goto(url, wait_until="commit")
    page.wait_for_function("() => window.__sfmBench && window.__sfmBench.usable !== null && window.__sfmBench.live !== null",
                           timeout=60000, polling=50)
    marks = page.evaluate("() => window.__sfmBench")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    loaded = page.evaluate(RESOURCES)
    layout = [r for r in loaded if urlsplit(r["url"]).path == "/_dash-layout"]
    out = {"usable": marks["usable"], "graph_ms": marks["graph"], "charts_ms": marks["charts"], "live_ms": marks["live"],
           "wire": sum(r["transfer"] for r in loaded if r["end"] <= marks["usable"]),
           "decoded": sum(r["body"] for r in loaded if r["end"] <= marks["usable"]),
           "requests": sum(1 for r in loaded if r["end"] <= marks["usable"]),
           "wire_all": sum(r["transfer"] for r in loaded), "requests_all": len(loaded),
           "layout_server_ms": layout[0]["server_ms"] if layout else float("nan"),
           "script_ms": 1000 * metrics.get("ScriptDuration", 0), "task_ms": 1000 * metrics.get("TaskDuration", 0), "errors": errors}
    if profile:
        out["profile"] = self_time_by_script(cdp.send("Profiler.stop")["profile"])
    if update_value is not None:
        out.update(update_once(page, update_value))
        calls = [r for r in page.evaluate(RESOURCES)[len(loaded):] if urlsplit(r["url"]).path == UPDATE_PATH]
        out.update(update_traffic(calls, run_posts[-1] if run_posts else 0))
    ctx.close()
    return out


BLANK_PROBE = r"""
(() => {
  const out = window.__sfmBench = {usable: null};
  function tick() {
    if (document.getElementById("blank-ready")) { out.usable = performance.now(); return; }
    requestAnimationFrame(tick);
  }
  requestAnimationFrame(tick);
})();
"""


def load_blank(browser, url: str) -> dict:
    """One fresh load of the blank Dash page: ms until its text is in a painted frame, and the bytes fetched."""
    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    page.add_init_script(BLANK_PROBE)
    page.goto(url, wait_until="commit")
    page.wait_for_function("() => window.__sfmBench && window.__sfmBench.usable !== null", timeout=60000, polling=50)
    usable = page.evaluate("() => window.__sfmBench.usable")
    loaded = page.evaluate(RESOURCES)
    ctx.close()
    return {"blank_ms": usable, "blank_wire": sum(r["transfer"] for r in loaded if r["end"] <= usable)}


def update_once(page, value: float) -> dict:
    """Move the ETH price slider to ``value`` %; ms from the slider's commit until the new run is drawn."""
    box = page.locator("#wrap-price-ETH input[type=number]")
    box.fill(str(value))
    t0 = page.evaluate("() => { window.__sfmBefore = document.querySelector('#chart-prices .js-plotly-plot').data; return performance.now(); }")
    box.press("Tab")  # the Dash 4 slider commits its number box on blur
    # the new run is on screen: the prices chart has new data (the ETH line) and everything is drawn, nothing pending
    page.wait_for_function(
        """() => { const g = document.querySelector('#chart-prices .js-plotly-plot');
            return g && g.data !== window.__sfmBefore && g.data.length && g.data[0].name === 'ETH' && window.__sfmUsable(); }""",
        timeout=30000, polling="raf")
    return {"update_page_ms": page.evaluate("() => performance.now()") - t0}


def update_traffic(calls: list[dict], run_request_bytes: int) -> dict:
    """Server time and sizes of the callbacks one slider change set off, and of the run callback among them."""
    out = {"update_callbacks": len(calls), "update_all_server_ms": sum(c["server_ms"] for c in calls),
           "update_all_response_bytes": sum(c["body"] for c in calls)}
    run = max(calls, key=lambda c: c["body"], default=None)  # the run (cascade.on_controls) returns the most
    if run is not None:
        out |= {"update_server_ms": run["server_ms"], "update_response_bytes": run["body"], "update_request_bytes": run_request_bytes}
    return out


# -- label overlaps ----------------------------------------------------------------------------

#: The page-side measure of label overlaps, shared with the browser tests.
LABELS = (Path(__file__).resolve().parents[1] / "tests" / "js" / "label_overlaps.js").read_text()
SIZES = ((1366, 768), (1920, 1080))


def label_overlaps(browser, url: str, n: int, queries: dict[str, str]) -> list[tuple[str, tuple[int, int], dict]]:
    """Label overlaps (pairs), labels drawn and the smallest label (px) per view and window size."""
    out = []
    for size in SIZES:
        ctx = browser.new_context(viewport={"width": size[0], "height": size[1]})
        page = ctx.new_page()
        for name, query in queries.items():
            page.goto(url + query)
            page.wait_for_function(f"() => document.getElementById('graph')?._cyreg?.cy?.nodes().not('.sector, .asset').length === {n}",
                                   timeout=30000)
            page.evaluate("() => { window.__sfmZoom = {z: null, since: 0}; }")
            page.wait_for_function("""() => { const cy = document.getElementById('graph')._cyreg.cy, w = window.__sfmZoom,
                now = performance.now(), z = cy.zoom(), box = document.querySelector('.graph-canvas').getBoundingClientRect();
                const bb = cy.elements().boundingBox(), fit = Math.min((cy.width() - 48) / bb.w, (cy.height() - 48) / bb.h);
                if (z !== w.z || Math.abs(cy.height() - box.height) > 2 || Math.abs(cy.width() - box.width) > 2 || Math.abs(z - fit) > 0.01 * fit) { w.z = z; w.since = now; return false; }
                return now - w.since > 500; }""", timeout=30000)  # refitted once the box has its final size
            out.append((name, size, page.evaluate(LABELS)))
        ctx.close()
    return out


# -- where the main thread's time goes ---------------------------------------------------------

def self_time_by_script(profile: dict) -> list[tuple[str, float]]:
    """CPU profile -> self time (ms) per script file; V8's own entries ("(program)": parsing, compiling,
    layout and paint outside JS; "(garbage collector)") by name; idle time left out."""
    nodes = {nd["id"]: nd for nd in profile["nodes"]}
    per: dict[str, float] = defaultdict(float)
    for node_id, dt in zip(profile["samples"], profile["timeDeltas"]):
        frame = nodes[node_id]["callFrame"]
        url = frame.get("url") or ""
        key = url.split("?")[0].rsplit("/", 1)[-1].split(".v")[0] if url else frame.get("functionName") or "(anonymous)"
        per[key] += dt / 1000
    per.pop("(idle)", None)
    return sorted(per.items(), key=lambda kv: -kv[1])


# -- report ----------------------------------------------------------------------------------

def med(rows: list[dict], key: str) -> str:
    xs = [r[key] for r in rows if key in r]
    if not xs:
        return "n/a"
    return f"{statistics.median(xs):,.0f}  (min {min(xs):,.0f}, max {max(xs):,.0f})"


def applies(scenario, network) -> bool:
    """Whether a preset names only assets and entities of ``network`` (the page refuses it otherwise)."""
    from core.validation import DataValidationError

    try:
        scenario.check_against(network)
    except DataValidationError:  # a preset of another snapshot
        return False
    return True


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--loads", type=int, default=7, help="fresh page loads measured (after one warm-up)")
    p.add_argument("--breakdown", action="store_true", help="profile one more load and print main-thread time per script")
    p.add_argument("--dataset", default=None, help="a shipped snapshot to serve (core.datasets.available()); default: the default one")
    p.add_argument("--compare-with", type=Path, default=None, metavar="DIR",
                   help="another checkout of sfm (e.g. the main branch): its dashboard is loaded too, in turn with this one")
    p.add_argument("--no-labels", action="store_true", help="leave out the label measure (quicker, for load times only)")
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--serve-blank", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.serve:
        serve()
        return
    if a.serve_blank:
        serve_blank()
        return

    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT))
    import core

    if a.dataset:
        try:
            network = core.datasets.load(a.dataset)
        except KeyError as exc:
            print(f"bench_dashboard: --dataset: {exc.args[0]}", file=sys.stderr)
            raise SystemExit(2) from None
        data_path = str(core.datasets.data_path(a.dataset))
    else:
        network = core.datasets.default() if core.datasets.data_path(core.datasets.DEFAULT_DATASET).is_dir() else None
        data_path = None
    n = network.n_entities if network is not None else 60
    load = os.getloadavg()  # the machine may be busy with something else: say so beside the figures
    proc, url = start_server(data_path)
    blank_proc, blank_url = start_server(None, "--serve-blank")
    other_proc, other_url = start_server(data_path, root=a.compare_with.resolve()) if a.compare_with else (None, None)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            load_once(browser, url, n, -50.0)  # warm-up: server caches, first layout
            load_blank(browser, blank_url)
            if other_url:
                load_once(browser, other_url, n, -50.0)
            rows, others = [], []
            for k in range(a.loads):  # the dashboard and the bare reference in turn: the same load on the machine
                rows.append(load_once(browser, url, n, -60.0 - k) | load_blank(browser, blank_url))
                if other_url:
                    others.append(load_once(browser, other_url, n, -60.0 - k))
            profiled = load_once(browser, url, n, None, profile=True)["profile"] if a.breakdown else []
            from dashboard import scenarios
            from dashboard.state import encode_scenario

            views = {"calm": ""} | {k: "?s=" + encode_scenario(sc.model_dump(mode="json")) for k, sc in scenarios.presets().items()
                                    if network is None or applies(sc, network)}
            overlaps = [] if a.no_labels else label_overlaps(browser, url, n, views)
            browser.close()
    finally:
        for pr in (proc, blank_proc, other_proc):
            if pr is None:
                continue
            pr.terminate()
            pr.wait(timeout=10)

    print(f"sfm dashboard, {network.name if network is not None else 'synthetic'}, {n} entities; {a.loads} fresh loads in headless Chromium ({VIEWPORT['width']}x{VIEWPORT['height']}), "
          f"median (min, max); load average {load[0]:.2f} before, {os.getloadavg()[0]:.2f} after ({os.cpu_count()} cores)")
    print(f"  first load until usable (ms):        {med(rows, 'usable')}")
    print(f"  bare reference, blank Dash page (ms): {med(rows, 'blank_ms')}  ({med(rows, 'blank_wire')} bytes)")
    ratios = [r["usable"] / r["blank_ms"] for r in rows if r.get("blank_ms")]
    if ratios:
        print(f"  first load / bare reference:         {statistics.median(ratios):.2f}  (min {min(ratios):.2f}, max {max(ratios):.2f})")
    if others:
        print(f"  the other checkout ({a.compare_with}), loaded in turn:")
        print(f"    first load until usable (ms):      {med(others, 'usable')}")
        print(f"    bytes transferred until usable:    {med(others, 'wire')}")
        print(f"    main-thread script time (ms):      {med(others, 'script_ms')}")
        ratios = [r["usable"] / o["usable"] for r, o in zip(rows, others)]
        print(f"    this one / the other, first load:  {statistics.median(ratios):.2f}  (min {min(ratios):.2f}, max {max(ratios):.2f})")
    print(f"    of which graph drawn at (ms):      {med(rows, 'graph_ms')}")
    print(f"    charts of the open tab shown at:   {med(rows, 'charts_ms')}  (as static pictures or live)")
    print(f"  live charts drawn (plotly.js) (ms):  {med(rows, 'live_ms')}")
    print(f"  layout request, server time (ms):    {med(rows, 'layout_server_ms')}")
    print(f"  bytes transferred until usable:      {med(rows, 'wire')}  in {med(rows, 'requests')} requests")
    print(f"  bytes decoded until usable:          {med(rows, 'decoded')}")
    print(f"  bytes transferred until live charts: {med(rows, 'wire_all')}  in {med(rows, 'requests_all')} requests")
    print(f"  main-thread script time (ms):        {med(rows, 'script_ms')}")
    print(f"  main-thread task time (ms):          {med(rows, 'task_ms')}")
    print("one slider change (ETH price) per load:")
    print(f"  run callback, server time (ms):      {med(rows, 'update_server_ms')}")
    print(f"  run callback, response bytes:        {med(rows, 'update_response_bytes')}")
    print(f"  run callback, request bytes:         {med(rows, 'update_request_bytes')}")
    print(f"  all callbacks it sets off:           {med(rows, 'update_callbacks')} requests, "
          f"server {med(rows, 'update_all_server_ms')} ms, responses {med(rows, 'update_all_response_bytes')} bytes")
    print(f"  slider commit until redrawn (ms):    {med(rows, 'update_page_ms')}")
    print("graph labels (pairs of overlapping labels; labels drawn of entities; smallest label on screen):")
    for size in SIZES:
        at = [o for o in overlaps if o[1] == size]
        print(f"  {size[0]}x{size[1]}: overlaps {sum(o[2]['overlaps'] for o in at)} in {len(at)} views; "
              + "; ".join(f"{name} {o['overlaps']} ({o['entityLabels']}/{o['entities']}, {o['minFontPx']:.1f} px)" for name, _, o in at))
    errors = sorted({e for r in rows for e in r["errors"]})
    print(f"console errors: {len(errors)}" + "".join(f"\n  {e}" for e in errors))
    if profiled:
        print("where the main thread's time went in one more load (CPU profile, self time until the live charts, ms):")
        for name, ms in profiled[:14]:
            print(f"  {ms:8.0f}  {name}")


if __name__ == "__main__":
    main()
