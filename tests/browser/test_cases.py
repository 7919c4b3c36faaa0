"""Ärenden in real Chromium: a list stop filed from the unit page, granted from the inbox and in
effect, with the reminder before it ends on the start page; a restricted service noted and
leading to Regionstyrelsen's reduced capitation for the corresponding time, linked to the case;
axe-core on the new pages; screenshots at 1280 and 375 px."""

import datetime as dt
import subprocess

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    BROWSER_PASSWORD,
    VENV_BIN,
    _cli,
    no_horizontal_scroll,
    screenshot,
)
from tests.browser.test_accessibility import _audit
from tests.checklists.test_rounds import synthetic_personnummer

pytestmark = pytest.mark.browser
TODAY = dt.date.today()


@pytest.fixture(scope="module")
def people(live_server, live_env):
    _cli(
        live_env,
        "users",
        "create",
        "granskare.arenden",
        "--name",
        "Gun Granskare",
        "--role",
        "granskare",
        "--password-stdin",
        input=BROWSER_PASSWORD + "\n",
    )


def done(page, text):
    expect(page.get_by_text(text, exact=False).first).to_be_visible()


def action(page, button):
    """The form of one action on the case page (each has its own fields)."""
    return page.locator("form.action-form", has=page.get_by_role("button", name=button))


def test_a_list_stop_is_granted_and_reminded_of_before_it_ends(
    live_server, live_env, people, signed_in
):
    unit = signed_in("vc.backen")
    unit.goto(live_server + "/enheter/backen")
    unit.get_by_role("link", name="Listningsstopp", exact=True).click()
    screenshot(unit, "30-arende-nytt-listningsstopp")
    unit.get_by_label("Listningsstopp från").fill(TODAY.isoformat())
    unit.get_by_label("Till och med").fill((TODAY + dt.timedelta(days=100)).isoformat())
    unit.get_by_label("Skäl för ansökan").fill("Två av fem läkare har slutat.")
    unit.get_by_label("Hur enskilda informeras om listningsstoppet").fill(
        "Telefonsvarare och 1177.se säger att listning åter är möjlig när stoppet upphör."
    )
    unit.get_by_role("button", name="Spara utkastet").click()
    done(unit, "Utkastet har sparats.")
    unit.get_by_role("button", name="Lämna in ärendet").click()
    # More than three months: refused, with the last allowed day.
    done(unit, "tidsbegränsat till högst 3 månader")
    unit.get_by_label("Till och med").fill((TODAY + dt.timedelta(days=10)).isoformat())
    unit.get_by_role("button", name="Spara uppgifterna").click()
    done(unit, "Ärendet har sparats.")
    unit.get_by_role("button", name="Lämna in ärendet").click()
    done(unit, "Lämna in ärendet: klart.")
    case_url = unit.url.split("#")[0]

    bo = signed_in("bestallare")
    bo.goto(live_server + "/arenden/?vantar=bestallarenheten")
    row = bo.locator("tr", has_text="Backens hälsocentral").filter(has_text="Listningsstopp")
    expect(row).to_contain_text("Pröva ansökan")
    screenshot(bo, "31-arenden-inkorg")
    row.get_by_role("link").first.click()
    grant = action(bo, "Bevilja")
    grant.get_by_role("button", name="Bevilja").click()
    done(bo, "behöver ett diarienummer")  # refused, nothing lost
    action(bo, "Bevilja").get_by_label("Diarienummer").fill("RS 2026/101")
    action(bo, "Bevilja").get_by_role("button", name="Bevilja").click()
    done(bo, "Bevilja: klart.")
    bo.get_by_role("button", name="Markera att ärendet gäller").click()
    done(bo, "Markera att ärendet gäller: klart.")
    expect(bo.locator("h1 + p .badge")).to_have_text("Gäller")
    screenshot(bo, "32-arende-listningsstopp-galler")

    # The scan (from cron) queues the reminder: the stop ends within ten working days.
    _cli(live_env, "deadlines", "scan")
    unit.goto(live_server + "/")
    end = (TODAY + dt.timedelta(days=10)).isoformat()
    done(unit, f"Listningsstopp gäller till och med {end}")
    screenshot(unit, "33-start-paminnelse-listningsstopp")
    narrow = signed_in("vc.backen", width=375)
    narrow.goto(case_url)
    assert no_horizontal_scroll(narrow)
    screenshot(narrow, "34-arende-listningsstopp-375")
    narrow.goto(live_server + "/")
    screenshot(narrow, "35-start-paminnelse-375")


def test_a_restricted_service_leads_to_a_reduced_capitation_for_its_period(
    live_server, live_env, people, signed_in
):
    start, end = TODAY, TODAY + dt.timedelta(days=14)
    unit = signed_in("vc.backen")
    unit.goto(live_server + "/arenden/ny/backen/begransat_utbud")
    unit.get_by_label("Begränsningen gäller från").fill(start.isoformat())
    unit.get_by_label("Begränsningen gäller till och med").fill(end.isoformat())
    unit.get_by_label("Datum för vårdgivarens beslut om begränsningen").fill(TODAY.isoformat())
    unit.get_by_label("Vilken del av utbudet som begränsas").fill("Eftermiddagsmottagningen.")
    unit.get_by_label("Aktuella åtgärder för att täcka behoven").fill("Akuta besök på Ålidhem.")
    unit.get_by_label("Vilken del av utbudet som samordnas").fill("Akuta besök.")
    unit.get_by_label("Ålidhems hälsocentral").check()
    unit.get_by_label("Hur tillgång till specialistläkare i allmänmedicin säkerställs").fill(
        "Distansbedömning av specialist varje dag."
    )
    unit.get_by_label("Hur restiden för patienterna kan påverkas").fill("Upp till 15 minuter.")
    unit.get_by_label("Hur patienterna och allmänheten informeras").fill("1177.se och skyltar.")
    unit.get_by_label("Öppettiderna begränsas till mer än enstaka dagar").check()
    unit.get_by_role("button", name="Spara utkastet").click()
    done(unit, "Utkastet har sparats.")
    unit.get_by_label("Dokument", exact=True).select_option("risk_analysis")
    unit.locator("input[type=file]").set_input_files(
        files=[
            {
                "name": "riskanalys.txt",
                "mimeType": "text/plain",
                "buffer": b"Risk- och konsekvensanalys, utan personuppgifter.",
            }
        ]
    )
    unit.get_by_role("button", name="Bifoga", exact=True).click()
    done(unit, "Filen riskanalys.txt har bifogats.")
    unit.get_by_role("button", name="Lämna in ärendet").click()
    done(unit, "Lämna in ärendet: klart.")
    case_url = unit.url.split("#")[0]

    bo = signed_in("bestallare")
    bo.goto(case_url)
    bo.get_by_role("button", name="Notera anmälan").click()
    done(bo, "Notera anmälan: klart.")
    bo.get_by_label("Diarienummer för det nya ärendet").fill("RS 2026/201")
    bo.get_by_role("button", name="Öppna ärende om neddragning av kapiteringsersättningen").click()
    done(bo, "Ett ärende om neddragning av kapiteringsersättningen är öppnat.")
    sanction_url = bo.url
    expect(bo.get_by_role("link", name=f"Begränsat utbud {start}–{end}")).to_be_visible()
    bo.get_by_label("Svarstid i arbetsdagar").fill("5")
    bo.get_by_role("button", name="Informera enheten och ge svarstid").click()
    unit.goto(sanction_url)
    unit.get_by_label("Enhetens yttrande").fill("Bemanningen räckte inte till under perioden.")
    unit.get_by_role("button", name="Lämna yttrande").click()
    greta = signed_in("granskare.arenden")
    greta.goto(sanction_url)
    greta.get_by_label("Bedömning").fill("Öppettiderna var begränsade hela perioden.")
    greta.get_by_role("button", name="Bedöm ärendet").click()
    # The reduction burdens the unit: it is told of it first and may answer (FL 25 §).
    bo.reload()
    tell = bo.locator("form", has=bo.get_by_role("button", name="Kommunicera avsett beslut"))
    tell.get_by_label("Avsett beslut", exact=True).select_option("reduction")
    tell.get_by_label("Skäl för det avsedda beslutet").fill(
        "Mottagningen var stängd eftermiddagar under hela perioden."
    )
    tell.get_by_label("eller procent av ersättningen").fill("10")
    tell.get_by_label("Period från").fill(start.isoformat())
    tell.get_by_label("Till", exact=True).fill(end.isoformat())
    tell.get_by_label("Svarstid i arbetsdagar").fill("5")
    tell.get_by_role("button", name="Kommunicera avsett beslut").click()
    done(bo, "Kommunicera avsett beslut: klart.")
    unit.goto(sanction_url)
    unit.get_by_label("Ditt yttrande över det avsedda beslutet").fill(
        "Vi hänvisade akuta besök till Backen."
    )
    unit.get_by_role("button", name="Yttra dig över det avsedda beslutet").click()
    bo.reload()
    decide = bo.locator("form", has=bo.get_by_role("button", name="Registrera beslut"))
    decide.get_by_label("Beslut", exact=True).select_option("reduction")
    decide.get_by_label("Beslutat av").select_option("regionstyrelsen")
    decide.get_by_label("Sammanträdesdag").fill(dt.date.today().isoformat())
    decide.get_by_label("Protokollsparagraf").fill("§ 40")
    decide.get_by_label("Beslutets diarienummer").fill("RS 2026/202")
    decide.get_by_label("Allvar").fill("Eftermiddagarna stängda.")
    decide.get_by_label("Varaktighet").fill("Tre veckor.")
    decide.get_by_label("Upprepning").fill("Första gången.")
    decide.get_by_label("Enhetens egna åtgärder").fill("Akuta besök hänvisades till Backen.")
    decide.get_by_label("Påverkan på patientsäkerheten").fill("Ingen känd påverkan.")
    decide.get_by_label("Motivering", exact=True).fill(
        "Mottagningen var stängd eftermiddagar i två veckor; tio procent är proportionerligt."
    )
    expect(decide.get_by_label("Nedsättning, procent")).to_have_value("10")
    # The period comes from the restricted service; one day more is refused.
    expect(decide.get_by_label("Från", exact=True)).to_have_value(start.isoformat())
    decide.get_by_label("Till", exact=True).fill((end + dt.timedelta(days=1)).isoformat())
    decide.get_by_role("button", name="Registrera beslut").click()
    done(bo, "för motsvarande tid som utbudet var begränsat")
    decide = bo.locator("form", has=bo.get_by_role("button", name="Registrera beslut"))
    decide.get_by_label("Till", exact=True).fill(end.isoformat())
    decide.get_by_role("button", name="Registrera beslut").click()
    done(bo, "RS 2026/202")
    screenshot(bo, "36-kapitering-beslut")
    bo.goto(case_url)
    panel = bo.get_by_role("region", name="Kapiteringsersättning (§2.7.6)")
    expect(panel).to_contain_text("nedsättning av kapiteringsersättningen")
    expect(panel).to_contain_text(f"{start}–{end}")
    expect(panel).to_contain_text("RS 2026/202")
    screenshot(bo, "37-begransat-utbud-med-kapitering")
    narrow = signed_in("bestallare", width=375)
    narrow.goto(case_url)
    assert no_horizontal_scroll(narrow)
    screenshot(narrow, "38-begransat-utbud-375")
    verify = subprocess.run(
        [str(VENV_BIN / "halsoval"), "audit", "verify"],
        env=live_env,
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 0 and "Kedjan är hel" in verify.stdout


def test_the_case_pages_meet_wcag_21_aa(live_server, people, signed_in):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    problems = {}
    unit = signed_in("vc.backen")
    form = "/arenden/ny/backen/samverkan"
    for name, path in (
        ("enhetssida med ärenden", "/enheter/backen"),
        ("nytt ärende", form),
        ("inkorg (enheten)", "/arenden/"),
    ):
        unit.goto(live_server + path)
        problems[name] = _audit(unit, axe)
        if path == "/enheter/backen":
            screenshot(unit, "41-enhet-med-arenden")
    unit.goto(live_server + form)
    unit.get_by_label("Vilken vård eller vilka uppdrag samarbetet gäller").fill(
        f"Gäller {synthetic_personnummer(dt.date(1961, 7, 14))}"
    )
    unit.get_by_label("Samarbetet börjar").fill(TODAY.isoformat())
    unit.get_by_role("button", name="Spara utkastet").click()
    unit.locator(".error-summary").wait_for()
    problems["nytt ärende: fellista"] = _audit(unit, axe)
    screenshot(unit, "39-arende-fellista")
    unit.get_by_label("Vilken vård eller vilka uppdrag samarbetet gäller").fill(
        "Gemensam diabetesmottagning."
    )
    unit.get_by_role("button", name="Spara utkastet").click()
    unit.get_by_text("Utkastet har sparats.").wait_for()
    case_url = unit.url
    problems["ärende: utkast (enheten)"] = _audit(unit, axe)
    unit.get_by_role("button", name="Lämna in ärendet").click()
    unit.get_by_role("alert").first.wait_for()
    problems["ärende: inlämning vägrad"] = _audit(unit, axe)
    bo = signed_in("bestallare")
    for name, path in (("inkorg", "/arenden/"), ("ärende (beställare)", case_url)):
        bo.goto(path if path.startswith("http") else live_server + path)
        problems[name] = _audit(bo, axe)
    narrow = signed_in("bestallare", width=375)
    narrow.goto(live_server + "/arenden/")
    assert no_horizontal_scroll(narrow)  # the table scrolls in its own box
    problems["inkorg, 375 px"] = _audit(narrow, axe)
    screenshot(narrow, "40-arenden-inkorg-375")
    failing = {page: found for page, found in problems.items() if found}
    assert failing == {}, "\n".join(f"{p}: {v}" for p, vs in failing.items() for v in vs)
