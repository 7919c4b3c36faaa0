"""Användaradministration: list, create, roles, deactivation and one-time passwords
(administratör only), and every user's own password change (``/konto/losenord``)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from audit import accounts
from audit.accounts import AccountError
from audit.models import LoginSession, Role, RoleAssignment, Unit, User
from audit.trail import Actor
from web.database import get_db
from web.forms import BaseForm
from web.labels import label
from web.redirects import safe_local_path
from web.users import bp
from web.users.forms import (
    NO_UNIT,
    EmailForm,
    GrantRoleForm,
    NewUserForm,
    NotificationsForm,
    OwnPasswordForm,
)
from web.workflow_views import REFUSED, timeline

SORT_COLUMNS = {
    "name": User.display_name,
    "username": User.username,
    "last_login": sa.literal_column("last_login"),
}
STATUS_FILTERS = ("active", "inactive", "all")


def _actor() -> Actor:
    return Actor.of(current_user)


def _role_choices(form) -> dict[str, Unit]:
    """Fill the role and unit choices of ``form``; return the units by code."""
    units = get_db().scalars(sa.select(Unit).where(Unit.active).order_by(Unit.name)).all()
    form.role.choices = [("", _("Choose a role"))] + [(r.value, label(r)) for r in Role]
    form.unit.choices = [(NO_UNIT, _("No unit (region roles)"))] + [
        (u.code, f"{u.name} ({u.code})") for u in units
    ]
    return {u.code: u for u in units}


def _role_and_unit(form) -> tuple[Role, str | None] | None:
    """The chosen role and unit code, or ``None`` with the error beside its field."""
    role = Role(form.role.data)
    if role.is_unit_role and form.unit.data == NO_UNIT:
        form.unit.errors = [*form.unit.errors, _("Choose the unit the role is bound to.")]
        return None
    # A region role is not bound to a unit: a unit left chosen in the list is ignored.
    return role, (form.unit.data if role.is_unit_role else None)


@bp.route("/anvandare/")
def index():
    """Användare: every account, filterable by name, role and status, sortable."""
    args = request.args
    q = (args.get("q") or "").strip()[:200]
    role = args.get("roll") if args.get("roll") in {r.value for r in Role} else ""
    status = args.get("status") if args.get("status") in STATUS_FILTERS else "active"
    sort = args.get("sort") if args.get("sort") in SORT_COLUMNS else "name"
    descending = args.get("dir") == "desc"
    last_login = (
        sa.select(LoginSession.user_id, sa.func.max(LoginSession.created_at).label("last_login"))
        .group_by(LoginSession.user_id)
        .subquery()
    )
    stmt = (
        sa.select(User, last_login.c.last_login)
        .outerjoin(last_login, last_login.c.user_id == User.id)
        .options(selectinload(User.roles))
    )
    if status != "all":
        stmt = stmt.where(User.active.is_(status == "active"))
    if role:
        stmt = stmt.where(
            User.id.in_(sa.select(RoleAssignment.user_id).where(RoleAssignment.role == Role(role)))
        )
    if q:
        pattern = (
            "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(User.display_name).like(pattern, escape="\\"),
                User.username.like(pattern, escape="\\"),
            )
        )
    column = last_login.c.last_login if sort == "last_login" else SORT_COLUMNS[sort]
    order = column.desc() if descending else column.asc()
    rows = get_db().execute(stmt.order_by(order.nulls_last(), User.display_name)).all()
    filters = {k: v for k, v in (("q", q), ("roll", role), ("status", status)) if v}
    return render_template(
        "users/index.html",
        rows=rows,
        q=q,
        role=role,
        status=status,
        sort=sort,
        descending=descending,
        filters=filters,
        Role=Role,
    )


@bp.route("/anvandare/ny", methods=["GET", "POST"])
def new():
    """Ny användare, with a first role and a one-time password shown once."""
    form = NewUserForm()
    _role_choices(form)
    if form.validate_on_submit():
        chosen = _role_and_unit(form)
        if chosen is not None:
            db = get_db()
            password = accounts.one_time_password()
            try:
                user = accounts.create_user(
                    db,
                    _actor(),
                    form.username.data,
                    form.display_name.data.strip(),
                    password,
                    one_time=True,
                )
                accounts.grant_role(db, _actor(), user, *chosen)
            except AccountError as exc:
                db.rollback()
                form.username.errors = [*form.username.errors, str(exc)]
            except REFUSED as exc:
                db.rollback()
                form.form_errors.append(str(exc))
            else:
                return _one_time_page(user, password, created=True)
    status = 422 if request.method == "POST" else 200
    return render_template("users/new.html", form=form), status


def _one_time_page(user: User, password: str, *, created: bool):
    """The one-time password, shown once: never stored in clear, kept out of caches."""
    response = render_template(
        "users/one_time_password.html", user=user, password=password, created=created
    )
    return response, 200, {"Cache-Control": "no-store"}


def _user(user_id: int) -> User:
    user = get_db().get(User, user_id)
    if user is None:
        abort(404)
    return user


def _detail(
    user: User,
    *,
    grant: GrantRoleForm | None = None,
    email: EmailForm | None = None,
    error: str | None = None,
    status=200,
):
    grant = grant or GrantRoleForm(formdata=None)
    email = email or EmailForm(formdata=None, data={"email": user.email or ""})
    _role_choices(grant)
    last = get_db().scalar(
        sa.select(sa.func.max(LoginSession.created_at)).where(LoginSession.user_id == user.id)
    )
    roles = sorted(user.roles, key=lambda a: (a.role.value, a.unit.name if a.unit else ""))
    return render_template(
        "users/detail.html",
        user=user,
        roles=roles,
        grant=grant,
        email_form=email,
        error=error,
        last_login=last,
        timeline=timeline("user", user.id),
        triggers={},
        labels={},
        is_self=user.id == current_user.id,
    ), status


@bp.route("/anvandare/<int:user_id>")
def detail(user_id):
    """Användare: the account, its roles, its history."""
    return _detail(_user(user_id))


@bp.route("/anvandare/<int:user_id>/roller", methods=["POST"])
def grant(user_id):
    """Tilldela roll."""
    user = _user(user_id)
    form = GrantRoleForm()
    _role_choices(form)
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _detail(user, grant=form, status=422)
    chosen = _role_and_unit(form)
    if chosen is None:
        return _detail(user, grant=form, status=422)
    try:
        accounts.grant_role(get_db(), _actor(), user, *chosen)
    except AccountError as exc:
        get_db().rollback()
        form.role.errors = [*form.role.errors, str(exc)]
        return _detail(user, grant=form, status=409)
    flash(_("The role has been granted."), "info")
    return redirect(url_for("users.detail", user_id=user.id))


@bp.route("/anvandare/<int:user_id>/roller/<int:assignment_id>/ta-bort", methods=["POST"])
def revoke(user_id, assignment_id):
    """Ta bort roll."""
    user = _user(user_id)
    if not BaseForm().validate_on_submit():
        abort(400)
    assignment = next((a for a in user.roles if a.id == assignment_id), None)
    if assignment is None:
        abort(404)
    try:
        accounts.revoke_role(
            get_db(),
            _actor(),
            user,
            assignment.role,
            assignment.unit.code if assignment.unit else None,
        )
    except AccountError as exc:
        get_db().rollback()
        return _detail(_user(user_id), error=str(exc), status=409)
    flash(_("The role has been revoked."), "info")
    return redirect(url_for("users.detail", user_id=user.id))


@bp.route("/anvandare/<int:user_id>/status", methods=["POST"])
def set_status(user_id):
    """Aktivera eller inaktivera användare."""
    user = _user(user_id)
    if not BaseForm().validate_on_submit():
        abort(400)
    wanted = request.form.get("active")
    if wanted not in ("0", "1"):
        return _detail(user, error=_("Choose whether the account is to be active."), status=422)
    try:
        accounts.set_active(get_db(), _actor(), user, wanted == "1")
    except AccountError as exc:
        get_db().rollback()
        return _detail(_user(user_id), error=str(exc), status=409)
    flash(
        _("The account is active.") if wanted == "1" else _("The account is deactivated."), "info"
    )
    return redirect(url_for("users.detail", user_id=user.id))


@bp.route("/anvandare/<int:user_id>/engangslosenord", methods=["POST"])
def reset_password(user_id):
    """Sätt engångslösenord: the user's sessions end; they must choose a password at login."""
    user = _user(user_id)
    if not BaseForm().validate_on_submit():
        abort(400)
    if not user.active:
        return _detail(user, error=_("Activate the account before setting a password."), status=409)
    password = accounts.set_one_time_password(get_db(), _actor(), user)
    return _one_time_page(user, password, created=False)


@bp.route("/konto/losenord", methods=["GET", "POST"])
def own_password():
    """Byt ditt lösenord (every user); required after a one-time password."""
    form = OwnPasswordForm()
    target = safe_local_path(request.args.get("next"))
    if form.validate_on_submit():
        db = get_db()
        try:
            accounts.change_own_password(
                db, current_user, form.current.data, form.new.data, current_user.login_token
            )
        except AccountError as exc:
            db.rollback()
            field = form.current if isinstance(exc, accounts.WrongPassword) else form.new
            field.errors = [*field.errors, str(exc)]
        else:
            flash(_("Your password has been changed."), "info")
            return redirect(target)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "users/own_password.html", form=form, forced=current_user.must_change_password
    ), status


@bp.route("/anvandare/<int:user_id>/e-post", methods=["POST"])
def set_email(user_id):
    """Ändra användarens e-postadress (administratör)."""
    user = _user(user_id)
    form = EmailForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _detail(user, email=form, status=422)
    try:
        accounts.set_email(get_db(), _actor(), user, form.email.data)
    except AccountError as exc:
        get_db().rollback()
        form.email.errors = [*form.email.errors, str(exc)]
        return _detail(_user(user_id), email=form, status=422)
    flash(_("The e-mail address has been saved."), "info")
    return redirect(url_for("users.detail", user_id=user.id))


@bp.route("/anvandare/<int:user_id>/kalenderlank", methods=["POST"])
def send_calendar_link(user_id):
    """Skicka kalenderlänk (administratör): a new personal calendar link e-mailed to the user,
    for someone who never logs in (§7.1: what is due and late reaches them in their own
    calendar). Any earlier link stops working; the secret is in the e-mail only, never on the
    page or in the trail."""
    from audit.outbox import enqueue_email
    from audit.trail import record
    from workflows.calendar import active_token, create_token

    if not BaseForm().validate_on_submit():
        abort(400)
    user = _user(user_id)
    db = get_db()
    if not user.active or not user.email:
        flash(
            _("A calendar link can be sent only to an active account with an e-mail address."),
            "error",
        )
        return redirect(url_for("users.detail", user_id=user.id))
    token = create_token(db, user)
    row = active_token(db, user)
    url = url_for("calendar.feed", token=token, _external=True)
    enqueue_email(
        db,
        key=f"calendar-link:{user.id}:{row.id}",
        user=user,
        subject="Din kalenderlänk till Hälsoval uppföljning",
        body=(
            f"Hej {user.display_name},\n\n"
            "Här är din personliga kalenderlänk med det som ska vara klart och det som är "
            "försenat för dina enheter i Hälsoval uppföljning. Lägg till den som "
            "prenumeration i din kalender (till exempel Outlook: Lägg till kalender > Från "
            f"Internet):\n\n{url}\n\n"
            "Länken är personlig: dela den inte. En tidigare länk slutar fungera nu. Be "
            "administratören om en ny om den kommer i fel händer.\n\n"
            "Hälsoval uppföljning, Region Västerbotten\n"
        ),
    )
    record(db, _actor(), "user", user.id, "calendar_link_sent", after={"token": row.id})
    db.commit()
    flash(_("A new calendar link has been e-mailed to %(email)s.", email=user.email), "info")
    return redirect(url_for("users.detail", user_id=user.id))


# --- the user's own account: e-mail, notifications, calendar feed ----------------------------


def _account(*, email=None, notifications=None, feed_url=None, status=200):
    from workflows.calendar import active_token

    user = current_user
    email = email or EmailForm(formdata=None, data={"email": user.email or ""})
    notifications = notifications or NotificationsForm(
        formdata=None,
        data={a: getattr(user, a) for a in NotificationsForm.attributes()},
    )
    token = active_token(get_db(), user)
    headers = {"Cache-Control": "no-store"} if feed_url else {}
    return (
        render_template(
            "users/account.html",
            email_form=email,
            notifications=notifications,
            token=token,
            feed_url=feed_url,
        ),
        status,
        headers,
    )


@bp.route("/konto/")
def account():
    """Mitt konto: e-postadress, aviseringar och kalenderlänk."""
    return _account()


@bp.route("/konto/e-post", methods=["POST"])
def own_email():
    """Ändra din e-postadress."""
    form = EmailForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _account(email=form, status=422)
    try:
        accounts.set_email(get_db(), _actor(), current_user, form.email.data)
    except AccountError as exc:
        get_db().rollback()
        form.email.errors = [*form.email.errors, str(exc)]
        return _account(email=form, status=422)
    flash(_("Your e-mail address has been saved."), "info")
    return redirect(url_for("users.account"))


@bp.route("/konto/aviseringar", methods=["POST"])
def own_notifications():
    """Välj vilka e-postmeddelanden du vill få."""
    form = NotificationsForm()
    if not form.validate_on_submit():
        abort(400)
    accounts.set_notifications(
        get_db(), _actor(), current_user, {a: form[a].data for a in form.attributes()}
    )
    flash(_("Your notification settings have been saved."), "info")
    return redirect(url_for("users.account"))


@bp.route("/konto/kalender", methods=["POST"])
def calendar_token():
    """Skapa eller byt kalenderlänk: the new secret URL is shown once."""
    from workflows.calendar import create_token

    if not BaseForm().validate_on_submit():
        abort(400)
    token = create_token(get_db(), current_user)
    return _account(feed_url=url_for("calendar.feed", token=token, _external=True))


@bp.route("/konto/kalender/aterkalla", methods=["POST"])
def revoke_calendar_token():
    """Återkalla kalenderlänken: the URL stops working at once."""
    from workflows.calendar import revoke_token

    if not BaseForm().validate_on_submit():
        abort(400)
    if revoke_token(get_db(), current_user):
        flash(_("The calendar link has been revoked. It no longer works."), "info")
    return redirect(url_for("users.account"))
