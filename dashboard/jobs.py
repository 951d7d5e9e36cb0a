"""The store of background jobs (Monte Carlo, sweeps): private to its user, bounded, honest about lost jobs.

Dash runs a background callback in a job process (``DiskcacheManager``, one
forked process per job, results in a diskcache folder) or on a Celery worker
(``CeleryManager``, results in Redis). Its defaults are unsafe for a shared
host, so this module wraps both managers:

* **Private folder.** The store lives in the user's cache directory
  (``platformdirs.user_cache_dir("sfm")/dashboard-jobs``, or ``$SFM_CACHE_DIR``),
  created 0700. :func:`check_private` refuses a folder (or anything in it, or a
  parent) owned by another user or writable by others *before* anything in it is
  opened: diskcache unpickles what it reads, so a planted ``cache.db`` would run
  code as the dashboard's user.
* **Signing secret outside the cache.** Dash signs the job handles it gives the
  browser (cancel = kill a pid) with ``server.secret_key``, else with a secret kept
  in the evictable result store. :func:`signing_secret` takes it from
  ``$SFM_SECRET_KEY`` or a 0600 file beside the results, so eviction cannot change
  it and workers always agree.
* **Bounded results.** Every entry expires after ``ttl_s`` (Dash stores results
  without expiry), one result above ``max_result_bytes`` is replaced by a message,
  and the whole store is capped at ``store_bytes`` (diskcache culls the least
  recently stored).
* **Bounded jobs.** At most ``max_jobs`` job processes at once and
  ``max_jobs_per_session`` per page load; beyond them the job is refused with a
  message on the page (jobs are CPU-bound: more of them than cores only slows
  every user, sliders included).
* **One key per job.** Dash keys a result by the callback's inputs, so two users
  with identical inputs at the same moment shared one key, and the first to
  collect deleted the other's result. A random nonce makes each key unique.
* **Keyed by the code's version.** Each key also carries the fingerprint of the
  model code and data (:data:`dashboard.code_version.CODE_VERSION`); the store
  never serves a result written under another fingerprint (a job that outlived
  a restart onto new code) and a Celery worker on other code refuses the job,
  both with a notice asking for a re-run (:func:`job_key`, :func:`key_version`).
* **Lost jobs are told.** A job whose process is gone without a result (killed,
  worker restarted, result evicted) answers with a notice offering a re-run;
  Dash's default was silence.
* **No zombies.** Each job process is reaped by a thread of the process that
  started it; only jobs this store started (pid and start time) are ever killed.

With Celery on Redis, the folder holds only the secret file (unless
``$SFM_SECRET_KEY`` is set); jobs wait in Redis for a free worker process (the
workers' concurrency is the bound), results expire there after ``ttl_s`` and
travel as JSON, and Redis's ``maxmemory`` bounds the store.

Notices reach the page through the callbacks' ``on_error`` handler
(:func:`notice_of` tells them from real failures). The two managers are in
:mod:`dashboard.job_managers`; this module checks the folder and the settings.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
import stat
from pathlib import Path
from typing import Any

log = logging.getLogger("sfm.dashboard")

#: Folder of the job store (default: the user's cache directory).
STORE_ENV = "SFM_CACHE_DIR"
#: A Redis URL: background callbacks then go to Celery workers (``dashboard.app``'s ``CELERY_ENV``).
CELERY_ENV = "SFM_CELERY_BROKER"
#: The background-callback signing secret (at least 32 characters; default: a generated 0600 file in the store).
SECRET_ENV = "SFM_SECRET_KEY"
#: Environment variables of the limits (see :class:`Limits`).
LIMIT_ENV = {"max_jobs": "SFM_MAX_JOBS", "max_jobs_per_session": "SFM_MAX_JOBS_PER_SESSION",
             "ttl_s": "SFM_JOB_TTL_S", "store_bytes": "SFM_JOB_STORE_MB", "max_result_bytes": "SFM_JOB_RESULT_MB"}
SECRET_FILE = "signing-secret"
RESULTS, RUNNING = "results", "running"
MIN_SECRET_CHARS = 32
#: Prefix of the messages this module gives the page in place of a result.
NOTICE = "sfm-job-notice:"
MB = 2**20


class JobStoreError(Exception):
    """The job store cannot be used safely; the message says why and what to do."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """Bounds of the job store: concurrent jobs, result lifetime and sizes."""

    max_jobs: int = max(1, os.cpu_count() or 1)
    max_jobs_per_session: int = 2  # a page's Monte Carlo and its sweep
    ttl_s: int = 900
    store_bytes: int = 256 * MB
    max_result_bytes: int = 8 * MB

    @classmethod
    def from_env(cls) -> Limits:
        """Defaults, overridden by ``$SFM_MAX_JOBS`` etc. (sizes in MB); a bad value raises :class:`JobStoreError`."""
        out: dict[str, int] = {}
        for field, env in LIMIT_ENV.items():
            raw = os.environ.get(env)
            if raw is None or not raw.strip():
                continue
            try:
                value = int(raw)
                if value < 1:
                    raise ValueError
            except ValueError:
                raise JobStoreError(f"{env}={raw!r}: expected a whole number ≥ 1") from None
            out[field] = value * MB if env.endswith("_MB") else value
        return cls(**out)


# -- the folder ------------------------------------------------------------------------------

def store_dir() -> Path:
    """``$SFM_CACHE_DIR``, else ``<user cache dir>/sfm/dashboard-jobs`` (``~/.cache/sfm/dashboard-jobs`` on Linux)."""
    env = os.environ.get(STORE_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("sfm")) / "dashboard-jobs"


def _refuse(path: Path, why: str) -> JobStoreError:
    return JobStoreError(
        f"the job store {path} {why}. Another account could plant data there that the dashboard would load "
        f"(and run as code). Remove it, or point ${STORE_ENV} at a folder of your own that only you can write "
        "(mode 0700); it is created if missing.")


def _check_owner_and_mode(path: Path, st: os.stat_result, uid: int) -> None:
    if st.st_uid != uid:
        raise _refuse(path, f"is owned by uid {st.st_uid}, not by this user (uid {uid})")
    if stat.S_IMODE(st.st_mode) & 0o022:
        raise _refuse(path, f"is writable by {'others' if st.st_mode & 0o002 else 'its group'} "
                            f"(mode {stat.S_IMODE(st.st_mode):04o})")


def check_private(folder: Path) -> None:
    """Raise :class:`JobStoreError` unless ``folder`` and all in it belong to this user and no one else can write them.

    Its parents must belong to this user or root and not be writable by others
    (unless sticky, like ``/tmp``): otherwise the folder could be swapped. Nothing
    is opened or read, only ``lstat``-ed; symbolic links inside are refused.
    """
    uid = os.geteuid()
    folder = Path(os.path.realpath(folder))
    for parent in reversed(folder.parents):
        st = os.stat(parent)
        if st.st_uid not in (uid, 0):
            raise _refuse(folder, f"is inside {parent}, owned by uid {st.st_uid}")
        if stat.S_IMODE(st.st_mode) & 0o022 and not st.st_mode & stat.S_ISVTX:
            raise _refuse(folder, f"is inside {parent}, which others can write (mode {stat.S_IMODE(st.st_mode):04o})")
    st = os.lstat(folder)
    if not stat.S_ISDIR(st.st_mode):
        raise _refuse(folder, "is not a folder")
    _check_owner_and_mode(folder, st, uid)
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root) / name
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                raise _refuse(path, "is a symbolic link")
            _check_owner_and_mode(path, st, uid)


def _make_private_dirs(folder: Path) -> None:
    """Create ``folder`` and any missing parent, each 0700."""
    missing = []
    p = folder
    while not p.exists():
        missing.append(p)
        p = p.parent
    for p in reversed(missing):
        try:
            p.mkdir(mode=0o700)
        except FileExistsError:  # another worker made it first
            pass


def prepare_store(folder: Path | None = None) -> Path:
    """The checked store folder (created 0700 if missing); raises :class:`JobStoreError` when unsafe."""
    folder = Path(folder) if folder else store_dir()
    try:
        _make_private_dirs(folder)
        check_private(folder)
        st = os.stat(folder)
        if stat.S_IMODE(st.st_mode) & 0o077:  # ours, not writable by others, but readable: results and secret would be
            log.warning("job store %s had mode %04o; set to 0700", folder, stat.S_IMODE(st.st_mode))
            os.chmod(folder, 0o700)
    except OSError as exc:
        raise JobStoreError(f"the job store {folder} cannot be used: {exc.strerror or exc}. "
                            f"Point ${STORE_ENV} at a folder of your own.") from None
    return Path(os.path.realpath(folder))


def signing_secret(folder: Path) -> bytes:
    """The secret that signs job handles: ``$SFM_SECRET_KEY``, else ``folder/signing-secret`` (made once, 0600).

    The file is created under a temporary name and linked into place, so
    workers starting together agree on one secret.
    """
    env = os.environ.get(SECRET_ENV)
    if env is not None:
        if len(env) < MIN_SECRET_CHARS:
            raise JobStoreError(f"${SECRET_ENV} has {len(env)} characters: expected at least {MIN_SECRET_CHARS} "
                                "(e.g. python -c 'import secrets; print(secrets.token_hex(32))')")
        return env.encode()
    path = folder / SECRET_FILE
    if not path.exists():
        tmp = folder / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, secrets.token_hex(32).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        st = os.fstat(fd)
        if st.st_uid != os.geteuid() or stat.S_IMODE(st.st_mode) & 0o077:
            raise _refuse(path, f"(the signing secret) has owner uid {st.st_uid} and mode {stat.S_IMODE(st.st_mode):04o}; "
                                "expected yours and 0600")
        secret = os.read(fd, 4096).strip()
    finally:
        os.close(fd)
    if len(secret) < MIN_SECRET_CHARS:
        raise JobStoreError(f"the signing secret {path} is too short: delete it and start again")
    return secret


# -- notices in place of a result --------------------------------------------------------------

def notice(kind: str, text: str) -> dict[str, Any]:
    """What the store gives Dash in place of a result: Dash hands it to the callback's ``on_error``."""
    return {"background_callback_error": {"msg": f"{NOTICE}{kind}:{text}", "tb": ""}}


def notice_of(exc: BaseException) -> tuple[str, str] | None:
    """``(kind, text)`` of a notice raised by Dash from :func:`notice`, or None for a real failure."""
    msg = str(exc)
    at = msg.find(NOTICE)
    if at < 0:
        return None
    kind, _, text = msg[at + len(NOTICE):].partition(":")
    return kind, text.rstrip()


LOST = ("The job stopped before it gave a result (its process was killed or the server restarted, "
        "or its result expired). Nothing is lost on the page: press Run to run it again.")
TOO_LARGE = "The result is too large for the server to keep ({mb:.0f} MB; the limit is {limit:.0f} MB). Run a smaller job."
CANCELLED = "Cancelled. Press Run to start it again."
BUSY = ("The server is running as many jobs as it allows ({n}); try again when one has finished. "
        "(Limit: ${env}.)")
SESSION_BUSY = "This page already runs {n} jobs, the most one page may; wait for one or cancel it."
STALE = ("The job ran on another version of the model than this server's (the code or data changed since it started), "
         "so its result is not shown. Press Run to run it on this version.")


# -- keys carry the code's version ---------------------------------------------------------------------

def job_key(inputs_key: str, code: str | None = None) -> str:
    """The store's key of one job: Dash's hash of the inputs, the code fingerprint (default: this process's), a nonce."""
    from .code_version import CODE_VERSION, KEY_CHARS

    return f"{inputs_key}-{(CODE_VERSION if code is None else code)[:KEY_CHARS]}-{secrets.token_hex(8)}"


def key_version(key: str) -> str:
    """The code fingerprint (its first characters) a key of :func:`job_key` was made under ('' for another key)."""
    parts = key.split("-")
    return parts[1] if len(parts) >= 3 else ""


def current_version(key: str) -> bool:
    """Whether ``key`` was made under this process's code (a result stored under it may be served)."""
    from .code_version import CODE_VERSION, KEY_CHARS

    return key_version(key) == CODE_VERSION[:KEY_CHARS]


# -- the entry points --------------------------------------------------------------------------------

_managers: dict[tuple[str | None, str, Limits], Any] = {}


def background_manager(broker: str | None = None, folder: str | os.PathLike[str] | None = None):
    """The background-callback manager: Celery on Redis when ``broker`` is given, else diskcache in the private store.

    One per process and setting (a manager is infrastructure, not user state).
    Raises :class:`JobStoreError` when the store is unsafe or a limit is badly set.
    """
    limits = Limits.from_env()
    folder = None if broker else Path(folder or store_dir())
    key = (broker, str(folder), limits)
    if key not in _managers:
        from .job_managers import celery_manager, diskcache_manager

        _managers[key] = celery_manager(broker, limits) if broker else diskcache_manager(prepare_store(folder), limits)
    return _managers[key]


def app_secret() -> bytes:
    """The signing secret for ``server.secret_key``: ``$SFM_SECRET_KEY``, else the file in the private store."""
    if os.environ.get(SECRET_ENV) is not None:
        return signing_secret(Path())
    return signing_secret(prepare_store())


def bind(app, secret: bytes) -> None:
    """Give ``app`` its signing secret, and make its callbacks see ``app`` as Dash's current app.

    Dash signs job handles with ``server.secret_key`` of ``dash.get_app()``, which
    outside its own app context is the app created last in the process; with
    several apps in one process (tests, or two datasets) a page's handles would be
    checked against another app's secret and its jobs silently lost.
    """
    from dash._get_app import with_app_context_factory

    app.server.secret_key = secret
    for rule in app.server.url_map.iter_rules():
        if rule.rule.endswith("_dash-update-component"):
            view = app.server.view_functions[rule.endpoint]
            app.server.view_functions[rule.endpoint] = with_app_context_factory(view, app)


def refuse_to_start(exc: JobStoreError) -> None:
    """Say why the dashboard cannot start, without a traceback, and exit.

    Exit status 2; under gunicorn 3, its "worker failed to boot", which stops the
    server instead of restarting the worker forever.
    """
    import sys

    print(f"sfm dashboard: cannot start: {exc}", file=sys.stderr, flush=True)
    raise SystemExit(3 if "gunicorn" in sys.modules else 2)
