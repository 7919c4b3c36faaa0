"""Kravkatalogen: browse editions by section, search and filter; compare editions."""

from flask import Blueprint

bp = Blueprint("catalog", __name__, url_prefix="/katalog")

from web.catalog import routes  # noqa: E402,F401
