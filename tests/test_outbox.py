"""The outbox against a real SMTP server (aiosmtpd, in-process), on both databases.

What arrives is read from the server: one e-mail per reminder and person whose turn it is,
nothing twice after a crash between sending and marking, a retry after the server refuses
(451, then 250), and two senders at once -- separate engines, as two machines -- deliver each
message once. Every test uses a real migrated database (not the rolled-back session of the
other tests): the sender commits its claims in transactions of its own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from alembic import command

import audit.db
from audit import outbox
from audit.db import make_engine, make_session_factory
from audit.models import Role
from audit.outbox import OutboxMessage, OutboxState, SmtpSettings, enqueue_email, send_pending
from tests.conftest import DB_KINDS, database_url
from tests.factories import make_unit, make_user
from tests.servers import free_port
from web.cli import alembic_config
from workflows.deadlines import scan
from workflows.models import DialogState, FollowUpDialog

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


class Inbox:
    """An SMTP handler that keeps what arrives; ``replies`` are answered first, in order."""

    def __init__(self, replies=(), delay: float = 0.0):
        self.replies = list(replies)
        self.delay = delay
        self.received: list[email.message.EmailMessage] = []
        self.raw: list[bytes] = []
        self.refused_ids: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            if self.replies:
                self.refused_ids.append(message["Message-ID"])
                return self.replies.pop(0)
            self.received.append(message)
            self.raw.append(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp():
    """Start an in-process SMTP server; ``smtp(handler)`` returns its settings."""
    controllers = []

    def start(handler: Inbox) -> SmtpSettings:
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        return SmtpSettings(
            host="127.0.0.1",
            port=port,
            sender="Hälsoval uppföljning <uppfoljning@regionvasterbotten.se>",
            starttls=False,
        )

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture(scope="module", params=DB_KINDS)
def live(request, tmp_path_factory):
    """A migrated database of each kind and a session factory on it."""
    url = database_url(request.param, "halsoval_outbox", request, tmp_path_factory)
    engine = make_engine(url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(url, connection=connection), "head")
    yield make_session_factory(engine), url
    engine.dispose()


@pytest.fixture
def factory(live):
    factory, _url = live
    with factory() as db:
        db.execute(sa.delete(OutboxMessage))
        db.commit()
    return factory


@pytest.fixture
def clock(monkeypatch):
    """Move ``audit.db.utcnow`` by hand: ``clock.advance(timedelta)``."""

    class Clock:
        now = dt.datetime.now(dt.UTC)

        def advance(self, delta):
            self.now += delta

    clock = Clock()
    monkeypatch.setattr(audit.db, "clock", lambda: clock.now)
    return clock


def _person(db, role, unit, email_address, name=None, **settings):
    user = make_user(db, None, (role, unit.code if role.is_unit_role else None), display_name=name)
    user.email = email_address
    for name, value in settings.items():
        setattr(user, name, value)
    db.flush()
    return user


def _queue(factory, n: int = 1) -> list[int]:
    with factory() as db:
        unit = make_unit(db)
        person = _person(db, Role.VERKSAMHETSCHEF, unit, "vera@example.se")
        ids = [
            enqueue_email(
                db,
                key=f"test:{unit.code}:{k}",
                user=person,
                subject=f"Meddelande {k}",
                body="Hej!",
            )
            for k in range(n)
        ]
        db.commit()
    return ids


def _states(factory) -> list[str]:
    with factory() as db:
        return [s.value for s in db.scalars(sa.select(OutboxMessage.status).order_by("id"))]


# --- one e-mail per reminder, to whose turn it is --------------------------------------------


def test_each_new_reminder_is_emailed_once_to_the_people_whose_turn_it_is(factory, smtp):
    inbox = Inbox()
    settings = smtp(inbox)
    today = dt.date(2026, 12, 7)  # a Monday
    with factory() as db:
        unit = make_unit(db)
        unit.name = "Hälsocentralen Backen"
        head = _person(db, Role.VERKSAMHETSCHEF, unit, "vera@example.se", "Vera Verksamhetschef")
        staff = _person(db, Role.PERSONAL, unit, "stig@example.se")
        _person(db, Role.VERKSAMHETSCHEF, unit, "tyst@example.se", notify_due_soon=False)
        _person(db, Role.VERKSAMHETSCHEF, unit, None)  # no address: nothing to send
        other = make_unit(db)
        _person(db, Role.VERKSAMHETSCHEF, other, "annan@example.se")
        purchaser = _person(db, Role.BESTALLARE, unit, "bo@example.se")
        dialog = FollowUpDialog(
            unit_id=unit.id,
            title="Uppföljning 2026",
            status=DialogState.MATERIAL_REQUESTED,
            material_request="Bemanning",
            material_deadline=today + dt.timedelta(days=2),
            created_by_id=purchaser.id,
        )
        db.add(dialog)
        db.flush()
        from tests.workflows.test_deadlines import _two_joint_dialogs

        # The year's two joint dialogs planned: the purchaser's own reminder (§7.1.2) stays out.
        _two_joint_dialogs(db, purchaser, dt.date.today() + dt.timedelta(days=10))
        result = scan(db, today)
        db.commit()
        assert (result.due_soon, result.emails) == (1, 1)
        # Scanning again the same day: no new reminder, nothing queued twice.
        assert scan(db, today).emails == 0
        db.commit()

    assert send_pending(factory, settings).sent == 1
    assert send_pending(factory, settings).sent == 0
    assert [m["To"] for m in inbox.received] == ["vera@example.se"]
    arrived = inbox.received[0]
    assert arrived["Subject"].startswith("Påminnelse: Underlag till uppföljningsdialogen")
    assert arrived["Auto-Submitted"] == "auto-generated"
    body = arrived.get_body(("plain",)).get_content()
    assert f"/dialoger/{dialog.id}" in body and "Hej " + head.display_name in body
    assert staff.email not in {m["To"] for m in inbox.received}  # material is the head's
    with factory() as db:
        row = db.scalar(sa.select(OutboxMessage))
        assert row.status == OutboxState.SENT and arrived["Message-ID"] == row.message_id
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "outbox-reminder.eml").write_bytes(inbox.raw[0])


def test_overdue_checklist_reminds_head_and_staff(factory, smtp):
    from checklists.catalog import EDITIONS_DIR, load_edition
    from checklists.models import CatalogEdition, Requirement
    from checklists.operations import RoundSelection, open_round
    from tests.factories import TEST_ACTOR

    inbox = Inbox()
    settings = smtp(inbox)
    with factory() as db:
        unit = make_unit(db)
        head = _person(db, Role.VERKSAMHETSCHEF, unit, "vc@example.se")
        staff = _person(db, Role.PERSONAL, unit, "sjuksk@example.se")
        purchaser = _person(db, Role.BESTALLARE, unit, None)
        edition = db.scalar(sa.select(CatalogEdition).where(CatalogEdition.code == "UOR-2025"))
        if edition is None:
            edition = load_edition(db, TEST_ACTOR, EDITIONS_DIR / "uor-2025.yaml").edition
        ids = db.scalars(
            sa.select(Requirement.id).where(
                Requirement.edition_id == edition.id, Requirement.section == "2.6"
            )
        ).all()
        open_round(
            db,
            purchaser,
            edition=edition,
            title="Omgång med påminnelse",
            year=2025,
            opens_on=dt.date(2025, 1, 1),
            deadline=dt.date(2025, 4, 1),
            selection=RoundSelection(requirement_ids=ids, unit_ids=[unit.id]),
        )
        # After the recurring reports' look-back (1 March + 31 days): only the checklist.
        assert scan(db, dt.date(2025, 4, 10)).emails == 2
        db.commit()
    assert send_pending(factory, settings).sent == 2
    assert sorted(m["To"] for m in inbox.received) == sorted([head.email, staff.email])
    assert all(m["Subject"].startswith("Försenat: Checklistan") for m in inbox.received)


# --- never twice ------------------------------------------------------------------------------


def test_a_crash_between_send_and_mark_never_sends_twice(factory, smtp, clock, monkeypatch):
    inbox = Inbox()
    settings = smtp(inbox)
    _queue(factory)
    real_mark = outbox._mark

    def crash(session, message, token, outcome, error, mid):
        if outcome is outbox._Outcome.SENT:
            raise SystemExit("the sender died after the server took the message")
        return real_mark(session, message, token, outcome, error, mid)

    monkeypatch.setattr(outbox, "_mark", crash)
    with pytest.raises(SystemExit):
        send_pending(factory, settings)
    monkeypatch.setattr(outbox, "_mark", real_mark)
    assert len(inbox.received) == 1
    assert _states(factory) == ["sending"]

    # Another run at once, and after the lease: never sent again, shown as uncertain.
    assert send_pending(factory, settings).sent == 0
    clock.advance(outbox.CLAIM_LEASE + dt.timedelta(minutes=1))
    assert send_pending(factory, settings).sent == 0
    assert _states(factory) == ["uncertain"]
    assert len(inbox.received) == 1

    # The administratör decides to send it again: it goes out once more, same Message-ID.
    with factory() as db:
        message = db.scalar(sa.select(OutboxMessage))
        outbox.retry(db, message)
        db.commit()
    assert send_pending(factory, settings).sent == 1
    assert [m["Message-ID"] for m in inbox.received] == [inbox.received[0]["Message-ID"]] * 2
    assert _states(factory) == ["sent"]


def test_a_temporary_refusal_is_retried_with_back_off(factory, smtp, clock):
    inbox = Inbox(replies=["451 4.3.0 Try again later"])
    settings = smtp(inbox)
    _queue(factory)

    first = send_pending(factory, settings)
    assert (first.sent, first.retried) == (0, 1) and inbox.received == []
    with factory() as db:
        row = db.scalar(sa.select(OutboxMessage))
        assert row.status == OutboxState.QUEUED and row.attempts == 1
        assert row.next_attempt_at == clock.now + outbox.backoff(1)
        assert row.last_error.startswith("451")
    assert send_pending(factory, settings).sent == 0  # not due yet: nothing is tried
    clock.advance(outbox.backoff(1))
    assert send_pending(factory, settings).sent == 1
    assert len(inbox.received) == 1
    # The retry is the same message: the same Message-ID as the refused attempt.
    assert inbox.refused_ids == [inbox.received[0]["Message-ID"]]
    assert _states(factory) == ["sent"]


def test_back_off_doubles_up_to_six_hours():
    assert [outbox.backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert outbox.backoff(30) == dt.timedelta(hours=6)


def test_a_permanent_refusal_fails_at_once(factory, smtp):
    inbox = Inbox(replies=["550 5.1.1 No such user"])
    settings = smtp(inbox)
    _queue(factory)
    assert send_pending(factory, settings).failed == 1
    assert _states(factory) == ["failed"]
    assert send_pending(factory, settings).sent == 0


def test_an_unreachable_server_leaves_the_message_queued(factory, clock):
    _queue(factory)
    settings = SmtpSettings(
        host="127.0.0.1", port=free_port(), sender="a@example.se", starttls=False
    )
    assert send_pending(factory, settings).retried == 1
    assert _states(factory) == ["queued"]


def test_the_same_key_is_queued_once(factory):
    with factory() as db:
        unit = make_unit(db)
        person = _person(db, Role.VERKSAMHETSCHEF, unit, "vera@example.se")
        first = enqueue_email(db, key="samma", user=person, subject="Ett", body="x")
        again = enqueue_email(db, key="samma", user=person, subject="Två", body="y")
        db.commit()
        assert first is not None and again is None
        assert db.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1


def test_two_senders_at_once_send_each_message_once(live, smtp):
    """Two senders on separate engines (two machines) against one database, at once."""
    factory, url = live
    with factory() as db:
        db.execute(sa.delete(OutboxMessage))
        db.commit()
    inbox = Inbox(delay=0.02)
    settings = smtp(inbox)
    ids = _queue(factory, 30)
    start = threading.Barrier(2)
    results, errors = [], []

    def sender():
        engine = make_engine(url)
        try:
            start.wait()
            results.append(send_pending(make_session_factory(engine), settings))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))
        finally:
            engine.dispose()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(r.sent for r in results) and sum(r.sent for r in results) == len(ids)
    assert all(r.sent > 0 for r in results), "both senders should have sent some"
    message_ids = [m["Message-ID"] for m in inbox.received]
    assert len(message_ids) == len(ids) == len(set(message_ids))
    assert _states(factory) == ["sent"] * len(ids)


def test_settings_come_from_the_environment_and_hide_the_password():
    settings = SmtpSettings.from_env(
        {
            "HALSOVAL_SMTP_HOST": "smtp.example.se",
            "HALSOVAL_SMTP_FROM": "uppfoljning@example.se",
            "HALSOVAL_SMTP_USER": "robot",
            "HALSOVAL_SMTP_PASSWORD": "hemligt-lösen",
        }
    )
    assert (settings.port, settings.starttls, settings.domain) == (587, True, "example.se")
    assert "hemligt" not in repr(settings)
    with pytest.raises(ValueError):
        SmtpSettings.from_env({"HALSOVAL_SMTP_HOST": "x"})
    plain = SmtpSettings.from_env(
        {"HALSOVAL_SMTP_HOST": "x", "HALSOVAL_SMTP_FROM": "a@b.se", "HALSOVAL_SMTP_STARTTLS": "0"}
    )
    assert (plain.port, plain.starttls) == (25, False)


def test_the_cron_commands_are_idempotent(live, smtp, monkeypatch):
    """``halsoval deadlines scan`` then ``halsoval outbox send``, each run twice, as cron
    would: one e-mail arrives."""
    from click.testing import CliRunner

    from web.cli import main

    factory, url = live
    with factory() as db:
        db.execute(sa.delete(OutboxMessage))
        unit = make_unit(db)
        _person(db, Role.VERKSAMHETSCHEF, unit, "cron@example.se")
        db.add(
            FollowUpDialog(
                unit_id=unit.id,
                title="Cron",
                status=DialogState.MATERIAL_REQUESTED,
                material_deadline=dt.date(2026, 1, 5),
            )
        )
        db.commit()
    inbox = Inbox()
    settings = smtp(inbox)
    monkeypatch.setenv("HALSOVAL_DATABASE_URL", url)
    monkeypatch.setenv("HALSOVAL_SMTP_HOST", settings.host)
    monkeypatch.setenv("HALSOVAL_SMTP_PORT", str(settings.port))
    monkeypatch.setenv("HALSOVAL_SMTP_STARTTLS", "0")
    monkeypatch.setenv("HALSOVAL_SMTP_FROM", "uppfoljning@example.se")
    monkeypatch.setenv("HALSOVAL_SMTP_PASSWORD", "hemligt-lösen")
    runner = CliRunner()
    outputs = []
    for _ in range(2):
        for args in (["deadlines", "scan", "--today", "2026-01-07"], ["outbox", "send"]):
            result = runner.invoke(main, args)
            assert result.exit_code == 0, result.output
            outputs.append(result.output)
    assert [m["To"] for m in inbox.received] == ["cron@example.se"]
    assert "1 försenade; 1 e-postmeddelanden köade" in outputs[0]
    assert outputs[1].startswith("Skickade: 1,") and outputs[3].startswith("Skickade: 0,")
    assert not any("hemligt" in out for out in outputs)


def test_every_reminder_link_is_a_route_of_the_app():
    from web import create_app
    from workflows.notifications import PATHS

    app = create_app({"SECRET_KEY": "x", "SESSION_FACTORY": lambda: None})
    adapter = app.url_map.bind("localhost")
    for path in filter(None, PATHS.values()):
        adapter.match(path.format(id=1))  # raises NotFound if not a route
    adapter.match("/atgardsplaner/1")  # a measure's reminder links to its plan
