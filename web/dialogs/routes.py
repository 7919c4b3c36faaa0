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
from checklists.rounds import Finding
from web.database import get_db
from web.dialogs import bp
from web.forms import BaseForm
from web.workflow_views import (
    REFUSED,
    fire_from_form,
    parse_date,
    parse_datetime,
    refusal,
    refuse_on_unit_page,
    timeline,
    unit_from_form,
)
from workflows import dialog as wf
from workflows.engine import WorkflowError
from workflows.models import DialogFinding, DialogState, Disposition, FollowUpDialog

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
    db = get_db()
    findings = db.scalars(
        sa.select(DialogFinding)
        .where(DialogFinding.dialog_id == dialog.id)
        .options(selectinload(DialogFinding.finding).selectinload(Finding.requirement))
        .order_by(DialogFinding.id)
    ).all()
    events = timeline("follow_up_dialog", dialog.id)
    return render_template(
        "dialogs/show.html",
        dialog=dialog,
        findings=findings,
        timeline=events,
        actions=wf.DIALOG.available(dialog, current_user),
        labels=wf.STATE_LABELS,
        triggers=wf.DIALOG.triggers,
        errors=errors or {},
        posted=posted or {},
        role_titles=ROLE_TITLES,
        participant_rows=PARTICIPANT_ROWS,
        Disposition=Disposition,
        can_dispose=current_user.has_role(Role.BESTALLARE)
        and dialog.status in (DialogState.MEETING_BOOKED, DialogState.MEETING_HELD),
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


@bp.route("/<int:dialog_id>/iakttagelser/<int:entry_id>", methods=["POST"])
def dispose(dialog_id, entry_id):
    dialog = g.dialog
    if not BaseForm().validate_on_submit():
        abort(400)
    entry = get_db().get(DialogFinding, entry_id)
    if entry is None or entry.dialog_id != dialog.id:
        abort(404)
    try:
        disposition = Disposition(request.form.get("disposition", ""))
    except ValueError:
        disposition = None
    try:
        if disposition is None:
            raise WorkflowError(_("Choose how to handle it."))
        wf.set_disposition(
            get_db(), current_user, dialog, entry, disposition, request.form.get("note")
        )
    except (*REFUSED, ValueError) as exc:
        if isinstance(exc, REFUSED):
            message, status = refusal(exc, f"finding_{entry_id}")
        else:
            message, status = _("Choose how to handle it."), 409
        get_db().rollback()
        return _page(
            get_db().get(FollowUpDialog, dialog.id),
            errors={f"finding_{entry_id}": message},
            posted=request.form,
            status=status,
        )
    return redirect(url_for("dialogs.show", dialog_id=dialog.id, _anchor=f"f-{entry_id}"))


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
