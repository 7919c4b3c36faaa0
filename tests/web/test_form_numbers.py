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


@pytest.mark.parametrize(
    "path",
    [
        f"/checklistor/{2**63}",
        f"/checklistor/{2**63}/avsnitt/2.7",
        f"/dialoger/{10**30}",
        f"/atgardsplaner/{2**64}",
        f"/sanktioner/{2**63 + 1}",
        f"/checklistor/underlag/{2**70}",
    ],
)
def test_huge_ids_in_urls_are_not_found(client, db, path):
    from audit.models import Role
    from tests.conftest import login
    from tests.factories import PASSWORD, make_user

    make_user(db, "bo", (Role.BESTALLARE, None))
    db.commit()
    login(client, "bo", PASSWORD)
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("page", ["²", str(2**70), "-3", "x"])
def test_audit_log_page_number_is_forgiving(client, db, page):
    from audit.models import Role
    from tests.conftest import login
    from tests.factories import PASSWORD, make_user

    make_user(db, "bo", (Role.BESTALLARE, None))
    db.commit()
    login(client, "bo", PASSWORD)
    assert client.get("/granskningslogg/", query_string={"sida": page}).status_code == 200
