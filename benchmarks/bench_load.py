"""Load benchmark: 20 analysts against ``gunicorn -w 4 dashboard.app:server`` on 127.0.0.1, then the oversized inputs.

What it does (everything on the loopback address, on a free port; nothing else is contacted):

1. starts gunicorn (``-w 4`` by default) with this checkout on ``PYTHONPATH`` and waits for it;
2. **analysts**: N concurrent simulated analysts (asyncio, one connection per request, as
   gunicorn's sync workers close each one). Each loads the page (``/``, ``/_dash-layout``,
   ``/_dash-dependencies``), opens the Critical-nodes tab once, then moves the ETH price
   slider M times: each move is the run callback's POST to ``/_dash-update-component``, with
   the body the renderer sends, built from the served layout and dependencies (the same
   ``output``/``outputs``/``inputs``/``state``/``changedPropIds`` fields). Think time between
   moves 0.1-0.5 s. Bounded in count (M moves each) and time (``--duration``);
3. **oversized inputs**: with the analysts running again, each case of :data:`CASES` is sent
   ``--parallel`` times at once (default 4, one per worker). The RSS of every gunicorn
   worker is sampled from ``/proc/<pid>/status`` every 20 ms; for each case the script prints
   how the server answered and the largest rise of one worker's RSS over its level when the
   case started.

Prints throughput, p50/p95/p99 latency and errors per request kind, and the memory table.
``--limits``: instead, the figures behind the page's bounds (:mod:`dashboard.limits`): for networks
of 250 to 2,000 entities, the network store's size, the run callback's answer, and the peak RSS
rise and CPU time of one Critical-nodes ranking, each in a fresh process.
``--quick``: 4 analysts x 5 moves, 2 at once per case, the 100 MB bodies cut to 40 MB.
``--code DIR``: serve another checkout (e.g. the main branch, for a before/after in one run).

    python benchmarks/bench_load.py [--quick] [--analysts 20] [--moves 15] [--workers 4] [--duration 120]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import socket
import statistics
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # never any other address


# -- a minimal HTTP/1.1 client on asyncio streams -------------------------------------------

async def http(port: int, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
               timeout: float = 120.0) -> tuple[int, dict[str, str], bytes, float]:
    """One request on its own connection: (status, headers, body, seconds). Status 0: no answer."""
    t0 = time.perf_counter()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), timeout)
        head = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}", "Connection: close", f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in (headers or {}).items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await asyncio.wait_for(writer.drain(), timeout)
        raw = await asyncio.wait_for(reader.read(), timeout)
        writer.close()
    except (OSError, asyncio.TimeoutError):
        return 0, {}, b"", time.perf_counter() - t0
    top, _, payload = raw.partition(b"\r\n\r\n")
    lines = top.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
    hdrs = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    if hdrs.get("transfer-encoding") == "chunked":
        payload = _unchunk(payload)
    return status, hdrs, payload, time.perf_counter() - t0


def _unchunk(data: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(data):
        j = data.index(b"\r\n", i)
        n = int(data[i:j].split(b";")[0], 16)
        if n == 0:
            break
        out += data[j + 2 : j + 2 + n]
        i = j + 2 + n + 2
    return bytes(out)


# -- the page: callback bodies built from the served layout and dependencies ---------------------

class Page:
    """The renderer's request bodies for the page's callbacks, from ``/_dash-layout`` and ``/_dash-dependencies``."""

    def __init__(self, layout: dict[str, Any], deps: list[dict[str, Any]]):
        self.props: dict[str, dict[str, Any]] = {}
        self._walk(layout)
        self.deps = deps

    def _walk(self, node: Any) -> None:
        if isinstance(node, list):
            for n in node:
                self._walk(n)
        elif isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict):
                if "id" in props:
                    self.props[self._key(props["id"])] = props
                for v in props.values():
                    self._walk(v)

    @staticmethod
    def _key(id_: Any) -> str:
        return json.dumps(id_, sort_keys=True, separators=(",", ":")) if isinstance(id_, dict) else str(id_)

    def dep(self, output_has: str, input_has: str | None = None) -> dict[str, Any]:
        for d in self.deps:
            if d.get("clientside_function") is None and output_has in d["output"] and (
                    input_has is None or any(i["id"] + "." + i["property"] == input_has for i in d["inputs"])):
                return d
        raise LookupError(output_has)

    def _resolve(self, spec: dict[str, str], overrides: dict[str, Any]) -> Any:
        prop = spec["property"].split("@")[0]
        if spec["id"].startswith("{"):  # a pattern: every component whose id matches
            pattern = json.loads(spec["id"])
            items = []
            for key, props in self.props.items():
                if key.startswith("{"):
                    cid = json.loads(key)
                    if set(cid) == set(pattern) and all(v == ["ALL"] or cid[k] == v for k, v in pattern.items()):
                        full = f"{key}.{prop}"
                        items.append({"id": cid, "property": prop, "value": overrides.get(full, props.get(prop) if prop != "id" else cid)})
            return items
        full = f"{spec['id']}.{prop}"
        return {"id": spec["id"], "property": prop, "value": overrides.get(full, self.props.get(spec["id"], {}).get(prop))}

    def body(self, dep: dict[str, Any], overrides: dict[str, Any], changed: list[str]) -> bytes:
        outs = dep["output"].strip(".").split("...") if dep["output"].startswith("..") else [dep["output"]]
        outputs = []
        for o in outs:
            if o.startswith("{"):
                cid, _, prop = o.rpartition("}.")
                outputs.append(self._resolve({"id": cid + "}", "property": prop}, {}))
            else:
                cid, _, prop = o.rpartition(".")
                outputs.append({"id": cid, "property": prop.split("@")[0]})
        doc = {
            "output": dep["output"],
            "outputs": outputs if dep["output"].startswith("..") else outputs[0],
            "inputs": [self._resolve(i, overrides) for i in dep["inputs"]],
            "changedPropIds": changed,
            "state": [self._resolve(s, overrides) for s in dep.get("state", [])],
        }
        return json.dumps(doc, separators=(",", ":")).encode()


def run_body(page: Page, eth: float) -> bytes:
    key = page._key({"asset": "ETH", "type": "shock-price"}) + ".value"
    return page.body(page.dep("scenario-store.data", None), {key: eth}, [key])


def critical_body(page: Page, store: dict[str, Any] | None = None) -> bytes:
    over = {"side-tabs.value": "critical"} | ({"network-store.data": store} if store else {})
    return page.body(page.dep("critical-table.data"), over, ["side-tabs.value"])


def upload_body(page: Page, contents: list[str], names: list[str]) -> bytes:
    dep = page.dep("network-store.data", "data-upload.contents")
    return page.body(dep, {"data-upload.contents": contents, "data-upload.filename": names}, ["data-upload.contents"])


def link_body(page: Page, link: str) -> bytes:
    dep = page.dep("message.children", "link.data")
    return page.body(dep, {"link.data": link}, ["link.data"])


# -- the server and its workers' memory ---------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(code: Path, workers: int, port: int, timeout: int, folder: Path) -> subprocess.Popen:
    """gunicorn on 127.0.0.1 with a job store of its own in ``folder`` (not the host's shared default); log in folder/server.log."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    env = {**os.environ, "PYTHONPATH": str(code), "SFM_CACHE_DIR": str(folder / "jobs")}
    log = open(folder / "server.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([str(gunicorn), "-w", str(workers), "-b", f"{HOST}:{port}", "--timeout", str(timeout),
                             "dashboard.app:server"], cwd=code, env=env, stdout=log, stderr=log)


def worker_pids(master: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    except OSError:
        return []


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Sampler:
    """Samples every worker's RSS; ``mark()`` starts a window, ``rise()`` is its largest rise of one worker."""

    def __init__(self, master: int, every: float = 0.02):
        self.master, self.every = master, every
        self.start: dict[int, float] = {}
        self.peak: dict[int, float] = {}
        self.max_abs = 0.0

    def mark(self) -> None:
        self.start = {p: rss_mb(p) for p in worker_pids(self.master)}
        self.peak = dict(self.start)

    def rise(self) -> tuple[float, float]:
        """(largest rise of one worker over its level at mark(), largest RSS of one worker) in MB."""
        if not self.peak:
            return 0.0, 0.0
        return max(self.peak[p] - self.start.get(p, self.peak[p]) for p in self.peak), max(self.peak.values())

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            for p in worker_pids(self.master):
                r = rss_mb(p)
                self.peak[p] = max(self.peak.get(p, 0.0), r)
                self.start.setdefault(p, r)
                self.max_abs = max(self.max_abs, r)
            await asyncio.sleep(self.every)


# -- analysts -------------------------------------------------------------------------------

class Stats:
    def __init__(self) -> None:
        self.lat: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.bytes_in: dict[str, int] = {}

    def add(self, kind: str, seconds: float, ok: bool, n_bytes: int) -> None:
        self.lat.setdefault(kind, []).append(seconds)
        self.errors[kind] = self.errors.get(kind, 0) + (not ok)
        self.bytes_in[kind] = max(self.bytes_in.get(kind, 0), n_bytes)

    def report(self, title: str, wall: float) -> None:
        n = sum(len(v) for v in self.lat.values())
        err = sum(self.errors.values())
        print(f"\n{title}: {n} requests in {wall:.1f} s = {n / wall:.1f} req/s, errors {err}")
        print(f"  {'kind':<14}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}{'max kB':>9}")
        for kind, xs in self.lat.items():
            q = statistics.quantiles(xs, n=100, method="inclusive") if len(xs) > 1 else [xs[0]] * 99
            print(f"  {kind:<14}{len(xs):>6}{1000 * q[49]:>9.0f}{1000 * q[94]:>9.0f}{1000 * q[98]:>9.0f}{1000 * max(xs):>9.0f}"
                  f"{self.errors[kind]:>8}{self.bytes_in[kind] / 1024:>9.0f}")


def _ok_callback(status: int, body: bytes, component: str) -> bool:
    """A callback answer that updated ``component`` (a refused or failed one leaves it out of the response)."""
    if status != 200:
        return False
    try:
        return component in json.loads(body).get("response", {})
    except (ValueError, AttributeError):
        return False


async def analyst(i: int, port: int, page: Page, moves: int, deadline: float, stats: Stats, stop: asyncio.Event | None) -> None:
    rng = random.Random(i)
    hdr = {"Content-Type": "application/json"}
    for path, kind in (("/", "page"), ("/_dash-layout", "layout"), ("/_dash-dependencies", "dependencies")):
        st, _, body, dt = await http(port, "GET", path)
        stats.add(kind, dt, st == 200, len(body))
    st, _, body, dt = await http(port, "POST", "/_dash-update-component", critical_body(page), hdr)
    stats.add("critical tab", dt, _ok_callback(st, body, "critical-table"), len(body))
    done = 0
    while (done < moves or stop is not None) and time.perf_counter() < deadline and not (stop is not None and stop.is_set()):
        eth = round(rng.choice([-0.9, -0.7, -0.5, -0.3, -0.2, -0.1, 0.0, 0.2]) + rng.randint(0, 9) / 100, 2)
        st, _, body, dt = await http(port, "POST", "/_dash-update-component", run_body(page, eth), hdr)
        stats.add("slider (run)", dt, _ok_callback(st, body, "scenario-store"), len(body))
        done += 1
        await asyncio.sleep(rng.uniform(0.1, 0.5))


# -- the oversized inputs ---------------------------------------------------------------------

def _data_url(data: bytes, mime: str = "text/csv") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def build_cases(page: Page, quick: bool, code: Path) -> list[tuple[str, str, bytes]]:
    """(name, what the page should show, request body) for each oversized case."""
    sys.path.insert(0, str(code))
    import core  # noqa: PLC0415 - the client builds its inputs with the served checkout
    from dashboard import state  # noqa: PLC0415

    big = 40 if quick else 100
    cases: list[tuple[str, str, bytes]] = []
    # 1. a body far over the cap (the issue: a 100 MB upload cost +654 MB in a worker)
    row = b"X0000001,CEX_CUSTOMERS,BINANCE,customer_balance,1000000\n"
    csv = b"id,creditor,debtor,kind,amount_usd\n" + row * (big * 2**20 // len(row))
    cases.append((f"upload {big} MB CSV", "refused: larger than the server accepts",
                  upload_body(page, [_data_url(csv)], ["exposures.csv"])))
    # 2. a file just under the per-file limit, with far more rows than the page draws
    csv16 = b"id,creditor,debtor,kind,amount_usd\n" + row * ((16 * 2**20 - 64) // len(row))
    cases.append(("upload 16 MB CSV", "validation: at most 10,000 exposures", upload_body(page, [_data_url(csv16)], ["exposures.csv"])))
    # 3. a JSON network one entity over the bound
    over = core.datasets.synthetic(1001, 4000, seed=1).to_json().encode()
    cases.append((f"JSON {len(over) / 2**20:.0f} MB, 1,001 ent.", "validation: at most 1,000 entities",
                  upload_body(page, [_data_url(over, "application/json")], ["over.json"])))
    # 4. a zip bomb in a link: 48 MiB of JSON in 64 kB, and the 683 kB link
    for mib in (48, 512):
        raw = b'{"name":"' + b" " * (mib * 2**20) + b'"}'
        link = base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")
        cases.append((f"link {len(link) / 1024:.0f} kB -> {mib} MiB", "validation: once decompressed / at most 65,536",
                      link_body(page, f"http://{HOST}/?s={link}")))
    # 5. crafted network stores: 20,000 entities (the 100k-entity upload shipped 44.7 MB per slider move),
    #    and a zip bomb (1 GiB of JSON in about 1 MB)
    if not quick:
        huge = core.datasets.synthetic(20_000, 1000, seed=2)
        cases.append(("store 20k entities", "validation: at most 1,000 entities", critical_body(page, state.network_store(huge))))
    bomb = base64.b64encode(zlib.compress(b" " * (2**30 if not quick else 2**28), 9)).decode()
    cases.append(("store zip bomb", "validation: once decompressed", critical_body(page, {"source": "upload", "name": "x", "z": bomb})))
    # 6. the heaviest accepted request: the Critical-nodes ranking of a network at the page's bounds
    at = core.datasets.synthetic(1000, 10_000, seed=3)
    cases.append(("critical @1,000 ent.", "ok: the ranking (heaviest accepted request)", critical_body(page, state.network_store(at))))
    return cases


def describe_answer(status: int, headers: dict[str, str], body: bytes) -> str:
    text = body[:200000].decode("utf-8", "replace")
    if status == 0:
        return "no answer (connection reset or timeout)"
    if headers.get("x-sfm-refused") == "413":
        return "refused (cap) + message"
    if status != 200:
        return f"HTTP {status}"
    if "in the input; nothing was changed" in text:
        return "validation message"
    if "The server could not finish" in text:
        return "server-fault message"
    if "Something went wrong" in text:
        return "raw exception text"
    return "ok" if '"response"' in text else "unexpected"


async def oversized(port: int, page: Page, cases, parallel: int, sampler: Sampler) -> list[tuple[str, str, str, float, float, float]]:
    rows = []
    hdr = {"Content-Type": "application/json"}
    for name, expect, body in cases:
        if not body:
            continue
        await asyncio.sleep(1.0)
        sampler.mark()
        t0 = time.perf_counter()
        got = await asyncio.gather(*[http(port, "POST", "/_dash-update-component", body, hdr, timeout=300) for _ in range(parallel)])
        wall = time.perf_counter() - t0
        await asyncio.sleep(0.1)
        rise, peak = sampler.rise()
        answers = sorted({describe_answer(s, h, b) for s, h, b, _ in got})
        rows.append((name, expect, ", ".join(answers), max(g[3] for g in got), rise, peak))
        print(f"  {name:<26} {len(body) / 2**20:7.1f} MB x{parallel}: {', '.join(answers):<28} {wall:6.1f} s  "
              f"worker RSS +{rise:6.0f} MB (peak {peak:5.0f} MB)", flush=True)
    return rows


# -- the figures behind the page's bounds (--limits) ---------------------------------------------

def measure_one(n: int, m: int) -> None:
    """In a fresh process: peak RSS and CPU of one Critical-nodes ranking, and the per-slider sizes, for n entities."""
    import resource  # noqa: PLC0415

    import core  # noqa: PLC0415
    from core.scenario import Scenario  # noqa: PLC0415
    from dashboard import cascade, critical, state  # noqa: PLC0415
    from dashboard.app import create_app  # noqa: PLC0415

    net = core.datasets.synthetic(n, m, seed=1)
    app = create_app(net)

    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    with app.server.app_context():
        view = cascade.run_view(net, Scenario(price_shocks={"ETH": -0.5}, horizon=10), False)
        from plotly.utils import PlotlyJSONEncoder  # noqa: PLC0415

        answer = len(json.dumps([view["frames"], view["figures"], view["headline"]], cls=PlotlyJSONEncoder))
        store = len(json.dumps(state.network_store(net)))
        base, c0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, cpu()
        critical.table_rows(net, state.systemic_importance(net), state.simulate(net, Scenario()))
        rise, c1 = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024, cpu()
    print(json.dumps({"n": n, "m": m, "json_mb": len(net.to_json()) / 1e6, "store_mb": store / 1e6, "answer_mb": answer / 1e6,
                      "ranking_mb": rise, "ranking_cpu_s": c1 - c0}))


def limits_table(quick: bool) -> None:
    sizes = [(500, 5000), (1000, 10_000)] if quick else [(250, 2500), (500, 5000), (1000, 10_000), (2000, 20_000)]
    print("per-request cost against network size (each in a fresh process; CPU time, so a busy machine does not skew it):")
    print(f"  {'entities':>9}{'exposures':>10}{'JSON MB':>9}{'store MB':>9}{'run answer MB':>14}{'ranking +MB':>12}{'ranking CPU s':>14}")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for n, m in sizes:
        out = subprocess.run([sys.executable, __file__, "--measure-one", str(n), str(m)], capture_output=True, text=True,
                             env=env, timeout=1800)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"  {n:>9,}{m:>10,}{r['json_mb']:>9.2f}{r['store_mb']:>9.2f}{r['answer_mb']:>14.2f}{r['ranking_mb']:>12.0f}"
              f"{r['ranking_cpu_s']:>14.2f}", flush=True)


# -- main -------------------------------------------------------------------------------------

async def main_async(a: argparse.Namespace) -> int:
    code = Path(a.code).resolve() if a.code else ROOT
    port = free_port()
    print(f"gunicorn -w {a.workers} dashboard.app:server on {HOST}:{port} (code: {'this checkout' if code == ROOT else code.name})")
    folder = Path(tempfile.mkdtemp(prefix="sfm-bench-load-"))
    proc = start_server(code, a.workers, port, a.timeout, folder)
    try:
        t0 = time.perf_counter()
        while True:
            st, _, _, _ = await http(port, "GET", "/_dash-layout", timeout=60)
            if st == 200:
                break
            if proc.poll() is not None or time.perf_counter() - t0 > 180:
                print("the server did not start")
                return 1
            await asyncio.sleep(0.5)
        # every worker has built its app once it answers; warm each with a few layout requests
        await asyncio.gather(*[http(port, "GET", "/_dash-layout") for _ in range(2 * a.workers)])
        _, _, lay, _ = await http(port, "GET", "/_dash-layout")
        _, _, dep, _ = await http(port, "GET", "/_dash-dependencies")
        page = Page(json.loads(lay), json.loads(dep))
        print(f"ready in {time.perf_counter() - t0:.1f} s; workers {worker_pids(proc.pid)} at "
              f"{', '.join(f'{rss_mb(p):.0f}' for p in worker_pids(proc.pid))} MB")

        stop_sampling = asyncio.Event()
        sampler = Sampler(proc.pid)
        sampling = asyncio.create_task(sampler.run(stop_sampling))

        # 1. analysts alone
        sampler.mark()
        stats = Stats()
        t1 = time.perf_counter()
        deadline = t1 + a.duration
        await asyncio.gather(*[analyst(i, port, page, a.moves, deadline, stats, None) for i in range(a.analysts)])
        stats.report(f"{a.analysts} analysts x {a.moves} slider moves (page load, Critical tab, moves)", time.perf_counter() - t1)
        rise, peak = sampler.rise()
        print(f"  worker RSS during the analysts: largest rise +{rise:.0f} MB, peak {peak:.0f} MB")

        # 2. the oversized inputs, with the analysts working beside them
        print(f"\noversized inputs, {a.parallel} at once each, while {a.analysts} analysts keep moving sliders:")
        cases = [c for c in build_cases(page, a.quick, code) if not any(k in c[0] for k in a.skip)]
        busy = Stats()
        stop = asyncio.Event()
        t2 = time.perf_counter()
        background = [asyncio.create_task(analyst(100 + i, port, page, 0, time.perf_counter() + 3600, busy, stop))
                      for i in range(a.analysts)]
        rows = await oversized(port, page, cases, a.parallel, sampler)
        stop.set()
        await asyncio.gather(*background)
        busy.report(f"{a.analysts} analysts during the oversized inputs", time.perf_counter() - t2)
        stop_sampling.set()
        await sampling
        print(f"\npeak RSS of any worker over the whole run: {sampler.max_abs:.0f} MB")
        bad = [r for r in rows if "raw exception" in r[2] or "no answer" in r[2] or "HTTP 5" in r[2]]
        if bad or sum(stats.errors.values()) or sum(busy.errors.values()):
            tail = (folder / "server.log").read_text(errors="replace").splitlines()[-30:]
            print("\nerrors: the server log ends with\n  " + "\n  ".join(tail))
            return 1
        return 0
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(folder / "jobs", ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="4 analysts x 5 moves, 2 at once per case, 40 MB bodies")
    p.add_argument("--analysts", type=int, default=20)
    p.add_argument("--moves", type=int, default=15, help="slider moves per analyst")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--parallel", type=int, default=4, help="copies of each oversized case sent at once")
    p.add_argument("--duration", type=float, default=180.0, help="bound on the analysts phase (s)")
    p.add_argument("--code", help="serve another checkout (default: this one)")
    p.add_argument("--timeout", type=int, default=30, help="gunicorn's worker timeout (s; gunicorn's default: 30)")
    p.add_argument("--skip", action="append", default=[], help="skip the oversized cases whose name contains this text")
    p.add_argument("--limits", action="store_true", help="print the per-request cost against network size, then stop")
    p.add_argument("--measure-one", nargs=2, type=int, metavar=("N", "M"), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.measure_one:
        measure_one(*a.measure_one)
        return 0
    if a.limits:
        limits_table(a.quick)
        return 0
    if a.quick:
        a.analysts, a.moves, a.parallel, a.duration = min(a.analysts, 4), min(a.moves, 5), min(a.parallel, 2), min(a.duration, 60)
    return asyncio.run(main_async(a))


if __name__ == "__main__":
    sys.exit(main())
