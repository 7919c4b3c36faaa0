"""Log in (session rotated, failures throttled) and log out (session ended server-side)."""

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user

from audit.accounts import authenticate, end_session
from web.auth import bp
from web.auth.forms import LoginForm
from web.database import get_db
from web.redirects import safe_local_path


@bp.route("/logga-in", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.start"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        db = get_db()
        result = authenticate(
            db,
            form.username.data,
            form.password.data,
            request.remote_addr or "",
            secret=current_app.secret_key.encode(),
        )
        if result.user is not None:
            lang = session.get("lang")
            session.clear()  # rotate: nothing from before the login survives it
            if lang:
                session["lang"] = lang
            result.user.login_token = result.token
            login_user(result.user)
            target = safe_local_path(request.args.get("next"))
            if result.user.must_change_password:
                flash(_("Choose your own password before you go on."), "info")
                return redirect(url_for("users.own_password", next=target))
            return redirect(target)
        # Record the failed attempt even though the response is not a success.
        db.commit()
        if result.throttled:
            status = 429
            form.form_errors.append(
                _(
                    "Too many failed login attempts. Wait %(wait)s and try again.",
                    wait=wait_text(result.retry_after),
                )
            )
        else:
            form.form_errors.append(_("Wrong user name or password."))
    response = current_app.make_response((render_template("auth/login.html", form=form), status))
    if status == 429:
        response.headers["Retry-After"] = str(result.retry_after)
    return response


def wait_text(seconds: int) -> str:
    """How long to wait, for people: "45 sekunder", "3 minuter" (rounded up)."""
    if seconds < 60:
        return ngettext("%(num)s second", "%(num)s seconds", seconds)
    minutes = -(-seconds // 60)
    return ngettext("%(num)s minute", "%(num)s minutes", minutes)


@bp.route("/logga-ut", methods=["POST"])
def logout():
    if current_user.is_authenticated and current_user.login_token:
        end_session(get_db(), current_user.login_token)
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have been logged out."), "info")
    return redirect(url_for("auth.login"))
