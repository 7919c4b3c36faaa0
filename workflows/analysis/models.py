"""The annual analysis's row (årlig analys, §7.1.4) and the guard that keeps a published
edition as it was published.

A published edition is immutable at three layers: the operations refuse (``operations``), the
ORM refuses to flush a change or a delete of a row that was published when loaded (the
listeners below), and the database refuses an UPDATE or DELETE of a published row (triggers,
migration 0021) — so neither a bulk statement nor a hand-written SQL query changes it.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audit.db import Base, UTCDateTime, utcnow
from audit.models import User, enum_column
from audit.personal_data import personal_text

PUBLISHED_REFUSAL = "En publicerad årlig analys kan inte ändras; gör en ny version av den."


class AnalysisState(enum.StrEnum):
    """Den årliga analysens läge."""

    DRAFT = "draft"  # utkast: Beställarenheten skriver
    REVIEW = "review"  # under granskning före publicering
    PUBLISHED = "published"  # publicerad: fryst, läses av den politiska ledningen


class PublishedAnalysisError(ValueError):
    """A change to a published analysis (Swedish message, safe to show)."""

    def __init__(self, message: str = PUBLISHED_REFUSAL) -> None:
        super().__init__(message)


class AnnualAnalysis(Base):
    """Samlad årlig analys (§7.1.4): one version of a follow-up year's report to the
    political leadership — the purchaser's text around tables generated from the data, and
    at publication a snapshot of those tables, which later data changes do not touch."""

    __tablename__ = "annual_analyses"
    __table_args__ = (
        sa.UniqueConstraint("year", "version", name="uq_annual_analyses_year_version"),
        sa.CheckConstraint(
            "status != 'published' OR (snapshot IS NOT NULL AND published_at IS NOT NULL)",
            name="published_has_snapshot",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    version: Mapped[int] = mapped_column(default=1)
    status: Mapped[AnalysisState] = mapped_column(
        enum_column(AnalysisState, "analysis_state"), default=AnalysisState.DRAFT
    )
    title: Mapped[str] = mapped_column(sa.String(200), info=personal_text("Rubrik"))
    introduction: Mapped[str] = mapped_column(sa.Text, default="", info=personal_text("Inledning"))
    conclusions: Mapped[str] = mapped_column(
        sa.Text, default="", info=personal_text("Slutsatser och förslag")
    )
    # Section key -> the purchaser's analysis of that section's table.
    section_texts: Mapped[dict] = mapped_column(
        sa.JSON, default=dict, info=personal_text("Analys av avsnittet")
    )
    # At publication: {"as_of": ISO date, "tables": [Table.to_json(), ...]}.
    snapshot: Mapped[dict | None] = mapped_column(
        sa.JSON(none_as_null=True), info=personal_text("Publicerade tabeller")
    )
    previous_id: Mapped[int | None] = mapped_column(sa.ForeignKey("annual_analyses.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    published_by: Mapped[User | None] = relationship(foreign_keys=[published_by_id])
    previous: Mapped[AnnualAnalysis | None] = relationship(remote_side=[id])

    @property
    def unit_id(self) -> None:
        """The workflow engine checks unit roles against a row's unit: the analysis is the
        county's, so no unit role ever reaches it."""
        return None

    @property
    def is_published(self) -> bool:
        return self.status == AnalysisState.PUBLISHED


def _was_published(target: AnnualAnalysis) -> bool:
    history = sa.inspect(target).attrs.status.history
    before = history.deleted[0] if history.deleted else target.status
    return before == AnalysisState.PUBLISHED


@event.listens_for(AnnualAnalysis, "before_update")
def _refuse_changing_a_published_analysis(mapper, connection, target) -> None:
    if _was_published(target):
        raise PublishedAnalysisError()


@event.listens_for(AnnualAnalysis, "before_delete")
def _refuse_deleting_a_published_analysis(mapper, connection, target) -> None:
    if _was_published(target):
        raise PublishedAnalysisError()
