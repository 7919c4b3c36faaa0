"""The joint dialog's pages (§7.1.2): the year's list with the "minst två" warning (and on the
purchaser's start page), planning with errors beside the fields and nothing lost, each step's
form, attendance per unit, a follow-up made into a finding and found again from the findings
page; units read the agenda once sent and the minutes once published, and change nothing."""

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from audit import db as audit_db
from audit import models as audit_models
from audit.models import Role
from audit.trail import AuditEvent
from checklists.catalog import EDITIONS_DIR, load_edition
from checklists.models import Requirement
from tests.conftest import count, csrf_token, login
from tests.factories import PASSWORD, TEST_ACTOR, make_unit, make_user
from workflows.joint.models import JointDialog, JointDialogAttendance, JointDialogState

S = JointDialogState
TODAY = dt.date(2026, 3, 2)  # a Monday


@pytest.fixture
def people(db, monkeypatch):
    monkeypatch.setattr(audit_db, "clock", lambda: dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC))
    make_unit(db, "byske", name="Byske hälsocentral")
    make_unit(db, "backen", name="Backens hälsocentral")
    make_user(db, "bo", (Role.BESTALLARE, None))
    make_user(db, "greta", (Role.GRANSKARE, None))
    make_user(db, "vc", (Role.VERKSAMHETSCHEF, "byske"), display_name="Vera Chef")
    make_user(db, "vc2", (Role.VERKSAMHETSCHEF, "backen"), display_name="Mats Chef")
    make_user(db, "staff", (Role.PERSONAL, "byske"))
    db.commit()


def client_for(app, username):
    client = app.test_client()
    assert login(client, username, PASSWORD).status_code == 302
    return client


def post(client, path, page, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def plan(bo, **fields):
    data = {"meeting_on": "2026-03-23", "place": "Regionens hus", "theme": "Kompetens"} | fields
    return post(bo, "/gemensamma-dialoger/ny", "/gemensamma-dialoger/ny", **data)


def act(client, joint_id, trigger, **data):
    return post(
        client,
        f"/gemensamma-dialoger/{joint_id}/atgard/{trigger}",
        f"/gemensamma-dialoger/{joint_id}",
        **data,
    )


def text(response) -> str:
    return response.get_data(as_text=True)


def test_fewer_than_two_is_shown_on_the_list_and_the_purchasers_start_page(app, people):
    bo = client_for(app, "bo")
    assert "Färre än två gemensamma dialoger för 2026" in text(bo.get("/gemensamma-dialoger/"))
    assert "Färre än två gemensamma dialoger för 2026" in text(bo.get("/"))
    vc = client_for(app, "vc")
    assert "Färre än två" not in text(vc.get("/"))  # the purchaser's duty, not the unit's
    assert plan(bo).status_code == 302
    assert plan(bo, meeting_on="2026-10-05", theme="Hösten").status_code == 302
    listing = text(bo.get("/gemensamma-dialoger/"))
    assert "Färre än två" not in listing and "Hösten" in listing
    assert "Färre än två" in text(bo.get("/gemensamma-dialoger/?ar=2027"))


def test_a_bad_plan_keeps_what_was_typed_with_the_errors_beside_the_fields(app, people, db):
    bo = client_for(app, "bo")
    response = plan(bo, meeting_on="2026-02-30", place="Skellefteå lasarett")
    assert response.status_code == 422
    page = text(response)
    assert 'class="error-summary"' in page and 'href="#plan-meeting_on"' in page
    assert 'value="Skellefteå lasarett"' in page and 'value="Kompetens"' in page
    assert 'id="plan-meeting_on-error"' in page
    response = plan(bo, place="", theme="")
    assert response.status_code == 422
    page = text(response)
    assert 'href="#plan-place"' in page and 'href="#plan-theme"' in page
    assert "Ange mötets tema." in page
    assert count(db, JointDialog) == 0


def test_the_whole_dialog_through_its_pages(app, people, db, monkeypatch):
    load_edition(db, TEST_ACTOR, EDITIONS_DIR / "uor-2025.yaml")
    db.commit()
    bo, vc, staff = client_for(app, "bo"), client_for(app, "vc"), client_for(app, "staff")
    joint_id = int(plan(bo).location.rsplit("/", 1)[1])
    page = f"/gemensamma-dialoger/{joint_id}"
    refused = act(bo, joint_id, "write_agenda", agenda=" ")
    assert refused.status_code == 409
    assert 'href="#write_agenda-agenda"' in text(refused)
    assert act(bo, joint_id, "write_agenda", agenda="1. Läget\n2. Övrigt").status_code == 302
    assert "1. Läget" not in text(vc.get(page))  # not sent yet
    assert act(bo, joint_id, "send_agenda", late_reason="").status_code == 302
    shown = text(bo.get(page))
    assert "Vera Chef – Byske hälsocentral" in shown and "Mats Chef – Backens hälsocentral" in shown
    unit_view = text(vc.get(page))
    assert "1. Läget" in unit_view and "Mats Chef" not in unit_view  # no recipient list
    assert 'action="/gemensamma-dialoger/' not in unit_view  # read-only for units
    assert act(vc, joint_id, "cancel", reason="Nej").status_code == 403
    units = dict(
        db.execute(
            sa.select(JointDialogAttendance.unit_id, JointDialogAttendance.id).where(
                JointDialogAttendance.joint_dialog_id == joint_id
            )
        ).all()
    )
    byske, backen = sorted(units)
    assert 'value="Vera Chef"' in shown  # the invited head, proposed as the one attending
    fields = {
        f"status_{byske}": "attended",
        f"name_{byske}": "Vera Chef",
        f"role_title_{byske}": "verksamhetschef",
        f"status_{backen}": "absent",
        f"absence_reason_{backen}": "",
        f"name_{backen}": "",
        f"role_title_{backen}": "",
    }
    refused = post(bo, f"{page}/narvaro", page, **fields)
    assert refused.status_code == 422
    body = text(refused)
    assert f'href="#attendance-absence_reason_{backen}"' in body
    assert 'value="Vera Chef"' in body and 'value="absent" selected' in body
    fields[f"absence_reason_{backen}"] = "Sjukdom"
    assert post(bo, f"{page}/narvaro", page, **fields).status_code == 302
    monkeypatch.setattr(audit_db, "clock", lambda: dt.datetime(2026, 3, 23, 9, tzinfo=dt.UTC))
    bo, staff = client_for(app, "bo"), client_for(app, "staff")  # three weeks on: new logins
    assert act(bo, joint_id, "hold_meeting").status_code == 302
    assert act(bo, joint_id, "write_minutes", minutes="Protokoll från mötet.").status_code == 302
    assert "Protokoll från mötet." not in text(staff.get(page))  # not approved yet
    assert act(bo, joint_id, "publish_minutes").status_code == 302
    staff_view = text(staff.get(page))
    assert "Protokoll från mötet." in staff_view and "Sjukdom" in staff_view
    refused = post(bo, f"{page}/uppfoljning", page, text="", follow_up_unit="")
    assert refused.status_code == 422 and 'href="#follow_up-text"' in text(refused)
    assert (
        post(
            bo, f"{page}/uppfoljning", page, text="Telefonrapporten saknas.", follow_up_unit=""
        ).status_code
        == 302
    )
    follow_up = int(re.search(r'id="fu-(\d+)"', text(bo.get(page))).group(1))
    requirement = db.scalar(sa.select(Requirement.id).where(Requirement.section == "6.9").limit(1))
    path = f"{page}/uppfoljning/{follow_up}/iakttagelse"
    refused = post(bo, path, page, finding_unit="", requirement=str(requirement), statement="X")
    assert refused.status_code == 422
    assert f'href="#finding_{follow_up}-finding_unit"' in text(refused)
    assert f'<option value="{requirement}" selected' in text(refused)
    backen_unit = backen
    response = post(
        bo,
        path,
        page,
        finding_unit=str(backen_unit),
        requirement=str(requirement),
        finding_status="non_compliant",
        severity="",
        statement="Månadsrapporten saknas.",
    )
    assert response.status_code == 302
    findings = text(bo.get("/checklistor/iakttagelser"))
    assert "Månadsrapporten saknas." in findings
    assert f'href="/gemensamma-dialoger/{joint_id}#follow-ups-h"' in findings
    assert act(bo, joint_id, "close").status_code == 302
    assert db.get(JointDialog, joint_id).status == S.CLOSED
    assert "Avsluta den gemensamma dialogen" in text(bo.get(page))  # the timeline names it


def test_a_late_agenda_is_refused_without_its_reason(app, people, db):
    bo = client_for(app, "bo")
    joint_id = int(plan(bo, meeting_on="2026-03-05").location.rsplit("/", 1)[1])
    act(bo, joint_id, "write_agenda", agenda="1. Läget")
    events = count(db, AuditEvent)
    refused = act(bo, joint_id, "send_agenda", late_reason="")
    assert refused.status_code == 409
    body = text(refused)
    assert 'href="#send_agenda-late_reason"' in body and "minst 5 arbetsdagar" in body
    assert count(db, AuditEvent) == events
    assert act(bo, joint_id, "send_agenda", late_reason="Extra möte.").status_code == 302
    assert "Extra möte." in text(bo.get(f"/gemensamma-dialoger/{joint_id}"))


def test_an_unknown_dialog_or_follow_up_is_404(app, people):
    bo = client_for(app, "bo")
    assert bo.get("/gemensamma-dialoger/999").status_code == 404
    joint_id = int(plan(bo).location.rsplit("/", 1)[1])
    page = f"/gemensamma-dialoger/{joint_id}"
    response = post(bo, f"{page}/uppfoljning/999/hanterad", page, note="x")
    assert response.status_code == 404


def test_the_reminder_of_the_purchasers_own_duty_reaches_the_bestallare_only(app, people, db):
    from workflows.deadlines import scan

    scan(db, dt.date(2026, 9, 1))
    db.commit()
    text_of = "Minst två gemensamma dialoger med verksamhetsföreträdarna ska hållas per år"
    assert text_of in text(client_for(app, "bo").get("/"))
    # The duty is the beställare's (workflows.notifications.TURN): not the granskare's, not
    # the units'.
    assert text_of not in text(client_for(app, "greta").get("/"))
    assert text_of not in text(client_for(app, "vc").get("/"))


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_dialog_page_makes_as_many_queries_for_many_units_and_follow_ups(
    app, people, db, monkeypatch, connection
):
    from workflows.joint import machine as jm
    from workflows.joint import operations as jo

    load_edition(db, TEST_ACTOR, EDITIONS_DIR / "uor-2025.yaml")
    requirement = db.scalar(sa.select(Requirement).limit(1))
    bo = db.scalar(sa.select(audit_models.User).where(audit_models.User.username == "bo"))

    def held_dialog(theme, follow_ups):
        joint = jo.plan_joint_dialog(
            db, bo, meeting_on=dt.date(2026, 3, 2), place="Hus", theme=theme
        )
        jm.JOINT_DIALOG.fire(db, bo, joint, "write_agenda", data={"agenda": "1."})
        jm.JOINT_DIALOG.fire(db, bo, joint, "send_agenda", data={"late_reason": "Kort varsel."})
        units = db.scalars(
            sa.select(JointDialogAttendance.unit_id).where(
                JointDialogAttendance.joint_dialog_id == joint.id
            )
        ).all()
        jo.record_attendance(
            db, bo, joint, {u: {"status": "absent", "absence_reason": "Sjuk"} for u in units}
        )
        jm.JOINT_DIALOG.fire(db, bo, joint, "hold_meeting")
        for n in range(follow_ups):
            follow_up = jo.add_follow_up(db, bo, joint, f"Punkt {n}")
            unit = db.get(audit_models.Unit, units[n % len(units)])
            jo.make_finding(
                db,
                bo,
                joint,
                follow_up,
                unit=unit,
                requirement=requirement,
                status="non_compliant",
                severity=None,
                statement=f"Brist {n}",
            )
        jo.add_follow_up(db, bo, joint, "Öppen punkt")  # an open one: the finding form shows
        db.commit()
        return joint.id

    few = held_dialog("Få", 1)
    for n in range(4):
        make_unit(db, f"fler{n}", name=f"Fler {n}")
        make_user(db, f"vc.fler{n}", (Role.VERKSAMHETSCHEF, f"fler{n}"))
    db.commit()
    many = held_dialog("Många", 4)
    client = client_for(app, "bo")
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    sa.event.listen(connection, "before_cursor_execute", listener)
    counts = []
    try:
        for joint_id in (few, many):
            statements.clear()
            assert client.get(f"/gemensamma-dialoger/{joint_id}").status_code == 200
            counts.append(len(statements))
    finally:
        sa.event.remove(connection, "before_cursor_execute", listener)
    assert counts[0] == counts[1], counts


def test_a_bad_change_of_date_keeps_what_was_typed(app, people, db):
    bo = client_for(app, "bo")
    joint_id = int(plan(bo).location.rsplit("/", 1)[1])
    page = f"/gemensamma-dialoger/{joint_id}"
    refused = post(
        bo, f"{page}/planering", page, meeting_on="2026-01-01", place="Lycksele", theme="Ny"
    )
    assert refused.status_code == 422
    body = text(refused)
    assert 'href="#replan-meeting_on"' in body and "Mötesdagen kan inte ha passerat." in body
    assert 'value="Lycksele"' in body and 'value="Ny"' in body
    ok = post(bo, f"{page}/planering", page, meeting_on="2026-03-30", place="Lycksele", theme="Ny")
    assert ok.status_code == 302
    assert db.get(JointDialog, joint_id).meeting_on == dt.date(2026, 3, 30)
