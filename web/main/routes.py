"""The start page shows each role what is waiting for it."""

import datetime as dt

import sqlalchemy as sa
from flask import abort, current_app, redirect, render_template, request, session
from flask_login import current_user

from audit.access import restrict_to_visible
from audit.accounts import LOGIN_ACTIONS
from audit.db import utcnow
from audit.models import REGION_ROLES, Area, Role, Unit, UnitKind, User
from audit.trail import AuditEvent
from checklists.operations import progress
from checklists.rounds import Checklist, ChecklistStatus, Round
from web.database import get_db
from web.forms import BaseForm
from web.i18n import LANGUAGES
from web.main import bp
from web.redirects import safe_local_path
from workflows.analysis.machine import published as published_analyses
from workflows.cases.models import Case, CaseState
from workflows.fast_route import fast_route
from workflows.joint.operations import REQUIRED_PER_YEAR, held_or_planned
from workflows.models import (
    ActionPlan,
    DialogState,
    FollowUpDialog,
    PlanState,
    SanctionCase,
    SanctionState,
)
from workflows.notifications import open_reminders


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
        recent = db.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action.not_in(LOGIN_ACTIONS))
            .order_by(AuditEvent.id.desc())
            .limit(5)
        ).all()
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
    tasks = _workflow_tasks(db, roles)
    # The open deadlines whose turn is this user's (workflows.notifications.TURN).
    reminders = open_reminders(db, current_user)
    joint_have = None
    if Role.BESTALLARE in roles:  # the purchaser's own duty: two joint dialogs a year (§7.1.2)
        joint_have = held_or_planned(db, dt.date.today().year)
    # The beställare's fast route (§7.1.3): patient-safety findings without an IVO decision.
    fast = fast_route(db, undecided_only=True) if Role.BESTALLARE in roles else []
    analyses = published_analyses(db) if Role.LASARE in roles else []
    user_count = None
    if Role.ADMIN in roles:
        user_count = db.scalar(sa.select(sa.func.count()).where(User.active.is_(True)))
    return render_template(
        "main/start.html",
        units=units,
        overview=overview,
        recent=recent,
        user_count=user_count,
        analyses=analyses,
        Role=Role,
        UnitKind=UnitKind,
        roles=roles,
        is_unit_user=bool(roles & {Role.VERKSAMHETSCHEF, Role.PERSONAL}),
        waiting=waiting,
        fast=fast,
        tasks=tasks,
        reminders=reminders,
        to_review=to_review,
        checklist_progress=checklist_progress,
        today=dt.date.today(),
        is_reviewer=bool(roles & {Role.BESTALLARE, Role.GRANSKARE}),
        joint_have=joint_have,
        joint_required=REQUIRED_PER_YEAR,
    )


@bp.route("/sprak", methods=["POST"])
def set_language():
    """Byt språk (POST with CSRF: a GET changes nothing)."""
    form = BaseForm()
    lang = request.form.get("lang")
    if not form.validate_on_submit() or lang not in LANGUAGES:
        abort(400)
    session["lang"] = lang
    return redirect(safe_local_path(request.form.get("next")))


@bp.route("/halsa")
def health():
    """Liveness and database check for load balancers; says nothing about the data."""
    get_db().execute(sa.text("SELECT 1"))
    return {"status": "ok"}


# (model, state column value, whose turn, Swedish text, endpoint, id argument)
WORKFLOW_TASKS = [
    (
        FollowUpDialog,
        DialogState.MATERIAL_REQUESTED,
        "unit",
        "Lämna underlag",
        "dialogs.show",
        "dialog_id",
    ),
    (
        FollowUpDialog,
        DialogState.MATERIAL_SUBMITTED,
        "review",
        "Granska underlag",
        "dialogs.show",
        "dialog_id",
    ),
    (ActionPlan, PlanState.REQUESTED, "unit", "Skriv åtgärdsplan", "plans.show", "plan_id"),
    (ActionPlan, PlanState.RETURNED, "unit", "Komplettera åtgärdsplan", "plans.show", "plan_id"),
    (ActionPlan, PlanState.SUBMITTED, "review", "Pröva åtgärdsplan", "plans.show", "plan_id"),
    (ActionPlan, PlanState.REPORTED, "review", "Verifiera åtgärdsplan", "plans.show", "plan_id"),
    (SanctionCase, SanctionState.INFORMED, "unit", "Lämna yttrande", "sanctions.show", "case_id"),
    (
        SanctionCase,
        SanctionState.RESPONSE_RECEIVED,
        "review",
        "Bedöm sanktionsärende",
        "sanctions.show",
        "case_id",
    ),
    (
        SanctionCase,
        SanctionState.DEADLINE_PASSED,
        "review",
        "Bedöm sanktionsärende",
        "sanctions.show",
        "case_id",
    ),
    (Case, CaseState.DRAFT, "unit", "Lämna in ärendet", "cases.show", "arende_id"),
    (
        Case,
        CaseState.COMPLETION_REQUESTED,
        "unit",
        "Komplettera ärendet",
        "cases.show",
        "arende_id",
    ),
    (Case, CaseState.SUBMITTED, "purchaser", "Pröva ärendet", "cases.show", "arende_id"),
    (Case, CaseState.GRANTED, "purchaser", "Markera att ärendet gäller", "cases.show", "arende_id"),
    (Case, CaseState.NOTED, "purchaser", "Markera att ärendet gäller", "cases.show", "arende_id"),
]


def _workflow_tasks(db, roles) -> list[tuple[str, str, str, dict]]:
    """Dialogs, plans and cases waiting for this person: one query per kind of row."""
    turn = set()
    if roles & {Role.VERKSAMHETSCHEF}:
        turn.add("unit")
    if roles & {Role.BESTALLARE, Role.GRANSKARE}:
        turn.add("review")
    if Role.BESTALLARE in roles:
        turn.add("purchaser")  # ärenden are decided by the purchaser only
    tasks = []
    for model in (FollowUpDialog, ActionPlan, SanctionCase, Case):
        wanted = {
            state: (text, endpoint, arg)
            for m, state, whose, text, endpoint, arg in WORKFLOW_TASKS
            if m is model and whose in turn
        }
        if not wanted:
            continue
        stmt = (
            sa.select(model.id, model.status, model.title, Unit.name)
            .join(Unit, Unit.id == model.unit_id)
            .where(model.status.in_(list(wanted)))
        )
        if model is Case:
            # A decided case is marked in effect from its first day (the machine refuses it
            # before then): until that day it is nobody's task yet.
            start = sa.func.coalesce(Case.decided_from, Case.period_from)
            stmt = stmt.where(
                sa.or_(
                    Case.status.not_in([CaseState.GRANTED, CaseState.NOTED]),
                    start.is_(None),
                    start <= utcnow().date(),
                )
            )
        rows = db.execute(restrict_to_visible(stmt, current_user, model.unit_id)).all()
        for row_id, status, title, unit_name in rows:
            text, endpoint, arg = wanted[status]
            tasks.append((text, f"{title} – {unit_name}", endpoint, {arg: row_id}))
    return tasks


# The date of the latest review of the statement below (a self-assessment with the checks the
# test suite runs on every change).
ACCESSIBILITY_REVIEWED = dt.date(2026, 12, 4)


@bp.route("/tillganglighet")
def accessibility():
    """Tillgänglighetsredogörelse: the statement lag (2018:1937) om tillgänglighet till
    digital offentlig service requires, public like the login page."""
    return render_template(
        "main/accessibility.html",
        contact=current_app.config.get("ACCESSIBILITY_CONTACT", ""),
        reviewed=ACCESSIBILITY_REVIEWED,
    )
