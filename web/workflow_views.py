"""What the workflow pages share: firing a trigger from a form, and the timeline."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from audit.trail import AuditEvent
from web.database import get_db
from web.forms import BaseForm
from workflows.engine import Workflow, WorkflowError


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
    the message and everything typed (409), else redirect to the row's page."""
    if not BaseForm().validate_on_submit():
        abort(400)
    if trigger not in workflow.triggers:
        abort(404)
    try:
        payload = data() if callable(data) else data
        workflow.fire(get_db(), current_user, row, trigger, data=payload, reason=reason)
    except WorkflowError as exc:
        get_db().rollback()
        return rerender(get_db().get(type(row), row.id), errors={trigger: str(exc)}, status=409)
    flash(_("%(action)s: done.", action=workflow.triggers[trigger].label), "info")
    return redirect(url_for(endpoint, **url_args))
