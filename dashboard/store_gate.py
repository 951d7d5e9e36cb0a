"""The job store's check at a server's start, before the page's modules are imported.

``dashboard.app`` imports this module first. Gunicorn (``dashboard.app:server``) and ``python -m dashboard`` import
``dashboard.app``, whose module-level app refuses an unsafe job store (:mod:`dashboard.jobs`: a folder others can
write, a planted ``cache.db``, a badly set limit) with a message and exit status 2, or 3 under gunicorn. Made here,
before ``core`` and the panels load, the refusal costs the import of Dash and the store's checks instead of the
whole page's (session 37: a refused ``import dashboard.app`` 2.0 s of CPU before, the figures in
``docs/invariants.md``). The checks are the ones :func:`dashboard.app.create_app` makes, in its order: the
background manager (one per process and setting, so the app's own call finds this one) and the signing secret.
"""

from __future__ import annotations

import os

from . import jobs

try:
    jobs.background_manager(os.environ.get(jobs.CELERY_ENV) or None)
    jobs.app_secret()
except jobs.JobStoreError as _exc:  # an unsafe job store: a message, no traceback, no start
    jobs.refuse_to_start(_exc)
