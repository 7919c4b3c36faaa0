"""Särskild fördjupning (§7.1.3) through its pages: opened on signals from the unit page,
material asked for and handed in with a file, conclusions with a requirement, ended in an
action plan, a sanction case or no action; refusals show an error summary and keep what was
typed; the unit sees only its own reviews; the list filters by unit and state."""

import datetime as dt
import io

import pytest
import sqlalchemy as sa

from audit.models import Role, Unit
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_unit, make_user
from tests.review_factories import make_finding
from workflows.models import ActionPlan, DialogFinding, SanctionCase
from workflows.reviews.models import InDepthReview, ReviewState

LATER = (dt.date.today() + dt.timedelta(days=60)).isoformat()
SOON = (dt.date.today() + dt.timedelta(days=20)).isoformat()


@pytest.fixture
def people(db, app, tmp_path):
    app.config["EVIDENCE_DIR"] = str(tmp_path / "underlag")
    byske = make_unit(db, "byske", name="Byske hälsocentral", operator="privat")
    make_unit(db, "backen", name="Backens hälsocentral")
    make_user(db, "bo", (Role.BESTALLARE, None))
    make_user(db, "greta", (Role.GRANSKARE, None))
    make_user(db, "vc", (Role.VERKSAMHETSCHEF, "byske"))
    make_user(db, "staff", (Role.PERSONAL, "byske"))
    make_user(db, "other", (Role.VERKSAMHETSCHEF, "backen"))
    finding = make_finding(db, byske, year=2024)
    make_finding(db, byske, year=2025)
    db.commit()
    return {"finding": finding.id}


def client_for(app, name):
    client = app.test_client()
    assert login(client, name, PASSWORD).status_code == 302
    return client


def post(client, path, page, files=None, **data):
    data = {"csrf_token": csrf_token(client, page), **data}
    if files:
        data.update(files)
        return client.post(path, data=data, content_type="multipart/form-data")
    return client.post(path, data=data)


def open_one(bo, finding_id, **extra):
    response = post(
        bo,
        "/fordjupningar/ny/byske",
        "/fordjupningar/ny/byske",
        title="Telefonin i Byske",
        concern="Upprepade brister i telefontillgängligheten.",
        finding=str(finding_id),
        **extra,
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    return int(response.location.rsplit("/", 1)[1])


def test_a_review_through_its_pages_to_an_action_plan(app, people, db):
    bo, vc, greta = (client_for(app, n) for n in ("bo", "vc", "greta"))
    unit_page = bo.get("/enheter/byske").get_data(as_text=True)
    assert "Öppna särskild fördjupning" in unit_page
    form = bo.get("/fordjupningar/ny/byske").get_data(as_text=True)
    assert "inte uppfyllt i 2024, 2025" in form  # the repeated breach is offered
    review_id = open_one(bo, people["finding"], complaints="Klagomål om väntetider via 1177.")
    page = f"/fordjupningar/{review_id}"
    shown = bo.get(page).get_data(as_text=True)
    assert "Klagomål om väntetider via 1177." in shown and "Iakttagelse" in shown
    assert "Telefonin i Byske" in vc.get("/enheter/byske").get_data(as_text=True)

    bad = post(
        bo,
        f"{page}/atgard/request_review_material",
        page,
        material_request="Bemanningsplan för telefonin.",
        material_days="99",
    )
    text = bad.get_data(as_text=True)
    assert bad.status_code == 409 and 'id="error-summary"' in text
    assert 'href="#request_review_material-material_days"' in text
    assert "Bemanningsplan för telefonin." in text  # nothing typed is lost
    ok = post(
        bo,
        f"{page}/atgard/request_review_material",
        page,
        material_request="Bemanningsplan för telefonin.",
        material_days="10",
    )
    assert ok.status_code == 302

    upload = post(vc, f"{page}/underlag", page, files={"file": (io.BytesIO(b"Plan"), "plan.txt")})
    assert upload.status_code == 302
    refused = post(
        vc,
        f"{page}/underlag",
        page,
        files={"file": (io.BytesIO(b"Patient 19121212-1212"), "lista.txt")},
    )
    assert refused.status_code == 422 and "personnummer" in refused.get_data(as_text=True)
    review = db.get(InDepthReview, review_id)
    db.refresh(review)
    files = [f for f in review.files if f.removed_at is None]
    assert [f.filename for f in files] == ["plan.txt"]
    assert vc.get(f"{page}/underlag/{files[0].id}").data == b"Plan"
    assert greta.get(f"{page}/underlag/{files[0].id}").status_code == 200
    assert post(greta, f"{page}/atgard/submit_review_material", page, answer="x").status_code == 409
    assert (
        post(vc, f"{page}/atgard/submit_review_material", page, answer="Bifogat.").status_code
        == 302
    )

    assert (
        post(
            bo,
            f"{page}/atgard/conclude_review",
            page,
            analysis="Bemanningen räcker inte.",
            conclusions="Återuppringning behövs.",
        ).status_code
        == 302
    )
    bad_req = post(bo, f"{page}/krav", page, requirement_text="Ring tillbaka", requirement_due="x")
    assert bad_req.status_code == 422 and 'value="Ring tillbaka"' in bad_req.get_data(as_text=True)
    assert 'href="#requirement-requirement_due"' in bad_req.get_data(as_text=True)
    ok_req = post(
        bo,
        f"{page}/krav",
        page,
        requirement_text="Återuppringning samma dag",
        requirement_due=LATER,
    )
    assert ok_req.status_code == 302
    assert post(bo, f"{page}/atgard/end_with_action_plan", page, plan_due=SOON).status_code == 302
    db.refresh(review)
    assert review.status == ReviewState.ACTION_PLAN
    plan_page = bo.get(f"/atgardsplaner/{review.action_plan_id}").get_data(as_text=True)
    assert "Återuppringning samma dag" in plan_page and f"/fordjupningar/{review_id}" in plan_page
    timeline = greta.get(page).get_data(as_text=True)
    for step in ("Begär underlag", "Lämna underlag och svar", "Avsluta med krav på åtgärdsplan"):
        assert step in timeline
    assert db.get(ActionPlan, review.action_plan_id).unit.code == "byske"


def test_ending_in_a_sanction_case_or_no_action(app, people, db):
    bo = client_for(app, "bo")
    first, second = open_one(bo, people["finding"]), open_one(bo, people["finding"])
    for review_id in (first, second):
        page = f"/fordjupningar/{review_id}"
        post(bo, f"{page}/atgard/conclude_review", page, analysis="A.", conclusions="S.")
    page = f"/fordjupningar/{first}"
    bad = post(bo, f"{page}/atgard/end_with_sanction_case", page, diarienummer="123")
    assert bad.status_code == 409 and 'value="123"' in bad.get_data(as_text=True)
    ok = post(bo, f"{page}/atgard/end_with_sanction_case", page, diarienummer="RS 2025/9")
    assert ok.status_code == 302
    case_id = db.get(InDepthReview, first).sanction_case_id
    assert db.get(SanctionCase, case_id).case_number == "RS 2025/9"
    assert f"/fordjupningar/{first}" in bo.get(f"/sanktioner/{case_id}").get_data(as_text=True)
    page = f"/fordjupningar/{second}"
    no_reason = post(bo, f"{page}/atgard/end_without_action", page, reason="")
    assert no_reason.status_code == 409
    assert 'href="#end_without_action-reason"' in no_reason.get_data(as_text=True)
    done = post(bo, f"{page}/atgard/end_without_action", page, reason="Rättat under dialogen.")
    assert done.status_code == 302


def test_opening_refusals_keep_what_was_typed(app, people):
    bo = client_for(app, "bo")
    response = post(
        bo,
        "/fordjupningar/ny/byske",
        "/fordjupningar/ny/byske",
        title="Telefonin i Byske",
        concern="Oro.",
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="error-summary"' in text
    assert "minst en risksignal" in text and 'value="Telefonin i Byske"' in text
    pnr = post(
        bo,
        "/fordjupningar/ny/byske",
        "/fordjupningar/ny/byske",
        title="T",
        concern="Oro.",
        complaints="Patient 19121212-1212 klagade.",
    )
    assert pnr.status_code == 422 and 'href="#open-complaints"' in pnr.get_data(as_text=True)


def test_units_see_only_their_own_reviews_and_the_list_filters(app, people, db):
    bo, vc, other = (client_for(app, n) for n in ("bo", "vc", "other"))
    review_id = open_one(bo, people["finding"])
    backen = db.scalar(sa.select(Unit).where(Unit.code == "backen"))
    from audit.models import User
    from workflows.reviews import operations as ops

    ops.open_review(
        db,
        db.scalar(sa.select(User).where(User.username == "bo")),
        backen,
        title="Backen-fördjupning",
        concern="C",
        complaints=["Klagomål."],
    )
    db.commit()
    assert other.get(f"/fordjupningar/{review_id}").status_code == 404
    assert "Telefonin i Byske" not in other.get("/fordjupningar/").get_data(as_text=True)
    assert "Telefonin i Byske" in vc.get("/fordjupningar/").get_data(as_text=True)
    listing = bo.get("/fordjupningar/?enhet=backen").get_data(as_text=True)
    assert "Backen-fördjupning" in listing and "Telefonin i Byske" not in listing
    assert "Telefonin i Byske" not in bo.get("/fordjupningar/?status=cancelled").get_data(
        as_text=True
    )
    assert (
        post(vc, f"/fordjupningar/{review_id}/krav", "/", requirement_text="K").status_code == 403
    )


def test_the_disposition_on_the_dialog_page_opens_a_review(app, people, db):
    from audit.models import User
    from workflows import dialog as dl

    bo = client_for(app, "bo")
    unit = db.scalar(sa.select(Unit).where(Unit.code == "byske"))
    dialog = dl.open_dialog(db, db.scalar(sa.select(User).where(User.username == "bo")), unit, "D")
    dialog.status = dl.S.MEETING_HELD
    db.commit()
    entry = db.scalar(sa.select(DialogFinding).where(DialogFinding.dialog_id == dialog.id))
    page = f"/dialoger/{dialog.id}"
    response = post(
        bo,
        f"{page}/iakttagelser/{entry.finding_id}",
        page,
        disposition="in_depth_review",
        note="Djupare.",
    )
    assert response.status_code == 302
    review = db.scalar(sa.select(InDepthReview).where(InDepthReview.dialog_id == dialog.id))
    assert review is not None and review.concern == "Djupare."
    assert f"/fordjupningar/{review.id}" in bo.get(page).get_data(as_text=True)


def test_the_help_page_draws_the_review_machine(app, people):
    text = client_for(app, "greta").get("/hjalp/flodesscheman").get_data(as_text=True)
    assert "Särskild fördjupning (§7.1.3)" in text and "Analyserad – slutsatser och krav" in text


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_list_and_the_page_cost_the_same_for_few_and_many_rows(app, people, db, connection):
    """Set-based: the list, a review page and the unit page make as many queries with one
    review (one signal) as with six (many signals and requirements)."""
    from audit.models import User
    from workflows.reviews import operations as ops

    bo_user = db.scalar(sa.select(User).where(User.username == "bo"))
    byske = db.scalar(sa.select(Unit).where(Unit.code == "byske"))
    first = ops.open_review(
        db, bo_user, byske, title="Första", concern="C", finding_ids=[people["finding"]]
    )
    db.commit()
    statements = []
    sa.event.listen(connection, "before_cursor_execute", lambda c, cur, s, *a: statements.append(s))
    bo = client_for(app, "bo")

    def cost(path):
        statements.clear()
        assert bo.get(path).status_code == 200
        return len(statements)

    few = [cost("/fordjupningar/"), cost(f"/fordjupningar/{first.id}"), cost("/enheter/byske")]
    finding = people["finding"]
    for n in range(5):
        ops.open_review(
            db,
            bo_user,
            byske,
            title=f"R{n}",
            concern="C",
            finding_ids=[finding],
            complaints=["K1", "K2"],
        )
    many = ops.open_review(
        db, bo_user, byske, title="Många", concern="C", finding_ids=[finding], complaints=["A", "B"]
    )
    for n in range(4):
        ops.add_requirement(db, bo_user, many, text=f"Krav {n}", due_date=dt.date.today())
    db.commit()
    more = [cost("/fordjupningar/"), cost(f"/fordjupningar/{many.id}"), cost("/enheter/byske")]
    assert few == more


def test_a_requirement_and_a_file_can_be_removed(app, people, db):
    bo, vc, staff = (client_for(app, n) for n in ("bo", "vc", "staff"))
    review_id = open_one(bo, people["finding"])
    page = f"/fordjupningar/{review_id}"
    post(
        bo,
        f"{page}/krav",
        page,
        requirement_text="Rutin för återuppringning",
        requirement_due=LATER,
    )
    post(
        bo,
        f"{page}/atgard/request_review_material",
        page,
        material_request="Rutinen.",
        material_days="5",
    )
    post(staff, f"{page}/underlag", page, files={"file": (io.BytesIO(b"Rutin"), "rutin.txt")})
    review = db.get(InDepthReview, review_id)
    db.refresh(review)
    requirement, upload = review.requirements[0], review.files[0]
    assert post(vc, f"{page}/krav/{requirement.id}/ta-bort", page).status_code == 403
    assert post(bo, f"{page}/krav/{requirement.id}/ta-bort", page).status_code == 302
    assert post(bo, f"{page}/underlag/{upload.id}/ta-bort", page).status_code == 403
    assert post(vc, f"{page}/underlag/{upload.id}/ta-bort", page).status_code == 302
    db.refresh(review)
    db.refresh(upload)
    assert review.requirements == [] and upload.removed_at is not None
    assert vc.get(f"{page}/underlag/{upload.id}").status_code == 404
    text = bo.get(page).get_data(as_text=True)
    assert "krav borttaget" in text and "fil borttagen" in text
