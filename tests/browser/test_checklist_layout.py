"""In real Chromium: the checklist pages at a desktop width (1280 px) and a phone's (375 px).
No page scrolls sideways on the phone; screenshots of each page type go to test-artifacts/ for
people to look at."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import no_horizontal_scroll, screenshot, seed_checklist
from tests.browser.test_checklist_sections import (
    ALL_SERVICES,
    BASUTBUD,
    CHANGE_OF_HEAD,
    DEVIATIONS,
    HOURS,
    NAMED,
    OPEN_HOURS,
    PHYSIO,
    RATIO,
    SAFETY,
    item,
)

pytestmark = pytest.mark.browser

LEVNADSVANOR = "bemotande.levnadsvanor-fragor"  # §2.2.1, left unanswered: Ej påbörjad
CODES = [LEVNADSVANOR, SAFETY, DEVIATIONS, HOURS, BASUTBUD, NAMED, CHANGE_OF_HEAD, RATIO, PHYSIO]


@pytest.fixture(scope="module")
def checklists(live_server, live_env):
    """One checklist being answered (every section status) and one submitted for review."""
    answering = seed_checklist(
        live_env,
        "Uppföljning 2025 – Backen",
        CODES,
        answers={
            SAFETY: {"answer": "yes"},
            HOURS: OPEN_HOURS,
            BASUTBUD: {"selected": ALL_SERVICES[:3]},
            NAMED: {"persons": [{"name": "Vera Verksamhetschef", "title": "Verksamhetschef"}]},
            CHANGE_OF_HEAD: {"answer": "yes"},
            RATIO: {"numerator": "6", "denominator": "8"},
            PHYSIO: {"value": "2"},
        },
    )
    submitted = seed_checklist(
        live_env,
        "Uppföljning 2025 – Backen, inskickad",
        CODES,
        answers={
            LEVNADSVANOR: {"selected": ["Matvanor", "Fysisk aktivitet", "Tobaksbruk"]},
            SAFETY: {"answer": "yes"},
            HOURS: OPEN_HOURS,
            BASUTBUD: {"selected": ALL_SERVICES[:-1]},
            NAMED: {"persons": [{"name": "Vera Verksamhetschef", "title": "Verksamhetschef"}]},
            CHANGE_OF_HEAD: {"not_applicable": True, "reason": "Inget byte under 2024."},
            RATIO: {"numerator": "3", "denominator": "8"},
            PHYSIO: {"value": "2"},
        },
        documents=[DEVIATIONS],
        submit_as="vc.backen",
    )
    return answering, submitted


@pytest.mark.parametrize("width", [1280, 375])
def test_checklist_pages_at_desktop_and_phone_width(live_server, signed_in, checklists, width):
    answering, submitted = checklists
    wide = []  # pages that scroll sideways

    def look(page, path, name):
        page.goto(live_server + path)
        screenshot(page, f"{name}-{width}")
        if not no_horizontal_scroll(page):
            wide.append(path)

    unit = signed_in("vc.backen", width=width)
    look(unit, f"/checklistor/{answering}", "50-uppgiftslista")
    expect(unit.locator("li.task .tag")).to_have_text(
        ["Ej påbörjad", "Påbörjad", "Behöver åtgärd", "Klar"]
    )
    look(unit, f"/checklistor/{answering}?visa=obesvarade", "51-uppgiftslista-obesvarade")
    look(unit, f"/checklistor/{answering}/avsnitt/2.7", "52-avsnitt-oppettider")
    look(unit, f"/checklistor/{answering}/avsnitt/3.1", "53-avsnitt-kompetens")
    # the section in its error state, refused in place
    ratio = item(unit, "specialister i allmänmedicin")
    ratio.get_by_label("Antal verksamma läkare som är specialister i allmänmedicin").fill("9")
    with unit.expect_response(lambda r: r.url.endswith("/svar")):
        ratio.get_by_label("Kommentar (frivillig)").click()
    expect(ratio.locator("p.error:visible")).to_have_count(1)
    screenshot(unit, f"54-avsnitt-fel-{width}")
    if not no_horizontal_scroll(unit):
        wide.append("avsnitt 3.1 med fel")
    look(unit, f"/checklistor/{answering}/skicka-in", "55-skicka-in")
    look(unit, f"/checklistor/{submitted}/avsnitt/2.7", "56-avsnitt-last")

    reviewer = signed_in("bestallare", width=width)
    look(reviewer, f"/checklistor/{submitted}/granska", "57-granska")
    look(reviewer, f"/checklistor/{submitted}/granska?visa=ej-uppfyllda", "58-granska-ej-uppfyllda")
    look(reviewer, f"/checklistor/{submitted}/granska/avsnitt/2.7", "59-granska-avsnitt")
    look(reviewer, f"/checklistor/{submitted}/granska/avsnitt/2.6", "60-granska-avsnitt-dokument")
    assert wide == [], f"scrolls sideways at {width} px: {wide}"
