"""The Celery/Redis path of the background jobs, against a real ``redis-server`` and a real Celery worker.

The fixture starts Debian's ``redis-server`` on 127.0.0.1 on a free port (no
persistence, 64 MB ``maxmemory`` with ``volatile-lru``, as the README advises),
and a Celery worker (``celery -A dashboard.app:celery_app worker``) in a
subprocess; the page's requests go to a Dash app in this process, as a web
worker would. Without ``redis-server`` the tests are skipped, and fail under
``CI=true`` (like the browser tests).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from background_client import PageClient, status_text
from dashboard import jobs

REPO = Path(__file__).resolve().parent.parent
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A redis-server of its own on 127.0.0.1 for this module; stopped at the end."""
    if not os.access(REDIS, os.X_OK):
        msg = "redis-server not found: install Debian's redis-server (apt-get install -y redis-server)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    import redis

    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([REDIS, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", str(folder), "--maxmemory", "64mb", "--maxmemory-policy", "volatile-lru",
                             "--protected-mode", "yes"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        for _ in range(100):
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.fail(f"redis-server did not answer on port {port}")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def celery_env(redis_url, tmp_path_factory):
    store = tmp_path_factory.mktemp("store") / "jobs"
    return {jobs.STORE_ENV: str(store), "SFM_CELERY_BROKER": redis_url, jobs.SECRET_ENV: "s" * 64}


@pytest.fixture(scope="module")
def worker(celery_env):
    """A Celery worker with one process, importing the dashboard as the README says."""
    yield from start_worker(celery_env, REPO)


def start_worker(celery_env, code: Path):
    """Run a Celery worker on the code in ``code`` until the generator is closed."""
    env = {**os.environ, "PYTHONPATH": str(code), **celery_env}
    proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "dashboard.app:celery_app", "worker", "-c", "1",
                             "--pool", "prefork", "-l", "info", "--without-gossip", "--without-mingle",
                             "--without-heartbeat"], env=env, cwd=str(code), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < 120:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "ready." in line:
            break
    else:
        proc.kill()
        pytest.fail("the celery worker did not start:\n" + "".join(lines))
    if proc.poll() is not None:
        pytest.fail("the celery worker stopped:\n" + "".join(lines))
    import threading

    threading.Thread(target=lambda: [lines.append(x) for x in proc.stdout], daemon=True).start()
    proc.lines = lines
    try:
        yield proc
    finally:
        # Celery's cold shutdown (SIGQUIT): the pool's processes stop at once. The warm one (SIGTERM) waited out its
        # 20 s here after test_a_cancelled_job_says_so, whose job the worker had terminated (24.4 s of tear-down).
        proc.send_signal(signal.SIGQUIT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def app(celery_env, monkeypatch):
    for k, v in celery_env.items():
        monkeypatch.setenv(k, v)
    from dashboard.app import create_app

    return create_app()


def test_a_monte_carlo_runs_end_to_end_on_a_celery_worker(app, worker, redis_url):
    import redis

    from dash import CeleryManager

    assert isinstance(app._background_manager, CeleryManager)
    page = PageClient(app)
    handle = page.start("mc", mc_runs=300)
    data = page.wait(handle, timeout=180)
    assert "300 runs in" in status_text(data), status_text(data)
    summary = data["response"]["mc-result"]["data"]
    assert summary["runs"] == 300 and sum(summary["hist"]["counts"]) == 300
    # the same numbers as in-process (same seed)
    from dashboard import montecarlo, state

    local = montecarlo.monte_carlo(state.network_from_store(state.network_store(None)),
                                   {"name": "stress", "price_shocks": {"ETH": -0.4}}, 300, 7, 0.99, "normal", 1)
    assert summary["risk"] == local["risk"]
    # the result was collected (deleted) and what is left expires
    r = redis.Redis.from_url(redis_url)
    key = handle["cacheKey"].split("~")[0]
    assert r.get(key) is None
    ttls = [r.ttl(k) for k in r.keys("celery-task-meta-*")]
    assert ttls and all(0 < t <= jobs.Limits().ttl_s for t in ttls)
    # a sweep too
    sweep = page.wait(page.start("sweep"), timeout=180)
    assert "3 cells in" in status_text(sweep, "sw")


def test_identical_inputs_from_two_pages_both_get_their_result(app, worker):
    a, b = PageClient(app), PageClient(app)
    ha, hb = a.start("mc", mc_runs=200), b.start("mc", mc_runs=200)
    assert ha["cacheKey"].split("~")[0] != hb["cacheKey"].split("~")[0]
    for page, h in ((a, ha), (b, hb)):
        assert "200 runs in" in status_text(page.wait(h, timeout=180))


def test_a_job_whose_worker_process_is_killed_says_so(app, worker):
    import psutil

    page = PageClient(app)
    handle = page.start("mc", mc_runs=100_000)
    children = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < 60:  # wait until the pool process works (progress appears)
        data = page.poll(handle)
        if data.get("progress"):
            break
        time.sleep(0.1)
    children = psutil.Process(worker.pid).children()
    assert children
    for c in children:
        os.kill(c.pid, signal.SIGKILL)
    text = status_text(page.wait(handle, timeout=60))
    assert "The job stopped before it gave a result" in text and "press Run to run it again" in text
    # the worker replaces its process and runs the next job
    assert "200 runs in" in status_text(page.wait(page.start("mc", mc_runs=200), timeout=180))


def test_a_cancelled_job_says_so(app, worker):
    page = PageClient(app)
    handle = page.start("mc", mc_runs=100_000)
    time.sleep(1.0)
    assert page.cancel(handle) == 200
    assert "Cancelled" in status_text(page.wait(handle, timeout=60))



@pytest.fixture
def other_code_worker(redis_url, tmp_path, monkeypatch):
    """A worker on its own Redis database whose engine differs by one comment from this tree's; the page's app on
    the same database."""
    for name in ("core", "dashboard", "data", "assets"):
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    engine = tmp_path / "core" / "engine" / "__init__.py"
    engine.write_text(engine.read_text() + "\n# the engine changed\n")
    env = {jobs.STORE_ENV: str(tmp_path / "jobs"), "SFM_CELERY_BROKER": redis_url.rsplit("/", 1)[0] + "/1",
           jobs.SECRET_ENV: "s" * 64}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    run = start_worker(env, tmp_path)
    proc = next(run)
    from dashboard.app import create_app

    yield create_app(), proc
    run.close()


def test_a_worker_on_other_code_refuses_the_job(other_code_worker):
    """The page's key carries this server's code fingerprint; a worker not restarted onto it answers with a notice
    instead of the old engine's numbers."""
    app, proc = other_code_worker
    page = PageClient(app)
    text = status_text(page.wait(page.start("mc", mc_runs=200), timeout=180))
    assert "another version of the model" in text and "200 runs in" not in text, text + "".join(proc.lines[-30:])
    # the worker's warning reaches its log through the pool process's output, which the reader thread may take after
    # the notice reached the page through Redis (session 43's fresh-clone CI read the log first): wait for the line
    t0 = time.monotonic()
    while not any("keyed under other code than this worker" in line for line in proc.lines) and time.monotonic() - t0 < 20:
        time.sleep(0.1)
    assert any("keyed under other code than this worker" in line for line in proc.lines), "".join(proc.lines[-20:])
