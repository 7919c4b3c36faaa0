"""In real Chromium, issue 5's whole path for one unit, with issue 11's due process: a
non-compliant answer becomes a finding; a follow-up dialog discusses it and demands an action
plan with two dates; a measure dated too late is refused beside its field; the plan goes
overdue and is escalated under a diarienummer; the unit is heard, given a period to put things
right, and told the intended vite (kommunicering) and answers; Regionstyrelsen decides with its
meeting date and protocol paragraph; the decision letter opens; the case is closed — and the
audit chain verifies afterwards."""

import datetime as dt
import re
import subprocess

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import BROWSER_PASSWORD, VENV_BIN, _cli, screenshot

pytestmark = pytest.mark.browser
UNIT = "Vilhelmina sjukstuga"


@pytest.fixture(scope="module")
def people(live_server, live_env):
    for username, name, role in (
        ("vc.vilhelmina", "Vilma Vik", "verksamhetschef:vilhelmina"),
        ("granskare", "Greta Granskare", "granskare"),
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
    # A round with one requirement for Vilhelmina, opened as an administrator's script would.
    from audit.db import make_engine, make_session_factory
    from audit.models import Operator, Unit, User
    from checklists import operations as ops
    from checklists.models import CatalogEdition, Requirement

    engine = make_engine(live_env["HALSOVAL_DATABASE_URL"])
    # Signed with the server's audit key (its instance directory), as the server's own script
    # would: the test ends with `halsoval audit verify` over the whole trail.
    with pytest.MonkeyPatch.context() as env, make_session_factory(engine)() as db:
        env.setenv("HALSOVAL_INSTANCE", live_env["HALSOVAL_INSTANCE"])
        edition = db.scalar(sa.select(CatalogEdition).where(CatalogEdition.code == "UOR-2025"))
        ratio = db.scalar(
            sa.select(Requirement.id).where(
                Requirement.edition_id == edition.id,
                Requirement.code == "kompetens.lakare-specialister-allmanmedicin",
            )
        )
        unit = db.scalar(sa.select(Unit.id).where(Unit.code == "vilhelmina"))
        purchaser = db.scalar(sa.select(User).where(User.username == "bestallare"))
        # Vilhelmina as if run by a private provider, so that its ladder has vite (an egenregi
        # unit's ends in escalation to the production management instead).
        row = db.get(Unit, unit)
        row.operator, row.provider = Operator.PRIVAT, "Vårdbolaget Vilhelmina AB"
        ops.open_round(
            db,
            purchaser,
            edition=edition,
            title="Bemanning 2025",
            year=2025,
            opens_on=dt.date(2025, 1, 1),
            deadline=dt.date(2025, 3, 31),
            selection=ops.RoundSelection(requirement_ids=[ratio], unit_ids=[unit]),
        )
        db.commit()
    engine.dispose()


def done(page, text):
    expect(page.get_by_text(text, exact=False).first).to_be_visible()


def test_from_non_compliant_answer_to_closed_sanction(live_server, live_env, people, signed_in):
    unit = signed_in("vc.vilhelmina")
    bo = signed_in("bestallare")
    greta = signed_in("granskare")
    unit.goto(live_server + "/")

    # 1. The unit answers 2 of 8 doctors GP specialists, submits; the purchaser accepts.
    unit.get_by_role("link", name="Bemanning 2025").click()
    unit.get_by_role("link", name=re.compile(r"^§3\.1 ")).click()
    unit.get_by_label("Antal verksamma läkare som är specialister i allmänmedicin").fill("2")
    unit.get_by_label("Antal verksamma läkare på hälsocentralen").fill("8")
    unit.get_by_role("button", name="Spara", exact=True).click()  # the form saves it, once
    done(unit, "1 svar sparat.")
    done(unit, "2 av 8 läkare (25 %)")
    unit.get_by_role("link", name="Alla avsnitt").click()
    done(unit, "Behöver åtgärd")
    unit.get_by_role("link", name="Kontrollera och skicka in").click()
    unit.get_by_role("button", name="Ja, skicka in checklistan").click()
    done(unit, "Checklistan har skickats in")
    bo.goto(live_server + "/")
    bo.locator("li", has_text="Bemanning 2025").get_by_role("link", name=UNIT).click()
    bo.get_by_role("button", name="Godkänn checklistan").click()
    done(bo, "1 iakttagelse registrerad")

    # 2. A follow-up dialog discusses the finding and demands an action plan.
    bo.goto(live_server + "/enheter/vilhelmina")
    bo.get_by_label("Rubrik för en ny dialog").fill("Uppföljning Vilhelmina 2025")
    bo.get_by_role("button", name="Planera uppföljningsdialog").click()
    bo.get_by_label("Underlag som ska lämnas").fill("Bemanningslista för läkare.")
    bo.get_by_label("Underlag senast").fill((dt.date.today() + dt.timedelta(days=14)).isoformat())
    bo.get_by_role("button", name="Begär underlag").click()
    dialog_url = bo.url
    unit.goto(dialog_url)
    unit.get_by_role("button", name="Lämna underlag").click()
    greta.goto(dialog_url)
    greta.get_by_role("button", name="Påbörja granskning").click()
    bo.reload()
    bo.get_by_label("Datum och tid").fill("2030-05-20T09:00")
    bo.get_by_label("Plats eller länk").fill("Vilhelmina sjukstuga")
    bo.get_by_label("Namn 1").fill("Vilma Vik")
    bo.get_by_label("Roll 1").select_option("verksamhetschef")
    bo.get_by_label("Namn 2").fill("Mats Mo")
    bo.get_by_label("Roll 2").select_option("medicinskt ansvarig")
    bo.get_by_role("button", name="Boka möte").click()
    bo.get_by_label("Hantering", exact=True).select_option("action_plan")
    bo.get_by_role("button", name="Spara", exact=True).click()
    bo.get_by_label("Minnesanteckningar").fill("Läkarbemanningen genomgången; åtgärdsplan begärs.")
    bo.get_by_role("button", name="Registrera genomfört möte").click()
    bo.get_by_role("button", name="Avsluta dialogen").click()
    done(bo, "Avsluta dialogen: klart.")
    screenshot(bo, "20-dialog-avslutad")

    # 3. The action plan is demanded, written, approved — and goes overdue.
    bo.goto(live_server + "/enheter/vilhelmina")
    plans = bo.get_by_role("region", name="Åtgärdsplaner")
    plans.get_by_label("Titel", exact=True).fill("Läkarbemanning")
    plans.get_by_label("Krav som planen ska uppfylla").fill("Mer än hälften specialister.")
    plans.get_by_label("Planen lämnas in senast").fill(
        (dt.date.today() + dt.timedelta(days=10)).isoformat()
    )
    plans.get_by_label("Åtgärderna genomförda senast").fill(
        (dt.date.today() + dt.timedelta(days=30)).isoformat()
    )
    plans.locator("input[name=finding]").first.check()
    plans.get_by_role("button", name="Begär åtgärdsplanen").click()
    plan_url = bo.url
    unit.goto(plan_url)
    unit.get_by_label("Åtgärd", exact=True).fill("Rekrytera två specialister i allmänmedicin")
    unit.get_by_label("Ansvarig", exact=True).fill("Vilma Vik")
    too_late = (dt.date.today() + dt.timedelta(days=45)).isoformat()
    unit.locator("#measure_due").evaluate(f"el => {{ el.value = '{too_late}'; }}")
    unit.get_by_role("button", name="Lägg till åtgärd").click()
    expect(unit.locator("#measure_due-error")).to_contain_text("Åtgärden måste vara genomförd")
    expect(unit.get_by_label("Åtgärd", exact=True)).to_have_value(
        "Rekrytera två specialister i allmänmedicin"
    )
    screenshot(unit, "22-atgard-for-sen")
    unit.locator("#measure_due").fill((dt.date.today() + dt.timedelta(days=20)).isoformat())
    unit.get_by_role("button", name="Lägg till åtgärd").click()
    unit.get_by_role("button", name="Lämna in planen").click()
    bo.reload()
    bo.get_by_role("button", name="Godkänn planen").click()
    from audit.db import make_engine

    engine = make_engine(live_env["HALSOVAL_DATABASE_URL"])
    with engine.begin() as conn:  # a month passes
        conn.execute(
            sa.text("UPDATE action_plans SET measures_due = :d WHERE title = 'Läkarbemanning'"),
            {"d": dt.date.today() - dt.timedelta(days=1)},
        )
    engine.dispose()
    bo.goto(live_server + "/atgardsplaner/")
    done(bo, "(försenad)")
    bo.goto(plan_url)
    done(bo, "godkändes, men planens sista dag för åtgärderna")
    bo.get_by_label("Ärendets diarienummer").fill("RS 2025/320")
    bo.get_by_role("button", name="Eskalera till sanktionsärende").click()
    done(bo, "Sanktionsärendet är öppnat.")

    # 4. The sanction case: informed, response, assessment, rättelse, kommunicering, decision.
    case_url = bo.url
    bo.get_by_label("Svarstid i arbetsdagar").fill("5")
    bo.get_by_role("button", name="Informera enheten och ge svarstid").click()
    unit.goto(case_url)
    unit.get_by_label("Enhetens yttrande").fill("Rekryteringen har dragit ut på tiden.")
    unit.get_by_role("button", name="Lämna yttrande").click()
    greta.goto(case_url)
    greta.get_by_label("Bedömning").fill("Planen är inte genomförd; bristen kvarstår.")
    greta.get_by_role("button", name="Bedöm ärendet").click()
    bo.reload()
    bo.get_by_label("Vad enheten ska rätta").fill("Minst hälften specialister i allmänmedicin.")
    bo.get_by_label("Period i arbetsdagar").fill("10")
    bo.get_by_role("button", name="Begär rättelse inom en period").click()
    greta.reload()
    greta.get_by_label("Ja", exact=True).check()
    greta.get_by_label("Vad enheten har gjort under perioden").fill(
        "En specialist anställd; en saknas fortfarande."
    )
    greta.get_by_role("button", name="Avsluta rättelseperioden").click()
    bo.reload()
    bo.get_by_label("Avsett beslut", exact=True).select_option("penalty")
    bo.get_by_label("Skäl för det avsedda beslutet").fill(
        "Bristen har bestått i över ett år trots åtgärdsplan och rättelseperiod."
    )
    bo.get_by_label("Belopp i kronor").fill("50 000")
    bo.get_by_label("Svarstid i arbetsdagar").fill("10")
    bo.get_by_role("button", name="Kommunicera avsett beslut").click()
    done(bo, "Kommunicera avsett beslut: klart.")
    screenshot(bo, "23-kommunicerat")
    unit.goto(case_url)
    done(unit, "Avsett beslut (kommunicerat)")
    unit.get_by_label("Ditt yttrande över det avsedda beslutet").fill(
        "Vi har anställt en specialist och annonserar efter en till."
    )
    unit.get_by_role("button", name="Yttra dig över det avsedda beslutet").click()
    bo.reload()
    bo.get_by_label("Beslut", exact=True).select_option("penalty")
    bo.get_by_label("Beslutat av").select_option("regionstyrelsen")
    bo.get_by_label("Sammanträdesdag").fill(dt.date.today().isoformat())
    bo.get_by_label("Protokollsparagraf").fill("§ 45")
    bo.get_by_label("Beslutets diarienummer").fill("RS 2025/321")
    bo.get_by_label("Allvar").fill("Bemanningen understiger kravet med en tredjedel.")
    bo.get_by_label("Varaktighet").fill("Över ett år.")
    bo.get_by_label("Upprepning").fill("Åtgärdsplan 2025 har inte genomförts.")
    bo.get_by_label("Enhetens egna åtgärder").fill("En specialist anställd.")
    bo.get_by_label("Påverkan på patientsäkerheten").fill("Ingen känd skada; sämre kontinuitet.")
    bo.get_by_label("Motivering", exact=True).fill(
        "Vitet står i proportion till en långvarig brist som enheten delvis har rättat."
    )
    bo.get_by_label("Vite i kronor").fill("50000")
    bo.get_by_role("button", name="Registrera beslut").click()
    done(bo, "RS 2025/321")
    bo.get_by_role("link", name="Beslutsbrev").click()
    done(bo, "Beslut: vite")
    done(bo, "allmän domstol")
    for width in (1280, 375):
        bo.set_viewport_size({"width": width, "height": 900})
        screenshot(bo, f"24-beslutsbrev-{width}")
    bo.set_viewport_size({"width": 1280, "height": 900})
    bo.go_back()
    for action in ("Beslutet är meddelat enheten", "Beslutet är verkställt", "Avsluta ärendet"):
        bo.get_by_role("button", name=action).click()
        done(bo, f"{action}: klart.")
    screenshot(bo, "21-sanktion-avslutad")

    # 5. The trail is whole.
    verify = subprocess.run(
        [str(VENV_BIN / "halsoval"), "audit", "verify"],
        env=live_env,
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 0 and "Kedjan är hel" in verify.stdout
