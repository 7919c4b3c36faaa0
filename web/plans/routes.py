"""Action plan pages: list by state and lateness, the plan with its measures and actions."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from audit.access import restrict_to_visible
from audit.models import Role, Unit
from checklists.rounds import Finding
from web.database import get_db
from web.forms import BaseForm
from web.plans import bp
from web.workflow_views import (
    REFUSED,
    fire_from_form,
    parse_date,
    parse_ids,
    refusal,
    refuse_on_unit_page,
    timeline,
    unit_from_form,
)
from workflows import action_plan as ap
from workflows.models import ActionMeasure, ActionPlan, ActionPlanFinding


@bp.route("/")
def index():
    stmt = (
        sa.select(ActionPlan)
        .join(Unit, Unit.id == ActionPlan.unit_id)
        .options(selectinload(ActionPlan.unit), selectinload(ActionPlan.measures))
        .order_by(ActionPlan.due_date)
    )
    plans = get_db().scalars(restrict_to_visible(stmt, current_user, ActionPlan.unit_id)).all()
    today = dt.date.today()
    return render_template(
        "plans/index.html",
        plans=plans,
        labels=ap.STATE_LABELS,
        today=today,
        is_overdue=ap.is_overdue,
        overdue_measures=ap.overdue_measures,
    )


@bp.route("/ny", methods=["POST"])
def new():
    unit = unit_from_form()
    db = get_db()
    try:
        plan = ap.request_action_plan(
            db,
            current_user,
            unit,
            title=request.form.get("title", ""),
            requirements=request.form.get("requirements", ""),
            due_date=parse_date(request.form.get("due_date")),
            finding_ids=parse_ids(request.form.getlist("finding")),
        )
    except REFUSED as exc:
        return refuse_on_unit_page(unit, "plan", exc)
    flash(_("The action plan has been requested."), "info")
    return redirect(url_for("plans.show", plan_id=plan.id))


def _page(plan, *, errors=None, posted=None, status=200):
    db = get_db()
    findings = db.scalars(
        sa.select(ActionPlanFinding)
        .where(ActionPlanFinding.plan_id == plan.id)
        .options(selectinload(ActionPlanFinding.finding).selectinload(Finding.requirement))
    ).all()
    events = timeline("action_plan", plan.id)
    today = dt.date.today()
    unit_staff = any(a.role.is_unit_role and a.unit_id == plan.unit_id for a in current_user.roles)
    return render_template(
        "plans/show.html",
        plan=plan,
        findings=findings,
        timeline=events,
        actions=ap.ACTION_PLAN.available(plan, current_user),
        labels=ap.STATE_LABELS,
        triggers=ap.ACTION_PLAN.triggers,
        errors=errors or {},
        posted=posted or {},
        today=today,
        overdue=ap.is_overdue(plan, today),
        can_edit_measures=unit_staff and plan.status in (ap.P.REQUESTED, ap.P.RETURNED),
        can_mark_done=unit_staff and plan.status == ap.P.APPROVED,
        can_escalate=current_user.has_role(Role.BESTALLARE) and plan.status != ap.P.CLOSED,
    ), status


@bp.route("/<int:plan_id>")
def show(plan_id):
    return _page(g.plan)


@bp.route("/<int:plan_id>/atgard/<trigger>", methods=["POST"])
def act(plan_id, trigger):
    plan = g.plan
    return fire_from_form(
        ap.ACTION_PLAN,
        plan,
        trigger,
        {"report": request.form.get("report", "")},
        request.form.get("reason"),
        lambda row, **kw: _page(row, posted=request.form, **kw),
        "plans.show",
        plan_id=plan.id,
    )


@bp.route("/<int:plan_id>/atgarder", methods=["POST"])
def add_measure(plan_id):
    plan = g.plan
    if not BaseForm().validate_on_submit():
        abort(400)
    try:
        ap.add_measure(
            get_db(),
            current_user,
            plan,
            description=request.form.get("description", ""),
            responsible=request.form.get("responsible", ""),
            due_date=parse_date(request.form.get("measure_due")),
        )
    except REFUSED as exc:
        get_db().rollback()
        message, status = refusal(exc, "measure", 422)
        return _page(
            get_db().get(ActionPlan, plan.id),
            errors={"measure": message},
            posted=request.form,
            status=status,
        )
    return redirect(url_for("plans.show", plan_id=plan.id, _anchor="measures-h"))


@bp.route("/<int:plan_id>/atgarder/<int:measure_id>/genomford", methods=["POST"])
def measure_done(plan_id, measure_id):
    plan = g.plan
    if not BaseForm().validate_on_submit():
        abort(400)
    measure = get_db().get(ActionMeasure, measure_id)
    if measure is None or measure.plan_id != plan.id:
        abort(404)
    try:
        ap.mark_done(
            get_db(),
            current_user,
            measure,
            parse_date(request.form.get("done_on")) or dt.date.today(),
        )
    except REFUSED as exc:
        get_db().rollback()
        return _page(
            get_db().get(ActionPlan, plan.id),
            errors={f"measure_{measure_id}": str(exc)},
            status=422,
        )
    return redirect(url_for("plans.show", plan_id=plan.id, _anchor="measures-h"))
