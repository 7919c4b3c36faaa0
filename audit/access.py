"""Åtkomst: who may see which unit. The one place that decides it.

Region roles (administratör, beställare, granskare, läsare) see every unit. Unit roles
(verksamhetschef, vårdcentralspersonal) see their own unit(s) and those units' filialer
(DOMAIN.md: "A health-centre user sees only their own unit(s) — and the unit's branches").
Every list and every unit page asks this module, in one set-based query.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from audit.models import RoleAssignment, Unit, User


def visible_unit_ids(user: User) -> sa.Select | None:
    """A SELECT of the unit ids ``user`` may see, or ``None`` meaning every unit."""
    if user.sees_all_units:
        return None
    own = sa.select(RoleAssignment.unit_id).where(
        RoleAssignment.user_id == user.id, RoleAssignment.unit_id.is_not(None)
    )
    branches = sa.select(Unit.id).where(Unit.main_unit_id.in_(own))
    return sa.union(own, branches)


def restrict_to_visible(stmt: sa.Select, user: User, unit_id_column) -> sa.Select:
    """Add the visibility filter to ``stmt`` on ``unit_id_column``."""
    ids = visible_unit_ids(user)
    if ids is None:
        return stmt
    return stmt.where(unit_id_column.in_(ids))


def visible_units(session: Session, user: User) -> list[Unit]:
    """Units the user may see, ordered by name."""
    stmt = restrict_to_visible(sa.select(Unit).order_by(Unit.name), user, Unit.id)
    return list(session.scalars(stmt))


def can_see_unit(session: Session, user: User, unit: Unit) -> bool:
    """Whether ``user`` may see ``unit`` (its pages, answers and documents)."""
    if user.sees_all_units:
        return True
    own = user.own_unit_ids
    return unit.id in own or (unit.main_unit_id is not None and unit.main_unit_id in own)
