"""Rows of the särskild fördjupning (§7.1.3): the review, the risk signals it was opened on,
the requirements its conclusions set the unit, and the files the unit handed in."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audit.db import Base, UTCDateTime, utcnow
from audit.models import Unit, enum_column
from audit.personal_data import personal_text
from checklists.rounds import Finding


class ReviewState(enum.StrEnum):
    """Den särskilda fördjupningens läge (§7.1.3)."""

    OPENED = "opened"  # öppnad på risksignaler
    MATERIAL_REQUESTED = "material_requested"  # underlag begärt av verksamhetschefen
    MATERIAL_SUBMITTED = "material_submitted"  # underlag och svar inlämnat
    CONCLUDED = "concluded"  # analys och slutsatser, krav formulerade
    ACTION_PLAN = "action_plan"  # avslutad: åtgärdsplan begärd
    SANCTION = "sanction"  # avslutad: sanktionsärende öppnat
    NO_ACTION = "no_action"  # avslutad utan åtgärd, med skäl
    CANCELLED = "cancelled"  # avbruten, med skäl


class SignalKind(enum.StrEnum):
    """Risksignal: what gave the indication of a particular problem (§7.1.3)."""

    FINDING = "finding"  # en iakttagelse
    REPEATED_BREACH = "repeated_breach"  # samma krav ej uppfyllt i flera omgångar
    COMPLAINT = "complaint"  # klagomål (as recorded text, no patient data)
    CASE = "case"  # ett ärende (anmälan eller ansökan)


class InDepthReview(Base):
    """Särskild fördjupning (§7.1.3): "Fördjupad riskbaserad uppföljning … genomförs när det
    finns indikationer på särskilda problem vid någon enhet" — opened on risk signals, material
    requested from the verksamhetschef, analysed, concluded with requirements the unit must
    meet, and ended in an action plan, a sanction case or no action."""

    __tablename__ = "in_depth_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200), info=personal_text("Rubrik"))
    concern: Mapped[str] = mapped_column(sa.Text, info=personal_text("Vad fördjupningen gäller"))
    status: Mapped[ReviewState] = mapped_column(
        enum_column(ReviewState, "review_state"), default=ReviewState.OPENED
    )
    dialog_id: Mapped[int | None] = mapped_column(sa.ForeignKey("follow_up_dialogs.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    material_request: Mapped[str | None] = mapped_column(
        sa.Text, info=personal_text("Begärt underlag")
    )
    material_requested_on: Mapped[dt.date | None]
    material_deadline: Mapped[dt.date | None]
    answer: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Enhetens svar"))
    answered_on: Mapped[dt.date | None]
    analysis: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Analys"))
    conclusions: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Slutsatser"))
    concluded_on: Mapped[dt.date | None]
    ended_on: Mapped[dt.date | None]
    end_reason: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Skäl"))
    action_plan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("action_plans.id"))
    sanction_case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sanction_cases.id"))

    unit: Mapped[Unit] = relationship()
    signals: Mapped[list[ReviewSignal]] = relationship(
        back_populates="review", cascade="all, delete-orphan", order_by="ReviewSignal.id"
    )
    requirements: Mapped[list[ReviewRequirement]] = relationship(
        back_populates="review", cascade="all, delete-orphan", order_by="ReviewRequirement.id"
    )
    files: Mapped[list[ReviewFile]] = relationship(
        back_populates="review", order_by="ReviewFile.id"
    )


class ReviewSignal(Base):
    """Risksignal a review was opened on: a finding, a requirement breached in several rounds
    (by its stable code), a complaint (its text) or an ärende."""

    __tablename__ = "review_signals"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("in_depth_reviews.id"), index=True)
    kind: Mapped[SignalKind] = mapped_column(enum_column(SignalKind, "signal_kind"))
    finding_id: Mapped[int | None] = mapped_column(sa.ForeignKey("findings.id"), index=True)
    requirement_code: Mapped[str | None] = mapped_column(sa.String(120))
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    text: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Klagomål"))

    review: Mapped[InDepthReview] = relationship(back_populates="signals")
    finding: Mapped[Finding | None] = relationship()


class ReviewRequirement(Base):
    """Krav som verksamhetschefen ska möta (§7.1.3): one requirement of the conclusions, with
    the day it is to be met."""

    __tablename__ = "review_requirements"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("in_depth_reviews.id"), index=True)
    text: Mapped[str] = mapped_column(sa.Text, info=personal_text("Krav"))
    due_date: Mapped[dt.date]

    review: Mapped[InDepthReview] = relationship(back_populates="requirements")


class ReviewFile(Base):
    """Underlag the unit hands in to a review: checked like checklist evidence (personnummer
    too) and kept in the same content store by SHA-256."""

    __tablename__ = "review_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("in_depth_reviews.id"), index=True)
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True, info={"evidence_store": True})
    filename: Mapped[str] = mapped_column(sa.String(255), info=personal_text("Filnamn"))
    media_type: Mapped[str] = mapped_column(sa.String(120))
    size: Mapped[int]
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    review: Mapped[InDepthReview] = relationship(back_populates="files")
