"""The deadline scan: reminders a few working days ahead (across a Swedish holiday, with an
injected date), overdue marks, idempotence, and two scans at once."""

import datetime as dt
import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from audit import db as audit_db
from audit.models import Role, Unit
from tests.conftest import count
from tests.factories import make_unit, make_user
from workflows import action_plan as ap
from workflows import sanction as sc
from workflows.deadlines import scan
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
