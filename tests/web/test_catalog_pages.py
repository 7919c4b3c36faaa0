"""The catalog browser and the edition diff page, as a health-centre user and a purchaser."""

import re

import pytest
import yaml

from audit.models import Role
from checklists.catalog import EDITIONS_DIR, load_edition
from tests.conftest import login
from tests.factories import PASSWORD, TEST_ACTOR, make_unit, make_user

RULEBOOK = EDITIONS_DIR / "uor-2025.yaml"


@pytest.fixture
def catalog(db):
    make_unit(db, "backen")
    make_user(db, "vc", (Role.VERKSAMHETSCHEF, "backen"))
    make_user(db, "bo", (Role.BESTALLARE, None))
    edition = load_edition(db, TEST_ACTOR, RULEBOOK).edition
    load_edition(db, TEST_ACTOR, EDITIONS_DIR / "tillagg-2023.yaml")
    db.commit()
    return edition


def test_browser_shows_every_item_with_source_in_rulebook_order(client, catalog):
    login(client, "vc", PASSWORD)
    page = client.get("/katalog/UOR-2025").get_data(as_text=True)
    requirements = catalog.requirements
    assert f"{len(requirements)} av {len(requirements)} krav" in page
    for requirement in requirements:
        assert f'id="{requirement.code}"' in page
    positions = [
        page.index(f'id="{r.code}"')
        for r in sorted(requirements, key=lambda r: (r.section_key, r.position))
    ]
    assert positions == sorted(positions)
    assert "Uppdrag och regler §2.6" in page  # the source's section under the quote


def test_free_text_search_and_filters(client, catalog):
    login(client, "vc", PASSWORD)
    page = client.get("/katalog/UOR-2025?q=patientsäkerhetsberättelse").get_data(as_text=True)
    assert "patientsäkerhetsberättelse" in page.lower()
    shown = page.count('class="requirement"')
    assert 0 < shown < len(catalog.requirements)
    page = client.get("/katalog/UOR-2025?severity=patient_safety").get_data(as_text=True)
    assert 'class="badge sev-high"' not in page and 'class="badge sev-patient_safety"' in page
    page = client.get("/katalog/UOR-2025?answer_type=count_ratio").get_data(as_text=True)
    assert "mer än hälften" in page
    page = client.get("/katalog/UOR-2025?applies=named").get_data(as_text=True)
    assert "Namngivna enheter" in page
    page = client.get("/katalog/UOR-2025?area=telefoni").get_data(as_text=True)
    assert "§6.9" in page and "§2.6" not in page


def test_unknown_edition_is_404(client, catalog):
    login(client, "vc", PASSWORD)
    assert client.get("/katalog/UOR-1999").status_code == 404


def test_tillagg_page_shows_assignments_units_and_compensation(client, catalog):
    login(client, "bo", PASSWORD)
    page = client.get("/katalog/TU-2023").get_data(as_text=True)
    assert "Slutenvårdsplatser på sjukstugorna" in page
    assert "Vilhelmina sjukstuga: 11784 tkr" in page


def test_diff_page(client, catalog, db, tmp_path):
    data = yaml.safe_load(RULEBOOK.read_text(encoding="utf-8"))
    data["edition"].update(code="UOR-2026-TEST", year=2026, title="Uppdrag och regler 2026")
    data["items"][0]["source_text"] = data["items"][0]["source_text"] + " Ny mening."
    removed = data["items"].pop()
    path = tmp_path / "uor-2026.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    load_edition(db, TEST_ACTOR, path)
    db.commit()
    login(client, "bo", PASSWORD)
    page = client.get("/katalog/jamfor?fran=UOR-2025&till=UOR-2026-TEST").get_data(as_text=True)
    assert removed["code"] in page
    assert re.search(r"<ins>\s*Ny mening.</ins>", page)
    assert 'class="big">1</span> borttagna' in page
    page = client.get("/katalog/jamfor?fran=UOR-2025&till=NOPE").get_data(as_text=True)
    assert "Utgåvan &#39;NOPE&#39; finns inte." in page


def test_word_diff_marks_only_changed_words():
    from web.catalog.routes import word_diff

    left, right = word_diff(
        "Hälsocentralen ska svara inom tre vardagar.", "Hälsocentralen ska svara inom två vardagar."
    )
    assert [t for changed, t in left if changed] == ["tre"]
    assert [t for changed, t in right if changed] == ["två"]
    assert "".join(t for _, t in right) == "Hälsocentralen ska svara inom två vardagar."
    left, right = word_diff({"more_than": 0.5}, {"at_least": 0.6})
    assert any(changed for changed, _ in left) and any(changed for changed, _ in right)
