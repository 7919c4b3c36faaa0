"""Bevakning av tidsgränser: the scheduled deadline scan.

``scan`` looks at every open deadline — material for a follow-up dialog, an action plan and its
measures, a sanction case's response time, rättelse period and reply time to an intended
decision (kommunicering), a checklist's last day, an ärende's completion, the decision an
application needs before its start, the end of a case's period (a list stop ends, §4.9.2), the
recurring reports still missing (the telephone report §6.9, the patient-safety report §2.6, the
tilläggsuppdrag annual reports) and the purchaser's own two joint dialogs a year (§7.1.2, from
1 September when fewer are held or planned) — and queues a reminder when the deadline is a few
working days away (``due_soon``; each deadline may say how many) and when it has passed
(``overdue``).
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
    unit_id: int | None  # None: the purchaser's own duty, no unit's
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
    found.extend(sanction_deadlines(session))
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
    found.extend(review_deadlines(session))
    return found


def review_deadlines(session: Session) -> list[Deadline]:
    """Underlag begärt i en särskild fördjupning (§7.1.3): the unit's deadline."""
    from workflows.reviews.models import InDepthReview, ReviewState

    return [
        Deadline(
            "in_depth_review",
            row[0],
            row[1],
            row[2],
            f"Underlaget till den särskilda fördjupningen ”{row[3]}”",
        )
        for row in session.execute(
            sa.select(
                InDepthReview.id,
                InDepthReview.unit_id,
                InDepthReview.material_deadline,
                InDepthReview.title,
            ).where(InDepthReview.status == ReviewState.MATERIAL_REQUESTED)
        )
    ]


# The sanction case's three deadlines (§7.1.3; förvaltningslagen 25 § for the kommunicering),
# each with an entity type of its own: they are different deadlines of one case, and a reminder
# is unique per entity type, id, kind and date -- a rättelse period ending the day a response
# was due must still be reminded of.
SANCTION_DEADLINES = (
    (
        SanctionState.INFORMED,
        SanctionCase.response_deadline,
        "sanction_case",
        "Enhetens yttrande i sanktionsärendet ”{title}” ska ha kommit in senast {due}.",
        "Svarstiden för enhetens yttrande i sanktionsärendet ”{title}” gick ut {due}.",
    ),
    (
        SanctionState.RECTIFICATION,
        SanctionCase.rectification_deadline,
        "sanction_rectification",
        "Rättelseperioden i sanktionsärendet ”{title}” löper ut {due}: bristen ska vara rättad.",
        "Rättelseperioden i sanktionsärendet ”{title}” gick ut {due}: bedöm om bristen har "
        "rättats och avsluta perioden.",
    ),
    (
        SanctionState.COMMUNICATED,
        SanctionCase.reply_deadline,
        "sanction_reply",
        "Enhetens yttrande över det avsedda beslutet i sanktionsärendet ”{title}” ska ha kommit "
        "in senast {due} (kommunicering).",
        "Svarstiden för enhetens yttrande över det avsedda beslutet i sanktionsärendet "
        "”{title}” gick ut {due}.",
    ),
)


def sanction_deadlines(session: Session) -> list[Deadline]:
    """Sanktionsärendets tidsgränser (§7.1.3): the unit's response to the grounds, the
    rättelse period before vite or hävning, and the reply to the intended decision
    (kommunicering) -- each only while the case waits for it, and at its current date (an
    extended reply time is reminded of anew)."""
    found: list[Deadline] = []
    for state, column, entity_type, soon, late in SANCTION_DEADLINES:
        for case_id, unit_id, due, title in session.execute(
            sa.select(SanctionCase.id, SanctionCase.unit_id, column, SanctionCase.title).where(
                SanctionCase.status == state, column.is_not(None)
            )
        ):
            texts = tuple(t.format(title=title, due=due.isoformat()) for t in (soon, late))
            found.append(Deadline(entity_type, case_id, unit_id, due, title, texts=texts))
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
    from workflows.joint.operations import joint_dialog_deadlines
    from workflows.notifications import mail_reminders
    from workflows.reports.operations import report_deadlines

    _lock(session)

    rows = []
    for deadline in [
        *open_deadlines(session),
        *report_deadlines(session, today),
        *joint_dialog_deadlines(session, today),
    ]:
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
