"""Operations on rounds and checklists: open, answer, submit, review, accept.

Each operation checks who may do it, changes the rows, flushes, and writes its audit events in
the same transaction; the caller commits once. Refusals raise :class:`ChecklistError` with a
Swedish message. Status changes go through :data:`CHECKLIST_MACHINE` only.

- :mod:`.opening` — öppna en omgång (set-based);
- :mod:`.answering` — besvara (one item or a section, optimistic lock per item), skicka in,
  underlag;
- :mod:`.managing` — hantera en öppen omgång (förläng, påminn, stäng, lägg till enhet);
- :mod:`.review` — granska (judgement per item), återsänd, godkänn.
"""

from checklists.operations.answering import (
    ItemConflict,
    ItemOutcome,
    add_evidence,
    load_items,
    progress,
    remove_evidence,
    save_answers,
    save_item,
    submit,
    unanswered_items,
    value_hash,
)
from checklists.operations.common import (
    CHECKLIST_MACHINE,
    FINDING_STATUSES,
    REVIEWER_ROLES,
    ChecklistError,
    Incomplete,
    can_answer,
    can_review,
    can_submit,
    context,
    editable,
    guard_personal_data,
    is_empty,
)
from checklists.operations.managing import (
    add_unit,
    addable_units,
    close_round,
    extend_deadline,
    remind_unsubmitted,
    unsubmitted,
)
from checklists.operations.opening import RoundSelection, open_round
from checklists.operations.review import (
    accept,
    comment,
    judge_item,
    override,
    return_for_completion,
)

__all__ = [
    "CHECKLIST_MACHINE",
    "FINDING_STATUSES",
    "REVIEWER_ROLES",
    "ChecklistError",
    "Incomplete",
    "ItemConflict",
    "ItemOutcome",
    "RoundSelection",
    "accept",
    "add_evidence",
    "add_unit",
    "addable_units",
    "close_round",
    "extend_deadline",
    "remind_unsubmitted",
    "unsubmitted",
    "can_answer",
    "can_review",
    "can_submit",
    "comment",
    "context",
    "editable",
    "guard_personal_data",
    "is_empty",
    "judge_item",
    "load_items",
    "open_round",
    "override",
    "progress",
    "remove_evidence",
    "return_for_completion",
    "save_answers",
    "save_item",
    "submit",
    "unanswered_items",
    "value_hash",
]
