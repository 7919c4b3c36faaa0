"""Read the audit trail page by page and verify its hash chain (reading only)."""

import sqlalchemy as sa
from flask import render_template, request

from audit.trail import AuditEvent, checkpoint_path, load_checkpoints, verify
from web.auditlog import bp
from web.database import get_db

PAGE_SIZE = 50


@bp.route("/")
def index():
    return render_index()


def render_index(*, period=None, status: int = 200):
    """The audit log page; ``period`` is the export form (with its errors after a refusal)."""
    from web.exports.routes import PeriodForm

    db = get_db()
    entity_type = request.args.get("typ") or None
    text = request.args.get("sida", "1")
    # A page number is a few ASCII digits; anything else ("²", 2^70) is the first page.
    page = int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else 1
    page = max(1, page)
    stmt = sa.select(AuditEvent)
    count_stmt = sa.select(sa.func.count()).select_from(AuditEvent)
    if entity_type:
        stmt = stmt.where(AuditEvent.entity_type == entity_type)
        count_stmt = count_stmt.where(AuditEvent.entity_type == entity_type)
    total = db.scalar(count_stmt)
    events = db.scalars(
        stmt.order_by(AuditEvent.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    types = db.scalars(sa.select(AuditEvent.entity_type).distinct().order_by("entity_type")).all()
    result = None
    if request.args.get("verifiera") == "1":
        result = verify(db, checkpoints=load_checkpoints(checkpoint_path()))
    return render_template(
        "auditlog/index.html",
        events=events,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        entity_type=entity_type,
        types=types,
        result=result,
        period=period or PeriodForm(formdata=None),
    ), status
