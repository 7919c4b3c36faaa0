"""Uppföljningsomgångar: open a round, follow its progress and results."""

from flask import Blueprint

bp = Blueprint("rounds", __name__, url_prefix="/omgangar")

from web.rounds import routes  # noqa: E402,F401
