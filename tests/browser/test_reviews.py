"""Särskild fördjupning (§7.1.3) in real Chromium: a non-compliant answer becomes a finding;
the purchaser opens an in-depth review on it from the unit page, asks the head for material
(a bad number of days refused with the error summary, nothing typed lost); the unit uploads a
file and answers, without JavaScript; the purchaser records the analysis and conclusions with
a requirement and ends the review in an action plan, which links back — axe-core on every page
on the way, and the audit chain verifies afterwards."""

import datetime as dt
import subprocess

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import VENV_BIN, no_horizontal_scroll, screenshot, seed_checklist
from tests.browser.test_accessibility import _audit

pytestmark = pytest.mark.browser
LATER = dt.date.today() + dt.timedelta(days=40)
SOON = dt.date.today() + dt.timedelta(days=15)
RATIO = "kompetens.lakare-specialister-allmanmedicin"


def done(page, text):
    expect(page.get_by_text(text, exact=False).first).to_be_visible()


def action(page, button):
    return page.locator("form.action-form", has=page.get_by_role("button", name=button))


def test_a_review_from_a_finding_to_an_action_plan(live_server, live_env, signed_in):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    problems = {}

    def check(page, name):
        problems[name] = _audit(page, axe)

    checklist = seed_checklist(
        live_env,
        "Fördjupningens omgång",
        [RATIO],
        answers={RATIO: {"numerator": "2", "denominator": "8"}},
        submit_as="vc.backen",
    )
    bo = signed_in("bestallare")
    unit = signed_in("vc.backen", javascript=False)  # the unit's steps work without a script
    bo.goto(f"{live_server}/checklistor/{checklist}/granska")
    bo.get_by_role("button", name="Godkänn checklistan").click()
    done(bo, "1 iakttagelse registrerad")

    # 1. Opened from the unit page on the finding.
    bo.goto(live_server + "/enheter/backen")
    bo.get_by_role("link", name="Öppna särskild fördjupning").click()
    check(bo, "öppna fördjupning")
    bo.get_by_role("button", name="Öppna fördjupningen").click()  # nothing filled in
    expect(bo.locator("#error-summary")).to_be_focused()
    check(bo, "öppna fördjupning: fellista")
    bo.get_by_label("Titel", exact=True).fill("Läkarbemanningen i Backen")
    bo.get_by_label("Vad fördjupningen gäller").fill("Andelen specialister är låg sedan länge.")
    bo.locator("#open-finding").get_by_role("checkbox").first.check()
    bo.get_by_role("button", name="Öppna fördjupningen").click()
    done(bo, "Den särskilda fördjupningen är öppnad.")
    review_url = bo.url
    done(bo, "Iakttagelse:")

    # 2. Material asked for: a bad time refused beside its field, what was typed kept.
    request = action(bo, "Begär underlag")
    request.get_by_label("Underlag och svar som begärs av verksamhetschefen").fill(
        "Bemanningsplan för läkare 2025–2026 och hur rekryteringen går."
    )
    request.get_by_label("Svarstid i arbetsdagar").fill("600")
    request.get_by_role("button", name="Begär underlag").click()
    expect(bo.locator("#error-summary")).to_contain_text("arbetsdagar (1–60)")
    check(bo, "fördjupning: fellista")
    request = action(bo, "Begär underlag")
    expect(request.get_by_label("Underlag och svar som begärs av verksamhetschefen")).to_have_value(
        "Bemanningsplan för läkare 2025–2026 och hur rekryteringen går."
    )
    request.get_by_label("Svarstid i arbetsdagar").fill("10")
    request.get_by_role("button", name="Begär underlag").click()
    done(bo, "Begär underlag: klart.")
    screenshot(bo, "40-fordjupning-underlag-begart")

    # 3. The unit sees it on its page, uploads and answers.
    unit.goto(live_server + "/enheter/backen")
    unit.get_by_role("link", name="Läkarbemanningen i Backen").click()
    with_script = signed_in("vc.backen")  # axe runs in the page, so the unit's view with one
    with_script.goto(unit.url)
    check(with_script, "fördjupning: enheten")
    unit.get_by_label("Fil med det begärda underlaget").set_input_files(
        files=[
            {
                "name": "bemanningsplan.txt",
                "mimeType": "text/plain",
                "buffer": "Två specialister anställs under våren.".encode(),
            }
        ]
    )
    unit.get_by_role("button", name="Ladda upp").click()
    done(unit, "bemanningsplan.txt")
    unit.get_by_label("Ert svar på begäran").fill("Planen bifogas; två rekryteringar pågår.")
    unit.get_by_role("button", name="Lämna underlag och svar").click()
    done(unit, "Lämna underlag och svar: klart.")

    # 4. Analysis, conclusions and a requirement; ended in an action plan.
    bo.goto(review_url)
    conclude = action(bo, "Registrera analys och slutsatser")
    conclude.get_by_label("Analys").fill("Rekryteringen räcker inte för att nå mer än hälften.")
    conclude.get_by_label("Slutsatser").fill("Enheten behöver en plan för specialistandelen.")
    conclude.get_by_role("button", name="Registrera analys och slutsatser").click()
    done(bo, "Registrera analys och slutsatser: klart.")
    requirements = bo.locator("#form-requirement")
    requirements.get_by_label("Krav", exact=True).fill(
        "Mer än hälften specialister i allmänmedicin"
    )
    requirements.get_by_label("Ska vara uppfyllt senast").fill(LATER.isoformat())
    requirements.get_by_role("button", name="Lägg till krav").click()
    done(bo, "Kravet har lagts till.")
    check(bo, "fördjupning: slutsatser och krav")
    end = action(bo, "Avsluta med krav på åtgärdsplan")
    end.get_by_label("Planen lämnas in senast").fill(SOON.isoformat())
    end.get_by_role("button", name="Avsluta med krav på åtgärdsplan").click()
    done(bo, "Avslutad – åtgärdsplan begärd")
    check(bo, "fördjupning: avslutad")
    screenshot(bo, "41-fordjupning-avslutad")
    bo.get_by_role("link", name="den begärda åtgärdsplanen").click()
    done(bo, "Mer än hälften specialister i allmänmedicin")
    expect(bo.get_by_role("link", name="Läkarbemanningen i Backen")).to_be_visible()

    bo.goto(live_server + "/fordjupningar/?status=alla")
    check(bo, "fördjupningar: lista")
    bo.set_viewport_size({"width": 375, "height": 800})
    bo.goto(review_url)
    check(bo, "fördjupning: 375 px")
    assert no_horizontal_scroll(bo)
    assert problems == {name: [] for name in problems}, problems

    result = subprocess.run(
        [str(VENV_BIN / "halsoval"), "audit", "verify"],
        env=live_env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
