"""What the workflow pages share: reading form values, the unit a form names, firing a
trigger from a form, and the timeline."""

from __future__ import annotations

import datetime as dt
import math

import sqlalchemy as sa
from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from audit.personal_data import PersonalDataError
from audit.text import TextRefused
from audit.trail import AuditEvent
from web import personal_data
from web.database import get_db
from web.forms import BaseForm
from web.validators import MAX_DATE, MIN_DATE
from workflows.engine import Workflow, WorkflowError

# What a workflow form may be refused with: a transition's own refusal (409) or a personnummer
# in a field (422, shown beside that field; see web/personal_data.py).
REFUSED = (WorkflowError, PersonalDataError, TextRefused)


def refusal(exc: Exception, form: str, status: int = 409) -> tuple[str, int]:
    """The message for the top of ``form`` and the status; a personnummer also gets its
    field error beside the field."""
    if isinstance(exc, PersonalDataError):
        return personal_data.refuse(exc, form), 422
    if isinstance(exc, WorkflowError) and exc.guard and exc.guard in request.form:
        # A refusal about one field (a guard named after it) is shown beside that field too.
        g.setdefault("field_errors", {}).setdefault(form, {})[exc.guard] = str(exc)
    return str(exc), status


# Dates a form may carry (web.validators): this century. Year 1 or 9999 is a typing error,
# and a deadline counted from it overflows Python's dates (a 500 before this bound).
_DATE_RANGE = "Ange ett datum mellan 2000-01-01 och 2099-12-31."


def parse_date(value) -> dt.date | None:
    """ÅÅÅÅ-MM-DD from a form; empty is None; anything else a Swedish refusal."""
    try:
        date = dt.date.fromisoformat(value) if value else None
    except ValueError:
        raise WorkflowError("Ange datum som ÅÅÅÅ-MM-DD.") from None
    if date is not None and not MIN_DATE <= date <= MAX_DATE:
        raise WorkflowError(_DATE_RANGE)
    return date


def parse_datetime(value, tz: dt.tzinfo) -> dt.datetime | None:
    """ÅÅÅÅ-MM-DDTHH:MM (a datetime-local field) in ``tz``, as UTC; empty is None."""
    try:
        moment = dt.datetime.fromisoformat(value) if value else None
    except ValueError:
        raise WorkflowError("Ange datum och tid, t.ex. 2025-05-20 09:00.") from None
    if moment is None:
        return None
    if not MIN_DATE <= moment.date() <= MAX_DATE:
        raise WorkflowError(_DATE_RANGE)
    return moment.replace(tzinfo=tz).astimezone(dt.UTC)


# Every whole number a form carries (days, kronor, ids) fits PostgreSQL's integer column.
MAX_INT = 2**31 - 1


def parse_int(value) -> int | None:
    """A whole number typed with or without spaces ("50 000"); None if it is not one, or is
    too large to store (so "²", a 70-digit id or 10^30 kronor is a refusal, never a 500)."""
    text = str(value or "").replace(" ", "").replace("\u00a0", "")
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    number = int(text)
    return number if number <= MAX_INT else None


def parse_ids(values) -> list[int]:
    """The ids of a multi-valued field (checkboxes); what is not an id is left out."""
    return [n for n in (parse_int(v) for v in values) if n is not None]


def parse_number(value) -> float | None:
    """A number with a Swedish decimal comma; None if it is not one (nor finite, nor sane)."""
    try:
        number = float(str(value).replace(",", ".")) if value not in (None, "") else None
    except ValueError:
        return None
    if number is None or not math.isfinite(number) or abs(number) > 1e9:
        return None
    return number


def unit_from_form():
    """The unit a POSTed form on the unit page names (CSRF checked; 404 if it does not exist)."""
    from audit.models import Unit

    if not BaseForm().validate_on_submit():
        abort(400)
    unit = get_db().scalar(sa.select(Unit).where(Unit.code == request.form.get("unit")))
    if unit is None:
        abort(404)
    return unit


def refuse_on_unit_page(unit, form: str, exc: Exception):
    """Show the unit page again with the refusal next to the form and everything typed (422)."""
    from web.units.routes import render_unit_page

    get_db().rollback()
    message, status = refusal(exc, form, 422)
    return render_unit_page(unit, errors={form: message}, posted=request.form, status=status)


def timeline(entity_type: str, entity_id: int) -> list[AuditEvent]:
    """The row's history from the audit trail, oldest first."""
    return list(
        get_db().scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == str(entity_id))
            .order_by(AuditEvent.id)
        )
    )


def fire_from_form(
    workflow: Workflow,
    row,
    trigger: str,
    data: dict,
    reason: str | None,
    rerender,
    endpoint: str,
    **url_args,
):
    """Fire ``trigger`` for the current user; on refusal roll back and re-render the page with
    the message and everything typed (409; 422 for a personnummer, beside its field), else
    redirect to the row's page."""
    if not BaseForm().validate_on_submit():
        abort(400)
    if trigger not in workflow.triggers:
        abort(404)
    try:
        payload = data() if callable(data) else data
        workflow.fire(get_db(), current_user, row, trigger, data=payload, reason=reason)
    except REFUSED as exc:
        get_db().rollback()
        message, status = refusal(exc, trigger)
        return rerender(get_db().get(type(row), row.id), errors={trigger: message}, status=status)
    flash(_("%(action)s: done.", action=workflow.triggers[trigger].label), "info")
    return redirect(url_for(endpoint, **url_args))


def read_upload(field: str = "file"):
    """The uploaded file of ``field``, read (at most one byte over the size limit) and checked
    by :func:`checklists.evidence.check_upload`: ``(checked, data)``, or
    :class:`~checklists.evidence.EvidenceError` with a Swedish message (no file chosen, wrong
    kind, too large). Every upload form reads its file here; the operation then stores it
    through :func:`checklists.evidence.accept_upload` (the personnummer guard)."""
    from flask import current_app

    from checklists.evidence import EvidenceError, check_upload

    upload = request.files.get(field)
    if upload is None or not upload.filename:
        raise EvidenceError(_("Choose a file to upload."))
    data = upload.read(current_app.config["MAX_CONTENT_LENGTH"] + 1)
    return check_upload(upload.filename, data), data


def send_stored(store, row):
    """Send an uploaded file (underlag, handling) from ``store`` as a download: its stored
    name and media type, never cached; a file missing from the store is a 404."""
    from flask import abort, send_file

    try:
        handle = store.open(row.sha256)
    except FileNotFoundError:
        abort(404)
    return send_file(
        handle, mimetype=row.media_type, as_attachment=True, download_name=row.filename, max_age=0
    )
