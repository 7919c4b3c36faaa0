"""User administration in Chromium: the administratör creates an account, sees its one-time
password once, grants and revokes a role; the new user logs in, is led to choose a password,
gets a weak one refused in the error summary, and goes on. axe-core checks every page."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import TIMEOUT_MS, screenshot
from tests.browser.test_accessibility import WCAG_AA


def _axe(page, problems, name):
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}})
    violations = results.response["violations"]
    problems[name] = [f"{v['id']}: {v['help']} ({v['nodes'][0]['target']})" for v in violations]


def _focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_admin_creates_a_user_who_chooses_a_password(browser, live_server, signed_in):
    problems = {}
    admin = signed_in("admin")
    admin.goto(live_server + "/")
    admin.get_by_role("link", name="Användare", exact=True).click()
    expect(admin.get_by_role("heading", name="Användare", level=1)).to_be_visible()
    expect(admin.locator("table.data")).to_contain_text("Ada Administratör")
    _axe(admin, problems, "användarlistan")
    screenshot(admin, "30-anvandare")

    admin.get_by_role("link", name="Ny användare").click()
    admin.get_by_role("button", name="Skapa användaren").click()
    # The error summary takes focus; its links lead to the fields; the title says "Fel".
    summary = admin.locator("#error-summary")
    expect(summary).to_contain_text("Ange ett användarnamn.")
    assert _focused_id(admin) == "error-summary"
    assert admin.title().startswith("Fel:")
    _axe(admin, problems, "ny användare med fel")
    summary.get_by_role("link", name="Ange personens namn.").click()
    assert _focused_id(admin) == "display_name"

    admin.get_by_label("Användarnamn").fill("stina.s")
    admin.get_by_label("Namn", exact=True).fill("Stina Sköterska")
    admin.get_by_label("Roll", exact=True).select_option(label="Vårdcentralspersonal")
    admin.get_by_role("button", name="Skapa användaren").click()
    # No unit for a unit role: refused beside the field, what was typed kept.
    expect(admin.locator("#unit-error")).to_have_text("Välj den enhet som rollen gäller.")
    expect(admin.get_by_label("Namn", exact=True)).to_have_value("Stina Sköterska")
    admin.get_by_label("Enhet").select_option(value="backen")
    admin.get_by_role("button", name="Skapa användaren").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text(
        "Användaren Stina Sköterska har skapats"
    )
    password = admin.locator("#otp").inner_text()
    assert re.fullmatch(r"[a-z0-9]{4}(-[a-z0-9]{4}){3}", password)
    _axe(admin, problems, "engångslösenord")
    screenshot(admin, "31-engangslosenord")

    admin.get_by_role("link", name="Gå till användaren").click()
    admin.get_by_label("Roll", exact=True).select_option(label="Läsare")
    admin.get_by_role("button", name="Tilldela rollen").click()
    expect(admin.get_by_text("Rollen har tilldelats.")).to_be_visible()
    roles = admin.locator("ul.role-list")
    expect(roles).to_contain_text("Läsare")
    expect(roles).to_contain_text("Backens hälsocentral")
    _axe(admin, problems, "användarsidan")
    screenshot(admin, "32-anvandarsida")
    admin.get_by_role("button", name="Ta bort Läsare").click()
    expect(admin.get_by_text("Rollen har tagits bort.")).to_be_visible()
    expect(roles).not_to_contain_text("Läsare")
    timeline = admin.locator("ol.timeline")
    expect(timeline).to_contain_text("roll tilldelad")
    expect(timeline).to_contain_text("roll borttagen")

    # Stina logs in with the one-time password and is led to choose her own.
    context = browser.new_context(locale="sv-SE", viewport={"width": 375, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    stina = context.new_page()
    stina.goto(live_server + "/logga-in")
    stina.get_by_label("Användarnamn").fill("stina.s")
    stina.get_by_label("Lösenord").fill(password)
    stina.get_by_role("button", name="Logga in").click()
    expect(stina.get_by_role("heading", name="Byt lösenord", level=1)).to_be_visible()
    expect(stina.get_by_text("Du loggade in med ett engångslösenord.")).to_be_visible()
    stina.goto(live_server + "/enheter/")  # every page leads back here
    expect(stina.get_by_role("heading", name="Byt lösenord", level=1)).to_be_visible()
    stina.get_by_label("Nuvarande lösenord").fill(password)
    stina.get_by_label("Nytt lösenord", exact=True).fill("Sommar2025!!")
    stina.get_by_label("Upprepa det nya lösenordet").fill("Sommar2025!!")
    stina.get_by_role("button", name="Byt lösenord").click()
    expect(stina.locator("#error-summary")).to_contain_text("för lätt att gissa")
    assert _focused_id(stina) == "error-summary"
    _axe(stina, problems, "byt lösenord med fel")
    screenshot(stina, "33-byt-losenord-375")
    new = "myrstack fjällbjörk kanotpaddel"
    stina.get_by_label("Nuvarande lösenord").fill(password)
    stina.get_by_label("Nytt lösenord", exact=True).fill(new)
    stina.get_by_label("Upprepa det nya lösenordet").fill(new)
    stina.get_by_role("button", name="Byt lösenord").click()
    expect(stina.get_by_text("Ditt lösenord har bytts.")).to_be_visible()
    # ... and lands on the page she asked for before the password change.
    expect(stina.get_by_role("heading", level=1)).to_have_text("Enheter")
    context.close()

    # The administratör sees her active, with her first login.
    admin.goto(live_server + "/anvandare/?q=stina")
    row = admin.locator("table.data tbody tr", has_text="Stina Sköterska")
    expect(row).to_contain_text("Aktiv")
    expect(row).not_to_contain_text("Aldrig")
    admin.set_viewport_size({"width": 375, "height": 800})
    screenshot(admin, "34-anvandare-375")
    assert all(not found for found in problems.values()), problems
