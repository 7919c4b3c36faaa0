"""Omgångens resultat i Excel: per unit and requirement, the findings (iakttagelser) and the
action plans (åtgärdsplaner, §7.1.3) of one follow-up round, for the region's analysts.

One sheet per table, Swedish headers, real types (dates as dates, counts as integers, shares
as decimals, yes/no as booleans), an autofilter over every column and the header row frozen.
The workbook is written in openpyxl's write-only mode, row by row from set-based queries read
in batches (``yield_per``), so a round of every unit in the county never sits whole in memory.

Free text someone typed (comments, names of persons in an answer, free-text answers) is not
exported: a comment is given by its length, a named-person answer by the number of persons.
The sheet is meant to be sent on, and the region's analysts need figures, not staff names.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from audit.access import restrict_to_visible
from audit.models import Unit, User
from checklists.answers import Status
from checklists.models import AnswerType, Requirement
from checklists.rounds import Checklist, ChecklistItem, EvidenceFile, Finding, Round
from web.labels import label
from workflows import action_plan as ap
from workflows.models import (
    ActionPlan,
    ActionPlanFinding,
    DialogFinding,
    FollowUpDialog,
    SanctionGround,
)

DATE = "yyyy-mm-dd"
DATETIME = "yyyy-mm-dd hh:mm"
PERCENT = "0.0%"
BATCH = 500
CELL_TYPES = (str, bool, int, float, dt.date, dt.datetime)


@dataclasses.dataclass(frozen=True)
class Column:
    """A column: its Swedish header (msgid), width and number format."""

    header: Any
    width: int = 14
    number_format: str | None = None


def _local(value: dt.datetime | None) -> dt.datetime | None:
    """A stored UTC time as Swedish local time without zone (Excel has no time zones)."""
    if value is None:
        return None
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo("Europe/Stockholm")).replace(tzinfo=None)


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def answer_figures(answer_type: AnswerType, value: dict | None) -> dict[str, Any]:
    """The figures of an answer, typed: yes/no as a boolean, counts as integers, a share as a
    decimal, a number as a number, a date as a date; a named-person answer as how many."""
    out: dict[str, Any] = {}
    if not value or value.get("not_applicable"):
        return out
    if answer_type == AnswerType.YES_NO:
        out["yes"] = value.get("answer") == "yes"
    elif answer_type == AnswerType.COUNT_RATIO:
        num, den = value.get("numerator"), value.get("denominator")
        out["numerator"], out["denominator"] = num, den
        if isinstance(num, int | float) and isinstance(den, int | float) and den:
            out["share"] = num / den
    elif answer_type in (AnswerType.NUMBER, AnswerType.SERVICE_LEVEL):
        number = value.get("value")
        if isinstance(number, int | float) and not isinstance(number, bool):
            out["number"] = number
        elif isinstance(number, str):
            try:
                out["number"] = float(number.replace(",", ".").replace(" ", ""))
            except ValueError:
                pass
    elif answer_type == AnswerType.DATE_DEADLINE:
        out["date"] = _date(value.get("date"))
    elif answer_type == AnswerType.NAMED_PERSON:
        out["persons"] = len(value.get("persons") or [])
    elif answer_type == AnswerType.SELECTION:
        out["selected"] = len(value.get("selected") or [])
    return out


RESULT_COLUMNS = [
    Column(_l("Round"), 24),
    Column(_l("Year"), 7),
    Column(_l("Unit code"), 16),
    Column(_l("Unit"), 28),
    Column(_l("Healthcare area"), 16),
    Column(_l("Operator"), 12),
    Column(_l("Checklist status"), 16),
    Column(_l("Section"), 9),
    Column(_l("Requirement code"), 28),
    Column(_l("Heading"), 40),
    Column(_l("Area"), 22),
    Column(_l("Severity"), 14),
    Column(_l("Answer type"), 18),
    Column(_l("Answered"), 10),
    Column(_l("Not applicable during the period"), 12),
    Column(_l("Yes"), 7),
    Column(_l("Numerator"), 11),
    Column(_l("Denominator"), 11),
    Column(_l("Share"), 9, PERCENT),
    Column(_l("Number"), 11),
    Column(_l("Date"), 12, DATE),
    Column(_l("Persons named"), 10),
    Column(_l("Options chosen"), 10),
    Column(_l("Automatic assessment"), 18),
    Column(_l("Reviewer’s assessment"), 18),
    Column(_l("Assessment"), 18),
    Column(_l("To be completed"), 10),
    Column(_l("Answered at"), 17, DATETIME),
    Column(_l("Evidence files"), 10),
    Column(_l("Unit’s comment (characters)"), 12),
    Column(_l("Reviewer’s comment (characters)"), 12),
]

FINDING_COLUMNS = [
    Column(_l("Finding id"), 10),
    Column(_l("Unit code"), 16),
    Column(_l("Unit"), 28),
    Column(_l("Healthcare area"), 16),
    Column(_l("Section"), 9),
    Column(_l("Requirement code"), 28),
    Column(_l("Heading"), 40),
    Column(_l("Area"), 22),
    Column(_l("Assessment"), 18),
    Column(_l("Severity"), 14),
    Column(_l("Finding"), 50),
    Column(_l("Created"), 12, DATE),
    Column(_l("Handling in the dialog"), 20),
    Column(_l("Action plans"), 10),
    Column(_l("Sanction cases"), 10),
]

PLAN_COLUMNS = [
    Column(_l("Plan id"), 8),
    Column(_l("Unit code"), 16),
    Column(_l("Unit"), 28),
    Column(_l("Healthcare area"), 16),
    Column(_l("Title"), 30),
    Column(_l("Status"), 22),
    Column(_l("Requested"), 12, DATE),
    Column(_l("Plan due"), 12, DATE),
    Column(_l("Measures due"), 12, DATE),
    Column(_l("Measures"), 10),
    Column(_l("Measures done"), 10),
    Column(_l("Late"), 8),
    Column(_l("Days late"), 9),
    Column(_l("Findings"), 9),
]


class SheetWriter:
    """One write-only sheet: header row in bold, frozen, and an autofilter over the rows."""

    def __init__(self, workbook: Workbook, title: str, columns: list[Column]):
        self.sheet = workbook.create_sheet(title)
        self.columns = columns
        self.rows = 0
        for n, column in enumerate(columns, start=1):
            self.sheet.column_dimensions[get_column_letter(n)].width = column.width
        self.sheet.freeze_panes = "A2"
        bold = Font(bold=True)
        header = []
        for column in columns:
            cell = WriteOnlyCell(self.sheet, value=str(column.header))
            cell.font = bold
            header.append(cell)
        self.sheet.append(header)

    def append(self, values: Iterable[Any]) -> None:
        row = []
        for column, value in zip(self.columns, values, strict=True):
            if value is not None and not isinstance(value, CELL_TYPES):
                value = str(value)  # a translated label (lazy string)
            if isinstance(value, str):
                # Control characters are not allowed in a sheet; and a text that starts with
                # "=" is text here, never a formula (openpyxl would otherwise store it as one).
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
                if value.startswith("="):
                    cell = WriteOnlyCell(self.sheet, value=value)
                    cell.data_type = "s"
                    row.append(cell)
                    continue
            if column.number_format and value is not None:
                cell = WriteOnlyCell(self.sheet, value=value)
                cell.number_format = column.number_format
                row.append(cell)
            else:
                row.append(value)
        self.sheet.append(row)
        self.rows += 1

    def finish(self) -> None:
        last = get_column_letter(len(self.columns))
        self.sheet.auto_filter.ref = f"A1:{last}{self.rows + 1}"


def _batches(db: Session, stmt) -> Iterable:
    return db.execute(stmt.execution_options(yield_per=BATCH))


def _result_rows(db: Session, round_: Round, user: User) -> Iterable[list]:
    files = (
        sa.select(EvidenceFile.item_id, sa.func.count().label("n"))
        .where(EvidenceFile.removed_at.is_(None))
        .group_by(EvidenceFile.item_id)
        .subquery()
    )
    stmt = (
        sa.select(
            Unit.code,
            Unit.name,
            Unit.area,
            Unit.operator,
            Checklist.status,
            Requirement.section,
            Requirement.code.label("requirement_code"),
            Requirement.heading,
            Requirement.area.label("requirement_area"),
            Requirement.severity,
            Requirement.answer_type,
            ChecklistItem.value,
            ChecklistItem.auto_status,
            ChecklistItem.override_status,
            ChecklistItem.needs_completion,
            ChecklistItem.answered_at,
            ChecklistItem.reviewer_comment,
            sa.func.coalesce(files.c.n, 0).label("files"),
        )
        .select_from(ChecklistItem)
        .join(Checklist, Checklist.id == ChecklistItem.checklist_id)
        .join(Unit, Unit.id == Checklist.unit_id)
        .join(Requirement, Requirement.id == ChecklistItem.requirement_id)
        .outerjoin(files, files.c.item_id == ChecklistItem.id)
        .where(Checklist.round_id == round_.id)
        .order_by(Unit.name, Unit.code, Requirement.section_key, Requirement.position)
    )
    stmt = restrict_to_visible(stmt, user, Checklist.unit_id)
    edition = round_.edition
    for row in _batches(db, stmt):
        value = row.value or None
        figures = answer_figures(AnswerType(row.answer_type), value)
        status = Status(row.override_status or row.auto_status)
        yield [
            round_.title,
            round_.year,
            row.code,
            row.name,
            label(row.area),
            label(row.operator),
            label(row.status),
            row.section,
            row.requirement_code,
            row.heading,
            edition.area_title(row.requirement_area),
            label(row.severity),
            label(AnswerType(row.answer_type)),
            value is not None,
            bool(value and value.get("not_applicable")),
            figures.get("yes"),
            figures.get("numerator"),
            figures.get("denominator"),
            figures.get("share"),
            figures.get("number"),
            figures.get("date"),
            figures.get("persons"),
            figures.get("selected"),
            label(Status(row.auto_status)),
            label(Status(row.override_status)) if row.override_status else None,
            label(status),
            bool(row.needs_completion),
            _local(row.answered_at),
            int(row.files),
            len((value or {}).get("comment") or ""),
            len(row.reviewer_comment or ""),
        ]


def latest_dispositions():
    """(finding_id, entry_id) of the latest disposition given to each finding in a dialog: a
    finding may be discussed again in a later dialog, and the latest handling stands."""
    return (
        sa.select(DialogFinding.finding_id, sa.func.max(DialogFinding.id).label("entry_id"))
        .where(DialogFinding.disposition.is_not(None))
        .group_by(DialogFinding.finding_id)
        .subquery()
    )


def _finding_rows(db: Session, round_: Round, user: User) -> Iterable[list]:
    latest = latest_dispositions()
    plans = (
        sa.select(ActionPlanFinding.finding_id, sa.func.count().label("n"))
        .group_by(ActionPlanFinding.finding_id)
        .subquery()
    )
    cases = (
        sa.select(SanctionGround.finding_id, sa.func.count().label("n"))
        .where(SanctionGround.finding_id.is_not(None))
        .group_by(SanctionGround.finding_id)
        .subquery()
    )
    entry = sa.orm.aliased(DialogFinding)
    stmt = (
        sa.select(
            Finding.id,
            Unit.code,
            Unit.name,
            Unit.area,
            Requirement.section,
            Requirement.code.label("requirement_code"),
            Requirement.heading,
            Requirement.area.label("requirement_area"),
            Finding.status,
            Finding.severity,
            Finding.statement,
            Finding.created_at,
            entry.disposition,
            sa.func.coalesce(plans.c.n, 0).label("plans"),
            sa.func.coalesce(cases.c.n, 0).label("cases"),
        )
        .join(Unit, Unit.id == Finding.unit_id)
        .join(Requirement, Requirement.id == Finding.requirement_id)
        .outerjoin(latest, latest.c.finding_id == Finding.id)
        .outerjoin(entry, entry.id == latest.c.entry_id)
        .outerjoin(plans, plans.c.finding_id == Finding.id)
        .outerjoin(cases, cases.c.finding_id == Finding.id)
        .where(Finding.round_id == round_.id)
        .order_by(Unit.name, Requirement.section_key, Requirement.position, Finding.id)
    )
    stmt = restrict_to_visible(stmt, user, Finding.unit_id)
    edition = round_.edition
    for row in _batches(db, stmt):
        yield [
            row.id,
            row.code,
            row.name,
            label(row.area),
            row.section,
            row.requirement_code,
            row.heading,
            edition.area_title(row.requirement_area),
            label(Status(row.status)),
            label(row.severity),
            row.statement,
            _local(row.created_at).date(),
            label(row.disposition) if row.disposition else None,
            int(row.plans),
            int(row.cases),
        ]


def round_plan_ids(round_: Round) -> sa.Select:
    """Åtgärdsplaner of a round: those remedying its findings or asked for in its dialogs."""
    by_finding = (
        sa.select(ActionPlanFinding.plan_id)
        .join(Finding, Finding.id == ActionPlanFinding.finding_id)
        .where(Finding.round_id == round_.id)
    )
    by_dialog = (
        sa.select(ActionPlan.id)
        .join(FollowUpDialog, FollowUpDialog.id == ActionPlan.dialog_id)
        .where(FollowUpDialog.round_id == round_.id)
    )
    return sa.union(by_finding, by_dialog)


def _plan_rows(db: Session, round_: Round, user: User, today: dt.date) -> Iterable[list]:
    findings = (
        sa.select(ActionPlanFinding.plan_id, sa.func.count().label("n"))
        .group_by(ActionPlanFinding.plan_id)
        .subquery()
    )
    stmt = (
        sa.select(ActionPlan, Unit.code, Unit.name, Unit.area, findings.c.n)
        .join(Unit, Unit.id == ActionPlan.unit_id)
        .outerjoin(findings, findings.c.plan_id == ActionPlan.id)
        .where(ActionPlan.id.in_(round_plan_ids(round_)))
        .options(sa.orm.selectinload(ActionPlan.measures))
        .order_by(Unit.name, ActionPlan.id)
    )
    stmt = restrict_to_visible(stmt, user, ActionPlan.unit_id)
    for plan, code, name, area, n_findings in db.execute(stmt):
        late = ap.is_overdue(plan, today)
        due = plan.plan_due if plan.status in ap.WRITING_STATES else plan.measures_due
        yield [
            plan.id,
            code,
            name,
            label(area),
            plan.title,
            ap.STATE_LABELS[plan.status],
            _local(plan.created_at).date(),
            plan.plan_due,
            plan.measures_due,
            len(plan.measures),
            sum(1 for m in plan.measures if m.done_on is not None),
            late,
            (today - due).days if late else 0,
            int(n_findings or 0),
        ]


SHEETS: list[tuple[Any, list[Column], Callable]] = [
    (_l("Results"), RESULT_COLUMNS, _result_rows),
    (_l("Findings"), FINDING_COLUMNS, _finding_rows),
    (_l("Action plans"), PLAN_COLUMNS, _plan_rows),
]


def round_workbook(db: Session, round_: Round, user: User, today: dt.date | None = None) -> bytes:
    """The round's workbook as bytes, holding only the units ``user`` may see."""
    today = today or dt.date.today()
    workbook = Workbook(write_only=True)
    for title, columns, rows in SHEETS:
        sheet = SheetWriter(workbook, str(title), columns)
        args = (db, round_, user, today) if rows is _plan_rows else (db, round_, user)
        for values in rows(*args):
            sheet.append(values)
        sheet.finish()
    workbook.properties.title = round_.title
    workbook.properties.language = "sv-SE"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
