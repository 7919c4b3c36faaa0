"""Checklist rounds through the web: every answer type round-trips through the form, a bad
answer loses nothing, two sessions do not overwrite each other, uploads are checked, personal
data is refused, other units' checklists are unreachable, review and acceptance work."""

import datetime as dt
import io
import re
import zipfile

import pytest
import sqlalchemy as sa

from audit.models import Role, Unit
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


def open_page(client, checklist):
    response = client.get(f"/checklistor/{checklist.id}")
    assert response.status_code == 200
    return page_fields(response.get_data(as_text=True))


def test_each_answer_type_round_trips_through_the_form(client, world, db):
    login(client, "staff", PASSWORD)
    checklist = world["checklist"]
    fields = open_page(client, checklist)
    head = item(db, checklist, "kompetens.verksamhetschef")
    hours = item(db, checklist, "tillganglighet.oppettider")
    for code, raw in TYPED.items():
        fill(fields, item(db, checklist, code).id, raw)
    fill(
        fields,
        head.id,
        {
            "persons-1-name": "Anna Andersson",
            "persons-1-title": "Leg. läkare",
            "persons-1-hsa_id": "SE2321000222-abc1",
        },
    )
    for day in ("mon", "tue", "wed", "thu", "fri"):
        fill(fields, hours.id, {f"{day}-open": "08:00", f"{day}-close": "17:00"})
    response = client.post(f"/checklistor/{checklist.id}", data=fields)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
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
    # Loading the page again shows every answer in its fields, and saving it changes nothing.
    again = open_page(client, checklist)
    assert again[f"i{head.id}_persons-1-name"] == "Anna Andersson"
    assert again[f"i{item(db, checklist, 'tillganglighet.1177-svarstid').id}_value"] == "2,5"
    assert again[f"i{hours.id}_mon-open"] == "08:00"
    professions = item(db, checklist, "tillganglighet.1177-alla-professioner")
    assert again[f"i{professions.id}_answer"] == ["yes"]
    assert again[f"i{professions.id}_comment"] == "Alla nås."
    basutbud = item(db, checklist, "tillganglighet.1177-basutbud")
    assert again[f"i{basutbud.id}_selected"] == ["Beställ tid", "Kontakta mig"]
    response = client.post(f"/checklistor/{checklist.id}", data=again, follow_redirects=True)
    assert "Inget hade ändrats." in response.get_data(as_text=True)


def test_invalid_answer_keeps_everything_typed(client, world, db):
    login(client, "staff", PASSWORD)
    checklist = world["checklist"]
    fields = open_page(client, checklist)
    ratio = item(db, checklist, "kompetens.lakare-specialister-allmanmedicin")
    deadline = item(db, checklist, "kvalitet.patientsakerhetsberattelse")
    fill(fields, ratio.id, {"numerator": "9", "denominator": "8"})
    fill(fields, deadline.id, {"date": "2025-02-27"})
    response = client.post(f"/checklistor/{checklist.id}", data=fields)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "kan inte vara fler än" in html
    assert f'name="i{ratio.id}_numerator" type="text" value="9"' in html
    db.expire_all()
    assert deadline.value == {"date": "2025-02-27"}  # the valid answer was saved
    assert ratio.value is None


def test_personnummer_in_comment_is_refused_and_kept_for_correction(client, world, db):
    login(client, "staff", PASSWORD)
    checklist = world["checklist"]
    fields = open_page(client, checklist)
    yes_no = db.scalar(
        sa.select(ChecklistItem)
        .join(Requirement)
        .where(ChecklistItem.checklist_id == checklist.id, Requirement.answer_type == "yes_no")
    )
    number = synthetic_personnummer(dt.date(1970, 5, 17))
    fill(fields, yes_no.id, {"answer": "yes", "comment": f"Patient {number} klagade."})
    response = client.post(f"/checklistor/{checklist.id}", data=fields)
    html = response.get_data(as_text=True)
    assert "ser ut som ett personnummer" in html
    db.expire_all()
    assert yes_no.value is None


def test_two_sessions_the_later_stale_save_gets_a_conflict(app, world, db):
    checklist = world["checklist"]
    first, second = app.test_client(), app.test_client()
    login(first, "vc", PASSWORD)
    login(second, "staff", PASSWORD)
    form_a, form_b = open_page(first, checklist), open_page(second, checklist)
    ratio = item(db, checklist, "kompetens.lakare-specialister-allmanmedicin")
    date = item(db, checklist, "kvalitet.patientsakerhetsberattelse")
    assert (
        first.post(
            f"/checklistor/{checklist.id}",
            data=fill(form_a, ratio.id, {"numerator": "6", "denominator": "8"}),
        ).status_code
        == 302
    )
    response = second.post(
        f"/checklistor/{checklist.id}", data=fill(form_b, date.id, {"date": "2025-02-01"})
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Någon annan har sparat checklistan" in html
    assert f"#item-{ratio.id}" in html
    db.expire_all()
    assert date.value is None and ratio.value == {"numerator": 6, "denominator": 8}
    # The conflict page shows the other person's answer and keeps this person's own; saving
    # it now stores both without reverting the first save.
    retry = page_fields(html)
    assert retry[f"i{ratio.id}_numerator"] == "6"
    assert retry[f"i{date.id}_date"] == "2025-02-01"
    assert second.post(f"/checklistor/{checklist.id}", data=retry).status_code == 302
    db.expire_all()
    assert date.value == {"date": "2025-02-01"}
    assert ratio.value == {"numerator": 6, "denominator": 8}


def upload(client, checklist, item_id, name, data):
    token = csrf_token(client, f"/checklistor/{checklist.id}")
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
    assert client.post(f"/checklistor/{other.id}", data={"csrf_token": token}).status_code == 404
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
    user = db.scalar(sa.select(ops.User).where(ops.User.username == "staff"))
    from tests.factories import sample_answer

    items = db.scalars(
        sa.select(ChecklistItem).where(ChecklistItem.checklist_id == checklist.id)
    ).all()
    ops.save_answers(
        db, user, checklist, checklist.version, {i.id: sample_answer(i.requirement) for i in items}
    )
    db.commit()


def test_submit_review_return_resubmit_accept_and_findings(app, world, db):
    checklist = world["checklist"]
    unit, reviewer = app.test_client(), app.test_client()
    login(unit, "vc", PASSWORD)
    token = csrf_token(unit, f"/checklistor/{checklist.id}")
    refused = unit.post(
        f"/checklistor/{checklist.id}/skicka-in", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "punkter är inte besvarade" in refused
    _answer_everything(db, checklist)
    unit.post(f"/checklistor/{checklist.id}/skicka-in", data={"csrf_token": token})
    db.expire_all()
    assert checklist.status == ChecklistStatus.SUBMITTED
    locked = unit.get(f"/checklistor/{checklist.id}").get_data(as_text=True)
    assert ">Spara utkast</button>" not in locked and "disabled" in locked

    login(reviewer, "bo", PASSWORD)
    ratio = item(db, checklist, "kompetens.lakare-specialister-allmanmedicin")
    basutbud = item(db, checklist, "tillganglighet.1177-basutbud")
    token = csrf_token(reviewer, f"/checklistor/{checklist.id}/granska")
    response = reviewer.post(
        f"/checklistor/{checklist.id}/granska",
        data={
            "csrf_token": token,
            "action": "save",
            f"override_{basutbud.id}": "non_compliant",
            f"reason_{basutbud.id}": "",
        },
    )
    assert response.status_code == 422
    assert "Ange skälet" in response.get_data(as_text=True)
    response = reviewer.post(
        f"/checklistor/{checklist.id}/granska",
        data={
            "csrf_token": token,
            "action": "return",
            f"complete_{ratio.id}": "1",
            f"comment_{ratio.id}": "Räkna bara läkare i tjänst.",
            "message": "Komplettera läkarbemanningen.",
        },
    )
    assert response.status_code == 302
    db.expire_all()
    assert checklist.status == ChecklistStatus.RETURNED and ratio.needs_completion
    page = unit.get(f"/checklistor/{checklist.id}").get_data(as_text=True)
    assert "Komplettera läkarbemanningen." in page and "Räkna bara läkare i tjänst." in page
    fields = page_fields(page)
    fill(fields, ratio.id, {"numerator": "2", "denominator": "8"})
    assert unit.post(f"/checklistor/{checklist.id}", data=fields).status_code == 302
    unit.post(
        f"/checklistor/{checklist.id}/skicka-in",
        data={"csrf_token": csrf_token(unit, f"/checklistor/{checklist.id}")},
    )
    db.expire_all()
    assert checklist.status == ChecklistStatus.SUBMITTED
    token = csrf_token(reviewer, f"/checklistor/{checklist.id}/granska")
    accept = {
        "csrf_token": token,
        "action": "accept",
        f"override_{basutbud.id}": "partly_compliant",
        f"reason_{basutbud.id}": "Kontakta mig fungerar inte i praktiken.",
        f"comment_{ratio.id}": "Räkna bara läkare i tjänst.",
    }
    refused = reviewer.post(f"/checklistor/{checklist.id}/granska", data=accept)
    assert refused.status_code == 422
    assert "saknar din bedömning" in refused.get_data(as_text=True)
    for unjudged in checklist.items:
        if unjudged.auto_status == Status.TO_REVIEW:
            accept[f"override_{unjudged.id}"] = "compliant"
            accept[f"reason_{unjudged.id}"] = "Rutinen är fastställd och aktuell."
    response = reviewer.post(
        f"/checklistor/{checklist.id}/granska", data=accept, follow_redirects=True
    )
    assert "iakttagelse" in response.get_data(as_text=True)
    db.expire_all()
    assert checklist.status == ChecklistStatus.ACCEPTED
    codes = {f.requirement.code for f in db.scalars(sa.select(Finding))}
    assert codes == {"kompetens.lakare-specialister-allmanmedicin", "tillganglighet.1177-basutbud"}
    findings = unit.get("/checklistor/iakttagelser").get_data(as_text=True)
    assert "Kontakta mig fungerar inte i praktiken." in findings
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
