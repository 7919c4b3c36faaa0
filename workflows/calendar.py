"""Kalender: a personal iCal feed (RFC 5545) per user, and meeting invitations (.ics).

:func:`calendar_items` collects the dated things a user may see from a list of *sources*
(:data:`SOURCES`), each a function ``(session, user) -> Iterable[CalendarItem]``: today the
open workflow deadlines (:func:`workflows.deadlines.open_deadlines`, which include ärenden and
each unit's checklist deadline), the booked follow-up meetings, and the rounds' last days.
Another part of the system adds its own by appending a function to :data:`SOURCES` (the
årshjul's duties, the joint dialog's meetings). Whatever a source yields is filtered by the
user's unit scope (:mod:`audit.access`) in one place, so a source cannot leak another unit.

The feed sits behind a secret URL (``/kalender/<token>.ics``): the token is random, shown
once, stored only as its SHA-256 (:class:`audit.models.CalendarToken`), rotated or revoked on
the user's account page; a revoked token answers 404.

:func:`meeting_invitation` builds a ``METHOD:REQUEST`` (or ``CANCEL``) calendar with a stable
``UID`` and a ``SEQUENCE`` -- the generic builder for any meeting (the follow-up dialog's here,
the joint dialog's later); :func:`dialog_invitation` is the follow-up dialog's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Iterable, Sequence

import icalendar
import sqlalchemy as sa
from sqlalchemy.orm import Session

from audit.access import visible_unit_ids
from audit.db import utcnow
from audit.models import CalendarToken, Role, Unit, User
from audit.trail import Actor, record

PRODID = "-//Region Västerbotten//Hälsoval uppföljning//SV"
UID_DOMAIN = "halsoval-uppfoljning"
MEETING_LENGTH = dt.timedelta(hours=2)  # a follow-up meeting's default length (§7.1.1)
# Who has a calendar of follow-up work: the roles that see the workflows' pages.
CALENDAR_ROLES = frozenset({Role.BESTALLARE, Role.GRANSKARE, Role.VERKSAMHETSCHEF, Role.PERSONAL})


@dataclasses.dataclass(frozen=True)
class CalendarItem:
    """Kalenderpost: one dated thing -- a whole day (``start`` a date) or a meeting (``start``
    and ``end`` aware datetimes). ``unit_id`` None: region-wide (shown to region roles only).
    ``uid`` is stable for the thing, so a calendar updates the event instead of adding one."""

    uid: str
    summary: str
    start: dt.date | dt.datetime
    end: dt.date | dt.datetime | None = None
    unit_id: int | None = None
    description: str = ""
    path: str | None = None  # the page, relative to the app's address
    location: str | None = None


Source = Callable[[Session, User], Iterable[CalendarItem]]


def _deadline_items(session: Session, user: User) -> Iterable[CalendarItem]:
    from workflows.deadlines import open_deadlines
    from workflows.notifications import PATHS

    for deadline in open_deadlines(session):
        path = PATHS.get(deadline.entity_type)
        summary = deadline.texts[0] if deadline.texts else f"Sista dag: {deadline.what}"
        yield CalendarItem(
            uid=f"deadline-{deadline.entity_type}-{deadline.entity_id}-{deadline.due_on}",
            summary=summary,
            start=deadline.due_on,
            unit_id=deadline.unit_id,
            path=path.format(id=deadline.entity_id) if path else None,
        )


def _dialog_meetings(session: Session, user: User) -> Iterable[CalendarItem]:
    from workflows.models import DialogState, FollowUpDialog

    rows = session.execute(
        sa.select(
            FollowUpDialog.id,
            FollowUpDialog.unit_id,
            FollowUpDialog.title,
            FollowUpDialog.meeting_at,
            FollowUpDialog.meeting_place,
            Unit.name,
        )
        .join(Unit, Unit.id == FollowUpDialog.unit_id)
        .where(
            FollowUpDialog.status == DialogState.MEETING_BOOKED,
            FollowUpDialog.meeting_at.is_not(None),
        )
    )
    for dialog_id, unit_id, title, meeting_at, place, unit_name in rows:
        yield CalendarItem(
            uid=dialog_meeting_uid(dialog_id),
            summary=f"Uppföljningsmöte: {title} – {unit_name}",
            start=meeting_at,
            end=meeting_at + MEETING_LENGTH,
            unit_id=unit_id,
            location=place,
            path=f"/dialoger/{dialog_id}",
        )


def _round_deadlines(session: Session, user: User) -> Iterable[CalendarItem]:
    """Each open round's last day, for the region (units see their checklist's own date)."""
    from checklists.rounds import Round

    rows = session.execute(
        sa.select(Round.id, Round.title, Round.deadline).where(Round.closed_at.is_(None))
    )
    for round_id, title, deadline in rows:
        yield CalendarItem(
            uid=f"round-{round_id}-deadline",
            summary=f"Sista svarsdag i omgången ”{title}”",
            start=deadline,
            path=f"/omgangar/{round_id}",
        )


def _year_duties(session: Session, user: User) -> Iterable[CalendarItem]:
    """Årshjulets uppgifter (workflows.yearwheel) of this year and the next not yet done: the
    catalog's dated duties, the recurring reports and the purchaser's own duties (the
    workflows' open deadlines come from :func:`_deadline_items`)."""
    from workflows.yearwheel import DutyStatus, year_duties

    scope = visible_unit_ids(user)
    units = None if scope is None else session.scalars(sa.select(Unit).where(Unit.id.in_(scope)))
    units = None if units is None else list(units)
    this_year = dt.date.today().year
    for year in (this_year, this_year + 1):
        for duty in year_duties(session, year, units=units):
            if duty.kind == "workflow" or duty.status == DutyStatus.DONE:
                continue
            where = f"enhet/{duty.unit_code}" if duty.unit_code else ""
            yield CalendarItem(
                uid=f"duty-{duty.key}",
                summary=f"{duty.title} (§{duty.section})" if duty.section else duty.title,
                start=duty.due_on,
                unit_id=duty.unit_id,
                description=duty.note or "",
                path=f"/arshjul/{where}",
            )


def _joint_dialogs(session: Session, user: User) -> Iterable[CalendarItem]:
    """Gemensamma dialoger (§7.1.2) not cancelled: for the region always, for a unit once its
    head was sent the agenda (one item per invited unit; the same UID, so shown once)."""
    from workflows.joint.models import JointDialog, JointDialogRecipient, JointDialogState

    dialogs = session.execute(
        sa.select(
            JointDialog.id, JointDialog.meeting_on, JointDialog.theme, JointDialog.place
        ).where(JointDialog.status != JointDialogState.CANCELLED)
    ).all()
    invited = dict.fromkeys((d.id for d in dialogs), ())
    for joint_id, unit_id in session.execute(
        sa.select(JointDialogRecipient.joint_dialog_id, JointDialogRecipient.unit_id).distinct()
    ):
        invited[joint_id] = (*invited.get(joint_id, ()), unit_id)
    for joint_id, meeting_on, theme, place in dialogs:
        for unit_id in (None, *invited.get(joint_id, ())):
            yield CalendarItem(
                uid=f"joint-dialog-{joint_id}",
                summary=f"Gemensam dialog: {theme}",
                start=meeting_on,
                unit_id=unit_id,
                location=place,
                path=f"/gemensamma-dialoger/{joint_id}",
            )


# The sources of a user's calendar, in order. Append to add one (see the module docstring).
SOURCES: list[Source] = [
    _deadline_items,
    _dialog_meetings,
    _round_deadlines,
    _year_duties,
    _joint_dialogs,
]


def calendar_items(session: Session, user: User) -> list[CalendarItem]:
    """Kalenderposter: what ``user`` may see from every source, in date order.

    Only the roles that see the workflows (beställare, granskare, verksamhetschef, personal)
    have any; unit roles only their units' (and filialer's), never a region-wide item.
    """
    if not user.active or not (user.role_set & CALENDAR_ROLES):
        return []
    scope = visible_unit_ids(user)
    visible = None if scope is None else set(session.scalars(scope))
    items: dict[str, CalendarItem] = {}
    for source in SOURCES:
        for item in source(session, user):
            if visible is None or (item.unit_id is not None and item.unit_id in visible):
                items.setdefault(item.uid, item)  # one event per UID (a joint dialog per unit)
    return sorted(items.values(), key=lambda i: (_sort_key(i.start), i.uid))


def _sort_key(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return dt.datetime.combine(value, dt.time())


def _uid(local: str) -> str:
    return f"{local}@{UID_DOMAIN}"


def _event(item: CalendarItem, base_url: str, stamp: dt.datetime) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", _uid(item.uid))
    event.add("dtstamp", stamp)
    event.add("summary", item.summary)
    if isinstance(item.start, dt.datetime):
        event.add("dtstart", item.start.astimezone(dt.UTC))
        event.add("dtend", (item.end or item.start + MEETING_LENGTH).astimezone(dt.UTC))
    else:
        event.add("dtstart", item.start)
        event.add("dtend", item.end or item.start + dt.timedelta(days=1))
        event.add("transp", "TRANSPARENT")  # a deadline does not make anyone busy
    description = item.description
    if item.path:
        event.add("url", base_url + item.path)
        description = f"{description}\n\n{base_url}{item.path}".strip()
    if description:
        event.add("description", description)
    if item.location:
        event.add("location", item.location)
    return event


def feed(items: Sequence[CalendarItem], user: User, base_url: str) -> bytes:
    """The personal feed as an iCalendar file (RFC 5545)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"Hälsoval uppföljning – {user.display_name}")
    calendar.add("x-wr-timezone", "Europe/Stockholm")
    stamp = utcnow()
    for item in items:
        calendar.add_component(_event(item, base_url, stamp))
    return calendar.to_ical()


# --- meeting invitations ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Attendee:
    """Deltagare: a name and, where known, an e-mail address."""

    name: str
    email: str | None = None
    role_title: str = ""


def meeting_invitation(
    *,
    uid: str,
    sequence: int,
    summary: str,
    start: dt.datetime | dt.date,
    end: dt.datetime | dt.date,
    organizer: Attendee,
    attendees: Sequence[Attendee],
    location: str | None = None,
    description: str = "",
    url: str | None = None,
    method: str = "REQUEST",
) -> bytes:
    """Mötesinbjudan: an iCalendar ``METHOD:REQUEST`` (or ``CANCEL``) for one meeting; with
    dates instead of datetimes, an all-day event (the joint dialog has a day, not a time).

    ``uid`` is stable for the meeting and ``sequence`` grows with every change to it (RFC 5546
    §2.1.4), so a calendar that has it updates it. Attendees without an address are named in
    the description (an ATTENDEE needs an address).
    """
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    event = icalendar.Event()
    event.add("uid", _uid(uid))
    event.add("sequence", sequence)
    event.add("dtstamp", utcnow())
    if isinstance(start, dt.datetime):
        event.add("dtstart", start.astimezone(dt.UTC))
        event.add("dtend", end.astimezone(dt.UTC))
    else:  # a meeting with a date and no time yet: an all-day event (DTEND is exclusive)
        event.add("dtstart", start)
        event.add("dtend", end)
    event.add("summary", summary)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    if location:
        event.add("location", location)
    if url:
        event.add("url", url)
    unnamed = [a for a in attendees if not a.email]
    if unnamed:
        listed = "\n".join(
            f"- {a.name}{f' ({a.role_title})' if a.role_title else ''}" for a in unnamed
        )
        description = f"{description}\n\nDeltagare:\n{listed}".strip()
    if description:
        event.add("description", description)
    if organizer.email:
        address = icalendar.vCalAddress(f"mailto:{organizer.email}")
        address.params["cn"] = icalendar.vText(organizer.name)
        event.add("organizer", address)
    for attendee in attendees:
        if not attendee.email:
            continue
        address = icalendar.vCalAddress(f"mailto:{attendee.email}")
        address.params["cn"] = icalendar.vText(attendee.name)
        address.params["role"] = icalendar.vText("REQ-PARTICIPANT")
        address.params["partstat"] = icalendar.vText("NEEDS-ACTION")
        address.params["rsvp"] = icalendar.vText("TRUE")
        event.add("attendee", address, encode=0)
    calendar.add_component(event)
    return calendar.to_ical()


def joint_dialog_invitation(joint, organizer: Attendee, attendees, base_url: str) -> bytes:
    """Inbjudan till den gemensamma dialogen (§7.1.2): an all-day event on its day, the
    invited heads of unit as attendees; its UID is the feed's, so a calendar holds one."""
    return meeting_invitation(
        uid=f"joint-dialog-{joint.id}",
        sequence=0,
        summary=f"Gemensam dialog: {joint.theme}",
        start=joint.meeting_on,
        end=joint.meeting_on + dt.timedelta(days=1),
        organizer=organizer,
        attendees=attendees,
        location=joint.place,
        description="Gemensam dialog mellan beställaren och vårdgivarna enligt Uppdrag och "
        "regler §7.1.2.",
        url=f"{base_url}/gemensamma-dialoger/{joint.id}",
    )


def dialog_meeting_uid(dialog_id: int) -> str:
    return f"follow-up-dialog-{dialog_id}-meeting"


def dialog_invitation(dialog, organizer: Attendee, base_url: str, *, cancel: bool = False) -> bytes:
    """Inbjudan till uppföljningsmötet (§7.1.1) of a dialog with a booked meeting: its
    participants as attendees; sequence 0 when booked, 1 when cancelled."""
    return meeting_invitation(
        uid=dialog_meeting_uid(dialog.id),
        sequence=1 if cancel else 0,
        summary=f"Uppföljningsmöte: {dialog.title} – {dialog.unit.name}",
        start=dialog.meeting_at,
        end=dialog.meeting_at + MEETING_LENGTH,
        organizer=organizer,
        attendees=[Attendee(p.name, p.email or None, p.role_title) for p in dialog.participants],
        location=dialog.meeting_place,
        description="Enskild uppföljningsdialog enligt Uppdrag och regler §7.1.1. Minst "
        "verksamhetschef och medicinskt ansvarig deltar från hälsocentralen.",
        url=f"{base_url}/dialoger/{dialog.id}",
        method="CANCEL" if cancel else "REQUEST",
    )


# --- the feed's secret -----------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def active_token(session: Session, user: User) -> CalendarToken | None:
    """The user's token that is not revoked, if any (never the secret itself)."""
    return session.scalar(
        sa.select(CalendarToken).where(
            CalendarToken.user_id == user.id, CalendarToken.revoked_at.is_(None)
        )
    )


def create_token(session: Session, user: User) -> str:
    """Skapa (eller byt) kalenderlänk: revoke the present token, store a new one's hash,
    return the secret -- shown once. In the trail (without the secret)."""
    now = utcnow()
    old = active_token(session, user)
    if old is not None:
        old.revoked_at = now
    token = secrets.token_urlsafe(32)
    row = CalendarToken(user_id=user.id, token_hash=_hash(token), created_at=now)
    session.add(row)
    session.flush()
    record(
        session,
        Actor.of(user),
        "user",
        user.id,
        "calendar_token_rotated" if old else "calendar_token_created",
        after={"token": row.id},
    )
    return token


def revoke_token(session: Session, user: User) -> bool:
    """Återkalla kalenderlänken: its URL answers 404 from now on. False if there was none."""
    old = active_token(session, user)
    if old is None:
        return False
    old.revoked_at = utcnow()
    session.flush()
    record(
        session, Actor.of(user), "user", user.id, "calendar_token_revoked", after={"token": old.id}
    )
    return True


def user_for_token(session: Session, token: str) -> User | None:
    """The active user whose token this is, or None (unknown, revoked, inactive account)."""
    if not token or len(token) > 100:
        return None
    row = session.scalar(
        sa.select(CalendarToken).where(
            CalendarToken.token_hash == _hash(token), CalendarToken.revoked_at.is_(None)
        )
    )
    if row is None or not row.user.active:
        return None
    return row.user
