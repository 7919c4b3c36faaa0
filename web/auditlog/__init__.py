"""Granskningslogg: the audit trail, read-only, with chain verification."""

from flask import Blueprint

bp = Blueprint("auditlog", __name__, url_prefix="/granskningslogg")

from web.auditlog import routes  # noqa: E402,F401
