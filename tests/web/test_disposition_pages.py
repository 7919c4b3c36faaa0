"""Issue 11 in the browser's terms: a disposition opens its plan or case and both pages link
to each other; a finding accepted after the dialog was planned is on its page; dialog material
is uploaded, downloaded and removed (personnummer refused); the dialog points at a checklist;
the fast route on the unit page and the beställare's start page, with the IVO decision."""

import datetime as dt

import pytest
import sqlalchemy as sa

from audit.models import Role
from checklists.models import Severity
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_unit, make_user
from tests.workflows.test_dialog import fire, walk_to
from tests.workflows.test_dispositions import make_finding, unit
from workflows import dialog as wf
from workflows.models import ActionPlan, DialogState, IvoReferral, SanctionCase


@pytest.fixture
def people(db):
    make_unit(db, "byske", name="Byske hälsocentral")
    make_unit(db, "backen", name="Backens hälsocentral")
    users = {
        "bo": make_user(db, "bo", (Role.BESTALLARE, None)),
        "greta": make_user(db, "greta", (Role.GRANSKARE, None)),
        "vc": make_user(db, "vc", (Role.VERKSAMHETSCHEF, "byske")),
        "staff": make_user(db, "staff", (Role.PERSONAL, "byske")),
        "other": make_user(db, "other", (Role.VERKSAMHETSCHEF, "backen")),
    }
    db.commit()
    return users


def client_for(app, name):
    client = app.test_client()
    assert login(client, name, PASSWORD).status_code == 302
    return client


def post(client, page, path, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


@pytest.fixture
def at_meeting(db, people):
    dialog = wf.open_dialog(db, people["bo"], unit(db), "Uppföljning Byske 2025")
    walk_to(db, people, dialog, DialogState.MEETING_HELD)
    finding = make_finding(db, severity=Severity.PATIENT_SAFETY)  # accepted after planning
    db.commit()
    return dialog, finding


def test_action_plan_disposition_opens_the_plan_and_both_pages_link(app, db, people, at_meeting):
    dialog, finding = at_meeting
    bo = client_for(app, "bo")
    page = bo.get(f"/dialoger/{dialog.id}").get_data(as_text=True)
    assert f'id="f-{finding.id}"' in page and "Snabbspår" in page  # pending, on the list
    response = post(
        bo,
        f"/dialoger/{dialog.id}",
        f"/dialoger/{dialog.id}/iakttagelser/{finding.id}",
        disposition="action_plan",
        note="Plan krävs.",
    )
    assert response.status_code == 302
    plan = db.scalar(sa.select(ActionPlan))
    page = bo.get(f"/dialoger/{dialog.id}").get_data(as_text=True)
    assert f'href="/atgardsplaner/{plan.id}"' in page
    plan_page = bo.get(f"/atgardsplaner/{plan.id}").get_data(as_text=True)
    assert f'href="/dialoger/{dialog.id}"' in plan_page
    assert "uppföljningsdialogen" in plan_page and "Snabbspår" in plan_page
    # Changing it now is refused beside the row, with what was typed kept.
    refused = post(
        bo,
        f"/dialoger/{dialog.id}",
        f"/dialoger/{dialog.id}/iakttagelser/{finding.id}",
        disposition="remark",
        note="Bara påpekande.",
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "återkalla planen" in html and 'value="Bara påpekande."' in html


def test_sanction_disposition_needs_its_diarienummer_and_links_the_case(
    app, db, people, at_meeting
):
    dialog, finding = at_meeting
    bo = client_for(app, "bo")
    path = f"/dialoger/{dialog.id}/iakttagelser/{finding.id}"
    refused = post(bo, f"/dialoger/{dialog.id}", path, disposition="sanction_case", note="Allvar.")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "diarienummer" in html
    assert 'value="Allvar."' in html and db.scalar(sa.select(SanctionCase)) is None
    response = post(
        bo,
        f"/dialoger/{dialog.id}",
        path,
        disposition="sanction_case",
        note="Allvar.",
        diarienummer="RS 2025/40",
    )
    assert response.status_code == 302
    case = db.scalar(sa.select(SanctionCase))
    assert case.dialog_id == dialog.id and case.case_number == "RS 2025/40"
    case_page = bo.get(f"/sanktioner/{case.id}").get_data(as_text=True)
    assert f'href="/dialoger/{dialog.id}"' in case_page and "Snabbspår" in case_page
    # The fast route proposes the shorter response time.
    assert 'name="response_days" value="5"' in case_page
    assert f'href="/sanktioner/{case.id}"' in bo.get(f"/dialoger/{dialog.id}").get_data(
        as_text=True
    )


def test_only_the_bestallare_disposes(app, db, people, at_meeting):
    dialog, finding = at_meeting
    greta = client_for(app, "greta")
    response = post(
        greta,
        f"/dialoger/{dialog.id}",
        f"/dialoger/{dialog.id}/iakttagelser/{finding.id}",
        disposition="action_plan",
    )
    assert response.status_code == 403


def test_material_upload_download_and_removal(app, db, people, tmp_path):
    app.config["EVIDENCE_DIR"] = str(tmp_path / "underlag")
    dialog = wf.open_dialog(db, people["bo"], unit(db), "D")
    fire(db, people, dialog, "request_material")
    db.commit()
    vc = client_for(app, "vc")
    page = f"/dialoger/{dialog.id}"
    none = post(vc, page, f"{page}/underlag")
    assert none.status_code == 422 and "Välj en fil" in none.get_data(as_text=True)
    token = csrf_token(vc, page)
    import io

    refused = vc.post(
        f"{page}/underlag",
        data={"csrf_token": token, "file": (io.BytesIO(b"Patient 19121212-1212"), "lista.txt")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422 and "personnummer" in refused.get_data(as_text=True)
    response = vc.post(
        f"{page}/underlag",
        data={"csrf_token": token, "file": (io.BytesIO(b"Bemanning v12."), "bemanning.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    db.expire_all()
    (row,) = db.get(type(dialog), dialog.id).files
    download = vc.get(f"{page}/underlag/{row.id}")
    assert download.status_code == 200 and download.data == b"Bemanning v12."
    other = client_for(app, "other")
    assert other.get(f"{page}/underlag/{row.id}").status_code == 404
    assert post(vc, page, f"{page}/underlag/{row.id}/ta-bort").status_code == 302
    assert vc.get(f"{page}/underlag/{row.id}").status_code == 404


def test_the_dialog_points_at_the_units_checklist(app, db, people):
    finding = make_finding(db)
    foreign = make_finding(db, code="backen", n=1)
    dialog = wf.open_dialog(db, people["bo"], unit(db), "D")
    db.commit()
    greta = client_for(app, "greta")
    page = f"/dialoger/{dialog.id}"
    checklist_id = finding.item.checklist_id
    assert post(greta, page, f"{page}/checklista", checklist=str(checklist_id)).status_code == 302
    html = greta.get(page).get_data(as_text=True)
    assert f'href="/checklistor/{checklist_id}"' in html
    refused = post(greta, page, f"{page}/checklista", checklist=str(foreign.item.checklist_id))
    assert refused.status_code == 409 and "enhetens checklistor" in refused.get_data(as_text=True)


def test_the_fast_route_on_the_unit_page_and_the_start_page(app, db, people):
    finding = make_finding(db, severity=Severity.PATIENT_SAFETY)
    db.commit()
    bo = client_for(app, "bo")
    start = bo.get("/").get_data(as_text=True)
    assert "snabbspåret" in start and f"#fast-{finding.id}" in start
    unit_page = bo.get("/enheter/byske").get_data(as_text=True)
    assert f'id="fast-{finding.id}"' in unit_page and "Beslut om IVO-anmälan senast" in unit_page
    path = f"/sanktioner/ivo/iakttagelser/{finding.id}"
    refused = post(bo, "/enheter/byske", path, referred="no", reason="")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Ange skälet" in html
    unsure = post(bo, "/enheter/byske", path, reference="IVO 1")
    assert unsure.status_code == 422 and "Välj om iakttagelsen anmäls" in unsure.get_data(
        as_text=True
    )
    assert 'value="IVO 1"' in unsure.get_data(as_text=True)
    ok = post(bo, "/enheter/byske", path, referred="no", reason="Enheten har anmält lex Maria.")
    assert ok.status_code == 302
    decision = db.scalar(sa.select(IvoReferral))
    assert decision.referred is False and decision.reason == "Enheten har anmält lex Maria."
    assert "snabbspåret" not in bo.get("/").get_data(as_text=True)
    assert "Anmäls inte till IVO: Enheten har anmält lex Maria." in bo.get(
        "/enheter/byske"
    ).get_data(as_text=True)
    # The unit sees its fast route, without the beställare's form; the granskare may not decide.
    vc_page = client_for(app, "vc").get("/enheter/byske").get_data(as_text=True)
    assert f'id="fast-{finding.id}"' in vc_page and path not in vc_page
    assert post(client_for(app, "greta"), "/enheter/byske", path, referred="no").status_code == 403
    yes = post(
        bo,
        "/enheter/byske",
        path,
        referred="yes",
        referred_on=dt.date.today().isoformat(),
        reference="IVO 3.5.1-99",
    )
    assert yes.status_code == 302
    assert "Anmäld till IVO" in bo.get("/enheter/byske").get_data(as_text=True)


def test_the_help_pages_diagrams_still_render_from_the_machines(app, people):
    """The dialog's close guard now counts the pending findings too; its picture and the plan
    and sanction machines' still come from the machines themselves."""
    from workflows import action_plan as ap
    from workflows import sanction as sc

    page = client_for(app, "bo").get("/hjalp/flodesscheman")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for workflow in (wf.DIALOG, ap.ACTION_PLAN, sc.SANCTION):
        for label in workflow.state_labels.values():
            assert label in html, label
    assert "every_finding_disposed" in wf.DIALOG.diagram()
