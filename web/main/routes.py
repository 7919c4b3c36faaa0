"""The start page shows each role what is waiting for it."""

import datetime as dt

import sqlalchemy as sa
from flask import abort, redirect, render_template, request, session, url_for
from flask_login import current_user

from audit.access import restrict_to_visible
from audit.models import REGION_ROLES, Area, Role, Unit, UnitKind, User
from audit.trail import AuditEvent
from checklists.operations import progress
from checklists.rounds import Checklist, ChecklistStatus, Round
from web.database import get_db
from web.forms import BaseForm
from web.i18n import LANGUAGES
from web.main import bp


@bp.route("/")
def start():
    db = get_db()
    roles = current_user.role_set
    units = db.execute(
        restrict_to_visible(
            sa.select(Unit.code, Unit.name, Unit.kind, Unit.area).order_by(Unit.name),
            current_user,
            Unit.id,
        )
    ).all()
    overview = None
    if roles & REGION_ROLES:
        counts = {
            (area, kind): n
            for area, kind, n in db.execute(
                sa.select(Unit.area, Unit.kind, sa.func.count())
                .where(Unit.active.is_(True))
                .group_by(Unit.area, Unit.kind)
            )
        }
        # A pivot: one row per area, one column per kind of unit.
        overview = [(area, [counts.get((area, kind), 0) for kind in UnitKind]) for area in Area]
    recent = []
    if roles & {Role.ADMIN, Role.BESTALLARE, Role.GRANSKARE}:
        recent = db.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(5)).all()
    # What is waiting: a unit's open checklists; a reviewer's submitted ones.
    waiting = []
    if roles & {Role.VERKSAMHETSCHEF, Role.PERSONAL}:
        waiting = db.execute(
            restrict_to_visible(
                sa.select(Checklist, Round, Unit)
                .join(Round, Round.id == Checklist.round_id)
                .join(Unit, Unit.id == Checklist.unit_id)
                .where(Checklist.status.in_([ChecklistStatus.OPEN, ChecklistStatus.RETURNED]))
                .order_by(Round.deadline, Unit.name),
                current_user,
                Checklist.unit_id,
            )
        ).all()
    to_review = []
    if roles & {Role.BESTALLARE, Role.GRANSKARE}:
        to_review = db.execute(
            sa.select(Checklist, Round, Unit)
            .join(Round, Round.id == Checklist.round_id)
            .join(Unit, Unit.id == Checklist.unit_id)
            .where(Checklist.status == ChecklistStatus.SUBMITTED)
            .order_by(Checklist.submitted_at)
        ).all()
    checklist_progress = progress(db, [c.id for c, _, _ in waiting + to_review])
    user_count = None
    if Role.ADMIN in roles:
        user_count = db.scalar(sa.select(sa.func.count()).where(User.active.is_(True)))
    return render_template(
        "main/start.html",
        units=units,
        overview=overview,
        recent=recent,
        user_count=user_count,
        Role=Role,
        UnitKind=UnitKind,
        roles=roles,
        is_unit_user=bool(roles & {Role.VERKSAMHETSCHEF, Role.PERSONAL}),
        waiting=waiting,
        to_review=to_review,
        checklist_progress=checklist_progress,
        today=dt.date.today(),
        is_reviewer=bool(roles & {Role.BESTALLARE, Role.GRANSKARE}),
    )


@bp.route("/sprak", methods=["POST"])
def set_language():
    """Byt språk (POST with CSRF: a GET changes nothing)."""
    form = BaseForm()
    lang = request.form.get("lang")
    if not form.validate_on_submit() or lang not in LANGUAGES:
        abort(400)
    session["lang"] = lang
    target = request.form.get("next") or ""
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("main.start")
    return redirect(target)


@bp.route("/halsa")
def health():
    """Liveness and database check for load balancers; says nothing about the data."""
    get_db().execute(sa.text("SELECT 1"))
    return {"status": "ok"}
