"""Gemensamma dialoger (§7.1.2): the list per year, planning, and one dialog's page."""

from flask import Blueprint

bp = Blueprint("joint", __name__, url_prefix="/gemensamma-dialoger")

from web.joint import routes  # noqa: E402,F401
