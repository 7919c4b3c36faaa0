"""Bearer-token login for the read API: a personal API token (audit/api_tokens.py) stands in
for a login session, for GET requests under ``/api/v1/`` only. The token's user is then
``current_user`` and web/access.py checks roles and units exactly as for a session.

Every request made with a token is logged (``api_token_uses``) after the request, in a short
transaction of its own (:func:`web.database.session_write`), with the route and the status it
got -- also a 403 or 404. A refused token is logged in the application log by its first
characters only (never the whole secret), since it names no known token to attach a row to.
"""

from __future__ import annotations

import functools
import logging

from flask import Flask, g, request

from audit.api_tokens import SHOWN_PREFIX, find_live_token, record_use
from web.api.errors import is_api_request
from web.database import SAFE_METHODS, get_db, session_write

log = logging.getLogger(__name__)


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def load_user_from_token(_request):
    """Flask-Login's request loader: the user of a live token, for API reads only."""
    if not is_api_request() or request.method not in SAFE_METHODS:
        return None
    secret = bearer_secret()
    if secret is None:
        return None
    token = find_live_token(get_db(), secret)
    if token is None:
        log.info("API token refused (%s…)", secret[:SHOWN_PREFIX].encode("unicode_escape"))
        return None
    g.api_token_id = token.id
    return token.user


def _log_use(response):
    token_id = g.pop("api_token_id", None)
    if token_id is not None:
        endpoint = request.endpoint or ""
        write = functools.partial(
            _write_use, token_id, request.method, endpoint, response.status_code
        )
        session_write(write)
    return response


def _write_use(token_id, method, endpoint, status, db) -> None:
    record_use(db, token_id, method, endpoint, status)


def init_app(app: Flask) -> None:
    app.login_manager.request_loader(load_user_from_token)
    app.after_request(_log_use)
