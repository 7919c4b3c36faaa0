"""Resultat: the counts of checklist items by effective status — the one query behind the
round overview's heat map and the annual analysis's results per area and unit (§7.1.4).

Core columns, not ORM attributes: the overview reads tens of thousands of plain rows, and an
ORM-enabled select would send each through the ORM's row loading.
"""

from __future__ import annotations

import sqlalchemy as sa

from audit.models import Unit
from checklists.models import Requirement
from checklists.rounds import Checklist, ChecklistItem

ITEMS = ChecklistItem.__table__
CHECKLISTS = Checklist.__table__
REQUIREMENTS = Requirement.__table__
UNITS = Unit.__table__
# The effective status of an item: the reviewer's override, else the automatic evaluation.
EFFECTIVE_STATUS = sa.type_coerce(
    sa.func.coalesce(ITEMS.c.override_status, ITEMS.c.auto_status), sa.String
)


def status_counts(*where) -> sa.Select:
    """(checklist id, area code, effective status, number of items) of the checklists that
    ``where`` selects (conditions on the checklists' columns), grouped."""
    c = CHECKLISTS.c
    return (
        sa.select(ITEMS.c.checklist_id, REQUIREMENTS.c.area, EFFECTIVE_STATUS, sa.func.count())
        .join_from(ITEMS, CHECKLISTS, c.id == ITEMS.c.checklist_id)
        .join(REQUIREMENTS, REQUIREMENTS.c.id == ITEMS.c.requirement_id)
        .where(*where)
        .group_by(ITEMS.c.checklist_id, REQUIREMENTS.c.area, EFFECTIVE_STATUS)
    )
