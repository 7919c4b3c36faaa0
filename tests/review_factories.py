"""Factories for the särskild fördjupning tests: findings of a unit in one or more rounds."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from checklists.answers import Status
from checklists.catalog import EDITIONS_DIR, load_edition
from checklists.models import CatalogEdition, Severity
from checklists.rounds import Checklist, ChecklistItem, Finding, Round
from tests.factories import TEST_ACTOR


def edition(db):
    found = db.scalar(sa.select(CatalogEdition).where(CatalogEdition.code == "TU-2023"))
    return found or load_edition(db, TEST_ACTOR, EDITIONS_DIR / "tillagg-2023.yaml").edition


def make_finding(db, unit, *, year: int = 2025, requirement_index: int = 0) -> Finding:
    """A non-compliant finding of ``unit`` in a round of ``year`` (the round made here)."""
    requirement = edition(db).requirements[requirement_index]
    round_ = Round(
        edition_id=requirement.edition_id,
        title=f"Omgång {year}",
        year=year,
        opens_on=dt.date(year, 1, 1),
        deadline=dt.date(year, 2, 1),
    )
    checklist = Checklist(round=round_, unit_id=unit.id)
    item = ChecklistItem(checklist=checklist, requirement_id=requirement.id)
    finding = Finding(
        item=item,
        round=round_,
        unit_id=unit.id,
        requirement_id=requirement.id,
        status=Status.NON_COMPLIANT,
        severity=Severity.NORMAL,
        statement="Kravet är inte uppfyllt.",
    )
    db.add_all([round_, checklist, item, finding])
    db.flush()
    return finding
