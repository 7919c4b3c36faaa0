"""Utkorg: the outbox by state, and *Skicka igen* for failed and uncertain messages.

"Osäker leverans" (uncertain) is a message a sender claimed and never marked -- it crashed,
or the connection broke in the middle of the SMTP transaction -- so it may or may not have
arrived. It is never re-sent by itself (see :mod:`audit.outbox`); the administratör checks
with the recipient and sends it again here, or leaves it.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from audit.outbox import OutboxMessage, OutboxState
from audit.outbox import retry as retry_message
from audit.trail import Actor, record
from web.database import get_db
from web.forms import BaseForm
from web.outbox import bp

PAGE_SIZE = 100


@bp.route("/")
def index():
    db = get_db()
    wanted = request.args.get("status")
    status = wanted if wanted in {s.value for s in OutboxState} else None
    counts = dict(
        db.execute(
            sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    stmt = sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(PAGE_SIZE)
    if status:
        stmt = stmt.where(OutboxMessage.status == OutboxState(status))
    messages = db.scalars(stmt).all()
    return render_template(
        "outbox/index.html",
        messages=messages,
        counts=counts,
        status=status,
        OutboxState=OutboxState,
        page_size=PAGE_SIZE,
    )


@bp.route("/<int:message_id>/skicka-igen", methods=["POST"])
def retry(message_id):
    """Skicka igen: back in the queue, due now; in the trail."""
    if not BaseForm().validate_on_submit():
        abort(400)
    db = get_db()
    message = db.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    before = message.status.value
    try:
        retry_message(db, message)
    except ValueError:
        flash(
            _("Only failed messages and messages with uncertain delivery can be sent again."),
            "error",
        )
        return redirect(url_for("outbox.index")), 303
    record(
        db,
        Actor.of(current_user),
        "outbox_message",
        message.id,
        "retry",
        before={"status": before},
        after={"status": message.status.value},
    )
    flash(_("The message is queued again and goes out at the next sending."), "info")
    return redirect(url_for("outbox.index", status=before))
