"""API-nycklar: a user's own personal API tokens (create, shown once; revoke) and the
human-readable page about the read API."""

from flask import Blueprint

bp = Blueprint("apikeys", __name__)

from web.apikeys import routes  # noqa: E402,F401
