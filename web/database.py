"""One database session per request; the request commits once at its end.

A response below 400 commits; anything else (an error page, a refused form, an exception)
rolls back, so a failed request changes nothing.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


def init_app(app: Flask, session_factory) -> None:
    app.extensions["halsoval.session_factory"] = session_factory

    @app.after_request
    def _commit(response):
        db: Session | None = g.pop("_db", None)
        if db is None:
            return response
        try:
            if response.status_code < 400:
                db.commit()
            else:
                db.rollback()
        finally:
            db.close()
        return response

    @app.teardown_request
    def _close(exc):
        db: Session | None = g.pop("_db", None)
        if db is not None:
            db.rollback()
            db.close()


def get_db() -> Session:
    """The request's session, opened on first use."""
    if "_db" not in g:
        g._db = current_app.extensions["halsoval.session_factory"]()
    return g._db
