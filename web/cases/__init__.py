"""Ärenden: notices and applications from the health centres, and the purchaser's inbox."""

from flask import Blueprint

bp = Blueprint("cases", __name__, url_prefix="/arenden")

from web.cases import routes  # noqa: E402,F401
