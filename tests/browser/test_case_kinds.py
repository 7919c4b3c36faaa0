"""Every kind of ärende in real Chromium (issue 10, "done when"): for each of the ten case kinds
the health centre files it from its unit page with the kind's own fields and documents and
submits it, the beställare decides it as the kind allows (grants or refuses an application,
notes a notice; one after asking for completion), and the checklist's event-driven item of the
kind shows the case with its state. One live server, one login per role, one private health
centre of its own (Lex Maria cases come only from private units, §2.6) so the other browser
tests' units are untouched."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import yaml
from playwright.sync_api import expect

from tests.browser.conftest import BROWSER_PASSWORD, _cli, screenshot, seed_checklist

pytestmark = pytest.mark.browser

UNIT, UNIT_NAME, HEAD = "granby", "Granby vårdcentral", "vc.granby"
TODAY = dt.date.today()
# A start a week ahead (decisions before the change, §3.3, §3.9, §4.9), in this year so that
# the round of this year finds the case.
START = min(TODAY + dt.timedelta(days=7), dt.date(TODAY.year, 12, 31))
PARTNER = "Ålidhems hälsocentral"


def d(days: int = 0, base: dt.date = START) -> str:
    return (base + dt.timedelta(days=days)).isoformat()


@dataclasses.dataclass(frozen=True)
class Walk:
    """One case kind's walk: what the unit fills in (label → text, or True to tick), the
    documents it attaches (document kind → file name), how the beställare decides (the
    action's button and its fields by id), the state shown after, and the checklist item."""

    kind: str
    link: str
    fill: dict
    decide: str
    outcome: str
    item: str
    documents: dict = dataclasses.field(default_factory=dict)
    decision_fields: dict = dataclasses.field(default_factory=dict)
    completion: tuple[str, str] | None = None  # (field asked for, what the unit adds)


WALKS = [
    Walk(
        kind="begransat_oppethallande",
        link="Begränsat öppethållande enstaka dagar",
        fill={
            "Första dagen med begränsat öppethållande": d(),
            "Sista dagen": d(1),
            "Skäl": "Planeringsdag för hela personalen.",
            PARTNER: True,
            "Telefonsvararen säger vilken hälsocentral de hänvisas till": True,
            "Kontaktkortet på 1177.se": True,
        },
        decide="Notera anmälan",
        outcome="Beslutat – noterat",
        item="tillganglighet.begransat-oppethallande-samordning",
    ),
    Walk(
        kind="begransat_utbud",
        link="Begränsat utbud",
        fill={
            "Begränsningen gäller från": d(),
            "Begränsningen gäller till och med": d(14),
            "Datum för vårdgivarens beslut om begränsningen": TODAY.isoformat(),
            "Vilken del av utbudet som begränsas": "Kvällsmottagningen.",
            "Aktuella åtgärder för att täcka behoven": "Hyrläkare två dagar i veckan.",
            "Hur tillgång till specialistläkare i allmänmedicin säkerställs": (
                "Specialist på distans varje dag."
            ),
            "Hur restiden för patienterna kan påverkas": "Ingen förändring.",
            "Hur patienterna och allmänheten informeras": "1177.se och anslag i väntrummet.",
        },
        documents={"risk_analysis": "riskanalys.txt", "plan": "plan.txt"},
        decide="Notera anmälan",
        outcome="Beslutat – noterat",
        item="tillganglighet.begransat-utbud-riskanalys",
    ),
    Walk(
        kind="listningstak",
        link="Listningstak",
        fill={
            "Listningstak från": d(),
            "Till och med": d(180),
            "Tak: högsta antal listade som söks": "9000",
            "Antal listade i dag": "8700",
            "Skäl för ansökan": "Lokalerna räcker för högst 9 000 listade.",
            "Hur enskilda informeras om att listning inte är möjlig när taket är nått": (
                "1177.se och telefonsvararen."
            ),
        },
        documents={"application": "ansokan-listningstak.txt"},
        decide="Bevilja",
        decision_fields={"#diarienummer-grant": "RS 2026/301", "#decided_limit": "8800"},
        outcome="Beslutat – beviljat",
        item="listning.listningstak-skriftlig-ansokan",
    ),
    Walk(
        kind="listningsstopp",
        link="Listningsstopp",
        fill={
            "Listningsstopp från": d(),
            "Till och med": d(60),
            "Skäl för ansökan": "Tre av sex läkare har slutat.",
            "Hur enskilda informeras om listningsstoppet och om när det går att lista sig igen": (
                "Telefonsvararen och 1177.se."
            ),
        },
        documents={"application": "ansokan-listningsstopp.txt"},
        decide="Avslå",
        decision_fields={
            "#diarienummer-refuse": "RS 2026/302",
            "#reason-refuse": "Två nya läkare börjar inom en månad; stopp behövs inte.",
        },
        outcome="Beslutat – avslaget",
        item="listning.listningsstopp-skriftlig-ansokan",
    ),
    Walk(
        kind="byte_verksamhetschef",
        link="Byte av verksamhetschef",
        fill={
            "Bytet träder i kraft": d(),
            "Ny verksamhetschef (namn)": "Karin Berg",
            "Den nya verksamhetschefens yrke eller titel": "Distriktssköterska",
            "Tidigare verksamhetschef": "Gustav Lind",
        },
        decide="Notera anmälan",
        outcome="Beslutat – noterat",
        item="kompetens.verksamhetschef-byte-anmalan",
    ),
    Walk(
        kind="samverkan",
        link="Samarbete mellan hälsocentraler",
        fill={
            "Samarbetet börjar": d(),
            PARTNER: True,
            "Vilken vård eller vilka uppdrag samarbetet gäller": "Gemensam diabetesmottagning.",
            "Hur samarbetet förbättrar kvaliteten": "En diabetessjuksköterska för båda.",
            "Hur god tillgänglighet för patienterna tillgodoses": "Mottagning på båda orterna.",
            "Hur produktionen redovisas per hälsocentral": "Per hälsocentral.",
        },
        decide="Bevilja",
        outcome="Beslutat – beviljat",
        item="samverkan.samarbete-halsocentraler-anmalt-godkant",
        completion=(
            "Hur produktionen redovisas per hälsocentral",
            "Besöken registreras på patientens hälsocentral och redovisas per månad.",
        ),
    ),
    Walk(
        kind="filial",
        link="Filialmottagning",
        fill={
            "Planerad start": d(),
            "Filialens namn": "Granby filial Östra",
            "Lokal (adress) där filialen ska bedrivas": "Östra vägen 4, Granby",
            "Syfte med filialen": "Närmare vård för byarna öster om älven.",
            "Nytta för patienterna": "Kortare resor för äldre patienter.",
            "Vårdutbud på filialen, och hur patienter får det som saknas där på "
            "huvudmottagningen": "Sjuksköterskemottagning; läkarbesök på huvudmottagningen.",
            "Öppettider, och hur patienter erbjuds vård på huvudmottagningen när filialen har "
            "stängt": "Tisdagar och torsdagar 8–16; övriga tider huvudmottagningen.",
            "Hur det framgår för invånarna att filialen är en underavdelning till "
            "huvudmottagningen": "Skylt och 1177.se: ”filial till Granby vårdcentral”.",
            "Filialen drivs av samma organisation som huvudmottagningen, inte av en "
            "underentreprenör": True,
            "Huvudmottagningens verksamhetschef är verksamhetschef även för filialen": True,
        },
        documents={"application": "ansokan-filial.txt"},
        decide="Bevilja",
        decision_fields={"#diarienummer-grant": "RS 2026/303"},
        outcome="Beslutat – beviljat",
        item="verksamhet.filial-ansokan",
    ),
    Walk(
        kind="flytt",
        link="Flytt av verksamheten (ändrad lokalisering)",
        fill={
            "Planerad flyttdag": d(),
            "Ny lokalisering (adress)": "Storgatan 12, Granby",
            "Skäl till förändringen": "Hyresavtalet för nuvarande lokal upphör.",
            "Samråd med Region Västerbotten (när och med vem)": "Med Beställarenheten i oktober.",
            "Hur den listade befolkningen informeras skriftligen": "Brev till alla listade.",
        },
        documents={"information": "brev-till-listade.txt"},
        decide="Bevilja",
        decision_fields={"#diarienummer-grant": "RS 2026/304"},
        outcome="Beslutat – beviljat",
        item="verksamhet.lokalisering-andring-godkannande",
    ),
    Walk(
        kind="underleverantor",
        link="Underleverantör",
        fill={
            "Underleverantören börjar": d(),
            "Byte av underleverantör": True,
            "Underleverantör (företag eller organisation)": "Fotvård Norr AB",
            "Underleverantör som ersätts": "Fotkliniken Väst AB",
            "Vad underleverantören ska utföra": "Medicinsk fotvård för patienter med diabetes.",
        },
        decide="Notera anmälan",
        outcome="Beslutat – noterat",
        item="verksamhet.underleverantor-meddelande",
    ),
    Walk(
        kind="lex_maria",
        link="Lex Maria (privat hälsocentral)",
        fill={
            "Datum för anmälan till IVO": TODAY.isoformat(),
            "IVO:s diarienummer": "IVO 3.5.1-12345/2026",
            "Kort beskrivning av händelsen, utan personuppgifter": (
                "Fördröjd uppföljning av ett provsvar."
            ),
            "Åtgärder": "Ny rutin för bevakning av provsvar.",
            "Händelsen berör enbart den privata vårdgivaren": True,
            "Handlingarna är avidentifierade": True,
        },
        documents={"report": "anmalan-ivo.txt", "investigation": "utredning.txt"},
        decide="Notera anmälan",
        outcome="Beslutat – noterat",
        item="kvalitet.lex-maria-privat-kopia-till-regionen",
    ),
]
assert len({w.kind for w in WALKS}) == 10


def test_the_table_walks_every_case_kind():
    from workflows.cases.checklist import REQUIREMENT_CASES
    from workflows.cases.models import CaseKind
    from workflows.cases.types import TYPES

    assert {w.kind for w in WALKS} == {k.value for k in CaseKind}
    for walk in WALKS:
        kind = TYPES[CaseKind(walk.kind)]
        assert walk.link == kind.label and kind.kind in REQUIREMENT_CASES[walk.item]
        allowed = ("Bevilja", "Avslå") if kind.application else ("Notera anmälan",)
        assert walk.decide in allowed
        required = {doc.kind.value for doc in kind.documents if doc.required and not doc.later}
        assert required <= set(walk.documents), walk.kind


@pytest.fixture(scope="module")
def granby(live_server, live_env, tmp_path_factory):
    """A private health centre with its head, loaded as the register's own file would be, and
    this year's round of one event-driven item per case kind for it: item code → (item id,
    section)."""
    import sqlalchemy as sa

    from audit.db import make_engine
    from checklists.models import Requirement
    from checklists.rounds import ChecklistItem
    from checklists.sections import section_of

    path = tmp_path_factory.mktemp("granby") / "enheter.yaml"
    unit = {
        "code": UNIT,
        "name": UNIT_NAME,
        "kind": "halsocentral",
        "operator": "privat",
        "provider": "Granby Vård AB",
        "area": "umea",
        "has_bvc": True,
        "has_mvc": True,
        "source": "Testenhet för webbläsartesterna",
    }
    path.write_text(yaml.safe_dump({"units": [unit]}, allow_unicode=True), encoding="utf-8")
    _cli(live_env, "units", "load", str(path))
    _cli(
        live_env,
        "users",
        "create",
        HEAD,
        "--name",
        "Greta Granby",
        "--role",
        f"verksamhetschef:{UNIT}",
        "--password-stdin",
        input=BROWSER_PASSWORD + "\n",
    )
    checklist_id = seed_checklist(
        live_env,
        f"Uppföljning {TODAY.year} – ärenden",
        [w.item for w in WALKS],
        unit=UNIT,
        year=TODAY.year,
    )
    engine = make_engine(live_env["HALSOVAL_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(ChecklistItem.id, Requirement.code, Requirement.section)
                .join(Requirement, Requirement.id == ChecklistItem.requirement_id)
                .where(ChecklistItem.checklist_id == checklist_id)
            ).all()
    finally:
        engine.dispose()
    return checklist_id, {code: (item_id, section_of(section)) for item_id, code, section in rows}


def done(page, text):
    expect(page.get_by_text(text, exact=False).first).to_be_visible()


def action(page, button):
    """The form of one action on the case page (each has its own fields)."""
    return page.locator("form.action-form", has=page.get_by_role("button", name=button))


def _fill(page, fields: dict) -> None:
    for label, value in fields.items():
        target = page.get_by_label(label, exact=True)
        if value is True:
            target.check()
        else:
            target.fill(value)


def _attach(page, documents: dict) -> None:
    for document_kind, filename in documents.items():
        page.get_by_label("Dokument", exact=True).select_option(document_kind)
        page.locator("input[type=file]").set_input_files(
            files=[
                {
                    "name": filename,
                    "mimeType": "text/plain",
                    "buffer": f"{filename}: handling utan personuppgifter.".encode(),
                }
            ]
        )
        page.get_by_role("button", name="Bifoga", exact=True).click()
        done(page, f"Filen {filename} har bifogats.")


@pytest.mark.parametrize("walk", WALKS, ids=lambda w: w.kind)
def test_the_unit_files_each_kind_and_the_purchaser_decides_it(
    live_server, granby, signed_in, walk
):
    checklist_id, items = granby
    unit = signed_in(HEAD)
    unit.goto(live_server + f"/enheter/{UNIT}")
    unit.get_by_role("link", name=walk.link, exact=True).click()
    expect(unit.get_by_role("heading", level=1)).to_contain_text(walk.link)
    _fill(unit, walk.fill)
    unit.get_by_role("button", name="Spara utkastet").click()
    done(unit, "Utkastet har sparats.")
    case_url = unit.url.split("#")[0]
    case_path = case_url.removeprefix(live_server)
    _attach(unit, walk.documents)
    unit.get_by_role("button", name="Lämna in ärendet").click()
    done(unit, "Lämna in ärendet: klart.")
    expect(unit.locator("h1 + p .badge")).to_have_text("Inlämnat")

    bo = signed_in("bestallare")
    bo.goto(live_server + "/arenden/?vantar=bestallarenheten")
    row = bo.locator("tr", has=bo.locator(f"a[href='{case_path}']"))
    expect(row).to_contain_text(UNIT_NAME)
    bo.goto(case_url)
    if walk.completion is not None:
        asked, added = walk.completion
        ask = action(bo, "Begär komplettering")
        ask.locator("#reason-request_completion").fill(f"Beskriv närmare: {asked.lower()}.")
        ask.locator("#completion_days").fill("5")
        ask.get_by_role("button", name="Begär komplettering").click()
        done(bo, "Begär komplettering: klart.")
        unit.reload()
        expect(unit.locator("h1 + p .badge")).to_have_text("Komplettering begärd")
        done(unit, f"Beskriv närmare: {asked.lower()}.")
        unit.get_by_label(asked, exact=True).fill(added)
        unit.get_by_role("button", name="Spara uppgifterna").click()
        done(unit, "Ärendet har sparats.")
        unit.get_by_role("button", name="Lämna in ärendet").click()
        done(unit, "Lämna in ärendet: klart.")
        bo.reload()
        done(bo, added)
    decide = action(bo, walk.decide)
    for selector, value in walk.decision_fields.items():
        decide.locator(selector).fill(value)
    decide.get_by_role("button", name=walk.decide).click()
    done(bo, f"{walk.decide}: klart.")
    expect(bo.locator("h1 + p .badge")).to_have_text(walk.outcome)
    for selector, value in walk.decision_fields.items():
        if selector.startswith("#diarienummer"):
            expect(bo.locator("dl.facts").first).to_contain_text(value)
    screenshot(bo, f"50-arende-{walk.kind}-beslutat")

    if walk.kind == "listningstak":  # the cap decided, written as the cap applied for is
        expect(bo.locator("dl.facts").first).to_contain_text("8\u00a0800")
    if walk.kind == "filial":  # granted: the branch is in the register under its main unit
        branch = walk.fill["Filialens namn"]
        bo.get_by_role("link", name=branch).click()
        expect(bo.get_by_role("heading", level=1)).to_have_text(branch)
        expect(bo.locator("dl.facts")).to_contain_text(UNIT_NAME)
    if walk.kind == "lex_maria":  # in effect, then IVO's decision comes and the case closes
        bo.goto(case_url)
        bo.get_by_role("button", name="Markera att ärendet gäller").click()
        done(bo, "Markera att ärendet gäller: klart.")
        unit.goto(case_url)
        unit.get_by_label("Datum för IVO:s beslut").fill(TODAY.isoformat())
        unit.get_by_role("button", name="Spara", exact=True).click()
        _attach(unit, {"ivo_decision": "ivo-beslut.txt"})
        bo.reload()
        bo.get_by_role("button", name="Avsluta ärendet").click()
        done(bo, "Avsluta ärendet: klart.")
        expect(bo.locator("h1 + p .badge")).to_have_text("Avslutat")

    # The event-driven checklist item of the kind shows the case, with its state.
    item_id, section = items[walk.item]
    unit.goto(live_server + f"/checklistor/{checklist_id}/avsnitt/{section}")
    link = unit.locator(f"a[href='{case_path}']")
    shown = unit.locator(f"#item-{item_id} .item-cases li", has=link)
    expect(shown).to_have_count(1)
    final = "Avslutat" if walk.kind == "lex_maria" else walk.outcome
    expect(shown.locator(".badge")).to_have_text(final)
    if walk.kind in ("begransat_utbud", "lex_maria"):
        screenshot(unit, f"51-checklista-{walk.kind}-med-arende")
