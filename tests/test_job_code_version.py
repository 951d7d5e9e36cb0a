"""Job keys carry the version of the model code (dashboard/code_version.py, dashboard/jobs.py).

Dash keyed a background job's result by its inputs and the callback's source
only: a job started before the engine changed (its process outliving a restart
of the server onto new code) handed the page the old engine's result. The key
now carries a fingerprint of ``core/``, ``dashboard/`` and the shipped data, and
the store serves no result keyed under another fingerprint. The Celery side
(a worker on other code refuses the job) is in tests/test_celery_redis.py.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from background_client import PageClient, status_text
from dashboard import code_version, jobs, loss_distribution
from dashboard.app import create_app

REPO = Path(__file__).resolve().parent.parent


def tree_roots(root: Path) -> list[tuple[str, Path, str]]:
    return [("core", root / "core", "**/*.py"), ("dashboard", root / "dashboard", "**/*.py"),
            ("data", root / "data", "**/*")]


@pytest.fixture
def tree(tmp_path) -> Path:
    """A copy of this checkout's code and data."""
    for name in ("core", "dashboard", "data"):
        shutil.copytree(REPO / name, tmp_path / "a" / name, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "a"


def test_the_fingerprint_follows_the_code_and_the_data_not_where_it_lies(tree, tmp_path):
    base = code_version.fingerprint(tree_roots(tree), "0.1.0")
    assert base == code_version.fingerprint(tree_roots(REPO), "0.1.0") == code_version.CODE_VERSION
    moved = shutil.copytree(tree, tmp_path / "b")
    assert code_version.fingerprint(tree_roots(moved), "0.1.0") == base
    engine = next((moved / "core").rglob("*.py"))
    engine.write_text(engine.read_text() + "\n# a change\n")
    changed = code_version.fingerprint(tree_roots(moved), "0.1.0")
    assert changed != base
    csv = next((tree / "data").rglob("*.csv"))
    csv.write_bytes(csv.read_bytes().replace(b"0", b"1", 1))
    assert code_version.fingerprint(tree_roots(tree), "0.1.0") not in (base, changed)
    assert code_version.fingerprint(tree_roots(REPO), "0.2.0") != base


def test_keys_differ_by_code_and_agree_for_the_same_inputs_and_code():
    a, b = "1" * 64, "2" * 64
    same = [jobs.job_key("inputs", a) for _ in range(2)]
    assert same[0] != same[1]  # one key per job (nonce) ...
    assert {k.rsplit("-", 1)[0] for k in same} == {f"inputs-{a[:code_version.KEY_CHARS]}"}  # ... the rest agrees
    assert jobs.job_key("inputs", b).rsplit("-", 1)[0] != same[0].rsplit("-", 1)[0]
    assert jobs.key_version(same[0]) == a[:code_version.KEY_CHARS] != jobs.key_version(jobs.job_key("inputs", b))
    assert jobs.current_version(jobs.job_key("inputs")) and not jobs.current_version(same[0])
    assert not jobs.current_version("inputs-nonce")  # a key made before keys had a version


@pytest.fixture
def store(tmp_path, monkeypatch):
    for env in (jobs.SECRET_ENV, "SFM_CELERY_BROKER", *jobs.LIMIT_ENV.values()):
        monkeypatch.delenv(env, raising=False)
    monkeypatch.setenv(jobs.STORE_ENV, str(tmp_path / "jobs"))
    return tmp_path / "jobs"


def test_the_disk_store_keys_a_job_by_its_inputs_and_this_code(store):
    manager = jobs.background_manager()

    def fn(x):
        return x

    k1, k2 = (manager.build_cache_key(fn, [1], [], None) for _ in range(2))
    k3 = manager.build_cache_key(fn, [2], [], None)
    assert k1.split("-")[:2] == k2.split("-")[:2] and k1 != k2
    assert k3.split("-")[0] != k1.split("-")[0] and jobs.current_version(k1) and jobs.current_version(k3)


def test_the_disk_store_never_serves_a_result_written_under_other_code(store):
    manager = jobs.background_manager()
    old = jobs.job_key("inputs", "0" * 64)
    manager.handle.set(old, {"old engine": True})
    manager.handle.set(f"{old}-progress", ["1", "2", "half"])
    assert manager.get_progress(old) is None
    out = manager.get_result(old, None)
    assert jobs.notice_of(RuntimeError(out["background_callback_error"]["msg"]))[0] == "stale"
    assert old not in manager.handle and f"{old}-progress" not in manager.handle
    current = jobs.job_key("inputs")
    manager.handle.set(current, {"this engine": True})
    assert manager.get_result(current, None) == {"this engine": True}


def test_a_job_from_before_a_restart_onto_new_code_is_not_shown(store, monkeypatch):
    """The page's job runs on; the server restarts onto other code; the page's next poll gets a notice, not the
    old engine's result (the forked job process keeps the fingerprint of the code it was forked from)."""
    def slowish(*args, **kwargs):
        time.sleep(1.5)
        return real(*args, **kwargs)

    real = loss_distribution.monte_carlo
    monkeypatch.setattr(loss_distribution, "monte_carlo", slowish)
    app = create_app()
    page = PageClient(app)
    handle = page.start("mc", mc_runs=200)
    monkeypatch.setattr(code_version, "CODE_VERSION", "f" * 64)  # the server now runs other code
    text = status_text(page.wait(handle, timeout=30))
    assert "another version of the model" in text and "200 runs in" not in text, text
    rerun = page.start("mc", mc_runs=200)  # a re-run is keyed under the new code and shown
    assert "200 runs in" in status_text(page.wait(rerun, timeout=60))
