"""Action plan pages: list by state and lateness, the plan with its measures and actions."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from audit.access import restrict_to_visible
from audit.models import Role, Unit
from checklists.evidence import EvidenceError, EvidenceStore
from checklists.rounds import Finding
from web.database import get_db
from web.forms import BaseForm
from web.plans import bp
from web.workflow_views import (
    REFUSED,
    fire_from_form,
    parse_date,
    parse_ids,
    read_upload,
    refusal,
    refuse_on_unit_page,
    send_stored,
    timeline,
    unit_from_form,
)
from workflows import action_plan as ap
from workflows.engine import WorkflowError
from workflows.fast_route import is_patient_safety
from workflows.models import ActionMeasure, ActionPlan, ActionPlanFinding, PlanEvidenceFile


@bp.route("/")
def index():
    stmt = (
        sa.select(ActionPlan)
        .join(Unit, Unit.id == ActionPlan.unit_id)
        .options(selectinload(ActionPlan.unit), selectinload(ActionPlan.measures))
        .order_by(ActionPlan.plan_due)
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
            plan_due=parse_date(request.form.get("plan_due")),
            measures_due=parse_date(request.form.get("measures_due")),
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
    purchaser = current_user.has_role(Role.BESTALLARE)
    try:
        grounds = ap.escalation_grounds(plan, today)
    except WorkflowError:
        grounds = None
    return render_template(
        "plans/show.html",
        plan=plan,
        fast=any(is_patient_safety(f.finding) for f in findings),
        findings=findings,
        files=[f for f in plan.files if f.removed_at is None],
        timeline=events,
        actions=ap.ACTION_PLAN.available(plan, current_user),
        labels=ap.STATE_LABELS,
        triggers=ap.ACTION_PLAN.triggers,
        errors=errors or {},
        posted=posted or {},
        today=today,
        overdue=ap.is_overdue(plan, today),
        can_edit_measures=unit_staff and plan.status in ap.EDITABLE_STATES,
        can_mark_done=unit_staff and plan.status == ap.P.APPROVED,
        can_upload=unit_staff and plan.status == ap.P.APPROVED,
        can_change_dates=purchaser
        and plan.status in ap.OPEN_STATES
        and plan.status != ap.P.REPORTED,
        escalation_grounds=grounds if purchaser else None,
    ), status


def _refused(plan, exc, form):
    """Show the plan again with the refusal beside ``form`` (and its field) and all typed."""
    get_db().rollback()
    message, status = refusal(exc, form, 422)
    return _page(
        get_db().get(ActionPlan, plan.id),
        errors={form: message},
        posted=request.form,
        status=status,
    )


def _measure_or_404(plan, measure_id):
    measure = get_db().get(ActionMeasure, measure_id)
    if measure is None or measure.plan_id != plan.id:
        abort(404)
    return measure


def _file_or_404(plan, plan_file_id):
    evidence = get_db().get(PlanEvidenceFile, plan_file_id)
    if evidence is None or evidence.plan_id != plan.id or evidence.removed_at is not None:
        abort(404)
    return evidence


def _store() -> EvidenceStore:
    return EvidenceStore(current_app.config["EVIDENCE_DIR"])


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
        return _refused(plan, exc, "measure")
    return redirect(url_for("plans.show", plan_id=plan.id, _anchor="measures-h"))


@bp.route("/<int:plan_id>/atgarder/<int:measure_id>", methods=["POST"])
def edit_measure(plan_id, measure_id):
    """Ändra en åtgärd (until the plan is approved)."""
    plan = g.plan
    if not BaseForm().validate_on_submit():
        abort(400)
    measure = _measure_or_404(plan, measure_id)
    try:
        ap.edit_measure(
            get_db(),
            current_user,
            measure,
            description=request.form.get("description", ""),
            responsible=request.form.get("responsible", ""),
            due_date=parse_date(request.form.get("measure_due")),
        )
    except REFUSED as exc:
        return _refused(plan, exc, f"edit_{measure_id}")
    flash(_("The measure has been changed."), "info")
    return redirect(url_for("plans.show", plan_id=plan.id, _anchor="measures-h"))


@bp.route("/<int:plan_id>/atgarder/<int:measure_id>/ta-bort", methods=["POST"])
def remove_measure(plan_id, measure_id):
    """Ta bort en åtgärd (until the plan is approved)."""
    plan = g.plan
    if not BaseForm().validate_on_submit():
        abort(400)
    measure = _measure_or_404(plan, measure_id)
    try:
        ap.remove_measure(get_db(), current_user, measure)
    except REFUSED as exc:
        return _refused(plan, exc, f"edit_{measure_id}")
    flash(_("The measure has been removed."), "info")
    return redirect(url_for("plans.show", plan_id=plan.id, _anchor="measures-h"))


@bp.route("/<int:plan_id>/atgarder/<int:measure_id>/genomford", methods=["POST"])
def measure_done(plan_id, measure_id):
    plan = g.plan
    if not BaseForm().validate_on_submit():
        abort(400)
    measure = _measure_or_404(plan, measure_id)
    try:
        ap.mark_done(
            get_db(),
            current_user,
            measure,
            parse_date(request.form.get("done_on")) or dt.date.today(),
        )
    except REFUSED as exc:
        return _refused(plan, exc, f"measure_{measure_id}")
    return redirect(url_for("plans.show", plan_id=plan.id, _anchor="measures-h"))


@bp.route("/<int:plan_id>/datum", methods=["POST"])
def change_dates(plan_id):
    """Ändra planens datum, with a reason (Beställarenheten)."""
    plan = g.plan
    if not BaseForm().validate_on_submit():
        abort(400)
    try:
        ap.change_deadlines(
            get_db(),
            current_user,
            plan,
            plan_due=parse_date(request.form.get("plan_due")),
            measures_due=parse_date(request.form.get("measures_due")),
            reason=request.form.get("reason", ""),
        )
    except REFUSED as exc:
        return _refused(plan, exc, "dates")
    flash(_("The plan's dates have been changed."), "info")
    return redirect(url_for("plans.show", plan_id=plan.id))


@bp.route("/<int:plan_id>/underlag", methods=["POST"])
def upload(plan_id):
    """Underlag till rapporten: checked like checklist evidence (personnummer too)."""
    plan = g.plan
    if not BaseForm().validate_on_submit():
        abort(400)
    try:
        checked, data = read_upload()
        ap.add_report_file(get_db(), current_user, plan, checked, data, _store())
    except (EvidenceError, *REFUSED) as exc:
        get_db().rollback()
        g.setdefault("field_errors", {}).setdefault("upload", {})["file"] = str(exc)
        return _page(get_db().get(ActionPlan, plan.id), errors={"upload": str(exc)}, status=422)
    flash(_("The file %(name)s has been uploaded.", name=checked.filename), "info")
    return redirect(url_for("plans.show", plan_id=plan.id, _anchor="files-h"))


@bp.route("/<int:plan_id>/underlag/<int:plan_file_id>")
def download(plan_id, plan_file_id):
    evidence = _file_or_404(g.plan, plan_file_id)
    return send_stored(_store(), evidence)


@bp.route("/<int:plan_id>/underlag/<int:plan_file_id>/ta-bort", methods=["POST"])
def remove_file(plan_id, plan_file_id):
    plan = g.plan
    if not BaseForm().validate_on_submit():
        abort(400)
    evidence = _file_or_404(plan, plan_file_id)
    try:
        ap.remove_report_file(get_db(), current_user, evidence)
    except REFUSED as exc:
        get_db().rollback()
        flash(str(exc), "error")
    else:
        flash(_("The file %(name)s has been removed.", name=evidence.filename), "info")
    return redirect(url_for("plans.show", plan_id=plan.id, _anchor="files-h"))
