"""Avsnitten i den årliga analysen (§7.1.4): each section a function from the follow-up year to
one table, assembled by set-based queries (a constant number per section, none per row).

A section is a function registered in :data:`SECTIONS`; its table carries its key, Swedish title
and rulebook reference. Adding a section (IVO's fast route, joint dialogs §7.1.2, in-depth
reviews, recurring reports) is adding one function and one line there. Tables hold plain JSON
values so that a published analysis can store them as they were (its snapshot) and render
them, and their charts, later:

* ``int`` / ``float`` / ``str`` / ``None``;
* a ratio ``{"n": 3, "d": 4}`` — "3 av 4 (75 %)" — wherever a share is shown, so that the
  counts behind every percentage stay in the table (and county figures are summed from
  numerators and denominators, never averaged from ratios).

Texts are Swedish: the tables are the body of a Swedish report to the political leadership.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from audit.models import Unit
from audit.trail import AuditEvent
from checklists import results
from checklists.answers import Status
from checklists.models import AnswerType, CatalogEdition, Severity
from checklists.rounds import Checklist, Finding, Round
from workflows import action_plan as ap
from workflows import dialog as dl
from workflows import sanction as sc
from workflows.cases.machine import STATE_LABELS as CASE_STATE_LABELS
from workflows.cases.models import Case, CaseKind, CaseOutcome, CaseState
from workflows.cases.types import case_type
from workflows.models import (
    ActionMeasure,
    ActionPlan,
    DecidingBody,
    Decision,
    DialogFinding,
    Disposition,
    FollowUpDialog,
    IvoReferral,
    PlanState,
    SanctionCase,
    SanctionState,
)

JUDGED = (Status.COMPLIANT, Status.PARTLY_COMPLIANT, Status.NON_COMPLIANT)


def ratio(n: int, d: int) -> dict | None:
    """A share as its counts (``None`` when there is nothing to divide by)."""
    return {"n": int(n), "d": int(d)} if d else None


@dataclasses.dataclass
class Table:
    """Tabell: one section's figures — its columns (label and whether numeric), its rows."""

    key: str
    title: str
    reference: str  # the rulebook section(s) it reports on
    columns: list[dict]  # {"label": str, "numeric": bool}
    rows: list[list]
    note: str = ""
    chart: str | None = None  # "heatmap" | "trend" | "plans_over_time"
    # Rows the table sums up (länet), shown apart from the body.
    totals: list[list] = dataclasses.field(default_factory=list)

    def to_json(self) -> dict:
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_json(cls, data: dict) -> Table:
        return cls(**data)


def _cols(*labels: str, text: int = 1) -> list[dict]:
    """Columns: the first ``text`` are text, the rest numbers."""
    return [{"label": label, "numeric": n >= text} for n, label in enumerate(labels)]


@dataclasses.dataclass(frozen=True)
class Scope:
    """Uppföljningsåret: the year, and the day its open matters are judged at (the last day
    of the year, or today while the year is still running)."""

    db: Session
    year: int
    as_of: dt.date

    @classmethod
    def of(cls, db: Session, year: int, today: dt.date | None = None) -> Scope:
        today = today or dt.date.today()
        return cls(db, year, min(today, dt.date(year, 12, 31)))

    @property
    def start(self) -> dt.datetime:
        return dt.datetime(self.year, 1, 1, tzinfo=dt.UTC)

    @property
    def end(self) -> dt.datetime:
        return dt.datetime(self.year + 1, 1, 1, tzinfo=dt.UTC)

    def created_in_year(self, column) -> sa.ColumnElement:
        return sa.and_(column >= self.start, column < self.end)


def _area_titles(db: Session, round_filter) -> list[tuple[str, str]]:
    """(code, title) of the areas of the editions of the rounds selected, in edition order."""
    seen: dict[str, str] = {}
    editions = db.scalars(
        sa.select(CatalogEdition)
        .where(CatalogEdition.id.in_(sa.select(Round.edition_id).where(round_filter)))
        .order_by(CatalogEdition.family, CatalogEdition.year.desc())
    )
    for edition in editions:
        for area in edition.areas:
            seen.setdefault(area["code"], area["title"])
    return list(seen.items())


# --- results ----------------------------------------------------------------------------------


def heat_map(scope: Scope) -> Table:
    """Resultat per område och enhet: the round overview's query over every round of the year;
    a cell is the share of compliant among the judged items of that unit and area."""
    db = scope.db
    in_year = Round.year == scope.year
    year_rounds = sa.select(Round.id).where(in_year)
    c = results.CHECKLISTS.c
    units = dict(
        db.execute(
            sa.select(Checklist.id, Unit.name)
            .join(Unit, Unit.id == Checklist.unit_id)
            .where(Checklist.round_id.in_(year_rounds))
        ).all()
    )
    cells: dict[str, dict[str, list[int]]] = {}
    for checklist_id, area, status, n in db.execute(
        results.status_counts(c.round_id.in_(year_rounds))
    ):
        cell = cells.setdefault(units[checklist_id], {}).setdefault(area, [0, 0])
        if status in JUDGED:
            cell[1] += n
            if status == Status.COMPLIANT:
                cell[0] += n
    areas = [(code, title) for code, title in _area_titles(db, in_year)]
    # An area in which nothing was judged (all reported figures, say) has no result to show.
    used = {a for per in cells.values() for a, (_c, judged) in per.items() if judged}
    areas = [(code, title) for code, title in areas if code in used]
    rows = []
    county = {code: [0, 0] for code, _ in areas}
    for name in sorted(cells):
        row: list = [name]
        for code, _title in areas:
            compliant, judged = cells[name].get(code, (0, 0))
            row.append(ratio(compliant, judged))
            county[code][0] += compliant
            county[code][1] += judged
        rows.append(row)
    totals = [["Länet", *(ratio(*county[code]) for code, _ in areas)]] if rows else []
    return Table(
        key="heat_map",
        title="Resultat per område och enhet",
        reference="§7.1.1, §7.1.4",
        columns=_cols("Enhet", *(title for _code, title in areas)),
        rows=rows,
        totals=totals,
        chart="heatmap",
        note=(
            "Andel uppfyllda krav av de bedömda i årets uppföljningsomgångar (delvis och ej "
            "uppfyllda räknas som inte uppfyllda; ej tillämpliga, obesvarade och ännu inte "
            "bedömda krav räknas inte)."
        ),
    )


STATUS_COLUMNS = [
    (Status.COMPLIANT, "Uppfyllt"),
    (Status.PARTLY_COMPLIANT, "Delvis"),
    (Status.NON_COMPLIANT, "Ej uppfyllt"),
    (Status.NOT_APPLICABLE, "Ej tillämpligt"),
    (Status.TO_REVIEW, "Bedöms ännu"),
    (Status.NOT_ANSWERED, "Obesvarat"),
]


def compliance_by_requirement(scope: Scope) -> Table:
    """Uppfyllelse per krav: every requirement of the year's rounds (by its stable code) with
    the number of units in each status, the least fulfilled first."""
    r = results.REQUIREMENTS.c
    c = results.CHECKLISTS.c
    stmt = (
        sa.select(
            r.code,
            sa.func.min(r.section),
            results.EFFECTIVE_STATUS,
            sa.func.count(),
        )
        .select_from(results.ITEMS)
        .join(results.CHECKLISTS, c.id == results.ITEMS.c.checklist_id)
        .join(results.REQUIREMENTS, r.id == results.ITEMS.c.requirement_id)
        .where(c.round_id.in_(sa.select(Round.id).where(Round.year == scope.year)))
        .group_by(r.code, results.EFFECTIVE_STATUS)
    )
    found: dict[str, dict] = {}
    for code, section, status, n in scope.db.execute(stmt):
        entry = found.setdefault(code, {"section": section, "counts": {}})
        entry["counts"][status] = entry["counts"].get(status, 0) + n
    rows = []
    for code, entry in found.items():
        counts = entry["counts"]
        judged = sum(counts.get(s, 0) for s in JUDGED)
        rows.append(
            [
                code,
                f"§{entry['section']}",
                *(counts.get(status, 0) for status, _ in STATUS_COLUMNS),
                ratio(counts.get(Status.COMPLIANT, 0), judged),
            ]
        )

    def order(row):
        share = row[-1]
        return (share is None, share["n"] / share["d"] if share else 0, row[0])

    rows.sort(key=order)
    return Table(
        key="compliance_by_requirement",
        title="Uppfyllelse per krav",
        reference="§2–§6",
        columns=_cols(
            "Kod",
            "Avsnitt",
            *(label for _, label in STATUS_COLUMNS),
            "Andel uppfyllt",
            text=2,
        ),
        rows=rows,
        note=(
            "Antal enheter per bedömning av varje krav (kravets stabila kod i katalogen); de "
            "minst uppfyllda kraven först."
        ),
    )


def trends(scope: Scope) -> Table:
    """Utveckling per område över åren: each year's share of compliant among judged items, up
    to the analysis year. Requirements are followed by their stable code across editions: a
    requirement is counted in the area this year's edition gives it, whatever area an earlier
    edition had (an area's figure compares the same requirements from year to year)."""
    db = scope.db
    r = results.REQUIREMENTS.c
    c = results.CHECKLISTS.c
    rounds = Round.__table__.c
    current = (
        sa.select(r.code, sa.func.min(r.area).label("area"))
        .join(Round.__table__, rounds.edition_id == r.edition_id)
        .where(rounds.year == scope.year)
        .group_by(r.code)
        .subquery()
    )
    area = sa.func.coalesce(current.c.area, r.area)
    stmt = (
        sa.select(rounds.year, area, results.EFFECTIVE_STATUS, sa.func.count())
        .select_from(results.ITEMS)
        .join(results.CHECKLISTS, c.id == results.ITEMS.c.checklist_id)
        .join(Round.__table__, rounds.id == c.round_id)
        .join(results.REQUIREMENTS, r.id == results.ITEMS.c.requirement_id)
        .outerjoin(current, current.c.code == r.code)
        .where(rounds.year <= scope.year)
        .group_by(rounds.year, area, results.EFFECTIVE_STATUS)
    )
    counts: dict[tuple[int, str], list[int]] = {}
    for year, area_code, status, n in db.execute(stmt):
        cell = counts.setdefault((year, area_code), [0, 0])
        if status in JUDGED:
            cell[1] += n
            if status == Status.COMPLIANT:
                cell[0] += n
    years = sorted({year for year, _ in counts})
    titles = dict(_area_titles(db, Round.year <= scope.year))
    order = [code for code in _area_titles_order(db, scope)] + sorted(titles)
    areas = []
    for code in order:
        if code not in areas and any(counts.get((y, code), (0, 0))[1] for y in years):
            areas.append(code)
    rows = [
        [titles.get(code, code), *(ratio(*counts.get((y, code), (0, 0))) for y in years)]
        for code in areas
    ]
    return Table(
        key="trends",
        title="Utveckling per område över åren",
        reference="§7.1.4",
        columns=_cols("Område", *(str(y) for y in years)),
        rows=rows,
        chart="trend",
        note=(
            "Andel uppfyllda av de bedömda kraven per år. Kraven följs med sin stabila kod "
            "mellan utgåvorna och räknas i det område årets utgåva ger dem."
        ),
    )


def _area_titles_order(db: Session, scope: Scope) -> list[str]:
    return [code for code, _ in _area_titles(db, Round.year == scope.year)]


# --- findings and what came of them -----------------------------------------------------------

DISPOSITION_LABELS = {
    Disposition.NO_ACTION: "Ingen åtgärd",
    Disposition.REMARK: "Påpekande",
    Disposition.ACTION_PLAN: "Åtgärdsplan begärd",
    Disposition.IN_DEPTH_REVIEW: "Särskild fördjupning",
    Disposition.SANCTION_CASE: "Sanktionsärende",
}
SEVERITY_COLUMNS = [
    (Severity.PATIENT_SAFETY, "Patientsäkerhet"),
    (Severity.HIGH, "Hög"),
    (Severity.NORMAL, "Normal"),
]


def findings(scope: Scope) -> Table:
    """Iakttagelser och hur de hanterades: the year's findings by their latest disposition in
    a dialog (§7.1.1) and by severity."""
    latest = (
        sa.select(DialogFinding.finding_id, sa.func.max(DialogFinding.id).label("entry_id"))
        .where(DialogFinding.disposition.is_not(None))
        .group_by(DialogFinding.finding_id)
        .subquery()
    )
    disposition = sa.type_coerce(DialogFinding.disposition, sa.String)
    stmt = (
        sa.select(disposition, sa.type_coerce(Finding.severity, sa.String), sa.func.count())
        .select_from(Finding)
        .join(Round, Round.id == Finding.round_id)
        .outerjoin(latest, latest.c.finding_id == Finding.id)
        .outerjoin(DialogFinding, DialogFinding.id == latest.c.entry_id)
        .where(Round.year == scope.year)
        .group_by(disposition, Finding.severity)
    )
    counts: dict[str | None, dict[str, int]] = {}
    for disp, severity, n in scope.db.execute(stmt):
        counts.setdefault(disp, {})[severity] = n
    rows = []
    keys = [*(d.value for d in Disposition), None]
    for key in keys:
        per = counts.get(key, {})
        label = DISPOSITION_LABELS[Disposition(key)] if key else "Ännu inte hanterad i en dialog"
        numbers = [per.get(s.value, 0) for s, _ in SEVERITY_COLUMNS]
        rows.append([label, *numbers, sum(numbers)])
    totals = [
        ["Totalt", *(sum(row[i] for row in rows) for i in range(1, len(SEVERITY_COLUMNS) + 2))]
    ]
    return Table(
        key="findings",
        title="Iakttagelser och hur de hanterades",
        reference="§7.1.1, §7.1.3",
        columns=_cols("Hantering", *(label for _, label in SEVERITY_COLUMNS), "Totalt"),
        rows=rows,
        totals=totals,
        note="Årets iakttagelser efter allvarlighetsgrad och den senaste hanteringen i en dialog.",
    )


# --- action plans ------------------------------------------------------------------------------


def _plan_late(as_of: dt.date) -> sa.ColumnElement:
    """Försenad (workflows.action_plan.is_overdue) as SQL: not handed in by its first date, or
    approved and not carried out by the measures' dates."""
    measure_late = (
        sa.select(ActionMeasure.id)
        .where(
            ActionMeasure.plan_id == ActionPlan.id,
            ActionMeasure.done_on.is_(None),
            ActionMeasure.due_date < as_of,
        )
        .exists()
    )
    return sa.or_(
        sa.and_(ActionPlan.status.in_(ap.WRITING_STATES), ActionPlan.plan_due < as_of),
        sa.and_(
            ActionPlan.status == PlanState.APPROVED,
            sa.or_(ActionPlan.measures_due < as_of, measure_late),
        ),
    )


def action_plans(scope: Scope) -> Table:
    """Åtgärdsplaner (§7.1.3): the plans requested during the year by their state on the day
    the year is judged, and how many of them are late."""
    late = sa.case((_plan_late(scope.as_of), 1), else_=0)
    stmt = (
        sa.select(sa.type_coerce(ActionPlan.status, sa.String), sa.func.count(), sa.func.sum(late))
        .where(scope.created_in_year(ActionPlan.created_at))
        .group_by(ActionPlan.status)
    )
    counts = {status: (n, int(late_n or 0)) for status, n, late_n in scope.db.execute(stmt)}
    rows = [[ap.STATE_LABELS[state], *counts.get(state.value, (0, 0))] for state in PlanState]
    totals = [["Totalt", sum(r[1] for r in rows), sum(r[2] for r in rows)]]
    return Table(
        key="action_plans",
        title="Åtgärdsplaner",
        reference="§7.1.3",
        columns=_cols("Läge", "Antal", "varav försenade"),
        rows=rows,
        totals=totals,
        note=(
            f"Planer begärda under {scope.year}, i sitt läge {scope.as_of.isoformat()}. "
            "Försenad: inte inlämnad senast sista dag, eller godkänd men åtgärderna inte "
            "genomförda i tid."
        ),
    )


PLAN_GROUPS = [
    ("Begärd eller återsänd", (PlanState.REQUESTED, PlanState.RETURNED)),
    ("Inlämnad", (PlanState.SUBMITTED,)),
    ("Godkänd – åtgärder pågår", (PlanState.APPROVED,)),
    ("Rapporterad", (PlanState.REPORTED,)),
    ("Verifierad eller avslutad", (PlanState.VERIFIED, PlanState.CLOSED)),
    ("Underkänd", (PlanState.FAILED,)),
    ("Återkallad", (PlanState.WITHDRAWN,)),
]
MONTHS = [
    "jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
]  # fmt: skip


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)


def plans_over_time(scope: Scope) -> Table:
    """Åtgärdsplaner per läge över året: how many plans were in each state at the end of each
    month, read from the audit trail (one query: every plan event up to the year's end)."""
    events = scope.db.execute(
        sa.select(AuditEvent.entity_id, AuditEvent.occurred_at, AuditEvent.action, AuditEvent.after)
        .where(AuditEvent.entity_type == "action_plan", AuditEvent.occurred_at < scope.end)
        .order_by(AuditEvent.id)
    ).all()
    group_of = {state.value: n for n, (_, states) in enumerate(PLAN_GROUPS) for state in states}
    last_month = scope.as_of.month if scope.as_of.year == scope.year else 12
    states: dict[str, str] = {}
    rows = []
    index = 0
    for month in range(1, last_month + 1):
        end = _month_end(scope.year, month)
        while index < len(events) and events[index][1].date() <= end:
            entity_id, _at, action, after = events[index]
            index += 1
            data = json.loads(after) if after else {}
            if action == "create":
                states[entity_id] = PlanState.REQUESTED.value
            elif isinstance(data, dict) and data.get("status") in group_of:
                states[entity_id] = data["status"]
        numbers = [0] * len(PLAN_GROUPS)
        for state in states.values():
            numbers[group_of[state]] += 1
        rows.append([f"{MONTHS[month - 1]} {scope.year}", *numbers, sum(numbers)])
    return Table(
        key="plans_over_time",
        title="Åtgärdsplaner per läge över året",
        reference="§7.1.3",
        columns=_cols("Månadens slut", *(label for label, _ in PLAN_GROUPS), "Totalt"),
        rows=rows,
        chart="plans_over_time",
        note="Antal åtgärdsplaner i varje läge vid varje månads slut, ur granskningsloggen.",
    )


# --- sanctions, cases, IVO ---------------------------------------------------------------------


def sanctions(scope: Scope) -> Table:
    """Sanktionsärenden och beslut: the cases opened during the year by decision, who decided,
    and the penalties decided."""
    decision = sa.type_coerce(SanctionCase.decision, sa.String)
    body = sa.type_coerce(SanctionCase.deciding_body, sa.String)
    withdrawn = SanctionCase.status == SanctionState.WITHDRAWN
    key = sa.case((withdrawn, "withdrawn"), else_=decision)
    stmt = (
        sa.select(key, body, sa.func.count(), sa.func.sum(SanctionCase.penalty_sek))
        .where(scope.created_in_year(SanctionCase.created_at))
        .group_by(key, body)
    )
    counts: dict[str | None, list[int]] = {}
    for decided, deciding_body, n, penalty in scope.db.execute(stmt):
        row = counts.setdefault(decided, [0, 0, 0, 0])
        row[0] += n
        if deciding_body == DecidingBody.BESTALLARENHETEN.value:
            row[1] += n
        elif deciding_body == DecidingBody.REGIONSTYRELSEN.value:
            row[2] += n
        row[3] += int(penalty or 0)
    rows = []
    for key_, label in [
        *((d.value, sc.DECISION_LABELS[d].capitalize()) for d in Decision),
        (None, "Ännu inte beslutat"),
        ("withdrawn", "Återkallat"),
    ]:
        rows.append([label, *counts.get(key_, [0, 0, 0, 0])])
    totals = [["Totalt", *(sum(r[i] for r in rows) for i in range(1, 5))]]
    return Table(
        key="sanctions",
        title="Sanktionsärenden och beslut",
        reference="§7.1.3",
        columns=_cols("Beslut", "Ärenden", "Beställarenheten", "Regionstyrelsen", "Vite (kr)"),
        rows=rows,
        totals=totals,
        note=f"Sanktionsärenden öppnade under {scope.year}, efter beslut och beslutsfattare.",
    )


def cases(scope: Scope) -> Table:
    """Ärenden (anmälningar och ansökningar): the cases filed during the year by kind and
    how they were decided."""
    filed = Case.submitted_at.is_not(None)
    status = sa.type_coerce(Case.status, sa.String)
    outcome = sa.type_coerce(Case.outcome, sa.String)
    stmt = (
        sa.select(sa.type_coerce(Case.kind, sa.String), status, outcome, sa.func.count())
        .where(filed, scope.created_in_year(Case.created_at))
        .group_by(Case.kind, status, outcome)
    )
    counts: dict[str, list[int]] = {}
    for kind, state, decided, n in scope.db.execute(stmt):
        row = counts.setdefault(kind, [0, 0, 0, 0, 0, 0])
        row[0] += n
        if state == CaseState.WITHDRAWN.value:
            row[5] += n
        elif decided == CaseOutcome.GRANTED.value:
            row[1] += n
        elif decided == CaseOutcome.REFUSED.value:
            row[2] += n
        elif decided == CaseOutcome.NOTED.value:
            row[3] += n
        else:
            row[4] += n
    rows = [
        [case_type(kind).label, *counts[kind.value]] for kind in CaseKind if kind.value in counts
    ]
    totals = [["Totalt", *(sum(r[i] for r in rows) for i in range(1, 7))]] if rows else []
    return Table(
        key="cases",
        title="Anmälningar och ansökningar",
        reference="§2.6, §2.7.5–2.7.6, §2.13.1, §3.1.1, §3.3, §3.8, §3.9, §3.20, §4.9",
        columns=_cols(
            "Ärendetyp",
            "Inlämnade",
            "Beviljade",
            "Avslagna",
            "Noterade",
            "Under handläggning",
            CASE_STATE_LABELS[CaseState.WITHDRAWN],
        ),
        rows=rows,
        totals=totals,
        note=f"Ärenden som enheterna lämnade in under {scope.year}, efter typ och utfall.",
    )


def ivo_referrals(scope: Scope) -> Table:
    """Anmälningar till IVO (§7.1.3): the referrals made during the year, per unit."""
    stmt = (
        sa.select(
            Unit.name,
            sa.func.count(),
            sa.func.count(IvoReferral.finding_id),
            sa.func.count(IvoReferral.case_id),
        )
        .join(Unit, Unit.id == IvoReferral.unit_id)
        .where(
            IvoReferral.referred_on >= dt.date(scope.year, 1, 1),
            IvoReferral.referred_on <= dt.date(scope.year, 12, 31),
        )
        .group_by(Unit.name)
        .order_by(Unit.name)
    )
    rows = [list(row) for row in scope.db.execute(stmt)]
    totals = [["Totalt", *(sum(r[i] for r in rows) for i in range(1, 4))]] if rows else []
    return Table(
        key="ivo_referrals",
        title="Anmälningar till IVO",
        reference="§7.1.3",
        columns=_cols("Enhet", "Anmälningar", "från en iakttagelse", "i ett sanktionsärende"),
        rows=rows,
        totals=totals,
        note=(
            "Frågor om patientsäkerhet som Region Västerbotten anmälde till IVO under "
            f"{scope.year}."
        ),
    )


# --- the individual dialogs ------------------------------------------------------------------


def dialogs(scope: Scope) -> Table:
    """Enskilda uppföljningsdialoger (§7.1.1): each dialog of the year — of a round of the
    year, or opened during it — with its state, meeting and findings handled."""
    round_year = sa.select(Round.year).where(Round.id == FollowUpDialog.round_id).scalar_subquery()
    in_year = sa.or_(
        round_year == scope.year,
        sa.and_(
            FollowUpDialog.round_id.is_(None), scope.created_in_year(FollowUpDialog.created_at)
        ),
    )
    stmt = (
        sa.select(
            Unit.name,
            FollowUpDialog.title,
            sa.type_coerce(FollowUpDialog.status, sa.String),
            FollowUpDialog.meeting_at,
            sa.func.count(DialogFinding.id),
            sa.func.count(DialogFinding.disposition),
        )
        .join(Unit, Unit.id == FollowUpDialog.unit_id)
        .outerjoin(DialogFinding, DialogFinding.dialog_id == FollowUpDialog.id)
        .where(in_year)
        .group_by(
            FollowUpDialog.id,
            Unit.name,
            FollowUpDialog.title,
            FollowUpDialog.status,
            FollowUpDialog.meeting_at,
        )
        .order_by(Unit.name, FollowUpDialog.id)
    )
    rows = []
    held = 0
    for name, title, status, meeting_at, n, disposed in scope.db.execute(stmt):
        state = dl.DialogState(status)
        met = state in (dl.DialogState.MEETING_HELD, dl.DialogState.CLOSED)
        held += met
        rows.append(
            [
                name,
                title,
                dl.STATE_LABELS[state],
                meeting_at.date().isoformat() if meeting_at and met else None,
                n,
                disposed,
            ]
        )
    totals = (
        [["Totalt", f"{len(rows)} dialoger", f"{held} med hållet möte", None,
          sum(r[4] for r in rows), sum(r[5] for r in rows)]]
        if rows
        else []
    )  # fmt: skip
    return Table(
        key="dialogs",
        title="Enskilda uppföljningsdialoger",
        reference="§7.1.1",
        columns=_cols("Enhet", "Dialog", "Läge", "Möte", "Iakttagelser", "varav hanterade", text=4),
        rows=rows,
        totals=totals,
        note="Årets dialoger med varje hälsocentral, deras läge och hur iakttagelserna hanterades.",
    )


# --- tilläggsuppdrag -----------------------------------------------------------------------------


def assignment_figures(scope: Scope) -> Table:
    """Tilläggsuppdragens årsrapporter summerade för länet: every count-ratio row of a
    tilläggsuppdrag edition answered in the year's rounds, with the county's figure as the sum
    of the units' numerators over the sum of their denominators (never a mean of ratios)."""
    items = results.ITEMS.c
    r = results.REQUIREMENTS.c
    c = results.CHECKLISTS.c
    numerator = results.ITEMS.c.value["numerator"].as_integer()
    denominator = results.ITEMS.c.value["denominator"].as_integer()
    stmt = (
        sa.select(
            r.code,
            sa.func.min(r.source_text),
            sa.func.count(),
            sa.func.sum(numerator),
            sa.func.sum(denominator),
        )
        .select_from(results.ITEMS)
        .join(results.CHECKLISTS, c.id == items.checklist_id)
        .join(results.REQUIREMENTS, r.id == items.requirement_id)
        .where(
            c.round_id.in_(sa.select(Round.id).where(Round.year == scope.year)),
            r.assignment_code.is_not(None),
            r.answer_type == AnswerType.COUNT_RATIO.value,
            numerator.is_not(None),
            denominator.is_not(None),
        )
        .group_by(r.code)
        .order_by(r.code)
    )
    rows = [
        [code, text, units, int(num), int(den), ratio(num, den)]
        for code, text, units, num, den in scope.db.execute(stmt)
    ]
    return Table(
        key="assignment_figures",
        title="Tilläggsuppdragens årsrapporter, länet",
        reference="Tilläggsuppdrag (Regionstyrelsens beställning)",
        columns=_cols(
            "Kod", "Uppgift", "Enheter", "Summa täljare", "Summa nämnare", "Länet", text=2
        ),
        rows=rows,
        note=(
            "Länets andel är summan av enheternas täljare genom summan av deras nämnare, så "
            "att en stor enhet väger som den är stor."
        ),
    )


# --- the joint dialogs, the in-depth reviews, the recurring reports ---------------------------

JOINT_STATE_WORDS = {
    "planned": "Planerad",
    "agenda_written": "Agenda skriven",
    "agenda_sent": "Agenda utsänd",
    "held": "Mötet genomfört",
    "minutes_written": "Protokoll skrivet",
    "minutes_published": "Protokoll publicerat",
    "closed": "Avslutad",
    "cancelled": "Inställd",
}
JOINT_NOT_HELD = {"planned", "agenda_written", "agenda_sent", "cancelled"}


def joint_dialogs(scope: Scope) -> Table:
    """Gemensamma dialoger (§7.1.2, "minst två gånger per år"): each of the year's joint
    dialogs with its state, the units present or represented and absent, and its follow-ups
    and the findings they became (workflows.joint.operations.joint_dialogs_for_year)."""
    from workflows.joint.operations import joint_dialogs_for_year

    rows, held = [], 0
    for d in joint_dialogs_for_year(scope.db, scope.year):
        state = str(d.status.value)
        held += state not in JOINT_NOT_HELD
        counts = list(d.attendance.values())
        rows.append(
            [
                d.meeting_on.isoformat(),
                d.theme,
                JOINT_STATE_WORDS.get(state, state),
                sum(c.get("attended", 0) + c.get("represented", 0) for c in counts),
                sum(c.get("absent", 0) for c in counts),
                len(d.follow_ups),
                sum(1 for f in d.follow_ups if f.get("finding_id")),
            ]
        )
    totals = (
        [["Totalt", f"{held} genomförda", "", *(sum(r[i] for r in rows) for i in range(3, 7))]]
        if rows
        else []
    )
    return Table(
        key="joint_dialogs",
        title="Gemensamma dialoger med utförarna",
        reference="§7.1.2",
        columns=_cols(
            "Datum",
            "Tema",
            "Läge",
            "Enheter närvarande eller företrädda",
            "Enheter frånvarande",
            "Uppföljningspunkter",
            "som blev iakttagelser",
            text=3,
        ),
        rows=rows,
        totals=totals,
        note=(
            f"Regelboken kräver minst två gemensamma dialoger per år; {held} genomfördes "
            f"{scope.year}."
        ),
    )


REVIEW_OUTCOME_WORDS = {
    "action_plan": "Åtgärdsplan",
    "sanction": "Sanktionsärende",
    "no_action": "Ingen åtgärd",
    "cancelled": "Avbruten",
}


def in_depth_reviews(scope: Scope) -> Table:
    """Särskilda fördjupningar (§7.1.3; §7.1.4 "slutsatserna från genomförda fördjupningar"):
    each review of the year with its risk signals, its conclusions, the requirements put to
    the unit and how it ended (workflows.reviews.operations.reviews_for_year)."""
    from workflows.reviews.operations import reviews_for_year

    rows = [
        [
            r.unit_name,
            r.title,
            r.conclusions or "",
            REVIEW_OUTCOME_WORDS.get(r.outcome, "Pågår"),
            len(r.signals),
            len(r.requirements),
        ]
        for r in reviews_for_year(scope.db, scope.year)
    ]
    totals = (
        [
            [
                "Totalt",
                f"{len(rows)} fördjupningar",
                "",
                "",
                *(sum(r[i] for r in rows) for i in (4, 5)),
            ]
        ]
        if rows
        else []
    )
    return Table(
        key="in_depth_reviews",
        title="Särskilda fördjupningar och deras slutsatser",
        reference="§7.1.3",
        columns=_cols(
            "Enhet", "Fördjupning", "Slutsatser", "Utfall", "Risksignaler", "Krav", text=4
        ),
        rows=rows,
        totals=totals,
        note="Fördjupningar som öppnades, fick slutsatser eller avslutades under året.",
    )


REPORT_KIND_WORDS = {
    "telephone": "Telefontillgänglighet per månad (§6.9)",
    "patient_safety": "Patientsäkerhetsberättelse senast 1 mars (§2.6)",
    "assignment": "Tilläggsuppdragens årsrapporter",
}


def recurring_reports(scope: Scope) -> Table:
    """Återkommande rapporter i tid: the telephone reports, the patient-safety reports and the
    tilläggsuppdrag annual reports expected in the year — on time, late, missing, judged at
    the scope's day (workflows.reports.operations.reports_on_time)."""
    from workflows.reports.operations import reports_on_time

    rows = [
        [
            REPORT_KIND_WORDS.get(r.kind, r.kind),
            r.expected,
            r.on_time,
            r.late,
            r.missing,
            ratio(r.on_time, r.on_time + r.late + r.missing),
        ]
        for r in reports_on_time(scope.db, scope.year, today=scope.as_of)
    ]
    return Table(
        key="recurring_reports",
        title="Återkommande rapporter: inlämnade i tid",
        reference="§2.6, §6.9",
        columns=_cols("Rapport", "Väntade", "I tid", "Sena", "Saknas", "Andel i tid"),
        rows=rows,
        note="En rapport som ännu inte skulle ha lämnats räknas varken som sen eller saknad.",
    )


# The analysis, in order: one function per section, ``(scope: Scope) -> Table``, whose table's
# key is the function's name (the purchaser's text per section is stored under it; a test
# checks). A new section is one function here.
SECTIONS: list[Callable[[Scope], Table]] = [
    heat_map,
    compliance_by_requirement,
    trends,
    dialogs,
    findings,
    action_plans,
    plans_over_time,
    sanctions,
    ivo_referrals,
    in_depth_reviews,
    cases,
    joint_dialogs,
    recurring_reports,
    assignment_figures,
]


def build(db: Session, year: int, today: dt.date | None = None) -> tuple[dt.date, list[Table]]:
    """Every section's table for ``year``, and the day the year was judged at."""
    scope = Scope.of(db, year, today)
    return scope.as_of, [section(scope) for section in SECTIONS]
