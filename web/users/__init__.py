"""Användaradministration (administratör) and each user's own password."""

from flask import Blueprint

bp = Blueprint("users", __name__)

from web.users import routes  # noqa: E402,F401
