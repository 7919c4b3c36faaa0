"""Uppföljningsomgångar: rounds, the checklists sent to each unit, answers, evidence, findings.

A round (uppföljningsomgång) sends one checklist per unit holding only the requirements that
apply to that unit. The unit answers; the verksamhetschef submits; a reviewer (beställare,
granskare) accepts or returns it; on acceptance every partly or non-compliant item becomes a
finding (iakttagelse), the input to the follow-up dialog and action plan (§7.1.1, §7.1.3).
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audit.db import Base, UTCDateTime, utcnow
from audit.models import Unit, User, enum_column
from audit.personal_data import personal_text
from checklists.answers import Status
from checklists.models import CatalogEdition, Requirement, Severity


class ChecklistStatus(enum.StrEnum):
    """Checklistans status."""

    OPEN = "open"  # öppen: the unit answers
    SUBMITTED = "submitted"  # inskickad: waiting for review, locked for the unit
    RETURNED = "returned"  # återsänd för komplettering
    ACCEPTED = "accepted"  # godkänd: findings created, locked
    # ej inlämnad: the round was closed before the unit submitted; locked, answers kept
    NOT_SUBMITTED = "not_submitted"


class Round(Base):
    """Uppföljningsomgång: one edition's requirements sent to a set of units (§7.1.1)."""

    __tablename__ = "rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(sa.ForeignKey("catalog_editions.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200), info=personal_text("Titel"))
    year: Mapped[int]
    opens_on: Mapped[dt.date]
    deadline: Mapped[dt.date]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Stängd: no more answers; unsubmitted checklists became "ej inlämnad".
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    edition: Mapped[CatalogEdition] = relationship()
    checklists: Mapped[list[Checklist]] = relationship(back_populates="round")


class Checklist(Base):
    """Checklista: one unit's answers in one round (each item carries its own version)."""

    __tablename__ = "checklists"
    __table_args__ = (sa.UniqueConstraint("round_id", "unit_id", name="uq_checklists_round_unit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("rounds.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    status: Mapped[ChecklistStatus] = mapped_column(
        enum_column(ChecklistStatus, "checklist_status"), default=ChecklistStatus.OPEN
    )
    return_message: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Meddelande"))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Förlängd svarstid for this unit only (the round's deadline otherwise).
    deadline: Mapped[dt.date | None]

    round: Mapped[Round] = relationship(back_populates="checklists")
    unit: Mapped[Unit] = relationship()
    items: Mapped[list[ChecklistItem]] = relationship(back_populates="checklist")

    @property
    def due_on(self) -> dt.date:
        """Sista svarsdag: the unit's extended deadline, else the round's."""
        return self.deadline or self.round.deadline


class ChecklistItem(Base):
    """Checklistpunkt: the answer to one requirement in one checklist, its automatic
    evaluation, and the reviewer's override and comment."""

    __tablename__ = "checklist_items"
    __table_args__ = (
        sa.UniqueConstraint("checklist_id", "requirement_id", name="uq_checklist_items_req"),
        sa.CheckConstraint(
            "override_status IS NULL OR override_reason IS NOT NULL", name="override_has_reason"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    checklist_id: Mapped[int] = mapped_column(sa.ForeignKey("checklists.id"), index=True)
    requirement_id: Mapped[int] = mapped_column(sa.ForeignKey("requirements.id"), index=True)
    value: Mapped[dict | None] = mapped_column(sa.JSON, info=personal_text("Svar"))
    auto_status: Mapped[Status] = mapped_column(
        enum_column(Status, "evaluation_status"), default=Status.NOT_ANSWERED
    )
    auto_explanation: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Bedömning"))
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Optimistic lock per item: a save names the version it was loaded at, so colleagues
    # answering different items of one checklist never conflict (only the same item does).
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    override_status: Mapped[Status | None] = mapped_column(enum_column(Status, "override_status"))
    override_reason: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Skäl"))
    reviewer_comment: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Kommentar"))
    needs_completion: Mapped[bool] = mapped_column(default=False)

    checklist: Mapped[Checklist] = relationship(back_populates="items")
    requirement: Mapped[Requirement] = relationship()
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])
    files: Mapped[list[EvidenceFile]] = relationship(
        back_populates="item", order_by="EvidenceFile.id"
    )

    @property
    def status(self) -> Status:
        """The effective status: the reviewer's override, else the automatic evaluation."""
        return self.override_status or self.auto_status


class EvidenceFile(Base):
    """Underlag: a file uploaded as evidence for a checklist item (content in the file store)."""

    __tablename__ = "evidence_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("checklist_items.id"), index=True)
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True, info={"evidence_store": True})
    filename: Mapped[str] = mapped_column(sa.String(255), info=personal_text("Filnamn"))
    media_type: Mapped[str] = mapped_column(sa.String(120))
    size: Mapped[int]
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    item: Mapped[ChecklistItem] = relationship(back_populates="files")
    uploaded_by: Mapped[User | None] = relationship()


class Finding(Base):
    """Iakttagelse (avvikelse): a partly or non-compliant item of an accepted checklist — the
    input to the follow-up dialog and the action plan (§7.1.1, §7.1.3). A finding raised from
    a joint dialog's follow-up (§7.1.2) names its requirement but has no checklist item or
    round; the follow-up that raised it points to it (``workflows.joint``)."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("checklist_items.id"), unique=True)
    round_id: Mapped[int | None] = mapped_column(sa.ForeignKey("rounds.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    requirement_id: Mapped[int] = mapped_column(sa.ForeignKey("requirements.id"), index=True)
    status: Mapped[Status] = mapped_column(enum_column(Status, "finding_status"))
    severity: Mapped[Severity] = mapped_column(enum_column(Severity, "finding_severity"))
    statement: Mapped[str] = mapped_column(sa.Text, info=personal_text("Iakttagelse"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    item: Mapped[ChecklistItem | None] = relationship()
    unit: Mapped[Unit] = relationship()
    requirement: Mapped[Requirement] = relationship()
    round: Mapped[Round | None] = relationship()
