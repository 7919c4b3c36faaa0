"""Lists are set-based: the number of queries a page makes does not grow with its rows."""

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from audit.models import Role, Unit
from audit.units import load_units
from checklists import operations as ops
from checklists.catalog import EDITIONS_DIR, load_edition
from checklists.models import Requirement
from checklists.rounds import Checklist
from tests.conftest import login
from tests.factories import PASSWORD, TEST_ACTOR, judge_unassessed, make_user, sample_answer


@pytest.fixture
def counter(connection):
    statements = []
    event.listen(
        connection,
        "before_cursor_execute",
        lambda conn, cursor, statement, *args: statements.append(statement),
    )
    return statements


def _round(db, bo, edition, units, sections):
    ids = db.scalars(
        sa.select(Requirement.id).where(
            Requirement.edition_id == edition.id, Requirement.section.in_(sections)
        )
    ).all()
    unit_ids = db.scalars(sa.select(Unit.id).where(Unit.code.in_(units))).all() if units else None
    return ops.open_round(
        db,
        bo,
        edition=edition,
        title="R",
        year=2025,
        opens_on=dt.date(2025, 1, 1),
        deadline=dt.date(2025, 3, 1),
        selection=ops.RoundSelection(requirement_ids=ids, unit_ids=unit_ids),
    )


def _queries(client, counter, path):
    counter.clear()
    assert client.get(path).status_code == 200
    return len(counter)


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_pages_make_the_same_number_of_queries_for_few_and_many_rows(client, db, counter):
    load_units(db, TEST_ACTOR)
    edition = load_edition(db, TEST_ACTOR, EDITIONS_DIR / "uor-2025.yaml").edition
    bo = make_user(db, "bo", (Role.BESTALLARE, None))
    vc = make_user(db, "vc", (Role.VERKSAMHETSCHEF, "byske"))
    small = _round(db, bo, edition, ["byske", "backen"], ["2.6"])
    large = _round(db, bo, edition, None, ["2.6", "2.7.3", "3.1.2", "6.9"])
    for round_ in (small, large):
        checklist = next(c for c in round_.checklists if c.unit.code == "byske")
        ops.save_answers(
            db,
            vc,
            checklist,
            {i.id: (i.version, None, sample_answer(i.requirement)) for i in checklist.items},
        )
        ops.submit(db, vc, checklist)
        judge_unassessed(db, bo, checklist)
        ops.accept(db, bo, checklist)
    db.commit()

    def byske(round_):
        return db.scalar(
            sa.select(Checklist.id)
            .join(Unit)
            .where(Checklist.round_id == round_.id, Unit.code == "byske")
        )

    login(client, "bo", PASSWORD)
    for template in ("/omgangar/{id}",):
        assert _queries(client, counter, template.format(id=small.id)) == _queries(
            client, counter, template.format(id=large.id)
        )
    # Exports and the API read a whole round (or a page of it) in the same few queries.
    for template in ("/omgangar/{id}/resultat.xlsx", "/api/v1/results?round={id}&limit=1000"):
        few = _queries(client, counter, template.format(id=small.id))
        many = _queries(client, counter, template.format(id=large.id))
        assert few == many, (template, few, many)
    for template in (
        "/checklistor/{id}",
        "/checklistor/{id}/granska",
        "/checklistor/{id}/utskrift.pdf",
    ):
        assert _queries(client, counter, template.format(id=byske(small))) == _queries(
            client, counter, template.format(id=byske(large))
        )
    # A section page costs the same whether it holds 2 items (§2.6 here) or 16 (§3.1).
    for template in ("/checklistor/{id}/avsnitt/{s}", "/checklistor/{id}/granska/avsnitt/{s}"):
        few = _queries(client, counter, template.format(id=byske(small), s="2.6"))
        many = _queries(client, counter, template.format(id=byske(large), s="3.1"))
        assert few == many, (template, few, many)
    for path in (
        "/omgangar/",
        "/checklistor/iakttagelser",
        "/enheter/",
        "/",
        "/granskningslogg/",
        "/katalog/UOR-2025",
        "/dialoger/",
        "/atgardsplaner/",
        "/sanktioner/",
        "/enheter/byske",
        "/api/v1/findings",
        "/api/v1/plans",
        "/api/v1/sanctions",
        "/api/v1/rounds",
    ):
        first = _queries(client, counter, path)
        # The start page gathers every workflow's waiting items (a few queries each).
        assert first < (20 if path == "/" else 15), (path, first)
