"""In real Chromium: one checklist from open to accepted. The purchaser opens a round; the unit
answers a ratio, a schedule and a selection section by section, uploads a document and
submits; the reviewer returns one item; the unit sees which, completes and resubmits; the
reviewer judges the document and accepts; findings appear; the audit chain verifies."""

import re
import subprocess

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import VENV_BIN, screenshot
from tests.browser.test_checklist_sections import WEEKDAYS, choose, item, saving, task

pytestmark = pytest.mark.browser

CODES = (
    "kompetens.lakare-specialister-allmanmedicin tillganglighet.oppettider "
    "tillganglighet.1177-basutbud kvalitet.avvikelsehantering"
)
TITLE = "Uppföljning 2025 – test i webbläsare"
BASUTBUD = [
    "Beställ tid",
    "Av/omboka tid",
    "Förnya recept",
    "Förnya hjälpmedel",
    "Förläng sjukskrivning",
    "Beställ journalkopia",
]  # "Kontakta mig" left out


def test_checklist_from_open_to_accepted(live_server, live_env, signed_in, tmp_path):
    purchaser = signed_in("bestallare")
    purchaser.goto(live_server + "/")
    purchaser.get_by_role("link", name="Omgångar", exact=True).click()
    purchaser.get_by_role("link", name="Öppna en ny omgång").click()
    purchaser.get_by_label("Katalogutgåva").select_option("UOR-2025")
    purchaser.get_by_label("Titel").fill(TITLE)
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

    # The unit answers section by section; every item saves on its own.
    unit = signed_in("vc.backen")
    unit.goto(live_server + "/")
    unit.get_by_role("link", name=TITLE).click()
    tasks_url = unit.url
    expect(unit.locator("li.task .tag")).to_have_text(["Ej påbörjad"] * 3)
    task(unit, "2.6").get_by_role("link").click()
    document = tmp_path / "avvikelserutin.txt"
    document.write_text("Rutin för avvikelsehantering, fastställd 2025-01-10.", encoding="utf-8")
    deviations = item(unit, "avvikelse")
    deviations.locator("input[type=file]").set_input_files(str(document))
    with unit.expect_response(lambda r: r.url.endswith("/underlag")):
        deviations.get_by_role("button", name="Ladda upp", exact=True).click()
    expect(deviations.locator("[data-files]")).to_contain_text("avvikelserutin.txt")

    unit.get_by_role("link", name=re.compile(r"^§2\.7 .*→$")).click()
    hours = item(unit, "öppettider")
    for day in WEEKDAYS:
        hours.get_by_label(f"{day} öppnar").fill("08:00")
        hours.get_by_label(f"{day} stänger").fill("17:00")
    basutbud = item(unit, "basutbudets e-tjänster")
    for service in BASUTBUD:
        with saving(unit, basutbud):  # each tick saves (the first also saves the schedule)
            basutbud.get_by_label(service, exact=True).check()
    expect(hours.locator("[data-evaluation]")).to_contain_text("Uppfyllt")
    expect(basutbud.locator("[data-evaluation]")).to_contain_text("Delvis uppfyllt")

    unit.get_by_role("link", name=re.compile(r"^§3\.1 .*→$")).click()
    ratio = item(unit, "specialister i allmänmedicin")
    ratio.get_by_label("Antal verksamma läkare som är specialister i allmänmedicin").fill("3")
    ratio.get_by_label("Antal verksamma läkare på hälsocentralen").fill("8")
    with saving(unit):
        ratio.get_by_label("Kommentar (frivillig)").click()
    expect(ratio.locator("[data-evaluation]")).to_contain_text("3 av 8 läkare (38 %)")
    screenshot(unit, "11-checklista-besvarad")
    unit.get_by_role("link", name="Alla avsnitt").click()
    expect(unit.locator("li.task .tag")).to_have_text(["Klar", "Behöver åtgärd", "Behöver åtgärd"])
    unit.get_by_role("link", name="Kontrollera och skicka in").click()
    unit.get_by_role("button", name="Ja, skicka in checklistan").click()
    expect(unit.get_by_text("Checklistan har skickats in för granskning.")).to_be_visible()

    # The reviewer marks the ratio to be completed and returns the checklist.
    purchaser.goto(live_server + "/")  # waiting for me: the submitted checklist
    purchaser.locator("li", has_text=TITLE).get_by_role("link", name="Backens hälsocentral").click()
    expect(purchaser).to_have_url(tasks_url + "/granska")
    task(purchaser, "3.1").get_by_role("link").click()
    with saving(purchaser):
        item(purchaser, "specialister i allmänmedicin").get_by_label(
            "Ska kompletteras av enheten"
        ).check()
    purchaser.get_by_role("link", name="Alla avsnitt").click()
    expect(purchaser.get_by_role("link", name=re.compile("^Återsänd"))).to_contain_text("1")
    purchaser.get_by_label("Meddelande till enheten vid återsändning").fill(
        "Ange läkarbemanningen per den 1 mars."
    )
    screenshot(purchaser, "12-granskning")
    purchaser.get_by_role("button", name="Återsänd markerade punkter för komplettering").click()
    expect(purchaser.get_by_text("Checklistan har återsänts")).to_be_visible()

    # The unit sees the message and which item to complete, completes it and resubmits.
    unit.goto(tasks_url)
    expect(unit.get_by_text("Ange läkarbemanningen per den 1 mars.")).to_be_visible()
    expect(task(unit, "3.1").locator(".tag")).to_have_text("Återsänd")
    unit.get_by_role("link", name="Visa punkterna som ska kompletteras").click()
    unit.locator("ul.item-links").get_by_role("link").click()
    ratio = item(unit, "specialister i allmänmedicin")
    expect(ratio.locator(".tags")).to_contain_text("Att komplettera")
    ratio.get_by_label("Antal verksamma läkare på hälsocentralen").fill("9")
    with saving(unit):
        ratio.get_by_label("Kommentar (frivillig)").click()
    expect(ratio.locator("[data-evaluation]")).to_contain_text("3 av 9 läkare")
    unit.goto(tasks_url)
    unit.get_by_role("link", name="Kontrollera och skicka in").click()
    unit.get_by_role("button", name="Ja, skicka in checklistan").click()
    expect(unit.get_by_text("Checklistan har skickats in för granskning.")).to_be_visible()

    # The reviewer judges the document (no rule can) and accepts.
    purchaser.goto(live_server + "/")
    purchaser.locator("li", has_text=TITLE).get_by_role("link", name="Backens hälsocentral").click()
    purchaser.get_by_role("link", name=re.compile("^Att bedöma manuellt")).click()
    purchaser.locator("ul.item-links").get_by_role("link").click()
    document_item = item(purchaser, "avvikelsehantering")
    choose(document_item.get_by_label("Bedömning", exact=True), value="compliant")
    document_item.get_by_label("Ditt ställningstagande").fill("Rutinen är fastställd och aktuell.")
    with saving(purchaser):
        document_item.get_by_label("Kommentar till enheten").click()
    purchaser.get_by_role("link", name="Alla avsnitt").click()
    purchaser.get_by_role("button", name="Godkänn checklistan").click()
    expect(
        purchaser.get_by_text("Checklistan är godkänd; 2 iakttagelser registrerade.")
    ).to_be_visible()
    purchaser.get_by_role("link", name="Iakttagelser", exact=True).click()
    rows = purchaser.locator("table.data tbody tr", has_text="Backens hälsocentral").filter(
        has_text=TITLE
    )
    assert rows.count() == 2
    assert "3 av 9 läkare" in " ".join(rows.all_inner_texts())
    screenshot(purchaser, "13-iakttagelser")
    purchaser.get_by_role("link", name="Omgångar", exact=True).click()
    purchaser.get_by_role("link", name=TITLE).click()
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
