"""Dialog pages: the actions allowed for me now as buttons with their forms, the timeline
from the audit trail, and a disposition for every finding discussed."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from audit.access import restrict_to_visible
from audit.models import Role, Unit
from checklists.evidence import EvidenceError
from checklists.rounds import Checklist, Round
from web.checklists.routes import evidence_store
from web.database import get_db
from web.dialogs import bp
from web.forms import BaseForm
from web.workflow_views import (
    REFUSED,
    fire_from_form,
    parse_date,
    parse_datetime,
    parse_int,
    read_upload,
    refusal,
    refuse_on_unit_page,
    send_stored,
    timeline,
    unit_from_form,
)
from workflows import dialog as wf
from workflows.action_plan import STATE_LABELS as PLAN_LABELS
from workflows.engine import WorkflowError
from workflows.models import DialogMaterialFile, DialogState, Disposition, FollowUpDialog
from workflows.sanction import STATE_LABELS as CASE_LABELS

ROLE_TITLES = ["verksamhetschef", "medicinskt ansvarig", "beställare", "granskare", "annan"]
PARTICIPANT_ROWS = 5


@bp.route("/")
def index():
    stmt = (
        sa.select(FollowUpDialog)
        .join(Unit, Unit.id == FollowUpDialog.unit_id)
        .options(selectinload(FollowUpDialog.unit))
        .order_by(FollowUpDialog.created_at.desc())
    )
    dialogs = get_db().scalars(restrict_to_visible(stmt, current_user, FollowUpDialog.unit_id))
    return render_template("dialogs/index.html", dialogs=dialogs.all(), labels=wf.STATE_LABELS)


@bp.route("/ny", methods=["POST"])
def new():
    unit = unit_from_form()
    try:
        dialog = wf.open_dialog(get_db(), current_user, unit, request.form.get("title", ""))
    except REFUSED as exc:
        return refuse_on_unit_page(unit, "dialog", exc)
    flash(_("The follow-up dialog has been planned."), "info")
    return redirect(url_for("dialogs.show", dialog_id=dialog.id))


def _page(dialog, *, errors=None, posted=None, status=200):
    from workflows.fast_route import fast_route

    db = get_db()
    findings = wf.dialog_findings(db, dialog)
    listed = {d.finding.id for d in findings}
    ivo = {
        e.finding.id: e for e in fast_route(db, unit_id=dialog.unit_id) if e.finding.id in listed
    }
    events = timeline("follow_up_dialog", dialog.id)
    checklists = db.execute(
        sa.select(Checklist, Round)
        .join(Round, Round.id == Checklist.round_id)
        .where(Checklist.unit_id == dialog.unit_id)
        .order_by(Round.year.desc(), Round.id.desc())
    ).all()
    return render_template(
        "dialogs/show.html",
        dialog=dialog,
        findings=findings,
        ivo=ivo,
        timeline=events,
        actions=wf.DIALOG.available(dialog, current_user),
        labels=wf.STATE_LABELS,
        plan_labels=PLAN_LABELS,
        case_labels=CASE_LABELS,
        triggers=wf.DIALOG.triggers,
        errors=errors or {},
        posted=posted or {},
        role_titles=ROLE_TITLES,
        participant_rows=PARTICIPANT_ROWS,
        Disposition=Disposition,
        can_dispose=current_user.has_role(Role.BESTALLARE)
        and dialog.status in (DialogState.MEETING_BOOKED, DialogState.MEETING_HELD),
        files=[f for f in dialog.files if f.removed_at is None],
        can_upload=wf.can_handle_material(current_user, dialog),
        checklist=wf.linked_checklist(db, dialog),
        checklists=checklists,
        can_link=current_user.has_role(Role.BESTALLARE, Role.GRANSKARE)
        and dialog.status in wf.OPEN_STATES,
    ), status


@bp.route("/<int:dialog_id>")
def show(dialog_id):
    return _page(g.dialog)


def _data(trigger: str, form) -> dict:
    """The transition's data from the form, with dates parsed (Swedish errors)."""
    if trigger == "request_material":
        return {
            "material_request": form.get("material_request", ""),
            "material_deadline": parse_date(form.get("material_deadline")),
        }
    if trigger == "submit_material":
        return {"comment": form.get("comment", "")}
    if trigger == "book_meeting":
        meeting_at = parse_datetime(form.get("meeting_at", ""), STOCKHOLM)
        participants = [
            {
                "name": form.get(f"name_{n}", ""),
                "role_title": form.get(f"role_{n}", ""),
                "email": form.get(f"email_{n}", ""),
            }
            for n in range(1, PARTICIPANT_ROWS + 1)
        ]
        return {
            "meeting_at": meeting_at,
            "meeting_place": form.get("meeting_place", ""),
            "participants": participants,
        }
    if trigger == "hold_meeting":
        return {"minutes": form.get("minutes", "")}
    return {}


@bp.route("/<int:dialog_id>/atgard/<trigger>", methods=["POST"])
def act(dialog_id, trigger):
    dialog = g.dialog
    return fire_from_form(
        wf.DIALOG,
        dialog,
        trigger,
        lambda: _data(trigger, request.form),
        request.form.get("reason"),
        lambda row, **kw: _page(row, posted=request.form, **kw),
        "dialogs.show",
        dialog_id=dialog.id,
    )


@bp.route("/<int:dialog_id>/iakttagelser/<int:finding_id>", methods=["POST"])
def dispose(dialog_id, finding_id):
    """Besluta hantering: the disposition, and the plan or case it names opened with it."""
    dialog = g.dialog
    if not BaseForm().validate_on_submit():
        abort(400)
    form_key = f"finding_{finding_id}"
    try:
        disposition = Disposition(request.form.get("disposition", ""))
    except ValueError:
        disposition = None
    try:
        if disposition is None:
            raise WorkflowError(_("Choose how to handle it."), guard="disposition")
        wf.set_disposition(
            get_db(),
            current_user,
            dialog,
            g.finding,
            disposition,
            request.form.get("note"),
            data={"diarienummer": request.form.get("diarienummer", "")},
        )
    except REFUSED as exc:
        message, status = refusal(exc, form_key)
        get_db().rollback()
        return _page(
            get_db().get(FollowUpDialog, dialog.id),
            errors={form_key: message},
            posted=request.form,
            status=status,
        )
    return redirect(url_for("dialogs.show", dialog_id=dialog.id, _anchor=f"f-{finding_id}"))


def _material_or_404(dialog, material_id) -> DialogMaterialFile:
    row = get_db().get(DialogMaterialFile, material_id)
    if row is None or row.dialog_id != dialog.id or row.removed_at is not None:
        abort(404)
    return row


@bp.route("/<int:dialog_id>/underlag", methods=["POST"])
def upload(dialog_id):
    """Underlag till dialogen: checked like checklist evidence (personnummer too)."""
    dialog = g.dialog
    if not BaseForm().validate_on_submit():
        abort(400)
    try:
        checked, data = read_upload()
        wf.add_material(get_db(), current_user, dialog, checked, data, evidence_store())
    except (EvidenceError, *REFUSED) as exc:
        get_db().rollback()
        g.setdefault("field_errors", {}).setdefault("upload", {})["file"] = str(exc)
        return _page(
            get_db().get(FollowUpDialog, dialog.id), errors={"upload": str(exc)}, status=422
        )
    flash(_("The file %(name)s has been uploaded.", name=checked.filename), "info")
    return redirect(url_for("dialogs.show", dialog_id=dialog.id, _anchor="material-h"))


@bp.route("/<int:dialog_id>/underlag/<int:material_id>")
def download(dialog_id, material_id):
    return send_stored(evidence_store(), _material_or_404(g.dialog, material_id))


@bp.route("/<int:dialog_id>/underlag/<int:material_id>/ta-bort", methods=["POST"])
def remove_file(dialog_id, material_id):
    dialog = g.dialog
    if not BaseForm().validate_on_submit():
        abort(400)
    row = _material_or_404(dialog, material_id)
    try:
        wf.remove_material(get_db(), current_user, row)
    except REFUSED as exc:
        get_db().rollback()
        flash(str(exc), "error")
    else:
        flash(_("The file %(name)s has been removed.", name=row.filename), "info")
    return redirect(url_for("dialogs.show", dialog_id=dialog.id, _anchor="material-h"))


@bp.route("/<int:dialog_id>/checklista", methods=["POST"])
def link_checklist(dialog_id):
    """Peka på en omgångs checklista för enheten (or none)."""
    dialog = g.dialog
    if not BaseForm().validate_on_submit():
        abort(400)
    value = request.form.get("checklist", "")
    checklist = None
    try:
        if value:
            checklist_id = parse_int(value)
            checklist = get_db().get(Checklist, checklist_id) if checklist_id else None
            if checklist is None or checklist.unit_id != dialog.unit_id:
                raise WorkflowError(_("Choose one of the unit's checklists."), guard="checklist")
        wf.link_checklist(get_db(), current_user, dialog, checklist)
    except REFUSED as exc:
        get_db().rollback()
        message, status = refusal(exc, "checklist")
        return _page(
            get_db().get(FollowUpDialog, dialog.id),
            errors={"checklist": message},
            posted=request.form,
            status=status,
        )
    flash(_("The dialog's checklist has been saved."), "info")
    return redirect(url_for("dialogs.show", dialog_id=dialog.id, _anchor="material-h"))


@bp.route("/<int:dialog_id>/inbjudan.ics")
def invitation(dialog_id):
    """Mötesinbjudan (.ics, METHOD:REQUEST) of a booked meeting, the same as e-mailed."""
    from audit.models import User
    from workflows.calendar import dialog_invitation
    from workflows.notifications import base_url

    dialog = g.dialog
    if dialog.status != DialogState.MEETING_BOOKED or dialog.meeting_at is None:
        abort(404)
    booker = get_db().get(User, dialog.created_by_id) if dialog.created_by_id else None
    organizer = wf.organizer_of(booker or current_user)
    body = dialog_invitation(dialog, organizer, base_url())
    return (
        body,
        200,
        {
            "Content-Type": "text/calendar; charset=utf-8; method=REQUEST",
            "Content-Disposition": f'attachment; filename="uppfoljningsmote-{dialog.id}.ics"',
        },
    )


try:
    from zoneinfo import ZoneInfo

    STOCKHOLM = ZoneInfo("Europe/Stockholm")
except Exception:  # pragma: no cover - tzdata missing
    STOCKHOLM = dt.UTC
