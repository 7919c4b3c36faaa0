"""Ärenden pages: the inbox of cases with what each is waiting for and from whom (sortable,
filterable, server-side), filing a new case of a type from the unit page, the case page (its
details, documents, the actions allowed for me, the timeline), and the capitation decision a
restricted service may lead to (§2.7.6). Everything works without JavaScript."""

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
from web.cases import bp
from web.cases.forms import details_form, document_form, entry_from, form_data
from web.database import get_db
from web.forms import BaseForm, choices
from web.workflow_views import (
    REFUSED,
    fire_from_form,
    parse_date,
    parse_int,
    read_upload,
    refusal,
    send_stored,
    timeline,
)
from workflows.cases import operations as co
from workflows.cases.machine import CASE, OUTCOME_LABELS, STATE_LABELS, S, available
from workflows.cases.models import Case, CaseDocument, CaseKind
from workflows.cases.operations import CaseFieldErrors
from workflows.cases.types import TYPES, case_type
from workflows.models import SanctionCase
from workflows.sanction import DECISION_LABELS
from workflows.sanction import STATE_LABELS as SANCTION_LABELS

OPEN = [s for s in S if s not in (S.CLOSED, S.WITHDRAWN)]
SORTS = ("due", "submitted", "unit", "kind", "status")
WHOSE = {"enheten": "unit", "bestallarenheten": "purchaser"}


@bp.app_template_global()
def case_state_label(state) -> str:
    """An ärende's state in Swedish (for pages outside this blueprint: the checklist's)."""
    return STATE_LABELS.get(state, str(state))


def case_store() -> EvidenceStore:
    """Case documents: a content store of their own beside the evidence (its own gc)."""
    return EvidenceStore(case_store_dir(current_app.config["EVIDENCE_DIR"]))


def case_store_dir(evidence_dir) -> str:
    from pathlib import Path

    return str(Path(evidence_dir) / "arenden")


# --- the inbox -------------------------------------------------------------------------------


@bp.route("/")
def index():
    """Inkorgen: open cases (or all) with what each waits for, from whom and by when."""
    args = request.args
    status = args.get("status") if args.get("status") in {"alla", *(s.value for s in S)} else ""
    kind = args.get("arendetyp") if args.get("arendetyp") in {k.value for k in CaseKind} else ""
    whose = args.get("vantar") if args.get("vantar") in WHOSE else ""
    q = (args.get("q") or "").strip()[:100]
    sort = args.get("sort") if args.get("sort") in SORTS else "due"
    descending = args.get("dir") == "desc"
    stmt = (
        sa.select(Case)
        .join(Unit, Unit.id == Case.unit_id)
        .options(selectinload(Case.unit), selectinload(Case.documents))
    )
    if status == "":
        stmt = stmt.where(Case.status.in_(OPEN))
    elif status != "alla":
        stmt = stmt.where(Case.status == S(status))
    if kind:
        stmt = stmt.where(Case.kind == CaseKind(kind))
    if q:
        stmt = stmt.where(sa.or_(Unit.name.ilike(f"%{q}%"), Unit.code.ilike(f"%{q}%")))
    rows = []
    for case in get_db().scalars(restrict_to_visible(stmt, current_user, Case.unit_id)):
        waiting = co.waiting_for(case)
        if whose and waiting.whose != WHOSE[whose]:
            continue
        rows.append((case, waiting))
    rows.sort(key=_sort_key(sort), reverse=descending)
    filters = {k: v for k, v in (("status", status), ("arendetyp", kind), ("vantar", whose)) if v}
    return render_template(
        "cases/index.html",
        rows=rows,
        types=TYPES,
        labels=STATE_LABELS,
        states=list(S),
        filters=filters,
        q=q,
        sort=sort,
        descending=descending,
        today=dt.date.today(),
    )


def _sort_key(sort):
    far = dt.date.max

    def key(row):
        case, waiting = row
        submitted = case.submitted_at.isoformat() if case.submitted_at else ""
        return {
            "due": (waiting.due or far, case.id),
            "submitted": (submitted, case.id),
            "unit": (case.unit.name, case.id),
            "kind": (case_type(case.kind).label, case.id),
            "status": (list(S).index(case.status), case.id),
        }[sort]

    return key


# --- filing a case ---------------------------------------------------------------------------


def _kind_or_404(kind: str):
    try:
        return case_type(kind)
    except (ValueError, KeyError):
        abort(404)


def _unit_choices(exclude: int):
    units = get_db().execute(
        sa.select(Unit.id, Unit.name)
        .where(Unit.id != exclude, Unit.active.is_(True), Unit.kind.in_(co.PARTNER_KINDS))
        .order_by(Unit.name)
    )
    return choices((str(uid), name) for uid, name in units)


@bp.route("/ny/<unit_code>/<kind>", methods=["GET", "POST"])
def new(unit_code, kind):
    """Ny anmälan eller ansökan of one type, filed by the unit as a draft."""
    unit = g.unit
    kind_ = _kind_or_404(kind)
    if not co.may_file(current_user, unit):
        abort(403)
    form = details_form(kind_, _unit_choices(unit.id))
    problem = None
    if form.validate_on_submit():
        try:
            case = co.open_case(get_db(), current_user, unit, kind_.kind, entry_from(form, kind_))
        except CaseFieldErrors as exc:
            get_db().rollback()
            _field_errors(form, exc.errors)
        except REFUSED as exc:
            get_db().rollback()
            problem, _status = refusal(exc, "case", 422)
        else:
            flash(_("The draft has been saved. Attach the documents and submit it."), "info")
            return redirect(url_for("cases.show", arende_id=case.id))
    elif request.method == "POST" and form.csrf_token.errors:
        abort(400)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "cases/new.html",
        unit=unit,
        kind=kind_,
        form=form,
        summary=_summary(form),
        problem=problem,
    ), status


def _field_errors(form, errors: dict[str, str]) -> None:
    for name, message in errors.items():
        if name in form:
            form[name].errors = [*form[name].errors, message]


def _summary(form) -> list[tuple[str, str, str]]:
    """The error summary: (field id, label, message) of every refused field, in form order."""
    found = []
    for field in form:
        if not field.errors or field.short_name == "csrf_token":
            continue
        label, message = str(field.label.text), " ".join(str(e) for e in field.errors)
        # The personnummer refusal names its field already ("Fältet ”Skäl” innehåller …").
        found.append((field.id, "" if label in message else label, message))
    return found


# --- the case page --------------------------------------------------------------------------


def _page(
    case, *, form=None, later_form=None, upload_errors=None, errors=None, posted=None, status=200
):
    kind = case_type(case.kind)
    db = get_db()
    editable = co.can_edit(current_user, case)
    later = co.can_edit_later(current_user, case)
    units = _unit_choices(case.unit_id)
    if editable and form is None:
        form = details_form(kind, units, formdata=None, data=form_data(case, kind))
    if later and later_form is None and any(f.later for f in kind.fields):
        later_form = details_form(
            kind, units, later=True, formdata=None, data=form_data(case, kind, later=True)
        )
    uploads = None
    if editable or later:
        uploads = document_form(kind, later=not editable, formdata=None)
    capitation = db.get(SanctionCase, case.capitation_case_id) if case.capitation_case_id else None
    can_capitation = current_user.has_role(Role.BESTALLARE) and co.capitation_problem(case) is None
    partners = [p.unit for p in case.partners]
    summary = _summary(form) if form is not None else []
    if later_form is not None:
        summary += _summary(later_form)
    return render_template(
        "cases/show.html",
        case=case,
        kind=kind,
        partners=partners,
        form=form if editable else None,
        later_form=later_form if later else None,
        uploads=uploads,
        upload_errors=upload_errors or {},
        summary=summary,
        details=details_rows(case, kind),
        editable=editable,
        waiting=co.waiting_for(case),
        timeliness=co.timeliness(case),
        missing=kind.missing(case) if case.status in co.EDITABLE else [],
        actions=available(case, current_user),
        triggers=CASE.triggers,
        labels=STATE_LABELS,
        outcomes=OUTCOME_LABELS,
        timeline=timeline("case", case.id),
        errors=errors or {},
        posted=posted or {},
        capitation=capitation,
        can_capitation=can_capitation,
        sanction_labels=SANCTION_LABELS,
        decision_labels=DECISION_LABELS,
        S=S,
        today=dt.date.today(),
    ), status


def details_rows(case, kind) -> list[tuple[str, str]]:
    """The case's details as (label, text) for reading."""
    from workflows.cases import types as ct

    details = case.details or {}
    rows = []
    for spec in kind.fields:
        if spec.kind == ct.UNITS:
            names = [p.unit.name for p in case.partners]
            rows.append((spec.label, ", ".join(names)))
            continue
        value = details.get(spec.name)
        if spec.kind in (ct.CONFIRM, ct.FLAG):
            text = _("Yes") if value else _("No")
        elif spec.kind == ct.CHOICE:
            text = dict(spec.choices).get(value, "")
        elif spec.kind == ct.CHOICES:
            text = ", ".join(dict(spec.choices).get(v, v) for v in value or [])
        elif spec.kind == ct.NUMBER and value is not None:
            text = f"{value:,}".replace(",", "\u00a0")
        else:
            text = "" if value is None else str(value)
        rows.append((spec.label, text))
    return rows


@bp.route("/<int:arende_id>")
def show(arende_id):
    return _page(g.arende)


@bp.route("/<int:arende_id>/uppgifter", methods=["POST"])
def update(arende_id):
    """Spara uppgifterna (the type's fields; ``del=efter`` the ones that come after the
    decision)."""
    case = g.arende
    kind = case_type(case.kind)
    later = request.form.get("part") == "later"
    if not (co.can_edit_later if later else co.can_edit)(current_user, case):
        abort(403)
    form = details_form(kind, _unit_choices(case.unit_id), later=later)
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _rerender(case, form, later, status=422)
    try:
        if later:
            co.update_later(get_db(), current_user, case, entry_from(form, kind).values)
        else:
            co.update_case(get_db(), current_user, case, entry_from(form, kind))
    except CaseFieldErrors as exc:
        get_db().rollback()
        _field_errors(form, exc.errors)
        return _rerender(get_db().get(Case, case.id), form, later, status=422)
    except REFUSED as exc:
        get_db().rollback()
        message, status = refusal(exc, "details", 422)
        return _page(get_db().get(Case, case.id), errors={"details": message}, status=status)
    flash(_("The case has been saved."), "info")
    return redirect(url_for("cases.show", arende_id=case.id, _anchor="details-h"))


def _rerender(case, form, later, *, status):
    if later:
        return _page(case, later_form=form, status=status)
    return _page(case, form=form, status=status)


@bp.route("/<int:arende_id>/handlingar", methods=["POST"])
def upload(arende_id):
    """Bifoga handling; a refusal (type, size, a personnummer in it) is shown beside the form."""
    case = g.arende
    kind = case_type(case.kind)
    editable = co.can_edit(current_user, case)
    if not (editable or co.can_edit_later(current_user, case)):
        abort(403)
    form = document_form(kind, later=not editable)
    error = None
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        error = _("Choose which document the file is.")
    else:
        try:
            checked, data = read_upload()
            co.add_document(
                get_db(), current_user, case, form.document_kind.data, checked, data, case_store()
            )
        except (EvidenceError, *REFUSED) as exc:
            error = str(exc)
    if error:
        get_db().rollback()
        return _page(get_db().get(Case, case.id), upload_errors={"file": error}, status=422)
    flash(_("The file %(name)s has been attached.", name=checked.filename), "info")
    return redirect(url_for("cases.show", arende_id=case.id, _anchor="documents-h"))


def _document_or_404(case, doc_id) -> CaseDocument:
    document = get_db().get(CaseDocument, doc_id)
    if document is None or document.case_id != case.id or document.removed_at is not None:
        abort(404)
    return document


@bp.route("/<int:arende_id>/handlingar/<int:doc_id>/ta-bort", methods=["POST"])
def remove_document(arende_id, doc_id):
    case = g.arende
    if not BaseForm().validate_on_submit():
        abort(400)
    document = _document_or_404(case, doc_id)
    try:
        co.remove_document(get_db(), current_user, document)
    except REFUSED as exc:
        get_db().rollback()
        flash(str(exc), "error")
    else:
        flash(_("The file %(name)s has been removed.", name=document.filename), "info")
    return redirect(url_for("cases.show", arende_id=case.id, _anchor="documents-h"))


@bp.route("/<int:arende_id>/handlingar/<int:doc_id>")
def download(arende_id, doc_id):
    document = _document_or_404(g.arende, doc_id)
    return send_stored(case_store(), document)


# --- actions ---------------------------------------------------------------------------------


def _data(trigger, form) -> dict:
    if trigger == "request_completion":
        return {"completion_days": parse_int(form.get("completion_days"))}
    if trigger in ("grant", "note", "refuse"):
        data = {
            "diarienummer": form.get("diarienummer", ""),
            "rationale": form.get("rationale", ""),
        }
        if trigger != "refuse":
            data["decided_from"] = parse_date(form.get("decided_from"))
            data["decided_to"] = parse_date(form.get("decided_to"))
            if form.get("decided_limit", "").strip():
                data["decided_limit"] = parse_int(form.get("decided_limit")) or -1
        return data
    return {}


@bp.route("/<int:arende_id>/atgard/<trigger>", methods=["POST"])
def act(arende_id, trigger):
    case = g.arende
    return fire_from_form(
        CASE,
        case,
        trigger,
        lambda: _data(trigger, request.form),
        request.form.get("reason"),
        lambda row, **kw: _page(row, posted=request.form, **kw),
        "cases.show",
        arende_id=case.id,
    )


@bp.route("/<int:arende_id>/kapitering", methods=["POST"])
def capitation(arende_id):
    """Pröva neddragning av kapiteringsersättningen (§2.7.6): a linked sanction case."""
    case = g.arende
    if not BaseForm().validate_on_submit():
        abort(400)
    try:
        sanction = co.open_capitation_case(
            get_db(), current_user, case, request.form.get("diarienummer", "")
        )
    except REFUSED as exc:
        get_db().rollback()
        message, status = refusal(exc, "capitation")
        return _page(
            get_db().get(Case, case.id),
            errors={"capitation": message},
            posted=request.form,
            status=status,
        )
    flash(_("A case on reducing the capitation payment has been opened."), "info")
    return redirect(url_for("sanctions.show", case_id=sanction.id))
