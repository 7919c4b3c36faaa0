"""The round overview: a heat map of units × areas whose cells say what they mean in visible
text, filters and sorting that work without JavaScript, and a constant number of queries."""

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from audit.models import Role, Unit
from audit.units import load_units
from checklists import operations as ops
from checklists.answers import Status
from checklists.catalog import EDITIONS_DIR, load_edition
from checklists.models import Requirement
from checklists.rounds import Checklist, ChecklistItem, ChecklistStatus
from tests.conftest import login
from tests.factories import PASSWORD, TEST_ACTOR, make_user
from web.rounds.routes import heat_class

SECTIONS = ["2.6", "2.7.1", "2.7.3", "3.1.1", "3.1.2"]


@pytest.fixture
def world(db):
    load_units(db, TEST_ACTOR)
    edition = load_edition(db, TEST_ACTOR, EDITIONS_DIR / "uor-2025.yaml").edition
    bo = make_user(db, "bo", (Role.BESTALLARE, None))
    ids = db.scalars(
        sa.select(Requirement.id).where(
            Requirement.edition_id == edition.id, Requirement.section.in_(SECTIONS)
        )
    ).all()
    round_ = ops.open_round(
        db,
        bo,
        edition=edition,
        title="Uppföljning 2025",
        year=2025,
        opens_on=dt.date(2025, 1, 1),
        deadline=dt.date(2025, 3, 31),
        selection=ops.RoundSelection(requirement_ids=ids),
    )
    db.commit()
    checklists = {
        code: checklist_id
        for code, checklist_id in db.execute(
            sa.select(Unit.code, Checklist.id)
            .join(Checklist)
            .where(Checklist.round_id == round_.id)
        )
    }
    return {"round": round_, "edition": edition, "checklists": checklists}


def set_statuses(db, checklist_id: int, area: str, statuses: list[Status]) -> None:
    """Give the items of one cell the statuses listed (in item order), as if evaluated."""
    item_ids = db.scalars(
        sa.select(ChecklistItem.id)
        .join(Requirement)
        .where(ChecklistItem.checklist_id == checklist_id, Requirement.area == area)
        .order_by(ChecklistItem.id)
    ).all()
    assert len(item_ids) >= len(statuses), (area, len(item_ids))
    for item_id, status in zip(item_ids, statuses, strict=False):
        db.execute(
            sa.update(ChecklistItem).where(ChecklistItem.id == item_id).values(auto_status=status)
        )
    db.commit()


def body_rows(html: str) -> list[str]:
    tbody = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", tbody, re.S)


def row_of(html: str, unit_name: str) -> str:
    return next(r for r in body_rows(html) if f">{unit_name}</a>" in r)


def unit_names(html: str) -> list[str]:
    return [re.search(r'<th scope="row"><a [^>]*>([^<]+)</a>', r).group(1) for r in body_rows(html)]


def cells(row: str) -> list[tuple[str, str]]:
    """The heat-map cells of a row: (class, visible text); an empty cell is ("", "")."""
    after_progress = row.split("</progress>", 1)[1].split("</td>", 1)[1]
    return re.findall(r'<td(?: class="([^"]*)")?>([^<]*)</td>', after_progress)


def test_cells_say_in_visible_text_what_they_mean(client, db, world):
    byske = world["checklists"]["byske"]
    # Kompetens: 3 compliant, 1 non-compliant of 4 judged; tillgänglighet: one to review.
    set_statuses(
        db,
        byske,
        "kompetens",
        [Status.COMPLIANT] * 3 + [Status.NON_COMPLIANT],
    )
    set_statuses(db, byske, "tillganglighet", [Status.TO_REVIEW])
    login(client, "bo", PASSWORD)
    response = client.get(f"/omgangar/{world['round'].id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    areas = re.findall(r'<th scope="col"[^>]*>\s*<a [^>]*>([^<]+)', html)[3:]
    by_area = dict(zip(areas, cells(row_of(html, "Byske hälsocentral")), strict=True))
    titles = {a["code"]: a["title"] for a in world["edition"].areas}
    assert by_area[titles["kompetens"]] == ("heat-3", "3/4")
    assert by_area[titles["tillganglighet"]] == ("heat-review", "granskas")
    untouched = cells(row_of(html, "Backens hälsocentral"))
    assert untouched and all(c == ("heat-none", "obesvarad") for c in untouched)
    # No hidden text or tooltips per cell: the caption, headers and legend explain them.
    tbody = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert "visually-hidden" not in tbody and "title=" not in tbody and "aria-label" not in tbody
    assert '<p class="legend">' in html and "granskas" in html.split("<table", 1)[0]
    assert "<caption" in html


def test_filters_work_without_javascript_and_keep_their_values(client, db, world):
    login(client, "bo", PASSWORD)
    path = f"/omgangar/{world['round'].id}"
    everything = client.get(path).get_data(as_text=True)
    total = len(body_rows(everything))
    skelleftea = db.scalars(
        sa.select(Unit.name)
        .join(Checklist)
        .where(Checklist.round_id == world["round"].id, Unit.area == "skelleftea")
        .order_by(Unit.name)
    ).all()
    html = client.get(path, query_string={"area": "skelleftea"}).get_data(as_text=True)
    assert unit_names(html) == list(skelleftea)
    assert f"{len(skelleftea)} av {total} enheter" in html
    assert '<option value="skelleftea" selected>' in html

    byske = world["checklists"]["byske"]
    db.execute(
        sa.update(Checklist).where(Checklist.id == byske).values(status=ChecklistStatus.SUBMITTED)
    )
    db.commit()
    html = client.get(path, query_string={"status": "submitted"}).get_data(as_text=True)
    assert unit_names(html) == ["Byske hälsocentral"]

    html = client.get(path, query_string={"q": "BYSKE"}).get_data(as_text=True)
    assert unit_names(html) == ["Byske hälsocentral"]
    assert 'value="BYSKE"' in html

    html = client.get(path, query_string={"q": "finns inte"}).get_data(as_text=True)
    assert body_rows(html) and "Inga enheter matchar filtret." in html

    # Unknown values are ignored, never an error.
    response = client.get(path, query_string={"area": "mars", "status": "x", "sort": "y"})
    assert response.status_code == 200
    assert len(body_rows(response.get_data(as_text=True))) == total


def test_sorting_by_progress_and_by_an_area(client, db, world):
    byske, backen = world["checklists"]["byske"], world["checklists"]["backen"]
    set_statuses(db, byske, "kompetens", [Status.NON_COMPLIANT] * 2)
    set_statuses(db, backen, "kompetens", [Status.COMPLIANT] * 2)
    login(client, "bo", PASSWORD)
    path = f"/omgangar/{world['round'].id}"

    html = client.get(path, query_string={"sort": "kompetens"}).get_data(as_text=True)
    names = unit_names(html)
    assert names[:2] == ["Byske hälsocentral", "Backens hälsocentral"]  # worst share first
    assert 'aria-sort="ascending"' in html
    html = client.get(path, query_string={"sort": "kompetens", "dir": "desc"}).get_data(
        as_text=True
    )
    assert unit_names(html)[:2] == ["Backens hälsocentral", "Byske hälsocentral"]

    html = client.get(path, query_string={"sort": "progress", "dir": "desc"}).get_data(as_text=True)
    assert set(unit_names(html)[:2]) == {"Byske hälsocentral", "Backens hälsocentral"}
    html = client.get(path, query_string={"sort": "name", "dir": "desc"}).get_data(as_text=True)
    names = unit_names(html)
    assert names == sorted(names, reverse=True)
    # The header links keep the filters.
    html = client.get(path, query_string={"area": "umea"}).get_data(as_text=True)
    assert re.search(r'href="[^"]*area=umea[^"]*sort=progress', html)


def test_heat_class_thresholds():
    assert heat_class({}) == "heat-none"
    assert heat_class({Status.NOT_ANSWERED: 3}) == "heat-none"
    # Answered but nothing judged: only "to review" waits for someone.
    assert heat_class({Status.TO_REVIEW: 1, Status.NOT_ANSWERED: 2}) == "heat-review"
    assert heat_class({Status.NOT_APPLICABLE: 1, Status.NOT_ANSWERED: 1}) == "heat-none"
    assert heat_class({Status.COMPLIANT: 4}) == "heat-4"
    assert heat_class({Status.COMPLIANT: 3, Status.PARTLY_COMPLIANT: 1}) == "heat-3"
    assert heat_class({Status.COMPLIANT: 1, Status.NON_COMPLIANT: 1}) == "heat-2"
    assert heat_class({Status.COMPLIANT: 1, Status.NON_COMPLIANT: 2}) == "heat-1"


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_filters_and_sorting_make_no_extra_queries(client, world, connection):
    statements = []
    event.listen(
        connection,
        "before_cursor_execute",
        lambda conn, cursor, statement, *args: statements.append(statement),
    )
    login(client, "bo", PASSWORD)
    path = f"/omgangar/{world['round'].id}"
    counts = []
    for query in ({}, {"area": "umea", "operator": "egenregi", "sort": "kompetens", "q": "a"}):
        statements.clear()
        assert client.get(path, query_string=query).status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]
