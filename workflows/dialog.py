"""Enskild uppföljningsdialog (§7.1.1) as a state machine.

planned → material requested (what, by when) → material submitted by the health centre →
under review (may be returned for completion) → meeting booked (date, place, participants; the
verksamhetschef and the medicinskt ansvarig must be among them, §7) → meeting held (minutes) →
closed (only when every finding discussed has a disposition). Cancelled with a reason from any
open state.

The findings a dialog discusses are every finding of its unit not yet handled in another
(uncancelled) dialog, whenever its checklist was accepted — also after the dialog was planned
(:func:`dialog_findings`). A disposition starts what it names (:data:`OPENERS`): "åtgärdsplan
begärs" requests an action plan, "sanktionsärende" opens a sanction case and "fördjupning" a
särskild fördjupning (workflows.reviews), each pre-filled with the finding and linked both
ways; a disposition whose plan, case or open review still stands cannot be changed until that
is withdrawn or cancelled (with its reason) — so nothing opened
from a dialog is ever silently orphaned. Dialog material is uploaded to the dialog (checked and
personnummer-guarded like checklist evidence) and the dialog can point at a round's checklist.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Callable
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from audit.db import utcnow
from audit.models import Role, Unit, User
from audit.outbox import Attachment, NotificationKind, enqueue_email, user_by_email, valid_email
from audit.trail import Actor, record
from checklists.evidence import EvidenceError, accept_upload
from checklists.rounds import Checklist, Finding
from checklists.workdays import add_working_days
from workflows.calendar import Attendee, dialog_invitation
from workflows.engine import Trigger, Workflow, WorkflowError
from workflows.models import (
    DialogFinding,
    DialogMaterialFile,
    DialogParticipant,
    DialogState,
    Disposition,
    FollowUpDialog,
    PlanState,
    SanctionState,
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
    own = sa.select(DialogFinding.finding_id).where(
        DialogFinding.dialog_id == dialog.id, DialogFinding.disposition.is_(None)
    )
    undecided = session.scalar(
        sa.select(sa.func.count())
        .select_from(Finding)
        .where(sa.or_(Finding.id.in_(own), Finding.id.in_(_pending(dialog.unit_id))))
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
    data["files"] = [f.id for f in dialog.files if f.removed_at is None]


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
    finding_ids = session.scalars(_pending(unit.id).order_by(Finding.id)).all()
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


def _handled():
    """The findings some uncancelled dialog already discusses, and those whose disposition
    opened a plan or case in any dialog (a cancelled dialog's plan still stands: the finding
    is not offered again as if nothing had been decided)."""
    return (
        sa.select(DialogFinding.finding_id)
        .join(FollowUpDialog, FollowUpDialog.id == DialogFinding.dialog_id)
        .where(
            sa.or_(
                FollowUpDialog.status != S.CANCELLED,
                DialogFinding.action_plan_id.is_not(None),
                DialogFinding.sanction_case_id.is_not(None),
            )
        )
    )


def _pending(unit_id: int):
    """The unit's findings no uncancelled dialog discusses yet (a select of their ids)."""
    return sa.select(Finding.id).where(Finding.unit_id == unit_id, Finding.id.not_in(_handled()))


@dataclasses.dataclass(frozen=True)
class DiscussedFinding:
    """A finding on the dialog's list: its row in this dialog (with the disposition and what
    it opened), or ``None`` while it is only pending (accepted after the dialog was planned)."""

    finding: Finding
    entry: DialogFinding | None


def dialog_findings(session: Session, dialog: FollowUpDialog) -> list[DiscussedFinding]:
    """Every finding the dialog discusses: its own, and — while it is open — every finding of
    its unit not yet handled in another dialog, whenever its checklist was accepted. Two
    queries, whatever the number of findings."""
    entries = session.scalars(
        sa.select(DialogFinding)
        .where(DialogFinding.dialog_id == dialog.id)
        .options(
            selectinload(DialogFinding.finding).selectinload(Finding.requirement),
            selectinload(DialogFinding.action_plan),
            selectinload(DialogFinding.sanction_case),
        )
        .order_by(DialogFinding.finding_id)
    ).all()
    found = [DiscussedFinding(e.finding, e) for e in entries]
    if dialog.status in OPEN_STATES:
        pending = session.scalars(
            sa.select(Finding)
            .where(Finding.id.in_(_pending(dialog.unit_id)))
            .options(selectinload(Finding.requirement))
            .order_by(Finding.id)
        ).all()
        found += [DiscussedFinding(f, None) for f in pending]
    return sorted(found, key=lambda d: d.finding.id)


# --- dispositions that start what they name ------------------------------------------------


Open = Callable[[Session, User, FollowUpDialog, DialogFinding, dict], dict]


@dataclasses.dataclass(frozen=True)
class Opener:
    """What a disposition starts. ``open`` creates it pre-filled from the finding, links it
    to the dialog row and returns what the trail records of it; ``standing`` names what it
    opened for a row that still stands (not withdrawn), or None — while something stands, the
    disposition cannot be changed."""

    open: Open
    standing: Callable[[DialogFinding], str | None]


def _finding_heading(finding: Finding) -> str:
    requirement = finding.requirement
    return f"§{requirement.section} {requirement.question}"


SEVERITY_WORDS = {
    "patient_safety": "rör patientsäkerheten (snabbspår, §7.1.3)",
    "high": "hög",
    "normal": "normal",
}


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _requirements(finding: Finding) -> str:
    """The finding as the plan's requirements or the case's grounds: the requirement with the
    rulebook's own words, what was found, and how serious it is."""
    requirement = finding.requirement
    return (
        f"Krav {requirement.code} (§{requirement.section}): {requirement.source_text} "
        f"Iakttagelse: {finding.statement or requirement.question} "
        f"Allvarlighetsgrad: {SEVERITY_WORDS[finding.severity.value]}."
    )


def _open_action_plan(session, user, dialog, entry, data) -> dict:
    """Åtgärdsplan begärs (§7.1.3): a plan for the finding's requirement, due within the
    fast route's or the standard working days (workflows.fast_route)."""
    from workflows import action_plan as ap
    from workflows.fast_route import deadlines_for

    finding = entry.finding
    deadlines = deadlines_for([finding])
    plan_due = add_working_days(ap.today(), deadlines.plan_days)
    plan = ap.request_action_plan(
        session,
        user,
        dialog.unit,
        title=_truncate(f"Åtgärdsplan: {_finding_heading(finding)}", 200),
        requirements=_requirements(finding),
        plan_due=plan_due,
        measures_due=add_working_days(plan_due, deadlines.measures_days),
        finding_ids=[finding.id],
        dialog_id=dialog.id,
    )
    entry.action_plan = plan
    return {"action_plan": plan.id, "plan_due": plan.plan_due, "measures_due": plan.measures_due}


def _open_sanction_case(session, user, dialog, entry, data) -> dict:
    """Sanktionsärende: a case on the finding, under the diarienummer given with the
    disposition (registered from the start, like every case)."""
    from workflows import sanction as sc

    finding = entry.finding
    case = sc.open_case(
        session,
        user,
        dialog.unit,
        title=_truncate(f"Sanktionsärende: {_finding_heading(finding)}", 200),
        grounds=(f"Iakttagelse i uppföljningsdialogen ”{dialog.title}”: {_requirements(finding)}"),
        diarienummer=data.get("diarienummer", ""),
        finding_ids=[finding.id],
    )
    case.dialog = dialog
    entry.sanction_case = case
    session.flush()
    return {"sanction_case": case.id, "case_number": case.case_number}


def _plan_standing(entry: DialogFinding) -> str | None:
    plan = entry.action_plan
    if plan is None or plan.status == PlanState.WITHDRAWN:
        return None
    return f"åtgärdsplanen ”{plan.title}”; återkalla planen (med skäl) först"


def _case_standing(entry: DialogFinding) -> str | None:
    case = entry.sanction_case
    if case is None or case.status == SanctionState.WITHDRAWN:
        return None
    return f"sanktionsärende {case.case_number or case.id}; återkalla ärendet (med skäl) först"


def _open_review(session, user, dialog, entry, data) -> dict:
    """Fördjupning: a särskild fördjupning (§7.1.3) resting on the finding, its concern the
    disposition's note (an open review already resting on it is reused)."""
    from workflows.reviews.operations import open_review_from_finding

    review = open_review_from_finding(
        session, entry.finding, user, dialog_id=dialog.id, note=entry.note
    )
    return {"in_depth_review": review.id}


def _review_standing(entry: DialogFinding) -> str | None:
    from workflows.reviews.operations import open_review_on_finding

    review = open_review_on_finding(sa.orm.object_session(entry), entry.finding_id)
    if review is None:
        return None
    return f"den särskilda fördjupningen ”{review.title}”; avbryt den (med skäl) först"


# Disposition -> what it starts; "ingen åtgärd" and "påpekande" are recorded as dispositions only.
OPENERS: dict[Disposition, Opener] = {
    Disposition.ACTION_PLAN: Opener(_open_action_plan, _plan_standing),
    Disposition.SANCTION_CASE: Opener(_open_sanction_case, _case_standing),
    Disposition.IN_DEPTH_REVIEW: Opener(_open_review, _review_standing),
}


def set_disposition(
    session: Session,
    user: User,
    dialog: FollowUpDialog,
    finding: Finding | DialogFinding,
    disposition: Disposition,
    note: str | None = None,
    data: dict | None = None,
) -> DialogFinding:
    """Besluta hantering av en iakttagelse (at or after the meeting, before closing): the
    disposition, and what it names opened (:data:`OPENERS`) in the same transaction; one
    audit event on the dialog naming what was opened. ``data`` carries what an opener needs
    beyond the finding (a sanction case's ``diarienummer``)."""
    if not user.has_role(Role.BESTALLARE):
        raise WorkflowError("Bara beställare beslutar hur en iakttagelse hanteras.")
    if dialog.status not in (S.MEETING_BOOKED, S.MEETING_HELD):
        raise WorkflowError("Hanteringen beslutas vid eller efter mötet, innan dialogen avslutas.")
    if isinstance(finding, DialogFinding):
        finding = finding.finding
    entry = session.scalar(
        sa.select(DialogFinding).where(
            DialogFinding.dialog_id == dialog.id, DialogFinding.finding_id == finding.id
        )
    )
    if entry is None:
        pending = session.scalar(
            sa.select(sa.func.count()).where(
                Finding.id == finding.id, Finding.id.in_(_pending(dialog.unit_id))
            )
        )
        if not pending:
            raise WorkflowError("Iakttagelsen hör inte till dialogen.")
    disposition = Disposition(disposition)
    note = " ".join((note or "").split()) or None
    before = entry.disposition.value if entry is not None and entry.disposition else None
    if entry is not None and disposition.value != before:
        for opener in OPENERS.values():
            standing = opener.standing(entry)
            if standing:
                raise WorkflowError(
                    f"Hanteringen kan inte ändras: iakttagelsen har redan lett till {standing}.",
                    guard="disposition",
                )
    with session.begin_nested():
        if entry is None:
            entry = DialogFinding(dialog_id=dialog.id, finding_id=finding.id)
            session.add(entry)
            session.flush()
        entry.disposition = disposition
        entry.note = note
        opened = {}
        opener = OPENERS.get(disposition)
        if opener is not None and not opener.standing(entry):
            opened = opener.open(session, user, dialog, entry, dict(data or {}))
        session.flush()
        record(
            session,
            Actor.of(user),
            "follow_up_dialog",
            dialog.id,
            "disposition",
            before={"finding": finding.id, "disposition": before},
            after={
                "finding": finding.id,
                "disposition": disposition.value,
                "note": note,
                **({"opened": opened} if opened else {}),
            },
        )
    return entry


# --- dialog material -------------------------------------------------------------------------


def _material_problem(user: User, dialog: FollowUpDialog) -> str | None:
    """Who adds and removes material when: the unit's verksamhetschef and staff while material
    is requested; Beställarenheten (beställare, granskare) while the dialog is open."""
    unit_staff = any(
        a.role in (Role.VERKSAMHETSCHEF, Role.PERSONAL) and a.unit_id == dialog.unit_id
        for a in user.roles
    )
    if unit_staff and dialog.status == S.MATERIAL_REQUESTED:
        return None
    if user.has_role(Role.BESTALLARE, Role.GRANSKARE) and dialog.status in OPEN_STATES:
        return None
    if unit_staff:
        return "Underlag lämnas när Beställarenheten har begärt det och innan det är inlämnat."
    return "Underlag kan inte läggas till eller tas bort i dialogens nuvarande läge."


def can_handle_material(user: User, dialog: FollowUpDialog) -> bool:
    return _material_problem(user, dialog) is None


def add_material(
    session: Session, user: User, dialog: FollowUpDialog, checked, data: bytes, store
) -> DialogMaterialFile:
    """Ladda upp underlag till dialogen: a checked upload
    (:func:`checklists.evidence.check_upload`) stored through
    :func:`checklists.evidence.accept_upload` — refused with a personnummer anywhere in it."""
    problem = _material_problem(user, dialog)
    if problem:
        raise WorkflowError(problem)
    try:
        stored = accept_upload(session, store, checked, data)
    except EvidenceError as exc:
        raise WorkflowError(str(exc), guard="file") from None
    row = DialogMaterialFile(dialog=dialog, **stored, uploaded_by_id=user.id)
    session.add(row)
    session.flush()
    record(
        session,
        Actor.of(user),
        "follow_up_dialog",
        dialog.id,
        "add_material",
        after={"file_id": row.id, "filename": row.filename, "sha256": row.sha256, "size": row.size},
    )
    return row


def remove_material(session: Session, user: User, row: DialogMaterialFile) -> None:
    """Ta bort underlag (the row stays, marked removed; the trail keeps its hash)."""
    problem = _material_problem(user, row.dialog)
    if problem:
        raise WorkflowError(problem)
    if row.removed_at is not None:
        return
    row.removed_at = utcnow()
    session.flush()
    record(
        session,
        Actor.of(user),
        "follow_up_dialog",
        row.dialog_id,
        "remove_material",
        before={"file_id": row.id, "filename": row.filename},
    )


def link_checklist(
    session: Session, user: User, dialog: FollowUpDialog, checklist: Checklist | None
) -> None:
    """Koppla dialogen till en omgångs checklista för enheten (its round): the material the
    dialog reviews; None removes the link."""
    if not user.has_role(Role.BESTALLARE, Role.GRANSKARE):
        raise WorkflowError("Bara Beställarenheten kopplar dialogen till en checklista.")
    if dialog.status not in OPEN_STATES:
        raise WorkflowError("Dialogen är inte öppen.")
    if checklist is not None and checklist.unit_id != dialog.unit_id:
        raise WorkflowError("Checklistan hör inte till dialogens enhet.", guard="checklist")
    round_id = checklist.round_id if checklist is not None else None
    if round_id == dialog.round_id:
        return
    before = dialog.round_id
    dialog.round_id = round_id
    session.flush()
    record(
        session,
        Actor.of(user),
        "follow_up_dialog",
        dialog.id,
        "link_checklist",
        before={"round": before},
        after={"round": round_id, "checklist": checklist.id if checklist is not None else None},
    )


def linked_checklist(session: Session, dialog: FollowUpDialog) -> Checklist | None:
    """The checklist of the dialog's round for its unit, if it points at one."""
    if dialog.round_id is None:
        return None
    return session.scalar(
        sa.select(Checklist).where(
            Checklist.round_id == dialog.round_id, Checklist.unit_id == dialog.unit_id
        )
    )
