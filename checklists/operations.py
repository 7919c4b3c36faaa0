"""Operations on rounds and checklists: open, answer, submit, review, accept.

Each operation checks who may do it, changes the rows, flushes, and writes its audit events in
the same transaction; the caller commits once. Refusals raise :class:`ChecklistError` with a
Swedish message. Status changes go through :data:`CHECKLIST_MACHINE` only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload
from transitions import Machine, MachineError

from audit.db import utcnow
from audit.models import Role, Unit, UnitKind, User
from audit.trail import Actor, record
from checklists import answers, applicability, pii
from checklists.answers import AnswerError, Context, Status
from checklists.models import CatalogEdition, Requirement
from checklists.rounds import (
    Checklist,
    ChecklistItem,
    ChecklistStatus,
    EvidenceFile,
    Finding,
    Round,
)

FINDING_STATUSES = (Status.PARTLY_COMPLIANT, Status.NON_COMPLIANT)
REVIEWER_ROLES = (Role.BESTALLARE, Role.GRANSKARE)


class ChecklistError(ValueError):
    """A refused operation; the message is Swedish and safe to show."""


class VersionConflict(ChecklistError):
    """Someone else saved the checklist since this form was loaded (no lost updates)."""

    def __init__(self, message: str, changed: list[ChecklistItem], current_version: int):
        super().__init__(message)
        self.changed = changed
        self.current_version = current_version


# One machine for every checklist row: nothing is attached to the rows themselves.
CHECKLIST_MACHINE = Machine(
    model=None,
    states=ChecklistStatus,
    initial=ChecklistStatus.OPEN,
    transitions=[
        {
            "trigger": "submit",
            "source": [ChecklistStatus.OPEN, ChecklistStatus.RETURNED],
            "dest": ChecklistStatus.SUBMITTED,
        },
        {
            "trigger": "return_for_completion",
            "source": ChecklistStatus.SUBMITTED,
            "dest": ChecklistStatus.RETURNED,
        },
        {
            "trigger": "accept",
            "source": ChecklistStatus.SUBMITTED,
            "dest": ChecklistStatus.ACCEPTED,
        },
    ],
    auto_transitions=False,
    send_event=True,
    model_attribute="status",
)

_REFUSED = {
    "submit": "Checklistan kan inte skickas in nu: den är redan inskickad eller godkänd.",
    "return_for_completion": "Bara en inskickad checklista kan återsändas för komplettering.",
    "accept": "Bara en inskickad checklista kan godkännas.",
}


def _fire(checklist: Checklist, trigger: str) -> None:
    try:
        CHECKLIST_MACHINE.events[trigger].trigger(checklist)
    except MachineError:
        raise ChecklistError(_REFUSED[trigger]) from None


# --- who may do what ---------------------------------------------------------------------


def can_answer(user: User, checklist: Checklist) -> bool:
    """Verksamhetschef and staff of the checklist's unit answer it."""
    return any(
        a.role in (Role.VERKSAMHETSCHEF, Role.PERSONAL) and a.unit_id == checklist.unit_id
        for a in user.roles
    )


def can_submit(user: User, checklist: Checklist) -> bool:
    """Only the unit's verksamhetschef submits (§3.1.1)."""
    return any(
        a.role == Role.VERKSAMHETSCHEF and a.unit_id == checklist.unit_id for a in user.roles
    )


def can_review(user: User) -> bool:
    """Beställare and granskare review (§7)."""
    return user.has_role(*REVIEWER_ROLES)


def _require_editable(user: User, checklist: Checklist, refusal: str) -> None:
    """The unit may change its checklist only while it is open or returned to it."""
    if not can_answer(user, checklist):
        raise ChecklistError(refusal)
    if checklist.status not in (ChecklistStatus.OPEN, ChecklistStatus.RETURNED):
        raise ChecklistError("Checklistan är inskickad och låst.")


# --- opening a round ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RoundSelection:
    """What a new round asks and of whom; ``None`` means all."""

    requirement_ids: list[int] | None = None
    unit_ids: list[int] | None = None


def open_round(
    session: Session,
    user: User,
    *,
    edition: CatalogEdition,
    title: str,
    year: int,
    opens_on: dt.date,
    deadline: dt.date,
    selection: RoundSelection = RoundSelection(),
) -> Round:
    """Öppna en uppföljningsomgång: one checklist per selected unit, holding only the selected
    requirements that apply to that unit. Set-based: one INSERT … SELECT per distinct
    applicability rule, whatever the number of units."""
    if not can_review(user):
        raise ChecklistError("Bara beställare och granskare kan öppna en omgång.")
    title = " ".join((title or "").split())
    if not title:
        raise ChecklistError("Ange en titel för omgången.")
    if deadline < opens_on:
        raise ChecklistError("Sista svarsdag kan inte vara före öppningsdagen.")
    req_stmt = sa.select(Requirement.id, Requirement.applies_to).where(
        Requirement.edition_id == edition.id
    )
    if selection.requirement_ids is not None:
        req_stmt = req_stmt.where(Requirement.id.in_(selection.requirement_ids))
    requirements = session.execute(req_stmt).all()
    if not requirements:
        raise ChecklistError("Välj minst ett krav.")
    unit_filter = [Unit.active.is_(True), Unit.kind != UnitKind.FILIAL]  # §3.9: not own unit
    if selection.unit_ids is not None:
        unit_filter.append(Unit.id.in_(selection.unit_ids))
    round_ = Round(
        edition_id=edition.id,
        title=title,
        year=year,
        opens_on=opens_on,
        deadline=deadline,
        created_by_id=user.id,
    )
    session.add(round_)
    session.flush()
    session.execute(
        sa.insert(Checklist).from_select(
            ["round_id", "unit_id", "status", "version"],
            sa.select(
                sa.literal(round_.id),
                Unit.id,
                sa.literal(ChecklistStatus.OPEN.value),
                sa.literal(1),
            ).where(*unit_filter),
        )
    )
    by_rule: dict[str, list[int]] = defaultdict(list)
    for requirement_id, applies_to in requirements:
        by_rule[json.dumps(applies_to, sort_keys=True)].append(requirement_id)
    for rule, ids in by_rule.items():
        session.execute(
            sa.insert(ChecklistItem).from_select(
                [
                    "checklist_id",
                    "requirement_id",
                    "auto_status",
                    "changed_in_version",
                    "needs_completion",
                ],
                sa.select(
                    Checklist.id,
                    Requirement.id,
                    sa.literal(Status.NOT_ANSWERED.value),
                    sa.literal(0),
                    sa.false(),
                )
                .join(Unit, Unit.id == Checklist.unit_id)
                .join(Requirement, Requirement.id.in_(ids))
                .where(Checklist.round_id == round_.id, applicability.condition(json.loads(rule))),
            )
        )
    # A unit to which nothing selected applies gets no checklist.
    session.execute(
        sa.delete(Checklist).where(
            Checklist.round_id == round_.id,
            ~sa.exists().where(ChecklistItem.checklist_id == Checklist.id),
        )
    )
    counts = session.execute(
        sa.select(sa.func.count(sa.distinct(Checklist.id)), sa.func.count(ChecklistItem.id))
        .select_from(Checklist)
        .join(ChecklistItem)
        .where(Checklist.round_id == round_.id)
    ).one()
    if counts[0] == 0:
        raise ChecklistError("Inget av de valda kraven gäller någon av de valda enheterna.")
    record(
        session,
        Actor.of(user),
        "round",
        round_.id,
        "create",
        after={
            "title": title,
            "edition": edition.code,
            "year": year,
            "opens_on": opens_on,
            "deadline": deadline,
            "checklists": counts[0],
            "items": counts[1],
        },
    )
    return round_


# --- answering ---------------------------------------------------------------------------


@dataclasses.dataclass
class SaveResult:
    """Outcome of saving a checklist form: what was saved and the errors per item."""

    saved: list[int] = dataclasses.field(default_factory=list)
    cleared: list[int] = dataclasses.field(default_factory=list)
    errors: dict[int, dict[str, str]] = dataclasses.field(default_factory=dict)
    version: int = 0


def _is_empty(raw) -> bool:
    if isinstance(raw, dict):
        return all(_is_empty(v) for v in raw.values())
    if isinstance(raw, list):
        return all(_is_empty(v) for v in raw)
    return raw is None or str(raw).strip() == ""


def _strings(raw, path=""):
    if isinstance(raw, dict):
        for key, value in raw.items():
            yield from _strings(value, f"{path}-{key}" if path else key)
    elif isinstance(raw, list):
        for index, value in enumerate(raw, start=1):
            yield from _strings(value, f"{path}-{index}")
    elif isinstance(raw, str):
        yield path, raw


FIELD_NAMES = {
    "comment": "Kommentar",
    "text": "Svar",
    "exceptions": "Undantag",
    "name": "Namn",
    "title": "Titel",
    "hsa_id": "HSA-id",
}


def guard_personal_data(raw, field_label=None) -> None:
    """Refuse any text that contains a personnummer or samordningsnummer (nothing of it is
    stored or logged; the message says where, never what)."""
    for path, text in _strings(raw):
        hits = pii.find_identity_numbers(text)
        if hits:
            label = field_label or FIELD_NAMES.get(path.rsplit("-", 1)[-1], "fältet")
            raise AnswerError(pii.describe(hits, label), path or None)


def context(item: ChecklistItem, year: int) -> Context:
    requirement = item.requirement
    return Context(
        section=requirement.section, year=year, prohibition=requirement.kind == "prohibition"
    )


def save_answers(
    session: Session,
    user: User,
    checklist: Checklist,
    form_version: int,
    raw_answers: dict[int, dict],
) -> SaveResult:
    """Spara utkast: validate and store every answer given; keep going past bad ones (they are
    reported per item and not stored). Refuses with :class:`VersionConflict` when someone else
    saved since ``form_version`` — nothing is overwritten silently."""
    _require_editable(user, checklist, "Du kan inte besvara den här checklistan.")
    items = {
        item.id: item
        for item in session.scalars(
            sa.select(ChecklistItem)
            .where(ChecklistItem.checklist_id == checklist.id)
            .options(selectinload(ChecklistItem.requirement))
        )
    }
    result = SaveResult(version=checklist.version)
    changes: list[tuple[ChecklistItem, dict | None, dict | None]] = []
    for item_id, raw in raw_answers.items():
        item = items.get(item_id)
        if item is None:
            continue
        requirement = item.requirement
        if _is_empty(raw):
            if item.value is not None:
                changes.append((item, item.value, None))
            continue
        try:
            guard_personal_data(raw)
            value = answers.clean_answer(requirement.answer_type, requirement.answer_params, raw)
        except AnswerError as exc:
            result.errors[item_id] = {exc.field or "": str(exc)}
            continue
        if value != item.value:
            changes.append((item, item.value, value))
    if not changes:
        if form_version != checklist.version and not result.errors:
            _raise_conflict(session, checklist, form_version)
        return result
    new_version = form_version + 1
    bumped = session.execute(
        sa.update(Checklist)
        .where(Checklist.id == checklist.id, Checklist.version == form_version)
        .values(version=new_version)
        .execution_options(synchronize_session=False)
    ).rowcount
    if bumped != 1:
        _raise_conflict(session, checklist, form_version)
    checklist.version = new_version
    now = utcnow()
    actor = Actor.of(user)
    for item, before, value in changes:
        item.value = value
        item.changed_in_version = new_version
        item.answered_by_id = user.id
        item.answered_at = now
        evaluation = answers.evaluate(
            item.requirement.answer_type,
            item.requirement.answer_params,
            value,
            context(item, checklist.round.year),
        )
        item.auto_status = evaluation.status
        item.auto_explanation = evaluation.explanation
        (result.cleared if value is None else result.saved).append(item.id)
        record(session, actor, "checklist_item", item.id, "answer", before=before, after=value)
    session.flush()
    result.version = new_version
    return result


def _raise_conflict(session: Session, checklist: Checklist, form_version: int):
    session.refresh(checklist)
    changed = session.scalars(
        sa.select(ChecklistItem)
        .where(
            ChecklistItem.checklist_id == checklist.id,
            ChecklistItem.changed_in_version > form_version,
        )
        .order_by(ChecklistItem.id)
    ).all()
    raise VersionConflict(
        "Någon annan har sparat checklistan sedan du öppnade den. Dina ändringar är inte "
        "sparade; de står kvar i formuläret. Se vad som ändrats och spara igen.",
        list(changed),
        checklist.version,
    )


def progress(session: Session, checklist_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Answered and total items per checklist, in one query."""
    rows = session.execute(
        sa.select(
            ChecklistItem.checklist_id,
            sa.func.count(ChecklistItem.value).filter(
                ChecklistItem.auto_status != Status.NOT_ANSWERED
            ),
            sa.func.count(),
        )
        .where(ChecklistItem.checklist_id.in_(checklist_ids))
        .group_by(ChecklistItem.checklist_id)
    ).all()
    return {cid: (answered, total) for cid, answered, total in rows}


def submit(session: Session, user: User, checklist: Checklist) -> None:
    """Skicka in: only the verksamhetschef, only with every item answered; then locked."""
    if not can_submit(user, checklist):
        raise ChecklistError("Bara enhetens verksamhetschef kan skicka in checklistan.")
    unanswered = session.scalar(
        sa.select(sa.func.count()).where(
            ChecklistItem.checklist_id == checklist.id,
            ChecklistItem.auto_status == Status.NOT_ANSWERED,
        )
    )
    if unanswered:
        raise ChecklistError(
            f"{unanswered} punkter är inte besvarade. Alla punkter måste "
            "besvaras innan checklistan skickas in."
        )
    before = str(checklist.status)
    _fire(checklist, "submit")
    checklist.submitted_at = utcnow()
    checklist.submitted_by_id = user.id
    session.execute(
        sa.update(ChecklistItem)
        .where(ChecklistItem.checklist_id == checklist.id)
        .values(needs_completion=False)
    )
    session.flush()
    record(
        session,
        Actor.of(user),
        "checklist",
        checklist.id,
        "submit",
        before={"status": before},
        after={"status": str(checklist.status)},
    )


# --- reviewing ---------------------------------------------------------------------------


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
            sa.select(Requirement.section)
            .join(ChecklistItem, ChecklistItem.requirement_id == Requirement.id)
            .where(
                ChecklistItem.checklist_id == checklist.id,
                sa.func.coalesce(ChecklistItem.override_status, ChecklistItem.auto_status)
                == Status.TO_REVIEW.value,
            )
            .order_by(Requirement.section_key)
        ).all()
        if unjudged:
            raise ChecklistError(
                f"{len(unjudged)} punkter kan inte bedömas automatiskt och saknar din bedömning "
                f"(§{', §'.join(dict.fromkeys(unjudged))}). Bedöm dem innan du godkänner."
            )
    _fire(checklist, "accept")
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


# --- evidence ------------------------------------------------------------------------------


def _bump_version(session: Session, checklist: Checklist) -> int:
    """Move the checklist to a new version unconditionally (uploads do not carry a form
    version); open forms become stale and their next save shows what changed."""
    new_version = session.execute(
        sa.update(Checklist)
        .where(Checklist.id == checklist.id)
        .values(version=Checklist.version + 1)
        .returning(Checklist.version)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    checklist.version = new_version
    return new_version


def _refresh_document_answer(item: ChecklistItem, year: int) -> None:
    """For a document item the active files are the answer."""
    if item.requirement.answer_type != "document":
        return
    files = [
        {"sha256": f.sha256, "filename": f.filename, "size": f.size}
        for f in item.files
        if f.removed_at is None
    ]
    item.value = {"files": files} if files else None
    evaluation = answers.evaluate(
        item.requirement.answer_type,
        item.requirement.answer_params,
        item.value,
        context(item, year),
    )
    item.auto_status = evaluation.status
    item.auto_explanation = evaluation.explanation


def add_evidence(
    session: Session, user: User, item: ChecklistItem, checked, data: bytes, store
) -> EvidenceFile:
    """Ladda upp underlag: a checked file (see :mod:`checklists.evidence`) for one item. A file
    whose text holds a personnummer is refused before anything is stored."""
    checklist = item.checklist
    _require_editable(user, checklist, "Du kan inte lämna underlag till den här checklistan.")
    if checked.text:
        hits = pii.find_identity_numbers(checked.text)
        if hits:
            raise ChecklistError(pii.describe(hits, f"filen ”{checked.filename}”"))
    sha256 = store.put(data)
    evidence = EvidenceFile(
        item=item,
        sha256=sha256,
        filename=checked.filename,
        media_type=checked.media_type,
        size=checked.size,
        uploaded_by_id=user.id,
    )
    session.add(evidence)
    session.flush()
    item.changed_in_version = _bump_version(session, checklist)
    item.answered_by_id = user.id
    item.answered_at = utcnow()
    session.refresh(item, ["files"])
    _refresh_document_answer(item, checklist.round.year)
    session.flush()
    record(
        session,
        Actor.of(user),
        "checklist_item",
        item.id,
        "add_evidence",
        after={
            "file_id": evidence.id,
            "filename": evidence.filename,
            "sha256": sha256,
            "size": evidence.size,
        },
    )
    return evidence


def remove_evidence(session: Session, user: User, evidence: EvidenceFile) -> None:
    """Ta bort underlag (the record stays, marked removed; the trail keeps the hash)."""
    item = evidence.item
    checklist = item.checklist
    _require_editable(user, checklist, "Du kan inte ändra underlag i den här checklistan.")
    if evidence.removed_at is not None:
        return
    evidence.removed_at = utcnow()
    item.changed_in_version = _bump_version(session, checklist)
    _refresh_document_answer(item, checklist.round.year)
    session.flush()
    record(
        session,
        Actor.of(user),
        "checklist_item",
        item.id,
        "remove_evidence",
        before={"file_id": evidence.id, "filename": evidence.filename},
    )
