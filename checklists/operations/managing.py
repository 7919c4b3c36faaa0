"""Hantera en öppen omgång: extend the deadline, remind the units that have not submitted,
close the round, add a unit that was missed -- each in the trail.

Closing decides what happens to a unit that never submitted: its checklist becomes *ej
inlämnad* (``not_submitted``), locked with whatever was answered, and stays in the round's
overview as such. It is not a finding by itself (no item was judged), but it is on record
for the follow-up: the health centre "ska tillhandahålla det underlag som begärs" (§7), and
not doing so is for the purchaser to take up in a dialog or an action plan. Checklists
already submitted are reviewed as before; a returned one that was not handed in again is
closed as not submitted too. A closed round takes no new units, extensions or reminders.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager

from audit.db import utcnow
from audit.models import Role, Unit, UnitKind, User
from audit.outbox import Email, NotificationKind, base_url, enqueue_emails, unit_people
from audit.trail import Actor, record
from checklists.models import Requirement
from checklists.operations.common import EDITABLE_STATUSES, ChecklistError, _fire, can_review
from checklists.operations.opening import fill_checklists
from checklists.rounds import Checklist, ChecklistItem, ChecklistStatus, Round


def _check(user: User, round_: Round) -> None:
    if not can_review(user):
        raise ChecklistError("Bara beställare och granskare hanterar en omgång.")
    if round_.closed_at is not None:
        raise ChecklistError("Omgången är stängd.")


def _reason(reason: str | None) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise ChecklistError("Ange ett skäl.")
    return reason


def extend_deadline(
    session: Session,
    user: User,
    round_: Round,
    new_deadline: dt.date,
    reason: str,
    checklist: Checklist | None = None,
) -> None:
    """Förläng svarstiden, for every unit (the round's deadline) or for one unit's checklist,
    with a reason. The new date must be later than the date it replaces; a unit already
    given a later date than the round's new one keeps it."""
    _check(user, round_)
    reason = _reason(reason)
    if checklist is not None:
        if checklist.round_id != round_.id:
            raise ChecklistError("Checklistan hör inte till omgången.")
        if checklist.status not in EDITABLE_STATUSES:
            raise ChecklistError("Enheten har redan skickat in sin checklista.")
        current = checklist.due_on
    else:
        current = round_.deadline
    if new_deadline <= current:
        raise ChecklistError(
            f"Den nya sista svarsdagen ska vara senare än den nuvarande ({current.isoformat()})."
        )
    if checklist is not None:
        checklist.deadline = new_deadline
        entity, entity_id = "checklist", checklist.id
    else:
        round_.deadline = new_deadline
        # A unit's own extension earlier than the round's new date is overtaken by it.
        session.execute(
            sa.update(Checklist)
            .where(Checklist.round_id == round_.id, Checklist.deadline <= new_deadline)
            .values(deadline=None)
            .execution_options(synchronize_session="fetch")
        )
        entity, entity_id = "round", round_.id
    session.flush()
    record(
        session,
        Actor.of(user),
        entity,
        entity_id,
        "deadline_extended",
        before={"deadline": current},
        after={"deadline": new_deadline, "round": round_.id},
        reason=reason,
    )


def unsubmitted(session: Session, round_: Round) -> list[Checklist]:
    """The round's checklists not (or no longer) handed in: open or returned."""
    return list(
        session.scalars(
            sa.select(Checklist)
            .join(Unit, Unit.id == Checklist.unit_id)
            .where(Checklist.round_id == round_.id, Checklist.status.in_(EDITABLE_STATUSES))
            .options(contains_eager(Checklist.unit))
            .order_by(Unit.name)
        )
    )


def remind_unsubmitted(session: Session, user: User, round_: Round, today: dt.date) -> int:
    """Påminn enheterna som inte har skickat in: one e-mail to each verksamhetschef and
    staff member of those units (who want round reminders), through the outbox. Once a day
    at most: a second click the same day queues nothing new. Returns the e-mails queued."""
    _check(user, round_)
    checklists = unsubmitted(session, round_)
    if not checklists:
        raise ChecklistError("Alla enheter har skickat in sina checklistor.")
    people = unit_people(
        session, [c.unit_id for c in checklists], (Role.VERKSAMHETSCHEF, Role.PERSONAL)
    )
    emails = []
    for checklist in checklists:
        due = checklist.due_on
        late = due < today
        for person in people.get(checklist.unit_id, []):
            body = (
                f"Hej {person.display_name},\n\n"
                f"Checklistan för {checklist.unit.name} i uppföljningsomgången "
                f"”{round_.title}” är inte inskickad. "
                + (
                    f"Sista svarsdag var {due.isoformat()}.\n"
                    if late
                    else f"Sista svarsdag är {due.isoformat()}.\n"
                )
                + f"Öppna checklistan: {base_url()}/checklistor/{checklist.id}\n\n"
                "Verksamhetschefen skickar in checklistan när den är besvarad.\n\n"
                "Hälsoval uppföljning, Region Västerbotten\n"
            )
            emails.append(
                Email(
                    key=f"round:{round_.id}:reminder:{today.isoformat()}:"
                    f"checklist:{checklist.id}:user:{person.id}",
                    user=person,
                    subject=f"Påminnelse: checklistan i ”{round_.title}” är inte inskickad",
                    body=body,
                    kind=NotificationKind.ROUND,
                )
            )
    queued = len(enqueue_emails(session, emails))
    record(
        session,
        Actor.of(user),
        "round",
        round_.id,
        "reminded",
        after={"units": [c.unit.code for c in checklists], "emails": queued},
    )
    return queued


def close_round(session: Session, user: User, round_: Round, reason: str | None = None) -> int:
    """Stäng omgången: every checklist not handed in becomes *ej inlämnad* and is locked (see
    the module's docstring). Returns how many."""
    _check(user, round_)
    checklists = unsubmitted(session, round_)
    for checklist in checklists:
        _fire(checklist, "close_unsubmitted")
    round_.closed_at = utcnow()
    round_.closed_by_id = user.id
    session.flush()
    record(
        session,
        Actor.of(user),
        "round",
        round_.id,
        "closed",
        after={"not_submitted": [c.unit.code for c in checklists]},
        reason=" ".join((reason or "").split()) or None,
    )
    return len(checklists)


def addable_units(session: Session, round_: Round) -> list[Unit]:
    """Active units (not filialer, §3.9) the round has no checklist for."""
    return list(
        session.scalars(
            sa.select(Unit)
            .where(
                Unit.active.is_(True),
                Unit.kind != UnitKind.FILIAL,
                Unit.id.not_in(sa.select(Checklist.unit_id).where(Checklist.round_id == round_.id)),
            )
            .order_by(Unit.name)
        )
    )


def add_unit(session: Session, user: User, round_: Round, unit: Unit, reason: str) -> Checklist:
    """Lägg till en enhet som saknades: a checklist of the round's requirements that apply to
    it (the requirements the round's checklists hold), with the round's deadline."""
    _check(user, round_)
    reason = _reason(reason)
    if not unit.active or unit.kind == UnitKind.FILIAL:
        raise ChecklistError("Välj en aktiv enhet som inte är en filial.")
    if session.scalar(
        sa.select(Checklist.id).where(Checklist.round_id == round_.id, Checklist.unit_id == unit.id)
    ):
        raise ChecklistError("Enheten finns redan i omgången.")
    requirements = session.execute(
        sa.select(Requirement.id, Requirement.applies_to).where(
            Requirement.id.in_(
                sa.select(ChecklistItem.requirement_id)
                .join(Checklist)
                .where(Checklist.round_id == round_.id)
                .distinct()
            )
        )
    ).all()
    checklist = Checklist(round_id=round_.id, unit_id=unit.id, status=ChecklistStatus.OPEN)
    session.add(checklist)
    session.flush()
    fill_checklists(session, round_.id, requirements, checklist_id=checklist.id)
    items = session.scalar(
        sa.select(sa.func.count()).where(ChecklistItem.checklist_id == checklist.id)
    )
    if not items:
        raise ChecklistError("Inget av omgångens krav gäller för enheten.")
    record(
        session,
        Actor.of(user),
        "round",
        round_.id,
        "unit_added",
        after={"unit": unit.code, "checklist": checklist.id, "items": items},
        reason=reason,
    )
    return checklist
