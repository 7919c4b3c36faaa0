"""Inaktivitetsgräns: the idle timeout of a login session, as the web sees it.

The server ends a login session after ``IDLE_TIMEOUT_SECONDS`` without a request
(``HALSOVAL_IDLE_TIMEOUT_SECONDS``, 30 minutes by default; :func:`audit.accounts.check_session`).
What this module adds so that nobody loses what they typed to it:

- every logged-in page tells its script (``static/session.js``) when the session idles out
  and expires (:func:`page_timer`, data attributes on ``<body>``), so that it can warn two
  minutes before and offer "Fortsätt vara inloggad" (WCAG 2.2.1), which posts to
  ``auth.keep_alive``;
- a script's request (``Accept: application/json``) from a session that has ended is
  answered 401 with JSON, not redirected to the HTML login page (:func:`unauthorized`), also
  when its CSRF token went with the session (:func:`csrf_refused`); the script then keeps
  what was typed in the browser and sends the user to log in.
"""

from __future__ import annotations

import datetime as dt
import math
import os

from flask import Flask, current_app, flash, g, jsonify, redirect, request
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_url

from audit.accounts import IDLE_TIMEOUT, TOUCH_INTERVAL, SessionCheck
from audit.db import utcnow
from web.negotiation import wants_json

# The warning comes this long before the session idles out.
WARN_BEFORE = dt.timedelta(minutes=2)
# Shorter timeouts would leave the warning no time: it comes WARN_BEFORE ahead, and the
# server notes a request only once per TOUCH_INTERVAL.
MIN_IDLE_TIMEOUT = dt.timedelta(minutes=5)


def idle_timeout_seconds_from_env() -> int:
    """``HALSOVAL_IDLE_TIMEOUT_SECONDS``, or the 30 minutes of :data:`IDLE_TIMEOUT`."""
    raw = os.environ.get("HALSOVAL_IDLE_TIMEOUT_SECONDS", "").strip()
    if not raw:
        return int(IDLE_TIMEOUT.total_seconds())
    try:
        return int(raw)
    except ValueError:
        raise RuntimeError(
            f"HALSOVAL_IDLE_TIMEOUT_SECONDS must be a whole number of seconds, not {raw!r}"
        ) from None


def idle_timeout(app: Flask | None = None) -> dt.timedelta:
    """The configured idle timeout (inaktivitetsgräns) of login sessions."""
    return dt.timedelta(seconds=(app or current_app).config["IDLE_TIMEOUT_SECONDS"])


def remember_check(check: SessionCheck) -> None:
    """Keep the request's session check for the page's timer and the keep-alive."""
    g.login_check = check


def login_check() -> SessionCheck | None:
    return g.get("login_check")


def _seconds_until(moment: dt.datetime, now: dt.datetime) -> int:
    # Rounded down: the script must never count on more than the server grants.
    return max(0, math.floor((moment - now).total_seconds()))


def timer_state(check: SessionCheck) -> dict:
    """What the page's script needs to know of a live session, in whole seconds from now."""
    now = check.now or utcnow()
    return {
        "idle_timeout": int(idle_timeout().total_seconds()),
        "idle_remaining": _seconds_until(check.idle_ends_at, now),
        "expires_in": _seconds_until(check.expires_at, now),
        "touch_interval": int(TOUCH_INTERVAL.total_seconds()),
        "warn_before": int(WARN_BEFORE.total_seconds()),
    }


def page_timer() -> dict | None:
    """The timer of a logged-in page (``None`` for anyone else): rendered onto ``<body>``."""
    if not current_user.is_authenticated:
        return None
    check = login_check()
    if check is None or check.user is None:
        return None
    return timer_state(check)


def timeout_minutes() -> int:
    return max(1, round(idle_timeout().total_seconds() / 60))


def logged_out_json():
    """The answer to a script whose login session has ended: 401, never the login page;
    ``reason`` says why when the cookie named a session that has ended ("idle_timeout" …)."""
    check = login_check()
    return jsonify(
        ok=False,
        error="logged_out",
        reason=check.ended_reason if check is not None else None,
        message=_("You have been logged out. Log in again to continue."),
    ), 401


def unauthorized():
    """Flask-Login's unauthorized handler: a script gets 401 JSON; a browser is sent to log
    in (with ``next``), as Flask-Login itself would do; the read API answers 401 JSON."""
    from web.api.errors import api_error, is_api_request

    if is_api_request():
        return api_error(401, _("Give a valid API token: Authorization: Bearer <token>."))
    if wants_json():
        return logged_out_json()
    manager = current_app.login_manager
    check = login_check()
    if check is not None and check.ended_reason == "idle_timeout":
        message = ngettext(
            "You have been logged out after %(num)s minute without activity.",
            "You have been logged out after %(num)s minutes without activity.",
            timeout_minutes(),
        )
    else:
        message = str(manager.login_message)
    flash(message, manager.login_message_category)
    return redirect(login_url(manager.login_view, next_url=request.url))


def csrf_refused():
    """For a script whose CSRF token was refused: 401 JSON when it is not logged in (the token
    went with the session, at logout in another tab), else 400 JSON with the reason; ``None``
    for a browser's form, which gets the error page."""
    if not wants_json():
        return None
    if not current_user.is_authenticated:
        return logged_out_json()
    return jsonify(
        ok=False,
        error="csrf",
        message=_("The form had expired. Reload the page and try again."),
    ), 400


def init_app(app: Flask) -> None:
    seconds = app.config["IDLE_TIMEOUT_SECONDS"] = int(app.config["IDLE_TIMEOUT_SECONDS"])
    if seconds < MIN_IDLE_TIMEOUT.total_seconds():
        raise RuntimeError(
            f"the idle timeout must be at least {int(MIN_IDLE_TIMEOUT.total_seconds())} "
            f"seconds (HALSOVAL_IDLE_TIMEOUT_SECONDS), not {seconds}"
        )
    app.login_manager.unauthorized_handler(unauthorized)

    @app.context_processor
    def _timer():
        return {"session_timer": page_timer, "session_timeout_minutes": timeout_minutes}
