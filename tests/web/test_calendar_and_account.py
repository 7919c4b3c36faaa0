"""The personal calendar feed, meeting invitations, the account page and the outbox page.

The feed parses with ``icalendar`` and holds only what its token's user may see; the token is
shown once and stored hashed; a revoked or replaced token answers 404. Booking a follow-up
meeting queues an invitation (.ics, METHOD:REQUEST) to every participant with an address,
and the same invitation downloads from the dialog page.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import icalendar
import pytest
import sqlalchemy as sa

from audit.models import CalendarToken, Role, User
from audit.outbox import OutboxMessage, OutboxState
from audit.trail import AuditEvent
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_unit, make_user
from workflows import dialog as wf
from workflows.models import DialogState, FollowUpDialog

FEED_RE = re.compile(r'id="feed-url" readonly value="([^"]+)"')


@pytest.fixture
def world(db):
    byske = make_unit(db, "byske", name="Byske hälsocentral")
    backen = make_unit(db, "backen", name="Backens hälsocentral")
    bo = make_user(db, "bo", (Role.BESTALLARE, None), display_name="Bo Beställare")
    bo.email = "bo@example.se"
    vc = make_user(db, "vc", (Role.VERKSAMHETSCHEF, "byske"), display_name="Vera Chef")
    vc.email = "vera@example.se"
    make_user(db, "other", (Role.VERKSAMHETSCHEF, "backen"))
    make_user(db, "admin", (Role.ADMIN, None))
    today = dt.date.today()
    own = FollowUpDialog(
        unit_id=byske.id,
        title="Byskes uppföljning",
        status=DialogState.MATERIAL_REQUESTED,
        material_deadline=today + dt.timedelta(days=10),
        created_by_id=bo.id,
    )
    theirs = FollowUpDialog(
        unit_id=backen.id,
        title="Backens uppföljning",
        status=DialogState.MATERIAL_REQUESTED,
        material_deadline=today + dt.timedelta(days=12),
        created_by_id=bo.id,
    )
    db.add_all([own, theirs])
    db.commit()
    return {"own": own, "theirs": theirs, "bo": bo, "vc": vc}


def _client(app, username):
    client = app.test_client()
    assert login(client, username, PASSWORD).status_code == 302
    return client


def _new_feed(client) -> str:
    token = csrf_token(client, "/konto/")
    response = client.post("/konto/kalender", data={"csrf_token": token})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    url = FEED_RE.search(response.get_data(as_text=True)).group(1)
    return url.removeprefix("http://localhost")


def _events(app, path) -> list:
    response = app.test_client().get(path)  # a calendar program: no login
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.data)
    assert str(calendar["VERSION"]) == "2.0" and calendar["PRODID"]
    return list(calendar.walk("VEVENT"))


def test_the_feed_holds_only_what_its_user_may_see(app, db, world):
    vc = _client(app, "vc")
    path = _new_feed(vc)
    summaries = [str(e["SUMMARY"]) for e in _events(app, path)]
    assert any("Byskes uppföljning" in s for s in summaries)
    assert not any("Backens" in s for s in summaries)
    # The purchaser's feed has both units' deadlines.
    bo = _client(app, "bo")
    summaries = [str(e["SUMMARY"]) for e in _events(app, _new_feed(bo))]
    assert any("Byskes" in s for s in summaries) and any("Backens" in s for s in summaries)


def test_events_are_all_day_with_stable_uids(app, db, world):
    path = _new_feed(_client(app, "vc"))
    first = _events(app, path)
    again = _events(app, path)
    assert [str(e["UID"]) for e in first] == [str(e["UID"]) for e in again]
    event = next(e for e in first if "Byskes" in str(e["SUMMARY"]))
    assert event.decoded("DTSTART") == world["own"].material_deadline
    assert str(event["URL"]).endswith(f"/dialoger/{world['own'].id}")


def test_the_token_is_stored_hashed_and_revoking_it_answers_404(app, db, world):
    vc = _client(app, "vc")
    path = _new_feed(vc)
    secret = path.removeprefix("/kalender/").removesuffix(".ics")
    row = db.scalar(sa.select(CalendarToken).where(CalendarToken.revoked_at.is_(None)))
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in vc.get("/konto/").get_data(as_text=True)  # shown once only
    token = csrf_token(vc, "/konto/")
    assert vc.post("/konto/kalender/aterkalla", data={"csrf_token": token}).status_code == 302
    assert app.test_client().get(path).status_code == 404
    assert app.test_client().get("/kalender/okand-token.ics").status_code == 404
    actions = db.scalars(sa.select(AuditEvent.action).where(AuditEvent.entity_type == "user"))
    assert {"calendar_token_created", "calendar_token_revoked"} <= set(actions)


def test_replacing_the_token_retires_the_old_url(app, db, world):
    vc = _client(app, "vc")
    old = _new_feed(vc)
    new = _new_feed(vc)
    assert old != new
    assert app.test_client().get(old).status_code == 404
    assert app.test_client().get(new).status_code == 200


def test_a_deactivated_account_has_no_feed(app, db, world):
    path = _new_feed(_client(app, "vc"))
    world["vc"].active = False
    db.commit()
    assert app.test_client().get(path).status_code == 404


# --- meeting invitations -----------------------------------------------------------------


def _book(db, dialog, bo):
    dialog.status = DialogState.UNDER_REVIEW
    db.flush()
    wf.DIALOG.fire(
        db,
        bo,
        dialog,
        "book_meeting",
        data={
            "meeting_at": dt.datetime(2030, 5, 20, 7, 0, tzinfo=dt.UTC),
            "meeting_place": "Byske hälsocentral, konferensrummet",
            "participants": [
                {"name": "Vera Chef", "role_title": "verksamhetschef", "email": "vera@example.se"},
                {"name": "Mats Läkare", "role_title": "medicinskt ansvarig", "email": "mats@ex.se"},
                {"name": "Bo Beställare", "role_title": "beställare", "email": ""},
            ],
        },
    )
    db.commit()


def test_booking_a_meeting_queues_an_invitation_to_each_participant(app, db, world):
    _book(db, world["own"], world["bo"])
    messages = db.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.recipient)).all()
    assert [m.recipient for m in messages] == ["mats@ex.se", "vera@example.se"]
    vera = next(m for m in messages if m.recipient == "vera@example.se")
    assert vera.user_id == world["vc"].id  # her account's setting applies
    assert vera.status == OutboxState.QUEUED and "2030-05-20 kl. 09.00" in vera.subject
    (attachment,) = vera.attachments
    assert attachment["params"] == {"method": "REQUEST"}
    calendar = icalendar.Calendar.from_ical(attachment["content"])
    assert str(calendar["METHOD"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"follow-up-dialog-{world['own'].id}-meeting@halsoval-uppfoljning"
    assert int(event["SEQUENCE"]) == 0
    attendees = sorted(str(a) for a in event.get("ATTENDEE"))
    assert attendees == ["mailto:mats@ex.se", "mailto:vera@example.se"]
    assert str(event["ORGANIZER"]) == "mailto:bo@example.se"
    assert "Bo Beställare" in str(event["DESCRIPTION"])  # named without an address


def test_the_invitation_respects_the_setting_and_downloads_from_the_dialog(app, db, world):
    world["vc"].notify_invitations = False
    db.commit()
    _book(db, world["own"], world["bo"])
    assert db.scalars(sa.select(OutboxMessage.recipient)).all() == ["mats@ex.se"]
    vc = _client(app, "vc")
    page = vc.get(f"/dialoger/{world['own'].id}").get_data(as_text=True)
    assert "inbjudan.ics" in page
    response = vc.get(f"/dialoger/{world['own'].id}/inbjudan.ics")
    assert response.status_code == 200 and "method=REQUEST" in response.headers["Content-Type"]
    (event,) = icalendar.Calendar.from_ical(response.data).walk("VEVENT")
    assert event.decoded("DTSTART") == dt.datetime(2030, 5, 20, 7, 0, tzinfo=dt.UTC)
    # Not booked: no invitation; another unit's dialog: not found.
    assert vc.get(f"/dialoger/{world['theirs'].id}/inbjudan.ics").status_code == 404
    bo = _client(app, "bo")
    assert bo.get(f"/dialoger/{world['theirs'].id}/inbjudan.ics").status_code == 404


def test_cancelling_a_booked_meeting_sends_a_cancellation(app, db, world):
    _book(db, world["own"], world["bo"])
    wf.DIALOG.fire(db, world["bo"], world["own"], "cancel", reason="Sjukdom.")
    db.commit()
    cancel = db.scalars(sa.select(OutboxMessage).where(OutboxMessage.key.contains(":cancel:")))
    cancel = cancel.all()
    assert len(cancel) == 2
    (event,) = icalendar.Calendar.from_ical(cancel[0].attachments[0]["content"]).walk("VEVENT")
    assert (int(event["SEQUENCE"]), str(event["STATUS"])) == (1, "CANCELLED")


def test_a_bad_participant_address_is_refused_with_what_was_typed_kept(app, db, world):
    world["own"].status = DialogState.UNDER_REVIEW
    db.commit()
    bo = _client(app, "bo")
    token = csrf_token(bo, f"/dialoger/{world['own'].id}")
    response = bo.post(
        f"/dialoger/{world['own'].id}/atgard/book_meeting",
        data={
            "csrf_token": token,
            "meeting_at": "2030-05-20T09:00",
            "meeting_place": "Byske",
            "name_1": "Vera Chef",
            "role_1": "verksamhetschef",
            "email_1": "vera(at)example",
            "name_2": "Mats",
            "role_2": "medicinskt ansvarig",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 409  # a guard's refusal, as every machine's
    assert "Ange e-postadressen som namn@exempel.se" in page and "vera(at)example" in page


# --- the account page and the administratör's address ---------------------------------------


def test_the_user_sets_an_address_and_notification_settings(app, db, world):
    client = _client(app, "other")
    token = csrf_token(client, "/konto/")
    refused = client.post("/konto/e-post", data={"csrf_token": token, "email": "inte en adress"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Ange en e-postadress som namn@exempel.se." in page and "inte en adress" in page
    assert 'id="error-summary"' in page
    saved = client.post("/konto/e-post", data={"csrf_token": token, "email": " o@example.se "})
    assert saved.status_code == 302
    user = db.scalar(sa.select(User).where(User.username == "other"))
    assert user.email == "o@example.se"
    client.post(
        "/konto/aviseringar",
        data={"csrf_token": token, "notify_due_soon": "y", "notify_invitations": "y"},
    )
    db.refresh(user)
    assert (user.notify_due_soon, user.notify_overdue, user.notify_rounds) == (True, False, False)
    assert user.notify_invitations is True


def test_the_administrator_sets_a_users_address(app, db, world):
    admin = _client(app, "admin")
    user_id = world["vc"].id
    token = csrf_token(admin, f"/anvandare/{user_id}")
    bad = admin.post(f"/anvandare/{user_id}/e-post", data={"csrf_token": token, "email": "a@b"})
    assert bad.status_code == 422
    ok = admin.post(
        f"/anvandare/{user_id}/e-post", data={"csrf_token": token, "email": "ny@example.se"}
    )
    assert ok.status_code == 302
    event = db.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "email").order_by(AuditEvent.id.desc())
    )
    assert event.after_data() == {"email": "ny@example.se"}


def test_the_outbox_page_shows_uncertain_messages_and_sends_them_again(app, db, world):
    _book(db, world["own"], world["bo"])
    message = db.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == "mats@ex.se"))
    message.status = OutboxState.UNCERTAIN
    db.commit()
    admin = _client(app, "admin")
    page = admin.get("/utkorg/?status=uncertain").get_data(as_text=True)
    assert "Osäker leverans" in page and "mats@ex.se" in page
    token = csrf_token(admin, "/utkorg/")
    response = admin.post(f"/utkorg/{message.id}/skicka-igen", data={"csrf_token": token})
    assert response.status_code == 302
    db.refresh(message)
    assert message.status == OutboxState.QUEUED
    refused = admin.post(f"/utkorg/{message.id}/skicka-igen", data={"csrf_token": token})
    assert refused.status_code == 303  # already queued: not "again"


def test_start_page_lists_the_users_open_reminders(app, db, world):
    from workflows.deadlines import scan

    scan(db, dt.date.today() + dt.timedelta(days=11))  # own's deadline passed, theirs soon
    db.commit()
    page = _client(app, "vc").get("/").get_data(as_text=True)
    assert "Byskes uppföljning" in page and "Backens uppföljning" not in page
    world["own"].status = DialogState.MATERIAL_SUBMITTED  # handed in: no longer a reminder
    db.commit()
    page = _client(app, "vc").get("/").get_data(as_text=True)
    assert "Underlag till uppföljningsdialogen" not in page


def test_a_booked_meeting_is_a_timed_event_in_the_feed(app, db, world):
    _book(db, world["own"], world["bo"])
    events = _events(app, _new_feed(_client(app, "vc")))
    meeting = next(e for e in events if str(e["SUMMARY"]).startswith("Uppföljningsmöte"))
    assert meeting.decoded("DTSTART") == dt.datetime(2030, 5, 20, 7, 0, tzinfo=dt.UTC)
    assert meeting.decoded("DTEND") - meeting.decoded("DTSTART") == dt.timedelta(hours=2)
    assert str(meeting["LOCATION"]) == "Byske hälsocentral, konferensrummet"


def test_a_new_source_is_filtered_by_the_users_scope(app, db, world, monkeypatch):
    """A source added at merge (the årshjul's duties) cannot leak another unit's items."""
    from workflows import calendar as cal

    backen_id = world["theirs"].unit_id
    byske_id = world["own"].unit_id

    def duties(session, user):
        yield cal.CalendarItem(
            "duty-backen", "Backens plikt", dt.date(2027, 3, 1), unit_id=backen_id
        )
        yield cal.CalendarItem("duty-byske", "Byskes plikt", dt.date(2027, 3, 1), unit_id=byske_id)
        yield cal.CalendarItem("duty-region", "Regionens plikt", dt.date(2027, 3, 1))

    monkeypatch.setattr(cal, "SOURCES", [*cal.SOURCES, duties])
    vc = db.scalar(sa.select(User).where(User.username == "vc"))
    summaries = {i.summary for i in cal.calendar_items(db, vc)}
    assert "Byskes plikt" in summaries
    assert not summaries & {"Backens plikt", "Regionens plikt"}
    bo = db.scalar(sa.select(User).where(User.username == "bo"))
    assert {"Backens plikt", "Byskes plikt", "Regionens plikt"} <= {
        i.summary for i in cal.calendar_items(db, bo)
    }
    admin = db.scalar(sa.select(User).where(User.username == "admin"))
    assert cal.calendar_items(db, admin) == []  # no follow-up work of their own


def test_the_feed_holds_the_years_duties_and_the_joint_dialogs_the_user_may_see(app, db, world):
    """The årshjul's duties reach the calendar: the unit's head gets its patient-safety report
    (§2.6, 1 March), not the purchaser's own duties; the purchaser gets the two joint dialogs
    (§7.1.2). A joint dialog is in a unit's calendar once its head was sent the agenda."""
    from checklists.catalog import EDITIONS_DIR, load_edition
    from tests.factories import TEST_ACTOR
    from workflows.joint import machine as jm
    from workflows.joint import operations as jo

    load_edition(db, TEST_ACTOR, EDITIONS_DIR / "uor-2025.yaml")
    db.commit()
    vc_path = _new_feed(_client(app, "vc"))
    bo_path = _new_feed(_client(app, "bo"))
    vc = [str(e["SUMMARY"]) for e in _events(app, vc_path)]
    bo = [str(e["SUMMARY"]) for e in _events(app, bo_path)]
    assert any(s.startswith("Patientsäkerhetsberättelsen för") for s in vc)
    assert not any(s.startswith("Gemensam dialog med utförarna") for s in vc)
    assert any(s.startswith("Gemensam dialog med utförarna") for s in bo)
    joint = jo.plan_joint_dialog(
        db,
        world["bo"],
        meeting_on=dt.date.today() + dt.timedelta(days=30),
        place="Regionens hus",
        theme="Kompetensförsörjning",
    )
    db.commit()
    assert "Gemensam dialog: Kompetensförsörjning" in [
        str(e["SUMMARY"]) for e in _events(app, bo_path)
    ]
    assert "Gemensam dialog: Kompetensförsörjning" not in [
        str(e["SUMMARY"]) for e in _events(app, vc_path)
    ]
    jm.JOINT_DIALOG.fire(db, world["bo"], joint, "write_agenda", data={"agenda": "1. Läget"})
    jm.JOINT_DIALOG.fire(db, world["bo"], joint, "send_agenda", data={})
    db.commit()
    events = [str(e["SUMMARY"]) for e in _events(app, vc_path)]
    assert events.count("Gemensam dialog: Kompetensförsörjning") == 1
    assert (
        db.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.key == f"joint:{joint.id}:agenda:user:{world['vc'].id}")
        )
        == 1
    )


def test_the_administrator_emails_a_calendar_link_to_someone_who_never_logs_in(app, db, world):
    """The verksamhetschef who never logs in gets their calendar by e-mail: the administratör
    sends a new link (the secret only in the e-mail), the old one stops working."""
    old_path = _new_feed(_client(app, "vc"))
    admin = _client(app, "admin")
    vc_id = world["vc"].id
    page = f"/anvandare/{vc_id}"
    token = csrf_token(admin, page)
    response = admin.post(f"{page}/kalenderlank", data={"csrf_token": token})
    assert response.status_code == 302
    shown = admin.get(page).get_data(as_text=True)
    assert "vera@example.se" in shown and "/kalender/" not in shown  # never on the page
    message = db.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.key.like(f"calendar-link:{vc_id}:%"))
    ).one()
    assert message.recipient == "vera@example.se"
    path = re.search(r"http://localhost(/kalender/\S+\.ics)", message.body).group(1)
    assert any("Byskes uppföljning" in str(e["SUMMARY"]) for e in _events(app, path))
    assert app.test_client().get(old_path).status_code == 404
    event = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "calendar_link_sent")).one()
    secret = path.removeprefix("/kalender/").removesuffix(".ics")
    assert secret not in repr(event.after_data()) and secret not in shown
    # No address, no link: nothing is queued.
    other = db.scalar(sa.select(User).where(User.username == "other"))
    admin.post(f"/anvandare/{other.id}/kalenderlank", data={"csrf_token": token})
    assert not db.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.key.like(f"calendar-link:{other.id}:%"))
    ).all()
