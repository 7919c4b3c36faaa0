"""Where checklist items and ärenden meet.

An event-driven item of the catalog (``recurrence: on_event``) asks after the fact about
something that, when it happens, is a case here: the item shows the unit's cases of that kind in
the round's follow-up year, as its evidence. When there are none the honest answer is "ej
aktuellt under perioden" (DOMAIN.md: "A quiet year is not a breach").

:data:`REQUIREMENT_CASES` maps the catalog's stable requirement codes to case kinds; a test
checks every code against the catalog, so a renamed item is noticed.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from workflows.cases.models import Case, CaseKind, CaseState
from workflows.cases.types import case_type

K = CaseKind

REQUIREMENT_CASES: dict[str, tuple[CaseKind, ...]] = {
    "kvalitet.lex-maria-privat-kopia-till-regionen": (K.LEX_MARIA,),
    "kvalitet.lex-maria-privat-ivo-beslut": (K.LEX_MARIA,),
    "tillganglighet.begransat-oppethallande-samordning": (K.OPENING_RESTRICTED,),
    "tillganglighet.begransat-oppethallande-bestallarenheten": (K.OPENING_RESTRICTED,),
    "tillganglighet.begransat-oppethallande-patientinformation": (K.OPENING_RESTRICTED,),
    "tillganglighet.ej-hanvisning-till-1177": (K.OPENING_RESTRICTED,),
    "tillganglighet.begransat-utbud-plan": (K.SERVICE_RESTRICTED,),
    "tillganglighet.begransat-utbud-planens-innehall": (K.SERVICE_RESTRICTED,),
    "tillganglighet.begransat-utbud-riskanalys": (K.SERVICE_RESTRICTED,),
    "tillganglighet.begransat-utbud-bestallarenheten": (K.SERVICE_RESTRICTED,),
    "samverkan.samarbete-halsocentraler-anmalt-godkant": (K.COOPERATION,),
    "kompetens.verksamhetschef-byte-anmalan": (K.HEAD_CHANGE,),
    "verksamhet.lokalisering-andring-godkannande": (K.RELOCATION,),
    "verksamhet.lokalisering-information-listade": (K.RELOCATION,),
    "verksamhet.lokalisering-samrad": (K.RELOCATION,),
    "listning.flytt-informera-listade": (K.RELOCATION,),
    "verksamhet.filial-ansokan": (K.BRANCH,),
    "verksamhet.underleverantor-meddelande": (K.SUBCONTRACTOR,),
    "listning.listningstak-skriftlig-ansokan": (K.LIST_CAP,),
    "listning.listningstak-informera-enskilda": (K.LIST_CAP,),
    "listning.listningstak-undantag": (K.LIST_CAP,),
    "listning.listningsstopp-skriftlig-ansokan": (K.LIST_STOP,),
    "listning.listningsstopp-max-tre-manader": (K.LIST_STOP,),
    "listning.listningsstopp-informera-enskilda": (K.LIST_STOP,),
    "listning.listningsstopp-undantag": (K.LIST_STOP,),
}

# Drafts are not filed and withdrawn cases did not happen; everything else is evidence.
NOT_EVIDENCE = (CaseState.DRAFT, CaseState.WITHDRAWN)


def follow_up_year(year: int) -> tuple[dt.date, dt.date]:
    """The follow-up period of a round: its calendar year (annual deadlines are judged in it)."""
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def in_period(case: Case, first: dt.date, last: dt.date) -> bool:
    """Whether the case concerns the period: its days overlap it. A case without an end is
    one day (a change of head, a report to IVO) unless its kind goes on (a co-operation, a
    branch, a subcontractor), which then lasts from its start on."""
    start, end = case.period
    if start is None:
        start = case.submitted_at.date() if case.submitted_at else None
    if start is None:
        return False
    if end is None:
        end = dt.date.max if case_type(case.kind).ongoing else start
    return start <= last and end >= first


def cases_for_items(
    session: Session, unit_id: int, year: int, codes: list[str]
) -> dict[str, list[Case]]:
    """For each of ``codes`` that a case kind answers, the unit's cases of that kind in the
    follow-up year (an empty list when there were none). One query for all items."""
    wanted = {code: REQUIREMENT_CASES[code] for code in codes if code in REQUIREMENT_CASES}
    if not wanted:
        return {}
    kinds = sorted({k for ks in wanted.values() for k in ks})
    first, last = follow_up_year(year)
    rows = session.scalars(
        sa.select(Case)
        .where(
            Case.unit_id == unit_id,
            Case.kind.in_(kinds),
            Case.status.not_in(NOT_EVIDENCE),
        )
        .order_by(Case.period_from, Case.id)
    ).all()
    found = [case for case in rows if in_period(case, first, last)]
    return {code: [c for c in found if c.kind in kinds_] for code, kinds_ in wanted.items()}


def kinds_for_code(code: str) -> tuple[CaseKind, ...]:
    return REQUIREMENT_CASES.get(code, ())
