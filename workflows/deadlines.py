"""Bevakning av tidsgränser: the scheduled deadline scan.

``scan`` looks at every open deadline — material for a follow-up dialog, an action plan and its
measures, a sanction case's response time, a checklist's last day, an ärende's completion, the
decision an application needs before its start, and the end of a case's period (a list stop
ends, §4.9.2) — and queues a reminder when the deadline is a few working days away
(``due_soon``; each deadline may say how many) and when it has passed (``overdue``).
Reminders are unique per thing, kind and date, and inserted with ON CONFLICT DO NOTHING, so the
scan is idempotent and two scans at once cannot queue anything twice. Cron-friendly:
``halsoval deadlines scan``. Each new reminder is e-mailed to the people whose turn it is
(:mod:`workflows.notifications`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from checklists.rounds import Checklist, ChecklistStatus, Round
from checklists.workdays import working_days_between
from workflows.models import (
    ActionMeasure,
    ActionPlan,
    DialogState,
    FollowUpDialog,
    PlanState,
    Reminder,
    SanctionCase,
    SanctionState,
)

REMIND_WORKING_DAYS = 3
_PG_SCAN_LOCK = 7_141_971_302


def _lock(session: Session) -> None:
    """Serialise scans: a second scan waits for the first and then finds nothing new.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: take the write lock before reading
    (a write statement as the transaction's first), so the wait happens before any snapshot.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_SCAN_LOCK})
    else:
        session.execute(sa.update(Reminder).where(Reminder.id == -1).values(kind="due_soon"))


@dataclasses.dataclass(frozen=True)
class Deadline:
    entity_type: str
    entity_id: int
    unit_id: int
    due_on: dt.date
    what: str
    remind_days: int = REMIND_WORKING_DAYS
    # (due soon, overdue) sentences when "… ska vara klar" does not fit (a period that ends)
    texts: tuple[str, str] | None = None


def open_deadlines(session: Session) -> list[Deadline]:
    """Every deadline still to be met, in a handful of set-based queries."""
    found: list[Deadline] = []
    for row in session.execute(
        sa.select(
            FollowUpDialog.id,
            FollowUpDialog.unit_id,
            FollowUpDialog.material_deadline,
            FollowUpDialog.title,
        ).where(FollowUpDialog.status == DialogState.MATERIAL_REQUESTED)
    ):
        found.append(
            Deadline(
                "follow_up_dialog",
                row[0],
                row[1],
                row[2],
                f"Underlag till uppföljningsdialogen ”{row[3]}”",
            )
        )
    # A plan is due from the unit twice: handed in by plan_due, carried out by measures_due.
    for state_in, column, what in (
        ((PlanState.REQUESTED, PlanState.RETURNED), ActionPlan.plan_due, "Åtgärdsplanen"),
        ((PlanState.APPROVED,), ActionPlan.measures_due, "Åtgärderna i planen"),
    ):
        for row in session.execute(
            sa.select(ActionPlan.id, ActionPlan.unit_id, column, ActionPlan.title).where(
                ActionPlan.status.in_(state_in)
            )
        ):
            found.append(Deadline("action_plan", row[0], row[1], row[2], f"{what} ”{row[3]}”"))
    for row in session.execute(
        sa.select(
            ActionMeasure.id, ActionPlan.unit_id, ActionMeasure.due_date, ActionMeasure.description
        )
        .join(ActionPlan)
        .where(ActionMeasure.done_on.is_(None), ActionPlan.status == PlanState.APPROVED)
    ):
        found.append(Deadline("action_measure", row[0], row[1], row[2], f"Åtgärden ”{row[3]}”"))
    for state, column, what in (
        (SanctionState.INFORMED, SanctionCase.response_deadline, "Yttrande i sanktionsärendet"),
        (
            SanctionState.COMMUNICATED,
            SanctionCase.reply_deadline,
            "Yttrande över det avsedda beslutet i sanktionsärendet",
        ),
        (
            SanctionState.RECTIFICATION,
            SanctionCase.rectification_deadline,
            "Rättelse i sanktionsärendet",
        ),
    ):
        for row in session.execute(
            sa.select(SanctionCase.id, SanctionCase.unit_id, column, SanctionCase.title).where(
                SanctionCase.status == state
            )
        ):
            found.append(Deadline("sanction_case", row[0], row[1], row[2], f"{what} ”{row[3]}”"))
    # A unit's extended deadline (Checklist.deadline) wins over the round's.
    for row in session.execute(
        sa.select(
            Checklist.id,
            Checklist.unit_id,
            sa.func.coalesce(Checklist.deadline, Round.deadline),
            Round.title,
        )
        .join(Round)
        .where(Checklist.status.in_([ChecklistStatus.OPEN, ChecklistStatus.RETURNED]))
    ):
        found.append(Deadline("checklist", row[0], row[1], row[2], f"Checklistan ”{row[3]}”"))
    found.extend(case_deadlines(session))
    return found


def case_deadlines(session: Session) -> list[Deadline]:
    """Ärendenas tidsgränser: a completion asked for, a decision needed before the change an
    application is for, and the end of a period in effect (with the type's own lead time)."""
    from workflows.cases.models import Case, CaseState
    from workflows.cases.operations import decision_due
    from workflows.cases.types import case_type

    found: list[Deadline] = []
    rows = session.scalars(
        sa.select(Case).where(
            Case.status.in_(
                [CaseState.COMPLETION_REQUESTED, CaseState.SUBMITTED, CaseState.IN_EFFECT]
            )
        )
    )
    for case in rows:
        kind = case_type(case.kind)
        if case.status == CaseState.COMPLETION_REQUESTED and case.completion_deadline:
            found.append(
                Deadline(
                    "case",
                    case.id,
                    case.unit_id,
                    case.completion_deadline,
                    f"Kompletteringen av ärendet ”{case.title}”",
                )
            )
        elif case.status == CaseState.SUBMITTED and (due := decision_due(case)):
            found.append(
                Deadline(
                    "case_decision",
                    case.id,
                    case.unit_id,
                    due,
                    case.title,
                    texts=(
                        f"Beslut behövs i ärendet ”{case.title}” senast {due.isoformat()}, "
                        f"före {kind.period_from_label.lower()} {case.period_from.isoformat()}.",
                        f"Beslutet i ärendet ”{case.title}” skulle ha fattats senast "
                        f"{due.isoformat()}, före {case.period_from.isoformat()}.",
                    ),
                )
            )
        elif case.status == CaseState.IN_EFFECT and kind.end_reminder_days:
            end = case.period[1]
            if end is None:
                continue
            found.append(
                Deadline(
                    "case_period",
                    case.id,
                    case.unit_id,
                    end,
                    case.title,
                    remind_days=kind.end_reminder_days,
                    texts=(
                        f"{kind.label} gäller till och med {end.isoformat()} "
                        f"({case.title}, {kind.section_label}).",
                        f"{kind.label} upphörde {end.isoformat()}: avsluta ärendet ”{case.title}”.",
                    ),
                )
            )
    return found


@dataclasses.dataclass
class ScanResult:
    due_soon: int = 0
    overdue: int = 0
    emails: int = 0


def scan(session: Session, today: dt.date) -> ScanResult:
    """Köa påminnelser for deadlines within REMIND_WORKING_DAYS working days, and for those
    that have passed, and e-mail each new reminder to the people whose turn it is
    (:func:`workflows.notifications.mail_reminders`, through the outbox in this transaction).
    Safe to run any number of times, also concurrently: only reminders this scan inserted are
    e-mailed, and each e-mail's outbox key is unique."""
    from workflows.notifications import mail_reminders

    _lock(session)
    rows = []
    for deadline in open_deadlines(session):
        soon, late = deadline.texts or (
            f"{deadline.what} ska vara klar senast {deadline.due_on}.",
            f"{deadline.what} skulle vara klar {deadline.due_on}.",
        )
        if deadline.due_on < today:
            kind, text = "overdue", late
        elif working_days_between(today, deadline.due_on) <= deadline.remind_days:
            kind, text = "due_soon", soon
        else:
            continue
        rows.append(
            {
                "entity_type": deadline.entity_type,
                "entity_id": deadline.entity_id,
                "unit_id": deadline.unit_id,
                "kind": kind,
                "due_on": deadline.due_on,
                "text": text,
                "created_at": dt.datetime.now(dt.UTC),
            }
        )
    result = ScanResult()
    if not rows:
        return result
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Reminder)
    statement = insert.on_conflict_do_nothing(
        index_elements=["entity_type", "entity_id", "kind", "due_on"]
    ).returning(Reminder)
    new = list(session.scalars(statement, rows))
    for reminder in new:
        if reminder.kind == "overdue":
            result.overdue += 1
        else:
            result.due_soon += 1
    result.emails = mail_reminders(session, new)
    return result
