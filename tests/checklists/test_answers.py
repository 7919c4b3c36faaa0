"""Every answer type: compliant, partly, non-compliant, edge cases and bad input, as tables."""

import pytest

from checklists.answers import (
    AnswerError,
    Context,
    ParamError,
    Status,
    check_params,
    clean_answer,
    describe_rule,
    evaluate,
)
from checklists.models import AnswerType as T

C, P, N = Status.COMPLIANT, Status.PARTLY_COMPLIANT, Status.NON_COMPLIANT
R = Status.TO_REVIEW
CTX = Context(section="3.1.2", year=2025)

RATIO = {
    "subject": "läkare",
    "predicate": "är specialister i allmänmedicin",
    "numerator_label": "Antal specialister i allmänmedicin",
    "denominator_label": "Antal verksamma läkare",
    "rule": {"more_than": 0.5},
}
BEDS = {
    "subject": "disponibla vårdplatsdygn",
    "predicate": "var belagda",
    "numerator_label": "Antal belagda vårddygn",
    "denominator_label": "Antal disponibla vårdplatsdygn",
    "allow_over": True,
}
SCHEDULE = {
    "required": {"days": ["mon", "tue", "wed", "thu", "fri"], "open": "08:00", "close": "17:00"}
}
BASUTBUD = [
    "Beställ tid",
    "Av/omboka tid",
    "Förnya recept",
    "Förnya hjälpmedel",
    "Förläng sjukskrivning",
    "Beställ journalkopia",
    "Kontakta mig",
]
SELECTION = {"options": BASUTBUD}
SERVICE = {"measure": "Svarstid för ärenden via 1177", "unit": "working_days", "max": 3}


def week(**overrides):
    days = {d: {"open": "08.00", "close": "17.00"} for d in ("mon", "tue", "wed", "thu", "fri")}
    days.update(overrides)
    return {"days": days, "exceptions": ""}


# (answer type, params, raw input, expected status, words the explanation must contain)
EVALUATIONS = [
    (T.YES_NO, {}, {"answer": "yes"}, C, ["ja"]),
    (T.YES_NO, {}, {"answer": "Nej", "comment": "Pågår"}, N, ["nej", "kravet är ja"]),
    (T.YES_NO, {"expected": "no"}, {"answer": "no"}, C, ["nej"]),
    (T.YES_NO, {"expected": "no"}, {"answer": "yes"}, N, ["kravet är nej"]),
    (
        T.NAMED_PERSON,
        {"role_title": "Verksamhetschef"},
        {
            "persons": [
                {
                    "name": "Anna Andersson",
                    "title": "Verksamhetschef",
                    "hsa_id": "se2321000222-abc1",
                }
            ]
        },
        C,
        ["Anna Andersson"],
    ),
    (
        T.NAMED_PERSON,
        {"role_title": "Läkare", "min_persons": 2},
        {"persons": [{"name": "Bo Berg"}, {"name": ""}]},
        N,
        ["minst 2"],
    ),
    (
        T.COUNT_RATIO,
        RATIO,
        {"numerator": "5", "denominator": "8"},
        C,
        ["5 av 8 läkare (63 %) är specialister i allmänmedicin", "mer än hälften", "(§3.1.2)"],
    ),
    (
        T.COUNT_RATIO,
        RATIO,
        {"numerator": 3, "denominator": 8},
        N,
        ["3 av 8 läkare (38 %)", "mer än hälften"],
    ),
    (T.COUNT_RATIO, RATIO, {"numerator": 4, "denominator": 8}, N, ["4 av 8"]),  # half isn't more
    (
        T.COUNT_RATIO,
        {**RATIO, "rule": {"at_least": 1.0}},
        {"numerator": 8, "denominator": 8},
        C,
        ["samtliga"],
    ),
    (T.DATE_DEADLINE, {"deadline": "03-01"}, {"date": "2025-03-01"}, C, ["2025-03-01"]),
    (
        T.DATE_DEADLINE,
        {"deadline": "03-01"},
        {"date": "2025-03-14"},
        N,
        ["13 dagar efter sista dag 2025-03-01"],
    ),
    # The date must fall in the follow-up year: last year's report is not this year's.
    (
        T.DATE_DEADLINE,
        {"deadline": "03-01"},
        {"date": "2024-02-20"},
        N,
        ["2024-02-20 ligger inte i uppföljningsåret 2025", "2025-03-01"],
    ),
    (T.DATE_DEADLINE, {"deadline": "03-01"}, {"date": "2026-01-10"}, N, ["uppföljningsåret"]),
    # Without a rule a ratio is a reported figure (beläggning): counts kept, a reviewer judges.
    (
        T.COUNT_RATIO,
        BEDS,
        {"numerator": "1600", "denominator": "1460"},
        R,
        ["1600 av 1460 disponibla vårdplatsdygn (110 %) var belagda", "granskare"],
    ),
    (T.WEEKLY_SCHEDULE, SCHEDULE, week(), C, ["08.00–17.00"]),
    (T.WEEKLY_SCHEDULE, SCHEDULE, week(tue={"open": "07:30", "close": "18:00"}), C, []),
    (
        T.WEEKLY_SCHEDULE,
        SCHEDULE,
        week(fri={"open": "08:00", "close": "16:00"}, wed=None),
        P,
        ["onsdag (stängt)", "fredag (08.00–16.00)"],
    ),
    (
        T.WEEKLY_SCHEDULE,
        SCHEDULE,
        {"days": {"sat": {"open": "10:00", "close": "14:00"}}},
        N,
        ["måndag (stängt)"],
    ),
    (T.SELECTION, SELECTION, {"selected": BASUTBUD}, C, ["Alla 7"]),
    (
        T.SELECTION,
        SELECTION,
        {"selected": BASUTBUD[:5]},
        P,
        ["5 av 7", "saknas: Beställ journalkopia, Kontakta mig"],
    ),
    (T.SELECTION, SELECTION, {"selected": []}, N, ["0 av 7"]),
    (T.SELECTION, {"options": ["A", "B", "C"], "required": ["A"]}, {"selected": ["A"]}, C, []),
    (T.SERVICE_LEVEL, SERVICE, {"value": "3"}, C, ["3 arbetsdagar", "högst 3 arbetsdagar"]),
    (T.SERVICE_LEVEL, SERVICE, {"value": "2,5"}, C, ["2,5 arbetsdagar"]),
    (T.SERVICE_LEVEL, SERVICE, {"value": 4}, N, ["4 arbetsdagar — kravet är högst 3"]),
    (
        T.SERVICE_LEVEL,
        {"measure": "Andel besvarade", "unit": "percent", "min": 90},
        {"value": "85"},
        N,
        ["minst 90"],
    ),
    (T.NUMBER, {"unit": "percent"}, {"value": "87,5"}, R, ["87,5 %"]),
    (T.NUMBER, {"unit": "antal", "min": 1}, {"value": "0"}, N, ["0 — kravet är minst 1 ("]),
    (
        T.NUMBER,
        {"unit": "månader", "max": 3},
        {"value": "4"},
        N,
        ["4 månader — kravet är högst 3 månader"],
    ),
    (T.NUMBER, {"unit": "antal", "max": 10}, {"value": "4"}, C, []),
    (
        T.DOCUMENT,
        {"documents": "Patientsäkerhetsberättelse"},
        {"files": [{"sha256": "a" * 64, "filename": "psb.pdf", "size": 1000}]},
        R,
        ["1 fil uppladdade"],
    ),
    (T.FREE_TEXT, {}, {"text": "Vi samverkar med kommunen."}, R, ["granskare"]),
]


@pytest.mark.parametrize("answer_type, params, raw, status, words", EVALUATIONS)
def test_evaluation(answer_type, params, raw, status, words):
    check_params(answer_type, params)
    value = clean_answer(answer_type, params, raw)
    result = evaluate(answer_type, params, value, CTX)
    assert result.status == status, result.explanation
    for word in words:
        assert word in result.explanation


# (answer type, params, raw input, the field the error names, words in the Swedish message)
BAD_INPUT = [
    (T.YES_NO, {}, {"answer": "kanske"}, "answer", "Välj ja eller nej"),
    (T.YES_NO, {}, {"answer": "yes", "comment": "x" * 2001}, "comment", "högst 2000"),
    (
        T.NAMED_PERSON,
        {"role_title": "Verksamhetschef"},
        {"persons": []},
        "persons-1-name",
        "minst en person",
    ),
    (
        T.NAMED_PERSON,
        {"role_title": "X"},
        {"persons": [{"name": "A", "hsa_id": "12345"}]},
        "persons-1-hsa_id",
        "HSA-id ska ha formen",
    ),
    (
        T.NAMED_PERSON,
        {"role_title": "X"},
        {"persons": [{"title": "Läkare"}]},
        "persons-1-name",
        "Ange personens namn",
    ),
    (
        T.NAMED_PERSON,
        {"role_title": "X", "require_hsa_id": True},
        {"persons": [{"name": "A"}]},
        "persons-1-hsa_id",
        "HSA-id krävs",
    ),
    (
        T.COUNT_RATIO,
        RATIO,
        {"numerator": "9", "denominator": "8"},
        "numerator",
        "kan inte vara fler än",
    ),
    (T.COUNT_RATIO, RATIO, {"numerator": "1", "denominator": "0"}, "denominator", "minst 1"),
    (T.COUNT_RATIO, RATIO, {"numerator": "2,5", "denominator": "8"}, "numerator", "heltal"),
    (T.COUNT_RATIO, RATIO, {"numerator": "-1", "denominator": "8"}, "numerator", "negativt"),
    (T.COUNT_RATIO, RATIO, {"numerator": "fem", "denominator": "8"}, "numerator", "inte ett tal"),
    (T.COUNT_RATIO, RATIO, {"numerator": "", "denominator": "8"}, "numerator", "Ange ett värde"),
    (T.DATE_DEADLINE, {"deadline": "03-01"}, {"date": "1 mars"}, "date", "ÅÅÅÅ-MM-DD"),
    (T.DATE_DEADLINE, {"deadline": "03-01"}, {"date": "2025-02-30"}, "date", "ÅÅÅÅ-MM-DD"),
    (
        T.WEEKLY_SCHEDULE,
        SCHEDULE,
        week(mon={"open": "17:00", "close": "08:00"}),
        "mon-close",
        "efter öppningstiden",
    ),
    (
        T.WEEKLY_SCHEDULE,
        SCHEDULE,
        week(tue={"open": "25:00", "close": "17:00"}),
        "tue-open",
        "tt.mm",
    ),
    (T.WEEKLY_SCHEDULE, SCHEDULE, {"days": {}}, "mon-open", "minst en dag"),
    (
        T.SELECTION,
        SELECTION,
        {"selected": ["Beställ tid", "Teleportera"]},
        "selected",
        "”Teleportera” finns inte",
    ),
    (T.SERVICE_LEVEL, SERVICE, {"value": "snabbt"}, "value", "inte ett tal"),
    (
        T.SERVICE_LEVEL,
        {"measure": "Andel", "unit": "percent", "min": 90},
        {"value": "120"},
        "value",
        "mer än 100 %",
    ),
    (T.NUMBER, {"unit": "antal"}, {"value": "3,5"}, "value", "heltal"),
    (T.NUMBER, {"unit": "percent"}, {"value": "NaN"}, "value", "inte ett tal"),
    (T.DOCUMENT, {"documents": "Rutinen"}, {"files": []}, "files", "Ladda upp rutinen"),
    (
        T.DOCUMENT,
        {"documents": "Rutinen"},
        {"files": [{"sha256": "nope", "filename": "a.pdf", "size": 1}]},
        "files-1",
        "ofullständiga",
    ),
    (T.FREE_TEXT, {}, {"text": "   "}, "text", "måste fyllas i"),
]


@pytest.mark.parametrize("answer_type, params, raw, field, words", BAD_INPUT)
def test_bad_input_gets_clear_swedish_error(answer_type, params, raw, field, words):
    with pytest.raises(AnswerError) as excinfo:
        clean_answer(answer_type, params, raw)
    assert excinfo.value.field == field
    assert words in str(excinfo.value)


BAD_PARAMS = [
    (T.YES_NO, {"expected": "maybe"}, "expected"),
    (T.NAMED_PERSON, {}, "role_title"),
    (T.NAMED_PERSON, {"role_title": "X", "min_persons": 0}, "min_persons"),
    (T.COUNT_RATIO, {**RATIO, "rule": {"more_than": 0.5, "at_least": 1}}, "rule"),
    (T.COUNT_RATIO, {**RATIO, "rule": {"more_than": 50}}, "rule"),
    (T.COUNT_RATIO, {**BEDS, "allow_over": "ja"}, "allow_over"),
    (T.DATE_DEADLINE, {"deadline": "1 mars"}, "deadline"),
    (T.DATE_DEADLINE, {"deadline": "02-30"}, "deadline"),
    (
        T.WEEKLY_SCHEDULE,
        {"required": {"days": ["monday"], "open": "08:00", "close": "17:00"}},
        "required",
    ),
    (T.SELECTION, {"options": ["A"], "required": ["B"]}, "required"),
    (T.SERVICE_LEVEL, {"measure": "x", "unit": "weeks", "max": 3}, "unit"),
    (T.SERVICE_LEVEL, {"measure": "x", "unit": "working_days"}, "max"),
    (T.NUMBER, {"unit": "antal", "mystery": 1}, "mystery"),
]


@pytest.mark.parametrize("answer_type, params, field", BAD_PARAMS)
def test_bad_catalog_params_name_the_parameter(answer_type, params, field):
    with pytest.raises(ParamError) as excinfo:
        check_params(answer_type, params)
    assert excinfo.value.field == field


def test_not_applicable_and_not_answered():
    assert evaluate(T.YES_NO, {}, None, CTX).status == Status.NOT_ANSWERED
    assert (
        evaluate(T.YES_NO, {}, {"answer": "yes"}, CTX, applicable=False).status
        == Status.NOT_APPLICABLE
    )


def test_selection_keeps_catalog_order_and_rejects_nothing_known():
    value = clean_answer(T.SELECTION, SELECTION, {"selected": ["Kontakta mig", "Beställ tid"]})
    assert value == {"selected": ["Beställ tid", "Kontakta mig"]}


def test_rules_are_described_in_swedish():
    assert describe_rule(T.COUNT_RATIO, RATIO) == (
        "Andelen läkare som är specialister i allmänmedicin ska vara mer än hälften."
    )
    assert describe_rule(T.WEEKLY_SCHEDULE, SCHEDULE) == "Öppet måndag–fredag 08.00–17.00."
    assert describe_rule(T.DATE_DEADLINE, {"deadline": "03-01"}) == (
        "Senast 1 mars uppföljningsåret."
    )
    assert describe_rule(T.FREE_TEXT, {}) is None
    assert describe_rule(T.COUNT_RATIO, BEDS) is None


def test_unnumbered_section_is_referred_to_by_name():
    ctx = Context(section="Ljusbehandling", year=2023)
    result = evaluate(T.NUMBER, {"unit": "antal"}, {"value": 12.0}, ctx)
    assert result.explanation.endswith("(Ljusbehandling).")


@pytest.mark.parametrize(
    ("answer_type", "params", "raw", "field"),
    [
        (T.NUMBER, {"unit": "antal"}, {"value": "1e400"}, "value"),
        (T.NUMBER, {"unit": "antal"}, {"value": "9" * 400}, "value"),
        (
            T.SERVICE_LEVEL,
            {"measure": "Svarstid", "unit": "working_days", "max": 3},
            {"value": "1e5000"},
            "value",
        ),
        (T.NUMBER, {"unit": "antal"}, {"value": "²"}, "value"),
        (T.NUMBER, {"unit": "antal"}, {"value": "NaN"}, "value"),
        (T.NUMBER, {"unit": "antal"}, {"value": "-Infinity"}, "value"),
    ],
)
def test_absurd_numbers_are_a_clear_refusal(answer_type, params, raw, field):
    """Each of these once reached the database as Infinity or a 400-digit number (HTTP 500)."""
    with pytest.raises(AnswerError) as refused:
        clean_answer(answer_type, params, raw)
    assert refused.value.field == field
    assert len(str(refused.value)) < 120  # the message does not repeat 400 digits


def test_count_ratio_refuses_absurd_counts():
    params = {
        "subject": "läkare",
        "predicate": "är specialister",
        "numerator_label": "Specialister",
        "denominator_label": "Läkare",
        "rule": {"more_than": 0.5},
    }
    for bad in ("1e5000", "²", "3³"):
        with pytest.raises(AnswerError):
            clean_answer(T.COUNT_RATIO, params, {"numerator": "1", "denominator": bad})
