"""The background job store under abuse, this checkout against a baseline revision, in the same run.

For each code tree (this checkout, and ``--baseline REV`` unpacked with ``git archive``)
a subprocess with that tree on ``PYTHONPATH`` and a fresh ``$SFM_CACHE_DIR`` measures:

* **store**: bytes on disk of the job store after ``--jobs`` Monte Carlo jobs (100 runs)
  whose scenario carries a ``--mb`` MB description, each left uncollected (the page
  closed before its result came);
* **restart**: two server processes on one store (``python -m dashboard`` on 127.0.0.1):
  the first fills its store (``--restart-mb`` MB bound, diskcache's 1 GB in the baseline
  lowered through its stored settings) with 25 uncollected jobs of 4 MB, then a second
  starts (a restarted worker); of 12 Monte Carlo jobs started on the first and polled on
  the second (gunicorn sends a page's polls to any worker), how many returned their
  result, and how many said anything at all;
* **pairs**: of ``--pairs`` pairs of pages starting identical Monte Carlo jobs at the same
  moment, how many pairs had a page left without its result;
* **slider**: time of the work of one slider move (``cascade.run_view`` of a new ETH
  shock, so no cache answers), median and max of ``--moves``, with no job running
  and while ``--pages`` pages have each pressed Run (20,000 runs each), and how many
  job processes ran meanwhile.

Pages talk to the app through its HTTP protocol (``tests/background_client.py``).
Run: ``python benchmarks/bench_jobstore.py --baseline afafd7b``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def children_running() -> int:
    import psutil

    return sum(1 for c in psutil.Process().children() if c.status() != psutil.STATUS_ZOMBIE)


def wait_children(timeout: float = 600.0) -> None:
    """Until no child of this process is running (the uncollected jobs have stored their results)."""
    t0 = time.monotonic()
    while children_running() and time.monotonic() - t0 < timeout:
        time.sleep(0.1)


def measure(args: argparse.Namespace) -> dict:
    sys.path.insert(0, str(REPO / "tests"))
    from background_client import PageClient  # noqa: E402

    from core.scenario import Scenario
    from dashboard import cascade
    from dashboard.app import create_app
    from dashboard.state import network_from_store, network_store

    store = Path(os.environ["SFM_CACHE_DIR"])
    out: dict = {}
    first = create_app()
    big = {"name": "big", "description": "x" * (args.mb * 2**20), "price_shocks": {"ETH": -0.3}}
    for seed in range(args.jobs):  # distinct inputs (seeds): the baseline keyed results by the inputs
        PageClient(first).start("mc", mc_runs=100, mc_seed=seed, scenario=big)
        wait_children()  # one at a time: only the store is measured here
    out["store_bytes"] = du(store)

    import threading

    missed = 0
    for _ in range(args.pairs):  # two users, identical inputs, the same moment
        pages, got_pair = [PageClient(first), PageClient(first)], [None, None]
        go = threading.Barrier(2)

        def user(i):
            go.wait()
            handle = pages[i].start("mc", mc_runs=100)
            t0 = time.monotonic()
            while time.monotonic() - t0 < 120:
                data = pages[i].poll(handle)
                if "response" in data:
                    break
                time.sleep(0.05)
            got_pair[i] = bool((data.get("response") or {}).get("mc-result"))

        threads = [threading.Thread(target=user, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        missed += not all(got_pair)
    out["pairs_missed"] = missed

    network = network_from_store(network_store(None))

    shocks = iter(-0.2 - 0.002 * i for i in range(10_000))  # a new shock per move: no cache answers

    def moves() -> list[float]:
        times = []
        for _ in range(args.moves):
            sc = Scenario(price_shocks={"ETH": next(shocks)})
            t0 = time.perf_counter()
            cascade.run_view(network, sc, False)
            times.append(time.perf_counter() - t0)
        return times

    moves()  # warm-up
    idle = moves()
    pages = [PageClient(first) for _ in range(args.pages)]
    handles = [(p, p.start("mc", mc_runs=20_000)) for p in pages]
    time.sleep(0.5)
    jobs_running = children_running()
    busy = moves()
    for p, h in handles:
        try:
            p.cancel(h)
        except AssertionError:
            pass
    wait_children(60)
    out.update(slider_idle=[statistics.median(idle), max(idle)], slider_busy=[statistics.median(busy), max(busy)],
               jobs_running=jobs_running)
    return out


def serve(tree: Path, env: dict, port: int) -> subprocess.Popen:
    import requests

    proc = subprocess.Popen([sys.executable, "-m", "dashboard", "--host", "127.0.0.1", "--port", str(port)], env=env,
                            cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=2)
            return proc
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{tree}: the server did not start")


def restart(tree: Path, args: argparse.Namespace) -> tuple[int, int]:
    """Jobs started on one server process and polled on another started after the store filled."""
    import socket

    import diskcache
    import psutil

    sys.path.insert(0, str(REPO / "tests"))
    from background_client import PageClient

    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        store = Path(tmp) / "jobs"
        store.mkdir(mode=0o700)
        diskcache.Cache(str(store), size_limit=args.restart_mb * 2**20).close()  # the baseline's cache lives here
        env = {**os.environ, "PYTHONPATH": str(tree), "SFM_CACHE_DIR": str(store), "SFM_JOB_STORE_MB": str(args.restart_mb)}
        env.pop("SFM_SECRET_KEY", None)
        ports = []
        for _ in range(2):
            with socket.socket() as sk:
                sk.bind(("127.0.0.1", 0))
                ports.append(sk.getsockname()[1])
        a = serve(tree, env, ports[0])
        b = None
        try:
            url_a, url_b = (f"http://127.0.0.1:{p}" for p in ports)
            big = {"name": "big", "description": "x" * (4 * 2**20), "price_shocks": {"ETH": -0.3}}
            for seed in range(25):
                PageClient(base_url=url_a).start("mc", mc_runs=100, mc_seed=seed, scenario=big)
                time.sleep(0.2)
                while any(c.status() != psutil.STATUS_ZOMBIE for c in psutil.Process(a.pid).children()):
                    time.sleep(0.1)
            b = serve(tree, env, ports[1])
            got = said = 0
            for _ in range(12):
                page = PageClient(base_url=url_a)
                handle = page.start("mc", mc_runs=100)
                other = PageClient(base_url=url_b)
                other.end_id = page.end_id
                t0 = time.monotonic()
                while time.monotonic() - t0 < 120:
                    data = other.poll(handle)
                    if "response" in data:
                        break
                    time.sleep(0.1)
                response = data.get("response") or {}
                got += bool(response.get("mc-result"))
                said += bool(response)
            return got, said
        finally:
            for proc in (a, b):
                if proc:
                    for child in psutil.Process(proc.pid).children(recursive=True):
                        child.kill()
                    proc.terminate()
                    proc.wait(20)


def run_tree(tree: Path, args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(tree), "SFM_CACHE_DIR": str(Path(tmp) / "jobs")}
        env.pop("SFM_SECRET_KEY", None)
        cmd = [sys.executable, str(REPO / "benchmarks" / "bench_jobstore.py"), "--child", "--jobs", str(args.jobs),
               "--mb", str(args.mb), "--moves", str(args.moves), "--pages", str(args.pages),
               "--pairs", str(args.pairs)]
        run = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tree)
        if run.returncode:
            raise SystemExit(f"{tree}: {run.stderr[-3000:]}")
        out = json.loads(run.stdout.strip().splitlines()[-1])
    out["restart_results"], out["restart_answers"] = restart(tree, args)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--baseline", help="git revision to compare with (unpacked with git archive)")
    p.add_argument("--jobs", type=int, default=25)
    p.add_argument("--mb", type=int, default=40)
    p.add_argument("--moves", type=int, default=12)
    p.add_argument("--pages", type=int, default=8)
    p.add_argument("--pairs", type=int, default=17)
    p.add_argument("--restart-mb", type=int, default=64)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(measure(args)))
        return
    trees = [("this checkout", REPO)]
    tmp = None
    if args.baseline:
        tmp = Path(tempfile.mkdtemp())
        archive = subprocess.run(["git", "-C", str(REPO), "archive", args.baseline], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
        trees.insert(0, (f"baseline {args.baseline}", tmp))
    try:
        print(f"{args.jobs} uncollected jobs with a {args.mb} MB description; 12 jobs across a restart; "
              f"{args.moves} slider moves with {args.pages} pages running Monte Carlo; {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f}")
        for name, tree in trees:
            r = run_tree(tree, args)
            print(f"{name:>22}: store {r['store_bytes'] / 2**20:8.1f} MB | after restart {r['restart_results']:2d}/12 results, "
                  f"{r['restart_answers']:2d}/12 answers | {r['pairs_missed']}/{args.pairs} pairs missed a result | slider median/max {r['slider_idle'][0]:.3f}/{r['slider_idle'][1]:.3f} s idle, "
                  f"{r['slider_busy'][0]:.3f}/{r['slider_busy'][1]:.3f} s with {r['jobs_running']} job processes")
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
