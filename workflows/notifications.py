"""Påminnelser som når fram: whose turn a reminder is, its e-mail, and the start page's list.

The deadline scan (:mod:`workflows.deadlines`) queues a :class:`~workflows.models.Reminder`
when a deadline is near or has passed. :func:`mail_reminders` turns each *new* reminder into
one e-mail per person whose turn it is (:data:`TURN`), through the outbox in the scan's own
transaction; a reminder is e-mailed once, whatever the number of scans (the outbox key is the
reminder's id and the person's). :func:`open_reminders` is the start page's list: the
reminders of the deadlines still open that are the user's to act on.

Whose turn it is follows who may act in the workflow's machine:

========================= ========================================= ==========================
deadline                  what is due                               e-mailed to
========================= ========================================= ==========================
``follow_up_dialog``      the material (§7.1.1)                     verksamhetschef
``action_plan``           the plan, then its measures (§7.1.3)      verksamhetschef
``action_measure``        one measure                               verksamhetschef, personal
``sanction_case``         a response, a reply, a rectification      verksamhetschef
``checklist``             the round's checklist                     verksamhetschef, personal
``case``                  a completion of an ärende                 verksamhetschef, personal
``case_decision``         the purchaser's decision on an ärende     beställare
``case_period``           a period ends (due soon: the unit; passed verksamhetschef / beställare
                          and not closed: the purchaser closes it)
========================= ========================================= ==========================

The unit's people are those with the role on the unit or, for a filial, on its main unit
(§3.9). Only the verksamhetschef may submit material, plans and responses (the machines), so
they alone are reminded of those; staff answer checklists, carry out measures and complete
ärenden with them, so they are reminded too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from audit.access import restrict_to_visible
from audit.models import Role, User
from audit.outbox import (
    Email,
    NotificationKind,
    base_url,
    enqueue_emails,
    region_people,
    unit_people,
)
from workflows.models import Reminder

HEAD = (Role.VERKSAMHETSCHEF,)
UNIT_STAFF = (Role.VERKSAMHETSCHEF, Role.PERSONAL)
PURCHASER = (Role.BESTALLARE,)

# (entity type, reminder kind or None for both) -> (unit roles, region roles)
TURN: dict[tuple[str, str | None], tuple[tuple[Role, ...], tuple[Role, ...]]] = {
    ("follow_up_dialog", None): (HEAD, ()),
    ("action_plan", None): (HEAD, ()),
    ("action_measure", None): (UNIT_STAFF, ()),
    ("sanction_case", None): (HEAD, ()),
    ("checklist", None): (UNIT_STAFF, ()),
    ("case", None): (UNIT_STAFF, ()),
    ("case_decision", None): ((), PURCHASER),
    ("case_period", "due_soon"): (HEAD, ()),
    ("case_period", "overdue"): ((), PURCHASER),
    # The sanction case's rättelse period: the unit rectifies; once it has ended the
    # purchaser assesses whether it was rectified. The reply to a kommunicering is the head's.
    ("sanction_rectification", "due_soon"): (HEAD, ()),
    ("sanction_rectification", "overdue"): ((), PURCHASER),
    ("sanction_reply", None): (HEAD, ()),
    ("in_depth_review", None): (UNIT_STAFF, ()),  # material for a särskild fördjupning
    # Recurring reports (entity id = the unit): given by the unit's own staff.
    ("telephone_report", None): (UNIT_STAFF, ()),
    ("patient_safety_report", None): (HEAD, ()),
    ("assignment_report", None): (UNIT_STAFF, ()),
    ("joint_dialog_year", None): ((), PURCHASER),  # the purchaser's own duty, no unit
}

# Where a reminder's thing is, for the link in the e-mail (checked against the app's routes
# by the tests).
PATHS = {
    "follow_up_dialog": "/dialoger/{id}",
    "action_plan": "/atgardsplaner/{id}",
    "action_measure": None,  # the plan's page: resolved from the measure below
    "sanction_case": "/sanktioner/{id}",
    "checklist": "/checklistor/{id}",
    "case": "/arenden/{id}",
    "case_decision": "/arenden/{id}",
    "case_period": "/arenden/{id}",
    "sanction_rectification": "/sanktioner/{id}",
    "sanction_reply": "/sanktioner/{id}",
    "in_depth_review": "/fordjupningar/{id}",
    "telephone_report": "/arshjul/",
    "patient_safety_report": "/arshjul/",
    "assignment_report": "/arshjul/",
    "joint_dialog_year": "/gemensamma-dialoger/",
}


def turn(entity_type: str, kind: str) -> tuple[tuple[Role, ...], tuple[Role, ...]]:
    """(unit roles, region roles) whose turn a reminder of ``entity_type`` and ``kind`` is."""
    return TURN.get((entity_type, kind)) or TURN.get((entity_type, None)) or ((), ())


def _link(session: Session, reminders: list[Reminder]) -> dict[int, str]:
    from workflows.models import ActionMeasure

    measures = [r.entity_id for r in reminders if r.entity_type == "action_measure"]
    plan_of = (
        dict(
            session.execute(
                sa.select(ActionMeasure.id, ActionMeasure.plan_id).where(
                    ActionMeasure.id.in_(measures)
                )
            ).all()
        )
        if measures
        else {}
    )
    links = {}
    for reminder in reminders:
        if reminder.entity_type == "action_measure":
            path = f"/atgardsplaner/{plan_of.get(reminder.entity_id, 0)}"
        else:
            path = (PATHS.get(reminder.entity_type) or "/").format(id=reminder.entity_id)
        links[reminder.id] = base_url() + path
    return links


SUBJECTS = {
    "due_soon": "Påminnelse: {text}",
    "overdue": "Försenat: {text}",
}


def reminder_email(reminder: Reminder, user: User, link: str) -> Email:
    """The e-mail of one reminder to one person (Swedish, plain text)."""
    subject = SUBJECTS.get(reminder.kind, "{text}").format(text=reminder.text.rstrip("."))
    body = (
        f"Hej {user.display_name},\n\n"
        f"{reminder.text}\n\n"
        f"Sista dag: {reminder.due_on.isoformat()}\n"
        f"Öppna: {link}\n\n"
        "Du får det här brevet eftersom det är din tur att göra något i Hälsoval "
        "uppföljning. Vilka påminnelser du får med e-post väljer du under Mitt konto.\n\n"
        "Hälsoval uppföljning, Region Västerbotten\n"
    )
    kind = NotificationKind.OVERDUE if reminder.kind == "overdue" else NotificationKind.DUE_SOON
    return Email(
        key=f"reminder:{reminder.id}:user:{user.id}",
        user=user,
        subject=subject,
        body=body,
        kind=kind,
    )


def mail_reminders(session: Session, reminders: Iterable[Reminder]) -> int:
    """E-posta påminnelserna to the people whose turn each is (:data:`TURN`), respecting
    their notification settings; returns the number of e-mails queued. Idempotent."""
    reminders = list(reminders)
    if not reminders:
        return 0
    unit_role_sets = {turn(r.entity_type, r.kind)[0] for r in reminders} - {()}
    region_roles = {role for r in reminders for role in turn(r.entity_type, r.kind)[1]}
    unit_ids = {r.unit_id for r in reminders}
    # One query per distinct set of roles (at most two), one per region role.
    people = {roles: unit_people(session, unit_ids, roles) for roles in unit_role_sets}
    by_role = {role: region_people(session, (role,)) for role in region_roles}
    links = _link(session, reminders)
    emails = []
    for reminder in reminders:
        wanted_unit, wanted_region = turn(reminder.entity_type, reminder.kind)
        recipients = list(people.get(wanted_unit, {}).get(reminder.unit_id, []))
        for role in wanted_region:
            recipients.extend(u for u in by_role.get(role, []) if u not in recipients)
        emails.extend(reminder_email(reminder, u, links[reminder.id]) for u in recipients)
    return len(enqueue_emails(session, emails))


def open_reminders(session: Session, user: User, limit: int = 20) -> list[Reminder]:
    """Dina påminnelser: the newest reminder of each deadline still open whose turn is
    ``user``'s (by role, within the units they may see), soonest first."""
    from workflows.deadlines import open_deadlines
    from workflows.joint.operations import joint_dialog_deadlines
    from workflows.reports.operations import report_deadlines

    roles = user.role_set
    types_unit = {t for (t, _k), (unit, _r) in TURN.items() if roles & set(unit)}
    types_region = {t for (t, _k), (_u, region) in TURN.items() if roles & set(region)}
    wanted = types_unit | types_region
    if not wanted:
        return []
    stmt = restrict_to_visible(
        sa.select(Reminder).where(Reminder.entity_type.in_(wanted)),
        user,
        Reminder.unit_id,
    ).order_by(Reminder.due_on, Reminder.id)
    candidates = session.scalars(stmt).all()
    if not candidates:
        return []
    today = dt.date.today()
    still_open = {
        (d.entity_type, d.entity_id, d.due_on)
        for d in (
            *open_deadlines(session),
            *report_deadlines(session, today),
            *joint_dialog_deadlines(session, today),
        )
    }
    newest: dict[tuple, Reminder] = {}
    for reminder in candidates:
        unit_roles, region_roles = turn(reminder.entity_type, reminder.kind)
        if not roles & (set(unit_roles) | set(region_roles)):
            continue
        key = (reminder.entity_type, reminder.entity_id, reminder.due_on)
        if key not in still_open:
            continue
        if key not in newest or reminder.kind == "overdue":
            newest[key] = reminder
    return sorted(newest.values(), key=lambda r: (r.due_on, r.id))[:limit]
