"""Särskilda fördjupningar (§7.1.3): the list, opening one on risk signals, the review page."""

from flask import Blueprint

bp = Blueprint("reviews", __name__, url_prefix="/fordjupningar")

from web.reviews import routes  # noqa: E402,F401
