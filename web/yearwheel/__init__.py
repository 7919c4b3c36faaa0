"""Årshjul: the year's duties per unit and for the purchaser, and the recurring reports' forms
(the telephone report §6.9, the patient-safety report §2.6, the tilläggsuppdrag annual
reports)."""

from flask import Blueprint

bp = Blueprint("yearwheel", __name__, url_prefix="/arshjul")

from web.yearwheel import routes  # noqa: E402,F401
