"""In real Chromium with JavaScript: the checklist as a task list of sections. Each item saves
on its own, in place — the evaluation appears beside it, focus stays where the user is, nothing
reloads; a bad value is refused beside its field; a conflict is shown inside the item; a refused
upload is shown beside its item, in view; submitting lists the missing items as links and then
locks every section; the reviewer filters, judges item by item and accepts."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import in_viewport, screenshot, seed_checklist
from tests.checklists.test_rounds import synthetic_personnummer

pytestmark = pytest.mark.browser

NAMED = "kompetens.verksamhetschef"  # §3.1.1 named person
CHANGE_OF_HEAD = "kompetens.verksamhetschef-byte-anmalan"  # §3.1.1 yes/no, when it happens
RATIO = "kompetens.lakare-specialister-allmanmedicin"  # §3.1.2 count ratio
PHYSIO = "kompetens.fysioterapi"  # §3.1.2 number
BASUTBUD = "tillganglighet.1177-basutbud"  # §2.7.3 selection
HOURS = "tillganglighet.oppettider"  # §2.7.1 weekly schedule
DEVIATIONS = "kvalitet.avvikelsehantering"  # §2.6 document
SAFETY = "kvalitet.systematiskt-patientsakerhetsarbete"  # §2.6 yes/no
WEEKDAYS = ("Måndag", "Tisdag", "Onsdag", "Torsdag", "Fredag")
ALL_SERVICES = [
    "Beställ tid",
    "Av/omboka tid",
    "Förnya recept",
    "Förnya hjälpmedel",
    "Förläng sjukskrivning",
    "Beställ journalkopia",
    "Kontakta mig",
]
OPEN_HOURS = {
    "days": {d: {"open": "08:00", "close": "17:00"} for d in ("mon", "tue", "wed", "thu", "fri")}
}


def item(page, question_part):
    """The item (fieldset) whose question contains ``question_part``."""
    return page.locator("fieldset.item", has=page.locator("legend", has_text=question_part))


def task(page, key):
    """A section's row in the task list."""
    return page.locator("li.task", has=page.locator(f"a.task-name:text-matches('^§{key} ')"))


def saving(page, item_locator=None):
    """Wait for an item's own save (POST …/svar or …/granska/punkter/…): of ``item_locator``
    if given, else of any item."""
    url = item_locator.get_attribute("data-save-url") if item_locator is not None else None
    return page.expect_response(
        lambda r: (
            r.request.method == "POST"
            and (
                r.url.endswith(url)
                if url
                else re.search(r"/punkter/\d+(/svar)?$", r.url) is not None
            )
        )
    )


def mark(page):
    """A marker that a reload or navigation would wipe out."""
    page.evaluate("window.__stayed = 'yes'")


def still_here(page, url):
    assert page.url == url
    assert page.evaluate("window.__stayed") == "yes", "the page was reloaded"


def error_beside(page, field):
    """The error shown for ``field``: its element, which must sit in the field's own box."""
    field_id = field.get_attribute("id")
    error = page.locator(f"[id='{field_id}-error']")
    expect(error).to_be_visible()
    assert page.evaluate(
        "id => document.getElementById(id).closest('.field')"
        ".contains(document.getElementById(id + '-error'))",
        field_id,
    ), "the error is not beside its field"
    return error


def choose(select, **option):
    """Pick an option as a user does: the select has focus (Playwright's select_option alone
    changes it from wherever focus happens to be)."""
    select.focus()
    select.select_option(**option)


def focused_id(page):
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_items_save_in_place_and_the_task_list_follows(live_server, live_env, signed_in):
    checklist = seed_checklist(
        live_env,
        "Uppföljning 2025 – avsnitt med JavaScript",
        [NAMED, CHANGE_OF_HEAD, RATIO, PHYSIO, BASUTBUD],
    )
    page = signed_in("vc.backen")
    tasks_url = f"{live_server}/checklistor/{checklist}"
    page.goto(tasks_url)
    expect(task(page, "3.1").locator(".tag")).to_have_text("Ej påbörjad")
    expect(task(page, "2.7").locator(".tag")).to_have_text("Ej påbörjad")
    page.get_by_role("link", name=re.compile(r"^§3\.1 ")).click()
    url = page.url
    assert url.endswith("/avsnitt/3.1")
    mark(page)

    # Yes/no: ticking a choice saves at once; focus stays on the choice.
    change = item(page, "bytet av verksamhetschef")
    with saving(page) as response:
        change.get_by_label("Ja", exact=True).check()
    assert response.value.status == 200
    expect(change.locator("[data-evaluation]")).to_contain_text("Uppfyllt")
    expect(change.locator("[data-save-state]")).to_have_text("Sparat")
    assert focused_id(page) == change.get_by_label("Ja", exact=True).get_attribute("id")
    expect(page.locator("[data-section-count]")).to_have_text("1 av 4 besvarade i avsnittet")
    expect(page.locator("label[for=progress]")).to_have_text("1 av 5 punkter besvarade")
    still_here(page, url)

    # Count ratio, a bad value: the numerator, Tab to the denominator — nothing is sent while
    # the answer is half-typed; leaving the answer sends it, and the refusal stands beside
    # the numerator. Focus stays where the user went; nothing reloads.
    ratio = item(page, "specialister i allmänmedicin")
    numerator = ratio.get_by_label("Antal verksamma läkare som är specialister i allmänmedicin")
    denominator = ratio.get_by_label("Antal verksamma läkare på hälsocentralen")
    comment = ratio.get_by_label("Kommentar (frivillig)")
    numerator.fill("9")
    page.keyboard.press("Tab")
    assert focused_id(page) == denominator.get_attribute("id")
    expect(ratio.locator("p.error:visible")).to_have_count(0)
    denominator.fill("8")
    with saving(page) as response:
        page.keyboard.press("Tab")
    assert response.value.status == 422
    error = error_beside(page, numerator)
    expect(error).to_contain_text("kan inte vara fler än antal verksamma läkare")
    expect(numerator).to_have_attribute("aria-invalid", "true")
    expect(numerator).to_have_attribute("aria-describedby", error.get_attribute("id"))
    expect(ratio.locator("[data-save-state]")).to_have_text("Inte sparat: se felet ovan.")
    expect(ratio.locator("[data-evaluation]")).to_contain_text("Ej besvarad")
    assert focused_id(page) == comment.get_attribute("id")
    still_here(page, url)

    # Corrected: the error goes, the evaluation comes, focus is still in the comment.
    numerator.fill("6")
    with saving(page) as response:
        comment.focus()
    assert response.value.status == 200
    expect(ratio.locator("p.error:visible")).to_have_count(0)
    expect(numerator).not_to_have_attribute("aria-invalid", "true")
    expect(ratio.locator("[data-evaluation]")).to_contain_text("6 av 8 läkare (75 %)")
    expect(ratio.locator("[data-evaluation]")).to_contain_text("Uppfyllt")
    assert focused_id(page) == comment.get_attribute("id")

    # Number: leaving the field with Tab saves it; focus goes on to the comment.
    physio = item(page, "fysioterapeuter")
    value = physio.get_by_label("Värde")
    value.fill("2")
    with saving(page) as response:
        page.keyboard.press("Tab")
    assert response.value.status == 200
    expect(physio.locator("[data-evaluation]")).to_contain_text("Uppfyllt")
    assert focused_id(page) == physio.get_by_label("Kommentar (frivillig)").get_attribute("id")
    # Enter in a field saves that item — not the page's first item.
    value.fill("3")
    with saving(page) as response:
        value.press("Enter")
    assert response.value.url.endswith(physio.get_attribute("data-save-url"))
    still_here(page, url)
    expect(page.locator("[data-section-count]")).to_have_text("3 av 4 besvarade i avsnittet")

    page.get_by_role("link", name="Alla avsnitt").click()
    expect(task(page, "3.1").locator(".tag")).to_have_text("Påbörjad")
    expect(task(page, "3.1").locator(".task-hint")).to_have_text("3 av 4 besvarade")
    expect(task(page, "2.7").locator(".tag")).to_have_text("Ej påbörjad")

    # Named person: name and title, then on to the comment.
    task(page, "3.1").get_by_role("link").click()
    mark(page)
    url = page.url
    head = item(page, "utsedda verksamhetschef")
    head.get_by_label("Namn").first.fill("Vera Verksamhetschef")
    head.get_by_label("Titel").first.fill("Verksamhetschef")
    with saving(page) as response:
        page.keyboard.press("Tab")  # → HSA-id, still the answer: nothing sent
        head.get_by_label("Kommentar (frivillig)").click()
    assert response.value.status == 200
    expect(head.locator("[data-evaluation]")).to_contain_text("Vera Verksamhetschef")
    expect(page.locator("[data-section-count]")).to_have_text("4 av 4 besvarade i avsnittet")
    still_here(page, url)

    # Selection: each tick saves.
    page.get_by_role("link", name=re.compile(r"^← §2\.7 ")).click()
    basutbud = item(page, "basutbudets e-tjänster")
    with saving(page):
        basutbud.get_by_label("Beställ tid", exact=True).check()
    expect(basutbud.locator("[data-evaluation]")).not_to_contain_text("Ej besvarad")

    page.get_by_role("link", name="Alla avsnitt").click()
    expect(task(page, "3.1").locator(".tag")).to_have_text("Klar")
    expect(task(page, "3.1").locator(".task-hint")).to_have_text("4 av 4 besvarade")
    expect(task(page, "2.7").locator(".tag")).to_have_text("Behöver åtgärd")


def test_the_section_buttons_post_what_was_typed_once(live_server, live_env, signed_in):
    """Typing and then pressing "Spara" (or "Spara och fortsätt"): the form's post saves the
    item — no save of its own beside it, so the page says what the post saved."""
    checklist = seed_checklist(live_env, "Uppföljning 2025 – spara avsnittet", [PHYSIO, RATIO])
    page = signed_in("vc.backen")
    page.goto(f"{live_server}/checklistor/{checklist}/avsnitt/3.1")
    own_saves = []
    page.on("request", lambda r: own_saves.append(r.url) if r.url.endswith("/svar") else None)
    item(page, "fysioterapeuter").get_by_label("Värde").fill("2")
    page.get_by_role("button", name="Spara", exact=True).click()
    expect(page.get_by_text("1 svar sparat.")).to_be_visible()
    assert own_saves == []
    expect(item(page, "fysioterapeuter").locator("[data-evaluation]")).to_contain_text("Uppfyllt")


def test_a_conflict_is_shown_inside_the_item(live_server, live_env, signed_in):
    checklist = seed_checklist(live_env, "Uppföljning 2025 – krock", [PHYSIO, RATIO])
    section = f"{live_server}/checklistor/{checklist}/avsnitt/3.1"
    mine, colleague = signed_in("vc.backen"), signed_in("vc.backen")
    mine.goto(section)
    colleague.goto(section)
    with saving(colleague):
        item(colleague, "fysioterapeuter").get_by_label("Värde").fill("4")
        colleague.keyboard.press("Tab")
    mark(mine)
    physio = item(mine, "fysioterapeuter")
    physio.get_by_label("Värde").fill("2")
    with saving(mine) as response:
        mine.keyboard.press("Tab")
    assert response.value.status == 409
    conflict = physio.locator(".conflict")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text("Vera Verksamhetschef sparade den här punkten")
    expect(physio.get_by_label("Värde")).to_have_value("2")  # what I typed is kept
    with saving(mine) as response:
        conflict.get_by_role("button", name="Behåll mitt svar").click()
    assert response.value.status == 200
    expect(physio.locator(".conflict")).to_have_count(0)
    still_here(mine, section)
    colleague.reload()
    expect(item(colleague, "fysioterapeuter").get_by_label("Värde")).to_have_value("2")


def test_a_refused_upload_is_shown_beside_its_item_in_view(
    live_server, live_env, signed_in, tmp_path
):
    checklist = seed_checklist(live_env, "Uppföljning 2025 – underlag", [SAFETY, DEVIATIONS, HOURS])
    program = tmp_path / "rutin.exe"
    program.write_bytes(b"MZ\x90\x00" + b"\x00" * 200)
    number = synthetic_personnummer(__import__("datetime").date(1961, 7, 14))
    leaky = tmp_path / "avvikelser.txt"
    leaky.write_text(f"Avvikelse gällande patient {number}.", encoding="utf-8")
    good = tmp_path / "avvikelserutin.txt"
    good.write_text("Rutin för avvikelsehantering, fastställd 2025-01-10.", encoding="utf-8")

    for width, upload, expected in ((1280, program, "rutin.exe"), (375, leaky, "personnummer")):
        page = signed_in("vc.backen", width=width, height=700)
        page.goto(f"{live_server}/checklistor/{checklist}/avsnitt/2.6")
        mark(page)
        deviations = item(page, "avvikelsehantering")
        deviations.locator("input[type=file]").set_input_files(str(upload))
        with page.expect_response(lambda r: r.url.endswith("/underlag")) as response:
            deviations.get_by_role("button", name="Ladda upp", exact=True).click()
        assert response.value.status == 422
        error = deviations.locator("[data-upload-error]")
        expect(error).to_be_visible()
        expect(error).to_contain_text(expected)
        assert number not in error.inner_text()
        assert in_viewport(page, error), f"the refusal is out of view at {width} px"
        expect(deviations.locator("input[type=file]")).to_have_attribute("aria-invalid", "true")
        still_here(page, f"{live_server}/checklistor/{checklist}/avsnitt/2.6")
        screenshot(page, f"30-uppladdning-vagrad-{width}")

    # A good file: the refusal goes, the file is listed, the item is answered.
    deviations.locator("input[type=file]").set_input_files(str(good))
    with page.expect_response(lambda r: r.url.endswith("/underlag")) as response:
        deviations.get_by_role("button", name="Ladda upp", exact=True).click()
    assert response.value.status == 200
    expect(deviations.locator("[data-upload-error]")).to_be_hidden()
    expect(deviations.locator("[data-files]")).to_contain_text("avvikelserutin.txt")
    expect(deviations.locator("[data-evaluation]")).not_to_contain_text("Ej besvarad")


def test_submit_lists_what_is_missing_then_locks_every_section(live_server, live_env, signed_in):
    checklist = seed_checklist(
        live_env,
        "Uppföljning 2025 – skicka in",
        [SAFETY, HOURS, BASUTBUD, PHYSIO],
        answers={SAFETY: {"answer": "yes"}, PHYSIO: {"value": "2"}},
    )
    page = signed_in("vc.backen")
    page.goto(f"{live_server}/checklistor/{checklist}")
    page.get_by_role("link", name="Kontrollera och skicka in").click()
    expect(page).to_have_title(re.compile("^Fel: "))
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("2 punkter är inte besvarade")
    links = summary.get_by_role("link")
    expect(links).to_have_count(2)
    expect(page.get_by_role("button", name="Ja, skicka in checklistan")).to_have_count(0)
    screenshot(page, "31-skicka-in-saknas")

    # The second link leads to its item, in view, in its section.
    links.nth(1).click()
    assert re.search(r"/avsnitt/2\.7#item-\d+$", page.url)
    basutbud = item(page, "basutbudets e-tjänster")
    assert in_viewport(page, basutbud.locator("legend").first)
    for service in ALL_SERVICES:
        with saving(page, basutbud):
            basutbud.get_by_label(service, exact=True).check()
    expect(basutbud.locator("[data-evaluation]")).to_contain_text("Uppfyllt")
    page.goto(f"{live_server}/checklistor/{checklist}/skicka-in")
    links = page.locator(".error-summary").get_by_role("link")
    expect(links).to_have_count(1)
    links.first.click()
    hours = item(page, "ordinarie öppettider")
    assert in_viewport(page, hours.locator("legend").first)
    for day in WEEKDAYS:
        hours.get_by_label(f"{day} öppnar").fill("08:00")
        hours.get_by_label(f"{day} stänger").fill("17:00")
    with saving(page) as response:
        hours.get_by_label("Kommentar (frivillig)").click()
    assert response.value.status == 200
    expect(hours.locator("[data-evaluation]")).to_contain_text("Uppfyllt")

    page.goto(f"{live_server}/checklistor/{checklist}/skicka-in")
    expect(page.locator(".error-summary")).to_have_count(0)
    expect(page).to_have_title(re.compile("^Skicka in checklistan"))
    screenshot(page, "32-skicka-in-bekrafta")
    page.get_by_role("button", name="Ja, skicka in checklistan").click()
    expect(page.get_by_text("Checklistan har skickats in för granskning.")).to_be_visible()
    expect(page.get_by_role("link", name="Kontrollera och skicka in")).to_have_count(0)
    for key in ("2.6", "2.7", "3.1"):
        page.goto(f"{live_server}/checklistor/{checklist}/avsnitt/{key}")
        main = page.locator("main")
        expect(main.locator("input:not([type=hidden]), textarea, select")).to_have_count(0)
        expect(main.get_by_role("button")).to_have_count(0)
        expect(main.locator("fieldset[data-save-url]")).to_have_count(0)
        expect(main.locator(".answer-readonly").first).to_be_visible()
    expect(page.locator("main .answer-readonly").first).to_contain_text("2")
    page.goto(f"{live_server}/checklistor/{checklist}/skicka-in")
    expect(page.get_by_text("Checklistan är inskickad och låst.")).to_be_visible()


def test_reviewer_filters_judges_item_by_item_and_accepts(live_server, live_env, signed_in):
    checklist = seed_checklist(
        live_env,
        "Uppföljning 2025 – granskning",
        [SAFETY, DEVIATIONS, HOURS, BASUTBUD, RATIO],
        answers={
            SAFETY: {"answer": "yes"},
            HOURS: OPEN_HOURS,
            BASUTBUD: {"selected": ALL_SERVICES[:-1]},  # "Kontakta mig" missing: partly
            RATIO: {"numerator": "3", "denominator": "8"},  # not compliant
        },
        documents=[DEVIATIONS],
        submit_as="vc.backen",
    )
    page = signed_in("bestallare")
    review = f"{live_server}/checklistor/{checklist}/granska"
    page.goto(review)
    tabs = page.locator("nav.filter-tabs")
    expect(tabs.get_by_role("link", name="Att bedöma manuellt")).to_contain_text("1")
    expect(tabs.get_by_role("link", name="Ej uppfyllda")).to_contain_text("2")
    expect(tabs.get_by_role("link", name="Ändrad bedömning")).to_contain_text("0")
    expect(task(page, "2.6").locator(".tag")).to_have_text("Att bedöma")

    # Accepting before the manual judgement: refused, the item as a link.
    page.get_by_role("button", name="Godkänn checklistan").click()
    expect(page).to_have_title(re.compile("^Fel: "))
    refusal = page.locator(".error-summary")
    expect(refusal).to_contain_text("saknar din bedömning")
    expect(refusal.get_by_role("link")).to_have_count(1)

    tabs.get_by_role("link", name="Ej uppfyllda").click()
    assert page.url.endswith("?visa=ej-uppfyllda")
    listed = page.locator("ul.item-links li")
    expect(listed).to_have_count(2)
    expect(listed.nth(0)).to_contain_text("basutbudets e-tjänster")
    expect(listed.nth(1)).to_contain_text("specialister i allmänmedicin")
    expect(listed.nth(1)).to_contain_text("Ej uppfyllt")

    tabs.get_by_role("link", name="Att bedöma manuellt").click()
    page.locator("ul.item-links").get_by_role("link").first.click()
    assert re.search(r"/granska/avsnitt/2\.6#r-\d+$", page.url)
    url = page.url
    mark(page)
    document = item(page, "avvikelsehantering")
    assert in_viewport(page, document.locator("legend").first)
    expect(document).to_contain_text("rutin.txt")

    # Choosing the judgement alone sends nothing (its statement follows); leaving the
    # statement empty is refused beside the statement; then it is saved in place.
    choose(document.get_by_label("Bedömning"), label="Uppfyllt")
    statement = document.get_by_label("Ditt ställningstagande (visas för enheten)")
    with saving(page) as response:
        statement.focus()
        page.keyboard.press("Tab")
    assert response.value.status == 422
    error = error_beside(page, statement)
    expect(error).to_contain_text("Ange skälet")
    expect(statement).to_have_attribute("aria-invalid", "true")
    statement.fill("Rutinen är fastställd och aktuell.")
    with saving(page) as response:
        page.keyboard.press("Tab")
    assert response.value.status == 200
    expect(document.locator("p.error:visible")).to_have_count(0)
    expect(document.locator("[data-evaluation]")).to_have_text(
        "Ändrad till: Uppfyllt Rutinen är fastställd och aktuell."
    )
    assert focused_id(page) == document.get_by_label("Kommentar till enheten").get_attribute("id")
    still_here(page, url)

    # The ratio: a milder judgement, with its reason.
    page.get_by_role("link", name="Alla avsnitt").click()
    task(page, "3.1").get_by_role("link").click()
    mark(page)
    ratio = item(page, "specialister i allmänmedicin")
    choose(ratio.get_by_label("Bedömning"), label="Delvis uppfyllt")
    ratio.get_by_label("Skäl till ändringen (visas för enheten)").fill(
        "Två läkare blir specialister i vår."
    )
    with saving(page) as response:
        ratio.get_by_role("button", name="Spara bedömningen").click()
    assert response.value.status == 200
    judged = "Ändrad till: Delvis uppfyllt Två läkare blir specialister i vår."
    expect(ratio.locator("[data-evaluation]")).to_have_text(judged)
    still_here(page, page.url)
    page.reload()  # what was shown in place is what the page shows
    expect(item(page, "specialister i allmänmedicin").locator("[data-evaluation]")).to_have_text(
        judged
    )

    page.goto(review)
    expect(tabs.get_by_role("link", name="Att bedöma manuellt")).to_contain_text("0")
    expect(tabs.get_by_role("link", name="Ändrad bedömning")).to_contain_text("2")
    expect(task(page, "2.6").locator(".tag")).to_have_text("Inget kvar att bedöma")
    tabs.get_by_role("link", name="Ändrad bedömning").click()
    expect(page.locator("ul.item-links li")).to_have_count(2)
    page.get_by_role("button", name="Godkänn checklistan").click()
    expect(page.get_by_text("Checklistan är godkänd; 2 iakttagelser registrerade.")).to_be_visible()
    expect(page.get_by_role("button", name="Godkänn checklistan")).to_have_count(0)
