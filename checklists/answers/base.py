"""Bedömning and the small parsers every answer type shares: statuses, evaluation results,
the context of an evaluation, the errors, and Swedish number/time/text parsing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any


class Status(enum.StrEnum):
    """Bedömning: the outcome of evaluating an answer."""

    COMPLIANT = "compliant"  # uppfyllt
    PARTLY_COMPLIANT = "partly_compliant"  # delvis uppfyllt
    NON_COMPLIANT = "non_compliant"  # ej uppfyllt
    NOT_APPLICABLE = "not_applicable"  # ej tillämpligt
    NOT_ANSWERED = "not_answered"  # ej besvarat
    TO_REVIEW = "to_review"  # bedöms av granskare


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """An evaluation result and the Swedish sentence that explains it."""

    status: Status
    explanation: str


@dataclasses.dataclass(frozen=True)
class Context:
    """What evaluation needs besides the answer: the section (for the explanation) and the
    follow-up year (for annual deadlines)."""

    section: str
    year: int
    prohibition: bool = False

    @property
    def ref(self) -> str:
        return f"(§{self.section})" if self.section[:1].isdigit() else f"({self.section})"


class ParamError(ValueError):
    """Invalid catalog parameters for an answer type; ``field`` names the parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class AnswerError(ValueError):
    """An answer that cannot be stored; the message is Swedish and names what is wrong."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = {
    "mon": "måndag",
    "tue": "tisdag",
    "wed": "onsdag",
    "thu": "torsdag",
    "fri": "fredag",
    "sat": "lördag",
    "sun": "söndag",
}
_TIME_RE = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")
_MMDD_RE = re.compile(r"^(\d\d)-(\d\d)$")
HSA_ID_RE = re.compile(r"^SE\d{10}-[0-9A-Za-z]{1,31}$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
MAX_TEXT = 10_000
MAX_COMMENT = 2_000
MAX_DIGITS = 12

# --- small parsers shared by the types ---------------------------------------------------


def parse_time(value: Any, field: str) -> str:
    """ "08.00" or "8:00" → "08:00"."""
    match = _TIME_RE.match(str(value or "").strip())
    if not match:
        raise AnswerError("Ange tiden som tt.mm, till exempel 08.00.", field)
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def parse_mmdd(value: Any) -> tuple[int, int]:
    match = _MMDD_RE.match(str(value or ""))
    if not match:
        raise ValueError("not MM-DD")
    month, day = int(match.group(1)), int(match.group(2))
    dt.date(2024, month, day)  # leap year: accepts 02-29, refuses 02-30
    return month, day


def _shown(value: Any) -> str:
    """The typed value as a message may repeat it: at most 30 characters."""
    text = str(value)
    return text if len(text) <= 30 else text[:29] + "…"


def parse_number(value: Any, field: str, *, integer: bool = False) -> Decimal:
    """A non-negative number; Swedish decimal comma and spaces as thousands separators allowed."""
    text = str(value if value is not None else "").strip().replace("\u00a0", "").replace(" ", "")
    text = text.replace(",", ".")
    if not text:
        raise AnswerError("Ange ett värde.", field)
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise AnswerError(f"”{_shown(value)}” är inte ett tal.", field) from None
    if not number.is_finite():
        raise AnswerError(f"”{_shown(value)}” är inte ett tal.", field)
    if number.adjusted() >= MAX_DIGITS:  # 1e400 or 400 nines: no count or share is that big
        raise AnswerError(f"Talet är för stort: ange högst {MAX_DIGITS} siffror.", field)
    if number < 0:
        raise AnswerError("Värdet kan inte vara negativt.", field)
    if integer and number != number.to_integral_value():
        raise AnswerError("Ange ett heltal.", field)
    return number


def fmt_number(value: Decimal | float | int) -> str:
    """Swedish formatting: decimal comma, no trailing zeros."""
    number = Decimal(str(value))
    text = (
        format(number.normalize(), "f")
        if number != number.to_integral_value()
        else str(int(number))
    )
    return text.replace(".", ",")


def fmt_percent(ratio: float) -> str:
    """A share in whole percent, halves rounded up as people do (5 of 8 is 63 %, not
    Python's banker's 62 %)."""
    percent = (Decimal(str(ratio)) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    return f"{int(percent)} %"


def clean_text(value: Any, field: str, *, required: bool, limit: int) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise AnswerError("Fältet måste fyllas i.", field)
    if len(text) > limit:
        raise AnswerError(f"Texten får vara högst {limit} tecken.", field)
    return text


def need_param(params: dict, name: str, kind: type | tuple[type, ...] = str) -> Any:
    if name not in params:
        raise ParamError(name, f"parametern {name!r} saknas")
    value = params[name]
    if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
        raise ParamError(name, f"parametern {name!r} har fel typ eller är tom")
    return value


def only_params(params: dict, allowed: set[str]) -> None:
    unknown = set(params) - allowed - {"type"}
    if unknown:
        raise ParamError(sorted(unknown)[0], f"okänd parameter {sorted(unknown)[0]!r}")


# --- the answer types ----------------------------------------------------------------------
