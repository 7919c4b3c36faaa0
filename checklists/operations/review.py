"""Granskning: the reviewer's judgement per item, return for completion, acceptance."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from audit.db import utcnow
from audit.models import User
from audit.trail import Actor, record
from checklists.answers import AnswerError, Status
from checklists.models import Requirement
from checklists.operations.common import (
    FINDING_STATUSES,
    ChecklistError,
    Incomplete,
    _fire,
    can_review,
    guard_personal_data,
)
from checklists.rounds import Checklist, ChecklistItem, ChecklistStatus, Finding


def _require_reviewer(user: User) -> None:
    if not can_review(user):
        raise ChecklistError("Bara beställare och granskare kan granska checklistor.")


def override(
    session: Session, user: User, item: ChecklistItem, status: Status | None, reason: str
) -> None:
    """Ändra bedömning: the reviewer replaces the automatic evaluation, always with a reason.
    ``status=None`` removes the override."""
    _require_reviewer(user)
    if item.checklist.status != ChecklistStatus.SUBMITTED:
        raise ChecklistError("Bedömningen kan bara ändras medan checklistan granskas.")
    reason = (reason or "").strip()
    if status is not None and not reason:
        raise AnswerError(
            "Ange skälet till att du ändrar den automatiska bedömningen.", "override_reason"
        )
    guard_personal_data(reason, "Skäl")
    before = {
        "status": item.override_status and str(item.override_status),
        "reason": item.override_reason,
    }
    item.override_status = Status(status) if status else None
    item.override_reason = reason if status else None
    session.flush()
    record(
        session,
        Actor.of(user),
        "checklist_item",
        item.id,
        "override",
        before=before,
        after={"status": status and str(status), "reason": item.override_reason},
        reason=item.override_reason,
    )


def comment(session: Session, user: User, item: ChecklistItem, text: str) -> None:
    """Granskarens kommentar per punkt."""
    _require_reviewer(user)
    text = (text or "").strip() or None
    if text:
        guard_personal_data(text, "Kommentar")
    if text == item.reviewer_comment:
        return
    before = item.reviewer_comment
    item.reviewer_comment = text
    session.flush()
    record(
        session,
        Actor.of(user),
        "checklist_item",
        item.id,
        "comment",
        before={"comment": before},
        after={"comment": text},
    )


def return_for_completion(
    session: Session, user: User, checklist: Checklist, item_ids: list[int], message: str
) -> None:
    """Återsänd för komplettering: back to the unit with the items to complete marked."""
    _require_reviewer(user)
    message = (message or "").strip()
    if not item_ids:
        raise ChecklistError("Markera minst en punkt som ska kompletteras.")
    if not message:
        raise ChecklistError("Skriv ett meddelande till enheten om vad som ska kompletteras.")
    guard_personal_data(message, "Meddelande")
    _fire(checklist, "return_for_completion")
    marked = session.execute(
        sa.update(ChecklistItem)
        .where(ChecklistItem.checklist_id == checklist.id, ChecklistItem.id.in_(item_ids))
        .values(needs_completion=True)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    checklist.return_message = message
    checklist.decided_at = utcnow()
    checklist.decided_by_id = user.id
    session.flush()
    record(
        session,
        Actor.of(user),
        "checklist",
        checklist.id,
        "return",
        before={"status": "submitted"},
        after={"status": "returned", "items": marked},
        reason=message,
    )


def accept(session: Session, user: User, checklist: Checklist) -> list[Finding]:
    """Godkänn: lock the checklist and make every partly or non-compliant item a finding."""
    _require_reviewer(user)
    if checklist.status == ChecklistStatus.SUBMITTED:
        unjudged = session.scalars(
            sa.select(ChecklistItem)
            .join(Requirement, ChecklistItem.requirement_id == Requirement.id)
            .where(
                ChecklistItem.checklist_id == checklist.id,
                sa.func.coalesce(ChecklistItem.override_status, ChecklistItem.auto_status)
                == Status.TO_REVIEW.value,
            )
            .options(selectinload(ChecklistItem.requirement))
            .order_by(Requirement.section_key, Requirement.position)
        ).all()
        if unjudged:
            raise Incomplete(
                f"{len(unjudged)} punkter kan inte bedömas automatiskt och saknar din bedömning. "
                "Bedöm dem innan du godkänner.",
                list(unjudged),
            )
    _fire(checklist, "accept")
    session.execute(
        sa.update(ChecklistItem)
        .where(ChecklistItem.checklist_id == checklist.id)
        .values(needs_completion=False)
    )
    checklist.decided_at = utcnow()
    checklist.decided_by_id = user.id
    items = session.scalars(
        sa.select(ChecklistItem)
        .where(ChecklistItem.checklist_id == checklist.id)
        .options(selectinload(ChecklistItem.requirement))
    ).all()
    findings = []
    actor = Actor.of(user)
    for item in items:
        if item.status not in FINDING_STATUSES:
            continue
        statement = item.reviewer_comment or item.override_reason or item.auto_explanation or ""
        finding = Finding(
            item_id=item.id,
            round_id=checklist.round_id,
            unit_id=checklist.unit_id,
            requirement_id=item.requirement_id,
            status=item.status,
            severity=item.requirement.severity,
            statement=statement,
            created_by_id=user.id,
        )
        session.add(finding)
        findings.append(finding)
    session.flush()
    for finding in findings:
        record(
            session,
            actor,
            "finding",
            finding.id,
            "create",
            after={
                "unit_id": finding.unit_id,
                "requirement": finding.requirement.code,
                "status": str(finding.status),
                "severity": str(finding.severity),
                "statement": finding.statement,
            },
        )
    record(
        session,
        actor,
        "checklist",
        checklist.id,
        "accept",
        before={"status": "submitted"},
        after={"status": "accepted", "findings": len(findings)},
    )
    return findings


def judge_item(
    session: Session,
    user: User,
    item: ChecklistItem,
    *,
    status: Status | None,
    reason: str,
    comment_text: str,
    mark: bool | None = None,
) -> bool:
    """Bedöm en punkt: the reviewer's assessment (override with its reason), comment to the
    unit and whether the item is to be completed (``mark``), for one item, saved on its own.
    Returns whether anything changed."""
    reason = (reason or "").strip()
    current = item.override_status
    changed = False
    if status != current or (status is not None and reason != (item.override_reason or "")):
        override(session, user, item, status, reason)
        changed = True
    before = item.reviewer_comment
    comment(session, user, item, comment_text)
    changed = changed or before != item.reviewer_comment
    if mark is not None and mark != item.needs_completion:
        item.needs_completion = mark
        session.flush()
        record(
            session,
            Actor.of(user),
            "checklist_item",
            item.id,
            "mark_completion",
            before={"needs_completion": not mark},
            after={"needs_completion": mark},
        )
        changed = True
    return changed
