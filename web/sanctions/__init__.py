"""Sanktionsärenden and IVO referrals."""

from flask import Blueprint

bp = Blueprint("sanctions", __name__, url_prefix="/sanktioner")

from web.sanctions import routes  # noqa: E402,F401
