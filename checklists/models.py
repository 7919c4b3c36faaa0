"""Katalogen: editions of the rulebook, their requirements, tilläggsuppdrag and load records."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audit.db import Base, UTCDateTime, utcnow
from audit.models import enum_column
from audit.personal_data import personal_text


class AnswerType(enum.StrEnum):
    """Svarstyp: the kind of answer that proves a requirement (FORMAT.md)."""

    YES_NO = "yes_no"
    NAMED_PERSON = "named_person"
    COUNT_RATIO = "count_ratio"
    DATE_DEADLINE = "date_deadline"
    WEEKLY_SCHEDULE = "weekly_schedule"
    SELECTION = "selection"
    DOCUMENT = "document"
    SERVICE_LEVEL = "service_level"
    NUMBER = "number"
    FREE_TEXT = "free_text"


class Severity(enum.StrEnum):
    """Allvarlighetsgrad: a patient-safety breach goes the fast route (§7.1.3)."""

    PATIENT_SAFETY = "patient_safety"
    HIGH = "high"
    NORMAL = "normal"


class RequirementKind(enum.StrEnum):
    """Skyldighet (ska) or förbud (får inte)."""

    OBLIGATION = "obligation"
    PROHIBITION = "prohibition"


class Recurrence(enum.StrEnum):
    """Återkommande: standing, yearly, monthly or when something happens."""

    CONTINUOUS = "continuous"
    ANNUAL = "annual"
    MONTHLY = "monthly"
    ON_EVENT = "on_event"


class CatalogEdition(Base):
    """Kravkatalog, utgåva: one year's rulebook (Uppdrag och regler 2025) or tilläggsuppdrag."""

    __tablename__ = "catalog_editions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    family: Mapped[str] = mapped_column(sa.String(32), index=True)
    title: Mapped[str] = mapped_column(sa.String(300), info=personal_text("Titel"))
    year: Mapped[int]
    source: Mapped[str] = mapped_column(sa.Text, info=personal_text("Källa"))
    source_file: Mapped[str | None] = mapped_column(sa.String(200), info=personal_text("Källfil"))
    areas: Mapped[list] = mapped_column(sa.JSON)
    file_name: Mapped[str] = mapped_column(sa.String(200), info=personal_text("Filnamn"))
    file_sha256: Mapped[str] = mapped_column(sa.String(64))
    loaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    requirements: Mapped[list[Requirement]] = relationship(
        back_populates="edition", order_by="Requirement.position", cascade="all, delete-orphan"
    )
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="edition", order_by="Assignment.position", cascade="all, delete-orphan"
    )

    def area_title(self, code: str) -> str:
        return next((a["title"] for a in self.areas if a["code"] == code), code)


class Requirement(Base):
    """Krav (checklistpunkt): one obligation of an edition, asked, answered and judged."""

    __tablename__ = "requirements"
    __table_args__ = (
        sa.UniqueConstraint("edition_id", "code", name="uq_requirements_edition_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(sa.ForeignKey("catalog_editions.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(120))
    position: Mapped[int]
    section: Mapped[str] = mapped_column(sa.String(200))
    section_key: Mapped[str] = mapped_column(sa.String(64), index=True)
    heading: Mapped[str] = mapped_column(sa.String(300), info=personal_text("Rubrik"))
    area: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[RequirementKind] = mapped_column(enum_column(RequirementKind, "requirement_kind"))
    source_text: Mapped[str] = mapped_column(sa.Text, info=personal_text("Regelbokens text"))
    question: Mapped[str] = mapped_column(sa.Text, info=personal_text("Fråga"))
    answer_type: Mapped[AnswerType] = mapped_column(enum_column(AnswerType, "answer_type"))
    answer_params: Mapped[dict] = mapped_column(
        sa.JSON, info=personal_text("Svarets inställningar")
    )
    applies_to: Mapped[dict] = mapped_column(sa.JSON)
    recurrence: Mapped[Recurrence] = mapped_column(enum_column(Recurrence, "recurrence"))
    deadline: Mapped[str | None] = mapped_column(sa.String(5))
    severity: Mapped[Severity] = mapped_column(enum_column(Severity, "severity"))
    evidence: Mapped[str] = mapped_column(sa.Text, info=personal_text("Underlag"))
    note: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Anmärkning"))
    assignment_code: Mapped[str | None] = mapped_column(sa.String(120))

    edition: Mapped[CatalogEdition] = relationship(back_populates="requirements")

    def snapshot(self) -> dict:
        """The fields an edition diff compares."""
        return {
            "section": self.section,
            "heading": self.heading,
            "area": self.area,
            "kind": str(self.kind),
            "source_text": self.source_text,
            "question": self.question,
            "answer_type": str(self.answer_type),
            "answer_params": self.answer_params,
            "applies_to": self.applies_to,
            "recurrence": str(self.recurrence),
            "deadline": self.deadline,
            "severity": str(self.severity),
            "evidence": self.evidence,
        }


class Assignment(Base):
    """Tilläggsuppdrag: an additional assignment, its units and compensation (seed 000)."""

    __tablename__ = "assignments"
    __table_args__ = (
        sa.UniqueConstraint("edition_id", "code", name="uq_assignments_edition_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(sa.ForeignKey("catalog_editions.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(120))
    position: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(300), info=personal_text("Titel"))
    description: Mapped[str] = mapped_column(sa.Text, info=personal_text("Beskrivning"))
    area: Mapped[str] = mapped_column(sa.String(64))
    units: Mapped[list] = mapped_column(sa.JSON)
    performers: Mapped[list] = mapped_column(sa.JSON, info=personal_text("Utförare"))
    compensation: Mapped[list] = mapped_column(sa.JSON, info=personal_text("Ersättning"))
    total_tkr: Mapped[float | None]
    note: Mapped[str | None] = mapped_column(sa.Text, info=personal_text("Anmärkning"))

    edition: Mapped[CatalogEdition] = relationship(back_populates="assignments")


class CatalogLoad(Base):
    """Inläsning av katalog: who loaded which file (by hash) when, and what it changed."""

    __tablename__ = "catalog_loads"

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(sa.ForeignKey("catalog_editions.id"), index=True)
    file_name: Mapped[str] = mapped_column(sa.String(200), info=personal_text("Filnamn"))
    file_sha256: Mapped[str] = mapped_column(sa.String(64))
    loaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_label: Mapped[str] = mapped_column(sa.String(100), info=personal_text("Användare"))
    outcome: Mapped[str] = mapped_column(sa.String(16))  # created | updated | unchanged
