"""Personuppgiftsspärr: find Swedish identity numbers (personnummer, samordningsnummer) in text.

Free-text fields must not hold patient data. This module finds what looks like a Swedish
personal identity number (personnummer) or coordination number (samordningsnummer) so the
caller can refuse to store the text, with a Swedish message saying *where* the number is.

Accepted forms (the separator may also be a single space, or have a space either side; the
date may be written YY.MM.DD; the text is NFKC-normalised and other dashes, spaces, invisible
characters and digits of other forms are read as their ASCII look-alikes, see :func:`_fold`)::

    YYMMDD-NNNN   YYMMDD+NNNN   YYMMDDNNNN   YYYYMMDD-NNNN   YYYYMMDDNNNN

A candidate is only a hit when

* it stands alone: no digit or letter directly before it and no digit directly after it, so
  nothing is found inside longer digit runs, IBANs, HSA-ids ("SE2321000222-…") and the like;
* the date is a real calendar date (leap years respected) that is not in the future; in a
  samordningsnummer the day is increased by 60 (61–91);
* a 12-digit number's century is 18, 19 or 20 and it has no '+' (that form has no plus);
* a 10-digit number's century is resolved as Skatteverket does: with '-' (or a space, or no
  separator) the most recent year not after this year; with '+' a hundred years earlier;
* the last digit is the Luhn check digit over the ten digits YYMMDDNNN (century left out).

Organisation numbers have a "month" of 20 or more and so fail the date check; phone numbers
and ISO dates do not have the shape at all or fail the check digit.

Nothing here logs, stores or repeats a matched number: a ``Hit`` holds only offsets and a line
number, and no message or exception contains any part of the scanned text.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata

__all__ = [
    "PERSONNUMMER",
    "SAMORDNINGSNUMMER",
    "Hit",
    "contains_identity_number",
    "count_word",
    "describe",
    "describe_file",
    "find_identity_numbers",
    "luhn_ok",
]

PERSONNUMMER = "personnummer"
SAMORDNINGSNUMMER = "samordningsnummer"

# One pass over the text. Every candidate that matches this pattern ends at a 4-digit group
# followed by a non-digit, and the next candidate needs six digits in a row after a non-digit,
# so candidates cannot overlap: skipping an invalid candidate never hides a valid one.
_CANDIDATE = re.compile(
    r"""
    (?<![^\W_])                 # not directly after a letter or a digit (any script)
    (?P<century>[0-9]{2})?
    (?P<date>[0-9]{2}\.?[0-9]{2}\.?[0-9]{2})  # YYMMDD, or YY.MM.DD
    (?P<sep>\x20?[-+]\x20?|\x20)?  # '-' or '+' (a space either side allowed), a space, or nothing
    (?P<serial>[0-9]{4})        # three digits and the check digit
    (?!\d)                      # not directly before another digit
    """,
    re.VERBOSE,
)

_CENTURIES = frozenset({18, 19, 20})
# Digit sum of twice each digit: the Luhn contribution of a digit in a doubled position.
_LUHN_DOUBLED = {str(n): 2 * n if n < 5 else 2 * n - 9 for n in range(10)}
_SAMORDNING_OFFSET = 60


@dataclasses.dataclass(frozen=True)
class Hit:
    """Where an identity number was found; deliberately without the number itself."""

    start: int  # character offset in the scanned text
    end: int  # offset just past the number
    kind: str  # PERSONNUMMER or SAMORDNINGSNUMMER
    line: int  # 1-based line number in the text


def luhn_ok(ten_digits: str) -> bool:
    """Whether the last of ten ASCII digits is the Luhn check digit of the nine before it.

    Anything that is not exactly ten ASCII digits is simply not valid (False), so that no
    exception ever carries the input.
    """
    if len(ten_digits) != 10 or not ten_digits.isascii() or not ten_digits.isdigit():
        return False
    return _luhn(ten_digits)


def _luhn(t: str) -> bool:
    """Luhn over ten ASCII digits (weights 2, 1, 2, … from the left), unrolled for speed."""
    d = _LUHN_DOUBLED
    total = d[t[0]] + d[t[2]] + d[t[4]] + d[t[6]] + d[t[8]]
    total += int(t[1]) + int(t[3]) + int(t[5]) + int(t[7])
    return (10 - total % 10) % 10 == int(t[9])


def _kind(match: re.Match[str], today: dt.date) -> str | None:
    """The kind of identity number a candidate is, or None when it is not a valid one."""
    century, digits, sep, serial = match.groups()
    digits = digits.replace(".", "")
    plus = "+" in (sep or "")
    if not _luhn(digits + serial):  # cheapest test first: it rejects nine in ten
        return None
    yy, month, day = int(digits[:2]), int(digits[2:4]), int(digits[4:])
    if century is not None:
        if int(century) not in _CENTURIES or plus:
            return None
        year = int(century) * 100 + yy
    else:
        # The most recent year ending in yy that is not after this year ...
        year = today.year - (today.year - yy) % 100
        if plus:  # ... or, for someone aged 100 or more, a century earlier.
            year -= 100
    kind = PERSONNUMMER
    if day > _SAMORDNING_OFFSET:
        kind = SAMORDNINGSNUMMER
        day -= _SAMORDNING_OFFSET
    try:
        born = dt.date(year, month, day)
    except ValueError:  # month 0 or ≥ 13 (organisation numbers), day 0, 30 February, …
        return None
    if born > today:
        return None
    return kind


# Look-alikes a number can be written with so that a plain scan would miss it. The text is
# first NFKC-normalised (fullwidth "８５", superscripts, compatibility forms, the fullwidth
# plus and hyphen-minus become ASCII); then every remaining character that Unicode calls a
# dash (category Pd, and the minus signs) reads as "-", every space separator (Zs) as " ",
# and everything that shows nothing at all -- format characters (Cf: zero-width space and
# joiners, soft hyphen, word joiner, byte-order mark, bidi marks), combining marks (Mn, Me:
# the combining grapheme joiner) and the Mongolian vowel separator -- is dropped; digits of
# other scripts (Arabic-Indic, Devanagari ...) read as their ASCII value. Offsets are those
# of the folded text; line numbers are the original's (no rule adds or removes a newline).
_MINUS_SIGNS = "\u2212\u2796\ufe63\uff0d\u2043"
_DROPPED_CATEGORIES = frozenset({"Cf", "Mn", "Me"})


def _fold_char(ch: str) -> str:
    if ch.isascii():
        return ch
    category = unicodedata.category(ch)
    if category == "Pd" or ch in _MINUS_SIGNS:
        return "-"
    if category == "Zs":
        return " "
    if category in _DROPPED_CATEGORIES or ch == "\u180e":
        return ""
    if category == "Nd":
        value = unicodedata.decimal(ch, None)
        return str(value) if value is not None else ch
    return ch


class _FoldTable(dict):
    """``str.translate`` table filled on first sight of each character (C-speed after), and
    bounded so that text with all of Unicode in it cannot grow it without end."""

    MAX_ENTRIES = 20_000

    def __missing__(self, code: int):
        folded = _fold_char(chr(code))
        value = code if folded == chr(code) else folded
        if len(self) < self.MAX_ENTRIES:
            self[code] = value
        return value


_FOLD_TABLE = _FoldTable()


def _fold(text: str) -> str:
    """The text as the scan reads it (see the comment above)."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", text).translate(_FOLD_TABLE)


def _hits(text: str, today: dt.date | None):
    today = today or dt.date.today()
    text = _fold(text)
    line, counted_to = 1, 0
    for match in _CANDIDATE.finditer(text):
        kind = _kind(match, today)
        if kind is None:
            continue
        start = match.start()
        line += text.count("\n", counted_to, start)
        counted_to = start
        yield Hit(start=start, end=match.end(), kind=kind, line=line)


def find_identity_numbers(text: str, *, today: dt.date | None = None) -> list[Hit]:
    """All personnummer and samordningsnummer in ``text``, in order of appearance.

    ``today`` (default: the current date) decides the century of 10-digit numbers and which
    dates lie in the future.
    """
    return list(_hits(text, today))


def contains_identity_number(text: str, *, today: dt.date | None = None) -> bool:
    """Whether ``text`` contains at least one personnummer or samordningsnummer."""
    return next(_hits(text, today), None) is not None


_COUNT_WORDS = {
    2: "två",
    3: "tre",
    4: "fyra",
    5: "fem",
    6: "sex",
    7: "sju",
    8: "åtta",
    9: "nio",
    10: "tio",
    11: "elva",
    12: "tolv",
}


def count_word(count: int) -> str:
    """A count in Swedish words up to twelve ("två", "tre" …), in digits beyond."""
    return _COUNT_WORDS.get(count, str(count))


_ADVICE = "Personuppgifter om patienter får inte lämnas här – ta bort {what} och spara igen."


def _swedish_list(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " och " + items[-1]


def describe_file(hits: list[Hit], filename: str) -> str:
    """A Swedish message for a refused upload: which file, which lines, never the numbers."""
    if not hits:
        raise ValueError("describe_file() needs at least one hit")
    lines = sorted({hit.line for hit in hits})
    where_text = f"rad {_swedish_list([str(n) for n in lines])}"
    kinds = {hit.kind for hit in hits}
    what = (
        f"något som ser ut som ett {hits[0].kind}"
        if len(hits) == 1
        else f"{_COUNT_WORDS.get(len(hits), str(len(hits)))} nummer som ser ut som "
        + (next(iter(kinds)) if len(kinds) == 1 else f"{PERSONNUMMER} eller {SAMORDNINGSNUMMER}")
    )
    return (
        f"Filen ”{filename}” innehåller {what} (textens {where_text}). Personuppgifter om "
        "patienter får inte lämnas här – ta bort "
        + ("numret" if len(hits) == 1 else "numren")
        + " ur filen och ladda upp den igen. Filen har inte sparats."
    )


def describe(hits: list[Hit], where: str) -> str:
    """A Swedish message saying where in the field ``where`` the numbers are.

    The message names the field and the line numbers, never the numbers themselves::

        Texten i "Kommentar" innehåller något som ser ut som ett personnummer (rad 3).
        Personuppgifter om patienter får inte lämnas här – ta bort numret och spara igen.

    Several hits give "… innehåller tre nummer som ser ut som personnummer (rad 2, 5 och 7).
    … ta bort numren …"; a mix of kinds says "personnummer eller samordningsnummer".
    """
    if not hits:
        raise ValueError("describe() needs at least one hit")
    lines = sorted({hit.line for hit in hits})
    where_text = f"rad {_swedish_list([str(n) for n in lines])}"
    kinds = {hit.kind for hit in hits}
    if len(hits) == 1:
        return (
            f'Texten i "{where}" innehåller något som ser ut som ett {hits[0].kind} '
            f"({where_text}). " + _ADVICE.format(what="numret")
        )
    kind_text = (
        next(iter(kinds)) if len(kinds) == 1 else f"{PERSONNUMMER} eller {SAMORDNINGSNUMMER}"
    )
    count = _COUNT_WORDS.get(len(hits), str(len(hits)))
    return (
        f'Texten i "{where}" innehåller {count} nummer som ser ut som {kind_text} '
        f"({where_text}). " + _ADVICE.format(what="numren")
    )
