"""Operations of the gemensam dialog (§7.1.2) outside its transitions: planning a meeting, who
the agenda goes to, attendance per unit, follow-ups from the minutes that become findings, the
"minst två gånger per år" count and its reminder, and the annual analysis's query (§7.1.4)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from audit.models import Operator, Role, RoleAssignment, Unit, UnitKind, User
from audit.trail import Actor, record
from checklists.answers import Status
from checklists.models import Requirement, Severity
from checklists.operations.common import FINDING_STATUSES
from checklists.rounds import Finding
from workflows.deadlines import Deadline
from workflows.engine import WorkflowError
from workflows.joint import machine as m
from workflows.joint.models import (
    Attendance,
    FollowUpState,
    JointDialog,
    JointDialogAttendance,
    JointDialogState,
    JointFollowUp,
)

S = JointDialogState
REQUIRED_PER_YEAR = 2  # §7.1.2: "Minst två gånger per år"
# From 1 September the purchaser is reminded when fewer than two joint dialogs are held or
# planned for the year: a spring meeting should be behind them by then and the autumn one
# planned; July and August are the holiday months when nothing gets booked, and the four
# months left still give time to plan one, send its agenda in advance and hold it.
REMIND_FROM = (9, 1)
ATTENDANCE_STATES = (S.AGENDA_SENT, S.HELD, S.MINUTES_WRITTEN)
FOLLOW_UP_STATES = (S.HELD, S.MINUTES_WRITTEN, S.MINUTES_PUBLISHED)
EGENREGI_PROVIDER = "Region Västerbotten (egen regi)"


class AttendanceRefused(WorkflowError):
    """Attendance that cannot be saved: ``errors`` maps (unit id, field) to a Swedish message."""

    def __init__(self, errors: dict[tuple[int, str], str]) -> None:
        count = len(errors)
        super().__init__(
            "Närvaron har inte sparats: "
            + ("en uppgift behöver rättas." if count == 1 else f"{count} uppgifter behöver rättas.")
        )
        self.errors = errors


def _clean(text) -> str:
    return " ".join(str(text or "").split())


def _purchaser(user: User, what: str) -> None:
    if not user.has_role(Role.BESTALLARE):
        raise WorkflowError(f"Bara beställare kan {what}.")


def plan_joint_dialog(
    session: Session, user: User, *, meeting_on: dt.date | None, place: str, theme: str
) -> JointDialog:
    """Planera en gemensam dialog: a date (today or later), a place and a theme."""
    _purchaser(user, "planera en gemensam dialog")
    theme, place = _clean(theme), _clean(place)
    errors = _plan_errors(meeting_on, place, theme)
    if errors:
        raise PlanRefused(errors)
    joint = JointDialog(
        meeting_on=meeting_on, place=place, theme=theme, created_by_id=user.id, status=S.PLANNED
    )
    session.add(joint)
    session.flush()
    record(
        session,
        Actor.of(user),
        "joint_dialog",
        joint.id,
        "create",
        after={
            "meeting_on": meeting_on.isoformat(),
            "place": place,
            "theme": theme,
            "status": S.PLANNED.value,
        },
    )
    return joint


REPLAN_STATES = (S.PLANNED, S.AGENDA_WRITTEN)


def _plan_errors(meeting_on, place: str, theme: str) -> dict[str, str]:
    errors = {}
    if not isinstance(meeting_on, dt.date):
        errors["meeting_on"] = "Ange mötesdagen."
    elif meeting_on < m.today():
        errors["meeting_on"] = "Mötesdagen kan inte ha passerat."
    if not place:
        errors["place"] = "Ange plats eller länk för mötet."
    if not theme:
        errors["theme"] = "Ange mötets tema."
    return errors


def replan_joint_dialog(
    session: Session,
    user: User,
    joint: JointDialog,
    *,
    meeting_on: dt.date | None,
    place: str,
    theme: str,
) -> bool:
    """Ändra datum, plats eller tema — until the agenda is sent (after that the providers'
    representatives have the date: cancel and plan anew). One audit event with what changed;
    returns whether anything did."""
    _purchaser(user, "ändra en gemensam dialog")
    if joint.status not in REPLAN_STATES:
        raise WorkflowError(
            "Datum, plats och tema ändras bara innan agendan har sänts ut; ställ in mötet och "
            "planera ett nytt."
        )
    theme, place = _clean(theme), _clean(place)
    errors = _plan_errors(meeting_on, place, theme)
    if errors:
        raise PlanRefused(errors)
    before = {
        "meeting_on": joint.meeting_on.isoformat(),
        "place": joint.place,
        "theme": joint.theme,
    }
    after = {"meeting_on": meeting_on.isoformat(), "place": place, "theme": theme}
    changed = {k for k in after if after[k] != before[k]}
    if not changed:
        return False
    joint.meeting_on, joint.place, joint.theme = meeting_on, place, theme
    session.flush()
    record(
        session,
        Actor.of(user),
        "joint_dialog",
        joint.id,
        "replan",
        before={k: before[k] for k in sorted(changed)},
        after={k: after[k] for k in sorted(changed)},
    )
    return True


class PlanRefused(WorkflowError):
    """A plan that cannot be saved: ``errors`` maps each field to a Swedish message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()), guard=next(iter(errors)))
        self.errors = errors


# --- who is invited --------------------------------------------------------------------------


def invited_units(session: Session) -> list[int]:
    """Every provider's unit: the active hälsocentraler and sjukstugor (a filial is
    represented by its main unit's head, §3.9), by name."""
    return list(
        session.scalars(
            sa.select(Unit.id)
            .where(Unit.active.is_(True), Unit.kind != UnitKind.FILIAL)
            .order_by(Unit.name, Unit.id)
        )
    )


def agenda_recipients(session: Session) -> list[tuple[int, int]]:
    """(unit id, user id) of every active verksamhetschef of an invited unit — the providers'
    representatives the agenda goes to — in one query."""
    return [
        (unit_id, user_id)
        for unit_id, user_id in session.execute(
            sa.select(RoleAssignment.unit_id, RoleAssignment.user_id)
            .join(Unit, Unit.id == RoleAssignment.unit_id)
            .join(User, User.id == RoleAssignment.user_id)
            .where(
                RoleAssignment.role == Role.VERKSAMHETSCHEF,
                User.active.is_(True),
                Unit.active.is_(True),
                Unit.kind != UnitKind.FILIAL,
            )
            .order_by(Unit.name, Unit.id, User.display_name, User.id)
        )
    ]


# --- attendance ------------------------------------------------------------------------------


def record_attendance(
    session: Session, user: User, joint: JointDialog, entries: dict[int, dict]
) -> int:
    """Registrera närvaro per inbjuden enhet: attended (by whom), represented by someone else
    (name and role), or absent (with the reason). ``entries`` maps a unit id to ``status``,
    ``name``, ``role_title`` and ``absence_reason``; an empty status leaves the unit
    unrecorded. All or nothing; one audit event with what changed. Returns how many changed."""
    _purchaser(user, "registrera närvaron")
    if joint.status not in ATTENDANCE_STATES:
        raise WorkflowError(
            "Närvaron registreras när agendan är utsänd och fram till att protokollet publiceras."
        )
    rows = {
        row.unit_id: row
        for row in session.scalars(
            sa.select(JointDialogAttendance).where(
                JointDialogAttendance.joint_dialog_id == joint.id
            )
        )
    }
    errors: dict[tuple[int, str], str] = {}
    wanted: dict[int, tuple] = {}
    for unit_id, entry in entries.items():
        if unit_id not in rows:
            continue
        raw = str(entry.get("status") or "")
        name = _clean(entry.get("name")) or None
        role_title = _clean(entry.get("role_title")) or None
        reason = _clean(entry.get("absence_reason")) or None
        try:
            status = Attendance(raw) if raw else None
        except ValueError:
            errors[(unit_id, "status")] = "Välj deltog, företrädd eller frånvarande."
            continue
        if status is None and rows[unit_id].status is not None and joint.status != S.AGENDA_SENT:
            # The meeting was held with every unit's attendance known; it can be corrected,
            # not removed.
            errors[(unit_id, "status")] = "Välj deltog, företrädd eller frånvarande."
        if status in (Attendance.ATTENDED, Attendance.REPRESENTED) and not name:
            errors[(unit_id, "name")] = "Ange namnet på den som deltog."
        if status == Attendance.REPRESENTED and not role_title:
            errors[(unit_id, "role_title")] = "Ange rollen hos den som företrädde enheten."
        if status == Attendance.ABSENT and not reason:
            errors[(unit_id, "absence_reason")] = "Ange skälet till frånvaron."
        if status != Attendance.ABSENT:
            reason = None
        if status in (None, Attendance.ABSENT):
            name = role_title = None
        wanted[unit_id] = (status, name, role_title, reason)
    if errors:
        raise AttendanceRefused(errors)
    codes = dict(
        session.execute(sa.select(Unit.id, Unit.code).where(Unit.id.in_(list(wanted)))).all()
    )
    before, after = {}, {}
    for unit_id, values in wanted.items():
        row = rows[unit_id]
        old = (row.status, row.name, row.role_title, row.absence_reason)
        if old == values:
            continue
        row.status, row.name, row.role_title, row.absence_reason = values
        before[codes[unit_id]] = _attendance_plain(old)
        after[codes[unit_id]] = _attendance_plain(values)
    if not after:
        return 0
    session.flush()
    record(
        session, Actor.of(user), "joint_dialog", joint.id, "attendance", before=before, after=after
    )
    return len(after)


def _attendance_plain(values: tuple) -> dict:
    status, name, role_title, reason = values
    return {
        "status": status and status.value,
        "name": name,
        "role_title": role_title,
        "absence_reason": reason,
    }


# --- follow-ups and the findings they become -------------------------------------------------


def add_follow_up(
    session: Session, user: User, joint: JointDialog, text: str, unit: Unit | None = None
) -> JointFollowUp:
    """Lägg till en uppföljningspunkt från mötet, for one unit or for all."""
    _purchaser(user, "lägga till uppföljningspunkter")
    if joint.status not in FOLLOW_UP_STATES:
        raise WorkflowError(
            "Uppföljningspunkter läggs till efter mötet och innan dialogen avslutas."
        )
    text = str(text or "").strip()
    if not text:
        raise WorkflowError("Beskriv vad som ska följas upp.", guard="text")
    follow_up = JointFollowUp(
        dialog=joint, text=text, unit_id=unit.id if unit else None, created_by_id=user.id
    )
    session.add(follow_up)
    session.flush()
    record(
        session,
        Actor.of(user),
        "joint_dialog",
        joint.id,
        "follow_up",
        after={"follow_up": follow_up.id, "text": text, "unit": unit.code if unit else None},
    )
    return follow_up


def _open_follow_up(joint: JointDialog, follow_up: JointFollowUp) -> None:
    if follow_up.joint_dialog_id != joint.id:
        raise WorkflowError("Uppföljningspunkten hör inte till den här dialogen.")
    if joint.status not in FOLLOW_UP_STATES:
        raise WorkflowError("Uppföljningspunkter hanteras efter mötet och innan dialogen avslutas.")
    if follow_up.status != FollowUpState.OPEN:
        raise WorkflowError("Uppföljningspunkten är redan hanterad.")


def make_finding(
    session: Session,
    user: User,
    joint: JointDialog,
    follow_up: JointFollowUp,
    *,
    unit: Unit | None,
    requirement: Requirement | None,
    status: Status | str | None,
    severity: Severity | str | None,
    statement: str,
) -> Finding:
    """Gör en iakttagelse av uppföljningspunkten: a finding for one unit against a requirement
    of the rulebook, which then goes on like any other (dialog, action plan, sanction). Linked
    both ways: the follow-up names the finding, and the finding's audit event names the
    dialog and the follow-up."""
    _purchaser(user, "göra en iakttagelse")
    _open_follow_up(joint, follow_up)
    errors = {}
    if unit is None:
        errors["finding_unit"] = "Välj enheten som iakttagelsen gäller."
    if requirement is None:
        errors["requirement"] = "Välj kravet i regelboken som inte är uppfyllt."
    try:
        status = Status(status) if status else None
    except ValueError:
        status = None
    if status not in FINDING_STATUSES:
        errors["finding_status"] = "Välj delvis uppfyllt eller ej uppfyllt."
    try:
        severity = Severity(severity) if severity else None
    except ValueError:
        severity = None
    statement = str(statement or "").strip()
    if not statement:
        errors["statement"] = "Beskriv iakttagelsen."
    if errors:
        raise PlanRefused(errors)
    finding = Finding(
        item_id=None,
        round_id=None,
        unit_id=unit.id,
        requirement_id=requirement.id,
        status=status,
        severity=severity or requirement.severity,
        statement=statement,
        created_by_id=user.id,
    )
    session.add(finding)
    session.flush()
    follow_up.status = FollowUpState.FINDING
    follow_up.finding_id = finding.id
    session.flush()
    actor = Actor.of(user)
    record(
        session,
        actor,
        "finding",
        finding.id,
        "create",
        after={
            "unit_id": unit.id,
            "requirement": requirement.code,
            "status": str(status),
            "severity": str(finding.severity),
            "statement": statement,
            "joint_dialog": joint.id,
            "follow_up": follow_up.id,
        },
    )
    record(
        session,
        actor,
        "joint_dialog",
        joint.id,
        "follow_up_finding",
        before={"follow_up": follow_up.id, "status": FollowUpState.OPEN.value},
        after={
            "follow_up": follow_up.id,
            "status": FollowUpState.FINDING.value,
            "finding": finding.id,
            "unit": unit.code,
        },
    )
    return finding


def resolve_follow_up(
    session: Session, user: User, joint: JointDialog, follow_up: JointFollowUp, note: str
) -> None:
    """Markera en uppföljningspunkt som hanterad utan iakttagelse, with what was done."""
    _purchaser(user, "hantera uppföljningspunkter")
    _open_follow_up(joint, follow_up)
    note = str(note or "").strip()
    if not note:
        raise WorkflowError("Ange hur punkten har hanterats.", guard="note")
    follow_up.status = FollowUpState.DONE
    follow_up.note = note
    session.flush()
    record(
        session,
        Actor.of(user),
        "joint_dialog",
        joint.id,
        "follow_up_done",
        before={"follow_up": follow_up.id, "status": FollowUpState.OPEN.value},
        after={"follow_up": follow_up.id, "status": FollowUpState.DONE.value, "note": note},
    )


def follow_up_sources(session: Session, finding_ids) -> dict[int, tuple[int, dt.date, str]]:
    """finding id → (joint dialog id, meeting day, theme) for the findings raised from a joint
    dialog's follow-up: the way back from a finding, in one query."""
    ids = list(finding_ids)
    if not ids:
        return {}
    return {
        finding_id: (joint_id, meeting_on, theme)
        for finding_id, joint_id, meeting_on, theme in session.execute(
            sa.select(
                JointFollowUp.finding_id, JointDialog.id, JointDialog.meeting_on, JointDialog.theme
            )
            .join(JointDialog, JointDialog.id == JointFollowUp.joint_dialog_id)
            .where(JointFollowUp.finding_id.in_(ids))
        )
    }


# --- "minst två gånger per år" --------------------------------------------------------------


def held_or_planned(session: Session, year: int) -> int:
    """How many joint dialogs are planned or held for ``year`` (not the cancelled ones)."""
    return session.scalar(
        sa.select(sa.func.count()).where(
            JointDialog.meeting_on >= dt.date(year, 1, 1),
            JointDialog.meeting_on <= dt.date(year, 12, 31),
            JointDialog.status != S.CANCELLED,
        )
    )


def year_shortfall(session: Session, year: int) -> int:
    """How many more joint dialogs ``year`` needs to reach the rulebook's two (0 if none)."""
    return max(0, REQUIRED_PER_YEAR - held_or_planned(session, year))


def joint_dialog_deadlines(session: Session, today: dt.date) -> list[Deadline]:
    """The purchaser's own deadline for the deadline scan: from :data:`REMIND_FROM`, when
    fewer than two joint dialogs are held or planned for the year, one reminder (the scan's
    unique key is the year, so it is queued once however often the scan runs)."""
    if (today.month, today.day) < REMIND_FROM:
        return []
    have = held_or_planned(session, today.year)
    if have >= REQUIRED_PER_YEAR:
        return []
    end = dt.date(today.year, 12, 31)
    text = (
        f"Minst två gemensamma dialoger med verksamhetsföreträdarna ska hållas per år (§7.1.2); "
        f"för {today.year} är {have} planerad{'e' if have != 1 else ''} eller hållen"
        f"{'a' if have != 1 else ''}. Planera {REQUIRED_PER_YEAR - have} till före {end}."
    )
    return [
        Deadline(
            "joint_dialog_year",
            today.year,
            None,
            end,
            text,
            remind_days=366,  # due soon from REMIND_FROM to the year's end
            texts=(text, text),
        )
    ]


# --- the annual analysis (§7.1.4) -------------------------------------------------------------


@dataclasses.dataclass
class JointDialogSummary:
    """One joint dialog of the year for the samlad årlig analys (§7.1.4)."""

    id: int
    meeting_on: dt.date
    theme: str
    status: JointDialogState
    # provider (vårdgivare, or the region's own production) → attendance status → units
    attendance: dict[str, dict[str, int]]
    follow_ups: list[dict]


def provider_label(operator: Operator, provider: str | None) -> str:
    if operator == Operator.PRIVAT and provider:
        return provider
    return EGENREGI_PROVIDER if operator == Operator.EGENREGI else (provider or "Privat")


def joint_dialogs_for_year(session: Session, year: int) -> list[JointDialogSummary]:
    """Every joint dialog of ``year`` with its date, state, attendance counted per provider
    (``attended``, ``represented``, ``absent``, ``not_recorded``) and its follow-ups with the
    finding each became — in three queries, whatever the number of dialogs or units."""
    dialogs = session.execute(
        sa.select(JointDialog.id, JointDialog.meeting_on, JointDialog.theme, JointDialog.status)
        .where(
            JointDialog.meeting_on >= dt.date(year, 1, 1),
            JointDialog.meeting_on <= dt.date(year, 12, 31),
        )
        .order_by(JointDialog.meeting_on, JointDialog.id)
    ).all()
    summaries = {
        row.id: JointDialogSummary(row.id, row.meeting_on, row.theme, row.status, {}, [])
        for row in dialogs
    }
    if not summaries:
        return []
    for joint_id, operator, provider, status, n in session.execute(
        sa.select(
            JointDialogAttendance.joint_dialog_id,
            Unit.operator,
            Unit.provider,
            JointDialogAttendance.status,
            sa.func.count(),
        )
        .join(Unit, Unit.id == JointDialogAttendance.unit_id)
        .where(JointDialogAttendance.joint_dialog_id.in_(list(summaries)))
        .group_by(
            JointDialogAttendance.joint_dialog_id,
            Unit.operator,
            Unit.provider,
            JointDialogAttendance.status,
        )
    ):
        counts = summaries[joint_id].attendance.setdefault(
            provider_label(operator, provider),
            {"attended": 0, "represented": 0, "absent": 0, "not_recorded": 0},
        )
        counts[status.value if status else "not_recorded"] += n
    for row in session.execute(
        sa.select(
            JointFollowUp.joint_dialog_id,
            JointFollowUp.id,
            JointFollowUp.text,
            JointFollowUp.status,
            JointFollowUp.finding_id,
            Unit.code,
        )
        .outerjoin(Unit, Unit.id == JointFollowUp.unit_id)
        .where(JointFollowUp.joint_dialog_id.in_(list(summaries)))
        .order_by(JointFollowUp.id)
    ):
        summaries[row.joint_dialog_id].follow_ups.append(
            {
                "id": row.id,
                "text": row.text,
                "status": row.status.value,
                "finding_id": row.finding_id,
                "unit": row.code,
            }
        )
    return list(summaries.values())
