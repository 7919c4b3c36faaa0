"""Enheter: the list of units and the unit page."""

from flask import Blueprint

bp = Blueprint("units", __name__, url_prefix="/enheter")

from web.units import routes  # noqa: E402,F401
