"""``/kalender/<token>.ics``: a user's deadlines and meetings for their calendar program.

Calendar programs fetch without a login, so the URL's secret is the authentication: unknown,
revoked or of an inactive account, it is a 404 (as if nothing were there). The feed holds
only what the token's user may see (:func:`workflows.calendar.calendar_items`).
"""

from __future__ import annotations

from flask import abort

from web.calendar import bp
from web.database import get_db
from workflows import calendar as cal
from workflows.notifications import base_url


@bp.route("/<token>.ics")
def feed(token):
    db = get_db()
    user = cal.user_for_token(db, token)
    if user is None:
        abort(404)
    body = cal.feed(cal.calendar_items(db, user), user, base_url())
    return (
        body,
        200,
        {
            "Content-Type": "text/calendar; charset=utf-8",
            "Cache-Control": "private, no-store",
            "X-Robots-Tag": "noindex",
        },
    )
