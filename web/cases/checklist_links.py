"""The checklist's event-driven items and the unit's ärenden: for each item a case kind
answers, the unit's cases of that kind in the round's follow-up year (one query per page)."""

from __future__ import annotations

from checklists.models import Recurrence
from workflows.cases.checklist import cases_for_items


def case_links(db, checklist, items) -> dict[int, list]:
    """item id → the unit's cases for it in the round's year (empty: nothing was filed), for
    the event-driven items that a kind of case answers."""
    codes = {
        item.id: item.requirement.code
        for item in items
        if item.requirement.recurrence == Recurrence.ON_EVENT
    }
    found = cases_for_items(db, checklist.unit_id, checklist.round.year, list(codes.values()))
    return {item_id: found[code] for item_id, code in codes.items() if code in found}
