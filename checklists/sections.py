"""Avsnitt: a checklist as a task list of the rulebook's sections (§2.2, §2.6 …).

A long checklist is answered one section at a time (the pattern of GOV.UK's task list, which
Swedish public services follow). A section is the rulebook's second level — "2.7" holds §2.7.1
to §2.7.6 — or the chapter itself for the few items written at chapter level (§2, §4, §7).
The task list is computed from light rows (one query, no ORM objects) once per request.
"""

from __future__ import annotations

import dataclasses
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checklists.answers import Status
from checklists.catalog import SECTION_RE
from checklists.models import Requirement
from checklists.rounds import ChecklistItem

# Headings of the rulebook (seed 003, table of contents) that have no item of their own, so
# no requirement carries their title.
HEADINGS_WITHOUT_ITEMS = {
    "2.7": "Tillgänglighet",
    "3.1": "Kompetens och bemanning",
    "4.9": "Listningstak och listningsstopp",
    "6.5": "Övriga systemfunktioner",
    "7.1": "Metoder för uppföljning",
}


def section_of(section: str) -> str:
    """The task-list section an item belongs to: "2.7.3" → "2.7", "2.6" → "2.6", "4" → "4".
    Unnumbered sections (tilläggsuppdrag) are their own section."""
    if not SECTION_RE.match(section):
        return section
    return ".".join(section.split(".")[:2])


class SectionStatus(enum.StrEnum):
    """Status of a section in the task list."""

    NOT_STARTED = "not_started"  # Ej påbörjad
    STARTED = "started"  # Påbörjad
    DONE = "done"  # Klar
    RETURNED = "returned"  # Återsänd
    NEEDS_ACTION = "needs_action"  # Behöver åtgärd


class ReviewStatus(enum.StrEnum):
    """Status of a section in the reviewer's task list."""

    TO_JUDGE = "to_judge"  # Att bedöma
    DONE = "done"  # Granskad


class Filter(enum.StrEnum):
    """The filters of the task lists (the URL says them in Swedish)."""

    UNANSWERED = "obesvarade"
    RETURNED = "atersanda"
    NOT_COMPLIANT = "ej-uppfyllda"
    TO_REVIEW = "bedoms-av-granskare"
    # the reviewer's
    MANUAL = "att-bedoma"
    OVERRIDDEN = "andrad-bedomning"


UNIT_FILTERS = (Filter.UNANSWERED, Filter.RETURNED, Filter.NOT_COMPLIANT, Filter.TO_REVIEW)
REVIEW_FILTERS = (Filter.MANUAL, Filter.NOT_COMPLIANT, Filter.OVERRIDDEN, Filter.RETURNED)
_BREACH = (Status.PARTLY_COMPLIANT, Status.NON_COMPLIANT)


@dataclasses.dataclass(frozen=True)
class Row:
    """One item as the task list needs it."""

    id: int
    section: str
    heading: str
    question: str
    auto_status: Status
    override_status: Status | None
    needs_completion: bool

    @property
    def status(self) -> Status:
        return self.override_status or self.auto_status

    def matches(self, wanted: Filter) -> bool:
        if wanted == Filter.UNANSWERED:
            return self.auto_status == Status.NOT_ANSWERED
        if wanted == Filter.RETURNED:
            return self.needs_completion
        if wanted == Filter.NOT_COMPLIANT:
            return self.status in _BREACH
        if wanted == Filter.TO_REVIEW:
            return self.auto_status == Status.TO_REVIEW
        if wanted == Filter.MANUAL:
            return self.status == Status.TO_REVIEW
        if wanted == Filter.OVERRIDDEN:
            return self.override_status is not None
        return False


@dataclasses.dataclass
class Section:
    """Ett avsnitt i uppgiftslistan: its key ("2.7"), title, rows and counts."""

    key: str
    title: str
    rows: list[Row]

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def answered(self) -> int:
        return sum(1 for r in self.rows if r.auto_status != Status.NOT_ANSWERED)

    def count(self, wanted: Filter) -> int:
        return sum(1 for r in self.rows if r.matches(wanted))

    @property
    def status(self) -> SectionStatus:
        """Återsänd before anything; then by how much is answered; a fully answered section
        with an item judged not (or partly) compliant needs action."""
        if any(r.needs_completion for r in self.rows):
            return SectionStatus.RETURNED
        answered = self.answered
        if answered == 0:
            return SectionStatus.NOT_STARTED
        if answered < self.total:
            return SectionStatus.STARTED
        if any(r.status in _BREACH for r in self.rows):
            return SectionStatus.NEEDS_ACTION
        return SectionStatus.DONE

    @property
    def review_status(self) -> ReviewStatus:
        if any(r.status == Status.TO_REVIEW for r in self.rows):
            return ReviewStatus.TO_JUDGE
        return ReviewStatus.DONE


@dataclasses.dataclass
class TaskList:
    """Uppgiftslista: a checklist's sections in the rulebook's order."""

    sections: list[Section]

    @property
    def rows(self) -> list[Row]:
        return [r for s in self.sections for r in s.rows]

    @property
    def total(self) -> int:
        return sum(s.total for s in self.sections)

    @property
    def answered(self) -> int:
        return sum(s.answered for s in self.sections)

    def get(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    def neighbours(self, key: str) -> tuple[Section | None, Section | None]:
        """The sections before and after ``key`` (for "Spara och fortsätt")."""
        keys = [s.key for s in self.sections]
        index = keys.index(key)
        before = self.sections[index - 1] if index > 0 else None
        after = self.sections[index + 1] if index + 1 < len(keys) else None
        return before, after

    def matching(self, wanted: Filter) -> list[tuple[Section, Row]]:
        return [(s, r) for s in self.sections for r in s.rows if r.matches(wanted)]

    def section_of_item(self, item_id: int) -> Section | None:
        return next((s for s in self.sections for r in s.rows if r.id == item_id), None)


def task_list(session: Session, checklist_id: int, *, marks: bool = True) -> TaskList:
    """The task list of a checklist, from one query over its items.

    ``marks=False`` leaves out the reviewer's marks "to be completed": the unit sees them only
    once the checklist has actually been returned to it."""
    rows = session.execute(
        sa.select(
            ChecklistItem.id,
            Requirement.section,
            Requirement.heading,
            Requirement.question,
            ChecklistItem.auto_status,
            ChecklistItem.override_status,
            ChecklistItem.needs_completion,
        )
        .join(Requirement, Requirement.id == ChecklistItem.requirement_id)
        .where(ChecklistItem.checklist_id == checklist_id)
        .order_by(Requirement.section_key, Requirement.position)
    ).all()
    sections: list[Section] = []
    for row in rows:
        item = Row(
            id=row.id,
            section=row.section,
            heading=row.heading,
            question=row.question,
            auto_status=Status(row.auto_status),
            override_status=Status(row.override_status) if row.override_status else None,
            needs_completion=marks and bool(row.needs_completion),
        )
        key = section_of(item.section)
        if not sections or sections[-1].key != key:
            sections.append(Section(key=key, title="", rows=[]))
        section = sections[-1]
        section.rows.append(item)
        if not section.title and item.section == key:
            section.title = item.heading
    for section in sections:
        section.title = (
            section.title or HEADINGS_WITHOUT_ITEMS.get(section.key) or section.rows[0].heading
        )
    return TaskList(sections)


def counts(session: Session, checklist_id: int, key: str) -> tuple[int, int, int, int]:
    """(answered, total) in section ``key`` and in the whole checklist, in one query — what
    a page shows after one item's save, without building the task list."""
    answered = ChecklistItem.auto_status != Status.NOT_ANSWERED.value
    in_section = sa.or_(Requirement.section == key, Requirement.section.startswith(key + "."))
    row = session.execute(
        sa.select(
            sa.func.count().filter(in_section, answered),
            sa.func.count().filter(in_section),
            sa.func.count().filter(answered),
            sa.func.count(),
        )
        .select_from(ChecklistItem)
        .join(Requirement, Requirement.id == ChecklistItem.requirement_id)
        .where(ChecklistItem.checklist_id == checklist_id)
    ).one()
    return tuple(int(n) for n in row)
