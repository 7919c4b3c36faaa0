"""Besvara checklistan: save one item, or a section's items, each on its own optimistic lock;
submit; evidence files.

A save names the version of the item it was loaded at. Colleagues answering different items of
one checklist never get in each other's way; a conflict arises only when the *same* item changed
since it was loaded, and then nothing is overwritten: the caller gets both values, who changed
it and when, and the user chooses.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from audit.db import utcnow, write_phase
from audit.models import User
from audit.trail import Actor, record
from checklists import answers
from checklists.answers import AnswerError, Status
from checklists.evidence import EvidenceError, accept_upload
from checklists.models import AnswerType, Recurrence, Requirement
from checklists.operations.common import (
    EDITABLE_STATUSES,
    ChecklistError,
    Incomplete,
    _fire,
    _is_empty,
    _require_editable,
    can_submit,
    context,
    guard_personal_data,
)
from checklists.rounds import Checklist, ChecklistItem, EvidenceFile


def value_hash(value) -> str:
    """A short fingerprint of a stored value (``-`` for no answer): what a form was loaded
    with, so that a section save touches only the items the user changed."""
    if value is None:
        return "-"
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class ItemConflict:
    """Krock: the item changed since it was loaded — both values, by whom and when."""

    current_value: dict | None
    current_version: int
    yours: dict | None
    changed_by: str | None
    changed_at: dt.datetime | None


@dataclasses.dataclass
class ItemOutcome:
    """What became of one item's save: ``saved``, ``cleared``, ``unchanged``, ``invalid``
    (``error`` says why, nothing stored) or ``conflict`` (``conflict`` says what changed)."""

    item: ChecklistItem
    state: str
    error: AnswerError | None = None
    conflict: ItemConflict | None = None

    @property
    def ok(self) -> bool:
        return self.state in ("saved", "cleared", "unchanged")


def _clean(item: ChecklistItem, raw: dict) -> dict | None:
    """The stored value for ``raw`` (None: the answer was emptied). Raises AnswerError."""
    requirement = item.requirement
    raw = dict(raw)
    if requirement.answer_type == AnswerType.DOCUMENT:
        # A document item is answered by its files; the form carries only the comment and
        # "ej aktuellt under perioden".
        # (Scripts and tests may pass files already stored; the web form never carries any.)
        files = raw.pop("files", None) or (item.value or {}).get("files", [])
        if _is_empty(raw) and not files:
            return None
        raw["files"] = files
    elif _is_empty(raw):
        return None
    guard_personal_data(raw)
    return answers.clean_answer(
        requirement.answer_type,
        requirement.answer_params,
        raw,
        on_event=requirement.recurrence == Recurrence.ON_EVENT,
    )


def save_item(
    session: Session,
    user: User,
    checklist: Checklist,
    item: ChecklistItem,
    raw: dict,
    *,
    loaded_version: int,
    loaded_hash: str | None = None,
    year: int,
) -> ItemOutcome:
    """Spara en punkt: validate ``raw`` and store it if it differs from the stored answer.

    ``loaded_version`` is the item's version when the user's page was loaded. If it moved
    meanwhile, an answer equal to the current one is fine, and (with ``loaded_hash``, from a
    whole-section post) an item the user left as loaded keeps the colleague's answer; anything
    else is a conflict. The UPDATE is conditional on the version, so a concurrent save between
    reading and writing is a conflict too, never a lost update.
    """
    _require_editable(user, checklist, "Du kan inte besvara den här checklistan.")
    try:
        value = _clean(item, raw)
    except AnswerError as exc:
        return ItemOutcome(item, "invalid", error=exc)
    if value == item.value:
        return ItemOutcome(item, "unchanged")
    if loaded_version != item.version:
        if loaded_hash is not None and loaded_hash == value_hash(value):
            return ItemOutcome(item, "unchanged")  # not touched here: keep the colleague's
        return ItemOutcome(item, "conflict", conflict=_conflict(session, item, value))
    now = utcnow()
    evaluation = answers.evaluate(
        item.requirement.answer_type, item.requirement.answer_params, value, context(item, year)
    )
    changes = {
        "value": value,
        "version": item.version + 1,
        "answered_by_id": user.id,
        "answered_at": now,
        "auto_status": evaluation.status,
        "auto_explanation": evaluation.explanation,
    }
    # Everything above only read; a web request (which declared late write intent) holds the
    # write lock only from here. The UPDATE re-checks what it depends on: the version (a
    # colleague's save in between is a conflict, never a lost update) and that the checklist
    # is still open (it may have been submitted in between).
    with write_phase(session):
        updated = session.execute(
            sa.update(ChecklistItem)
            .where(
                ChecklistItem.id == item.id,
                ChecklistItem.version == loaded_version,
                ChecklistItem.checklist_id.in_(
                    sa.select(Checklist.id).where(
                        Checklist.id == checklist.id, Checklist.status.in_(EDITABLE_STATUSES)
                    )
                ),
            )
            .values(**changes)
            .execution_options(synchronize_session=False)
        ).rowcount
        if updated != 1:  # saved by someone else, or submitted, between our read and write
            session.refresh(checklist)
            _require_editable(user, checklist, "Du kan inte besvara den här checklistan.")
            session.refresh(item)
            return ItemOutcome(item, "conflict", conflict=_conflict(session, item, value))
        before = item.value
        for name, new in changes.items():
            set_committed_value(item, name, new)
        record(
            session, Actor.of(user), "checklist_item", item.id, "answer", before=before, after=value
        )
    return ItemOutcome(item, "cleared" if value is None else "saved")


def _conflict(session: Session, item: ChecklistItem, yours: dict | None) -> ItemConflict:
    changed_by = None
    if item.answered_by_id is not None:
        changed_by = session.scalar(
            sa.select(User.display_name).where(User.id == item.answered_by_id)
        )
    return ItemConflict(
        current_value=item.value,
        current_version=item.version,
        yours=yours,
        changed_by=changed_by,
        changed_at=item.answered_at,
    )


def load_items(
    session: Session, checklist: Checklist, item_ids: list[int] | None = None
) -> list[ChecklistItem]:
    """Items of a checklist (all, or ``item_ids``) with requirement and files, in the
    rulebook's order — one query for the items, one each for requirements and files."""
    stmt = (
        sa.select(ChecklistItem)
        .join(Requirement)
        .where(ChecklistItem.checklist_id == checklist.id)
        .options(selectinload(ChecklistItem.requirement), selectinload(ChecklistItem.files))
        .order_by(Requirement.section_key, Requirement.position)
    )
    if item_ids is not None:
        stmt = stmt.where(ChecklistItem.id.in_(item_ids))
    return list(session.scalars(stmt))


def save_answers(
    session: Session,
    user: User,
    checklist: Checklist,
    entries: dict[int, tuple[int, str | None, dict]],
) -> dict[int, ItemOutcome]:
    """Spara flera punkter (a section posted without JavaScript): ``entries`` maps an item id
    to (loaded version, loaded value hash, raw answer). Each item is saved on its own: a bad or
    conflicting item is reported and the others are still saved."""
    _require_editable(user, checklist, "Du kan inte besvara den här checklistan.")
    items = load_items(session, checklist, list(entries))
    year = checklist.round.year
    outcomes = {}
    for item in items:
        version, loaded_hash, raw = entries[item.id]
        outcomes[item.id] = save_item(
            session,
            user,
            checklist,
            item,
            raw,
            loaded_version=version,
            loaded_hash=loaded_hash,
            year=year,
        )
    return outcomes


def unanswered_items(session: Session, checklist: Checklist) -> list[ChecklistItem]:
    """The items still without an answer, in the rulebook's order."""
    return list(
        session.scalars(
            sa.select(ChecklistItem)
            .join(Requirement)
            .where(
                ChecklistItem.checklist_id == checklist.id,
                ChecklistItem.auto_status == Status.NOT_ANSWERED,
            )
            .options(selectinload(ChecklistItem.requirement))
            .order_by(Requirement.section_key, Requirement.position)
        )
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
    """Skicka in: only the verksamhetschef, only with every item answered; then locked.
    Refused with :class:`Incomplete` (listing the items) while any is unanswered."""
    if not can_submit(user, checklist):
        raise ChecklistError("Bara enhetens verksamhetschef kan skicka in checklistan.")
    missing = unanswered_items(session, checklist)
    if missing:
        raise Incomplete(
            f"{len(missing)} punkter är inte besvarade. Alla punkter måste besvaras innan "
            "checklistan skickas in.",
            missing,
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


# --- evidence ------------------------------------------------------------------------------


def _bump_version(session: Session, item: ChecklistItem) -> None:
    """A file added or removed is a new version of the item (additive, so never a conflict):
    a colleague's open page sees the change on its next save of this item."""
    new_version = session.execute(
        sa.update(ChecklistItem)
        .where(ChecklistItem.id == item.id)
        .values(version=ChecklistItem.version + 1)
        .returning(ChecklistItem.version)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    set_committed_value(item, "version", new_version)


def _refresh_document_answer(item: ChecklistItem, year: int) -> None:
    """For a document item the active files are the answer (the comment stays with them)."""
    if item.requirement.answer_type != AnswerType.DOCUMENT:
        return
    files = [
        {"sha256": f.sha256, "filename": f.filename, "size": f.size}
        for f in item.files
        if f.removed_at is None
    ]
    comment = (item.value or {}).get("comment")
    value = {"files": files} if files else None
    if value is not None and comment:
        value["comment"] = comment
    item.value = value
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
    with a personnummer anywhere -- its text, cells, comments, properties, image metadata --
    is refused before anything is stored."""
    checklist = item.checklist
    _require_editable(user, checklist, "Du kan inte lämna underlag till den här checklistan.")
    # The bytes reach the content store only when this transaction commits (a failed commit
    # leaves no file behind); see checklists.evidence.accept_upload.
    try:
        stored = accept_upload(session, store, checked, data)
    except EvidenceError as exc:
        raise ChecklistError(str(exc)) from None
    sha256 = stored["sha256"]
    evidence = EvidenceFile(item=item, **stored, uploaded_by_id=user.id)
    session.add(evidence)
    session.flush()
    _bump_version(session, item)
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
    _bump_version(session, item)
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
