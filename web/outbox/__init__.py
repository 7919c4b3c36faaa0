"""Utkorgen (administratör): what was e-mailed, what waits, what failed or is uncertain."""

from flask import Blueprint

bp = Blueprint("outbox", __name__, url_prefix="/utkorg")

from web.outbox import routes  # noqa: E402,F401
