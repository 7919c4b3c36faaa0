"""Öppna en uppföljningsomgång: one checklist per selected unit, set-based."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.orm import Session

from audit.models import Unit, UnitKind, User
from audit.trail import Actor, record
from checklists import applicability
from checklists.answers import Status
from checklists.models import CatalogEdition, Requirement
from checklists.operations.common import ChecklistError, can_review
from checklists.rounds import Checklist, ChecklistItem, ChecklistStatus, Round


@dataclasses.dataclass(frozen=True)
class RoundSelection:
    """What a new round asks and of whom; ``None`` means all."""

    requirement_ids: list[int] | None = None
    unit_ids: list[int] | None = None


def open_round(
    session: Session,
    user: User,
    *,
    edition: CatalogEdition,
    title: str,
    year: int,
    opens_on: dt.date,
    deadline: dt.date,
    selection: RoundSelection = RoundSelection(),
) -> Round:
    """Öppna en uppföljningsomgång: one checklist per selected unit, holding only the selected
    requirements that apply to that unit. Set-based: one INSERT … SELECT per distinct
    applicability rule, whatever the number of units."""
    if not can_review(user):
        raise ChecklistError("Bara beställare och granskare kan öppna en omgång.")
    title = " ".join((title or "").split())
    if not title:
        raise ChecklistError("Ange en titel för omgången.")
    if deadline < opens_on:
        raise ChecklistError("Sista svarsdag kan inte vara före öppningsdagen.")
    req_stmt = sa.select(Requirement.id, Requirement.applies_to).where(
        Requirement.edition_id == edition.id
    )
    if selection.requirement_ids is not None:
        req_stmt = req_stmt.where(Requirement.id.in_(selection.requirement_ids))
    requirements = session.execute(req_stmt).all()
    if not requirements:
        raise ChecklistError("Välj minst ett krav.")
    unit_filter = [Unit.active.is_(True), Unit.kind != UnitKind.FILIAL]  # §3.9: not own unit
    if selection.unit_ids is not None:
        unit_filter.append(Unit.id.in_(selection.unit_ids))
    round_ = Round(
        edition_id=edition.id,
        title=title,
        year=year,
        opens_on=opens_on,
        deadline=deadline,
        created_by_id=user.id,
    )
    session.add(round_)
    session.flush()
    session.execute(
        sa.insert(Checklist).from_select(
            ["round_id", "unit_id", "status"],
            sa.select(
                sa.literal(round_.id),
                Unit.id,
                sa.literal(ChecklistStatus.OPEN.value),
            ).where(*unit_filter),
        )
    )
    fill_checklists(session, round_.id, requirements)
    counts = session.execute(
        sa.select(sa.func.count(sa.distinct(Checklist.id)), sa.func.count(ChecklistItem.id))
        .select_from(Checklist)
        .join(ChecklistItem)
        .where(Checklist.round_id == round_.id)
    ).one()
    if counts[0] == 0:
        raise ChecklistError("Inget av de valda kraven gäller någon av de valda enheterna.")
    record(
        session,
        Actor.of(user),
        "round",
        round_.id,
        "create",
        after={
            "title": title,
            "edition": edition.code,
            "year": year,
            "opens_on": opens_on,
            "deadline": deadline,
            "checklists": counts[0],
            "items": counts[1],
        },
    )
    return round_


def fill_checklists(
    session: Session,
    round_id: int,
    requirements: list[tuple[int, dict]],
    checklist_id: int | None = None,
) -> None:
    """Put each (requirement id, applicability rule) that applies to a checklist's unit into
    the round's checklists (or one of them); remove checklists nothing applies to. Set-based:
    one INSERT … SELECT per distinct applicability rule."""
    by_rule: dict[str, list[int]] = defaultdict(list)
    for requirement_id, applies_to in requirements:
        by_rule[json.dumps(applies_to, sort_keys=True)].append(requirement_id)
    only = [Checklist.round_id == round_id]
    if checklist_id is not None:
        only.append(Checklist.id == checklist_id)
    for rule, ids in by_rule.items():
        session.execute(
            sa.insert(ChecklistItem).from_select(
                [
                    "checklist_id",
                    "requirement_id",
                    "auto_status",
                    "version",
                    "needs_completion",
                ],
                sa.select(
                    Checklist.id,
                    Requirement.id,
                    sa.literal(Status.NOT_ANSWERED.value),
                    sa.literal(1),
                    sa.false(),
                )
                .join(Unit, Unit.id == Checklist.unit_id)
                .join(Requirement, Requirement.id.in_(ids))
                .where(*only, applicability.condition(json.loads(rule))),
            )
        )
    # A unit to which nothing selected applies gets no checklist.
    session.execute(
        sa.delete(Checklist).where(
            *only,
            ~sa.exists().where(ChecklistItem.checklist_id == Checklist.id),
        )
    )
