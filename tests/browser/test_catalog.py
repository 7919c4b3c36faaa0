"""In real Chromium: a health-centre head browses the catalog; a purchaser compares editions."""

import subprocess

import pytest
import yaml

from checklists.catalog import EDITIONS_DIR
from tests.browser.conftest import BROWSER_PASSWORD, VENV_BIN, screenshot

pytestmark = pytest.mark.browser


def _login(page, live_server, username):
    page.goto(live_server + "/logga-in")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(live_server + "/")


def test_head_of_unit_searches_and_filters_the_catalog(live_server, page):
    _login(page, live_server, "vc.backen")
    page.get_by_role("link", name="Katalog", exact=True).click()
    page.get_by_role("link", name="UOR-2025").click()
    status = page.get_by_role("status").first
    total = int(status.inner_text().split(" av ")[1].split()[0])
    assert total > 100
    screenshot(page, "06-katalog")
    page.get_by_role("searchbox", name="Sök").fill("1177")
    page.get_by_role("button", name="Filtrera").click()
    shown = int(page.get_by_role("status").first.inner_text().split()[0])
    assert 0 < shown < total
    basutbud = page.locator("article#tillganglighet\\.1177-basutbud")
    assert "Förnya recept" in basutbud.inner_text()
    assert "Uppdrag och regler §2.7.3" in basutbud.locator("blockquote").inner_text()
    page.get_by_label("Allvarlighetsgrad").select_option("patient_safety")
    page.get_by_role("button", name="Filtrera").click()
    assert page.locator("article .badge.sev-high").count() == 0
    screenshot(page, "07-katalog-filtrerad")


def test_purchaser_compares_two_editions(live_server, live_env, page, tmp_path):
    data = yaml.safe_load((EDITIONS_DIR / "uor-2025.yaml").read_text(encoding="utf-8"))
    data["edition"].update(
        code="UOR-2026-TEST", year=2026, title="Uppdrag och regler 2026 (testutgåva)"
    )
    data["items"][3]["source_text"] += " Ny mening 2026."
    data["items"].pop(10)
    path = tmp_path / "uor-2026-test.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    subprocess.run(
        [str(VENV_BIN / "halsoval"), "catalog", "load", str(path)],
        env=live_env,
        check=True,
        capture_output=True,
    )
    _login(page, live_server, "bestallare")
    page.goto(live_server + "/katalog/jamfor")
    page.get_by_label("Från utgåva").select_option("UOR-2025")
    page.get_by_label("Till utgåva").select_option("UOR-2026-TEST")
    page.get_by_role("button", name="Jämför").click()
    cards = page.get_by_role("status").first.inner_text()
    assert "1\nborttagna" in cards or "1 borttagna" in cards
    assert page.locator("ins", has_text="Ny mening 2026.").count() == 1
    screenshot(page, "08-katalog-jamforelse")
