"""Startsidan per roll, språkval och hälsokontroll."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from web.main import routes  # noqa: E402,F401
