"""Personuppgiftsspärr: personnummer and samordningsnummer in free text, and nothing else.

All identity numbers here are synthetic: built by ``number``/``raw`` from a date and a serial,
with the Luhn check digit computed by this file's own ``luhn_digit`` (independent of the code
under test). Non-hits are built with a correct check digit wherever possible, so that each one
is rejected for the reason its test names and not by chance.
"""

import datetime as dt
import re

import pytest

from checklists.pii import (
    PERSONNUMMER,
    SAMORDNINGSNUMMER,
    Hit,
    contains_identity_number,
    describe,
    find_identity_numbers,
    luhn_ok,
)

TODAY = dt.date(2025, 3, 1)
PNR = PERSONNUMMER
SAMO = SAMORDNINGSNUMMER


def luhn_digit(nine: str) -> str:
    """The Luhn check digit of nine digits (weights 2, 1, 2, …; digits of products summed)."""
    total = 0
    for index, char in enumerate(nine):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product // 10 + product % 10
    return str(-total % 10)


def raw(first: str, serial: str = "123", *, sep: str = "-", century: str = "") -> str:
    """``century`` + six digits + ``sep`` + three-digit serial + the correct check digit."""
    return f"{century}{first}{sep}{serial}{luhn_digit(first + serial)}"


def number(
    year: int,
    month: int,
    day: int,
    serial: str = "123",
    *,
    sep: str = "-",
    digits: int = 10,
    samordning: bool = False,
) -> str:
    """A synthetic identity number for a birth date (day + 60 for a samordningsnummer)."""
    first = f"{year % 100:02d}{month:02d}{day + 60 if samordning else day:02d}"
    century = f"{year // 100:02d}" if digits == 12 else ""
    return raw(first, serial, sep=sep, century=century)


def find(text: str) -> list[Hit]:
    return find_identity_numbers(text, today=TODAY)


def kinds(text: str) -> list[str]:
    return [hit.kind for hit in find(text)]


def with_wrong_check(valid: str, offset: int) -> str:
    return valid[:-1] + str((int(valid[-1]) + offset) % 10)


# --- the helpers themselves ---------------------------------------------------------------


def test_luhn_helper_by_hand():
    # 8 5 0 1 0 1 1 2 3 × 2 1 2 1 2 1 2 1 2 → 16 5 0 1 0 1 2 2 6 → 7+5+0+1+0+1+2+2+6 = 24 → 6
    assert luhn_digit("850101123") == "6"
    assert number(1985, 1, 1) == "850101-1236"
    assert number(1985, 1, 1, digits=12, sep="") == "198501011236"


def test_luhn_helper_agrees_with_luhn_ok():
    valid = [s for s in (f"850101{n:03d}{c}" for n in range(1000) for c in range(10)) if luhn_ok(s)]
    assert len(valid) == 1000
    assert all(s[-1] == luhn_digit(s[:9]) for s in valid)


@pytest.mark.parametrize(
    "digits, ok",
    [
        ("8501011236", True),
        ("8501011237", False),
        ("0000000000", True),
        ("850101123", False),  # nine digits
        ("85010112360", False),  # eleven digits
        ("850101-123", False),  # not digits
        ("８５０１０１１２３６", False),  # full-width digits are not ASCII
        ("", False),
    ],
)
def test_luhn_ok(digits, ok):
    assert luhn_ok(digits) is ok


# --- hits ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        number(1985, 1, 1),  # YYMMDD-NNNN
        number(1985, 1, 1, sep=""),  # YYMMDDNNNN
        number(1985, 1, 1, sep=" "),  # YYMMDD NNNN
        number(1920, 6, 15, sep="+"),  # YYMMDD+NNNN, 100 years or older
        number(2010, 12, 31, sep="", serial="987"),
        number(1985, 1, 1, digits=12),  # YYYYMMDD-NNNN
        number(1985, 1, 1, digits=12, sep=""),  # YYYYMMDDNNNN
        number(1985, 1, 1, digits=12, sep=" "),  # YYYYMMDD NNNN
        number(2010, 12, 31, digits=12, sep="", serial="000"),
        number(1895, 7, 4, digits=12),  # century 18
        number(2025, 3, 1),  # born today
        number(2025, 3, 1, digits=12),
    ],
)
def test_personnummer_in_each_form(text):
    assert find(text) == [Hit(start=0, end=len(text), kind=PNR, line=1)]


@pytest.mark.parametrize(
    "template",
    [
        "Pnr: {}.",
        "({})",
        '"{}"',
        "Patienten {}, 40 år",
        "nr:{};nästa",
        "skannad_{}.pdf",
        "{}\n",
        "Kommentar\t{}\tslut",
    ],
)
def test_personnummer_in_running_text(template):
    pnr = number(1985, 1, 1, digits=12)
    text = template.format(pnr)
    start = text.index(pnr)
    assert find(text) == [Hit(start=start, end=start + len(pnr), kind=PNR, line=1)]


@pytest.mark.parametrize(
    "text",
    [
        number(1985, 1, 1, samordning=True),  # day 61
        number(1985, 1, 1, samordning=True, digits=12, sep=""),
        number(1990, 1, 31, samordning=True),  # day 91
        number(2023, 2, 28, samordning=True, sep=" "),  # day 88
        number(2024, 2, 29, samordning=True, digits=12),  # day 89 in a leap year
        number(1920, 4, 30, samordning=True, sep="+"),  # day 90
    ],
)
def test_samordningsnummer(text):
    assert kinds(text) == [SAMO]


@pytest.mark.parametrize(
    "text",
    [
        raw("850160"),  # day 0 + 60
        raw("850192"),  # day 32 + 60
        raw("850491"),  # 31 April + 60
        raw("230289", century="19"),  # 29 February 2023 + 60, 12 digits
        raw("000289", sep="+"),  # 29 February 1900 + 60 (1900 is no leap year)
    ],
)
def test_samordningsnummer_with_impossible_day(text):
    assert find(text) == []


@pytest.mark.parametrize(
    "year, leap",
    [(1996, True), (2000, True), (2024, True), (1900, False), (1997, False), (2023, False)],
)
def test_leap_day_12_digits(year, leap):
    assert contains_identity_number(number(year, 2, 29, digits=12), today=TODAY) is leap


@pytest.mark.parametrize(
    "text, leap",
    [
        (raw("000229"), True),  # '-': 2000
        (raw("000229", sep="+"), False),  # '+': 1900
        (raw("960229", sep="+"), True),  # '+': 1896
        (raw("960229", sep=""), True),  # 1996
        (raw("970229"), False),  # 1997
    ],
)
def test_leap_day_10_digits_follows_the_resolved_century(text, leap):
    assert contains_identity_number(text, today=TODAY) is leap


@pytest.mark.parametrize(
    "text, hit",
    [
        (number(2025, 12, 24), False),  # '-': 2025-12-24, not yet born
        (number(2025, 12, 24, sep=""), False),
        (number(1925, 12, 24, sep="+"), True),  # '+': the same digits mean 1925-12-24
        (number(2025, 3, 2), False),  # tomorrow
        (number(2025, 3, 2, digits=12), False),  # 12 digits: a future date is no hit
        (number(2030, 1, 1, digits=12), False),
        (number(2026, 3, 1, digits=12), False),
        (number(1926, 1, 1), True),  # '26' with '-' in 2025: 1926, not 2026
    ],
)
def test_century_resolution_and_future_dates(text, hit):
    assert contains_identity_number(text, today=TODAY) is hit


def test_plus_resolves_to_the_earlier_century():
    # 29 February exists in 2000 but not in 1900: the '+' form must mean 1900.
    dash, plus = raw("000229"), raw("000229", sep="+")
    assert kinds(dash) == [PNR]
    assert kinds(plus) == []
    # With '+' a date later this year is a hundred years ago, so it is a hit.
    assert kinds(raw("251224", sep="+")) == [PNR]


def test_today_decides_what_is_in_the_future():
    tomorrow = number(2025, 3, 2)
    assert not contains_identity_number(tomorrow, today=TODAY)
    assert contains_identity_number(tomorrow, today=dt.date(2025, 3, 2))


def test_today_defaults_to_the_current_date():
    assert contains_identity_number(number(1985, 1, 1))
    next_year = dt.date.today().year + 1
    assert not contains_identity_number(number(next_year, 1, 1, digits=12))


# --- non-hits -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "212000-2627",  # a county council's organisation number
        "2120002627",
        "Org.nr 212000-2627, Region Västerbotten",
        "162120002627",  # the 12-digit form with the '16' prefix
        raw("556000"),  # aktiebolag: third digit 6, "month" 60
        raw("802000", "456"),  # ideell förening: "month" 20
        raw("232100", "022", sep=""),  # "month" 21
        raw("556000", century="16", sep=""),
    ],
)
def test_organisation_numbers_are_not_hits(text):
    digits = re.sub(r"\D", "", text)[-10:]
    assert luhn_ok(digits)  # valid check digits: only the "month" (≥ 20) rules them out
    assert find(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "070-123 45 67",
        "090-785 00 00",
        "+46 70 123 45 67",
        "0907850000",
        "0701234567",
        "+46907850000",
        "+46 (0)90-785 00 00",
        "070-1234567",
        "Ring 090-785 00 00 eller 070-123 45 67.",
    ],
)
def test_phone_numbers_are_not_hits(text):
    assert find(text) == []


@pytest.mark.parametrize("offset", range(1, 10))
def test_wrong_check_digit_is_not_a_hit(offset):
    assert find(with_wrong_check(number(1985, 1, 1), offset)) == []
    assert find(with_wrong_check(number(1985, 1, 1, digits=12, sep=""), offset)) == []


@pytest.mark.parametrize(
    "first, century",
    [
        ("990230", "19"),  # 30 February
        ("990231", "19"),
        ("990229", "19"),  # 29 February in a common year
        ("991301", "19"),  # month 13
        ("990001", "19"),  # month 0
        ("990100", "19"),  # day 0
        ("990132", "19"),  # day 32
        ("990431", "19"),  # 31 April
        ("990230", ""),
        ("991301", ""),
    ],
)
def test_invalid_dates_are_not_hits(first, century):
    assert find(raw(first, century=century)) == []


@pytest.mark.parametrize(
    "text",
    [
        "1234567890123456",
        "9" + number(1985, 1, 1, digits=12, sep=""),  # 13 digits
        number(1985, 1, 1, digits=12, sep="") + "0",
        "4" + number(1985, 1, 1, sep=""),  # 11 digits
        number(1985, 1, 1, sep="") + "7",
        "4" + number(1985, 1, 1),  # 7 digits before the hyphen: no valid form
        number(1985, 1, 1) + "7",  # 5 digits after the hyphen
        "SE2321000222-abc1",  # HSA-id
        "SE" + number(1985, 1, 1, sep="") + "-abc1",  # HSA-id-like with a valid number inside
        "X" + number(1985, 1, 1),
        "ABC" + number(1985, 1, 1, digits=12, sep=""),
        "SE12" + number(1985, 1, 1, digits=12, sep="") + "3456",  # IBAN without spaces
        "SE00 1234 5678 9012 3456 7890",  # IBAN in groups of four
        "Konto 1234-5 678 901 234-5",
        "Clearing 8105-9, konto 12 345 678-9",
        "Bankgiro 5050-1055",
    ],
)
def test_numbers_inside_longer_numbers_or_codes_are_not_hits(text):
    assert find(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "2025-03-01 1400",
        "2025-03-01 14:00",
        "2025-03-01T14:00:00",
        "Besök 2025-03-01 kl. 1400–1530.",
        "2025-03-01",
        "1985-01-01",
        "20250301",
        "250301",
        "Period 2024-01-01–2024-12-31",
    ],
)
def test_dates_and_times_are_not_hits(text):
    assert find(text) == []


@pytest.mark.parametrize(
    "text",
    [
        number(1920, 6, 15, digits=12, sep="+"),  # the 12-digit form has no '+'
        raw("850101", century="17"),  # century 17
        raw("850101", century="21"),  # century 21
        raw("850101", sep="  "),  # two spaces
        raw("850101", sep="--"),
        raw("850101", sep="/"),
        raw("850101", sep="\n"),  # a line break is not a separator
    ],
)
def test_unsupported_forms_are_not_hits(text):
    assert find(text) == []


def test_a_bank_account_that_is_a_personnummer_is_a_hit():
    # Personkonto: clearing number + personnummer; the number stands alone after the hyphen.
    text = "Personkonto 3300-" + number(1985, 1, 1, sep="")
    assert kinds(text) == [PNR]


# --- positions ----------------------------------------------------------------------------


def test_line_numbers_and_offsets():
    a = number(1985, 1, 1)
    b = number(1990, 1, 31, samordning=True, digits=12, sep="")
    c = number(1920, 6, 15, sep="+")
    text = f"Första raden\nKontakt {a} ang. remiss\n\nSista raden: {b} och {c}"
    expected = [
        Hit(start=text.index(a), end=text.index(a) + len(a), kind=PNR, line=2),
        Hit(start=text.index(b), end=text.index(b) + len(b), kind=SAMO, line=4),
        Hit(start=text.index(c), end=text.index(c) + len(c), kind=PNR, line=4),
    ]
    assert find(text) == expected
    assert [text[hit.start : hit.end] for hit in expected] == [a, b, c]


def test_windows_line_breaks_count_once():
    pnr = number(1985, 1, 1)
    text = f"ett\r\ntvå\r\ntre {pnr}"
    assert [hit.line for hit in find(text)] == [3]


def test_invalid_candidates_do_not_hide_later_hits():
    pnr = number(1985, 1, 1)
    text = f"{with_wrong_check(pnr, 3)} 212000-2627 {pnr} 2025-03-01 1400 {pnr}"
    hits = find(text)
    assert [text[hit.start : hit.end] for hit in hits] == [pnr, pnr]


def test_one_megabyte_of_text():
    filler = (
        "Vårdcentralen har öppet 08.00–17.00, telefon 090-785 00 00 eller 070-123 45 67. "
        "Besök 2025-03-01 1400, org.nr 212000-2627, bankgiro 5050-1055, IBAN "
        "SE00 1234 5678 9012 3456 7890. Kostnad 1234567890123456 öre.\n"
    )
    numbers = [
        number(1985, 1, 1),
        number(1990, 1, 31, samordning=True, digits=12, sep=""),
        number(1920, 6, 15, sep="+"),
        number(2010, 12, 31, digits=12),
        number(1999, 9, 9, sep=" "),
    ]
    block = filler * 2500  # about 0.5 MB; repeated between the numbers
    parts = [block]
    for pnr in numbers:
        parts += [f"Patient {pnr} nämnd här.\n", block[: len(block) // 3]]
    text = "".join(parts)
    assert len(text) >= 1_000_000
    hits = find(text)
    assert [text[hit.start : hit.end] for hit in hits] == numbers
    assert [hit.kind for hit in hits] == [PNR, SAMO, PNR, PNR, PNR]
    assert [hit.line for hit in hits] == [text.count("\n", 0, hit.start) + 1 for hit in hits]
    assert contains_identity_number(text, today=TODAY)


def test_contains_identity_number():
    assert contains_identity_number(f"Se {number(1985, 1, 1)}", today=TODAY)
    assert not contains_identity_number("Inga personuppgifter här, 070-123 45 67.", today=TODAY)
    assert not contains_identity_number("", today=TODAY)


# --- messages -----------------------------------------------------------------------------


def _hit(line: int, kind: str = PNR) -> Hit:
    return Hit(start=0, end=11, kind=kind, line=line)


@pytest.mark.parametrize(
    "hits, message",
    [
        (
            [_hit(3)],
            'Texten i "Kommentar" innehåller något som ser ut som ett personnummer (rad 3). '
            "Personuppgifter om patienter får inte lämnas här – ta bort numret och spara igen.",
        ),
        (
            [_hit(1, SAMO)],
            'Texten i "Kommentar" innehåller något som ser ut som ett samordningsnummer (rad 1). '
            "Personuppgifter om patienter får inte lämnas här – ta bort numret och spara igen.",
        ),
        (
            [_hit(2), _hit(5), _hit(7)],
            'Texten i "Kommentar" innehåller tre nummer som ser ut som personnummer '
            "(rad 2, 5 och 7). "
            "Personuppgifter om patienter får inte lämnas här – ta bort numren och spara igen.",
        ),
        (
            [_hit(4, SAMO), _hit(4, SAMO)],
            'Texten i "Kommentar" innehåller två nummer som ser ut som samordningsnummer '
            "(rad 4). "
            "Personuppgifter om patienter får inte lämnas här – ta bort numren och spara igen.",
        ),
        (
            [_hit(1), _hit(2, SAMO)],
            'Texten i "Kommentar" innehåller två nummer som ser ut som personnummer eller '
            "samordningsnummer (rad 1 och 2). "
            "Personuppgifter om patienter får inte lämnas här – ta bort numren och spara igen.",
        ),
    ],
)
def test_describe(hits, message):
    assert describe(hits, "Kommentar") == message


def test_describe_many_hits_uses_digits_for_the_count():
    message = describe([_hit(n) for n in range(1, 14)], "Bilaga")
    assert message.startswith('Texten i "Bilaga" innehåller 13 nummer som ser ut som personnummer')
    assert "(rad 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 och 13)" in message


def test_describe_never_contains_the_number():
    pnr = number(1985, 1, 1, digits=12)
    samo = number(1990, 1, 31, samordning=True)
    text = f"Rad ett\nRad två\nRing {pnr} och {samo}"
    hits = find(text)
    message = describe(hits, "Övrigt")
    assert re.findall(r"\d+", message) == ["3"]  # only the line number
    for secret in (pnr, samo):
        assert secret not in message
        assert secret not in repr(hits)
        assert re.sub(r"\D", "", secret)[-4:] not in message


def test_describe_needs_hits():
    with pytest.raises(ValueError) as excinfo:
        describe([], "Kommentar")
    assert not re.search(r"\d", str(excinfo.value))


FULLWIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


@pytest.mark.parametrize(
    "disguise",
    [
        pytest.param(lambda n: n.replace("-", "\u2013"), id="en dash"),
        pytest.param(lambda n: n.replace("-", "\u2212"), id="minus sign"),
        pytest.param(lambda n: n.replace("-", "\u00a0"), id="no-break space"),
        pytest.param(lambda n: n.replace("-", "\u202f"), id="narrow no-break space"),
        pytest.param(lambda n: n.replace("-", "\u200b"), id="zero-width space"),
        pytest.param(lambda n: n.replace("-", "\u00ad"), id="soft hyphen"),
        pytest.param(lambda n: n[:2] + "\u200b" + n[2:], id="zero-width inside the date"),
        pytest.param(lambda n: n.translate(FULLWIDTH), id="fullwidth digits"),
        pytest.param(lambda n: f"{n[:2]}.{n[2:4]}.{n[4:]}", id="dotted date"),
        pytest.param(
            lambda n: "".join(chr(0x0660 + int(c)) if c.isdigit() else c for c in n),
            id="arabic-indic digits",
        ),
    ],
)
def test_look_alike_characters_do_not_hide_a_number(disguise):
    """An attack got these past the guard; each is the same number to a human reader."""
    hidden = disguise(number(1985, 3, 15, "122"))
    assert kinds(f"Patienten {hidden} ringde.") == [PERSONNUMMER]


def test_look_alikes_keep_line_numbers_and_do_not_invent_numbers():
    text = "rad ett\nrad två\u200b\nPatient " + number(1985, 3, 15).replace("-", "\u2013")
    assert [hit.line for hit in find(text)] == [3]
    # Superscripts are digits to str.isdigit() but not decimal digits: no number here.
    assert find("850315²1220") == []
    assert find("Datum 2025-03-15 kl 1220") == []


@pytest.mark.parametrize(
    "separator",
    [
        "\u2010",  # hyphen
        "\u2011",  # non-breaking hyphen
        "\u2012",  # figure dash
        "\u2014",  # em dash
        "\u2015",  # horizontal bar
        "\u2e3a",  # two-em dash (category Pd, not in any fixed list)
        "\ufe58",  # small em dash
        "\ufe63",  # small hyphen-minus
        "\uff0d",  # fullwidth hyphen-minus
        "\u2007",  # figure space
        "\u3000",  # ideographic space
        "\u205f",  # medium mathematical space
        "\u2060",  # word joiner
        "\ufeff",  # byte-order mark
        "\u200e",  # left-to-right mark
        "\u034f",  # combining grapheme joiner
        "\u200b\u200c\u200d",  # several invisible characters in a row
        " - ",  # a space either side of the dash
        " \u2013 ",
    ],
)
def test_every_dash_space_and_invisible_separator_is_read(separator):
    hidden = number(1985, 3, 15, "122").replace("-", separator)
    assert kinds(f"Patienten {hidden} ringde.") == [PERSONNUMMER]


def test_nfkc_forms_are_read():
    pnr = number(1920, 6, 15, sep="+")
    assert kinds(pnr.replace("+", "\uff0b")) == [PERSONNUMMER]  # fullwidth plus
    circled = "".join(chr(0x2460 + int(c) - 1) if c in "123456789" else c for c in pnr)
    assert kinds(circled) == [PERSONNUMMER]  # NFKC reads circled digits as digits


@pytest.mark.parametrize(
    "text",
    [
        "Möte 2025-03-01, uppföljning 2025-03-01 – 2025-06-30",
        "Diarienummer RS 2025/123, RS 2024/1234 och IVO 3.5.1-12345/2025",
        "Ring 090-785 00 00, 0910-77 10 00 eller 08-123 456 78",
        "Vite 250 000 kr; nedsättning 1 250 000 kronor (3,5 %)",
        "Besök 2025-03-01 1400, org.nr 212000-2627",
        "Kl. 08.00–17.00, v. 12–14",
    ],
)
def test_ordinary_numbers_are_not_taken_for_identity_numbers(text):
    assert find(text) == []
