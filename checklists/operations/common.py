"""What every checklist operation shares: the refusal, the checklist's state machine, who may
do what, the personnummer guard and the evaluation context."""

from __future__ import annotations

from transitions import Machine, MachineError

from audit.models import Role, User
from checklists import pii
from checklists.answers import AnswerError, Context, Status
from checklists.rounds import Checklist, ChecklistItem, ChecklistStatus

FINDING_STATUSES = (Status.PARTLY_COMPLIANT, Status.NON_COMPLIANT)
REVIEWER_ROLES = (Role.BESTALLARE, Role.GRANSKARE)


class ChecklistError(ValueError):
    """A refused operation; the message is Swedish and safe to show."""


class Incomplete(ChecklistError):
    """Submitting or accepting refused because items are missing; ``items`` lists them (in the
    rulebook's order) so the page can link to each."""

    def __init__(self, message: str, items: list[ChecklistItem]):
        super().__init__(message)
        self.items = items


# One machine for every checklist row: nothing is attached to the rows themselves.
CHECKLIST_MACHINE = Machine(
    model=None,
    states=ChecklistStatus,
    initial=ChecklistStatus.OPEN,
    transitions=[
        {
            "trigger": "submit",
            "source": [ChecklistStatus.OPEN, ChecklistStatus.RETURNED],
            "dest": ChecklistStatus.SUBMITTED,
        },
        {
            "trigger": "return_for_completion",
            "source": ChecklistStatus.SUBMITTED,
            "dest": ChecklistStatus.RETURNED,
        },
        {
            "trigger": "accept",
            "source": ChecklistStatus.SUBMITTED,
            "dest": ChecklistStatus.ACCEPTED,
        },
        {
            # The round is closed before the unit handed its checklist in (ej inlämnad).
            "trigger": "close_unsubmitted",
            "source": [ChecklistStatus.OPEN, ChecklistStatus.RETURNED],
            "dest": ChecklistStatus.NOT_SUBMITTED,
        },
    ],
    auto_transitions=False,
    send_event=True,
    model_attribute="status",
)

_REFUSED = {
    "submit": "Checklistan kan inte skickas in nu: den är redan inskickad eller godkänd.",
    "return_for_completion": "Bara en inskickad checklista kan återsändas för komplettering.",
    "accept": "Bara en inskickad checklista kan godkännas.",
    "close_unsubmitted": "Bara en checklista som inte är inskickad stängs som ej inlämnad.",
}


def _fire(checklist: Checklist, trigger: str) -> None:
    try:
        CHECKLIST_MACHINE.events[trigger].trigger(checklist)
    except MachineError:
        raise ChecklistError(_REFUSED[trigger]) from None


# --- who may do what ---------------------------------------------------------------------


def can_answer(user: User, checklist: Checklist) -> bool:
    """Verksamhetschef and staff of the checklist's unit answer it."""
    return any(
        a.role in (Role.VERKSAMHETSCHEF, Role.PERSONAL) and a.unit_id == checklist.unit_id
        for a in user.roles
    )


def can_submit(user: User, checklist: Checklist) -> bool:
    """Only the unit's verksamhetschef submits (§3.1.1)."""
    return any(
        a.role == Role.VERKSAMHETSCHEF and a.unit_id == checklist.unit_id for a in user.roles
    )


def can_review(user: User) -> bool:
    """Beställare and granskare review (§7)."""
    return user.has_role(*REVIEWER_ROLES)


def _require_editable(user: User, checklist: Checklist, refusal: str) -> None:
    """The unit may change its checklist only while it is open or returned to it."""
    if not can_answer(user, checklist):
        raise ChecklistError(refusal)
    if checklist.status == ChecklistStatus.NOT_SUBMITTED:
        raise ChecklistError("Omgången är stängd: checklistan lämnades inte in och är låst.")
    if checklist.status not in EDITABLE_STATUSES:
        raise ChecklistError("Checklistan är inskickad och låst.")


# Open or returned: the unit may still change its answers.
EDITABLE_STATUSES = (ChecklistStatus.OPEN, ChecklistStatus.RETURNED)


def editable(checklist: Checklist) -> bool:
    """Open or returned: the unit may still change its answers."""
    return checklist.status in EDITABLE_STATUSES


def _is_empty(raw) -> bool:
    if isinstance(raw, dict):
        return all(_is_empty(v) for v in raw.values())
    if isinstance(raw, list):
        return all(_is_empty(v) for v in raw)
    return raw is None or str(raw).strip() == ""


is_empty = _is_empty


def _strings(raw, path=""):
    if isinstance(raw, dict):
        for key, value in raw.items():
            yield from _strings(value, f"{path}-{key}" if path else key)
    elif isinstance(raw, list):
        for index, value in enumerate(raw, start=1):
            yield from _strings(value, f"{path}-{index}")
    elif isinstance(raw, str):
        yield path, raw


FIELD_NAMES = {
    "comment": "Kommentar",
    "text": "Svar",
    "exceptions": "Undantag",
    "name": "Namn",
    "title": "Titel",
    "hsa_id": "HSA-id",
    "reason": "Skäl",
}


def guard_personal_data(raw, field_label=None) -> None:
    """Refuse any text that contains a personnummer or samordningsnummer (nothing of it is
    stored or logged; the message says where, never what)."""
    for path, text in _strings(raw):
        hits = pii.find_identity_numbers(text)
        if hits:
            label = field_label or FIELD_NAMES.get(path.rsplit("-", 1)[-1], "fältet")
            raise AnswerError(pii.describe(hits, label), path or None)


def context(item: ChecklistItem, year: int) -> Context:
    """The evaluation context of an item: its section (for the explanation) and the year."""
    requirement = item.requirement
    return Context(
        section=requirement.section, year=year, prohibition=requirement.kind == "prohibition"
    )
