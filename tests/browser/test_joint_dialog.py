"""The joint dialog (§7.1.2) in real Chromium: the purchaser is warned that fewer than two are
planned, plans one (a refused form first: error summary, nothing lost), writes and sends the
agenda (late: only with a reason), records every invited unit's attendance, holds the meeting,
writes and publishes the minutes, and makes a follow-up into a finding for a unit, found again
from the findings page; the unit's head reads it all, changing nothing. axe-core on each page."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import no_horizontal_scroll, screenshot
from tests.browser.test_accessibility import _audit

pytestmark = pytest.mark.browser
TODAY = dt.date.today()


def done(page, text):
    expect(page.get_by_text(text, exact=False).first).to_be_visible()


def action(page, button):
    return page.locator("form.action-form", has=page.get_by_role("button", name=button))


def test_a_joint_dialog_from_plan_to_a_finding(live_server, signed_in):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    problems = {}

    def audit(page, name):
        problems[name] = _audit(page, axe)

    bo = signed_in("bestallare")
    bo.goto(live_server + "/")
    done(bo, f"Färre än två gemensamma dialoger för {TODAY.year}.")
    bo.get_by_role("link", name="Gemensamma dialoger", exact=True).click()
    audit(bo, "lista")
    bo.get_by_role("link", name="Planera en gemensam dialog").first.click()
    bo.get_by_label("Plats eller länk").fill("Regionens hus, Umeå")
    bo.get_by_role("button", name="Planera den gemensamma dialogen").click()
    expect(bo.locator("#error-summary")).to_be_visible()
    done(bo, "Ange mötesdagen.")
    expect(bo.get_by_label("Plats eller länk")).to_have_value("Regionens hus, Umeå")
    audit(bo, "planera-fel")
    screenshot(bo, "40-gemensam-dialog-planera-fel")
    bo.get_by_label("Mötesdag").fill(TODAY.isoformat())
    bo.get_by_label("Tema", exact=False).fill("Tillgänglighet och kompetensförsörjning")
    bo.get_by_role("button", name="Planera den gemensamma dialogen").click()
    done(bo, "Den gemensamma dialogen är planerad.")
    joint_url = bo.url.split("#")[0]

    action(bo, "Spara agendan").get_by_label("Agenda", exact=False).fill(
        "1. Läget i primärvården\n2. Telefontillgänglighet\n3. Övrigt"
    )
    bo.get_by_role("button", name="Spara agendan").click()
    done(bo, "Spara agendan: klart.")
    bo.get_by_role("button", name="Sänd ut agendan").click()
    done(bo, "minst 5 arbetsdagar före mötet")  # the meeting is today: a reason is needed
    audit(bo, "sand-ut-fel")
    action(bo, "Sänd ut agendan").get_by_label("Skäl till senare utsändning", exact=False).fill(
        "Extra möte om vårdplatserna inför julen."
    )
    bo.get_by_role("button", name="Sänd ut agendan").click()
    done(bo, "Sänd ut agendan: klart.")
    done(bo, "Vera Verksamhetschef – Backens hälsocentral")  # the agenda's recipient

    rows = bo.locator("fieldset.attendance-row")
    for n in range(rows.count()):
        row = rows.nth(n)
        if "Backens hälsocentral" in row.locator("legend").inner_text():
            row.get_by_label("Närvaro").select_option("attended")
            expect(row.get_by_label("Namn")).to_have_value("Vera Verksamhetschef")
        else:
            row.get_by_label("Närvaro").select_option("absent")
    bo.get_by_role("button", name="Spara närvaron").click()
    expect(bo.locator("#error-summary")).to_be_visible()  # the absent need their reasons
    done(bo, "Ange skälet till frånvaron.")
    audit(bo, "narvaro-fel")
    for n in range(rows.count()):
        row = rows.nth(n)
        expect(row.get_by_label("Närvaro")).not_to_have_value("")  # nothing lost
        if "Backens hälsocentral" not in row.locator("legend").inner_text():
            row.get_by_label("Skäl till frånvaro").fill("Deltog inte")
    bo.get_by_role("button", name="Spara närvaron").click()
    done(bo, "Närvaron har sparats")
    bo.get_by_role("button", name="Registrera att mötet har hållits").click()
    done(bo, "Registrera att mötet har hållits: klart.")
    action(bo, "Spara protokollet").get_by_label("Protokoll").fill(
        "Närvarande enligt närvarolistan. Backen redovisade telefontillgängligheten."
    )
    bo.get_by_role("button", name="Spara protokollet").click()
    done(bo, "Spara protokollet: klart.")
    bo.get_by_role("button", name="Godkänn och publicera protokollet").click()
    done(bo, "Godkänn och publicera protokollet: klart.")

    bo.get_by_label("Vad som ska följas upp").fill(
        "Backen har inte lämnat månadsrapporten om telefontillgänglighet."
    )
    bo.get_by_label("För vilken enhet").select_option(label="Backens hälsocentral")
    bo.get_by_role("button", name="Lägg till uppföljningspunkten").click()
    done(bo, "Uppföljningspunkten har lagts till.")
    bo.get_by_text("Gör en iakttagelse för en enhet").click()
    finding_form = bo.locator("form[id^=form-finding_]")
    expect(finding_form.get_by_label("Enhet")).to_have_value(
        finding_form.get_by_label("Enhet")
        .locator("option", has_text="Backens hälsocentral")
        .get_attribute("value")
    )
    finding_form.get_by_label("Krav som inte är uppfyllt").select_option(index=1)
    audit(bo, "iakttagelse")
    finding_form.get_by_role("button", name="Gör iakttagelsen").click()
    done(bo, "har gjorts för enheten.")
    expect(bo.locator(".badge.fu-finding")).to_have_text("Blev en iakttagelse")
    screenshot(bo, "41-gemensam-dialog-iakttagelse")
    audit(bo, "dialog")

    bo.get_by_role("link", name="Iakttagelse", exact=False).first.click()
    row = bo.locator("tr", has_text="Backen har inte lämnat månadsrapporten")
    expect(row.get_by_role("link", name="Gemensam dialog", exact=False)).to_be_visible()
    row.get_by_role("link", name="Gemensam dialog", exact=False).click()
    expect(bo.locator("h1")).to_have_text("Tillgänglighet och kompetensförsörjning")

    bo.get_by_role("button", name="Avsluta den gemensamma dialogen").click()
    done(bo, "Avsluta den gemensamma dialogen: klart.")
    expect(bo.locator("h1 + p .badge")).to_have_text("Avslutad")

    unit = signed_in("vc.backen")
    unit.goto(joint_url)
    done(unit, "Backen redovisade telefontillgängligheten.")
    done(unit, "1. Läget i primärvården")
    expect(unit.locator("form.action-form")).to_have_count(0)  # read-only for units
    audit(unit, "enhetens-vy")
    narrow = signed_in("vc.backen", width=375)
    narrow.goto(joint_url)
    assert no_horizontal_scroll(narrow)
    screenshot(narrow, "42-gemensam-dialog-enhet-375")

    assert {name: found for name, found in problems.items() if found} == {}
