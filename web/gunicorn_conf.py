"""gunicorn settings: ``gunicorn --config python:web.gunicorn_conf [--bind ...] [--workers N]``.

A module in the package rather than a ``gunicorn.conf.py`` at the top of the project: gunicorn
picks that file up only when started from that directory, silently; this one is named on the
command line (bin/serve, the README), imported like the app itself, and linted and tested
with it. Options given on the command line override the ones here.

Garbage collection: after the app is loaded, everything it holds (SQLAlchemy's mappers and
compiled-statement cache, Jinja's templates, the Babel catalogs, the imported modules --
hundreds of thousands of objects) lives as long as the worker. ``gc.freeze()`` moves them into
the permanent generation, so the collector stops traversing them on every full collection,
and, with ``--preload``, stops writing to the pages the workers share with the master
(copy-on-write). The hooks work with and without ``--preload``: without it each worker loads
the app itself and freezes afterwards (``post_worker_init``); with it the master freezes once
the app is loaded, before forking (``when_ready``), and each worker lets go of any database
connection it inherited (``post_fork``). ``post_fork`` itself is too early to freeze without
``--preload``: the worker has not loaded the app yet.

Measured in one process rendering a checklist section page, the task list and the start page
600 times (Python 3.11): collections took 4.2-4.8 % of the time, 2.2-2.5 % after the freeze
(about 158,000 objects). Raising the thresholds as well (``gc.set_threshold(50_000, 20,
100)``) took it to 0.8-1.3 %, a gain lost in the noise of the wall-clock time, paid for by
leaving cyclic garbage around longer: the thresholds stay at Python's defaults.
"""

from __future__ import annotations

import gc
import sys

wsgi_app = "web.wsgi:app"

# Longer than SQLite's busy timeout (audit.db.SQLITE_BUSY_TIMEOUT_MS, 30 s): a request that
# waits that long for the write lock ends in the error page, not in a killed worker.
timeout = 60


def when_ready(server) -> None:
    if server.cfg.preload_app:
        gc.freeze()
        server.log.info("app preloaded; %d objects frozen", gc.get_freeze_count())


def post_fork(server, worker) -> None:
    if server.cfg.preload_app:
        # A connection opened in the master must never be used by two processes.
        wsgi = sys.modules.get("web.wsgi")
        engine = getattr(wsgi, "app", None) and wsgi.app.extensions.get("halsoval.engine")
        if engine is not None:
            engine.dispose(close=False)


def post_worker_init(worker) -> None:
    gc.freeze()
    worker.log.info("app loaded; %d objects frozen", gc.get_freeze_count())
