"""Units list (sortable, filterable, server-side so it works without JavaScript) and unit page."""

import datetime as dt

import sqlalchemy as sa
from flask import g, render_template, request
from flask_login import current_user
from sqlalchemy.orm import aliased, selectinload

from audit.access import restrict_to_visible
from audit.models import Area, Operator, Role, Unit, UnitKind
from audit.trail import AuditEvent
from checklists.rounds import Finding
from web.database import get_db
from web.units import bp
from workflows.action_plan import STATE_LABELS as PLAN_LABELS
from workflows.dialog import STATE_LABELS
from workflows.models import ActionPlan, FollowUpDialog, IvoReferral, SanctionCase
from workflows.sanction import STATE_LABELS as CASE_LABELS

MainUnit = aliased(Unit)
SORT_COLUMNS = {
    "name": Unit.name,
    "kind": Unit.kind,
    "operator": Unit.operator,
    "area": Unit.area,
}


@bp.route("/")
def index():
    args = request.args
    q = (args.get("q") or "").strip()
    sort = args.get("sort") if args.get("sort") in SORT_COLUMNS else "name"
    descending = args.get("dir") == "desc"
    stmt = sa.select(Unit, MainUnit.name.label("main_name")).outerjoin(
        MainUnit, Unit.main_unit_id == MainUnit.id
    )
    stmt = restrict_to_visible(stmt, current_user, Unit.id)
    filters = {}
    for name, enum_cls in (("area", Area), ("kind", UnitKind), ("operator", Operator)):
        value = args.get(name)
        if value in {m.value for m in enum_cls}:
            filters[name] = value
            stmt = stmt.where(getattr(Unit, name) == enum_cls(value))
    if args.get("sjukvardsgrupp") == "1":
        filters["sjukvardsgrupp"] = "1"
        stmt = stmt.where(Unit.sjukvardsgrupp_duty.is_(True))
    if q:
        stmt = stmt.where(sa.or_(Unit.name.ilike(f"%{q}%"), Unit.code.ilike(f"%{q}%")))
    column = SORT_COLUMNS[sort]
    stmt = stmt.order_by(column.desc() if descending else column.asc(), Unit.name)
    rows = get_db().execute(stmt).all()
    return render_template(
        "units/index.html",
        rows=rows,
        q=q,
        sort=sort,
        descending=descending,
        filters=filters,
        Area=Area,
        UnitKind=UnitKind,
        Operator=Operator,
    )


@bp.route("/<unit_code>")
def detail(unit_code):
    return render_unit_page(g.unit)  # resolved and access-checked in web.access


def unit_cases(db, unit) -> dict:
    """The unit's ärenden and the kinds it may file (for its unit staff), for the unit page."""
    from workflows.cases import operations as co
    from workflows.cases.machine import STATE_LABELS as ARENDE_LABELS
    from workflows.cases.models import Case
    from workflows.cases.types import kinds_for

    rows = db.scalars(
        sa.select(Case).where(Case.unit_id == unit.id).order_by(Case.created_at.desc())
    ).all()
    may_file = co.may_file(current_user, unit) and unit.kind != UnitKind.FILIAL
    return {
        "arenden": [(case, co.waiting_for(case)) for case in rows],
        "arende_labels": ARENDE_LABELS,
        "arende_types": kinds_for(unit) if may_file else [],
    }


def render_unit_page(unit, *, errors=None, posted=None, status=200):
    """The unit page; the forms on it re-render it with their error and what was typed."""
    db = get_db()
    branches = db.scalars(
        sa.select(Unit).where(Unit.main_unit_id == unit.id).order_by(Unit.name)
    ).all()
    events = db.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.entity_type == "unit", AuditEvent.entity_id == str(unit.id))
        .order_by(AuditEvent.id.desc())
        .limit(20)
    ).all()
    dialogs = db.scalars(
        sa.select(FollowUpDialog)
        .where(FollowUpDialog.unit_id == unit.id)
        .order_by(FollowUpDialog.created_at.desc())
    ).all()
    plans = db.scalars(
        sa.select(ActionPlan).where(ActionPlan.unit_id == unit.id).order_by(ActionPlan.due_date)
    ).all()
    unit_findings = db.scalars(
        sa.select(Finding)
        .where(Finding.unit_id == unit.id)
        .options(selectinload(Finding.requirement))
        .order_by(Finding.id)
    ).all()
    cases = db.scalars(
        sa.select(SanctionCase)
        .where(SanctionCase.unit_id == unit.id)
        .order_by(SanctionCase.created_at.desc())
    ).all()
    referrals = db.scalars(
        sa.select(IvoReferral)
        .where(IvoReferral.unit_id == unit.id)
        .order_by(IvoReferral.referred_on.desc())
    ).all()
    return render_template(
        "units/detail.html",
        **unit_cases(db, unit),
        cases=cases,
        case_labels=CASE_LABELS,
        plans=plans,
        plan_labels=PLAN_LABELS,
        unit_findings=unit_findings,
        referrals=referrals,
        can_refer=current_user.has_role(Role.BESTALLARE, Role.GRANSKARE),
        unit=unit,
        branches=branches,
        events=events,
        dialogs=dialogs,
        dialog_labels=STATE_LABELS,
        can_plan=current_user.has_role(Role.BESTALLARE),
        today_year=dt.date.today().year,
        errors=errors or {},
        posted=posted or {},
    ), status
