"""Årshjul: the year's dated duties of every unit and of the purchaser, with what is done, due
and late.

:func:`year_duties` is the one entry point (the pages and the calendar feed call it). It
generates the duties from

- the **catalog** in force for the year: every ``annual`` item that applies to the unit
  (:mod:`checklists.applicability`), due on its ``deadline`` (``"03-01"``) or else by the end
  of the year, done when the unit's checklist of a round of that year answers it; the
  patient-safety report (§2.6, 1 March) done by its own dated submission; the ``monthly``
  telephone report (§6.9) for units off the region's platform, one per month, done by the
  month's report; and the tilläggsuppdrag's annual reports on the year before (seed 000);
- the **workflows**' open deadlines (:func:`workflows.deadlines.open_deadlines`: material for a
  dialog, action plans and measures, sanction response times, checklists of rounds, ärenden),
  which are already dated in working days where the rulebook says vardagar;
- the **purchaser's own** duties (only when no units are named): at least two joint dialogs a
  year (§7.1.2) and the annual analysis (§7.1.4).

The rulebook dates only the patient-safety report. Every other date is an assumption, said in
the duty's ``note`` (:data:`PURCHASER_ASSUMPTIONS`, :data:`workflows.reports.operations.
ASSUMPTIONS`).

Set-based: a fixed handful of queries whatever the number of units (the units, the editions
and their items, the year's checklist answers, the three kinds of report, the open deadlines).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from audit.models import Unit
from checklists.applicability import applies
from checklists.models import AnswerType, CatalogEdition, Recurrence, Requirement
from checklists.rounds import Checklist, ChecklistItem, Round
from checklists.sections import section_of
from checklists.workdays import is_working_day, working_days_between
from workflows.reports import operations as rep
from workflows.reports.models import AssignmentReport, PatientSafetyReport, TelephoneReport

DUE_WORKING_DAYS = 10  # "due": within two working weeks
TELEPHONE_CODE = "telefoni.manadsrapport-telefontillganglighet"
FOLLOW_UP_AREA = ("uppfoljning", "Uppföljning")
PURCHASER_ASSUMPTIONS = {
    "joint_dialog": (
        "§7.1.2: ”Minst två gånger per år träffas verksamhetsföreträdare tillsammans med "
        "företrädare för Region Västerbottens beställare.” Regelboken anger inga datum; antaget: "
        "en före sommaren (senast sista vardagen före midsommarafton) och en före jul (senast "
        "sista vardagen före julafton)."
    ),
    "annual_analysis": (
        "§7.1.4 anger inget datum för den samlade årliga analysen; antaget: analysen av "
        "föregående år senast sista vardagen i april, när årets rapporter (1 mars) har kommit in."
    ),
}


class DutyStatus(enum.StrEnum):
    """Läge: klar, aktuell (within :data:`DUE_WORKING_DAYS` working days), försenad, kommande."""

    DONE = "done"
    DUE = "due"
    LATE = "late"
    UPCOMING = "upcoming"


@dataclasses.dataclass(frozen=True)
class Duty:
    """En uppgift i årshjulet.

    ``key`` is stable across calls (a calendar UID can be made of it); ``unit_id`` is None for
    the purchaser's own duty; ``link`` is ``(Flask endpoint, URL arguments)`` of the page where
    the duty is done or seen, or None; ``kind`` is one of ``catalog``, ``telephone``,
    ``patient_safety``, ``assignment``, ``workflow``, ``purchaser``; ``note`` says what the date
    rests on when the rulebook does not give it."""

    key: str
    unit_id: int | None
    unit_code: str | None
    unit_name: str | None
    title: str
    section: str
    area: str
    area_title: str
    due_on: dt.date
    status: DutyStatus
    kind: str
    done_on: dt.date | None = None
    link: tuple[str, dict] | None = None
    note: str | None = None


# Functions (session, year) -> {duty key: date done} that mark the purchaser's own duties done
# (the joint dialog's workflow registers one: a held joint dialog marks "joint_dialog:Y:1").
PURCHASER_DONE: list[Callable[[Session, int], dict[str, dt.date]]] = []


def year_duties(
    session: Session,
    year: int,
    *,
    units: Iterable[Unit] | None = None,
    today: dt.date | None = None,
) -> list[Duty]:
    """Årets uppgifter, sorted by due date: for ``units`` (the purchaser's own duties too when
    ``units`` is None, meaning every active unit). ``today`` decides due and late."""
    today = today or dt.date.today()
    purchaser = units is None
    if units is None:
        unit_list = list(
            session.scalars(sa.select(Unit).where(Unit.active.is_(True)).order_by(Unit.name))
        )
    else:
        unit_list = list(units)
    duties: list[_Draft] = []
    duties += _catalog_duties(session, year, unit_list)
    duties += _assignment_duties(session, year, unit_list)
    duties += _workflow_duties(session, year, unit_list, today)
    if purchaser:
        duties += _purchaser_duties(session, year)
    result = [draft.finish(today) for draft in duties]
    result.sort(key=lambda d: (d.due_on, d.unit_name or "", d.title))
    return result


def status_of(due_on: dt.date, done_on: dt.date | None, today: dt.date) -> DutyStatus:
    """Done; late (its day has passed); due (within DUE_WORKING_DAYS working days); upcoming."""
    if done_on is not None:
        return DutyStatus.DONE
    if due_on < today:
        return DutyStatus.LATE
    if (due_on - today).days <= 31 and working_days_between(today, due_on) <= DUE_WORKING_DAYS:
        return DutyStatus.DUE
    return DutyStatus.UPCOMING


@dataclasses.dataclass
class _Draft:
    key: str
    unit: Unit | None
    title: str
    section: str
    area: tuple[str, str]
    due_on: dt.date
    kind: str
    done_on: dt.date | None = None
    link: tuple[str, dict] | None = None
    note: str | None = None

    def finish(self, today: dt.date) -> Duty:
        return Duty(
            key=self.key,
            unit_id=self.unit.id if self.unit else None,
            unit_code=self.unit.code if self.unit else None,
            unit_name=self.unit.name if self.unit else None,
            title=self.title,
            section=self.section,
            area=self.area[0],
            area_title=self.area[1],
            due_on=self.due_on,
            status=status_of(self.due_on, self.done_on, today),
            kind=self.kind,
            done_on=self.done_on,
            link=self.link,
            note=self.note,
        )


# --- the catalog ---------------------------------------------------------------------------


def _catalog_duties(session: Session, year: int, units: list[Unit]) -> list[_Draft]:
    edition = rep.edition_for(session, "UOR", year)
    if edition is None or not units:
        return []
    items = list(
        session.scalars(
            sa.select(Requirement)
            .where(
                Requirement.edition_id == edition.id,
                Requirement.recurrence.in_([Recurrence.ANNUAL, Recurrence.MONTHLY]),
            )
            .order_by(Requirement.position)
        )
    )
    unit_ids = [u.id for u in units]
    answered = _answered(session, year, unit_ids, [i.code for i in items])
    telephone = _telephone_reports(session, year)
    sent = dict(
        session.execute(
            sa.select(PatientSafetyReport.unit_id, PatientSafetyReport.sent_on).where(
                PatientSafetyReport.year == year
            )
        ).all()
    )
    drafts: list[_Draft] = []
    for item in items:
        area = (item.area, edition.area_title(item.area))
        for unit in units:
            if not applies(item.applies_to, unit):
                continue
            if item.recurrence == Recurrence.MONTHLY:
                if item.code == TELEPHONE_CODE:
                    drafts += _telephone(year, unit, item, area, telephone)
                continue
            if item.answer_type == AnswerType.DATE_DEADLINE and item.deadline:
                drafts.append(_patient_safety(year, unit, item, area, sent.get(unit.id)))
                continue
            due = _deadline(year, item.deadline)
            done = answered.get((unit.id, item.code))
            drafts.append(
                _Draft(
                    key=f"catalog:{item.code}:{unit.code}:{year}",
                    unit=unit,
                    title=item.heading + ": " + _short(item.question),
                    section=item.section,
                    area=area,
                    due_on=due,
                    kind="catalog",
                    done_on=done[0] if done else None,
                    link=(
                        "checklists.section",
                        {"checklist_id": done[1], "section": section_of(item.section)},
                    )
                    if done
                    else None,
                    note=None
                    if item.deadline
                    else "Årlig skyldighet utan datum i regelboken: senast vid årets slut.",
                )
            )
    return drafts


def _short(text: str, limit: int = 140) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _deadline(year: int, mmdd: str | None) -> dt.date:
    if not mmdd:
        return dt.date(year, 12, 31)
    month, day = (int(part) for part in mmdd.split("-"))
    return dt.date(year, month, day)


def _answered(
    session: Session, year: int, unit_ids: list[int], codes: list[str]
) -> dict[tuple[int, str], tuple[dt.date, int]]:
    """(unit id, requirement code) -> (day answered, checklist id) for the answered items of
    the year's rounds — one query."""
    if not codes:
        return {}
    rows = session.execute(
        sa.select(Checklist.unit_id, Requirement.code, ChecklistItem.answered_at, Checklist.id)
        .join(Checklist, Checklist.id == ChecklistItem.checklist_id)
        .join(Round, Round.id == Checklist.round_id)
        .join(Requirement, Requirement.id == ChecklistItem.requirement_id)
        .where(
            Round.year == year,
            Checklist.unit_id.in_(unit_ids),
            Requirement.code.in_(codes),
            ChecklistItem.value.is_not(None),
            ChecklistItem.answered_at.is_not(None),
        )
        .order_by(ChecklistItem.answered_at)
    )
    found: dict[tuple[int, str], tuple[dt.date, int]] = {}
    for unit_id, code, answered_at, checklist_id in rows:
        found.setdefault((unit_id, code), (answered_at.date(), checklist_id))
    return found


def _telephone(year, unit, item, area, reports) -> list[_Draft]:
    drafts = []
    # The reports falling due in ``year``: December of the year before to November.
    for report_year, month in [(year - 1, 12), *((year, m) for m in range(1, 12))]:
        submitted = reports.get((unit.id, report_year, month))
        drafts.append(
            _Draft(
                key=f"telephone:{unit.code}:{report_year}-{month:02d}",
                unit=unit,
                title=f"Telefontillgänglighet {rep.month_name(month)} {report_year}",
                section=item.section,
                area=area,
                due_on=rep.telephone_due(report_year, month),
                kind="telephone",
                done_on=submitted,
                link=(
                    "yearwheel.telephone",
                    {"unit_code": unit.code, "year": report_year, "month": month},
                ),
                note=rep.ASSUMPTIONS["telephone"],
            )
        )
    return drafts


def _telephone_reports(session: Session, year: int) -> dict[tuple[int, int, int], dt.date]:
    return {
        (unit_id, y, m): at.date()
        for unit_id, y, m, at in session.execute(
            sa.select(
                TelephoneReport.unit_id,
                TelephoneReport.year,
                TelephoneReport.month,
                TelephoneReport.submitted_at,
            ).where(
                sa.or_(
                    TelephoneReport.year == year,
                    sa.and_(TelephoneReport.year == year - 1, TelephoneReport.month == 12),
                )
            )
        )
    }


def _patient_safety(year, unit, item, area, sent: dt.date | None) -> _Draft:
    return _Draft(
        key=f"patient_safety:{unit.code}:{year}",
        unit=unit,
        title=f"Patientsäkerhetsberättelsen för {year - 1}",
        section=item.section,
        area=area,
        due_on=_deadline(year, item.deadline),
        kind="patient_safety",
        done_on=sent,
        link=("yearwheel.patient_safety", {"unit_code": unit.code, "year": year}),
    )


# --- the tilläggsuppdrag -----------------------------------------------------------------------


def _assignment_duties(session: Session, year: int, units: list[Unit]) -> list[_Draft]:
    """The annual reports on the year before, due in ``year``."""
    report_year = year - 1
    pairs = rep.assignment_units(session, report_year, units=units)
    if not pairs:
        return []
    edition = session.get(CatalogEdition, pairs[0][0].edition_id)
    submitted = {
        (unit_id, assignment_id): at.date()
        for unit_id, assignment_id, at in session.execute(
            sa.select(
                AssignmentReport.unit_id,
                AssignmentReport.assignment_id,
                AssignmentReport.submitted_at,
            ).where(
                AssignmentReport.year == report_year, AssignmentReport.submitted_at.is_not(None)
            )
        )
    }
    return [
        _Draft(
            key=f"assignment:{assignment.code}:{unit.code}:{report_year}",
            unit=unit,
            title=f"Årsrapport {report_year}: {assignment.title}",
            section="Tilläggsuppdrag",
            area=(assignment.area, edition.area_title(assignment.area)),
            due_on=rep.assignment_due(report_year),
            kind="assignment",
            done_on=submitted.get((unit.id, assignment.id)),
            link=(
                "yearwheel.assignment",
                {"unit_code": unit.code, "year": report_year, "assignment_code": assignment.code},
            ),
            note=rep.ASSUMPTIONS["assignment"],
        )
        for assignment, unit in pairs
    ]


# --- the workflows ---------------------------------------------------------------------------

_WORKFLOW_SECTIONS = {
    "follow_up_dialog": "7.1.1",
    "action_plan": "7.1.3",
    "action_measure": "7.1.3",
    "sanction_case": "7.1.3",
    "checklist": "7",
}


def _workflow_duties(
    session: Session, year: int, units: list[Unit], today: dt.date
) -> list[_Draft]:
    """Open deadlines falling in ``year``; in the current year also those left over from
    earlier years (still open, so late)."""
    from workflows.cases.models import Case
    from workflows.cases.types import case_type
    from workflows.deadlines import open_deadlines
    from workflows.models import ActionMeasure

    by_id = {u.id: u for u in units}
    deadlines = [
        d
        for d in open_deadlines(session)
        if d.unit_id in by_id
        and (d.due_on.year == year or (year == today.year and d.due_on < dt.date(year, 1, 1)))
    ]
    measure_ids = [d.entity_id for d in deadlines if d.entity_type == "action_measure"]
    plan_of = (
        dict(
            session.execute(
                sa.select(ActionMeasure.id, ActionMeasure.plan_id).where(
                    ActionMeasure.id.in_(measure_ids)
                )
            ).all()
        )
        if measure_ids
        else {}
    )
    case_ids = [d.entity_id for d in deadlines if d.entity_type.startswith("case")]
    kind_of = (
        dict(session.execute(sa.select(Case.id, Case.kind).where(Case.id.in_(case_ids))).all())
        if case_ids
        else {}
    )
    drafts = []
    for d in deadlines:
        if d.entity_type.startswith("case"):
            kind = kind_of.get(d.entity_id)
            section = case_type(kind).section_label.replace("§", "") if kind else "7"
            link = ("cases.show", {"arende_id": d.entity_id})
        else:
            section = _WORKFLOW_SECTIONS.get(d.entity_type, "7")
            link = {
                "follow_up_dialog": ("dialogs.show", {"dialog_id": d.entity_id}),
                "action_plan": ("plans.show", {"plan_id": d.entity_id}),
                "action_measure": ("plans.show", {"plan_id": plan_of.get(d.entity_id)}),
                "sanction_case": ("sanctions.show", {"case_id": d.entity_id}),
                "checklist": ("checklists.answer", {"checklist_id": d.entity_id}),
            }.get(d.entity_type)
        title = d.texts[0] if d.texts else d.what
        drafts.append(
            _Draft(
                key=f"{d.entity_type}:{d.entity_id}:{d.due_on.isoformat()}",
                unit=by_id[d.unit_id],
                title=title,
                section=section,
                area=FOLLOW_UP_AREA,
                due_on=d.due_on,
                kind="workflow",
                link=link,
            )
        )
    return drafts


# --- the purchaser's own duties --------------------------------------------------------------


def last_working_day_before(day: dt.date) -> dt.date:
    """The last working day (vardag) before ``day``: before midsommarafton 2026 (19 June) it is
    18 June."""
    day -= dt.timedelta(days=1)
    while not is_working_day(day):
        day -= dt.timedelta(days=1)
    return day


def midsommarafton(year: int) -> dt.date:
    """The Friday between 19 and 25 June."""
    day = dt.date(year, 6, 19)
    return day + dt.timedelta(days=(4 - day.weekday()) % 7)


def last_working_day_of(year: int, month: int) -> dt.date:
    after = dt.date(year + (month == 12), month % 12 + 1, 1)
    return last_working_day_before(after)


def _purchaser_duties(session: Session, year: int) -> list[_Draft]:
    done: dict[str, dt.date] = {}
    for source in PURCHASER_DONE:
        done |= source(session, year)
    joint = [
        (1, "före sommaren", last_working_day_before(midsommarafton(year))),
        (2, "före jul", last_working_day_before(dt.date(year, 12, 24))),
    ]
    drafts = [
        _Draft(
            key=f"joint_dialog:{year}:{n}",
            unit=None,
            title=f"Gemensam dialog med utförarna ({n} av minst 2, {when})",
            section="7.1.2",
            area=FOLLOW_UP_AREA,
            due_on=due,
            kind="purchaser",
            done_on=done.get(f"joint_dialog:{year}:{n}"),
            note=PURCHASER_ASSUMPTIONS["joint_dialog"],
        )
        for n, when, due in joint
    ]
    key = f"annual_analysis:{year - 1}"
    drafts.append(
        _Draft(
            key=key,
            unit=None,
            title=f"Samlad årlig analys av {year - 1} till den politiska ledningen",
            section="7.1.4",
            area=FOLLOW_UP_AREA,
            due_on=last_working_day_of(year, 4),
            kind="purchaser",
            done_on=done.get(key),
            note=PURCHASER_ASSUMPTIONS["annual_analysis"],
        )
    )
    return drafts


__all__ = ["DUE_WORKING_DAYS", "PURCHASER_DONE", "Duty", "DutyStatus", "status_of", "year_duties"]
