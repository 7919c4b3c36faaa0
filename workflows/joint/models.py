"""Rows of the gemensam dialog (§7.1.2).

"Minst två gånger per år träffas verksamhetsföreträdare tillsammans med företrädare för Region
Västerbottens beställare. [...] Agenda sammanställs och sänds ut av beställaren." One row per
meeting; the agenda's recipients, each invited unit's attendance and the follow-ups from the
minutes are rows of their own, so that the annual analysis (§7.1.4) counts them in SQL.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audit.db import Base, UTCDateTime, utcnow
from audit.models import Unit, User, enum_column
from audit.personal_data import personal_text
from checklists.rounds import Finding


class JointDialogState(enum.StrEnum):
    """Den gemensamma dialogens läge (§7.1.2)."""

    PLANNED = "planned"  # planerad: datum, plats och tema
    AGENDA_WRITTEN = "agenda_written"  # agendan skriven, inte utsänd
    AGENDA_SENT = "agenda_sent"  # agendan utsänd till verksamhetsföreträdarna
    HELD = "held"  # mötet genomfört, närvaron registrerad
    MINUTES_WRITTEN = "minutes_written"  # protokollet skrivet, inte godkänt
    MINUTES_PUBLISHED = "minutes_published"  # protokollet godkänt och publicerat
    CLOSED = "closed"  # avslutad: varje uppföljningspunkt hanterad
    CANCELLED = "cancelled"  # inställd, med skäl


class Attendance(enum.StrEnum):
    """Närvaro för en inbjuden enhet."""

    ATTENDED = "attended"  # deltog (verksamhetschefen själv)
    REPRESENTED = "represented"  # företrädd av någon annan (namn och roll)
    ABSENT = "absent"  # deltog inte (skäl)


class FollowUpState(enum.StrEnum):
    """Uppföljningspunktens läge."""

    OPEN = "open"  # öppen
    FINDING = "finding"  # blev en iakttagelse för en enhet
    DONE = "done"  # hanterad utan iakttagelse


class JointDialog(Base):
    """Gemensam dialog (§7.1.2): a meeting of the purchaser with every provider's
    representatives — planned for a date, place and theme; agenda sent in advance; attendance
    per unit; minutes approved and published; follow-ups that can become findings."""

    __tablename__ = "joint_dialogs"

    id: Mapped[int] = mapped_column(primary_key=True)
    theme: Mapped[str] = mapped_column(sa.String(300), info=personal_text("Tema"))
    meeting_on: Mapped[dt.date] = mapped_column(index=True)
    place: Mapped[str] = mapped_column(sa.String(300), info=personal_text("Plats eller länk"))
    status: Mapped[JointDialogState] = mapped_column(
        enum_column(JointDialogState, "joint_dialog_state"), default=JointDialogState.PLANNED
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    agenda: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Agenda"))
    agenda_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    agenda_sent_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    late_reason: Mapped[str | None] = mapped_column(
        sa.Text, info=personal_text("Skäl till sen utsändning")
    )
    minutes: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Protokoll"))
    minutes_published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    minutes_published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    cancel_reason: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Skäl"))

    recipients: Mapped[list[JointDialogRecipient]] = relationship(
        back_populates="dialog", cascade="all, delete-orphan", order_by="JointDialogRecipient.id"
    )
    attendance: Mapped[list[JointDialogAttendance]] = relationship(
        back_populates="dialog", cascade="all, delete-orphan", order_by="JointDialogAttendance.id"
    )
    follow_ups: Mapped[list[JointFollowUp]] = relationship(
        back_populates="dialog", cascade="all, delete-orphan", order_by="JointFollowUp.id"
    )

    # The engine asks a row for its unit (unit roles act only on their own unit's rows); a
    # joint dialog belongs to no unit, so no unit role may fire its triggers.
    unit_id = None


class JointDialogRecipient(Base):
    """Mottagare av agendan: one verksamhetschef of one invited unit, when it was sent."""

    __tablename__ = "joint_dialog_recipients"
    __table_args__ = (
        sa.UniqueConstraint(
            "joint_dialog_id", "unit_id", "user_id", name="uq_joint_dialog_recipients"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    joint_dialog_id: Mapped[int] = mapped_column(sa.ForeignKey("joint_dialogs.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    dialog: Mapped[JointDialog] = relationship(back_populates="recipients")
    unit: Mapped[Unit] = relationship()
    user: Mapped[User] = relationship()


class JointDialogAttendance(Base):
    """Närvaro: whether an invited unit took part, by whom, or why not (``status`` is empty
    until the purchaser records it)."""

    __tablename__ = "joint_dialog_attendance"
    __table_args__ = (
        sa.UniqueConstraint("joint_dialog_id", "unit_id", name="uq_joint_dialog_attendance"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    joint_dialog_id: Mapped[int] = mapped_column(sa.ForeignKey("joint_dialogs.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"))
    status: Mapped[Attendance | None] = mapped_column(enum_column(Attendance, "attendance"))
    name: Mapped[str | None] = mapped_column(sa.String(200), info=personal_text("Namn"))
    role_title: Mapped[str | None] = mapped_column(sa.String(100), info=personal_text("Roll"))
    absence_reason: Mapped[str | None] = mapped_column(
        sa.Text, info=personal_text("Skäl till frånvaro")
    )

    dialog: Mapped[JointDialog] = relationship(back_populates="attendance")
    unit: Mapped[Unit] = relationship()


class JointFollowUp(Base):
    """Uppföljningspunkt from the minutes: what is to be followed up, for which unit (or all),
    and — when it became one — the finding (iakttagelse) it became for a unit."""

    __tablename__ = "joint_follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    joint_dialog_id: Mapped[int] = mapped_column(sa.ForeignKey("joint_dialogs.id"), index=True)
    text: Mapped[str] = mapped_column(sa.Text, info=personal_text("Uppföljningspunkt"))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"))
    status: Mapped[FollowUpState] = mapped_column(
        enum_column(FollowUpState, "follow_up_state"), default=FollowUpState.OPEN
    )
    finding_id: Mapped[int | None] = mapped_column(sa.ForeignKey("findings.id"), unique=True)
    note: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Anteckning"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    dialog: Mapped[JointDialog] = relationship(back_populates="follow_ups")
    unit: Mapped[Unit | None] = relationship()
    finding: Mapped[Finding | None] = relationship()
