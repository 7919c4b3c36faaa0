"""In real Chromium: a demo-style user logs in, sees their start page, and logs out."""

import pytest

from tests.browser.conftest import BROWSER_PASSWORD, screenshot

pytestmark = pytest.mark.browser


def test_unit_head_logs_in_and_sees_start_page(live_server, page):
    page.goto(live_server + "/")
    assert "/logga-in" in page.url
    screenshot(page, "01-inloggning")
    page.get_by_label("Användarnamn").fill("vc.backen")
    page.get_by_label("Lösenord").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(live_server + "/")
    assert page.get_by_role("heading", name="Välkommen, Vera Verksamhetschef").is_visible()
    assert page.get_by_role("link", name="Backens hälsocentral").is_visible()
    # What waits depends on what other browser tests did on the shared server; the panel is
    # always there.
    assert page.get_by_role("heading", name="Väntar på dig").is_visible()
    screenshot(page, "02-startsida-verksamhetschef")

    page.get_by_role("link", name="Enheter", exact=True).click()
    assert page.locator("table.data").get_by_role("row").count() == 2  # header + own unit
    page.get_by_role("button", name="Logga ut").click()
    page.wait_for_url("**/logga-in")
    assert page.get_by_text("Du är utloggad.").is_visible()


def test_wrong_password_keeps_user_name(live_server, page):
    page.goto(live_server + "/logga-in")
    page.get_by_label("Användarnamn").fill("vc.backen")
    page.get_by_label("Lösenord").fill("fel lösenord helt")
    page.get_by_role("button", name="Logga in").click()
    assert page.get_by_role("alert").inner_text().strip() == "Fel användarnamn eller lösenord."
    assert page.get_by_label("Användarnamn").input_value() == "vc.backen"


def _units_in_register(live_env, **where) -> int:
    import sqlalchemy as sa

    from audit.db import make_engine
    from audit.models import Unit

    engine = make_engine(live_env["HALSOVAL_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            conditions = [getattr(Unit, k) == v for k, v in where.items()]
            return conn.scalar(sa.select(sa.func.count()).select_from(Unit).where(*conditions))
    finally:
        engine.dispose()


def test_purchaser_sees_units_table_sorted_and_filtered(live_server, live_env, page):
    page.goto(live_server + "/logga-in")
    page.get_by_label("Användarnamn").fill("bestallare")
    page.get_by_label("Lösenord").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(live_server + "/")
    screenshot(page, "03-startsida-bestallare")
    page.get_by_role("link", name="Enheter", exact=True).click()
    # Every unit of the register (the seed file's 34 and any other test has added by now).
    total = _units_in_register(live_env)
    assert total >= 34
    assert page.get_by_role("status").first.inner_text().strip() == f"{total} enheter"
    page.get_by_label("Typ").select_option("sjukstuga")
    page.get_by_role("button", name="Filtrera").click()
    assert page.get_by_role("status").first.inner_text().strip() == "7 enheter"
    page.get_by_role("link", name="Namn").click()
    first = page.locator("table.data tbody tr").first.inner_text()
    assert first.startswith("Åsele sjukstuga")  # descending order after the click
    screenshot(page, "04-enheter")
    page.get_by_role("link", name="Tärnaby sjukstuga").click()
    assert page.get_by_role("heading", name="Tärnaby sjukstuga").is_visible()
    screenshot(page, "05-enhet")
