"""In real Chromium with JavaScript switched off: the section pages are plain forms and work
the same. "Spara och fortsätt" saves and goes on to the next section; a refusal comes back as
the page with an error summary (fellista) whose title starts "Fel:" and whose links lead to the
fields, with everything typed kept; uploads, submitting and the reviewer's judgements too."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import in_viewport, screenshot, seed_checklist
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
    WEEKDAYS,
    item,
    task,
)

pytestmark = pytest.mark.browser


def summary_links_lead_to_fields(page):
    """Every link of the fellista points at a field of the page; the list of hrefs."""
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    hrefs = summary.get_by_role("link").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    assert hrefs
    for href in hrefs:
        assert href.startswith("#")
        target = page.locator(f"[id='{href[1:]}']")
        expect(target).to_have_count(1)
        assert target.evaluate("el => ['INPUT', 'SELECT', 'TEXTAREA'].includes(el.tagName)"), href
    return hrefs


def test_answer_continue_and_error_summary_without_javascript(
    live_server, live_env, signed_in, tmp_path
):
    checklist = seed_checklist(
        live_env,
        "Uppföljning 2025 – utan JavaScript",
        [SAFETY, DEVIATIONS, HOURS, BASUTBUD, NAMED, CHANGE_OF_HEAD, RATIO, PHYSIO],
    )
    page = signed_in("vc.backen", javascript=False)
    page.goto(f"{live_server}/checklistor/{checklist}")
    expect(task(page, "2.6").locator(".tag")).to_have_text("Ej påbörjad")
    task(page, "2.6").get_by_role("link").click()

    # A refused upload: the page again, the refusal beside the file input and in the list.
    program = tmp_path / "rutin.exe"
    program.write_bytes(b"MZ\x90\x00" + b"\x00" * 200)
    deviations = item(page, "avvikelsehantering")
    deviations.locator("input[type=file]").set_input_files(str(program))
    deviations.get_by_role("button", name="Ladda upp", exact=True).click()
    expect(page).to_have_title(re.compile("^Fel: "))
    assert summary_links_lead_to_fields(page) == [
        "#" + item(page, "avvikelsehantering").locator("input[type=file]").get_attribute("id")
    ]
    deviations = item(page, "avvikelsehantering")
    expect(deviations.locator("[data-upload-error]")).to_contain_text("rutin.exe")
    document = tmp_path / "avvikelserutin.txt"
    document.write_text("Rutin för avvikelsehantering, fastställd 2025-01-10.", encoding="utf-8")
    deviations.locator("input[type=file]").set_input_files(str(document))
    deviations.get_by_role("button", name="Ladda upp", exact=True).click()
    expect(page.get_by_text("Filen avvikelserutin.txt har laddats upp.")).to_be_visible()
    assert re.search(r"/avsnitt/2\.6#item-\d+$", page.url)

    item(page, "systematiskt patientsäkerhetsarbete").get_by_label("Ja", exact=True).check()
    page.get_by_role("button", name="Spara och fortsätt").click()
    assert page.url.endswith("/avsnitt/2.7")
    expect(page.get_by_text("1 svar sparat.")).to_be_visible()

    # A bad schedule and a good selection: the selection is saved, the schedule is refused
    # with a fellista that links to the field; what was typed stays.
    hours = item(page, "ordinarie öppettider")
    hours.get_by_label("Måndag öppnar").fill("08:00")
    hours.get_by_label("Måndag stänger").fill("07:00")
    basutbud = item(page, "basutbudets e-tjänster")
    for service in ALL_SERVICES:
        basutbud.get_by_label(service, exact=True).check()
    page.get_by_role("button", name="Spara", exact=True).click()
    expect(page).to_have_title(re.compile("^Fel: "))
    summary = page.locator(".error-summary")
    expect(summary.get_by_role("heading")).to_have_text("1 svar kunde inte sparas")
    expect(summary).to_contain_text("Stängningstiden på måndag måste vara efter öppningstiden")
    screenshot(page, "40-utan-js-fellista")
    (href,) = summary_links_lead_to_fields(page)
    hours = item(page, "ordinarie öppettider")
    closing = hours.get_by_label("Måndag stänger")
    assert "#" + closing.get_attribute("id") == href
    expect(closing).to_have_value("07:00")
    expect(closing).to_have_attribute("aria-invalid", "true")
    expect(hours.get_by_label("Måndag öppnar")).to_have_value("08:00")
    expect(page.locator(f"[id='{href[1:]}-error']")).to_be_visible()
    expect(item(page, "basutbudets e-tjänster").locator("[data-evaluation]")).to_contain_text(
        "Uppfyllt"
    )
    summary.get_by_role("link").click()
    assert page.url.endswith(href)
    assert in_viewport(page, closing)

    for day in WEEKDAYS:
        hours.get_by_label(f"{day} öppnar").fill("08:00")
        hours.get_by_label(f"{day} stänger").fill("17:00")
    page.get_by_role("button", name="Spara och fortsätt").click()
    assert page.url.endswith("/avsnitt/3.1")
    expect(page.get_by_text("1 svar sparat.")).to_be_visible()

    # One item's own button posts the section too and comes back to that item.
    physio = item(page, "fysioterapeuter")
    physio.get_by_label("Värde").fill("2")
    physio.get_by_role("button", name="Spara punkten").click()
    assert re.search(r"/avsnitt/3\.1#item-\d+$", page.url)
    expect(page.get_by_text("1 svar sparat.")).to_be_visible()
    expect(item(page, "fysioterapeuter").locator("[data-evaluation]")).to_contain_text("Uppfyllt")

    head = item(page, "utsedda verksamhetschef")
    head.get_by_label("Namn").first.fill("Vera Verksamhetschef")
    item(page, "bytet av verksamhetschef").get_by_label("Ja", exact=True).check()
    ratio = item(page, "specialister i allmänmedicin")
    ratio.get_by_label("Antal verksamma läkare som är specialister i allmänmedicin").fill("6")
    ratio.get_by_label("Antal verksamma läkare på hälsocentralen").fill("8")
    page.get_by_role("button", name="Spara och fortsätt").click()  # the last section
    assert page.url.endswith(f"/checklistor/{checklist}")
    expect(page.get_by_text("3 svar sparade.")).to_be_visible()
    for key in ("2.6", "2.7", "3.1"):
        expect(task(page, key).locator(".tag")).to_have_text("Klar")

    page.get_by_role("link", name="Kontrollera och skicka in").click()
    page.get_by_role("button", name="Ja, skicka in checklistan").click()
    expect(page.get_by_text("Checklistan har skickats in för granskning.")).to_be_visible()
    page.goto(f"{live_server}/checklistor/{checklist}/avsnitt/2.7")
    expect(
        page.locator("main").locator("input:not([type=hidden]), textarea, select")
    ).to_have_count(0)


def test_reviewer_without_javascript(live_server, live_env, signed_in):
    checklist = seed_checklist(
        live_env,
        "Uppföljning 2025 – granskning utan JavaScript",
        [SAFETY, DEVIATIONS, HOURS],
        answers={SAFETY: {"answer": "yes"}, HOURS: OPEN_HOURS},
        documents=[DEVIATIONS],
        submit_as="vc.backen",
    )
    page = signed_in("bestallare", javascript=False)
    page.goto(f"{live_server}/checklistor/{checklist}/granska?visa=att-bedoma")
    page.locator("ul.item-links").get_by_role("link").first.click()
    document = item(page, "avvikelsehantering")
    document.get_by_label("Bedömning").select_option(label="Uppfyllt")
    page.get_by_role("button", name="Spara", exact=True).click()
    expect(page).to_have_title(re.compile("^Fel: "))
    (href,) = summary_links_lead_to_fields(page)
    statement = item(page, "avvikelsehantering").get_by_label(
        "Ditt ställningstagande (visas för enheten)"
    )
    assert href == "#" + statement.get_attribute("id")
    expect(item(page, "avvikelsehantering").get_by_label("Bedömning")).to_have_value("compliant")
    statement.fill("Rutinen är fastställd och aktuell.")
    page.get_by_role("button", name="Spara och fortsätt").click()
    assert page.url.endswith("/granska/avsnitt/2.7")
    expect(page.get_by_text("Granskningen har sparats.")).to_be_visible()
    page.get_by_role("link", name="Alla avsnitt").click()
    page.get_by_role("button", name="Godkänn checklistan").click()
    expect(page.get_by_text("Checklistan är godkänd; 0 iakttagelser registrerade.")).to_be_visible()
