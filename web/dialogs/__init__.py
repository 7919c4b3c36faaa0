"""Uppföljningsdialoger (§7.1.1): list, plan, and drive one dialog through its machine."""

from flask import Blueprint

bp = Blueprint("dialogs", __name__, url_prefix="/dialoger")

from web.dialogs import routes  # noqa: E402,F401
