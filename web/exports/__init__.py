"""Utskrifter och exporter: PDF of a checklist, dialog minutes and decision letters, Excel of a
round's results, CSV of the audit trail. Each lives under the URL of the page it prints, so the
access check (web/access.py) scopes it exactly like that page."""

from flask import Blueprint

bp = Blueprint("exports", __name__)

from web.exports import routes  # noqa: E402,F401
