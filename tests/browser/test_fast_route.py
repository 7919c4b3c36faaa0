"""In real Chromium, the patient-safety fast route (§7.1.3) from a finding to a decision: a
"nej" on basal hygiene becomes a patient-safety finding; the beställare's start page and the
unit page show it awaiting an IVO decision, which is recorded; a follow-up dialog takes the
unit's material (an upload) and disposes the finding as a sanction case, which opens
pre-filled and linked both ways with the fast route's shorter response times; the unit is
heard, given a rättelse period and told the intended vite (kommunicering), answers; a decision
of Regionstyrelsen with its meeting, paragraph and letter — axe-core on every new page, and
the audit chain verifies afterwards."""

import datetime as dt
import re
import subprocess

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import BROWSER_PASSWORD, VENV_BIN, _cli, screenshot, seed_checklist
from tests.browser.test_accessibility import _audit

pytestmark = pytest.mark.browser
CODE, UNIT = "dorotea", "Dorotea sjukstuga"
REQUIREMENT = "kvalitet.basal-hygien"
TODAY = dt.date.today()


@pytest.fixture(scope="module")
def people(live_server, live_env):
    for username, name, role in (
        ("vc.dorotea", "Doris Dahl", f"verksamhetschef:{CODE}"),
        ("granskare.dorotea", "Gun Granskare", "granskare"),
    ):
        _cli(
            live_env,
            "users",
            "create",
            username,
            "--name",
            name,
            "--role",
            role,
            "--password-stdin",
            input=BROWSER_PASSWORD + "\n",
        )
    from audit.db import make_engine
    from audit.models import Operator

    engine = make_engine(live_env["HALSOVAL_DATABASE_URL"])
    with engine.begin() as conn:  # run by a private provider, so that its ladder has vite
        conn.execute(
            sa.text("UPDATE units SET operator = :o, provider = :p WHERE code = :c"),
            {"o": Operator.PRIVAT.value, "p": "Vårdbolaget Dorotea AB", "c": CODE},
        )
    engine.dispose()
    seed_checklist(
        live_env,
        "Hygien 2025",
        [REQUIREMENT],
        unit=CODE,
        answers={REQUIREMENT: {"answer": "no", "comment": "Rutinen är inte införd."}},
        submit_as="vc.dorotea",
    )


def done(page, text):
    expect(page.get_by_text(text, exact=False).first).to_be_visible()


def test_from_a_patient_safety_finding_to_a_regionstyrelsen_decision(
    live_server, live_env, people, signed_in
):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    problems = {}

    def check(page, name):
        problems[name] = _audit(page, axe)

    unit = signed_in("vc.dorotea")
    bo = signed_in("bestallare")
    greta = signed_in("granskare.dorotea")

    # 1. The purchaser accepts the checklist: "nej" on basal hygiene is a patient-safety finding.
    bo.goto(live_server + "/")
    bo.locator("li", has_text="Hygien 2025").get_by_role("link", name=UNIT).click()
    bo.get_by_role("button", name="Godkänn checklistan").click()
    done(bo, "1 iakttagelse registrerad")

    # 2. The fast route: on the start page until the IVO decision is recorded on the unit page.
    bo.goto(live_server + "/")
    fast = bo.locator("li", has_text=UNIT).filter(has_text="Beslut om IVO-anmälan senast")
    expect(fast).to_be_visible()
    check(bo, "startsida med snabbspår")
    screenshot(bo, "50-startsida-snabbspar")
    fast.get_by_role("link", name=UNIT).click()
    panel = bo.get_by_role("region", name="Patientsäkerhet: snabbspåret (§7.1.3)")
    expect(panel).to_contain_text("Beslut om IVO-anmälan senast")
    check(bo, "enhetssida med snabbspår")
    panel.get_by_role("button", name="Registrera beslutet").click()  # nothing chosen
    expect(bo.get_by_role("alert").first).to_contain_text("Välj om iakttagelsen anmäls till IVO")
    panel = bo.get_by_role("region", name="Patientsäkerhet: snabbspåret (§7.1.3)")
    panel.get_by_label("Anmäld till IVO").check()
    panel.get_by_label("Anmäld den").fill(TODAY.isoformat())
    panel.get_by_label("IVO:s diarienummer").fill("IVO 3.5.1-2025-77")
    panel.get_by_role("button", name="Registrera beslutet").click()
    done(bo, "Beslutet om anmälan till IVO är registrerat.")
    expect(bo.get_by_role("region", name="Patientsäkerhet: snabbspåret (§7.1.3)")).to_contain_text(
        f"Anmäld till IVO {TODAY.isoformat()} (IVO 3.5.1-2025-77)"
    )
    bo.goto(live_server + "/")
    expect(bo.get_by_text("Beslut om IVO-anmälan senast")).to_have_count(0)

    # 3. A follow-up dialog: the unit uploads its material; the finding becomes a sanction case.
    bo.goto(live_server + f"/enheter/{CODE}")
    bo.get_by_label("Rubrik för en ny dialog").fill("Uppföljning Dorotea 2025")
    bo.get_by_role("button", name="Planera uppföljningsdialog").click()
    bo.get_by_label("Underlag som ska lämnas").fill("Rutin för basal hygien och följsamhet.")
    bo.get_by_label("Underlag senast").fill((TODAY + dt.timedelta(days=7)).isoformat())
    bo.get_by_role("button", name="Begär underlag").click()
    dialog_url = bo.url
    unit.goto(dialog_url)
    unit.get_by_label(re.compile(r"^Ladda upp underlag")).set_input_files(
        files=[
            {
                "name": "hygienmatning.txt",
                "mimeType": "text/plain",
                "buffer": "Följsamhetsmätning basal hygien, mars 2025: 62 %.".encode(),
            }
        ]
    )
    unit.get_by_role("button", name="Ladda upp", exact=True).click()
    done(unit, "Filen hygienmatning.txt har laddats upp.")
    check(unit, "dialog med underlag (enheten)")
    unit.get_by_role("button", name="Lämna underlag").click()
    greta.goto(dialog_url)
    greta.get_by_role("button", name="Påbörja granskning").click()
    bo.goto(dialog_url)
    expect(bo.get_by_role("link", name="hygienmatning.txt")).to_be_visible()
    bo.get_by_label("Datum och tid").fill("2030-05-20T09:00")
    bo.get_by_label("Plats eller länk").fill("Dorotea sjukstuga")
    bo.get_by_label("Namn 1").fill("Doris Dahl")
    bo.get_by_label("Roll 1").select_option("verksamhetschef")
    bo.get_by_label("Namn 2").fill("Mats Mo")
    bo.get_by_label("Roll 2").select_option("medicinskt ansvarig")
    bo.get_by_role("button", name="Boka möte").click()
    row = bo.locator("tr", has_text="Snabbspår")
    row.get_by_label("Hantering", exact=True).select_option("sanction_case")
    row.get_by_role("button", name="Spara", exact=True).click()  # no diarienummer yet
    row = bo.locator("tr", has_text="Snabbspår")
    expect(row.get_by_role("alert")).to_contain_text("diarienummer")
    expect(row.get_by_label("Hantering", exact=True)).to_have_value("sanction_case")
    row.get_by_label("Diarienummer (för sanktionsärende)").fill("RS 2025/500")
    row.get_by_role("button", name="Spara", exact=True).click()
    row = bo.locator("tr", has_text="Snabbspår")
    expect(row).to_contain_text("Öppnade")
    check(bo, "dialog med hantering")
    screenshot(bo, "51-dialog-sanktionsarende")
    bo.get_by_label("Minnesanteckningar").fill("Basal hygien genomgången; sanktionsärende.")
    bo.get_by_role("button", name="Registrera genomfört möte").click()
    bo.get_by_role("button", name="Avsluta dialogen").click()
    done(bo, "Avsluta dialogen: klart.")

    # 4. The case, opened from the dialog, on the fast route.
    bo.locator("tr", has_text="Snabbspår").get_by_role(
        "link", name=re.compile("^Sanktionsärende")
    ).click()
    case_url = bo.url
    done(bo, "RS 2025/500")
    expect(bo.get_by_role("link", name="Uppföljning Dorotea 2025")).to_be_visible()
    expect(bo.get_by_label("Svarstid i arbetsdagar")).to_have_value("5")  # the fast route
    check(bo, "sanktionsärende på snabbspåret")
    bo.get_by_role("button", name="Informera enheten och ge svarstid").click()
    unit.goto(case_url)
    unit.get_by_label("Enhetens yttrande").fill("Vi inför rutinen och utbildar all personal.")
    unit.get_by_role("button", name="Lämna yttrande").click()
    greta.goto(case_url)
    greta.get_by_label("Bedömning").fill(
        "Följsamheten är låg; risk för vårdrelaterade infektioner."
    )
    greta.get_by_role("button", name="Bedöm ärendet").click()
    bo.reload()
    bo.get_by_label("Vad enheten ska rätta").fill("Rutin för basal hygien införd och mätt.")
    bo.get_by_label("Period i arbetsdagar").fill("5")
    bo.get_by_role("button", name="Begär rättelse inom en period").click()
    greta.reload()
    greta.get_by_label("Ja", exact=True).check()
    greta.get_by_label("Vad enheten har gjort under perioden").fill(
        "Rutinen är införd; följsamheten är ännu inte mätt."
    )
    greta.get_by_role("button", name="Avsluta rättelseperioden").click()

    # 5. Kommunicering with the fast route's reply time, the unit's reply, the decision.
    bo.reload()
    bo.get_by_label("Avsett beslut", exact=True).select_option("penalty")
    bo.get_by_label("Skäl för det avsedda beslutet").fill(
        "Brist i basal hygien som rör patientsäkerheten; ännu inte visat rättad."
    )
    bo.get_by_label("Belopp i kronor").fill("25 000")
    expect(bo.get_by_label("Svarstid i arbetsdagar")).to_have_value("5")
    bo.get_by_role("button", name="Kommunicera avsett beslut").click()
    done(bo, "Kommunicera avsett beslut: klart.")
    unit.goto(case_url)
    unit.get_by_label("Ditt yttrande över det avsedda beslutet").fill(
        "Mätningen görs nästa vecka; vi ber om att vitet sätts ned."
    )
    unit.get_by_role("button", name="Yttra dig över det avsedda beslutet").click()
    bo.reload()
    bo.get_by_label("Beslut", exact=True).select_option("penalty")
    bo.get_by_label("Beslutat av").select_option("regionstyrelsen")
    bo.get_by_label("Sammanträdesdag").fill(TODAY.isoformat())
    bo.get_by_label("Protokollsparagraf").fill("§ 88")
    bo.get_by_label("Beslutets diarienummer").fill("RS 2025/501")
    bo.get_by_label("Allvar").fill("Basal hygien skyddar patienter mot vårdrelaterade infektioner.")
    bo.get_by_label("Varaktighet").fill("Sedan årets början.")
    bo.get_by_label("Upprepning").fill("Första gången.")
    bo.get_by_label("Enhetens egna åtgärder").fill("Rutinen är införd.")
    bo.get_by_label("Påverkan på patientsäkerheten").fill("Ökad infektionsrisk; anmält till IVO.")
    bo.get_by_label("Motivering", exact=True).fill(
        "Ett lägre vite står i proportion till en allvarlig men delvis rättad brist."
    )
    bo.get_by_label("Vite i kronor").fill("20000")
    bo.get_by_role("button", name="Registrera beslut").click()
    done(bo, "RS 2025/501")
    check(bo, "beslutat sanktionsärende")
    bo.get_by_role("link", name="Beslutsbrev").click()
    done(bo, "Beslut: vite")
    done(bo, "allmän domstol")
    check(bo, "beslutsbrev")
    screenshot(bo, "52-beslutsbrev-snabbspar")

    assert problems == {name: [] for name in problems}, problems
    verify = subprocess.run(
        [str(VENV_BIN / "halsoval"), "audit", "verify"],
        env=live_env,
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 0 and "Kedjan är hel" in verify.stdout
