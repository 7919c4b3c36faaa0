"""Units list (sortable, filterable, server-side so it works without JavaScript) and unit page."""

import datetime as dt

import sqlalchemy as sa
from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import aliased, selectinload

from audit import units as units_register
from audit.access import restrict_to_visible
from audit.models import Area, Operator, Role, Unit, UnitKind
from audit.personal_data import PersonalDataError
from audit.trail import Actor, AuditEvent
from checklists.rounds import Finding
from web.database import get_db
from web.labels import label
from web.units import bp
from web.units.forms import NO_MAIN, ImportForm, UnitForm
from workflows.action_plan import STATE_LABELS as PLAN_LABELS
from workflows.dialog import STATE_LABELS
from workflows.fast_route import fast_route
from workflows.models import ActionPlan, FollowUpDialog, IvoReferral, SanctionCase
from workflows.reviews.operations import open_reviews
from workflows.sanction import STATE_LABELS as CASE_LABELS

MainUnit = aliased(Unit)
# The kinds of unit a filial may belong to (§3.9): a health centre or a sjukstuga.
MAIN_UNIT_KINDS = (UnitKind.HALSOCENTRAL, UnitKind.SJUKSTUGA)
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
    may_file = co.may_file(current_user, unit) and unit.kind in co.FILING_KINDS
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
        sa.select(ActionPlan).where(ActionPlan.unit_id == unit.id).order_by(ActionPlan.plan_due)
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
        open_reviews=open_reviews(db, unit),
        fast=fast_route(db, unit_id=unit.id),
        can_decide_ivo=current_user.has_role(Role.BESTALLARE),
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
        can_edit=current_user.has_role(Role.ADMIN),
        today_year=dt.date.today().year,
        errors=errors or {},
        posted=posted or {},
    ), status


# --- the unit register (administratör) ---------------------------------------------------


def _unit_form_choices(form: UnitForm, unit: Unit | None = None) -> None:
    form.kind.choices = [(k.value, label(k)) for k in UnitKind]
    form.operator.choices = [(o.value, label(o)) for o in Operator]
    form.area.choices = [(a.value, label(a)) for a in Area]
    mains = get_db().scalars(
        sa.select(Unit).where(Unit.kind.in_(MAIN_UNIT_KINDS)).order_by(Unit.name)
    )
    form.main_unit.choices = [(NO_MAIN, _("No main unit"))] + [
        (u.code, u.name) for u in mains if unit is None or u.id != unit.id
    ]


def _values(form: UnitForm, code: str) -> dict:
    """The form's values in the units file's terms (audit.units.save_unit)."""
    operator = Operator(form.operator.data)
    return {
        "code": code,
        "name": form.name.data.strip(),
        "kind": UnitKind(form.kind.data),
        "main_unit": form.main_unit.data or None,
        "operator": operator,
        # A provider typed and then "egenregi" chosen: the provider is not kept.
        "provider": (form.provider.data or "").strip() if operator is Operator.PRIVAT else "",
        "area": Area(form.area.data),
        "has_bvc": form.has_bvc.data,
        "has_mvc": form.has_mvc.data,
        "sjukvardsgrupp_duty": form.sjukvardsgrupp_duty.data,
        "on_region_telephony": form.on_region_telephony.data,
        "active": form.active.data,
        "source": (form.source.data or "").strip(),
        "assumptions": (form.assumptions.data or "").strip(),
    }


def _save(form: UnitForm, unit: Unit | None):
    """Validate and save; ``(unit, None)`` or ``(None, response)`` with the errors shown."""
    if not form.validate_on_submit():
        return None
    code = unit.code if unit is not None else form.code.data.strip()
    db = get_db()
    try:
        return (
            units_register.save_unit(db, Actor.of(current_user), unit, _values(form, code)) or unit
        )
    except units_register.UnitError as exc:
        db.rollback()
        field = getattr(form, exc.field, None)
        if field is None:
            form.form_errors.append(str(exc))
        else:
            field.errors = [*field.errors, str(exc)]
    except PersonalDataError as exc:
        db.rollback()
        form.form_errors.append(str(exc))
    return None


@bp.route("/ny", methods=["GET", "POST"])
def new():
    """Ny enhet (administratör)."""
    form = UnitForm()
    _unit_form_choices(form)
    if request.method == "GET":
        form.kind.data, form.area.data = UnitKind.HALSOCENTRAL.value, Area.UMEA.value
    unit = _save(form, None)
    if unit is not None:
        flash(_("The unit has been added."), "info")
        return redirect(url_for("units.detail", unit_code=unit.code))
    status = 422 if request.method == "POST" else 200
    return render_template("units/edit.html", form=form, unit=None), status


@bp.route("/<unit_code>/redigera", methods=["GET", "POST"])
def edit(unit_code):
    """Ändra enhet (administratör): every change in the trail with the changed fields."""
    unit = g.unit
    form = UnitForm(obj=None if request.method == "POST" else unit)
    _unit_form_choices(form, unit)
    if request.method == "GET":
        form.kind.data, form.operator.data, form.area.data = (
            unit.kind.value,
            unit.operator.value,
            unit.area.value,
        )
        form.main_unit.data = unit.main_unit.code if unit.main_unit else NO_MAIN
    form.code.data = unit.code  # shown, never changed
    saved = _save(form, unit)
    if saved is not None:
        flash(_("The unit has been saved."), "info")
        return redirect(url_for("units.detail", unit_code=unit.code))
    status = 422 if request.method == "POST" else 200
    return render_template("units/edit.html", form=form, unit=unit), status


@bp.route("/export.yaml")
def export():
    """Exportera enheter: the register as a units file (the format `units load` reads)."""
    text = units_register.export_units(get_db())
    return current_app.response_class(
        text,
        mimetype="application/yaml",
        headers={"Content-Disposition": 'attachment; filename="enheter.yaml"'},
    )


MAX_IMPORT_BYTES = 1024 * 1024


@bp.route("/import", methods=["GET", "POST"])
def import_file():
    """Importera enheter: upload a units file, see what would change, then load it."""
    form = ImportForm()
    report, content, error = None, "", None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        upload = request.files.get("file")
        if upload is not None and upload.filename:
            raw = upload.read(MAX_IMPORT_BYTES + 1)
        else:
            raw = (request.form.get("content") or "").encode("utf-8")
        if not raw:
            error = _("Choose a units file to import.")
        elif len(raw) > MAX_IMPORT_BYTES:
            error = _("The file is larger than 1 MB; a units file is far smaller.")
        else:
            try:
                content = raw.decode("utf-8")
            except UnicodeDecodeError:
                error = _("The file is not UTF-8 text; export it as UTF-8 and try again.")
        if error is None:
            db = get_db()
            try:
                parsed = units_register.parse_units_text(content, _("the file"))
                report = units_register.load_parsed(
                    db, Actor.of(current_user), parsed, _("the file")
                )
            except (units_register.UnitFileError, PersonalDataError) as exc:
                db.rollback()
                error, report = str(exc), None
            else:
                if request.form.get("action") != "load":
                    db.rollback()  # a preview: nothing is kept
                else:
                    flash(
                        _(
                            "Units loaded: %(created)s new, %(updated)s changed, "
                            "%(unchanged)s unchanged.",
                            created=len(report.created),
                            updated=len(report.updated),
                            unchanged=len(report.unchanged),
                        ),
                        "info",
                    )
                    return redirect(url_for("units.index"))
    status = 422 if error else 200
    return render_template(
        "units/import.html", form=form, report=report, content=content, error=error
    ), status
