"""Pages of the gemensam dialog (§7.1.2): the year's list with the "minst två" check, planning,
and one dialog's page — the actions the purchaser may take now, each with its own form,
attendance per unit, follow-ups that become findings, and the timeline. Units read the agenda
once it is sent and the minutes once they are published; they change nothing here.

Every refused form shows the page again with the message beside the field, an error summary
at the top and everything typed kept (409 for a step the dialog refuses, 422 for bad input)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import selectinload

from audit.models import REGION_ROLES, Role, Unit, User
from checklists.models import CatalogEdition, Requirement, Severity
from checklists.rounds import Finding
from web.database import get_db
from web.forms import BaseForm
from web.joint import bp
from web.workflow_views import REFUSED, fire_from_form, parse_date, parse_int, refusal, timeline
from workflows.engine import WorkflowError
from workflows.joint import machine as jm
from workflows.joint import operations as jo
from workflows.joint.models import (
    Attendance,
    FollowUpState,
    JointDialog,
    JointDialogAttendance,
    JointDialogRecipient,
    JointDialogState,
    JointFollowUp,
)

S = JointDialogState
ATTENDANCE_LABELS = {
    Attendance.ATTENDED: _l("Attended"),
    Attendance.REPRESENTED: _l("Represented by someone else"),
    Attendance.ABSENT: _l("Absent"),
}
FOLLOW_UP_LABELS = {
    FollowUpState.OPEN: _l("Open"),
    FollowUpState.FINDING: _l("Became a finding"),
    FollowUpState.DONE: _l("Handled"),
}
SENT_OR_LATER = (S.AGENDA_SENT, S.HELD, S.MINUTES_WRITTEN, S.MINUTES_PUBLISHED, S.CLOSED)
PUBLISHED = (S.MINUTES_PUBLISHED, S.CLOSED)


def _year_arg() -> int:
    year = parse_int(request.args.get("ar"))
    return year if year is not None and 2000 <= year <= 2099 else jm.today().year


@bp.route("/")
def index():
    """The joint dialogs of one year, with the count against the rulebook's two."""
    db = get_db()
    year = _year_arg()
    dialogs = db.scalars(
        sa.select(JointDialog)
        .where(
            JointDialog.meeting_on >= dt.date(year, 1, 1),
            JointDialog.meeting_on <= dt.date(year, 12, 31),
        )
        .order_by(JointDialog.meeting_on, JointDialog.id)
    ).all()
    return render_template(
        "joint/index.html",
        dialogs=dialogs,
        year=year,
        have=jo.held_or_planned(db, year),
        required=jo.REQUIRED_PER_YEAR,
        labels=jm.STATE_LABELS,
        is_purchaser=current_user.has_role(Role.BESTALLARE),
    )


def _render_new(posted=None, errors=None, status=200):
    return render_template(
        "joint/new.html",
        posted=posted or {},
        summary=_summary(errors or {}),
        errors=errors or {},
    ), status


@bp.route("/ny", methods=["GET", "POST"])
def new():
    """Planera en gemensam dialog: date, place, theme."""
    if request.method == "GET":
        return _render_new()
    if not BaseForm().validate_on_submit():
        abort(400)
    db = get_db()
    try:
        meeting_on = parse_date(request.form.get("meeting_on"))
    except REFUSED as exc:
        _field("plan", "meeting_on", exc)
        return _render_new(request.form, {"plan": str(exc)}, 422)
    try:
        joint = jo.plan_joint_dialog(
            db,
            current_user,
            meeting_on=meeting_on,
            place=request.form.get("place", ""),
            theme=request.form.get("theme", ""),
        )
    except REFUSED as exc:
        db.rollback()
        return _render_new(request.form, {"plan": _message("plan", exc)}, 422)
    flash(_("The joint dialog has been planned."), "info")
    return redirect(url_for("joint.show", joint_id=joint.id))


def _field(form: str, name: str, exc: Exception) -> None:
    """Put ``exc``'s message beside field ``name`` of ``form``."""
    g.setdefault("field_errors", {}).setdefault(form, {})[name] = str(exc)


def _message(form: str, exc: Exception) -> str:
    """The refusal's message; its field errors (several for a plan, attendance or finding)
    beside their fields."""
    if isinstance(exc, jo.PlanRefused):
        g.setdefault("field_errors", {}).setdefault(form, {}).update(exc.errors)
        return str(exc)
    if isinstance(exc, jo.AttendanceRefused):
        fields = g.setdefault("field_errors", {}).setdefault(form, {})
        for (unit_id, name), message in exc.errors.items():
            fields[f"{name}_{unit_id}"] = message
        return str(exc)
    if isinstance(exc, WorkflowError) and exc.guard and exc.guard in request.form:
        _field(form, exc.guard, exc)
        return str(exc)
    return refusal(exc, form)[0]


def _summary(errors: dict[str, str]) -> list[tuple[str, str]]:
    """The error summary: (element id, message) for every field error of every refused form,
    else the form's own message linked to the form."""
    found = []
    fields = g.get("field_errors", {})
    for form, message in errors.items():
        if fields.get(form):
            found += [(f"{form}-{name}", text) for name, text in fields[form].items()]
        else:
            found.append((f"form-{form}", message))
    return found


def _joint(joint_id: int) -> JointDialog:
    joint = get_db().get(JointDialog, joint_id)
    if joint is None:
        abort(404)
    return joint


def _requirements(db) -> list[tuple[int, str]]:
    """The requirements of the newest edition of the rulebook (Uppdrag och regler)."""
    edition = db.scalar(
        sa.select(CatalogEdition.id)
        .where(CatalogEdition.family == "UOR")
        .order_by(CatalogEdition.year.desc(), CatalogEdition.id.desc())
        .limit(1)
    )
    if edition is None:
        return []
    return [
        (rid, f"§{section} {heading}")
        for rid, section, heading in db.execute(
            sa.select(Requirement.id, Requirement.section, Requirement.heading)
            .where(Requirement.edition_id == edition)
            .order_by(Requirement.section_key, Requirement.position)
        )
    ]


def _page(joint, *, errors=None, posted=None, status=200):
    db = get_db()
    purchaser = current_user.has_role(Role.BESTALLARE)
    region = bool(current_user.role_set & REGION_ROLES)
    attendance = db.execute(
        sa.select(JointDialogAttendance, Unit.name)
        .join(Unit, Unit.id == JointDialogAttendance.unit_id)
        .where(JointDialogAttendance.joint_dialog_id == joint.id)
        .order_by(Unit.name, Unit.id)
    ).all()
    recipients = db.execute(
        sa.select(Unit.id, Unit.name, User.display_name, JointDialogRecipient.sent_at)
        .join(Unit, Unit.id == JointDialogRecipient.unit_id)
        .join(User, User.id == JointDialogRecipient.user_id)
        .where(JointDialogRecipient.joint_dialog_id == joint.id)
        .order_by(Unit.name, User.display_name)
    ).all()
    by_unit: dict[int, list[str]] = {}
    for unit_id, _name, person, _sent in recipients:
        by_unit.setdefault(unit_id, []).append(person)
    follow_ups = db.scalars(
        sa.select(JointFollowUp)
        .where(JointFollowUp.joint_dialog_id == joint.id)
        .options(
            selectinload(JointFollowUp.unit),
            selectinload(JointFollowUp.finding).selectinload(Finding.unit),
        )
        .order_by(JointFollowUp.id)
    ).all()
    can_follow_up = purchaser and joint.status in jo.FOLLOW_UP_STATES
    open_follow_ups = any(f.status == FollowUpState.OPEN for f in follow_ups)
    units = (
        db.execute(
            sa.select(Unit.id, Unit.name).where(Unit.active.is_(True)).order_by(Unit.name)
        ).all()
        if can_follow_up
        else []
    )
    errors = errors or {}
    return render_template(
        "joint/show.html",
        joint=joint,
        actions=jm.JOINT_DIALOG.available(joint, current_user),
        labels=jm.STATE_LABELS,
        triggers=jm.JOINT_DIALOG.triggers,
        timeline=timeline("joint_dialog", joint.id),
        errors=errors,
        posted=posted or {},
        summary=_summary(errors),
        purchaser=purchaser,
        region=region,
        show_agenda=region or joint.status in SENT_OR_LATER,
        show_minutes=(region and joint.minutes) or joint.status in PUBLISHED,
        show_attendance=region or joint.status in PUBLISHED,
        attendance=attendance,
        recipients=recipients,
        by_unit=by_unit,
        without_recipient=[name for row, name in attendance if row.unit_id not in by_unit],
        can_record_attendance=purchaser and joint.status in jo.ATTENDANCE_STATES,
        Attendance=Attendance,
        attendance_labels=ATTENDANCE_LABELS,
        follow_ups=follow_ups,
        follow_up_labels=FOLLOW_UP_LABELS,
        can_follow_up=can_follow_up,
        requirements=_requirements(db) if can_follow_up and open_follow_ups else [],
        units=units,
        Severity=Severity,
        notice_days=jm.AGENDA_NOTICE_WORKING_DAYS,
        latest_sending=jm.latest_sending_day(joint.meeting_on),
        FollowUpState=FollowUpState,
        can_replan=purchaser and joint.status in jo.REPLAN_STATES,
    ), status


@bp.route("/<int:joint_id>")
def show(joint_id):
    return _page(_joint(joint_id))


@bp.route("/<int:joint_id>/planering", methods=["POST"])
def replan(joint_id):
    """Ändra datum, plats eller tema innan agendan sänds ut."""
    joint = _joint(joint_id)
    if not BaseForm().validate_on_submit():
        abort(400)
    try:
        try:
            meeting_on = parse_date(request.form.get("meeting_on"))
        except WorkflowError as exc:
            raise jo.PlanRefused({"meeting_on": str(exc)}) from None
        changed = jo.replan_joint_dialog(
            get_db(),
            current_user,
            joint,
            meeting_on=meeting_on,
            place=request.form.get("place", ""),
            theme=request.form.get("theme", ""),
        )
    except REFUSED as exc:
        return _refused(joint, "replan", exc)
    flash(_("The joint dialog has been changed.") if changed else _("Nothing was changed."), "info")
    return redirect(url_for("joint.show", joint_id=joint.id))


def _data(trigger: str, form) -> dict:
    if trigger == "write_agenda":
        return {"agenda": form.get("agenda", "")}
    if trigger == "send_agenda":
        return {"late_reason": form.get("late_reason", "")}
    if trigger == "write_minutes":
        return {"minutes": form.get("minutes", "")}
    return {}


@bp.route("/<int:joint_id>/atgard/<trigger>", methods=["POST"])
def act(joint_id, trigger):
    joint = _joint(joint_id)
    return fire_from_form(
        jm.JOINT_DIALOG,
        joint,
        trigger,
        lambda: _data(trigger, request.form),
        request.form.get("reason"),
        lambda row, **kw: _page(row, posted=request.form, **kw),
        "joint.show",
        joint_id=joint.id,
    )


def _refused(joint, form: str, exc: Exception):
    """The page again with the refusal: 422 for bad input (beside its fields), 409 for a step
    the dialog does not allow now."""
    get_db().rollback()
    message = _message(form, exc)
    state_refusal = type(exc) is WorkflowError and not g.get("field_errors", {}).get(form)
    return _page(
        get_db().get(JointDialog, joint.id),
        errors={form: message},
        posted=request.form,
        status=409 if state_refusal else 422,
    )


@bp.route("/<int:joint_id>/narvaro", methods=["POST"])
def attendance(joint_id):
    """Registrera närvaron per inbjuden enhet."""
    joint = _joint(joint_id)
    if not BaseForm().validate_on_submit():
        abort(400)
    db = get_db()
    unit_ids = db.scalars(
        sa.select(JointDialogAttendance.unit_id).where(
            JointDialogAttendance.joint_dialog_id == joint.id
        )
    ).all()
    entries = {
        unit_id: {
            "status": request.form.get(f"status_{unit_id}", ""),
            "name": request.form.get(f"name_{unit_id}", ""),
            "role_title": request.form.get(f"role_title_{unit_id}", ""),
            "absence_reason": request.form.get(f"absence_reason_{unit_id}", ""),
        }
        for unit_id in unit_ids
    }
    try:
        changed = jo.record_attendance(db, current_user, joint, entries)
    except REFUSED as exc:
        return _refused(joint, "attendance", exc)
    flash(_("Attendance saved (%(n)s changed).", n=changed), "info")
    return redirect(url_for("joint.show", joint_id=joint.id, _anchor="attendance-h"))


def _unit(value) -> Unit | None:
    unit_id = parse_int(value)
    return get_db().get(Unit, unit_id) if unit_id is not None else None


@bp.route("/<int:joint_id>/uppfoljning", methods=["POST"])
def add_follow_up(joint_id):
    """Lägg till en uppföljningspunkt från protokollet."""
    joint = _joint(joint_id)
    if not BaseForm().validate_on_submit():
        abort(400)
    raw_unit = request.form.get("follow_up_unit", "")
    unit = _unit(raw_unit)
    try:
        if raw_unit and unit is None:
            raise jo.PlanRefused({"follow_up_unit": "Välj en enhet i listan, eller alla."})
        jo.add_follow_up(get_db(), current_user, joint, request.form.get("text", ""), unit)
    except REFUSED as exc:
        return _refused(joint, "follow_up", exc)
    flash(_("The follow-up has been added."), "info")
    return redirect(url_for("joint.show", joint_id=joint.id, _anchor="follow-ups-h"))


def _follow_up(joint, follow_up_id: int) -> JointFollowUp:
    follow_up = get_db().get(JointFollowUp, follow_up_id)
    if follow_up is None or follow_up.joint_dialog_id != joint.id:
        abort(404)
    return follow_up


@bp.route("/<int:joint_id>/uppfoljning/<int:follow_up_id>/iakttagelse", methods=["POST"])
def make_finding(joint_id, follow_up_id):
    """Gör en iakttagelse för en enhet av uppföljningspunkten."""
    joint = _joint(joint_id)
    follow_up = _follow_up(joint, follow_up_id)
    if not BaseForm().validate_on_submit():
        abort(400)
    db = get_db()
    requirement_id = parse_int(request.form.get("requirement"))
    requirement = db.get(Requirement, requirement_id) if requirement_id is not None else None
    try:
        finding = jo.make_finding(
            db,
            current_user,
            joint,
            follow_up,
            unit=_unit(request.form.get("finding_unit")),
            requirement=requirement,
            status=request.form.get("finding_status"),
            severity=request.form.get("severity") or None,
            statement=request.form.get("statement", ""),
        )
    except REFUSED as exc:
        return _refused(joint, f"finding_{follow_up_id}", exc)
    flash(_("Finding %(id)s has been made for the unit.", id=finding.id), "info")
    return redirect(url_for("joint.show", joint_id=joint.id, _anchor=f"fu-{follow_up_id}"))


@bp.route("/<int:joint_id>/uppfoljning/<int:follow_up_id>/hanterad", methods=["POST"])
def resolve_follow_up(joint_id, follow_up_id):
    """Markera uppföljningspunkten som hanterad utan iakttagelse."""
    joint = _joint(joint_id)
    follow_up = _follow_up(joint, follow_up_id)
    if not BaseForm().validate_on_submit():
        abort(400)
    try:
        jo.resolve_follow_up(get_db(), current_user, joint, follow_up, request.form.get("note"))
    except REFUSED as exc:
        return _refused(joint, f"done_{follow_up_id}", exc)
    flash(_("The follow-up has been marked as handled."), "info")
    return redirect(url_for("joint.show", joint_id=joint.id, _anchor=f"fu-{follow_up_id}"))
