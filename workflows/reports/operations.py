"""Återkommande rapporter: due dates, submitting, the deadline scan's reminders and the
set-based figures the annual analysis (§7.1.4) reads.

Due dates. The rulebook dates one of these reports: the patient-safety report "senast 1 mars
årligen" (§2.6). It does not date the others, so these are assumptions, named where they are
used (:data:`ASSUMPTIONS`) and shown in the årshjul:

- the telephone report (§6.9, "en gång per månad"): a month's report by the
  :data:`TELEPHONE_DUE_WORKING_DAY`-th working day (vardag, Swedish holidays excluded) of the
  month after;
- a tilläggsuppdrag's annual report (seed 000, "Årsrapport"): the year's report by 1 March of
  the year after, the same day as the patient-safety report, so that both reach the annual
  analysis together.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from audit.db import utcnow
from audit.models import Unit, User
from audit.trail import Actor, record
from checklists.answers import AnswerError, clean_answer, parse_number
from checklists.evidence import personal_data_refusal, store_upload
from checklists.models import AnswerType, Assignment, CatalogEdition, Requirement
from checklists.workdays import add_working_days, is_working_day
from workflows.reports.models import (
    AssignmentReport,
    AssignmentReportRow,
    PatientSafetyReport,
    TelephoneReport,
)

TELEPHONE_DUE_WORKING_DAY = 10
PATIENT_SAFETY_DEADLINE = (3, 1)  # "senast 1 mars årligen" (§2.6)
ASSIGNMENT_DEADLINE = (3, 1)
MAX_CALLS = 10_000_000
LOOK_BACK_DAYS = 31
MAX_WAIT_MINUTES = 24 * 60
ASSUMPTIONS = {
    "telephone": (
        "Regelboken anger inte när månadsrapporten ska lämnas (§6.9: ”en gång per månad”); "
        f"antaget: senast den {TELEPHONE_DUE_WORKING_DAY}:e vardagen i månaden efter."
    ),
    "assignment": (
        "Tilläggsuppdragen anger inte när årsrapporten ska lämnas; antaget: senast 1 mars året "
        "efter, samma dag som patientsäkerhetsberättelsen."
    ),
}
MONTHS = (
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
)


class ReportErrors(ValueError):
    """A report that cannot be stored: a Swedish message per field (``errors``)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


# --- who may report ---------------------------------------------------------------------


def may_report(user: User, unit: Unit) -> bool:
    """The unit's own verksamhetschef or staff report for it (not the purchaser, not another
    unit: a report is the unit's statement to the region)."""
    return any(a.role.is_unit_role and a.unit_id == unit.id for a in user.roles)


def _require(user: User, unit: Unit) -> None:
    if not may_report(user, unit):
        raise ReportErrors({"unit": "Bara enhetens egen personal kan lämna enhetens rapporter."})


# --- due dates -------------------------------------------------------------------------


def nth_working_day(year: int, month: int, n: int) -> dt.date:
    """The ``n``-th working day (vardag) of a month: the 10th of April 2026 is 16 April (Good
    Friday and Easter Monday do not count)."""
    first = dt.date(year, month, 1)
    if is_working_day(first):
        return add_working_days(first, n - 1)
    return add_working_days(first, n)


def telephone_due(year: int, month: int) -> dt.date:
    """The last day for the telephone report of ``month`` (assumed, see :data:`ASSUMPTIONS`)."""
    after_year, after_month = (year + 1, 1) if month == 12 else (year, month + 1)
    return nth_working_day(after_year, after_month, TELEPHONE_DUE_WORKING_DAY)


def patient_safety_due(year: int) -> dt.date:
    """1 March of the follow-up year (§2.6)."""
    return dt.date(year, *PATIENT_SAFETY_DEADLINE)


def assignment_due(report_year: int) -> dt.date:
    """The last day for the annual report on ``report_year`` (assumed: 1 March after)."""
    return dt.date(report_year + 1, *ASSIGNMENT_DEADLINE)


def month_name(month: int) -> str:
    return MONTHS[month - 1]


# --- the telephone report (§6.9) --------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TelephoneFigures:
    incoming_calls: int
    answered_calls: int
    callback_calls: int
    mean_wait_minutes: float
    comment: str


TELEPHONE_FIELDS = ("incoming_calls", "answered_calls", "callback_calls", "mean_wait_minutes")


def clean_telephone(raw: dict) -> TelephoneFigures:
    """The month's figures from the form, or :class:`ReportErrors` with a message per field."""
    errors: dict[str, str] = {}
    numbers: dict[str, Decimal] = {}
    for name in TELEPHONE_FIELDS:
        try:
            numbers[name] = parse_number(
                _one(raw.get(name)), name, integer=name != "mean_wait_minutes"
            )
        except AnswerError as exc:
            errors[name] = str(exc)
    for name in ("incoming_calls", "answered_calls", "callback_calls"):
        if name in numbers and numbers[name] > MAX_CALLS:
            errors[name] = f"Ange högst {MAX_CALLS:,} samtal.".replace(",", " ")
    wait = numbers.get("mean_wait_minutes")
    if wait is not None and wait > MAX_WAIT_MINUTES:
        errors["mean_wait_minutes"] = "Väntetiden kan inte vara mer än ett dygn (1 440 minuter)."
    if wait is not None and wait != round(wait, 1):
        errors["mean_wait_minutes"] = "Ange väntetiden med högst en decimal, t.ex. 4,5."
    if not errors:
        if numbers["answered_calls"] > numbers["incoming_calls"]:
            errors["answered_calls"] = (
                "Fler besvarade än inkommande samtal: besvarade samtal ingår i de inkommande."
            )
        elif numbers["callback_calls"] > numbers["answered_calls"]:
            errors["callback_calls"] = (
                "Fler återuppringningar än besvarade samtal: återuppringningarna ingår i de "
                "besvarade."
            )
    comment = str(_one(raw.get("comment")) or "").strip()
    if len(comment) > 2000:
        errors["comment"] = "Kommentaren får vara högst 2 000 tecken."
    if errors:
        raise ReportErrors(errors)
    return TelephoneFigures(
        int(numbers["incoming_calls"]),
        int(numbers["answered_calls"]),
        int(numbers["callback_calls"]),
        float(numbers["mean_wait_minutes"]),
        comment,
    )


def _one(value):
    return value[0] if isinstance(value, list) and value else value


def reportable_month(year: int, month: int, today: dt.date) -> str | None:
    """Why a month cannot be reported yet (None when it can): from the month's last day on."""
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        return "Det finns ingen sådan månad att rapportera."
    last = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
    if today < last:
        return f"Rapporten för {month_name(month)} {year} kan lämnas från och med {last}."
    return None


def save_telephone_report(
    session: Session,
    user: User,
    unit: Unit,
    year: int,
    month: int,
    raw: dict,
    *,
    today: dt.date | None = None,
) -> TelephoneReport:
    """Lämna (or correct) the month's telephone report; a unit on the region's platform has
    none to give (§6.9: the region measures it)."""
    _require(user, unit)
    figures = clean_telephone(raw)
    if unit.on_region_telephony:
        raise ReportErrors(
            {
                "unit": "Enheten är ansluten till regionens växelplattform; regionen mäter "
                "telefontillgängligheten där (§6.9)."
            }
        )
    if problem := reportable_month(year, month, today or dt.date.today()):
        raise ReportErrors({"month": problem})
    report = session.scalar(
        sa.select(TelephoneReport).where(
            TelephoneReport.unit_id == unit.id,
            TelephoneReport.year == year,
            TelephoneReport.month == month,
        )
    )
    before = _telephone_snapshot(report) if report else None
    if report is None:
        report = TelephoneReport(unit_id=unit.id, year=year, month=month, submitted_by_id=user.id)
        session.add(report)
    else:
        report.changed_at = utcnow()
    for name, value in dataclasses.asdict(figures).items():
        setattr(report, name, value)
    session.flush()
    record(
        session,
        Actor.of(user),
        "telephone_report",
        report.id,
        "update" if before else "submit",
        before=before,
        after=_telephone_snapshot(report),
    )
    return report


def _telephone_snapshot(report: TelephoneReport) -> dict:
    return {
        "unit_id": report.unit_id,
        "period": f"{report.year}-{report.month:02d}",
        **{name: getattr(report, name) for name in (*TELEPHONE_FIELDS, "comment")},
    }


# --- the patient-safety report (§2.6) ---------------------------------------------------


def check_sent_on(year: int, raw: str) -> dt.date:
    """The day the report was sent: a date in the follow-up year ``year``, as the catalog's
    date_deadline item judges it (last year's report is not this year's, however early)."""
    text = str(_one(raw) or "").strip()
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ReportErrors(
            {"sent_on": "Ange datumet som ÅÅÅÅ-MM-DD, till exempel 2026-02-27."}
        ) from None
    if day.year != year:
        raise ReportErrors(
            {
                "sent_on": f"Datumet ska ligga i uppföljningsåret {year}: berättelsen för "
                f"{year - 1} lämnas senast {patient_safety_due(year)} (§2.6)."
            }
        )
    if day > dt.date.today():
        raise ReportErrors({"sent_on": "Datumet kan inte ligga i framtiden."})
    return day


def submit_patient_safety_report(
    session: Session,
    user: User,
    unit: Unit,
    year: int,
    sent_on: str,
    checked,
    data: bytes,
    store,
) -> PatientSafetyReport:
    """Lämna patientsäkerhetsberättelsen: the date it was sent to the region and the report
    itself (checked by :func:`checklists.evidence.check_upload`, refused with a personnummer
    anywhere in it). A second submission replaces the first; the trail keeps both."""
    _require(user, unit)
    errors: dict[str, str] = {}
    try:
        day = check_sent_on(year, sent_on)
    except ReportErrors as exc:
        errors |= exc.errors
    if checked is None:
        errors["file"] = "Välj filen med patientsäkerhetsberättelsen."
    elif refusal := personal_data_refusal(checked):
        errors["file"] = refusal
    if errors:
        raise ReportErrors(errors)
    report = session.scalar(
        sa.select(PatientSafetyReport).where(
            PatientSafetyReport.unit_id == unit.id, PatientSafetyReport.year == year
        )
    )
    before = _file_snapshot(report) if report else None
    fields = store_upload(session, store, checked, data)
    if report is None:
        report = PatientSafetyReport(unit_id=unit.id, year=year)
        session.add(report)
    report.sent_on = day
    for name, value in fields.items():
        setattr(report, name, value)
    report.submitted_by_id = user.id
    report.submitted_at = utcnow()
    session.flush()
    record(
        session,
        Actor.of(user),
        "patient_safety_report",
        report.id,
        "update" if before else "submit",
        before=before,
        after=_file_snapshot(report),
    )
    return report


def _file_snapshot(report: PatientSafetyReport) -> dict:
    return {
        "unit_id": report.unit_id,
        "year": report.year,
        "sent_on": report.sent_on.isoformat(),
        "filename": report.filename,
        "sha256": report.sha256,
        "size": report.size,
    }


# --- the tilläggsuppdrag annual reports (seed 000) ----------------------------------------


def assignment_edition(session: Session, year: int) -> CatalogEdition | None:
    """The tilläggsuppdrag edition in force for ``year``: the newest one of that year or
    before (the 2023 assignments stand until a newer edition is loaded)."""
    return edition_for(session, "TU", year)


def edition_for(session: Session, family: str, year: int) -> CatalogEdition | None:
    """The newest edition of ``family`` for ``year`` or before, else the oldest there is."""
    editions = list(
        session.scalars(
            sa.select(CatalogEdition)
            .where(CatalogEdition.family == family)
            .order_by(CatalogEdition.year, CatalogEdition.id)
        )
    )
    before = [e for e in editions if e.year <= year]
    if before:
        return before[-1]
    return editions[0] if editions else None


def assignment_items(session: Session, assignment: Assignment) -> list[Requirement]:
    """The rows of an assignment's annual report: its catalog items, in catalog order."""
    return list(
        session.scalars(
            sa.select(Requirement)
            .where(
                Requirement.edition_id == assignment.edition_id,
                Requirement.assignment_code == assignment.code,
            )
            .order_by(Requirement.position)
        )
    )


def row_field(requirement: Requirement) -> str:
    return f"row{requirement.id}"


def save_assignment_report(
    session: Session,
    user: User,
    unit: Unit,
    assignment: Assignment,
    year: int,
    raw: dict[int, dict],
    files: dict[int, tuple],
    store,
) -> AssignmentReport:
    """Lämna årsrapporten för ett tilläggsuppdrag: every row of the assignment, each cleaned by
    its answer type (counts as numerator and denominator, a number, a text) or the file a
    document row asks for (checked uploads, personnummer refused). All rows or nothing; a
    document row already filed keeps its file unless a new one is chosen.

    ``raw`` maps a requirement id to its raw fields; ``files`` a requirement id to
    ``(checked, data)`` of the chosen file."""
    _require(user, unit)
    if unit.code not in (assignment.units or []):
        raise ReportErrors({"unit": "Tilläggsuppdraget gäller inte enheten."})
    report = session.scalar(
        sa.select(AssignmentReport).where(
            AssignmentReport.unit_id == unit.id,
            AssignmentReport.assignment_id == assignment.id,
            AssignmentReport.year == year,
        )
    )
    existing = {row.requirement_id: row for row in report.rows} if report else {}
    errors: dict[str, str] = {}
    cleaned: dict[int, dict | None] = {}
    chosen: dict[int, tuple] = {}
    items = assignment_items(session, assignment)
    for item in items:
        name = row_field(item)
        if item.answer_type == AnswerType.DOCUMENT:
            if item.id in files:
                checked, data = files[item.id]
                if refusal := personal_data_refusal(checked):
                    errors[name] = refusal
                else:
                    chosen[item.id] = (checked, data)
            elif not (item.id in existing and existing[item.id].sha256):
                errors[name] = "Välj filen som raden efterfrågar."
            continue
        try:
            cleaned[item.id] = clean_answer(
                item.answer_type, item.answer_params, raw.get(item.id, {})
            )
        except AnswerError as exc:
            errors[name if exc.field in (None, "value", "text") else f"{name}-{exc.field}"] = str(
                exc
            )
    if errors:
        raise ReportErrors(errors)
    before = _assignment_snapshot(report) if report else None
    if report is None:
        report = AssignmentReport(unit_id=unit.id, assignment_id=assignment.id, year=year)
        session.add(report)
    for item in items:
        row = existing.get(item.id)
        if row is None:
            row = AssignmentReportRow(requirement_id=item.id)
            report.rows.append(row)
        if item.id in cleaned:
            row.value = cleaned[item.id]
        elif item.id in chosen:
            for name, value in store_upload(session, store, *chosen[item.id]).items():
                setattr(row, name, value)
    now = utcnow()
    if report.submitted_at is None:
        report.submitted_at = now
        report.submitted_by_id = user.id
    else:
        report.changed_at = now
    session.flush()
    record(
        session,
        Actor.of(user),
        "assignment_report",
        report.id,
        "update" if before else "submit",
        before=before,
        after=_assignment_snapshot(report),
    )
    return report


def _assignment_snapshot(report: AssignmentReport) -> dict:
    return {
        "unit_id": report.unit_id,
        "assignment_id": report.assignment_id,
        "year": report.year,
        "rows": {
            str(row.requirement_id): row.value if row.sha256 is None else row.sha256
            for row in report.rows
        },
    }


# --- what the annual analysis reads (§7.1.4), set-based ------------------------------------


@dataclasses.dataclass(frozen=True)
class OnTime:
    """Reports given on time, given late and missing, of one kind in one year."""

    kind: str
    expected: int
    on_time: int
    late: int
    missing: int


def reports_on_time(session: Session, year: int, *, today: dt.date | None = None) -> list[OnTime]:
    """Inlämnade i tid (§7.1.4): for the follow-up year ``year``, how many of the expected
    reports came on time, late, or not (yet) — the telephone reports for the months of
    ``year`` (units off the platform), the patient-safety reports due 1 March ``year``, and
    the tilläggsuppdrag annual reports on ``year``. A report not yet due counts as neither
    late nor missing. A few queries, whatever the number of units."""
    today = today or dt.date.today()
    units = _active_units(session)
    off_platform = [u for u in units if not u.on_region_telephony]
    result = []

    given = {
        (unit_id, month): submitted.date()
        for unit_id, month, submitted in session.execute(
            sa.select(
                TelephoneReport.unit_id, TelephoneReport.month, TelephoneReport.submitted_at
            ).where(TelephoneReport.year == year)
        )
    }
    result.append(
        _count(
            "telephone",
            [
                (telephone_due(year, month), given.get((u.id, month)))
                for u in off_platform
                for month in range(1, 13)
            ],
            today,
        )
    )
    sent = dict(
        session.execute(
            sa.select(PatientSafetyReport.unit_id, PatientSafetyReport.sent_on).where(
                PatientSafetyReport.year == year
            )
        ).all()
    )
    rulebook_units = [u for u in units if u.kind in _rulebook_kinds()]
    result.append(
        _count(
            "patient_safety",
            [(patient_safety_due(year), sent.get(u.id)) for u in rulebook_units],
            today,
        )
    )
    expected = assignment_units(session, year)
    submitted = {
        (unit_id, assignment_id): at.date()
        for unit_id, assignment_id, at in session.execute(
            sa.select(
                AssignmentReport.unit_id,
                AssignmentReport.assignment_id,
                AssignmentReport.submitted_at,
            ).where(AssignmentReport.year == year, AssignmentReport.submitted_at.is_not(None))
        )
    }
    result.append(
        _count(
            "assignment",
            [(assignment_due(year), submitted.get((u.id, a.id))) for a, u in expected],
            today,
        )
    )
    return result


def _count(kind: str, pairs: list[tuple[dt.date, dt.date | None]], today: dt.date) -> OnTime:
    on_time = sum(1 for due, done in pairs if done is not None and done <= due)
    late = sum(1 for due, done in pairs if done is not None and done > due)
    missing = sum(1 for due, done in pairs if done is None and due < today)
    return OnTime(kind, len(pairs), on_time, late, missing)


def _rulebook_kinds():
    from checklists.applicability import RULEBOOK_KINDS

    return RULEBOOK_KINDS


def _active_units(session: Session) -> list[Unit]:
    return list(session.scalars(sa.select(Unit).where(Unit.active.is_(True)).order_by(Unit.name)))


def assignment_units(
    session: Session, year: int, *, units: list[Unit] | None = None
) -> list[tuple[Assignment, Unit]]:
    """(assignment, unit) for every annual report on ``year`` a unit of the register owes."""
    edition = assignment_edition(session, year)
    if edition is None:
        return []
    by_code = {u.code: u for u in (units if units is not None else _active_units(session))}
    return [
        (assignment, by_code[code])
        for assignment in edition.assignments
        for code in assignment.units or []
        if code in by_code
    ]


@dataclasses.dataclass(frozen=True)
class CountyFigure:
    """A tilläggsuppdrag row summed over the county: the numerators and the denominators (or
    the numbers) added up, never an average of the units' shares."""

    requirement_code: str
    assignment_code: str
    label: str
    units: int
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    total: Decimal | None = None

    @property
    def ratio(self) -> float | None:
        if self.numerator is None or not self.denominator:
            return None
        return float(self.numerator / self.denominator)


def assignment_county_figures(session: Session, year: int) -> list[CountyFigure]:
    """Länets siffror: every count_ratio and number row of the tilläggsuppdrag annual reports on
    ``year``, summed over the units that reported (one query)."""
    rows = session.execute(
        sa.select(Requirement, AssignmentReportRow.value)
        .join(AssignmentReportRow, AssignmentReportRow.requirement_id == Requirement.id)
        .join(AssignmentReport, AssignmentReport.id == AssignmentReportRow.report_id)
        .where(
            AssignmentReport.year == year,
            AssignmentReport.submitted_at.is_not(None),
            Requirement.answer_type.in_([AnswerType.COUNT_RATIO, AnswerType.NUMBER]),
        )
        .order_by(Requirement.position)
    ).all()
    sums: dict[int, dict] = {}
    for requirement, value in rows:
        if not value:
            continue
        entry = sums.setdefault(
            requirement.id, {"requirement": requirement, "units": 0, "n": 0, "d": 0, "t": 0}
        )
        entry["units"] += 1
        if requirement.answer_type == AnswerType.COUNT_RATIO:
            entry["n"] += Decimal(str(value["numerator"]))
            entry["d"] += Decimal(str(value["denominator"]))
        else:
            entry["t"] += Decimal(str(value["value"]))
    figures = []
    for entry in sums.values():
        requirement = entry["requirement"]
        ratio = requirement.answer_type == AnswerType.COUNT_RATIO
        figures.append(
            CountyFigure(
                requirement.code,
                requirement.assignment_code or "",
                requirement.source_text,
                entry["units"],
                numerator=entry["n"] if ratio else None,
                denominator=entry["d"] if ratio else None,
                total=None if ratio else entry["t"],
            )
        )
    return figures


@dataclasses.dataclass(frozen=True)
class TelephoneCounty:
    """The telephone reports of a year summed: calls, answered, callbacks, and the waiting
    minutes weighted by answered calls (so the county's mean is wait_minutes / answered)."""

    reports: int
    incoming_calls: int
    answered_calls: int
    callback_calls: int
    wait_minutes: float


def telephone_county_figures(session: Session, year: int) -> TelephoneCounty:
    """The year's telephone reports summed in one query."""
    row = session.execute(
        sa.select(
            sa.func.count(TelephoneReport.id),
            sa.func.coalesce(sa.func.sum(TelephoneReport.incoming_calls), 0),
            sa.func.coalesce(sa.func.sum(TelephoneReport.answered_calls), 0),
            sa.func.coalesce(sa.func.sum(TelephoneReport.callback_calls), 0),
            sa.func.coalesce(
                sa.func.sum(TelephoneReport.mean_wait_minutes * TelephoneReport.answered_calls), 0
            ),
        ).where(TelephoneReport.year == year)
    ).one()
    return TelephoneCounty(int(row[0]), int(row[1]), int(row[2]), int(row[3]), float(row[4]))


# --- the deadline scan's reminders ------------------------------------------------------------


def report_deadlines(session: Session, today: dt.date) -> list:
    """The reports still missing whose day is near or has passed, as deadlines for
    :func:`workflows.deadlines.scan` (which turns them into Reminder rows, once each): a
    month's telephone report (units off the platform), the patient-safety report and the
    tilläggsuppdrag annual reports. Each reminder is keyed by the unit and the due date, so a
    unit gets one per report day (its missing tilläggsuppdrag reports named together). Looks
    back :data:`LOOK_BACK_DAYS` (the scan runs daily from cron: an overdue report is reminded
    of on the first scan after its day, and a new installation is not flooded with a year of
    reports nobody could give in it); a handful of queries."""
    from workflows.deadlines import Deadline

    horizon = today + dt.timedelta(days=40)
    since = today - dt.timedelta(days=LOOK_BACK_DAYS)
    units = _active_units(session)
    found: list[Deadline] = []

    months = [
        (y, m)
        for y in (today.year - 1, today.year)
        for m in range(1, 13)
        if since <= telephone_due(y, m) <= horizon
    ]
    given = set(
        session.execute(
            sa.select(TelephoneReport.unit_id, TelephoneReport.year, TelephoneReport.month).where(
                TelephoneReport.year.in_({y for y, _m in months} or {0})
            )
        ).all()
    )
    for unit in units:
        if unit.on_region_telephony or unit.kind not in _rulebook_kinds():
            continue
        for y, m in months:
            if (unit.id, y, m) in given:
                continue
            due = telephone_due(y, m)
            period = f"{month_name(m)} {y}"
            found.append(
                Deadline(
                    "telephone_report",
                    unit.id,
                    unit.id,
                    due,
                    f"Månadsrapporten om telefontillgänglighet för {period}",
                    texts=(
                        f"Månadsrapporten om telefontillgänglighet för {period} ska lämnas "
                        f"senast {due.isoformat()} (§6.9).",
                        f"Månadsrapporten om telefontillgänglighet för {period} skulle ha "
                        f"lämnats senast {due.isoformat()} (§6.9).",
                    ),
                )
            )

    years = [
        y
        for y in (today.year - 1, today.year, today.year + 1)
        if since <= patient_safety_due(y) <= horizon
    ]
    sent = set(
        session.execute(
            sa.select(PatientSafetyReport.unit_id, PatientSafetyReport.year).where(
                PatientSafetyReport.year.in_(years or [0])
            )
        ).all()
    )
    for y in years:
        due = patient_safety_due(y)
        for unit in units:
            if unit.kind not in _rulebook_kinds() or (unit.id, y) in sent:
                continue
            found.append(
                Deadline(
                    "patient_safety_report",
                    unit.id,
                    unit.id,
                    due,
                    f"Patientsäkerhetsberättelsen för {y - 1}",
                    remind_days=10,
                    texts=(
                        f"Patientsäkerhetsberättelsen för {y - 1} ska lämnas till Region "
                        f"Västerbotten senast {due.isoformat()} (§2.6).",
                        f"Patientsäkerhetsberättelsen för {y - 1} skulle ha lämnats senast "
                        f"{due.isoformat()} (§2.6).",
                    ),
                )
            )

    for report_year in (today.year - 2, today.year - 1, today.year):
        due = assignment_due(report_year)
        if not since <= due <= horizon:
            continue
        pairs = assignment_units(session, report_year, units=units)
        done = set(
            session.execute(
                sa.select(AssignmentReport.unit_id, AssignmentReport.assignment_id).where(
                    AssignmentReport.year == report_year,
                    AssignmentReport.submitted_at.is_not(None),
                )
            ).all()
        )
        missing: dict[int, list[str]] = {}
        for assignment, unit in pairs:
            if (unit.id, assignment.id) not in done:
                missing.setdefault(unit.id, []).append(assignment.title)
        for unit_id, titles in missing.items():
            names = "; ".join(titles)
            found.append(
                Deadline(
                    "assignment_report",
                    unit_id,
                    unit_id,
                    due,
                    f"Årsrapporten för {report_year}",
                    remind_days=10,
                    texts=(
                        f"Årsrapporten för {report_year} ska lämnas senast {due.isoformat()} "
                        f"för tilläggsuppdraget: {names}.",
                        f"Årsrapporten för {report_year} skulle ha lämnats senast "
                        f"{due.isoformat()} för tilläggsuppdraget: {names}.",
                    ),
                )
            )
    return found
