"""Hjälp: how the follow-up works, with the workflows' diagrams drawn from the machines."""

from flask import Blueprint

bp = Blueprint("help", __name__, url_prefix="/hjalp")

from web.help import routes  # noqa: E402,F401
