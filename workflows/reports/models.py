"""Rows of the recurring reports: the monthly telephone report (§6.9), the patient-safety
report (§2.6) and the tilläggsuppdrag's annual reports (seed 000)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audit.db import Base, UTCDateTime, utcnow
from audit.models import Unit
from audit.personal_data import personal_text
from checklists.models import Assignment, Requirement


class TelephoneReport(Base):
    """Månadsrapport om telefontillgänglighet (§6.9): a unit outside the region's telephone
    platform reports its telephone accessibility to the region once a month.

    Counts, not shares, so that county figures are sums (answered / incoming); the waiting time
    is the month's mean in minutes, weighted by the answered calls when summed."""

    __tablename__ = "telephone_reports"
    __table_args__ = (
        sa.UniqueConstraint("unit_id", "year", "month", name="uq_telephone_reports_unit_month"),
        sa.CheckConstraint("month BETWEEN 1 AND 12", name="month_in_year"),
        sa.CheckConstraint(
            "answered_calls <= incoming_calls AND callback_calls <= answered_calls",
            name="answered_within_incoming",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    year: Mapped[int]
    month: Mapped[int]
    incoming_calls: Mapped[int]
    answered_calls: Mapped[int]
    callback_calls: Mapped[int]
    mean_wait_minutes: Mapped[float] = mapped_column(sa.Numeric(7, 1, asdecimal=False))
    comment: Mapped[str] = mapped_column(
        sa.Text, default="", server_default="", info=personal_text("Kommentar")
    )
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit] = relationship()


class PatientSafetyReport(Base):
    """Patientsäkerhetsberättelse (§2.6): "Hälsocentralen ska lämna sin årliga
    patientsäkerhetsberättelse till Region Västerbotten senast 1 mars årligen."

    ``year`` is the follow-up year whose 1 March is the deadline (the report covers the year
    before), as the catalog's date_deadline item treats it: the date sent must fall in that
    year. The file lives in the evidence store, checked like checklist evidence."""

    __tablename__ = "patient_safety_reports"
    __table_args__ = (
        sa.UniqueConstraint("unit_id", "year", name="uq_patient_safety_reports_unit_year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    year: Mapped[int]
    sent_on: Mapped[dt.date]
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True, info={"evidence_store": True})
    filename: Mapped[str] = mapped_column(sa.String(255), info=personal_text("Filnamn"))
    media_type: Mapped[str] = mapped_column(sa.String(120))
    size: Mapped[int]
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    unit: Mapped[Unit] = relationship()


class AssignmentReport(Base):
    """Årsrapport för ett tilläggsuppdrag (seed 000): one unit's report on one assignment for
    one year, its rows the assignment's catalog items (occupancy, readmissions, treatments,
    activity reports …)."""

    __tablename__ = "assignment_reports"
    __table_args__ = (
        sa.UniqueConstraint(
            "unit_id", "assignment_id", "year", name="uq_assignment_reports_unit_assignment_year"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    assignment_id: Mapped[int] = mapped_column(sa.ForeignKey("assignments.id"), index=True)
    year: Mapped[int]
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit] = relationship()
    assignment: Mapped[Assignment] = relationship()
    rows: Mapped[list[AssignmentReportRow]] = relationship(
        back_populates="report", cascade="all, delete-orphan"
    )


class AssignmentReportRow(Base):
    """Rad i årsrapporten: the value of one of the assignment's items (cleaned by its answer
    type, e.g. ``{numerator, denominator}``), or the file a document row asks for."""

    __tablename__ = "assignment_report_rows"
    __table_args__ = (
        sa.UniqueConstraint("report_id", "requirement_id", name="uq_assignment_report_rows_req"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("assignment_reports.id"), index=True)
    requirement_id: Mapped[int] = mapped_column(sa.ForeignKey("requirements.id"), index=True)
    value: Mapped[dict | None] = mapped_column(sa.JSON, info=personal_text("Uppgift"))
    sha256: Mapped[str | None] = mapped_column(
        sa.String(64), index=True, info={"evidence_store": True}
    )
    filename: Mapped[str | None] = mapped_column(sa.String(255), info=personal_text("Filnamn"))
    media_type: Mapped[str | None] = mapped_column(sa.String(120))
    size: Mapped[int | None]

    report: Mapped[AssignmentReport] = relationship(back_populates="rows")
    requirement: Mapped[Requirement] = relationship()
