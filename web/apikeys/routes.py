"""Personliga API-nycklar, by each user for themselves (never for someone else), and the API
page. A new token's secret is shown once, on the answer to the POST that created it (not
cached, not in a redirect's URL or a flash message), and only its digest is stored."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, Length

from audit import api_tokens as tokens
from audit.db import utcnow
from web.apikeys import bp
from web.database import get_db
from web.forms import BaseForm, choices


class ApiTokenForm(BaseForm):
    """Ny API-nyckel: a name to recognise it by and how long it lives."""

    name = StringField(
        _l("Name"),
        validators=[
            InputRequired(_l("Give the token a name, for example the tool that will use it.")),
            Length(
                max=tokens.NAME_MAX, message=_l("At most %(max)d characters.", max=tokens.NAME_MAX)
            ),
        ],
        description=_l("For example “Power BI, regionens uppföljningsrapport”."),
    )
    days = SelectField(
        _l("Valid for"),
        choices=choices((str(d), _l("%(num)d days", num=d)) for d in tokens.LIFETIMES),
        default="90",
        validators=[InputRequired(_l("Choose how long the token is valid."))],
    )


class RevokeForm(BaseForm):
    """Återkalla: only the CSRF token."""


def _page(form=None, *, secret=None, created=None, status=200):
    response = current_app.make_response(
        (
            render_template(
                "apikeys/index.html",
                form=form or ApiTokenForm(formdata=None),
                revoke_form=RevokeForm(),
                tokens=tokens.tokens_of(get_db(), current_user),
                secret=secret,
                created=created,
                now=utcnow(),
            ),
            status,
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/konto/api-nycklar")
def index():
    return _page()


@bp.route("/konto/api-nycklar", methods=["POST"])
def create():
    form = ApiTokenForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    try:
        token, secret = tokens.create_token(
            get_db(), current_user, form.name.data, int(form.days.data)
        )
    except tokens.ApiTokenError as exc:
        form.name.errors = [*form.name.errors, str(exc)]
        return _page(form, status=422)
    return _page(secret=secret, created=token)


@bp.route("/konto/api-nycklar/<int:token_id>/aterkalla", methods=["POST"])
def revoke(token_id):
    if not RevokeForm().validate_on_submit():
        abort(400)
    token = get_db().get(tokens.ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)  # someone else's token is as if it did not exist
    tokens.revoke_token(get_db(), current_user, token)
    flash(_("The token has been revoked and no longer works."), "info")
    return redirect(url_for("apikeys.index"))


@bp.route("/hjalp/api")
def docs():
    """Om API:et: every resource with its parameters, from the generated OpenAPI document."""
    from web.api.spec import api_spec

    spec = api_spec(current_app)
    return render_template("apikeys/docs.html", spec=spec)
