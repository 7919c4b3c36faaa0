"""Samlad årlig analys (§7.1.4): write, review, publish and read the year's analysis; its PDF."""

from flask import Blueprint

bp = Blueprint("analysis", __name__, url_prefix="/analys")

from web.analysis import routes  # noqa: E402,F401
