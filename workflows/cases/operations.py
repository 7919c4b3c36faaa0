"""Operations on ärenden besides the machine's transitions: filing a case, changing its
details, attaching and removing documents, and the capitation decision a restricted service
may lead to (§2.7.6). Each changes the rows, flushes and writes one audit event."""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from audit.db import utcnow
from audit.models import Operator, Role, Unit, UnitKind, User
from audit.trail import Actor, record
from checklists.evidence import EvidenceError, accept_upload
from checklists.workdays import is_working_day, working_days_between
from workflows.cases.machine import DECIDED, S
from workflows.cases.models import Case, CaseDocument, CaseKind, CasePartner, DocumentKind
from workflows.cases.types import CaseType, case_type
from workflows.engine import WorkflowError

EDITABLE = (S.DRAFT, S.COMPLETION_REQUESTED)
LATER_EDITABLE = (S.NOTED, S.GRANTED, S.IN_EFFECT)
PARTNER_KINDS = (UnitKind.HALSOCENTRAL, UnitKind.SJUKSTUGA)
# Who files ärenden: the health centres and sjukstugor Uppdrag och regler binds. A filial files
# through its main unit (§3.9); a verksamhet med tilläggsuppdrag is bound by its assignment
# (seed 000), not by the rulebook's duties to notify or apply.
FILING_KINDS = PARTNER_KINDS


class CaseFieldErrors(WorkflowError):
    """Values that cannot be stored, with a Swedish message per field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("Rätta det som är markerat; inget har sparats.")
        self.errors = errors


@dataclasses.dataclass
class Entry:
    """What a form hands over: the type's fields, the period and the partner units."""

    values: dict
    period_from: dt.date | None = None
    period_to: dt.date | None = None
    partner_ids: list[int] = dataclasses.field(default_factory=list)


# --- who may do what -----------------------------------------------------------------------


def is_unit_staff(user: User, case: Case) -> bool:
    """The case's unit's verksamhetschef or staff."""
    return any(a.role.is_unit_role and a.unit_id == case.unit_id for a in user.roles)


def can_edit(user: User, case: Case) -> bool:
    """The unit writes its case while it is a draft or back for completion."""
    return is_unit_staff(user, case) and case.status in EDITABLE


def can_edit_later(user: User, case: Case) -> bool:
    """After the decision the unit adds what comes later (IVO's decision, §2.6)."""
    kind = case_type(case.kind)
    has_later = any(f.later for f in kind.fields) or any(d.later for d in kind.documents)
    return has_later and is_unit_staff(user, case) and case.status in LATER_EDITABLE


def may_file(user: User, unit: Unit) -> bool:
    return any(a.role.is_unit_role and a.unit_id == unit.id for a in user.roles)


# --- titles and what is waiting ------------------------------------------------------------


def title_for(kind: CaseType, period_from, period_to) -> str:
    if period_from and period_to and period_to != period_from:
        return f"{kind.label} {period_from.isoformat()}–{period_to.isoformat()}"
    if period_from:
        return f"{kind.label} {period_from.isoformat()}"
    return kind.label


@dataclasses.dataclass(frozen=True)
class Waiting:
    """Whose turn it is (``unit``, ``purchaser`` or None) and what for, with a date: a
    deadline (``by``), the day it can be done from (``from``) or the period's end (``end``)."""

    whose: str | None
    what: str
    due: dt.date | None = None
    due_kind: str = "by"


def waiting_for(case: Case) -> Waiting:
    """What the case is waiting for, and from whom (the inbox's column)."""
    kind = case_type(case.kind)
    if case.status == S.DRAFT:
        return Waiting("unit", "Lämna in ärendet")
    if case.status == S.COMPLETION_REQUESTED:
        return Waiting("unit", "Komplettera ärendet", case.completion_deadline)
    if case.status == S.SUBMITTED:
        return Waiting("purchaser", "Pröva " + kind.outcome_word, decision_due(case))
    if case.status in (S.GRANTED, S.NOTED):
        return Waiting("purchaser", "Markera att ärendet gäller", case.period[0], "from")
    if case.status == S.REFUSED:
        return Waiting("purchaser", "Avsluta ärendet")
    if case.status == S.IN_EFFECT:
        if kind.missing_later(case):
            return Waiting("unit", "Lämna " + ", ".join(kind.missing_later(case)).lower())
        end = case.period[1]
        if end is not None or not kind.ongoing:
            return Waiting("purchaser", "Avsluta ärendet när perioden är slut", end, "end")
        return Waiting(None, "Gäller tills vidare")
    return Waiting(None, "")


def decision_due(case: Case) -> dt.date | None:
    """For an approval the rulebook wants before the change (§3.3, §3.8, §3.9, §4.9): the last
    working day before the period starts."""
    kind = case_type(case.kind)
    if not kind.decided_before_start or case.period_from is None:
        return None
    day = case.period_from - dt.timedelta(days=1)
    while not is_working_day(day):
        day -= dt.timedelta(days=1)
    return day


def timeliness(case: Case) -> list[tuple[bool, str]]:
    """Whether the notice came in good time, before the change, and the decision before it
    — shown to the purchaser (and evidence for the checklist), never a refusal: a late notice
    is still a notice."""
    kind = case_type(case.kind)
    notes: list[tuple[bool, str]] = []
    filed = case.submitted_at.date() if case.submitted_at else None
    start = case.period_from
    if filed is None or start is None:
        return notes
    ahead = working_days_between(filed, start)
    if kind.notice_in_good_time:
        ok = ahead >= GOOD_TIME_WORKING_DAYS
        notes.append(
            (
                ok,
                f"Inlämnat {ahead} arbetsdagar före första dagen"
                + ("." if ok else f"; i god tid räknas här som minst {GOOD_TIME_WORKING_DAYS}.")
                + " (§2.7.5)",
            )
        )
    if kind.filed_before_start:
        ok = filed < start
        notes.append(
            (
                ok,
                f"Informationen lämnades {filed.isoformat()}, "
                + ("innan" if ok else "inte innan")
                + f" förändringen trädde i kraft {start.isoformat()} ({kind.section_label}).",
            )
        )
    decided = case.decided_at.date() if case.decided_at else None
    if kind.decided_before_start and decided and case.status != S.REFUSED:
        ok = decided < start
        notes.append(
            (
                ok,
                f"Beslutet fattades {decided.isoformat()}, "
                + ("före" if ok else "inte före")
                + f" {kind.period_from_label.lower()} {start.isoformat()}.",
            )
        )
    return notes


# Rulebook: "i god tid" (§2.7.5) without a number. Two working weeks is the region's own
# yardstick here, shown to the purchaser, never a refusal.
GOOD_TIME_WORKING_DAYS = 10


# --- filing and changing a case --------------------------------------------------------------


def _apply_entry(session: Session, case: Case, kind: CaseType, entry: Entry) -> None:
    details, errors = kind.clean(entry.values)
    if entry.period_to and entry.period_from and entry.period_to < entry.period_from:
        errors["period_to"] = "Sista dagen kan inte vara före den första."
    if kind.period_to_label is None and entry.period_to is not None:
        entry.period_to = None
    partner_ids = sorted(set(entry.partner_ids))
    if kind.partner_field is not None and partner_ids:
        found = set(
            session.scalars(
                sa.select(Unit.id).where(
                    Unit.id.in_(partner_ids),
                    Unit.id != case.unit_id,
                    Unit.active.is_(True),
                    Unit.kind.in_(PARTNER_KINDS),
                )
            )
        )
        if found != set(partner_ids):
            errors[kind.partner_field.name] = "Välj hälsocentraler ur listan (inte den egna)."
    if errors:
        raise CaseFieldErrors(errors)
    case.details = {**(case.details or {}), **details}
    case.period_from, case.period_to = entry.period_from, entry.period_to
    case.title = title_for(kind, entry.period_from, entry.period_to)
    if kind.partner_field is not None:
        current = {p.unit_id: p for p in case.partners}
        case.partners = [current.get(uid) or CasePartner(unit_id=uid) for uid in partner_ids]


def _snapshot(case: Case) -> dict:
    return {
        "period_from": case.period_from,
        "period_to": case.period_to,
        "partners": sorted(p.unit_id for p in case.partners),
        **(case.details or {}),
    }


def open_case(session: Session, user: User, unit: Unit, kind: CaseKind | str, entry: Entry) -> Case:
    """Skapa ärende: the unit's draft of a notice or application of ``kind``."""
    kind_ = case_type(kind)
    if unit.kind == UnitKind.FILIAL:
        raise WorkflowError("Ärenden lämnas av huvudmottagningen, inte av en filial (§3.9).")
    if unit.kind not in FILING_KINDS:
        raise WorkflowError(
            "Ärenden enligt Uppdrag och regler lämnas av hälsocentraler och sjukstugor, inte av "
            "en verksamhet med tilläggsuppdrag."
        )
    if not may_file(user, unit):
        raise WorkflowError("Bara enhetens verksamhetschef och personal skapar enhetens ärenden.")
    if kind_.private_only and unit.operator != Operator.PRIVAT:
        raise WorkflowError(
            "Lex Maria-ärenden lämnas hit bara av privata hälsocentraler; hälsocentraler i "
            "regionens egen regi följer regionens rutiner för Lex Maria (§2.6)."
        )
    case = Case(
        unit=unit,
        unit_id=unit.id,
        kind=kind_.kind,
        status=S.DRAFT,
        title=kind_.label,
        details={},
        created_by_id=user.id,
    )
    _apply_entry(session, case, kind_, entry)
    session.add(case)
    session.flush()
    record(
        session,
        Actor.of(user),
        "case",
        case.id,
        "create",
        after={
            "unit": unit.code,
            "kind": kind_.kind.value,
            "status": S.DRAFT.value,
            **_snapshot(case),
        },
    )
    return case


def update_case(session: Session, user: User, case: Case, entry: Entry) -> None:
    """Ändra uppgifterna: while the case is a draft or back for completion."""
    if not can_edit(user, case):
        raise WorkflowError("Uppgifterna kan inte ändras i ärendets nuvarande läge.")
    kind = case_type(case.kind)
    before = _snapshot(case)
    _apply_entry(session, case, kind, entry)
    session.flush()
    after = _snapshot(case)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    if not changed:
        return
    record(
        session,
        Actor.of(user),
        "case",
        case.id,
        "update",
        before={k: before.get(k) for k in changed},
        after={k: after.get(k) for k in changed},
    )


def update_later(session: Session, user: User, case: Case, values: dict) -> None:
    """Komplettera efter beslutet: what the type has the unit add later (IVO's decision)."""
    if not can_edit_later(user, case):
        raise WorkflowError("Det finns inget att lägga till i ärendets nuvarande läge.")
    kind = case_type(case.kind)
    details, errors = kind.clean(values, later=True)
    if errors:
        raise CaseFieldErrors(errors)
    before = {k: (case.details or {}).get(k) for k in details}
    if before == details:
        return
    case.details = {**(case.details or {}), **details}
    session.flush()
    record(session, Actor.of(user), "case", case.id, "update", before=before, after=details)


# --- documents -----------------------------------------------------------------------------


def add_document(
    session: Session, user: User, case: Case, kind: DocumentKind | str, checked, data, store
) -> CaseDocument:
    """Bifoga handling: a checked upload (see :func:`checklists.evidence.check_upload`); a file
    with a personnummer anywhere in it is refused before anything is stored."""
    spec = case_type(case.kind)
    try:
        document = spec.document(DocumentKind(kind))
    except ValueError:
        document = None
    if document is None:
        raise WorkflowError("Välj vilken handling filen är.")
    if not (can_edit(user, case) or (document.later and can_edit_later(user, case))):
        raise WorkflowError("Handlingar kan inte läggas till i ärendets nuvarande läge.")
    try:
        stored = accept_upload(session, store, checked, data)
    except EvidenceError as exc:
        raise WorkflowError(str(exc)) from None
    row = CaseDocument(case=case, kind=document.kind, **stored, uploaded_by_id=user.id)
    session.add(row)
    session.flush()
    record(
        session,
        Actor.of(user),
        "case",
        case.id,
        "add_document",
        after={
            "document": row.id,
            "kind": document.kind.value,
            "filename": row.filename,
            "sha256": row.sha256,
            "size": row.size,
        },
    )
    return row


def remove_document(session: Session, user: User, document: CaseDocument) -> None:
    """Ta bort handling (the row stays, marked removed; the trail keeps its hash)."""
    case = document.case
    spec = case_type(case.kind).document(document.kind)
    later = spec is not None and spec.later
    if not (can_edit(user, case) or (later and can_edit_later(user, case))):
        raise WorkflowError("Handlingar kan inte tas bort i ärendets nuvarande läge.")
    if document.removed_at is not None:
        return
    document.removed_at = utcnow()
    session.flush()
    record(
        session,
        Actor.of(user),
        "case",
        case.id,
        "remove_document",
        before={"document": document.id, "filename": document.filename},
    )


# --- the capitation decision of §2.7.6 ------------------------------------------------------

CAPITATION_STATES = (*DECIDED, S.IN_EFFECT, S.CLOSED)


def capitation_problem(case: Case) -> str | None:
    """Why no capitation case can be opened from ``case`` (None when it can)."""
    if case.kind != CaseKind.SERVICE_RESTRICTED:
        return "Neddragning av kapiteringsersättningen kopplas till ett ärende om begränsat utbud."
    if case.capitation_case_id is not None:
        return "Ärendet har redan ett ärende om neddragning av kapiteringsersättningen."
    if case.status not in CAPITATION_STATES or case.status == S.REFUSED:
        return "Först när Beställarenheten har noterat begränsningen kan ersättningen prövas."
    if not (case.details or {}).get("opening_hours_reduced"):
        return (
            "Neddragning kan prövas när utbudsbegränsningen innebär att öppettiderna begränsas "
            "till mer än enstaka dagar (§2.7.6)."
        )
    return None


def open_capitation_case(session: Session, user: User, case: Case, diarienummer: str):
    """Pröva neddragning av kapiteringsersättningen för motsvarande tid (§2.7.6): a sanction
    case (decided by Regionstyrelsen), registered under ``diarienummer`` and linked to this
    case; its reduction must lie within the restricted period and is, like every burdening
    decision, communicated to the unit first (``workflows.sanction``)."""
    from workflows import sanction as sc

    if not user.has_role(Role.BESTALLARE):
        raise WorkflowError("Bara beställare kan pröva neddragning av kapiteringsersättningen.")
    problem = capitation_problem(case)
    if problem:
        raise WorkflowError(problem)
    start, end = case.period
    sanction = sc.open_case(
        session,
        user,
        case.unit,
        title=f"Neddragning av kapiteringsersättningen: {case.title}",
        grounds=(
            f"Begränsat utbud {start.isoformat()}–{end.isoformat()} (ärende {case.id}) med "
            "öppettider begränsade till mer än enstaka dagar. §2.7.6: Regionstyrelsen kan "
            "besluta om neddragning av kapiteringsersättningen för motsvarande tid."
        ),
        diarienummer=diarienummer,
    )
    case.capitation_case_id = sanction.id
    session.flush()
    record(
        session,
        Actor.of(user),
        "case",
        case.id,
        "open_capitation_case",
        after={"sanction_case": sanction.id, "period_from": start, "period_to": end},
    )
    return sanction


def capitation_source(session: Session, sanction_case_id: int) -> Case | None:
    """The restricted-service case a sanction case was opened from, if any."""
    return session.scalar(sa.select(Case).where(Case.capitation_case_id == sanction_case_id))
