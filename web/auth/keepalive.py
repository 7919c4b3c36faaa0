"""Fortsätt vara inloggad: the keep-alive behind the idle-timeout warning (WCAG 2.2.1)."""

from flask import jsonify, redirect, request

from audit.accounts import apply_session_check, keep_session_alive
from web import session_timeout
from web.auth import bp
from web.database import get_db
from web.negotiation import wants_json
from web.redirects import safe_local_path


@bp.route("/inloggning/fortsatt", methods=["POST"])
def keep_alive():
    """Förläng inloggningen: touch the login session now (even within the touch interval)
    and tell the page's script how long it has again; CSRF-checked like every POST.

    Only a logged-in user gets here (``web.access``); a script whose session has ended gets
    401 JSON from the access check instead. A form posted without the script goes back to
    ``next``.
    """
    check = session_timeout.login_check()
    if check is None or check.user is None:  # not reached: the access check let us in
        return session_timeout.unauthorized()
    check = keep_session_alive(check, session_timeout.idle_timeout())
    apply_session_check(get_db(), check)
    if wants_json():
        return jsonify(ok=True, **session_timeout.timer_state(check))
    return redirect(safe_local_path(request.form.get("next")))
