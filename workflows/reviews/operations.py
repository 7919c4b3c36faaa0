"""Operations on a särskild fördjupning (§7.1.3) besides its machine's transitions: opening it
on risk signals, the requirements of its conclusions, the unit's files, and the set-based
reading of a year's reviews for the annual analysis (§7.1.4). Each change flushes and writes one
audit event on the review."""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from audit.db import utcnow
from audit.models import Role, Unit, User
from audit.trail import Actor, record
from checklists.evidence import EvidenceError, accept_upload
from checklists.models import Requirement
from checklists.rounds import Finding
from workflows.engine import WorkflowError
from workflows.reviews.machine import OPEN_STATES, STATE_LABELS, R, today
from workflows.reviews.models import (
    InDepthReview,
    ReviewFile,
    ReviewRequirement,
    ReviewSignal,
    SignalKind,
)

ENTITY = "in_depth_review"
# The unit hands in files while the material is asked for.
UPLOAD_STATES = (R.MATERIAL_REQUESTED,)


def _clean(text) -> str:
    return " ".join(str(text or "").split())


def _shorten(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def is_unit_staff(user: User, review: InDepthReview) -> bool:
    return any(a.role.is_unit_role and a.unit_id == review.unit_id for a in user.roles)


# --- risk signals ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RepeatedBreach:
    """Upprepad brist: a requirement (by its stable code) with findings in several rounds."""

    code: str
    section: str
    heading: str
    years: tuple[int, ...]


def repeated_breaches(session: Session, unit: Unit) -> list[RepeatedBreach]:
    """The unit's requirements with findings in two or more rounds, in one query."""
    from checklists.rounds import Round

    rows = session.execute(
        sa.select(
            Requirement.code,
            sa.func.min(Requirement.section),
            sa.func.min(Requirement.heading),
            Round.year,
        )
        .join(Finding, Finding.requirement_id == Requirement.id)
        .join(Round, Round.id == Finding.round_id)
        .where(Finding.unit_id == unit.id)
        .group_by(Requirement.code, Round.year, Round.id)
        .order_by(Requirement.code, Round.year)
    ).all()
    by_code: dict[str, list] = {}
    for code, section, heading, year in rows:
        by_code.setdefault(code, [section, heading, []])[2].append(year)
    return [
        RepeatedBreach(code, section, heading, tuple(sorted(set(years))))
        for code, (section, heading, years) in by_code.items()
        if len(years) >= 2  # one entry per round the requirement was breached in
    ]


def _check_signals(
    session: Session, unit: Unit, finding_ids, breach_codes, case_ids, complaints
) -> list[ReviewSignal]:
    from workflows.cases.models import Case

    finding_ids, case_ids = sorted(set(finding_ids)), sorted(set(case_ids))
    found = set(
        session.scalars(
            sa.select(Finding.id).where(Finding.unit_id == unit.id, Finding.id.in_(finding_ids))
        )
    )
    if found != set(finding_ids):
        raise WorkflowError("Iakttagelserna måste höra till enheten.", guard="finding")
    cases = set(
        session.scalars(sa.select(Case.id).where(Case.unit_id == unit.id, Case.id.in_(case_ids)))
    )
    if cases != set(case_ids):
        raise WorkflowError("Ärendena måste höra till enheten.", guard="arende")
    repeated = {b.code for b in repeated_breaches(session, unit)}
    breach_codes = sorted(set(breach_codes))
    if set(breach_codes) - repeated:
        raise WorkflowError(
            "Välj upprepade brister ur listan (krav med iakttagelser i flera omgångar).",
            guard="breach",
        )
    complaints = [c for c in (_clean(c) for c in complaints) if c]
    signals = (
        [ReviewSignal(kind=SignalKind.FINDING, finding_id=f) for f in finding_ids]
        + [ReviewSignal(kind=SignalKind.REPEATED_BREACH, requirement_code=c) for c in breach_codes]
        + [ReviewSignal(kind=SignalKind.CASE, case_id=c) for c in case_ids]
        + [ReviewSignal(kind=SignalKind.COMPLAINT, text=c) for c in complaints]
    )
    if not signals:
        raise WorkflowError(
            "Ange minst en risksignal: en iakttagelse, en upprepad brist, ett klagomål eller "
            "ett ärende.",
            guard="signals",
        )
    return signals


def _signal_record(signal: ReviewSignal) -> dict:
    return {
        "kind": signal.kind.value,
        "finding": signal.finding_id,
        "requirement_code": signal.requirement_code,
        "case": signal.case_id,
        "text": signal.text,
    }


def open_review(
    session: Session,
    user: User,
    unit: Unit,
    *,
    title: str,
    concern: str,
    finding_ids=(),
    breach_codes=(),
    case_ids=(),
    complaints=(),
    dialog_id: int | None = None,
) -> InDepthReview:
    """Öppna särskild fördjupning (§7.1.3) on risk signals of ``unit``: findings, repeated
    breaches of the same requirement, complaints (recorded text, no patient data), ärenden."""
    if not user.has_role(Role.BESTALLARE):
        raise WorkflowError("Bara beställare öppnar en särskild fördjupning.")
    title, concern = _clean(title), _clean(concern)
    if not title:
        raise WorkflowError("Ange en rubrik för fördjupningen.", guard="title")
    if not concern:
        raise WorkflowError("Beskriv vad fördjupningen gäller.", guard="concern")
    signals = _check_signals(session, unit, finding_ids, breach_codes, case_ids, complaints)
    review = InDepthReview(
        unit_id=unit.id,
        unit=unit,
        title=title,
        concern=concern,
        dialog_id=dialog_id,
        status=R.OPENED,
        created_by_id=user.id,
        signals=signals,
    )
    session.add(review)
    session.flush()
    record(
        session,
        Actor.of(user),
        ENTITY,
        review.id,
        "create",
        after={
            "unit": unit.code,
            "title": review.title,
            "concern": concern,
            "status": R.OPENED.value,
            "dialog": dialog_id,
            "signals": [_signal_record(s) for s in signals],
        },
    )
    return review


def open_review_on_finding(session: Session, finding_id: int) -> InDepthReview | None:
    """The open särskild fördjupning resting on a finding (one of its signals), if any."""
    return session.scalar(
        sa.select(InDepthReview)
        .join(ReviewSignal, ReviewSignal.review_id == InDepthReview.id)
        .where(ReviewSignal.finding_id == finding_id, InDepthReview.status.in_(OPEN_STATES))
        .order_by(InDepthReview.id)
        .limit(1)
    )


def open_review_from_finding(
    session: Session,
    finding: Finding,
    actor: User,
    *,
    dialog_id: int | None = None,
    note: str | None = None,
) -> InDepthReview:
    """The "fördjupning" disposition of a dialog finding: a review pre-filled with the finding
    (its requirement as the title, the note or the finding's statement as the concern). An open
    review already resting on the finding is returned instead of a second one."""
    existing = open_review_on_finding(session, finding.id)
    if existing is not None:
        return existing
    requirement = finding.requirement
    return open_review(
        session,
        actor,
        finding.unit,
        title=_shorten(f"§{requirement.section} {requirement.heading}", 200),
        concern=_clean(note) or finding.statement,
        finding_ids=[finding.id],
        dialog_id=dialog_id,
    )


# --- requirements of the conclusions ---------------------------------------------------------


def _require_purchaser(user: User, review: InDepthReview, what: str) -> None:
    if not user.has_role(Role.BESTALLARE):
        raise WorkflowError(f"Bara beställare {what}.")
    if review.status not in OPEN_STATES:
        raise WorkflowError(
            f"Det går inte när fördjupningen är {STATE_LABELS[review.status].lower()}."
        )


def add_requirement(
    session: Session, user: User, review: InDepthReview, *, text: str, due_date: dt.date | None
) -> ReviewRequirement:
    """Krav som enheten ska uppfylla: its text and the day it is to be met (§7.1.3)."""
    _require_purchaser(user, review, "formulerar krav")
    text = _clean(text)
    if not text:
        raise WorkflowError("Skriv kravet som enheten ska uppfylla.", guard="requirement_text")
    if due_date is None:
        raise WorkflowError("Ange när kravet ska vara uppfyllt.", guard="requirement_due")
    if due_date < today():
        raise WorkflowError("Dagen för kravet kan inte ha passerat.", guard="requirement_due")
    row = ReviewRequirement(review=review, text=text, due_date=due_date)
    session.add(row)
    session.flush()
    record(
        session,
        Actor.of(user),
        ENTITY,
        review.id,
        "add_requirement",
        after={"requirement": row.id, "text": text, "due_date": due_date},
    )
    return row


def remove_requirement(session: Session, user: User, requirement: ReviewRequirement) -> None:
    """Ta bort krav (until the review ends); the trail keeps what it said."""
    review = requirement.review
    _require_purchaser(user, review, "tar bort krav")
    before = {
        "requirement": requirement.id,
        "text": requirement.text,
        "due_date": requirement.due_date,
    }
    review.requirements.remove(requirement)
    session.flush()
    record(session, Actor.of(user), ENTITY, review.id, "remove_requirement", before=before)


# --- the unit's files ------------------------------------------------------------------------


def _require_uploader(user: User, review: InDepthReview) -> None:
    if not is_unit_staff(user, review):
        raise WorkflowError("Bara enhetens verksamhetschef och personal lämnar underlag.")
    if review.status not in UPLOAD_STATES:
        raise WorkflowError(
            "Underlag lämnas medan det är begärt; fördjupningen är "
            f"{STATE_LABELS[review.status].lower()}."
        )


def add_review_file(
    session: Session, user: User, review: InDepthReview, checked, data: bytes, store
) -> ReviewFile:
    """Underlag till fördjupningen: a file already checked by
    :func:`checklists.evidence.check_upload`, refused with a personnummer in it; its bytes
    reach the evidence store when the transaction commits."""
    _require_uploader(user, review)
    try:
        fields = accept_upload(session, store, checked, data)
    except EvidenceError as exc:
        raise WorkflowError(str(exc), guard="file") from exc
    row = ReviewFile(review=review, uploaded_by_id=user.id, **fields)
    session.add(row)
    session.flush()
    record(
        session,
        Actor.of(user),
        ENTITY,
        review.id,
        "add_file",
        after={"file_id": row.id, "filename": row.filename, "sha256": row.sha256, "size": row.size},
    )
    return row


def remove_review_file(session: Session, user: User, row: ReviewFile) -> None:
    """Ta bort underlag (before it is handed in; the row stays, marked removed)."""
    _require_uploader(user, row.review)
    if row.removed_at is not None:
        return
    row.removed_at = utcnow()
    session.flush()
    record(
        session,
        Actor.of(user),
        ENTITY,
        row.review_id,
        "remove_file",
        before={"file_id": row.id, "filename": row.filename},
    )


# --- links and reading -----------------------------------------------------------------------


def reviews_linked(session: Session, *, plan_id=None, sanction_case_id=None, finding_id=None):
    """The reviews that ended in this plan or case, or rest on this finding (the way back)."""
    stmt = sa.select(InDepthReview).order_by(InDepthReview.id)
    if plan_id is not None:
        stmt = stmt.where(InDepthReview.action_plan_id == plan_id)
    elif sanction_case_id is not None:
        stmt = stmt.where(InDepthReview.sanction_case_id == sanction_case_id)
    elif finding_id is not None:
        stmt = stmt.join(ReviewSignal).where(ReviewSignal.finding_id == finding_id)
    else:
        return []
    return list(session.scalars(stmt))


@dataclasses.dataclass(frozen=True)
class YearReview:
    """One review as the annual analysis (§7.1.4) reads it: "slutsatserna från genomförda
    fördjupningar"."""

    id: int
    unit_code: str
    unit_name: str
    title: str
    concern: str
    status: str
    outcome: str | None  # action_plan, sanction, no_action, cancelled, or None while open
    signals: tuple[dict, ...]
    analysis: str | None
    conclusions: str | None
    requirements: tuple[dict, ...]
    opened_on: dt.date
    material_deadline: dt.date | None
    answered_on: dt.date | None
    concluded_on: dt.date | None
    ended_on: dt.date | None
    end_reason: str | None
    action_plan_id: int | None
    sanction_case_id: int | None


def reviews_for_year(session: Session, year: int, units=None) -> list[YearReview]:
    """Every review of ``year`` — opened, concluded or ended in it — optionally of ``units``
    (Unit rows, ids or codes), with its unit, signals, conclusions, requirements, outcome and
    dates, in three queries whatever their number (signals and requirements loaded per set,
    not per review). A review opened in December and concluded in January is in both years."""
    start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    stmt = (
        sa.select(InDepthReview)
        .join(Unit, Unit.id == InDepthReview.unit_id)
        .where(
            sa.or_(
                sa.and_(InDepthReview.created_at >= start, InDepthReview.created_at < end),
                InDepthReview.concluded_on.between(first, last),
                InDepthReview.ended_on.between(first, last),
            )
        )
        .options(
            selectinload(InDepthReview.unit),
            selectinload(InDepthReview.signals),
            selectinload(InDepthReview.requirements),
        )
        .order_by(Unit.name, InDepthReview.id)
    )
    if units is not None:
        ids = [u.id if isinstance(u, Unit) else u for u in units if not isinstance(u, str)]
        codes = [u for u in units if isinstance(u, str)]
        stmt = stmt.where(sa.or_(Unit.id.in_(ids), Unit.code.in_(codes)))
    result = []
    for r in session.scalars(stmt):
        result.append(
            YearReview(
                id=r.id,
                unit_code=r.unit.code,
                unit_name=r.unit.name,
                title=r.title,
                concern=r.concern,
                status=r.status.value,
                outcome=r.status.value if r.status not in OPEN_STATES else None,
                signals=tuple(_signal_record(s) for s in r.signals),
                analysis=r.analysis,
                conclusions=r.conclusions,
                requirements=tuple(
                    {"text": q.text, "due_date": q.due_date} for q in r.requirements
                ),
                opened_on=r.created_at.date(),
                material_deadline=r.material_deadline,
                answered_on=r.answered_on,
                concluded_on=r.concluded_on,
                ended_on=r.ended_on,
                end_reason=r.end_reason,
                action_plan_id=r.action_plan_id,
                sanction_case_id=r.sanction_case_id,
            )
        )
    return result


def open_reviews(session: Session, unit: Unit) -> list[InDepthReview]:
    """The unit's open reviews, newest first (the unit page)."""
    return list(
        session.scalars(
            sa.select(InDepthReview)
            .where(InDepthReview.unit_id == unit.id, InDepthReview.status.in_(OPEN_STATES))
            .order_by(InDepthReview.created_at.desc(), InDepthReview.id.desc())
        )
    )
