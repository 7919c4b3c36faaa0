"""The deadline scan: reminders a few working days ahead (across a Swedish holiday, with an
injected date), overdue marks, idempotence, and two scans at once."""

import datetime as dt
import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from audit import db as audit_db
from audit.models import Operator, Role, Unit
from tests.conftest import count
from tests.factories import make_unit, make_user
from workflows import action_plan as ap
from workflows import sanction as sc
from workflows.deadlines import ScanResult, scan
from workflows.models import Reminder


@pytest.fixture
def setup(db, monkeypatch):
    monkeypatch.setattr(audit_db, "clock", lambda: dt.datetime(2025, 12, 15, 9, tzinfo=dt.UTC))
    make_unit(db, "byske")
    bo = make_user(db, "bo", (Role.BESTALLARE, None))
    unit = db.scalar(sa.select(Unit).where(Unit.code == "byske"))
    plan = ap.request_action_plan(
        db,
        bo,
        unit,
        title="Plan",
        requirements="Krav",
        plan_due=dt.date(2025, 12, 29),
        measures_due=dt.date(2025, 12, 29),
    )
    case = sc.open_case(db, bo, unit, title="Ärende", grounds="Grund", diarienummer="RS 2025/1")
    sc.SANCTION.fire(db, bo, case, "inform_unit", data={"response_days": 10})
    _two_joint_dialogs(db, bo, dt.date(2025, 12, 16))
    return plan, case


def _two_joint_dialogs(db, bo, day):
    """The year's two joint dialogs planned (§7.1.2), so that only the deadlines under test
    are reminded of (tests/workflows/test_joint_dialog.py has the purchaser's own)."""
    from workflows.joint.operations import plan_joint_dialog

    for theme in ("Våren", "Hösten"):
        plan_joint_dialog(db, bo, meeting_on=day, place="Regionens hus", theme=theme)


def kinds(db):
    return sorted(db.execute(sa.select(Reminder.entity_type, Reminder.kind)).all())


def test_reminders_count_working_days_across_christmas(db, setup):
    plan, case = setup
    # 10 working days from Mon 15 Dec: 16–19, 22, 23, 29, 30 (24–26 and 31 Dec, 1 Jan are
    # holidays), 2 and 5 January.
    assert case.response_deadline == dt.date(2026, 1, 5)
    # 19 Dec: the plan is due 29 Dec, only three working days away (22, 23, 29).
    scan(db, dt.date(2025, 12, 18))
    assert kinds(db) == []
    result = scan(db, dt.date(2025, 12, 19))
    assert (result.due_soon, result.overdue) == (1, 0)
    assert kinds(db) == [("action_plan", "due_soon")]
    # 30 Dec: the plan is overdue, the response (5 Jan) is two working days away.
    scan(db, dt.date(2025, 12, 30))
    assert kinds(db) == [
        ("action_plan", "due_soon"),
        ("action_plan", "overdue"),
        ("sanction_case", "due_soon"),
    ]


def test_scan_is_idempotent(db, setup):
    scan(db, dt.date(2025, 12, 30))
    before = count(db, Reminder)
    again = scan(db, dt.date(2025, 12, 30))
    assert (again.due_soon, again.overdue) == (0, 0) and count(db, Reminder) == before


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_two_scans_at_once_queue_nothing_twice(kind, request, tmp_path_factory):
    """Two sessions scanning the same day (each with its own committed transaction): the unique
    constraint and ON CONFLICT DO NOTHING make the second a no-op, not an error or a duplicate.
    Runs on a database of its own, since it commits."""
    from alembic import command

    from audit.db import make_engine
    from tests.conftest import database_url
    from web.cli import alembic_config

    url = database_url(kind, "halsoval_scan", request, tmp_path_factory)
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    with Session(engine) as db:
        make_unit(db, "scanunit")
        bo = make_user(db, "scan.bo", (Role.BESTALLARE, None))
        unit = db.scalar(sa.select(Unit).where(Unit.code == "scanunit"))
        ap.request_action_plan(
            db,
            bo,
            unit,
            title="P",
            requirements="K",
            plan_due=dt.date.today() + dt.timedelta(days=1),
            measures_due=dt.date.today() + dt.timedelta(days=1),
        )
        _two_joint_dialogs(db, bo, dt.date.today() + dt.timedelta(days=10))
        db.commit()
    day = dt.date.today() + dt.timedelta(days=10)
    results, errors = [], []
    first_has_scanned = threading.Event()

    def run(hold: bool):
        try:
            with Session(engine) as session:
                results.append(scan(session, day))
                if hold:
                    first_has_scanned.set()
                    time.sleep(0.5)  # keep the transaction open while the other one starts
                session.commit()
        except Exception as exc:  # reported below
            errors.append(exc)

    first = threading.Thread(target=run, args=(True,))
    first.start()
    first_has_scanned.wait(10)
    second = threading.Thread(target=run, args=(False,))
    second.start()
    first.join(20)
    second.join(20)
    assert errors == []
    with Session(engine) as db:
        assert count(db, Reminder) == 1
    assert sorted(r.overdue for r in results) == [0, 1]
    engine.dispose()


# --- the sanction case's rättelse period and kommunicering reply time ----------------------


@pytest.fixture
def sanction(db, monkeypatch):
    """A sanction case of a private unit (whose ladder has vite, so rättelse applies), assessed
    on Monday 2 March 2026 (no holiday near), with the clock and people of the sanction tests."""
    from tests.workflows.test_sanction import Clock, new_case, walk

    clock = Clock(dt.date(2026, 3, 2))
    monkeypatch.setattr(audit_db, "clock", clock)
    make_unit(db, "byske", operator=Operator.PRIVAT, provider="Vårdbolaget AB")  # vite, rättelse
    make_unit(db, "backen")
    people = {
        "bo": make_user(db, "bo", (Role.BESTALLARE, None)),
        "greta": make_user(db, "greta", (Role.GRANSKARE, None)),
        "vc": make_user(db, "vc", (Role.VERKSAMHETSCHEF, "byske")),
    }
    case = new_case(db, people)
    walk(db, people, case, clock)
    return case, people, clock


def sanction_scan(db, day):
    """Scan, and count only the sanction case's new reminders (the recurring reports of the
    fixture's units fall due around 1 March too)."""
    kinds = sa.select(Reminder.kind).where(Reminder.entity_type.like("sanction%"))
    before = db.execute(kinds).scalars().all()
    scan(db, day)
    after = db.execute(kinds).scalars().all()
    return ScanResult(
        after.count("due_soon") - before.count("due_soon"),
        after.count("overdue") - before.count("overdue"),
    )


def sanction_reminders(db, entity_type):
    return db.execute(
        sa.select(Reminder.kind, Reminder.due_on, Reminder.text)
        .where(Reminder.entity_type == entity_type)
        .order_by(Reminder.id)
    ).all()


def _rectify(db, people, case, days=5):
    sc.SANCTION.fire(
        db,
        people["bo"],
        case,
        "demand_rectification",
        data={"rectification_demand": "Bemanna enligt §3.1.2.", "rectification_days": days},
    )


def test_the_rectification_deadline_is_reminded_of_once_soon_and_once_late(db, sanction):
    case, people, clock = sanction
    _rectify(db, people, case)
    due = case.rectification_deadline
    assert due == dt.date(2026, 3, 9)  # five working days from Monday 2 March
    assert sanction_scan(db, dt.date(2026, 3, 3)) == ScanResult(0, 0)  # four working days away
    for _ in range(2):  # a second scan the same day, and the next day, queue nothing new
        scan(db, dt.date(2026, 3, 4))
        scan(db, dt.date(2026, 3, 5))
    assert [r[:2] for r in sanction_reminders(db, "sanction_rectification")] == [("due_soon", due)]
    # the last day is still "due soon", queued once
    assert sanction_scan(db, due) == ScanResult(0, 0)
    assert sanction_scan(db, dt.date(2026, 3, 10)) == ScanResult(0, 1)
    assert sanction_scan(db, dt.date(2026, 3, 11)) == ScanResult(0, 0)
    reminders = sanction_reminders(db, "sanction_rectification")
    assert [r[:2] for r in reminders] == [("due_soon", due), ("overdue", due)]
    assert "Rättelseperioden i sanktionsärendet ”Läkarbemanning” löper ut 2026-03-09" in (
        reminders[0].text
    )
    assert "gick ut 2026-03-09" in reminders[1].text
    # The period ended (not rectified): nothing more is queued for it.
    clock.set(dt.date(2026, 3, 10))
    sc.SANCTION.fire(
        db,
        people["greta"],
        case,
        "end_rectification",
        data={"rectified": "no", "rectification_outcome": "Ingen ny rekrytering."},
    )
    scan(db, dt.date(2026, 3, 20))
    assert len(sanction_reminders(db, "sanction_rectification")) == 2


def test_the_kommunicering_reply_deadline_is_reminded_of_once_and_anew_when_extended(db, sanction):
    from tests.workflows.test_sanction import INTENDED

    case, people, clock = sanction
    _rectify(db, people, case)
    clock.set(dt.date(2026, 3, 10))
    sc.SANCTION.fire(
        db,
        people["greta"],
        case,
        "end_rectification",
        data={"rectified": "no", "rectification_outcome": "Ingen ny rekrytering."},
    )
    sc.SANCTION.fire(db, people["bo"], case, "communicate", data=INTENDED)  # 5 working days
    due = case.reply_deadline
    assert due == dt.date(2026, 3, 17)
    assert sanction_scan(db, dt.date(2026, 3, 11)) == ScanResult(0, 0)
    # 13, 16, 17: three days away
    assert sanction_scan(db, dt.date(2026, 3, 12)) == ScanResult(1, 0)
    assert sanction_scan(db, dt.date(2026, 3, 12)) == ScanResult(0, 0)
    assert sanction_scan(db, dt.date(2026, 3, 18)) == ScanResult(0, 1)
    assert sanction_scan(db, dt.date(2026, 3, 19)) == ScanResult(0, 0)
    reminders = sanction_reminders(db, "sanction_reply")
    assert [r[:2] for r in reminders] == [("due_soon", due), ("overdue", due)]
    assert "yttrande över det avsedda beslutet" in reminders[0].text
    assert "(kommunicering)" in reminders[0].text and "gick ut 2026-03-17" in reminders[1].text
    # The reply time is extended by five working days: the new date is reminded of anew.
    clock.set(dt.date(2026, 3, 18))
    sc.SANCTION.fire(
        db, people["bo"], case, "extend_reply", data={"extra_days": 5}, reason="Begärt av enheten."
    )
    extended = case.reply_deadline
    assert extended == dt.date(2026, 3, 24)
    assert sanction_scan(db, dt.date(2026, 3, 19)) == ScanResult(1, 0)
    assert sanction_scan(db, dt.date(2026, 3, 19)) == ScanResult(0, 0)
    # The unit replies in time: its reply deadline is no longer open, nothing is overdue.
    sc.SANCTION.fire(
        db, people["vc"], case, "answer_communication", data={"reply": "Vi invänder mot vitet."}
    )
    assert sanction_scan(db, dt.date(2026, 3, 25)) == ScanResult(0, 0)
    assert [r[:2] for r in sanction_reminders(db, "sanction_reply")] == [
        ("due_soon", due),
        ("overdue", due),
        ("due_soon", extended),
    ]


def test_a_rectification_period_ending_the_day_a_response_was_due_is_still_reminded(
    db, monkeypatch
):
    """Each deadline of a case is a reminder of its own: the unit answered before its response
    deadline (already reminded of), and the rättelse period then set ends that same day."""
    from tests.workflows.test_sanction import Clock, new_case

    clock = Clock(dt.date(2026, 3, 2))
    monkeypatch.setattr(audit_db, "clock", clock)
    make_unit(db, "byske", operator=Operator.PRIVAT, provider="Vårdbolaget AB")  # vite, rättelse
    people = {
        "bo": make_user(db, "bo", (Role.BESTALLARE, None)),
        "greta": make_user(db, "greta", (Role.GRANSKARE, None)),
        "vc": make_user(db, "vc", (Role.VERKSAMHETSCHEF, "byske")),
    }
    case = new_case(db, people)
    sc.SANCTION.fire(db, people["bo"], case, "inform_unit", data={"response_days": 5})
    assert case.response_deadline == dt.date(2026, 3, 9)
    assert sanction_scan(db, dt.date(2026, 3, 4)) == ScanResult(1, 0)  # the response, due soon
    clock.set(dt.date(2026, 3, 5))
    sc.SANCTION.fire(db, people["vc"], case, "respond", data={"response": "Vi rekryterar."})
    sc.SANCTION.fire(db, people["greta"], case, "assess", data={"assessment": "Brist."})
    _rectify(db, people, case, days=2)
    assert case.rectification_deadline == case.response_deadline
    assert sanction_scan(db, dt.date(2026, 3, 5)) == ScanResult(1, 0)
    assert [r[:2] for r in sanction_reminders(db, "sanction_rectification")] == [
        ("due_soon", dt.date(2026, 3, 9))
    ]
