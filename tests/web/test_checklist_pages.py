"""Checklist rounds through the web: every answer type round-trips through the form, a bad
answer loses nothing, two sessions do not overwrite each other, uploads are checked, personal
data is refused, other units' checklists are unreachable, review and acceptance work."""

import datetime as dt
import io
import re
import zipfile

import pytest
import sqlalchemy as sa

from audit.models import Role, Unit, User
from audit.units import load_units
from checklists import operations as ops
from checklists.answers import Status
from checklists.catalog import EDITIONS_DIR, load_edition
from checklists.models import Requirement
from checklists.rounds import Checklist, ChecklistItem, ChecklistStatus, Finding
from tests.checklists.test_rounds import synthetic_personnummer
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, TEST_ACTOR, make_user

# One item of each answer type that has form fields, and a valid raw answer for it.
TYPED = {
    "kompetens.lakare-specialister-allmanmedicin": {"numerator": "5", "denominator": "8"},
    "tillganglighet.1177-basutbud": {"selected": ["Beställ tid", "Kontakta mig"]},
    "kvalitet.patientsakerhetsberattelse": {"date": "2025-02-27"},
    "tillganglighet.1177-svarstid": {"value": "2,5"},
    "kompetens.fysioterapi": {"value": "3"},
    "verksamhet.underleverantor-ansvar": {"text": "Fotvården utförs av en underleverantör."},
    "tillganglighet.1177-alla-professioner": {"answer": "yes", "comment": "Alla nås."},
}


@pytest.fixture
def world(db, app, tmp_path):
    app.config["EVIDENCE_DIR"] = str(tmp_path / "underlag")
    load_units(db, TEST_ACTOR)
    edition = load_edition(db, TEST_ACTOR, EDITIONS_DIR / "uor-2025.yaml").edition
    bo = make_user(db, "bo", (Role.BESTALLARE, None))
    make_user(db, "vc", (Role.VERKSAMHETSCHEF, "byske"))
    make_user(db, "staff", (Role.PERSONAL, "byske"))
    make_user(db, "other", (Role.VERKSAMHETSCHEF, "backen"))
    ids = db.scalars(
        sa.select(Requirement.id).where(
            Requirement.edition_id == edition.id,
            Requirement.section.in_(["3.1.1", "3.1.2", "2.7.1", "2.7.3", "2.6", "3.20"]),
        )
    ).all()
    round_ = ops.open_round(
        db,
        bo,
        edition=edition,
        title="Uppföljning 2025",
        year=2025,
        opens_on=dt.date(2025, 1, 1),
        deadline=dt.date(2025, 3, 31),
        selection=ops.RoundSelection(requirement_ids=ids),
    )
    db.commit()
    checklist = db.scalar(
        sa.select(Checklist).join(Unit).where(Checklist.round_id == round_.id, Unit.code == "byske")
    )
    other = db.scalar(
        sa.select(Checklist)
        .join(Unit)
        .where(Checklist.round_id == round_.id, Unit.code == "backen")
    )
    return {"round": round_, "checklist": checklist, "other": other}


def item(db, checklist, code) -> ChecklistItem:
    return db.scalar(
        sa.select(ChecklistItem)
        .join(Requirement)
        .where(ChecklistItem.checklist_id == checklist.id, Requirement.code == code)
    )


def page_fields(html: str) -> dict:
    """The form as a browser would submit it: every input's current value."""
    fields: dict = {}
    for tag in re.findall(r"<(?:input|textarea|select)[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or 'form="' in tag or "disabled" in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        if kind and kind.group(1) in ("radio", "checkbox"):
            if "checked" in tag:
                fields.setdefault(name.group(1), []).append(value.group(1) if value else "y")
            continue
        if kind and kind.group(1) == "file":
            continue
        fields[name.group(1)] = value.group(1).replace("&#34;", '"') if value else ""
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        fields[name] = text.strip()
    return fields


def fill(fields: dict, item_id: int, raw: dict) -> dict:
    for part, value in raw.items():
        fields[f"i{item_id}_{part}"] = value
    return fields


SECTIONS = ("2.6", "2.7", "3.1", "3.20")


def section_url(checklist, key: str) -> str:
    return f"/checklistor/{checklist.id}/avsnitt/{key}"


def open_section(client, checklist, key):
    response = client.get(section_url(checklist, key))
    assert response.status_code == 200, response.status_code
    return page_fields(response.get_data(as_text=True))


def post_sections(client, checklist, fields_by_section: dict):
    """Post each section page as a browser without JavaScript would; the responses."""
    return {
        key: client.post(section_url(checklist, key), data=fields)
        for key, fields in fields_by_section.items()
    }


def section_key_of(db, checklist, code) -> str:
    from checklists.sections import section_of

    return section_of(item(db, checklist, code).requirement.section)


def test_each_answer_type_round_trips_through_the_section_form(client, world, db):
    """No JavaScript: each section's form posts normally and every type round-trips."""
    login(client, "staff", PASSWORD)
    checklist = world["checklist"]
    pages = {key: open_section(client, checklist, key) for key in SECTIONS}
    head = item(db, checklist, "kompetens.verksamhetschef")
    hours = item(db, checklist, "tillganglighet.oppettider")
    for code, raw in TYPED.items():
        fill(pages[section_key_of(db, checklist, code)], item(db, checklist, code).id, raw)
    fill(
        pages["3.1"],
        head.id,
        {
            "persons-1-name": "Anna Andersson",
            "persons-1-title": "Leg. läkare",
            "persons-1-hsa_id": "SE2321000222-abc1",
        },
    )
    for day in ("mon", "tue", "wed", "thu", "fri"):
        fill(pages["2.7"], hours.id, {f"{day}-open": "08:00", f"{day}-close": "17:00"})
    for key, response in post_sections(client, checklist, pages).items():
        assert response.status_code == 302, (key, response.get_data(as_text=True)[:2000])
    db.expire_all()
    assert item(db, checklist, "kompetens.lakare-specialister-allmanmedicin").value == {
        "numerator": 5,
        "denominator": 8,
    }
    assert (
        item(db, checklist, "tillganglighet.1177-basutbud").auto_status == Status.PARTLY_COMPLIANT
    )
    assert item(db, checklist, "tillganglighet.1177-svarstid").value == {"value": 2.5}
    assert item(db, checklist, "kompetens.fysioterapi").auto_status == Status.COMPLIANT
    assert item(db, checklist, "verksamhet.underleverantor-ansvar").auto_status == Status.TO_REVIEW
    assert item(db, checklist, "tillganglighet.1177-alla-professioner").value == {
        "answer": "yes",
        "comment": "Alla nås.",
    }
    assert head.value["persons"][0]["hsa_id"] == "SE2321000222-ABC1"
    assert hours.auto_status == Status.COMPLIANT
    # Loading the pages again shows every answer in its fields; saving changes nothing.
    again = {key: open_section(client, checklist, key) for key in SECTIONS}
    assert again["3.1"][f"i{head.id}_persons-1-name"] == "Anna Andersson"
    assert again["2.7"][f"i{item(db, checklist, 'tillganglighet.1177-svarstid').id}_value"] == "2,5"
    assert again["2.7"][f"i{hours.id}_mon-open"] == "08:00"
    professions = item(db, checklist, "tillganglighet.1177-alla-professioner")
    assert again["2.7"][f"i{professions.id}_answer"] == ["yes"]
    assert again["2.7"][f"i{professions.id}_comment"] == "Alla nås."
    basutbud = item(db, checklist, "tillganglighet.1177-basutbud")
    assert again["2.7"][f"i{basutbud.id}_selected"] == ["Beställ tid", "Kontakta mig"]
    response = client.post(section_url(checklist, "2.7"), data=again["2.7"], follow_redirects=True)
    assert "Inget nytt att spara" in response.get_data(as_text=True)


def test_save_and_continue_goes_to_the_next_section(client, world, db):
    login(client, "staff", PASSWORD)
    checklist = world["checklist"]
    fields = open_section(client, checklist, "2.6")
    fields["action"] = "continue"
    response = client.post(section_url(checklist, "2.6"), data=fields)
    assert response.status_code == 302
    assert response.location.endswith("/avsnitt/2.7")


def test_task_list_shows_sections_statuses_and_filters(client, world, db):
    login(client, "staff", PASSWORD)
    checklist = world["checklist"]
    page = client.get(f"/checklistor/{checklist.id}").get_data(as_text=True)
    for key in SECTIONS:
        assert f"/avsnitt/{key}" in page
    assert "Ej påbörjad" in page and "Tillgänglighet" in page
    ratio = item(db, checklist, "kompetens.lakare-specialister-allmanmedicin")
    fields = fill(
        open_section(client, checklist, "3.1"), ratio.id, {"numerator": "1", "denominator": "8"}
    )
    client.post(section_url(checklist, "3.1"), data=fields)
    page = client.get(f"/checklistor/{checklist.id}").get_data(as_text=True)
    assert "Påbörjad" in page
    filtered = client.get(f"/checklistor/{checklist.id}?visa=ej-uppfyllda").get_data(as_text=True)
    assert f"#item-{ratio.id}" in filtered
    unanswered = client.get(f"/checklistor/{checklist.id}?visa=obesvarade").get_data(as_text=True)
    assert f"#item-{ratio.id}" not in unanswered
    assert client.get(f"/checklistor/{checklist.id}?visa=nonsens").status_code == 200


def test_invalid_answer_keeps_everything_typed_with_an_error_summary(client, world, db):
    login(client, "staff", PASSWORD)
    checklist = world["checklist"]
    fields = open_section(client, checklist, "3.1")
    ratio = item(db, checklist, "kompetens.lakare-specialister-allmanmedicin")
    physio = item(db, checklist, "kompetens.fysioterapi")
    fill(fields, ratio.id, {"numerator": "9", "denominator": "8"})
    fill(fields, physio.id, {"value": "3"})
    response = client.post(section_url(checklist, "3.1"), data=fields)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<title>Fel:" in html
    assert 'class="error-summary"' in html and f'href="#i{ratio.id}_numerator"' in html
    assert "kan inte vara fler än" in html
    assert re.search(rf"<input[^>]*name=\"i{ratio.id}_numerator\"[^>]*value=\"9\"", html)
    db.expire_all()
    assert physio.value == {"value": 3.0}  # the valid answer was saved
    assert ratio.value is None


def test_personnummer_in_comment_is_refused_and_kept_for_correction(client, world, db):
    login(client, "staff", PASSWORD)
    checklist = world["checklist"]
    yes_no = item(db, checklist, "tillganglighet.1177-alla-professioner")
    fields = open_section(client, checklist, "2.7")
    number = synthetic_personnummer(dt.date(1970, 5, 17))
    fill(fields, yes_no.id, {"answer": "yes", "comment": f"Patient {number} klagade."})
    response = client.post(section_url(checklist, "2.7"), data=fields)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "ser ut som ett personnummer" in html
    assert f"Patient {number} klagade." in html  # kept for the user to correct
    db.expire_all()
    assert yes_no.value is None


def save_one(client, checklist, item_id, version, raw, token):
    data = {"csrf_token": token, f"i{item_id}_version": str(version)}
    for part, value in raw.items():
        data[f"i{item_id}_{part}"] = value
    return client.post(
        f"/checklistor/{checklist.id}/punkter/{item_id}/svar",
        data=data,
        headers={"Accept": "application/json"},
    )


def test_item_saves_alone_and_answers_json(client, world, db):
    login(client, "staff", PASSWORD)
    checklist = world["checklist"]
    token = csrf_token(client, section_url(checklist, "2.7"))
    target = item(db, checklist, "tillganglighet.1177-alla-professioner")
    response = save_one(client, checklist, target.id, target.version, {"answer": "no"}, token)
    assert response.status_code == 200
    body = response.get_json()
    assert body["ok"] and body["status"] == "non_compliant" and body["version"] == 2
    assert "Ej uppfyllt" in body["html"]
    bad = save_one(client, checklist, target.id, 2, {"answer": "kanske"}, token)
    assert bad.status_code == 422
    assert bad.get_json()["errors"] == {f"i{target.id}_answer": "Välj ja eller nej."}
    db.expire_all()
    assert target.value == {"answer": "no"} and target.version == 2


def test_colleagues_on_different_items_never_conflict_same_item_does(app, world, db):
    checklist = world["checklist"]
    first, second = app.test_client(), app.test_client()
    login(first, "vc", PASSWORD)
    login(second, "staff", PASSWORD)
    form_a, form_b = open_section(first, checklist, "3.1"), open_section(second, checklist, "3.1")
    ratio = item(db, checklist, "kompetens.lakare-specialister-allmanmedicin")
    physio = item(db, checklist, "kompetens.fysioterapi")
    # Different items of the same section, both pages loaded before either saved: both land.
    assert (
        first.post(
            section_url(checklist, "3.1"),
            data=fill(dict(form_a), ratio.id, {"numerator": "6", "denominator": "8"}),
        ).status_code
        == 302
    )
    assert (
        second.post(
            section_url(checklist, "3.1"), data=fill(dict(form_b), physio.id, {"value": "2"})
        ).status_code
        == 302
    )
    db.expire_all()
    assert ratio.value == {"numerator": 6, "denominator": 8} and physio.value == {"value": 2.0}
    # The same item from a stale page: 409, both values and who, nothing overwritten.
    response = second.post(
        section_url(checklist, "3.1"),
        data=fill(dict(form_b), ratio.id, {"numerator": "3", "denominator": "8"}),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Sparat svar" in html and "Ditt svar" in html and "6 / 8" in html and "3 / 8" in html
    assert "V. Chef" in html or "vc" in html.lower()
    db.expire_all()
    assert ratio.value == {"numerator": 6, "denominator": 8}
    # Keeping one's own answer: the page now carries the current version; saving wins.
    retry = page_fields(html)
    assert retry[f"i{ratio.id}_numerator"] == "3"
    assert second.post(section_url(checklist, "3.1"), data=retry).status_code == 302
    db.expire_all()
    assert ratio.value == {"numerator": 3, "denominator": 8}
    assert physio.value == {"value": 2.0}


def test_item_conflict_in_json_names_both_values(app, world, db):
    checklist = world["checklist"]
    first, second = app.test_client(), app.test_client()
    login(first, "vc", PASSWORD)
    login(second, "staff", PASSWORD)
    target = item(db, checklist, "tillganglighet.1177-alla-professioner")
    t1 = csrf_token(first, section_url(checklist, "2.7"))
    t2 = csrf_token(second, section_url(checklist, "2.7"))
    assert save_one(first, checklist, target.id, 1, {"answer": "yes"}, t1).status_code == 200
    conflict = save_one(second, checklist, target.id, 1, {"answer": "no"}, t2)
    assert conflict.status_code == 409
    body = conflict.get_json()
    assert body["conflict"]["version"] == 2 and "Ja" in body["conflict"]["html"]
    assert "Nej" in body["conflict"]["html"]
    # The same answer from a stale page is no conflict: nothing to decide.
    assert save_one(second, checklist, target.id, 1, {"answer": "yes"}, t2).status_code == 200


def test_quiet_period_answer_for_an_on_event_item(client, world, db):
    login(client, "staff", PASSWORD)
    checklist = world["checklist"]
    event_item = db.scalar(
        sa.select(ChecklistItem)
        .join(Requirement)
        .where(ChecklistItem.checklist_id == checklist.id, Requirement.recurrence == "on_event")
        .order_by(Requirement.section_key)
    )
    assert event_item is not None
    from checklists.sections import section_of

    key = section_of(event_item.requirement.section)
    token = csrf_token(client, section_url(checklist, key))
    page = client.get(section_url(checklist, key)).get_data(as_text=True)
    assert f'name="i{event_item.id}_not_applicable"' in page
    missing = save_one(client, checklist, event_item.id, 1, {"not_applicable": "y"}, token)
    assert missing.status_code == 422
    assert "varför" in missing.get_json()["errors"][f"i{event_item.id}_reason"]
    ok = save_one(
        client,
        checklist,
        event_item.id,
        1,
        {"not_applicable": "y", "reason": "Inget sådant hände 2025."},
        token,
    )
    assert ok.status_code == 200 and ok.get_json()["status"] == "not_applicable"
    db.expire_all()
    assert event_item.value == {"not_applicable": True, "reason": "Inget sådant hände 2025."}
    assert "Ej aktuellt under perioden" in event_item.auto_explanation


# An event-driven item of each answer type byske (egenregi) gets: the document needs no file,
# the selection no choice, the number no value when nothing happened.
QUIET_TYPES = [
    "tillganglighet.begransat-utbud-plan",  # document
    "tillganglighet.begransat-oppethallande-patientinformation",  # selection
    "listning.listningsstopp-max-tre-manader",  # number
    "kompetens.verksamhetschef-byte-anmalan",  # yes/no
]


@pytest.mark.parametrize("code", QUIET_TYPES)
def test_every_answer_type_takes_ej_aktuellt_through_the_form(client, db, code):
    load_units(db, TEST_ACTOR)
    edition = load_edition(db, TEST_ACTOR, EDITIONS_DIR / "uor-2025.yaml").edition
    bo = make_user(db, "bo", (Role.BESTALLARE, None))
    make_user(db, "staff", (Role.PERSONAL, "byske"))
    requirement = db.scalar(
        sa.select(Requirement).where(Requirement.edition_id == edition.id, Requirement.code == code)
    )
    byske = db.scalar(sa.select(Unit).where(Unit.code == "byske"))
    round_ = ops.open_round(
        db,
        bo,
        edition=edition,
        title="Uppföljning 2025",
        year=2025,
        opens_on=dt.date(2025, 1, 1),
        deadline=dt.date(2025, 3, 31),
        selection=ops.RoundSelection(requirement_ids=[requirement.id], unit_ids=[byske.id]),
    )
    db.commit()
    checklist = round_.checklists[0]
    target = checklist.items[0]
    from checklists.sections import section_of

    login(client, "staff", PASSWORD)
    url = section_url(checklist, section_of(requirement.section))
    token = csrf_token(client, url)
    assert "Ej aktuellt under perioden" in client.get(url).get_data(as_text=True)
    quiet = {"not_applicable": "y", "reason": "Inget sådant under 2025."}
    response = save_one(client, checklist, target.id, 1, quiet, token)
    assert response.status_code == 200 and response.get_json()["status"] == "not_applicable"
    db.expire_all()
    assert target.status == Status.NOT_APPLICABLE


def upload(client, checklist, item_id, name, data):
    token = csrf_token(client, f"/checklistor/{checklist.id}/avsnitt/2.6")
    return client.post(
        f"/checklistor/{checklist.id}/punkter/{item_id}/underlag",
        data={"csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def _docx(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr(
            "word/document.xml",
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/'
            f'2006/main"><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body>'
            "</w:document>",
        )
    return buffer.getvalue()


def test_upload_download_and_refusals(client, world, db, app):
    login(client, "staff", PASSWORD)
    checklist = world["checklist"]
    target = item(db, checklist, "kvalitet.patientsakerhetsberattelse")
    html = upload(client, checklist, target.id, "psb.txt", b"Patientsakerhetsberattelse 2024")
    assert "har laddats upp" in html.get_data(as_text=True)
    evidence = target.files[0]
    response = client.get(f"/checklistor/underlag/{evidence.id}")
    assert response.data == b"Patientsakerhetsberattelse 2024"
    assert "attachment" in response.headers["Content-Disposition"]
    refusals = [
        ("program.exe", b"MZ\x90\x00", "Filtypen"),
        ("rapport.pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 20, "PDF"),
        ("tom.txt", b"", "tom"),
        (
            "rutin.docx",
            _docx(f"Patient {synthetic_personnummer(dt.date(1950, 3, 2))}"),
            "personnummer",
        ),
    ]
    for name, data, words in refusals:
        text = upload(client, checklist, target.id, name, data).get_data(as_text=True)
        assert words.lower() in text.lower(), (name, text[:300])
    app.config["MAX_CONTENT_LENGTH"] = 1024
    too_big = upload(client, checklist, target.id, "stor.txt", b"x" * 5000)
    assert too_big.status_code == 413 and "Filen är för stor" in too_big.get_data(as_text=True)
    db.expire_all()
    assert [f.filename for f in target.files] == ["psb.txt"]


def test_zip_bomb_in_docx_is_refused(client, world, db):
    login(client, "staff", PASSWORD)
    checklist = world["checklist"]
    target = item(db, checklist, "kvalitet.patientsakerhetsberattelse")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b"<a>" + b" " * (120 * 1024 * 1024) + b"</a>")
    text = upload(client, checklist, target.id, "bomb.docx", buffer.getvalue())
    assert (
        "zip" in text.get_data(as_text=True).lower()
        or "packad" in text.get_data(as_text=True).lower()
    )
    db.expire_all()
    assert target.files == []


def test_other_units_checklist_is_unreachable_on_every_route(client, world, db):
    login(client, "vc", PASSWORD)
    other = world["other"]
    other_item = other.items[0]
    token = csrf_token(client, "/")
    assert client.get(f"/checklistor/{other.id}").status_code == 404
    assert client.get(f"/checklistor/{other.id}/avsnitt/2.7").status_code == 404
    assert (
        client.post(f"/checklistor/{other.id}/avsnitt/2.7", data={"csrf_token": token}).status_code
        == 404
    )
    assert (
        client.post(
            f"/checklistor/{other.id}/punkter/{other_item.id}/svar", data={"csrf_token": token}
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/checklistor/{world['checklist'].id}/punkter/{other_item.id}/svar",
            data={"csrf_token": token, f"i{other_item.id}_version": "1"},
        ).status_code
        == 404
    )
    assert (
        client.post(f"/checklistor/{other.id}/skicka-in", data={"csrf_token": token}).status_code
        == 404
    )
    assert (
        client.post(
            f"/checklistor/{other.id}/punkter/{other_item.id}/underlag", data={"csrf_token": token}
        ).status_code
        == 404
    )
    own = world["checklist"]
    # An item of another unit's checklist through one's own checklist's URL: not found.
    assert (
        client.post(
            f"/checklistor/{own.id}/punkter/{other_item.id}/underlag", data={"csrf_token": token}
        ).status_code
        == 404
    )
    assert client.get(f"/checklistor/{other.id}/granska").status_code == 403


def test_other_units_evidence_cannot_be_downloaded(app, world, db):
    staff, other = app.test_client(), app.test_client()
    login(staff, "staff", PASSWORD)
    checklist = world["checklist"]
    target = item(db, checklist, "kvalitet.patientsakerhetsberattelse")
    upload(staff, checklist, target.id, "psb.txt", b"underlag")
    db.expire_all()
    file_id = target.files[0].id
    login(other, "other", PASSWORD)
    assert other.get(f"/checklistor/underlag/{file_id}").status_code == 404
    assert other.post(
        f"/checklistor/underlag/{file_id}/ta-bort", data={"csrf_token": csrf_token(other, "/")}
    ).status_code in (403, 404)


def _answer_everything(db, checklist):
    user = db.scalar(sa.select(User).where(User.username == "staff"))
    from tests.factories import sample_answer

    items = db.scalars(
        sa.select(ChecklistItem).where(ChecklistItem.checklist_id == checklist.id)
    ).all()
    ops.save_answers(
        db, user, checklist, {i.id: (i.version, None, sample_answer(i.requirement)) for i in items}
    )
    db.commit()


def test_submit_review_return_resubmit_accept_and_findings(app, world, db):
    checklist = world["checklist"]
    unit, reviewer = app.test_client(), app.test_client()
    login(unit, "vc", PASSWORD)
    submit_url = f"/checklistor/{checklist.id}/skicka-in"
    # Submitting lists every missing item as a link to it.
    refused = unit.get(submit_url).get_data(as_text=True)
    assert "punkter är inte besvarade" in refused
    first = checklist.items[0]
    assert f"#item-{first.id}" in refused and "Ja, skicka in" not in refused
    _answer_everything(db, checklist)
    confirm = unit.get(submit_url).get_data(as_text=True)
    assert "Ja, skicka in checklistan" in confirm
    token = csrf_token(unit, submit_url)
    unit.post(submit_url, data={"csrf_token": token})  # without confirmation: nothing happens
    db.expire_all()
    assert checklist.status == ChecklistStatus.OPEN
    unit.post(submit_url, data={"csrf_token": token, "confirm": "1"})
    db.expire_all()
    assert checklist.status == ChecklistStatus.SUBMITTED
    # Afterwards every section is read-only: no input at all in the section form.
    locked = unit.get(section_url(checklist, "3.1")).get_data(as_text=True)
    form = locked.split('id="section-form"', 1)[1].split("</form>", 1)[0]
    assert "<input" not in form.replace('type="hidden"', "") or 'type="hidden"' in form
    assert not re.search(r"<(input|select|textarea)(?![^>]*type=\"hidden\")", form)
    assert "Spara och fortsätt" not in locked
    token = csrf_token(unit, section_url(checklist, "3.1"))
    ratio = item(db, checklist, "kompetens.lakare-specialister-allmanmedicin")
    refused = save_one(unit, checklist, ratio.id, ratio.version, {"numerator": "1"}, token)
    assert refused.status_code == 403

    login(reviewer, "bo", PASSWORD)
    basutbud = item(db, checklist, "tillganglighet.1177-basutbud")
    review_27 = f"/checklistor/{checklist.id}/granska/avsnitt/2.7"
    token = csrf_token(reviewer, review_27)
    response = reviewer.post(
        review_27,
        data={
            "csrf_token": token,
            f"override_{basutbud.id}": "non_compliant",
            f"reason_{basutbud.id}": "",
        },
    )
    assert response.status_code == 422
    assert "Ange skälet" in response.get_data(as_text=True)
    # One item's judgement on its own: comment and the mark to complete.
    response = reviewer.post(
        f"/checklistor/{checklist.id}/granska/punkter/{ratio.id}",
        data={
            "csrf_token": token,
            f"override_{ratio.id}": "",
            f"comment_{ratio.id}": "Räkna bara läkare i tjänst.",
            f"complete_{ratio.id}": "1",
        },
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200 and response.get_json()["ok"]
    marked = reviewer.get(f"/checklistor/{checklist.id}/granska?visa=atersanda")
    assert f"#r-{ratio.id}" in marked.get_data(as_text=True)
    response = reviewer.post(
        f"/checklistor/{checklist.id}/atersand",
        data={"csrf_token": token, "message": "Komplettera läkarbemanningen."},
    )
    assert response.status_code == 302
    db.expire_all()
    assert checklist.status == ChecklistStatus.RETURNED and ratio.needs_completion
    page = unit.get(f"/checklistor/{checklist.id}").get_data(as_text=True)
    assert "Komplettera läkarbemanningen." in page and "Återsänd" in page
    section = unit.get(section_url(checklist, "3.1")).get_data(as_text=True)
    assert "Räkna bara läkare i tjänst." in section
    fields = fill(page_fields(section), ratio.id, {"numerator": "2", "denominator": "8"})
    assert unit.post(section_url(checklist, "3.1"), data=fields).status_code == 302
    unit.post(submit_url, data={"csrf_token": csrf_token(unit, submit_url), "confirm": "1"})
    db.expire_all()
    assert checklist.status == ChecklistStatus.SUBMITTED
    token = csrf_token(reviewer, review_27)
    reviewer.post(
        review_27,
        data={
            "csrf_token": token,
            f"override_{basutbud.id}": "partly_compliant",
            f"reason_{basutbud.id}": "Kontakta mig fungerar inte i praktiken.",
        },
    )
    accept_url = f"/checklistor/{checklist.id}/godkann"
    refused = reviewer.post(accept_url, data={"csrf_token": token})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "saknar din bedömning" in html
    unjudged = [i for i in checklist.items if i.auto_status == Status.TO_REVIEW]
    assert unjudged and all(f"#r-{i.id}" in html for i in unjudged)
    for it in unjudged:
        reviewer.post(
            f"/checklistor/{checklist.id}/granska/punkter/{it.id}",
            data={
                "csrf_token": token,
                f"override_{it.id}": "compliant",
                f"reason_{it.id}": "Rutinen är fastställd och aktuell.",
            },
        )
    response = reviewer.post(accept_url, data={"csrf_token": token}, follow_redirects=True)
    assert "iakttagelse" in response.get_data(as_text=True)
    db.expire_all()
    assert checklist.status == ChecklistStatus.ACCEPTED
    codes = {f.requirement.code for f in db.scalars(sa.select(Finding))}
    assert codes == {"kompetens.lakare-specialister-allmanmedicin", "tillganglighet.1177-basutbud"}
    findings = unit.get("/checklistor/iakttagelser").get_data(as_text=True)
    assert "Kontakta mig fungerar inte i praktiken." in findings
    assert unit.get("/checklistor/iakttagelser?allvarlighet=x").status_code == 200
    other = app.test_client()
    login(other, "other", PASSWORD)
    assert "Kontakta mig fungerar" not in other.get("/checklistor/iakttagelser").get_data(
        as_text=True
    )


def test_round_overview_heat_map_and_open_round_form(client, world, db):
    login(client, "bo", PASSWORD)
    page = client.get(f"/omgangar/{world['round'].id}").get_data(as_text=True)
    assert "Byske hälsocentral" in page and "heat-none" in page
    token = csrf_token(client, "/omgangar/ny")
    response = client.post(
        "/omgangar/ny",
        data={
            "csrf_token": token,
            "edition": "UOR-2025",
            "title": "Tillgänglighet 2025",
            "year": "2025",
            "opens_on": "2025-04-01",
            "deadline": "2025-03-01",
            "requirement_scope": "areas",
            "areas": ["tillganglighet"],
            "unit_scope": "all",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Sista svarsdag kan inte vara före öppningsdagen." in html
    assert 'value="Tillgänglighet 2025"' in html  # nothing typed is lost
    response = client.post(
        "/omgangar/ny",
        data={
            "csrf_token": token,
            "edition": "UOR-2025",
            "title": "Tillgänglighet 2025",
            "year": "2025",
            "opens_on": "2025-04-01",
            "deadline": "2025-05-01",
            "requirement_scope": "areas",
            "areas": ["tillganglighet"],
            "unit_scope": "area",
            "unit_area": "skelleftea",
        },
    )
    assert response.status_code == 302
    new_round = int(response.location.rsplit("/", 1)[1])
    units = db.scalars(
        sa.select(Unit.area).join(Checklist).where(Checklist.round_id == new_round)
    ).all()
    assert units and set(units) == {"skelleftea"}
