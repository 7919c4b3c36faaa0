"""Checklistor: answering (units), reviewing (beställare, granskare), evidence and findings."""

from flask import Blueprint

bp = Blueprint("checklists", __name__, url_prefix="/checklistor")

from web.checklists import routes  # noqa: E402,F401
