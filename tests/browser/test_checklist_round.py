"""In real Chromium: one checklist from open to accepted. The purchaser opens a round; the unit
answers a ratio, a schedule and a selection, uploads a document and submits; the reviewer
returns one item; the unit completes and resubmits; the reviewer accepts; findings appear; the
audit chain verifies."""

import subprocess

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import BROWSER_PASSWORD, VENV_BIN, screenshot

pytestmark = pytest.mark.browser

CODES = (
    "kompetens.lakare-specialister-allmanmedicin tillganglighet.oppettider "
    "tillganglighet.1177-basutbud kvalitet.avvikelsehantering"
)
BASUTBUD = [
    "Beställ tid",
    "Av/omboka tid",
    "Förnya recept",
    "Förnya hjälpmedel",
    "Förläng sjukskrivning",
    "Beställ journalkopia",
]  # "Kontakta mig" left out


def login(browser, live_server, username):
    context = browser.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(live_server + "/logga-in")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(live_server + "/")
    return page


def item_block(page, question_part):
    return page.locator("fieldset.item", has=page.locator("legend", has_text=question_part))


def test_checklist_from_open_to_accepted(browser, live_server, live_env, tmp_path):
    purchaser = login(browser, live_server, "bestallare")
    purchaser.get_by_role("link", name="Omgångar", exact=True).click()
    purchaser.get_by_role("link", name="Öppna en ny omgång").click()
    purchaser.get_by_label("Katalogutgåva").select_option("UOR-2025")
    purchaser.get_by_label("Titel").fill("Uppföljning 2025 – test i webbläsare")
    purchaser.get_by_label("Uppföljningsår").fill("2025")
    purchaser.get_by_label("Öppnar").fill("2025-01-01")
    purchaser.get_by_label("Sista svarsdag").fill("2025-03-31")
    purchaser.get_by_label("Handplockade krav (koder)").check()
    purchaser.get_by_label("Kravkoder").fill(CODES)
    purchaser.get_by_label("Handplockade enheter").check()
    purchaser.get_by_label("Backens hälsocentral").check()
    screenshot(purchaser, "10-ny-omgang")
    purchaser.get_by_role("button", name="Öppna omgången").click()
    expect(purchaser.get_by_text("Omgången har öppnats.")).to_be_visible()
    expect(purchaser.get_by_role("link", name="Backens hälsocentral")).to_be_visible()

    unit = login(browser, live_server, "vc.backen")
    unit.get_by_role("link", name="Uppföljning 2025 – test i webbläsare").click()
    ratio = item_block(unit, "specialister i allmänmedicin")
    ratio.get_by_label("Antal verksamma läkare på hälsocentralen").fill("8")
    ratio.get_by_label("Antal verksamma läkare som är specialister i allmänmedicin").fill("3")
    hours = item_block(unit, "öppettider").first
    for day in ("Måndag", "Tisdag", "Onsdag", "Torsdag", "Fredag"):
        hours.get_by_label(f"{day} öppnar").fill("08:00")
        hours.get_by_label(f"{day} stänger").fill("17:00")
    basutbud = item_block(unit, "basutbudets e-tjänster")
    for service in BASUTBUD:
        basutbud.get_by_label(service, exact=True).check()
    unit.get_by_role("button", name="Spara utkast").click()
    expect(unit.get_by_text("3 svar sparade.")).to_be_visible()
    assert "3 av 8 läkare (38 %)" in ratio.inner_text()
    assert "Delvis uppfyllt" in basutbud.inner_text()
    document = tmp_path / "avvikelserutin.txt"
    document.write_text("Rutin för avvikelsehantering, fastställd 2025-01-10.", encoding="utf-8")
    deviations = item_block(unit, "avvikelse").first
    deviations.locator("input[type=file]").set_input_files(str(document))
    deviations.get_by_role("button", name="Ladda upp", exact=True).click()
    expect(unit.get_by_text("Filen avvikelserutin.txt har laddats upp.")).to_be_visible()
    screenshot(unit, "11-checklista-besvarad")
    unit.get_by_role("button", name="Skicka in checklistan").click()
    expect(unit.get_by_text("Checklistan har skickats in för granskning.")).to_be_visible()

    purchaser.goto(live_server + "/")
    purchaser.get_by_role("link", name="Backens hälsocentral").click()
    purchaser.get_by_role("row", name="specialister i allmänmedicin").get_by_label(
        "Ska kompletteras"
    ).check()
    purchaser.get_by_label("Meddelande till enheten vid återsändning").fill(
        "Ange läkarbemanningen per den 1 mars."
    )
    screenshot(purchaser, "12-granskning")
    purchaser.get_by_role("button", name="Återsänd markerade punkter för komplettering").click()
    expect(purchaser.get_by_text("Checklistan har återsänts")).to_be_visible()

    unit.reload()
    expect(unit.get_by_text("Ange läkarbemanningen per den 1 mars.")).to_be_visible()
    ratio = item_block(unit, "specialister i allmänmedicin")
    assert "Att komplettera" in ratio.inner_text()
    ratio.get_by_label("Antal verksamma läkare på hälsocentralen").fill("9")
    unit.get_by_role("button", name="Spara utkast").click()
    unit.get_by_role("button", name="Skicka in checklistan").click()
    expect(unit.get_by_text("Checklistan har skickats in för granskning.")).to_be_visible()

    purchaser.goto(live_server + "/")
    purchaser.get_by_role("link", name="Backens hälsocentral").click()
    document_row = purchaser.get_by_role("row", name="avvikelsehantering")
    document_row.get_by_label("Bedömning", exact=True).select_option("compliant")
    document_row.get_by_label("Ditt ställningstagande").fill("Rutinen är fastställd och aktuell.")
    purchaser.get_by_role("button", name="Godkänn checklistan").click()
    expect(
        purchaser.get_by_text("Checklistan är godkänd; 2 iakttagelser registrerade.")
    ).to_be_visible()
    purchaser.get_by_role("link", name="Iakttagelser", exact=True).click()
    rows = purchaser.locator("table.data tbody tr")
    assert rows.count() == 2
    assert "3 av 9 läkare" in rows.all_inner_texts()[0] + rows.all_inner_texts()[1]
    screenshot(purchaser, "13-iakttagelser")
    purchaser.get_by_role("link", name="Omgångar", exact=True).click()
    purchaser.get_by_role("link", name="Uppföljning 2025 – test i webbläsare").click()
    heat = purchaser.locator("table.heatmap tbody tr", has_text="Backens hälsocentral")
    assert "Godkänd" in heat.inner_text()
    screenshot(purchaser, "14-omgang-oversikt")

    verify = subprocess.run(
        [str(VENV_BIN / "halsoval"), "audit", "verify"],
        env=live_env,
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 0, verify.stderr
    assert "Kedjan är hel" in verify.stdout
