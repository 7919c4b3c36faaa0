"""One database session per request; the request commits once at its end.

A response below 400 commits; anything else (an error page, a refused form, an exception)
rolls back, so a failed request changes nothing.

A request that may write (any method but GET, HEAD and OPTIONS) declares write intent before
it touches the database, so that on SQLite its transactions begin with BEGIN IMMEDIATE: it
waits for the write lock (up to the busy timeout) instead of failing with "database is locked"
when another worker committed after it had begun reading (see :mod:`audit.db`). GET, HEAD and
OPTIONS never write in their transaction; the one small write such a request may need --
touching the login session -- is handed to :func:`session_write` and done after the request's
transaction has ended, in a short transaction of its own, and never fails the request.

A hot path marked :func:`writes_late` (an item's save) instead reads without the lock and
writes in :func:`audit.db.write_phase`, a short transaction of its own that commits at once;
its request's own transaction only reads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, current_app, g, request
from sqlalchemy.orm import Session

from audit.db import (
    reset_late_write,
    reset_write_intent,
    set_late_write,
    set_write_intent,
    write_intent,
)

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Write = Callable[[Session], None]


def init_app(app: Flask, session_factory) -> None:
    app.extensions["halsoval.session_factory"] = session_factory

    @app.before_request
    def _declare_write_intent():
        # Registered before every other hook, so before anything opens the session.
        if request.method in SAFE_METHODS:
            return
        view = app.view_functions.get(request.endpoint)
        if getattr(view, "writes_late", False):
            g._late_write = set_late_write(True)
        else:
            g._write_intent = set_write_intent(True)

    @app.after_request
    def _commit(response):
        db: Session | None = g.pop("_db", None)
        if db is None:
            return response
        try:
            if response.status_code < 400:
                db.commit()
                g.pop("_writes_to_redo", None)  # they landed with the request
            else:
                db.rollback()
        finally:
            db.close()
        return response

    @app.teardown_request
    def _close(exc):
        discard_session()
        token = g.pop("_write_intent", None)
        if token is not None:
            reset_write_intent(token)
        token = g.pop("_late_write", None)
        if token is not None:
            reset_late_write(token)
        writes = g.pop("_deferred_writes", []) + g.pop("_writes_to_redo", [])
        for write in writes:
            _write_apart(session_factory, write)


def writes_late(view):
    """Mark a view that reads first and writes in :func:`audit.db.write_phase`.

    For the hot paths (an item's save): its request does not take SQLite's write lock at
    BEGIN, so its reads run in parallel with other workers, and holds the lock only for the
    write phase, which commits by itself. Bookkeeping writes (:func:`session_write`) are done
    after the request, as for a GET.
    """
    view.writes_late = True
    return view


def get_db() -> Session:
    """The request's session, opened on first use."""
    if "_db" not in g:
        g._db = current_app.extensions["halsoval.session_factory"]()
    return g._db


def discard_session() -> None:
    """Roll back and drop the request's session (after a failure, or at the end).

    The next :func:`get_db` opens a fresh one. Failures doing so are logged, never raised: this
    runs on the way to an error page.
    """
    db: Session | None = g.pop("_db", None)
    if db is None:
        return
    try:
        db.rollback()
    except Exception as exc:
        log.warning("rollback of a failed request's session failed: %s", describe_error(exc))
    try:
        db.close()
    except Exception as exc:
        log.warning("closing a failed request's session failed: %s", describe_error(exc))


def session_write(write: Write) -> None:
    """A small bookkeeping write that must neither fail the request nor be lost with it.

    In a request that may write, ``write`` runs at once in the request's transaction; should
    that be rolled back (an error page, a refused form), it is done again after the request
    in a transaction of its own. In a GET, HEAD or OPTIONS request it only runs afterwards, in
    a transaction of its own with write intent. A failure there is logged and swallowed.
    ``write`` must be idempotent.
    """
    if request.method in SAFE_METHODS or "_late_write" in g:
        g.setdefault("_deferred_writes", []).append(write)
    else:
        write(get_db())
        g.setdefault("_writes_to_redo", []).append(write)


def _write_apart(session_factory, write: Write) -> None:
    try:
        with write_intent():
            db: Session = session_factory()
            try:
                write(db)
                db.commit()
            finally:
                db.close()
    except Exception as exc:
        log.warning("bookkeeping write after the request failed: %s", describe_error(exc))


def describe_error(exc: BaseException, *, statement: bool = False) -> str:
    """A database error for the log, without any value from a row or a form.

    The class, the driver's error code, PostgreSQL's table, column and constraint names and,
    with ``statement``, the SQL (whose parameters are never in it: ``hide_parameters``) --
    but not the driver's message: PostgreSQL's DETAIL repeats the values of the failing row,
    that is, what someone typed.
    """
    parts = [type(exc).__name__]
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlite_errorname", None) or getattr(orig, "sqlstate", None)
    if code:
        parts.append(f"({code})")
    diag = getattr(orig, "diag", None)
    for name in ("table_name", "column_name", "constraint_name"):
        if value := getattr(diag, name, None):
            parts.append(f"{name}={value}")
    if statement and (sql := getattr(exc, "statement", None)):
        parts.append(f"[SQL: {' '.join(sql.split())}]")
    return " ".join(parts)
