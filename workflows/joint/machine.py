"""Den gemensamma dialogens flöde (§7.1.2) as a state machine.

planerad (date, place, theme) → agenda skriven (may be rewritten) → agenda utsänd (to each
active unit's verksamhetschef, recorded with when and to whom; at least
:data:`AGENDA_NOTICE_WORKING_DAYS` working days before the meeting, or with a reason why later)
→ mötet genomfört (once the day has come and every invited unit's attendance is recorded) →
protokoll skrivet (may be rewritten) → protokoll godkänt och publicerat (readable by the units)
→ avslutad (when every follow-up from the minutes is handled). Inställd with a reason until
the meeting has been held. Every transition is one audit event (the engine's).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from audit.db import utcnow
from audit.models import Role
from checklists.workdays import working_days_between
from workflows.engine import Trigger, Workflow
from workflows.joint.models import (
    FollowUpState,
    JointDialogAttendance,
    JointDialogRecipient,
    JointDialogState,
    JointFollowUp,
)

S = JointDialogState
PURCHASER = frozenset({Role.BESTALLARE})
# The agenda goes out at least five working days before the meeting. The rulebook says only
# "Agenda sammanställs och sänds ut av beställaren"; five working days always span at least
# a calendar week, the notice kommunallagen gives a fullmäktige meeting (5 kap. 53 § KL,
# "minst en vecka före sammanträdesdagen"), and leave a head of unit time to prepare and to
# arrange cover for the clinic. A later sending is possible with its reason recorded (an
# extra meeting called at short notice), never silently.
AGENDA_NOTICE_WORKING_DAYS = 5
OPEN_BEFORE_MEETING = (S.PLANNED, S.AGENDA_WRITTEN, S.AGENDA_SENT)

STATE_LABELS = {
    S.PLANNED: "Planerad",
    S.AGENDA_WRITTEN: "Agenda skriven",
    S.AGENDA_SENT: "Agenda utsänd",
    S.HELD: "Mötet genomfört",
    S.MINUTES_WRITTEN: "Protokoll skrivet",
    S.MINUTES_PUBLISHED: "Protokoll publicerat",
    S.CLOSED: "Avslutad",
    S.CANCELLED: "Inställd",
}


def today() -> dt.date:
    return utcnow().date()


def _text(data: dict, key: str) -> str:
    return str(data.get(key) or "").strip()


def latest_sending_day(meeting_on: dt.date) -> dt.date:
    """The last day the agenda may go out without a reason: the latest day with at least
    :data:`AGENDA_NOTICE_WORKING_DAYS` working days after it up to the meeting."""
    day = meeting_on - dt.timedelta(days=1)
    while working_days_between(day, meeting_on) < AGENDA_NOTICE_WORKING_DAYS:
        day -= dt.timedelta(days=1)
    return day


# --- guards: None when satisfied, else what is missing (named after the field they check) ----


def agenda(joint, data, session) -> str | None:
    if not _text(data, "agenda"):
        return "Skriv agendan: vad mötet ska ta upp."
    return None


def late_reason(joint, data, session) -> str | None:
    if joint.meeting_on < today():
        return (
            f"Mötesdagen {joint.meeting_on.isoformat()} har passerat; agendan kan inte sändas ut "
            "i förväg. Ställ in mötet eller planera ett nytt."
        )
    if working_days_between(today(), joint.meeting_on) < AGENDA_NOTICE_WORKING_DAYS:
        if not _text(data, "late_reason"):
            return (
                f"Agendan ska sändas ut minst {AGENDA_NOTICE_WORKING_DAYS} arbetsdagar före "
                f"mötet, senast {latest_sending_day(joint.meeting_on).isoformat()}. Ange skälet "
                "till att den sänds ut senare."
            )
    return None


def recipients_exist(joint, data, session) -> str | None:
    from workflows.joint.operations import agenda_recipients

    if not agenda_recipients(session):
        return (
            "Det finns ingen aktiv verksamhetschef vid någon aktiv enhet att sända agendan "
            "till. Lägg upp verksamhetscheferna under Användare först."
        )
    return None


def meeting_day_reached(joint, data, session) -> str | None:
    if joint.meeting_on > today():
        return (
            f"Mötet är planerat till {joint.meeting_on.isoformat()}; det kan registreras som "
            "genomfört från den dagen."
        )
    return None


def attendance_complete(joint, data, session) -> str | None:
    missing = session.scalar(
        sa.select(sa.func.count()).where(
            JointDialogAttendance.joint_dialog_id == joint.id,
            JointDialogAttendance.status.is_(None),
        )
    )
    invited = session.scalar(
        sa.select(sa.func.count()).where(JointDialogAttendance.joint_dialog_id == joint.id)
    )
    if not invited:
        return "Inga enheter är inbjudna: agendan har inte sänts ut till någon."
    if missing:
        return (
            f"Närvaron saknas för {missing} av {invited} inbjudna enheter. Registrera närvaron "
            "för varje enhet (deltog, företrädd eller frånvarande med skäl) först."
        )
    return None


def minutes(joint, data, session) -> str | None:
    if not _text(data, "minutes"):
        return "Skriv protokollet från mötet."
    return None


def every_follow_up_handled(joint, data, session) -> str | None:
    open_count = session.scalar(
        sa.select(sa.func.count()).where(
            JointFollowUp.joint_dialog_id == joint.id,
            JointFollowUp.status == FollowUpState.OPEN,
        )
    )
    if open_count:
        return (
            f"{open_count} uppföljningspunkter är öppna: gör en iakttagelse av var och en eller "
            "markera den som hanterad."
        )
    return None


# --- what each transition stores -------------------------------------------------------------


def _store_agenda(joint, data, session, user):
    joint.agenda = _text(data, "agenda")


def _store_sending(joint, data, session, user):
    """Record the sending: one recipient row per verksamhetschef of each active unit, and one
    attendance row (not yet recorded) per invited unit — both set-based."""
    from workflows.joint.operations import agenda_recipients, invited_units

    now = utcnow()
    joint.agenda_sent_at = now
    joint.agenda_sent_by_id = user.id
    reason = _text(data, "late_reason")
    late = working_days_between(today(), joint.meeting_on) < AGENDA_NOTICE_WORKING_DAYS
    joint.late_reason = reason if late and reason else None
    data.pop("late_reason", None)
    # Rows already there (none, unless the dialog was put back into this state) stay as
    # they are: a unit is invited once, a head of unit sent to once.
    had_units = set(
        session.scalars(
            sa.select(JointDialogAttendance.unit_id).where(
                JointDialogAttendance.joint_dialog_id == joint.id
            )
        )
    )
    had_recipients = {
        tuple(row)
        for row in session.execute(
            sa.select(JointDialogRecipient.unit_id, JointDialogRecipient.user_id).where(
                JointDialogRecipient.joint_dialog_id == joint.id
            )
        )
    }
    recipients = agenda_recipients(session)
    units = invited_units(session)
    new_recipients = [r for r in recipients if r not in had_recipients]
    new_units = [u for u in units if u not in had_units]
    if new_recipients:
        session.execute(
            sa.insert(JointDialogRecipient),
            [
                {"joint_dialog_id": joint.id, "unit_id": u, "user_id": p, "sent_at": now}
                for u, p in new_recipients
            ],
        )
    if new_units:
        session.execute(
            sa.insert(JointDialogAttendance),
            [{"joint_dialog_id": joint.id, "unit_id": unit_id} for unit_id in new_units],
        )
    session.expire(joint, ["recipients", "attendance"])
    _mail_agenda(session, joint, {user_id for _unit, user_id in new_recipients})
    data["recipients"] = [user_id for _unit, user_id in recipients]
    data["units"] = list(units)
    data["sent_on"] = today()
    data["late_reason"] = joint.late_reason


def agenda_email_body(joint, name: str, link: str) -> str:
    """The agenda's e-mail to one head of unit (Swedish, plain text)."""
    return (
        f"Hej {name},\n\n"
        "Beställarenheten kallar till gemensam dialog mellan beställaren och vårdgivarna "
        "(Uppdrag och regler §7.1.2).\n\n"
        f"Datum: {joint.meeting_on.isoformat()}\n"
        f"Plats: {joint.place}\n"
        f"Tema: {joint.theme}\n\n"
        f"Agenda:\n{joint.agenda or ''}\n\n"
        f"Öppna: {link}\n\n"
        "Inbjudan finns som bilaga (gemensam-dialog.ics) att lägga in i din kalender.\n\n"
        "Du får det här brevet som verksamhetschef. Vilka kallelser du får med e-post väljer "
        "du under Mitt konto.\n\n"
        "Hälsoval uppföljning, Region Västerbotten\n"
    )


def _mail_agenda(session, joint, user_ids: set[int]) -> None:
    """Skicka agendan (§7.1.2: "Agenda sammanställs och sänds ut av beställaren"): one e-mail
    per newly invited head of unit, through the outbox in the sending's transaction (a unit
    invited again is not mailed twice: the key names the dialog and the person)."""
    from audit.models import User
    from audit.outbox import Attachment, Email, NotificationKind, base_url, enqueue_emails
    from workflows.calendar import Attendee, joint_dialog_invitation

    if not user_ids:
        return
    link = f"{base_url()}/gemensamma-dialoger/{joint.id}"
    people = session.scalars(sa.select(User).where(User.id.in_(user_ids))).all()
    organizer = session.get(User, joint.agenda_sent_by_id)
    ics = joint_dialog_invitation(
        joint,
        Attendee(organizer.display_name, organizer.email or None),
        [Attendee(p.display_name, p.email or None) for p in people],
        base_url(),
    ).decode()
    invitation = Attachment("gemensam-dialog.ics", ics, "text/calendar", {"method": "REQUEST"})
    enqueue_emails(
        session,
        [
            Email(
                key=f"joint:{joint.id}:agenda:user:{person.id}",
                user=person,
                subject=f"Kallelse: gemensam dialog {joint.meeting_on.isoformat()} – {joint.theme}",
                body=agenda_email_body(joint, person.display_name, link),
                attachments=(invitation,),
                kind=NotificationKind.INVITATION,
            )
            for person in people
        ],
    )


def _store_held(joint, data, session, user):
    counts = dict(
        session.execute(
            sa.select(JointDialogAttendance.status, sa.func.count())
            .where(JointDialogAttendance.joint_dialog_id == joint.id)
            .group_by(JointDialogAttendance.status)
        ).all()
    )
    data["attendance"] = {str(status): n for status, n in counts.items()}


def _store_minutes(joint, data, session, user):
    joint.minutes = _text(data, "minutes")


def _store_published(joint, data, session, user):
    joint.minutes_published_at = utcnow()
    joint.minutes_published_by_id = user.id


def _store_cancel(joint, data, session, user):
    joint.cancel_reason = data.get("reason")


JOINT_DIALOG = Workflow(
    name="Gemensam dialog (§7.1.2)",
    entity_type="joint_dialog",
    states=JointDialogState,
    initial=S.PLANNED,
    state_labels=STATE_LABELS,
    guards={
        "agenda": agenda,
        "late_reason": late_reason,
        "recipients_exist": recipients_exist,
        "meeting_day_reached": meeting_day_reached,
        "attendance_complete": attendance_complete,
        "minutes": minutes,
        "every_follow_up_handled": every_follow_up_handled,
    },
    triggers=[
        Trigger(
            "write_agenda",
            "Spara agendan",
            (S.PLANNED, S.AGENDA_WRITTEN),
            S.AGENDA_WRITTEN,
            PURCHASER,
            guards=("agenda",),
            apply=_store_agenda,
        ),
        Trigger(
            "send_agenda",
            "Sänd ut agendan",
            (S.AGENDA_WRITTEN,),
            S.AGENDA_SENT,
            PURCHASER,
            guards=("late_reason", "recipients_exist"),
            apply=_store_sending,
        ),
        Trigger(
            "hold_meeting",
            "Registrera att mötet har hållits",
            (S.AGENDA_SENT,),
            S.HELD,
            PURCHASER,
            guards=("meeting_day_reached", "attendance_complete"),
            apply=_store_held,
        ),
        Trigger(
            "write_minutes",
            "Spara protokollet",
            (S.HELD, S.MINUTES_WRITTEN),
            S.MINUTES_WRITTEN,
            PURCHASER,
            guards=("minutes",),
            apply=_store_minutes,
        ),
        Trigger(
            "publish_minutes",
            "Godkänn och publicera protokollet",
            (S.MINUTES_WRITTEN,),
            S.MINUTES_PUBLISHED,
            PURCHASER,
            apply=_store_published,
        ),
        Trigger(
            "close",
            "Avsluta den gemensamma dialogen",
            (S.MINUTES_PUBLISHED,),
            S.CLOSED,
            PURCHASER,
            guards=("every_follow_up_handled",),
        ),
        Trigger(
            "cancel",
            "Ställ in mötet",
            OPEN_BEFORE_MEETING,
            S.CANCELLED,
            PURCHASER,
            needs_reason=True,
            apply=_store_cancel,
        ),
    ],
)
