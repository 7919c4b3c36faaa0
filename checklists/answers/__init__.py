"""Svar och bedömning: validation, stored value format and automatic evaluation of answers.

Each answer type (:mod:`checklists.answers.types`) checks its catalog parameters when an edition
is loaded, cleans an answer into its stored value (refusing bad input with a Swedish message that
names the field), and evaluates a stored value against the requirement's rule, with a Swedish
sentence explaining the result — for example "3 av 8 läkare (38 %) är specialister i
allmänmedicin — kravet är mer än hälften (§3.1.2)". Types without a rule leave the judgement to
a reviewer.

Two things hold for every type and live here rather than in each type:

- **a comment** (``comment``) may accompany any answer;
- **"ej aktuellt under perioden"** (``not_applicable`` with a short ``reason``): for an item that
  only bites when something happens (``recurrence: on_event`` — a change of head, a Lex Maria
  case, a list stop), a quiet period is not a breach. It is judged *not applicable*, never
  compliant and never a missing document (DOMAIN.md, "A quiet year is not a breach").
"""

from __future__ import annotations

from checklists.answers.base import (
    DAY_NAMES,
    DAYS,
    MAX_COMMENT,
    AnswerError,
    Context,
    Evaluation,
    ParamError,
    Status,
    clean_text,
    fmt_number,
    fmt_percent,
    parse_mmdd,
    parse_number,
    parse_time,
)
from checklists.answers.types import ANSWER_TYPES, Spec
from checklists.models import AnswerType

__all__ = [
    "ANSWER_TYPES",
    "DAYS",
    "DAY_NAMES",
    "MAX_REASON",
    "AnswerError",
    "Context",
    "Evaluation",
    "ParamError",
    "Spec",
    "Status",
    "check_params",
    "clean_answer",
    "describe_rule",
    "evaluate",
    "fmt_number",
    "fmt_percent",
    "is_quiet_period",
    "parse_mmdd",
    "parse_number",
    "parse_time",
]

MAX_REASON = 500
_TRUE = {"1", "on", "true", "yes", "y", True}


def check_params(answer_type: AnswerType, params: dict) -> None:
    """Validate an item's answer parameters (raises :class:`ParamError`)."""
    ANSWER_TYPES[AnswerType(answer_type)].check_params(params)


def is_quiet_period(value: dict | None) -> bool:
    """True for the answer "ej aktuellt under perioden"."""
    return bool(value) and value.get("not_applicable") is True


def clean_answer(
    answer_type: AnswerType, params: dict, raw: dict, *, on_event: bool = False
) -> dict:
    """Validate raw input into the stored value (raises :class:`AnswerError`).

    ``raw["comment"]`` is kept with any type. With ``on_event`` (the requirement's recurrence is
    ``on_event``) ``raw["not_applicable"]`` ticked means "ej aktuellt under perioden" and needs a
    short ``raw["reason"]``; the type's own fields are then ignored.
    """
    raw = dict(raw)
    comment = clean_text(raw.pop("comment", ""), "comment", required=False, limit=MAX_COMMENT)
    quiet = raw.pop("not_applicable", None)
    reason = raw.pop("reason", "")
    if on_event and (quiet in _TRUE or (isinstance(quiet, list) and quiet)):
        reason = clean_text(reason, "reason", required=False, limit=MAX_REASON)
        if not reason:
            raise AnswerError(
                "Skriv kort varför det inte har varit aktuellt under perioden.", "reason"
            )
        value = {"not_applicable": True, "reason": reason}
    else:
        value = ANSWER_TYPES[AnswerType(answer_type)].clean(params, raw)
    if comment:
        value["comment"] = comment
    return value


def evaluate(
    answer_type: AnswerType,
    params: dict,
    value: dict | None,
    ctx: Context,
    *,
    applicable: bool = True,
) -> Evaluation:
    """Bedöm ett svar: not applicable, not answered, a quiet period, or the type's own rule."""
    if not applicable:
        return Evaluation(Status.NOT_APPLICABLE, f"Kravet gäller inte enheten {ctx.ref}.")
    if value is None:
        return Evaluation(Status.NOT_ANSWERED, f"Ej besvarat {ctx.ref}.")
    if is_quiet_period(value):
        return Evaluation(
            Status.NOT_APPLICABLE,
            f"Ej aktuellt under perioden: {value['reason']} {ctx.ref}.",
        )
    return ANSWER_TYPES[AnswerType(answer_type)].evaluate(params, value, ctx)


def describe_rule(answer_type: AnswerType, params: dict) -> str | None:
    """The automatic rule in Swedish, or None when a reviewer judges."""
    return ANSWER_TYPES[AnswerType(answer_type)].describe_rule(params)
