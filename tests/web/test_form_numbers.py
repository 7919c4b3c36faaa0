"""Numbers typed into the workflow forms: anything that is not a sane number is refused as
missing, never a 500 (superscript digits, 10^30 kronor, 1e400, NaN)."""

import pytest

from web.workflow_views import MAX_INT, parse_int, parse_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("50 000", 50_000),
        ("50\u00a0000", 50_000),
        (str(MAX_INT), MAX_INT),
        (str(MAX_INT + 1), None),
        ("1" + "0" * 30, None),
        (str(2**63), None),
        ("²", None),
        ("3³", None),
        ("٣", None),  # an Arabic-Indic three: a digit to str.isdigit(), not to the column
        ("-5", None),
        ("", None),
    ],
)
def test_parse_int(text, expected):
    assert parse_int(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2,5", 2.5), ("10", 10.0), ("1e400", None), ("nan", None), ("inf", None), ("1e30", None)],
)
def test_parse_number(text, expected):
    assert parse_number(text) == expected
