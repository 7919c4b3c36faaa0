"""The unit register in Chromium: the administratör adds a filial under its main unit, edits
a flag and finds the change in the unit's history; axe-core checks the pages."""

from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_user_admin import _axe


def test_admin_adds_a_filial_and_edits_a_flag(live_server, signed_in):
    problems = {}
    admin = signed_in("admin")
    admin.goto(live_server + "/enheter/")
    admin.get_by_role("link", name="Ny enhet").click()
    admin.get_by_label("Kod").fill("Fel kod")
    admin.get_by_label("Namn", exact=True).fill("Ersmarks filial")
    admin.get_by_label("Typ").select_option(label="Filial")
    admin.get_by_role("button", name="Lägg till enheten").click()
    summary = admin.locator("#error-summary")
    expect(summary).to_contain_text("Koden får bara innehålla")
    _axe(admin, problems, "ny enhet med fel")
    screenshot(admin, "40-ny-enhet-fel")
    expect(admin.get_by_label("Namn", exact=True)).to_have_value("Ersmarks filial")
    admin.get_by_label("Kod").fill("ersmark-filial")
    admin.get_by_label("Huvudmottagning").select_option(label="Backens hälsocentral")
    admin.get_by_role("button", name="Lägg till enheten").click()
    expect(admin.get_by_text("Enheten har lagts till.")).to_be_visible()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Ersmarks filial")
    expect(admin.locator("dl.facts")).to_contain_text("Backens hälsocentral")

    admin.goto(live_server + "/enheter/backen")
    expect(admin.get_by_role("link", name="Ersmarks filial")).to_be_visible()
    admin.get_by_role("link", name="Redigera enheten").click()
    _axe(admin, problems, "redigera enhet")
    admin.set_viewport_size({"width": 375, "height": 800})
    screenshot(admin, "41-redigera-enhet-375")
    admin.set_viewport_size({"width": 1280, "height": 900})
    admin.get_by_label("Ansluten till regionens växelplattform (§6.9)").uncheck()
    admin.get_by_role("button", name="Spara enheten").click()
    expect(admin.get_by_text("Enheten har sparats.")).to_be_visible()
    history = admin.locator("section", has=admin.get_by_role("heading", name="Historik"))
    expect(history.locator("tbody tr").first).to_contain_text("ändrad")
    expect(history.locator("tbody tr").first).to_contain_text("Regionens växel (§6.9)")

    admin.goto(live_server + "/enheter/import")
    _axe(admin, problems, "importera enheter")
    assert all(not found for found in problems.values()), problems
