"""Granskningsloggen som CSV: the audit trail's events of a period, for an auditor's Excel.

Swedish Excel opens a file of UTF-8 with a byte order mark and ``;`` between fields (it reads
``,`` as the decimal comma). A field that starts with ``=``, ``+``, ``-``, ``@`` (or a tab or
carriage return) would be taken for a formula by a spreadsheet (CSV injection, OWASP): such a
field is prefixed with an apostrophe, which Excel shows as text and does not evaluate.

The events are read in batches (``yield_per``) and written to a spooled temporary file, which
stays in memory while small and moves to disk when a long period makes it large.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from typing import IO
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from audit.trail import AuditEvent
from web.labels import action_label, entity_label

STOCKHOLM = ZoneInfo("Europe/Stockholm")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BATCH = 1000


def safe_cell(value) -> str:
    """A field as text that no spreadsheet evaluates as a formula."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def period_bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The period from ``first`` to ``last`` inclusive, as Swedish days, in UTC."""
    start = dt.datetime.combine(first, dt.time(), STOCKHOLM).astimezone(dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), STOCKHOLM)
    return start, end.astimezone(dt.UTC)


def header() -> list[str]:
    return [
        _("Event id"),
        _("Time"),
        _("User"),
        _("Object type"),
        _("Object"),
        _("Action"),
        _("Reason"),
        _("Before"),
        _("After"),
        _("Hash"),
    ]


def write_trail(db: Session, first: dt.date, last: dt.date) -> IO[bytes]:
    """The events from ``first`` to ``last`` (inclusive, Swedish time), oldest first, as a
    CSV file positioned at its start."""
    start, end = period_bounds(first, last)
    stmt = (
        sa.select(AuditEvent)
        .where(AuditEvent.occurred_at >= start, AuditEvent.occurred_at < end)
        .order_by(AuditEvent.id)
        .execution_options(yield_per=BATCH)
    )
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024, mode="w+b")
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    writer = csv.writer(text, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header()])
    for event in db.scalars(stmt):
        writer.writerow(
            [
                event.id,
                event.occurred_at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M:%S"),
                safe_cell(event.actor_label),
                safe_cell(entity_label(event.entity_type)),
                safe_cell(event.entity_id),
                safe_cell(action_label(event.action)),
                safe_cell(event.reason),
                safe_cell(event.before),
                safe_cell(event.after),
                event.hash,
            ]
        )
    text.flush()
    text.detach()
    out.seek(0)
    return out
