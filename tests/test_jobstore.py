"""The background job store (dashboard/jobs.py): private, bounded, and honest about lost jobs (issue 10, items 1-2).

The attack of the issue is reproduced: another account (a different uid, via
``os.chown``, since the tests run as root) or a world-writable folder holds a
``cache.db`` with a pickle that makes a marker folder when unpickled; the
dashboard refuses to start, says why without a traceback, and the marker never
appears (a control shows the planted pickle is live).

Jobs run through the page's own HTTP protocol (``background_client``); slow jobs
are the real callbacks with ``monte_carlo`` replaced by a sleep in the test
process, which the forked job process inherits.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import diskcache
import pytest

from background_client import PageClient, status_text
from dashboard import jobs, loss_distribution, montecarlo
from dashboard.app import create_app

REPO = Path(__file__).resolve().parent.parent
OTHER_UID = 54321
SECRET_KEY = "__dash_background_signing_secret__"  # where Dash kept the secret in the result store


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A fresh job-store folder in ``$SFM_CACHE_DIR``, default limits, no configured secret."""
    for env in (jobs.SECRET_ENV, "SFM_CELERY_BROKER", *jobs.LIMIT_ENV.values()):
        monkeypatch.delenv(env, raising=False)
    folder = tmp_path / "jobs"
    monkeypatch.setenv(jobs.STORE_ENV, str(folder))
    return folder


def slow(seconds: float = 60.0):
    def run(*_args, **_kwargs):
        time.sleep(seconds)
        raise AssertionError("a slow job was not stopped")
    return run


def job_pid(handle) -> int:
    return int(handle["job"].split("~")[0])


def zombies() -> list[int]:
    """Children of this process that have exited and not been reaped."""
    me, out = os.getpid(), []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] == "Z" and int(fields[1]) == me:
                out.append(int(d.name))
    return out


def wait_until(predicate, timeout: float = 10.0) -> bool:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


# -- item 1: a store no one else can touch -----------------------------------------------------------

def test_default_store_is_in_the_users_cache_dir_and_private(store, tmp_path, monkeypatch):
    monkeypatch.delenv(jobs.STORE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert jobs.store_dir() == tmp_path / "xdg" / "sfm" / "dashboard-jobs"
    folder = jobs.prepare_store()
    for p in (folder, folder.parent, folder.parent.parent):  # every folder it had to make
        assert stat.S_IMODE(p.stat().st_mode) == 0o700 and p.stat().st_uid == os.geteuid()
    create_app()
    assert {p.name for p in folder.iterdir()} == {jobs.RESULTS, jobs.RUNNING, jobs.SECRET_FILE}


class Boom:
    """Unpickling it makes the folder ``marker``: what a planted pickle could do, harmlessly."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def plant(folder: Path, marker: Path) -> None:
    """A hostile store: a pickle under the keys the dashboard reads first, in the old layout and the new."""
    for where in (folder, folder / jobs.RESULTS):
        with diskcache.Cache(str(where)) as cache:
            cache.set(SECRET_KEY, Boom(marker))


def chown_tree(folder: Path, uid: int) -> None:
    for root, dirs, files in os.walk(folder):
        for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
            os.chown(name, uid, uid)


HOSTILE = {
    "other owner": lambda f: chown_tree(f, OTHER_UID),
    "world-writable": lambda f: os.chmod(f, 0o777),
    "group-writable": lambda f: os.chmod(f, 0o770),
    "planted cache.db of another owner": lambda f: (os.chmod(f, 0o700), os.chown(f / jobs.RESULTS / "cache.db", OTHER_UID, OTHER_UID)),
    "world-writable cache.db": lambda f: (os.chmod(f, 0o700), os.chmod(f / jobs.RESULTS / "cache.db", 0o666)),
}
REASON = {"other owner": f"owned by uid {OTHER_UID}", "world-writable": "writable by others (mode 0777)",
          "group-writable": "writable by its group", "planted cache.db of another owner": f"owned by uid {OTHER_UID}",
          "world-writable cache.db": "writable by others"}


def start_dashboard(folder: Path, code: str = "import dashboard.app", **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "PYTHONPATH": str(REPO), jobs.STORE_ENV: str(folder), **env}
    environ.pop(jobs.SECRET_ENV, None)
    return subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("attack", list(HOSTILE))
def test_a_hostile_store_is_refused_and_never_unpickled(store, tmp_path, attack):
    store.mkdir(mode=0o700)
    marker = tmp_path / "unpickled"
    plant(store, marker)
    HOSTILE[attack](store)
    # the server process: module import (gunicorn's path) and a page load (the old code read the secret there)
    run = start_dashboard(store, "import dashboard.app as a; a.server.test_client().get('/_dash-layout')")
    assert run.returncode == 2, run.stderr
    assert "cannot start" in run.stderr and REASON[attack] in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert not marker.exists()
    # control: the planted pickle is live, so the refusal is what kept it from running
    with diskcache.Cache(str(store / jobs.RESULTS)) as cache:
        cache.get(SECRET_KEY)
    assert marker.is_dir()


def test_gunicorn_stops_on_a_hostile_store_instead_of_restarting_workers(store, tmp_path):
    store.mkdir(mode=0o777)
    os.chmod(store, 0o777)
    marker = tmp_path / "unpickled"
    plant(store, marker)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    environ = {**os.environ, "PYTHONPATH": str(REPO), jobs.STORE_ENV: str(store)}
    run = subprocess.run([sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "dashboard.app:server"],
                         env=environ, capture_output=True, text=True, timeout=120)
    assert run.returncode == 3, run.stderr  # gunicorn's "worker failed to boot": the server halts
    assert "cannot start" in run.stderr and "writable by others" in run.stderr and "Traceback" not in run.stderr
    assert not marker.exists()


def test_parents_and_links_are_checked_too(store, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)  # no sticky bit: anyone could rename our folder away and put theirs in its place
    with pytest.raises(jobs.JobStoreError, match="which others can write"):
        jobs.prepare_store(shared / "jobs")
    os.chmod(shared, 0o777 | stat.S_ISVTX)  # like /tmp
    jobs.prepare_store(shared / "jobs")
    folder = jobs.prepare_store(store)
    (folder / "results-link").symlink_to(tmp_path)
    with pytest.raises(jobs.JobStoreError, match="symbolic link"):
        jobs.check_private(folder)


def test_a_store_readable_by_others_is_made_private(store, caplog):
    store.mkdir(mode=0o755)
    os.chmod(store, 0o755)
    jobs.prepare_store(store)
    assert stat.S_IMODE(store.stat().st_mode) == 0o700
    assert "set to 0700" in caplog.text


def test_the_signing_secret_is_a_0600_file_that_survives_eviction(store, monkeypatch):
    monkeypatch.setenv("SFM_JOB_STORE_MB", "1")
    a = create_app()  # one worker
    path = store / jobs.SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.stat().st_uid == os.geteuid()
    assert a.server.secret_key == path.read_bytes() and len(path.read_bytes()) == 64
    page = PageClient(a)
    handle = page.start("mc")
    time.sleep(0.3)
    results = a._background_manager.handle
    for i in range(60):  # 6 MB into a 1 MB store: everything old is culled
        results.set(f"junk-{i}", os.urandom(100_000))
    assert results.volume() < 2 * jobs.MB and results.get(SECRET_KEY) is None
    b = create_app()  # another worker, or this one restarted
    assert b.server.secret_key == a.server.secret_key == path.read_bytes()
    other_worker = PageClient(b)
    other_worker.end_id = page.end_id  # the page's next poll lands on the other worker
    data = other_worker.wait(handle)
    assert "runs in" in status_text(data) or "stopped before" in status_text(data)  # its result may be evicted: then said so


def test_a_configured_secret_is_used_and_checked(store, monkeypatch):
    monkeypatch.setenv(jobs.SECRET_ENV, "x" * 40)
    assert create_app().server.secret_key == b"x" * 40 and not (store / jobs.SECRET_FILE).exists()
    monkeypatch.setenv(jobs.SECRET_ENV, "short")
    with pytest.raises(jobs.JobStoreError, match="5 characters: expected at least 32"):
        create_app()


def test_a_secret_file_others_can_read_is_refused(store):
    folder = jobs.prepare_store(store)
    jobs.signing_secret(folder)
    os.chmod(folder / jobs.SECRET_FILE, 0o644)
    with pytest.raises(jobs.JobStoreError, match="expected yours and 0600"):
        jobs.signing_secret(folder)


def test_a_forged_cancel_kills_nothing_the_store_did_not_start(store):
    from dash import _callback_signing

    app = create_app()
    page = PageClient(app)
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        end_id = _callback_signing.unsign(app.server.secret_key, _callback_signing.END_SCOPE, page.end_id)
        forged = _callback_signing.sign(app.server.secret_key, _callback_signing.job_scope(end_id), str(bystander.pid))
        assert page.cancel({"job": forged}) == 200
        time.sleep(0.3)
        assert bystander.poll() is None  # still running: signed with the real secret, but not a job of ours
    finally:
        bystander.kill()
        bystander.wait()


def test_bad_limits_stop_the_start_with_a_message(store):
    run = start_dashboard(store, SFM_MAX_JOBS="lots")
    assert run.returncode == 2 and "SFM_MAX_JOBS='lots': expected a whole number ≥ 1" in run.stderr
    assert "Traceback" not in run.stderr


# -- item 2: bounded, and every job answers ------------------------------------------------------------

def test_results_expire(store, monkeypatch):
    monkeypatch.setenv("SFM_JOB_TTL_S", "1")
    app = create_app()
    page = PageClient(app)
    handle = page.start("mc")
    assert wait_until(lambda: app._background_manager.handle.get(handle["cacheKey"].split("~")[0]) is not None, 60)
    time.sleep(1.3)  # nobody collected it in time
    data = page.wait(handle)
    assert "stopped before it gave a result" in status_text(data) and "run it again" in status_text(data)
    results = app._background_manager.handle
    results.expire()  # what is left (its progress reports) has expired too
    assert len(results) == 0


def test_a_result_above_the_cap_is_replaced_by_a_message(store, monkeypatch):
    monkeypatch.setenv("SFM_JOB_RESULT_MB", "1")
    app = create_app()
    page = PageClient(app)
    handle = page.start("mc", scenario={"name": "big", "description": "x" * 3_000_000, "price_shocks": {"ETH": -0.4}})
    text = status_text(page.wait(handle))
    assert "too large for the server to keep (3 MB; the limit is 1 MB)" in text


def test_the_store_stays_within_its_size_bound(store, monkeypatch):
    """25 uncollected results of 0.9 MB into a 4 MB store: culled to the bound, and the secret is not in it."""
    monkeypatch.setenv("SFM_JOB_STORE_MB", "4")
    app = create_app()
    results = app._background_manager.handle
    for i in range(25):
        results.set(f"job-{i}", {"description": "x" * 900_000})
        assert results.volume() <= 4 * jobs.MB + 1_000_000  # culled after the set that crosses the bound: ≤ one result over
    assert 3 <= len(results) < 25 and results.get("job-24") is not None  # the oldest went, the newest stays
    assert (store / jobs.SECRET_FILE).read_bytes() == app.server.secret_key


def test_jobs_are_bounded_in_total(store, monkeypatch):
    monkeypatch.setenv("SFM_MAX_JOBS", "1")
    monkeypatch.setattr(loss_distribution, "monte_carlo", slow())
    app = create_app()
    first, second = PageClient(app), PageClient(app)
    running = first.start("mc")
    refused = second.start("mc")
    text = status_text(second.wait(refused, timeout=5))
    assert "as many jobs as it allows (1)" in text and "SFM_MAX_JOBS" in text
    assert first.poll(running).get("response") is None  # the first still runs
    first.cancel(running)
    assert "Cancelled" in status_text(first.wait(running, timeout=10))
    assert "cells in" in status_text(second.wait(second.start("sweep"), timeout=60), "sw")  # a slot is free again
    assert wait_until(lambda: not zombies())


def test_jobs_are_bounded_per_page(store, monkeypatch):
    monkeypatch.setenv("SFM_MAX_JOBS_PER_SESSION", "1")
    monkeypatch.setattr(loss_distribution, "monte_carlo", slow())
    app = create_app()
    page = PageClient(app)
    running = page.start("mc")
    text = status_text(page.wait(page.start("sweep"), timeout=5), "sw")
    assert "This page already runs 1 jobs" in text
    other = PageClient(app)  # another user is not held up by this page
    assert "cells in" in status_text(other.wait(other.start("sweep"), timeout=60), "sw")
    page.cancel(running)
    page.wait(running, timeout=10)


def test_identical_inputs_at_the_same_moment_both_get_their_result(store, monkeypatch):
    """The old keys were a hash of the inputs: the first user to collect deleted the other's result."""
    monkeypatch.setenv("SFM_MAX_JOBS", "4")
    app = create_app()
    for _ in range(4):
        pages = [PageClient(app), PageClient(app)]
        handles: list = [None, None]
        go = threading.Barrier(2)

        def start(i, go=go, handles=handles, pages=pages):
            go.wait()
            handles[i] = pages[i].start("mc", mc_runs=200)

        threads = [threading.Thread(target=start, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert handles[0]["cacheKey"].split("~")[0] != handles[1]["cacheKey"].split("~")[0]
        answers = [p.wait(h) for p, h in zip(pages, handles)]
        assert all("200 runs in" in status_text(a) for a in answers)
        assert answers[0]["response"]["mc-result"]["data"]["risk"] == answers[1]["response"]["mc-result"]["data"]["risk"]


def test_a_killed_job_says_so_and_offers_a_rerun_without_leaving_a_zombie(store, monkeypatch):
    monkeypatch.setattr(loss_distribution, "monte_carlo", slow())
    app = create_app()
    page = PageClient(app)
    handle = page.start("mc")
    time.sleep(0.3)
    os.kill(job_pid(handle), signal.SIGKILL)  # the OOM killer, or an operator
    text = status_text(page.wait(handle, timeout=10))
    assert "The job stopped before it gave a result" in text and "press Run to run it again" in text
    assert wait_until(lambda: not zombies()), zombies()
    monkeypatch.undo()
    rerun = page.start("mc")  # the re-run works
    assert "300 runs in" in status_text(page.wait(rerun))


def test_cancelled_and_finished_jobs_leave_no_zombies(store, monkeypatch):
    app = create_app()
    page = PageClient(app)
    done = page.wait(page.start("mc"))
    assert "runs in" in status_text(done)
    monkeypatch.setattr(loss_distribution, "monte_carlo", slow())
    pids = []
    for _ in range(3):
        h = page.start("mc")
        pids.append(job_pid(h))
        time.sleep(0.2)
        page.cancel(h)
        assert "Cancelled" in status_text(page.wait(h, timeout=10))
    assert wait_until(lambda: not zombies()), zombies()
    assert not any(Path(f"/proc/{p}").exists() and Path(f"/proc/{p}/stat").read_text().split(") ")[1][0] != "Z"
                   for p in pids)


def test_a_failure_outside_the_callback_is_a_plain_message(caplog):
    handler = montecarlo._job_notice("Monte Carlo", 4, 3)
    out = handler(RuntimeError("An error occurred inside a background callback: boom\nTraceback ..."))
    assert out[:3] == [montecarlo.no_update] * 3
    assert "failed on the server" in out[3].children and "boom" not in out[3].children
    out = handler(RuntimeError(jobs.notice("lost", jobs.LOST)["background_callback_error"]["msg"]))
    assert out[3].children == jobs.LOST


def test_pages_stay_apart_when_another_app_lives_in_the_process(store, tmp_path, monkeypatch):
    """Dash's current app was the last one created: a page's handles and session were read with another app's secret."""
    monkeypatch.setenv("SFM_MAX_JOBS_PER_SESSION", "1")
    monkeypatch.setattr(loss_distribution, "monte_carlo", slow())
    app = create_app()
    monkeypatch.setenv(jobs.STORE_ENV, str(tmp_path / "other-jobs"))
    create_app()  # another app, with its own store and secret, created last
    page, other = PageClient(app), PageClient(app)
    running = page.start("mc")
    assert "cells in" in status_text(other.wait(other.start("sweep"), timeout=60), "sw")  # not taken for the same page
    assert page.cancel(running) == 200
    assert "Cancelled" in status_text(page.wait(running, timeout=10))  # the cancel was checked with this app's secret
