"""Årshjul pages: the purchaser's year over every unit (and its own duties), a unit's year, as
a month view (twelve lists, with a wheel drawn beside them) and as a list, filtered by GET
parameters (year, unit, area, status) so that everything works without JavaScript; and the
forms of the recurring reports, which only the unit's own staff submit."""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa
from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import StringField, TextAreaField

from audit.access import visible_units
from checklists.evidence import EvidenceError, EvidenceStore, check_upload
from checklists.models import AnswerType, Assignment
from web.database import get_db
from web.forms import BaseForm
from web.workflow_views import send_stored
from web.yearwheel import bp
from workflows import yearwheel as yw
from workflows.reports import operations as rep
from workflows.reports.models import (
    AssignmentReport,
    PatientSafetyReport,
    TelephoneReport,
)

STATUS_LABELS = {
    yw.DutyStatus.DONE: _l("Finished"),
    yw.DutyStatus.DUE: _l("Due soon"),
    yw.DutyStatus.LATE: _l("Late"),
    yw.DutyStatus.UPCOMING: _l("Upcoming"),
}
VIEWS = ("manad", "lista")


def _store() -> EvidenceStore:
    return EvidenceStore(current_app.config["EVIDENCE_DIR"])


def _year(value, default: int) -> int:
    """The year asked for; anything that is not a year from 2000 to 2100 is the default."""
    try:
        year = int(str(value or "").strip())
    except ValueError:
        return default
    return year if 2000 <= year <= 2100 else default


def _wheel_page(*, unit=None):
    """One template for both pages: ``unit`` set for a unit's page."""
    db = get_db()
    today = dt.date.today()
    args = request.args
    year = _year(args.get("ar"), today.year)
    view = args.get("visa") if args.get("visa") in VIEWS else "manad"
    if unit is not None:
        units, chosen, duties = [], unit, yw.year_duties(db, year, units=[unit], today=today)
    else:
        units = [u for u in visible_units(db, current_user) if u.active]
        codes = {u.code: u for u in units}
        chosen = codes.get(args.get("enhet") or "")
        if chosen is not None:
            duties = yw.year_duties(db, year, units=[chosen], today=today)
        elif current_user.sees_all_units:
            duties = yw.year_duties(db, year, today=today)
        else:
            duties = yw.year_duties(db, year, units=units, today=today)
    areas = sorted({(d.area, d.area_title) for d in duties}, key=lambda a: a[1])
    area = args.get("omrade") if args.get("omrade") in {a for a, _t in areas} else ""
    status = args.get("status") if args.get("status") in {s.value for s in yw.DutyStatus} else ""
    shown = [
        d for d in duties if (not area or d.area == area) and (not status or d.status == status)
    ]
    counts = {s: sum(1 for d in shown if d.status == s) for s in yw.DutyStatus}
    grouped = unit is None and chosen is None
    months = [
        (
            m,
            rep.month_name(m),
            _grouped([d for d in shown if d.due_on.month == m and d.due_on.year == year], grouped),
        )
        for m in range(1, 13)
    ]
    earlier = [d for d in shown if d.due_on.year < year]
    return render_template(
        "yearwheel/index.html",
        unit=unit,
        units=units,
        chosen=chosen,
        year=year,
        view=view,
        areas=areas,
        area=area,
        status=status,
        duties=shown,
        months=months,
        earlier=earlier,
        counts=counts,
        wheel=_wheel(months),
        status_labels=STATUS_LABELS,
        today=today,
        filters={
            "ar": year,
            "enhet": chosen.code if chosen and unit is None else None,
            "omrade": area or None,
            "status": status or None,
        },
    )


@dataclasses.dataclass
class Group:
    """One duty of many units on one day (the purchaser's month view): its units' duties."""

    first: yw.Duty
    duties: list[yw.Duty]

    @property
    def status(self) -> yw.DutyStatus:
        states = {d.status for d in self.duties}
        for state in (yw.DutyStatus.LATE, yw.DutyStatus.DUE, yw.DutyStatus.UPCOMING):
            if state in states:
                return state
        return yw.DutyStatus.DONE

    def count(self, status) -> int:
        return sum(1 for d in self.duties if d.status == status)


def _grouped(duties: list[yw.Duty], grouped: bool) -> list[Group]:
    """The month's duties, those of several units with the same title and day as one group
    (so that 26 units' yearly duty is one entry with its units listed under it)."""
    groups: dict[tuple, Group] = {}
    for d in duties:
        key = (d.kind, d.title, d.section, d.due_on) if grouped and d.unit_id else (d.key,)
        if key in groups:
            groups[key].duties.append(d)
        else:
            groups[key] = Group(d, [d])
    return list(groups.values())


def _wheel(months) -> list[dict]:
    """The twelve segments of the drawn wheel (an SVG beside the month lists, which say the
    same in text): each month's path and its counts."""
    import math

    segments = []
    for m, name, duties in months:
        start, end = (m - 1) / 12 * 2 * math.pi, m / 12 * 2 * math.pi
        outer, inner = 100, 45
        points = [
            (outer * math.sin(start), -outer * math.cos(start)),
            (outer * math.sin(end), -outer * math.cos(end)),
            (inner * math.sin(end), -inner * math.cos(end)),
            (inner * math.sin(start), -inner * math.cos(start)),
        ]
        path = (
            f"M{points[0][0]:.1f},{points[0][1]:.1f} A{outer},{outer} 0 0,1 "
            f"{points[1][0]:.1f},{points[1][1]:.1f} L{points[2][0]:.1f},{points[2][1]:.1f} "
            f"A{inner},{inner} 0 0,0 {points[3][0]:.1f},{points[3][1]:.1f} Z"
        )
        middle = (start + end) / 2
        duties = [d for group in duties for d in group.duties]
        late = sum(1 for d in duties if d.status == yw.DutyStatus.LATE)
        due = sum(1 for d in duties if d.status == yw.DutyStatus.DUE)
        segments.append(
            {
                "month": m,
                "name": name,
                "path": path,
                "x": round(72 * math.sin(middle), 1),
                "y": round(-72 * math.cos(middle) + 4, 1),
                "count": len(duties),
                "state": "late"
                if late
                else "due"
                if due
                else "done"
                if duties and all(d.status == yw.DutyStatus.DONE for d in duties)
                else "none"
                if not duties
                else "upcoming",
            }
        )
    return segments


@bp.route("/")
def index():
    """Årshjulet: every unit the user may see (the purchaser's own duties too)."""
    return _wheel_page()


@bp.route("/enhet/<unit_code>")
def unit(unit_code):
    """En enhets årshjul (resolved and access-checked in web.access)."""
    return _wheel_page(unit=g.unit)


# --- the telephone report (§6.9) ------------------------------------------------------------


class TelephoneForm(BaseForm):
    """Månadsrapport om telefontillgänglighet (§6.9)."""

    incoming_calls = StringField(_l("Incoming calls"))
    answered_calls = StringField(
        _l("Answered calls"),
        description=_l("Answered directly or by calling back the same day."),
    )
    callback_calls = StringField(
        _l("Of which answered by calling back"),
    )
    mean_wait_minutes = StringField(
        _l("Mean waiting time until answered or called back (minutes)"),
        description=_l("One decimal at most, e.g. 4,5."),
    )
    comment = TextAreaField(_l("Comment (optional)"))


def _assign_errors(form, errors: dict[str, str]) -> None:
    for name, message in errors.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)


def _month_args(year: int, month: int):
    if not 2000 <= year <= 2100 or not 1 <= month <= 12:
        abort(404)


@bp.route("/enhet/<unit_code>/telefoni/<int:year>/<int:month>", methods=["GET", "POST"])
def telephone(unit_code, year, month):
    """The month's telephone report: the form for the unit's staff, the figures for others."""
    _month_args(year, month)
    db = get_db()
    unit = g.unit
    report = db.scalar(
        sa.select(TelephoneReport).where(
            TelephoneReport.unit_id == unit.id,
            TelephoneReport.year == year,
            TelephoneReport.month == month,
        )
    )
    may = rep.may_report(current_user, unit)
    if request.method == "POST" and not may:
        abort(403)
    form = TelephoneForm()
    status = 200
    if request.method == "GET" and report is not None:
        for name in rep.TELEPHONE_FIELDS:
            value = getattr(report, name)
            getattr(form, name).data = (
                str(value).replace(".", ",") if name == "mean_wait_minutes" else str(value)
            )
        form.comment.data = report.comment
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                rep.save_telephone_report(db, current_user, unit, year, month, request.form)
            except rep.ReportErrors as exc:
                db.rollback()
                _assign_errors(form, exc.errors)
            else:
                flash(
                    _(
                        "The telephone report for %(month)s %(year)s has been submitted.",
                        month=rep.month_name(month),
                        year=year,
                    ),
                    "info",
                )
                return redirect(url_for("yearwheel.unit", unit_code=unit.code, ar=year))
        status = 422
    return (
        render_template(
            "yearwheel/telephone.html",
            unit=unit,
            year=year,
            month=month,
            month_name=rep.month_name(month),
            report=report,
            form=form,
            may=may,
            due=rep.telephone_due(year, month),
            not_yet=rep.reportable_month(year, month, dt.date.today()),
            assumption=rep.ASSUMPTIONS["telephone"],
        ),
        status,
    )


# --- the patient-safety report (§2.6) --------------------------------------------------------


class PatientSafetyForm(BaseForm):
    """Patientsäkerhetsberättelsen (§2.6)."""

    sent_on = StringField(
        _l("Date sent to Region Västerbotten"),
        description=_l("YYYY-MM-DD, in the follow-up year."),
    )


@bp.route("/enhet/<unit_code>/patientsakerhet/<int:year>", methods=["GET", "POST"])
def patient_safety(unit_code, year):
    """Lämna patientsäkerhetsberättelsen: the date it was sent and the file."""
    if not 2000 <= year <= 2100:
        abort(404)
    db = get_db()
    unit = g.unit
    report = db.scalar(
        sa.select(PatientSafetyReport).where(
            PatientSafetyReport.unit_id == unit.id, PatientSafetyReport.year == year
        )
    )
    may = rep.may_report(current_user, unit)
    if request.method == "POST" and not may:
        abort(403)
    form = PatientSafetyForm()
    file_error = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            upload = request.files.get("file")
            checked = data = None
            errors = {}
            if upload is not None and upload.filename:
                data = upload.read(current_app.config["MAX_CONTENT_LENGTH"] + 1)
                try:
                    checked = check_upload(upload.filename, data)
                except EvidenceError as exc:
                    errors["file"] = str(exc)
            try:
                if errors:
                    raise rep.ReportErrors(errors)
                rep.submit_patient_safety_report(
                    db, current_user, unit, year, form.sent_on.data, checked, data, _store()
                )
            except rep.ReportErrors as exc:
                db.rollback()
                errors = {**exc.errors, **errors}
                file_error = errors.pop("file", None)
                _assign_errors(form, errors)
            else:
                flash(_("The patient safety report has been submitted."), "info")
                return redirect(url_for("yearwheel.unit", unit_code=unit.code, ar=year))
        status = 422
    return (
        render_template(
            "yearwheel/patient_safety.html",
            unit=unit,
            year=year,
            report=report,
            form=form,
            file_error=file_error,
            may=may,
            due=rep.patient_safety_due(year),
        ),
        status,
    )


@bp.route("/enhet/<unit_code>/patientsakerhet/<int:year>/fil")
def patient_safety_file(unit_code, year):
    report = get_db().scalar(
        sa.select(PatientSafetyReport).where(
            PatientSafetyReport.unit_id == g.unit.id, PatientSafetyReport.year == year
        )
    )
    if report is None:
        abort(404)
    return send_stored(_store(), report)


# --- the tilläggsuppdrag annual reports --------------------------------------------------------


def _assignment(unit, year: int, code: str) -> Assignment:
    if not 2000 <= year <= 2100:
        abort(404)
    edition = rep.assignment_edition(get_db(), year)
    assignment = next((a for a in (edition.assignments if edition else []) if a.code == code), None)
    if assignment is None or unit.code not in (assignment.units or []):
        abort(404)
    return assignment


def _row_raw(item, form) -> dict:
    name = f"row{item.id}"
    if item.answer_type == AnswerType.COUNT_RATIO:
        return {
            "numerator": form.get(f"{name}-numerator", ""),
            "denominator": form.get(f"{name}-denominator", ""),
        }
    if item.answer_type == AnswerType.NUMBER:
        return {"value": form.get(name, "")}
    return {"text": form.get(name, "")}


@bp.route(
    "/enhet/<unit_code>/tillaggsuppdrag/<int:year>/<assignment_code>", methods=["GET", "POST"]
)
def assignment(unit_code, year, assignment_code):
    """Årsrapporten för ett tilläggsuppdrag: one row per item of the assignment."""
    db = get_db()
    unit = g.unit
    assignment = _assignment(unit, year, assignment_code)
    items = rep.assignment_items(db, assignment)
    report = db.scalar(
        sa.select(AssignmentReport).where(
            AssignmentReport.unit_id == unit.id,
            AssignmentReport.assignment_id == assignment.id,
            AssignmentReport.year == year,
        )
    )
    rows = {row.requirement_id: row for row in report.rows} if report else {}
    may = rep.may_report(current_user, unit)
    if request.method == "POST" and not may:
        abort(403)
    errors: dict[str, str] = {}
    posted: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        if not BaseForm().validate_on_submit():
            abort(400)
        posted = {k: v for k, v in request.form.items() if k.startswith("row")}
        raw = {item.id: _row_raw(item, request.form) for item in items}
        files = {}
        for item in items:
            upload = request.files.get(f"row{item.id}")
            if item.answer_type != AnswerType.DOCUMENT or upload is None or not upload.filename:
                continue
            data = upload.read(current_app.config["MAX_CONTENT_LENGTH"] + 1)
            try:
                files[item.id] = (check_upload(upload.filename, data), data)
            except EvidenceError as exc:
                errors[f"row{item.id}"] = str(exc)
        try:
            if errors:
                raise rep.ReportErrors(errors)
            rep.save_assignment_report(
                db, current_user, unit, assignment, year, raw, files, _store()
            )
        except rep.ReportErrors as exc:
            db.rollback()
            errors = {**exc.errors, **errors}
            status = 422
        else:
            flash(_("The annual report has been submitted."), "info")
            return redirect(url_for("yearwheel.unit", unit_code=unit.code, ar=year + 1))
    values = {}
    for item in items:
        name = f"row{item.id}"
        value = (rows[item.id].value or {}) if item.id in rows else {}
        for key in ("numerator", "denominator"):
            values[f"{name}-{key}"] = posted.get(f"{name}-{key}", _shown(value.get(key)))
        values[name] = posted.get(name, _shown(value.get("value", value.get("text"))))
    return (
        render_template(
            "yearwheel/assignment.html",
            unit=unit,
            year=year,
            assignment=assignment,
            items=items,
            rows=rows,
            values=values,
            errors=errors,
            summary=[(key, message) for key, message in errors.items() if key != "unit"],
            unit_error=errors.get("unit"),
            may=may,
            report=report,
            due=rep.assignment_due(year),
            assumption=rep.ASSUMPTIONS["assignment"],
        ),
        status,
    )


def _shown(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace(".", ",") if isinstance(value, float) else str(value)
