"""A quiet year is not a breach (DOMAIN.md): every event-driven item (``recurrence: on_event``)
of the 2025 catalog can be answered "ej aktuellt under perioden", that answer is judged not
applicable, and a round in which nothing happened yields no finding from any of them."""

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from audit.models import Role, UnitKind
from checklists import operations as ops
from checklists.answers import Context, Status, clean_answer, evaluate
from checklists.catalog import EDITIONS_DIR, load_edition, parse_edition
from checklists.models import Recurrence, Requirement
from checklists.rounds import Checklist, Finding
from tests.factories import TEST_ACTOR, judge_unassessed, make_unit, make_user, sample_answer

RULEBOOK = EDITIONS_DIR / "uor-2025.yaml"
EDITIONS = [RULEBOOK, EDITIONS_DIR / "tillagg-2023.yaml"]
EVENT_ITEMS = [i for i in parse_edition(RULEBOOK).items if i["recurrence"] == Recurrence.ON_EVENT]
QUIET = {"not_applicable": True, "reason": "Inget sådant har inträffat under 2025."}


def test_the_catalog_has_event_driven_items():
    assert len(EVENT_ITEMS) == 48


@pytest.mark.parametrize("item", EVENT_ITEMS, ids=lambda i: i["code"])
def test_event_driven_item_states_its_event_and_is_quiet_when_nothing_happened(item):
    question = " ".join(item["question"].split())
    # The question names what has to have happened, and does not assume that it did ...
    assert question.startswith("Om ") and "under perioden" in question, question
    # ... and tells the unit what to answer when it did not: never "svara ja".
    assert "”Ej aktuellt under perioden”" in question, question
    assert not re.search(r"svara ja", question, re.IGNORECASE)
    value = clean_answer(item["answer_type"], item["answer_params"], dict(QUIET), on_event=True)
    result = evaluate(
        item["answer_type"], item["answer_params"], value, Context(item["section"], 2025)
    )
    assert result.status == Status.NOT_APPLICABLE
    assert result.status not in ops.FINDING_STATUSES
    assert QUIET["reason"] in result.explanation


@pytest.mark.parametrize("path", EDITIONS, ids=lambda p: p.name)
def test_no_question_tells_the_unit_to_answer_yes(path):
    """ "Svara ja om …" records "not applicable" as compliant; no question may say it."""
    offending = [
        i["code"]
        for i in parse_edition(path).items
        if re.search(r"svara ja", i["question"], re.IGNORECASE)
    ]
    assert offending == []


@pytest.fixture
def quiet_round(db):
    """A round of the whole 2025 catalog for two units between them reached by every
    event-driven item: an egenregi health centre on the region's telephone platform with the
    §2.12 duty, and a private one off the platform that has a filial."""
    edition = load_edition(db, TEST_ACTOR, RULEBOOK).edition
    region = make_unit(db, "byske", sjukvardsgrupp_duty=True)
    private = make_unit(db, "privat", operator="privat", on_region_telephony=False)
    make_unit(db, "privat-filial", kind=UnitKind.FILIAL, main_unit_id=private.id)
    reviewer = make_user(db, "granskare", (Role.GRANSKARE, None))
    heads = {
        unit.id: make_user(db, f"vc-{unit.code}", (Role.VERKSAMHETSCHEF, unit.code))
        for unit in (region, private)
    }
    round_ = ops.open_round(
        db,
        reviewer,
        edition=edition,
        title="Uppföljning 2025",
        year=2025,
        opens_on=dt.date(2026, 1, 15),
        deadline=dt.date(2026, 3, 31),
    )
    checklists = db.scalars(sa.select(Checklist).where(Checklist.round_id == round_.id)).all()
    assert {c.unit_id for c in checklists} == set(heads)  # the filial reports in its main unit
    return edition, reviewer, heads, checklists


def _answer_a_quiet_year(db, head, checklist):
    """Every event-driven item "ej aktuellt", every other item a compliant answer."""
    raws = {
        item.id: (
            item.version,
            None,
            dict(QUIET)
            if item.requirement.recurrence == Recurrence.ON_EVENT
            else sample_answer(item.requirement),
        )
        for item in checklist.items
    }
    return ops.save_answers(db, head, checklist, raws)


def test_a_round_in_which_nothing_happened_yields_no_finding_from_event_driven_items(
    db, quiet_round
):
    edition, reviewer, heads, checklists = quiet_round
    reached = set()
    findings = []
    for checklist in checklists:
        head = heads[checklist.unit_id]
        outcomes = _answer_a_quiet_year(db, head, checklist)
        refused = {o.item.requirement.code: str(o.error) for o in outcomes.values() if not o.ok}
        assert refused == {}, "a quiet year must be answerable"
        for item in checklist.items:
            if item.requirement.recurrence == Recurrence.ON_EVENT:
                reached.add(item.requirement.code)
                assert item.status == Status.NOT_APPLICABLE, item.requirement.code
        ops.submit(db, head, checklist)
        judge_unassessed(db, reviewer, checklist)
        findings += ops.accept(db, reviewer, checklist)
    # Between them the two units get every event-driven item of the catalog.
    every_event_item = set(
        db.scalars(
            sa.select(Requirement.code).where(
                Requirement.edition_id == edition.id,
                Requirement.recurrence == Recurrence.ON_EVENT,
            )
        )
    )
    assert reached == every_event_item and len(reached) == len(EVENT_ITEMS)
    from_events = [
        f.requirement.code for f in findings if f.requirement.recurrence == Recurrence.ON_EVENT
    ]
    assert from_events == []
    # The compliant answers to everything else leave nothing either: a quiet year is clean.
    assert [f.requirement.code for f in findings] == []
    assert db.scalar(sa.select(sa.func.count()).select_from(Finding)) == 0
