"""The årshjul in real Chromium: the purchaser's year over every unit as a month view (the
wheel and a list per month) and as a list, filtered by unit, area and status through the GET
form (also without JavaScript); a unit's own year at 375 px without sideways scrolling;
axe-core on each; screenshots at 1280 and 375 px."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import no_horizontal_scroll, screenshot
from tests.browser.test_accessibility import _audit

pytestmark = pytest.mark.browser
YEAR = dt.date.today().year


def test_the_purchasers_year_as_months_and_as_a_list(live_server, signed_in):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    bo = signed_in("bestallare")
    bo.goto(live_server + "/")
    bo.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Årshjul").click()
    expect(bo.get_by_role("heading", level=1)).to_have_text(f"Årshjul {YEAR}")
    for month in ("Januari", "Juni", "December"):
        expect(bo.get_by_role("heading", name=f"{month} {YEAR}")).to_be_visible()
    # The purchaser's own duties, and the wheel with a text alternative, each month a link.
    june = bo.locator("#m6")
    expect(june).to_contain_text("Gemensam dialog med utförarna (1 av minst 2, före sommaren)")
    expect(june).to_contain_text(f"senast {YEAR}-06-18" if YEAR == 2026 else "senast")
    expect(bo.locator("svg > title").first).to_contain_text("Året som ett hjul")
    assert bo.locator("svg a").count() == 12
    assert _audit(bo, axe) == []
    screenshot(bo, "60-arshjul-manader-1280")

    # Filter: one unit, the area Kvalitet och patientsäkerhet, as a list.
    bo.get_by_label("Enhet").select_option(label="Backens hälsocentral")
    bo.get_by_label("Område").select_option(label="Kvalitet och patientsäkerhet")
    bo.get_by_label("Visa som").select_option(label="Lista")
    bo.get_by_role("button", name="Visa", exact=True).click()
    assert "enhet=backen" in bo.url and "visa=lista" in bo.url
    table = bo.get_by_role("table")
    expect(table).to_contain_text(f"Patientsäkerhetsberättelsen för {YEAR - 1}")
    expect(table).to_contain_text("Backens hälsocentral")
    expect(table).not_to_contain_text("Gemensam dialog")
    expect(table.locator("tbody tr").first).to_contain_text(f"{YEAR}-03-01")
    assert _audit(bo, axe) == []
    screenshot(bo, "61-arshjul-lista-filtrerad-1280")

    # Late only: 1 March has passed this year, so Backen's report is late.
    bo.get_by_label("Status").select_option(label="Försenad")
    bo.get_by_role("button", name="Visa", exact=True).click()
    expect(bo.get_by_role("table")).to_contain_text("Försenad")
    expect(bo.get_by_role("table")).not_to_contain_text("Kommande")


def test_a_units_year_at_375_px_and_without_javascript(live_server, signed_in):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    vc = signed_in("vc.backen", width=375, height=800)
    vc.goto(live_server + "/enheter/backen")
    vc.get_by_role("link", name="Enhetens årshjul").click()
    expect(vc.get_by_role("heading", level=1)).to_have_text(
        f"Årshjul för Backens hälsocentral {YEAR}"
    )
    expect(vc.locator("#m3")).to_contain_text(f"Patientsäkerhetsberättelsen för {YEAR - 1}")
    expect(vc.locator("#m3")).not_to_contain_text("Gemensam dialog")
    assert no_horizontal_scroll(vc)
    assert _audit(vc, axe) == []
    screenshot(vc, "62-arshjul-enhet-375")
    vc.get_by_label("Visa som").select_option(label="Lista")
    vc.get_by_role("button", name="Visa", exact=True).click()
    expect(vc.get_by_role("table")).to_be_visible()
    assert no_horizontal_scroll(vc)
    assert _audit(vc, axe) == []
    screenshot(vc, "63-arshjul-enhet-lista-375")

    # Without JavaScript the filters are a plain GET form.
    plain = signed_in("vc.backen", javascript=False)
    plain.goto(live_server + "/arshjul/enhet/backen")
    plain.get_by_label("Område").select_option(label="Kvalitet och patientsäkerhet")
    plain.get_by_label("Visa som").select_option(label="Lista")
    plain.get_by_role("button", name="Visa", exact=True).click()
    assert "omrade=kvalitet" in plain.url
    expect(plain.get_by_role("table")).to_be_visible()


def test_the_report_forms_say_what_is_wrong_and_pass_axe(live_server, signed_in):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    vc = signed_in("vc.backen")
    vc.goto(live_server + f"/arshjul/enhet/backen?ar={YEAR}&visa=lista")
    vc.get_by_role("link", name=f"Patientsäkerhetsberättelsen för {YEAR - 1}").click()
    expect(vc.get_by_role("heading", level=1)).to_have_text(
        f"Patientsäkerhetsberättelse {YEAR - 1}"
    )
    vc.get_by_label("Datum då den lämnades till Region Västerbotten").fill(f"{YEAR - 1}-02-27")
    vc.get_by_role("button", name="Lämna rapporten").click()
    summary = vc.locator("#error-summary")
    expect(summary).to_contain_text(f"Datumet ska ligga i uppföljningsåret {YEAR}")
    expect(summary).to_contain_text("Välj filen med patientsäkerhetsberättelsen.")
    expect(vc.get_by_label("Datum då den lämnades till Region Västerbotten")).to_have_value(
        f"{YEAR - 1}-02-27"
    )
    assert _audit(vc, axe) == []
    screenshot(vc, "64-patientsakerhetsberattelse-fel-1280")

    vc.goto(live_server + f"/arshjul/enhet/backen/tillaggsuppdrag/{YEAR - 1}/tu.kum")
    vc.get_by_role("button", name="Lämna årsrapporten").click()
    expect(vc.locator("#error-summary")).to_contain_text("Välj filen som raden efterfrågar.")
    assert _audit(vc, axe) == []
    screenshot(vc, "65-arsrapport-tillaggsuppdrag-fel-1280")
