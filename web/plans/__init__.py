"""Åtgärdsplaner (§7.1.3): request, write, approve, carry out, report, verify, close."""

from flask import Blueprint

bp = Blueprint("plans", __name__, url_prefix="/atgardsplaner")

from web.plans import routes  # noqa: E402,F401
