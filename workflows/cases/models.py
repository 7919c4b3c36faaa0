"""Rows of the ärenden: the notices and applications a health centre files with the purchaser.

One table for every kind of case (the kind decides which fields and documents it carries, see
:mod:`workflows.cases.types`); its type-specific answers are a JSON object guarded like every
free text; the units a case names (partners in a co-operation, the health centre patients are
referred to) and its documents are rows of their own.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audit.db import Base, UTCDateTime, utcnow
from audit.models import Unit, User, enum_column
from audit.personal_data import personal_text


class CaseKind(enum.StrEnum):
    """Ärendetyp: what the health centre notifies or applies for (rulebook section)."""

    OPENING_RESTRICTED = "begransat_oppethallande"  # begränsat öppethållande, §2.7.5
    SERVICE_RESTRICTED = "begransat_utbud"  # begränsat utbud, §2.7.6
    LIST_CAP = "listningstak"  # §4.9.1
    LIST_STOP = "listningsstopp"  # §4.9.2
    HEAD_CHANGE = "byte_verksamhetschef"  # byte av verksamhetschef, §3.1.1
    COOPERATION = "samverkan"  # samarbete mellan hälsocentraler, §2.13.1
    BRANCH = "filial"  # filialmottagning, §3.9
    RELOCATION = "flytt"  # ändrad lokalisering, §3.3 och §3.8
    SUBCONTRACTOR = "underleverantor"  # tillkommande eller byte av underleverantör, §3.20
    LEX_MARIA = "lex_maria"  # Lex Maria vid privat hälsocentral, §2.6


class CaseState(enum.StrEnum):
    """Ärendets läge."""

    DRAFT = "draft"  # utkast: the unit is writing it
    SUBMITTED = "submitted"  # inlämnat: waiting for the purchaser
    COMPLETION_REQUESTED = "completion_requested"  # komplettering begärd
    GRANTED = "granted"  # beslutat – beviljat
    REFUSED = "refused"  # beslutat – avslaget
    NOTED = "noted"  # beslutat – noterat (a notice taken note of)
    IN_EFFECT = "in_effect"  # gäller (its period)
    CLOSED = "closed"  # avslutat
    WITHDRAWN = "withdrawn"  # återtaget av enheten


class CaseOutcome(enum.StrEnum):
    """Beslutets utfall: granted or refused (an application), noted (a notice)."""

    GRANTED = "granted"  # beviljat
    REFUSED = "refused"  # avslaget
    NOTED = "noted"  # noterat


class DocumentKind(enum.StrEnum):
    """Handlingstyp: what an attached document is."""

    APPLICATION = "application"  # skriftlig ansökan eller anmälan
    PLAN = "plan"  # plan (begränsat utbud)
    RISK_ANALYSIS = "risk_analysis"  # risk- och konsekvensanalys
    REPORT = "report"  # kopia av anmälan (Lex Maria)
    INVESTIGATION = "investigation"  # utredningsmaterial
    MEASURES = "measures"  # åtgärder
    IVO_DECISION = "ivo_decision"  # IVO:s beslut
    INFORMATION = "information"  # information till de listade
    OTHER = "other"  # övrigt


class Case(Base):
    """Ärende: a notice (anmälan) or application (ansökan) from a health centre to the
    purchaser — §2.6, §2.7.5, §2.7.6, §2.13.1, §3.1.1, §3.3, §3.8, §3.9, §3.20, §4.9.1, §4.9.2.

    ``period_from``/``period_to`` are what the unit applied for or notified (the days of a
    restricted opening, a list stop's months, the day a new head takes over); ``decided_from``/
    ``decided_to`` the period the decision lets it apply (gäller).
    """

    __tablename__ = "cases"
    __table_args__ = (
        sa.CheckConstraint(
            "period_to IS NULL OR period_from IS NULL OR period_to >= period_from",
            name="period_in_order",
        ),
        sa.CheckConstraint(
            "decided_to IS NULL OR decided_from IS NULL OR decided_to >= decided_from",
            name="decided_period_in_order",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    kind: Mapped[CaseKind] = mapped_column(enum_column(CaseKind, "case_kind"))
    status: Mapped[CaseState] = mapped_column(
        enum_column(CaseState, "case_state"), default=CaseState.DRAFT
    )
    title: Mapped[str] = mapped_column(sa.String(200), info=personal_text("Rubrik"))
    period_from: Mapped[dt.date | None]
    period_to: Mapped[dt.date | None]
    details: Mapped[dict] = mapped_column(
        sa.JSON, default=dict, info=personal_text("Uppgifter i ärendet")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    completion_message: Mapped[str | None] = mapped_column(
        sa.Text, info=personal_text("Begärd komplettering")
    )
    completion_deadline: Mapped[dt.date | None]
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    outcome: Mapped[CaseOutcome | None] = mapped_column(enum_column(CaseOutcome, "case_outcome"))
    decided_from: Mapped[dt.date | None]
    decided_to: Mapped[dt.date | None]
    decided_limit: Mapped[int | None]  # listningstak: the cap granted
    diarienummer: Mapped[str | None] = mapped_column(
        sa.String(50), info=personal_text("Diarienummer")
    )
    decision_rationale: Mapped[str | None] = mapped_column(
        sa.Text, info=personal_text("Motivering")
    )
    in_effect_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    withdraw_reason: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Skäl"))
    branch_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"))
    capitation_case_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("sanction_cases.id"), unique=True
    )

    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id])
    branch_unit: Mapped[Unit | None] = relationship(foreign_keys=[branch_unit_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    partners: Mapped[list[CasePartner]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CasePartner.id"
    )
    documents: Mapped[list[CaseDocument]] = relationship(
        back_populates="case", order_by="CaseDocument.id"
    )

    @property
    def current_documents(self) -> list[CaseDocument]:
        return [d for d in self.documents if d.removed_at is None]

    @property
    def period(self) -> tuple[dt.date | None, dt.date | None]:
        """The period the case applies to: the decided one once decided, else the one asked."""
        if self.decided_from is not None:
            return self.decided_from, self.decided_to
        return self.period_from, self.period_to


class CasePartner(Base):
    """A unit the case names: the health centre patients are referred to (§2.7.5), that a
    restricted service is co-ordinated with (§2.7.6), or a partner in a co-operation
    (§2.13.1)."""

    __tablename__ = "case_partners"
    __table_args__ = (sa.UniqueConstraint("case_id", "unit_id", name="uq_case_partners_case_unit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)

    case: Mapped[Case] = relationship(back_populates="partners")
    unit: Mapped[Unit] = relationship()


class CaseDocument(Base):
    """Handling i ärendet: an attached file (content in the case store, checked like evidence
    uploads: type, archive bombs, and a personnummer anywhere in it)."""

    __tablename__ = "case_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(enum_column(DocumentKind, "case_document_kind"))
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    filename: Mapped[str] = mapped_column(sa.String(255), info=personal_text("Filnamn"))
    media_type: Mapped[str] = mapped_column(sa.String(120))
    size: Mapped[int]
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(back_populates="documents")
    uploaded_by: Mapped[User | None] = relationship()
