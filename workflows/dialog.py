"""Enskild uppföljningsdialog (§7.1.1) as a state machine.

planned → material requested (what, by when) → material submitted by the health centre →
under review (may be returned for completion) → meeting booked (date, place, participants; the
verksamhetschef and the medicinskt ansvarig must be among them, §7) → meeting held (minutes) →
closed (only when every finding discussed has a disposition). Cancelled with a reason from any
open state.
"""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from audit.db import utcnow
from audit.models import Role, Unit, User
from audit.outbox import Attachment, NotificationKind, enqueue_email, user_by_email, valid_email
from audit.trail import Actor, record
from checklists.rounds import Finding
from workflows.calendar import Attendee, dialog_invitation
from workflows.engine import Trigger, Workflow, WorkflowError
from workflows.models import (
    DialogFinding,
    DialogParticipant,
    DialogState,
    Disposition,
    FollowUpDialog,
)

S = DialogState
STOCKHOLM = ZoneInfo("Europe/Stockholm")
PURCHASER = frozenset({Role.BESTALLARE})
REVIEWERS = frozenset({Role.BESTALLARE, Role.GRANSKARE})
HEAD = frozenset({Role.VERKSAMHETSCHEF})
OPEN_STATES = (
    S.PLANNED,
    S.MATERIAL_REQUESTED,
    S.MATERIAL_SUBMITTED,
    S.UNDER_REVIEW,
    S.MEETING_BOOKED,
    S.MEETING_HELD,
)
REQUIRED_ATTENDEES = ("verksamhetschef", "medicinskt ansvarig")  # §7: "minst …"

STATE_LABELS = {
    S.PLANNED: "Planerad",
    S.MATERIAL_REQUESTED: "Underlag begärt",
    S.MATERIAL_SUBMITTED: "Underlag inlämnat",
    S.UNDER_REVIEW: "Under granskning",
    S.MEETING_BOOKED: "Möte bokat",
    S.MEETING_HELD: "Möte genomfört",
    S.CLOSED: "Avslutad",
    S.CANCELLED: "Avbruten",
}


def _text(data: dict, key: str) -> str:
    return " ".join(str(data.get(key) or "").split())


# --- guards: None when satisfied, else what is missing ----------------------------------------


def material_described(dialog, data, session) -> str | None:
    if not _text(data, "material_request"):
        return "Beskriv vilket underlag som begärs."
    deadline = data.get("material_deadline")
    if not isinstance(deadline, dt.date):
        return "Ange sista dag för underlaget."
    if deadline < utcnow().date():
        return "Sista dag för underlaget kan inte ha passerat."
    return None


def head_and_medical_lead_attend(dialog, data, session) -> str | None:
    participants = data.get("participants") or []
    roles = {
        " ".join(str(p.get("role_title", "")).lower().split())
        for p in participants
        if str(p.get("name", "")).strip()
    }
    missing = [r for r in REQUIRED_ATTENDEES if r not in roles]
    if missing:
        return (
            "Från hälsocentralen ska minst verksamhetschef och medicinskt ansvarig delta "
            f"(§7); saknas: {', '.join(missing)}."
        )
    bad = [
        str(p.get("name", "")).strip() or str(n)
        for n, p in enumerate(participants, start=1)
        if str(p.get("email") or "").strip() and not valid_email(str(p["email"]).strip())
    ]
    if bad:
        return (
            f"Ange e-postadressen som namn@exempel.se (eller lämna den tom) för: {', '.join(bad)}."
        )
    if not isinstance(data.get("meeting_at"), dt.datetime):
        return "Ange datum och tid för mötet."
    if not _text(data, "meeting_place"):
        return "Ange plats eller länk för mötet."
    return None


def minutes_written(dialog, data, session) -> str | None:
    if not _text(data, "minutes"):
        return "Skriv minnesanteckningar från mötet."
    return None


def every_finding_disposed(dialog, data, session) -> str | None:
    undecided = session.scalar(
        sa.select(sa.func.count()).where(
            DialogFinding.dialog_id == dialog.id, DialogFinding.disposition.is_(None)
        )
    )
    if undecided:
        return (
            f"{undecided} iakttagelser saknar beslut om hantering (ingen åtgärd, "
            "påpekande, åtgärdsplan, fördjupning eller sanktionsärende)."
        )
    return None


# --- what each transition stores ----------------------------------------------------------------


def _store_request(dialog, data, session, user):
    dialog.material_request = _text(data, "material_request")
    dialog.material_deadline = data["material_deadline"]


def _store_submission(dialog, data, session, user):
    dialog.material_comment = _text(data, "comment") or None


def _store_meeting(dialog, data, session, user):
    dialog.meeting_at = data["meeting_at"]
    dialog.meeting_place = _text(data, "meeting_place")
    dialog.participants = [
        DialogParticipant(
            name=p["name"].strip(),
            role_title=p["role_title"].strip().lower(),
            email=str(p.get("email") or "").strip() or None,
        )
        for p in data["participants"]
        if str(p.get("name", "")).strip()
    ]
    session.flush()
    invite_participants(session, dialog, user)


def organizer_of(user) -> Attendee:
    """The meeting's organiser: the booking beställare (their address, else the sender's)."""
    return Attendee(user.display_name, user.email or os.environ.get("HALSOVAL_SMTP_FROM"))


def invite_participants(session, dialog, user, *, cancel: bool = False) -> int:
    """Skicka mötesinbjudan (.ics, METHOD:REQUEST; CANCEL when the dialog is cancelled) to
    every participant with an address, through the outbox in this transaction. A participant
    whose address is an account's gets it only with that account's invitation setting on."""
    from workflows.notifications import base_url

    # The organiser is the beställare who planned the dialog, as in the downloadable .ics.
    planner = session.get(User, dialog.created_by_id) if dialog.created_by_id else None
    ics = dialog_invitation(dialog, organizer_of(planner or user), base_url(), cancel=cancel)
    when = dialog.meeting_at.astimezone(STOCKHOLM).strftime("%Y-%m-%d kl. %H.%M")
    verb = "ställs in" if cancel else "bokat"
    subject = f"Uppföljningsmöte {verb}: {dialog.title} – {dialog.unit.name}, {when}"
    queued = 0
    for participant in dialog.participants:
        if not participant.email:
            continue
        account = user_by_email(session, participant.email)
        body = (
            f"Hej {participant.name},\n\n"
            + (
                f"Uppföljningsmötet {when} ställs in.\n"
                if cancel
                else f"Du är inbjuden till uppföljningsmöte {when} ({dialog.meeting_place}).\n"
            )
            + f"Dialog: {dialog.title}, {dialog.unit.name} (Uppdrag och regler §7.1.1).\n"
            f"Mer om dialogen: {base_url()}/dialoger/{dialog.id}\n\n"
            "Inbjudan finns som bilaga (mote.ics) att lägga in i din kalender.\n\n"
            "Hälsoval uppföljning, Region Västerbotten\n"
        )
        method = "cancel" if cancel else "request"
        key = f"dialog:{dialog.id}:invitation:{method}:{participant.email.lower()}"
        if enqueue_email(
            session,
            key=key[:200],
            user=account,
            address=None if account else participant.email,
            subject=subject,
            body=body,
            attachments=[
                Attachment(
                    "mote.ics",
                    ics.decode(),
                    "text/calendar",
                    {"method": "CANCEL" if cancel else "REQUEST"},
                )
            ],
            kind=NotificationKind.INVITATION,
        ):
            queued += 1
    return queued


def _store_minutes(dialog, data, session, user):
    dialog.minutes = data["minutes"].strip()


def _store_cancel(dialog, data, session, user):
    dialog.cancel_reason = data.get("reason")
    if dialog.status == S.MEETING_BOOKED and dialog.meeting_at is not None:
        invite_participants(session, dialog, user, cancel=True)


DIALOG = Workflow(
    name="Uppföljningsdialog (§7.1.1)",
    entity_type="follow_up_dialog",
    states=DialogState,
    initial=S.PLANNED,
    state_labels=STATE_LABELS,
    guards={
        "material_described": material_described,
        "head_and_medical_lead_attend": head_and_medical_lead_attend,
        "minutes_written": minutes_written,
        "every_finding_disposed": every_finding_disposed,
    },
    triggers=[
        Trigger(
            "request_material",
            "Begär underlag",
            (S.PLANNED,),
            S.MATERIAL_REQUESTED,
            PURCHASER,
            guards=("material_described",),
            apply=_store_request,
        ),
        Trigger(
            "submit_material",
            "Lämna underlag",
            (S.MATERIAL_REQUESTED,),
            S.MATERIAL_SUBMITTED,
            HEAD,
            apply=_store_submission,
        ),
        Trigger(
            "start_review", "Påbörja granskning", (S.MATERIAL_SUBMITTED,), S.UNDER_REVIEW, REVIEWERS
        ),
        Trigger(
            "return_material",
            "Begär komplettering",
            (S.UNDER_REVIEW,),
            S.MATERIAL_REQUESTED,
            REVIEWERS,
            needs_reason=True,
        ),
        Trigger(
            "book_meeting",
            "Boka möte",
            (S.UNDER_REVIEW,),
            S.MEETING_BOOKED,
            PURCHASER,
            guards=("head_and_medical_lead_attend",),
            apply=_store_meeting,
        ),
        Trigger(
            "hold_meeting",
            "Registrera genomfört möte",
            (S.MEETING_BOOKED,),
            S.MEETING_HELD,
            PURCHASER,
            guards=("minutes_written",),
            apply=_store_minutes,
        ),
        Trigger(
            "close",
            "Avsluta dialogen",
            (S.MEETING_HELD,),
            S.CLOSED,
            PURCHASER,
            guards=("every_finding_disposed",),
        ),
        Trigger(
            "cancel",
            "Avbryt dialogen",
            OPEN_STATES,
            S.CANCELLED,
            PURCHASER,
            needs_reason=True,
            apply=_store_cancel,
        ),
    ],
)


def open_dialog(
    session: Session, user: User, unit: Unit, title: str, round_id: int | None = None
) -> FollowUpDialog:
    """Planera en uppföljningsdialog with one unit; the unit's findings not yet handled in
    another dialog come along to be discussed."""
    if not user.has_role(Role.BESTALLARE):
        raise WorkflowError("Bara beställare kan planera en uppföljningsdialog.")
    title = " ".join((title or "").split())
    if not title:
        raise WorkflowError("Ange en rubrik för dialogen.")
    dialog = FollowUpDialog(
        unit_id=unit.id, round_id=round_id, title=title, created_by_id=user.id, status=S.PLANNED
    )
    session.add(dialog)
    session.flush()
    handled = (
        sa.select(DialogFinding.finding_id)
        .join(FollowUpDialog)
        .where(FollowUpDialog.status != S.CANCELLED)
    )
    finding_ids = session.scalars(
        sa.select(Finding.id)
        .where(Finding.unit_id == unit.id, Finding.id.not_in(handled))
        .order_by(Finding.id)
    ).all()
    dialog.findings = [DialogFinding(finding_id=fid) for fid in finding_ids]
    session.flush()
    record(
        session,
        Actor.of(user),
        "follow_up_dialog",
        dialog.id,
        "create",
        after={
            "unit": unit.code,
            "title": title,
            "status": S.PLANNED.value,
            "findings": list(finding_ids),
        },
    )
    return dialog


def set_disposition(
    session: Session,
    user: User,
    dialog: FollowUpDialog,
    dialog_finding: DialogFinding,
    disposition: Disposition,
    note: str | None = None,
) -> None:
    """Besluta hantering av en iakttagelse (at or after the meeting, before closing)."""
    if not user.has_role(Role.BESTALLARE):
        raise WorkflowError("Bara beställare beslutar hur en iakttagelse hanteras.")
    if dialog.status not in (S.MEETING_BOOKED, S.MEETING_HELD):
        raise WorkflowError("Hanteringen beslutas vid eller efter mötet, innan dialogen avslutas.")
    if dialog_finding.dialog_id != dialog.id:
        raise WorkflowError("Iakttagelsen hör inte till dialogen.")
    note = " ".join((note or "").split()) or None
    before = dialog_finding.disposition and dialog_finding.disposition.value
    dialog_finding.disposition = Disposition(disposition)
    dialog_finding.note = note
    session.flush()
    record(
        session,
        Actor.of(user),
        "follow_up_dialog",
        dialog.id,
        "disposition",
        before={"finding": dialog_finding.finding_id, "disposition": before},
        after={
            "finding": dialog_finding.finding_id,
            "disposition": disposition.value,
            "note": note,
        },
    )
