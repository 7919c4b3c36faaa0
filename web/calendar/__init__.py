"""Den personliga kalendern: the iCal feed behind a secret, revocable URL."""

from flask import Blueprint

bp = Blueprint("calendar", __name__, url_prefix="/kalender")

from web.calendar import routes  # noqa: E402,F401
