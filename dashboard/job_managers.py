"""The two background-callback managers of :mod:`dashboard.jobs`: forked processes on diskcache, or Celery on Redis.

Both give each job its own result key (Dash's hash of the inputs, the code's
fingerprint and a random nonce: :func:`dashboard.jobs.job_key`), serve no result
of a key made under other code, and answer a job that ended without a result
with a notice. A Celery worker refuses a job whose key was made under other code
than its own. The diskcache
manager also bounds the jobs (a registry of running jobs in ``<store>/running``,
each checked by pid and start time), reaps its job processes, and kills only
processes it started.
"""

from __future__ import annotations

import functools
import json
import logging
import pickle
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from .jobs import (BUSY, CANCELLED, LIMIT_ENV, LOST, MB, RESULTS, RUNNING, SESSION_BUSY, STALE, TOO_LARGE, Limits,
                   current_version, job_key, notice)

log = logging.getLogger("sfm.dashboard")


# -- diskcache: the result store and the job registry ------------------------------------------

def _result_cache_class():
    import diskcache

    class ResultCache(diskcache.Cache):
        """diskcache whose entries expire after ``ttl_s`` unless told otherwise, and whose results have a size cap."""

        def set(self, key, value, expire=None, read=False, tag=None, retry=False):  # noqa: D102 - diskcache's
            if isinstance(key, str) and not read and not key.endswith(("-progress", "-set_props")):
                size = len(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
                if size > self.sfm_max_result_bytes:
                    log.warning("job result of %d bytes replaced by a notice (limit %d)", size, self.sfm_max_result_bytes)
                    value = notice("too-large", TOO_LARGE.format(mb=size / MB, limit=self.sfm_max_result_bytes / MB))
            return super().set(key, value, expire=self.sfm_ttl_s if expire is None else expire, read=read, tag=tag,
                               retry=retry)

    return ResultCache


def _session_id() -> str:
    """The page load asking (Dash's signed ``endId``), else the client address."""
    try:
        import flask
        from dash import _callback, get_app

        end_id = _callback.get_request_end_id(get_app()._get_signing_secret())
        if end_id:
            return f"page:{end_id}"
        return f"addr:{flask.request.remote_addr}"
    except Exception:  # noqa: BLE001 - outside a request (tests): one session
        return "local"


def _alive(pid: int, started: float) -> bool:
    """The process ``pid`` runs and is the one started at ``started`` (not a later process given the same pid)."""
    import psutil

    try:
        p = psutil.Process(pid)
        return p.status() != psutil.STATUS_ZOMBIE and abs(p.create_time() - started) < 0.05
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def _job_pid(job: Any) -> int | None:
    try:
        pid = int(job)
    except (TypeError, ValueError):
        return None
    return pid if pid > 0 else None


#: Held by every use of the store's SQLite files in this process and across each fork of a job process: a fork
#: while another thread is inside SQLite copies its locked mutexes into the child, which then hangs forever
#: (seen in a threaded server with two jobs started at the same moment).
_STORE_LOCK = threading.RLock()


def _locked(method):
    @functools.wraps(method)
    def run(*args, **kwargs):
        with _STORE_LOCK:
            return method(*args, **kwargs)
    return run


def diskcache_manager(folder: Path, limits: Limits):
    """Dash's ``DiskcacheManager`` on the checked ``folder``, with the bounds of ``limits``."""
    import diskcache
    import psutil
    from dash import DiskcacheManager
    from multiprocess import Process

    results = _result_cache_class()(str(folder / RESULTS), size_limit=limits.store_bytes,
                                    eviction_policy="least-recently-stored", cull_limit=2)
    results.sfm_ttl_s, results.sfm_max_result_bytes = limits.ttl_s, limits.max_result_bytes
    results.expire()  # drop what expired while no server ran
    running = diskcache.Cache(str(folder / RUNNING), eviction_policy="none")

    class JobManager(DiskcacheManager):
        """DiskcacheManager with bounded jobs, one key per job, lost-job notices and reaped job processes."""

        limits: Limits
        result_ready = _locked(DiskcacheManager.result_ready)
        clear_cache_entry = _locked(DiskcacheManager.clear_cache_entry)

        def build_cache_key(self, fn, args, cache_args_to_ignore, triggered):
            return job_key(super().build_cache_key(fn, args, cache_args_to_ignore, triggered))

        @_locked
        def get_progress(self, key):
            return super().get_progress(key) if current_version(key) else None

        @_locked
        def get_updated_props(self, key):
            return super().get_updated_props(key) if current_version(key) else {}

        def _jobs(self) -> dict[str, dict[str, Any]]:
            """Registered jobs still running (the dead ones are dropped); call inside ``running.transact()``."""
            out = {}
            now = time.time()
            for k in list(running.iterkeys()):
                job = running.get(k) if k.startswith("slot:") else None
                if job is None:
                    continue
                if job["pid"] is None:
                    ok = now - job["reserved"] < 30  # a slot taken for a process being started
                else:
                    ok = _alive(job["pid"], job["started"])
                if ok:
                    out[k] = job
                else:
                    running.delete(k)
            return out

        @_locked
        def call_job_fn(self, key, job_fn, args, context):
            session = _session_id()
            slot = f"slot:{secrets.token_hex(8)}"
            with running.transact():
                jobs = self._jobs()
                mine = sum(j["session"] == session for j in jobs.values())
                if len(jobs) >= self.limits.max_jobs:
                    refused = notice("busy", BUSY.format(n=self.limits.max_jobs, env=LIMIT_ENV["max_jobs"]))
                elif mine >= self.limits.max_jobs_per_session:
                    refused = notice("busy", SESSION_BUSY.format(n=mine))
                else:
                    refused = None
                    running.set(slot, {"pid": None, "reserved": time.time(), "session": session})
            if refused:
                log.info("background job refused (%d running): %s", len(jobs), refused["background_callback_error"]["msg"])
                self.handle.set(key, refused)
                return 0
            try:
                process = Process(target=job_fn, args=(key, self._make_progress_key(key), args, context))
                process.start()
            except BaseException:
                running.delete(slot)
                raise
            try:
                started = psutil.Process(process.pid).create_time()
            except psutil.NoSuchProcess:  # gone already: the registry drops it, the page hears it was lost
                started = 0.0
            running.set(slot, {"pid": process.pid, "started": started, "session": session, "reserved": time.time()})
            threading.Thread(target=process.join, name=f"reap-job-{process.pid}", daemon=True).start()
            return process.pid

        def _registered(self, job: Any) -> dict[str, Any] | None:
            pid = _job_pid(job)
            if not pid:
                return None
            with running.transact():
                return next((j for j in self._jobs().values() if j["pid"] == pid), None)

        @_locked
        def job_running(self, job):
            entry = self._registered(job)
            return bool(entry) and _alive(entry["pid"], entry["started"])

        @_locked
        def terminate_job(self, job):
            """Kill a job this store started (and its children); any other pid is left alone."""
            entry = self._registered(job)
            if not entry or not _alive(entry["pid"], entry["started"]):
                return
            try:
                proc = psutil.Process(entry["pid"])
                for child in proc.children(recursive=True):
                    child.kill()
                proc.kill()
                proc.wait(1)  # reaps it when it is ours; else its parent's reaper thread does
            except (psutil.NoSuchProcess, psutil.TimeoutExpired):
                pass
            running.set(f"cancelled:{entry['pid']}", True, expire=self.limits.ttl_s)

        @_locked
        def get_result(self, key, job):
            if not current_version(key):  # made before a restart onto other code: whatever it holds is the old engine's
                log.warning("background job %s was keyed under other code; its result is not served", job)
                result = notice("stale", STALE)  # the key's entries are cleared below
            else:
                result = self.handle.get(key, self.UNDEFINED)
            if result is self.UNDEFINED and _job_pid(job) and not self.job_running(job):
                result = self.handle.get(key, self.UNDEFINED)  # it may have finished between the two looks
                if result is self.UNDEFINED:
                    if running.get(f"cancelled:{_job_pid(job)}"):
                        result = notice("cancelled", CANCELLED)
                    else:
                        log.warning("background job %s ended without a result", job)
                        result = notice("lost", LOST)
            if result is self.UNDEFINED:
                return result
            self.clear_cache_entry(key)
            self.clear_cache_entry(self._make_progress_key(key))
            if _job_pid(job):
                self.terminate_job(job)
            return result

    manager = JobManager(results)
    manager.limits = limits
    manager.registry = running
    return manager


# -- Celery on Redis -------------------------------------------------------------------------------

def celery_manager(broker: str, limits: Limits):
    """Dash's ``CeleryManager`` on the Redis URL ``broker`` (also the result backend), JSON only, results expiring.

    Concurrency is the workers' (``celery worker -c N``): jobs beyond it wait in
    Redis. Bound Redis's memory in its configuration (``maxmemory``, policy
    ``volatile-lru``: every result has an expiry).
    """
    from celery import Celery
    from dash import CeleryManager

    celery = Celery("sfm.dashboard", broker=broker, backend=broker)
    celery.conf.update(
        result_expires=limits.ttl_s, task_serializer="json", result_serializer="json", accept_content=["json"],
        result_accept_content=["json"], worker_prefetch_multiplier=1, broker_connection_retry_on_startup=True,
        task_reject_on_worker_lost=False,
    )

    class JobManager(CeleryManager):
        """CeleryManager with one key per job and a notice for a job whose worker died or that was cancelled."""

        def build_cache_key(self, fn, args, cache_args_to_ignore, triggered):
            return job_key(super().build_cache_key(fn, args, cache_args_to_ignore, triggered))

        def make_job_fn(self, fn, progress, key=None):
            """Dash's task under another name, behind a task of Dash's name that runs it only for a key of this code."""
            run = super().make_job_fn(fn, progress, f"{key}-run")
            backend = self.handle.backend

            @self.handle.task(name=f"background_callback_{key}")
            def job_fn(result_key, progress_key, user_callback_args, context=None):
                if not current_version(result_key):
                    log.warning("job %s was keyed under other code than this worker's; refused", result_key)
                    backend.set(result_key, json.dumps(notice("stale", STALE)))
                    return None
                return run(result_key, progress_key, user_callback_args, context)

            return job_fn

        def get_progress(self, key):
            return super().get_progress(key) if current_version(key) else None

        def get_updated_props(self, key):
            return super().get_updated_props(key) if current_version(key) else {}

        def terminate_job(self, job):
            if job:
                self.handle.backend.set(f"sfm-cancelled-{job}", "1")
            super().terminate_job(job)

        def get_result(self, key, job):
            if not current_version(key):  # a page's job from before a restart onto other code
                self.clear_cache_entry(key)
                self.clear_cache_entry(self._make_progress_key(key))
                self.terminate_job(job)
                return notice("stale", STALE)
            result = super().get_result(key, job)
            if result is self.UNDEFINED and job:
                if self.handle.backend.get(f"sfm-cancelled-{job}"):
                    return notice("cancelled", CANCELLED)
                if not self.job_running(job) and self.handle.backend.get(key) is None:
                    log.warning("background job %s ended in state %s without a result", job, self.handle.AsyncResult(job).state)
                    return notice("lost", LOST)
            return result

    manager = JobManager(celery, expire=limits.ttl_s)
    manager.limits = limits
    return manager
