"""Checklist rounds at domain level, on both databases: opening respects applicability, saving
keeps what is valid, personal data is refused, no lost updates, submit/return/accept, findings."""

import datetime as dt

import pytest
import sqlalchemy as sa

from audit.models import Role, Unit, UnitKind
from audit.trail import AuditEvent
from audit.units import load_units
from checklists import operations as ops
from checklists.answers import Status
from checklists.applicability import applies
from checklists.catalog import EDITIONS_DIR, load_edition
from checklists.models import Requirement
from checklists.rounds import Checklist, ChecklistItem, ChecklistStatus, Finding
from tests.conftest import count
from tests.factories import TEST_ACTOR, make_unit, make_user, sample_answer


def synthetic_personnummer(date: dt.date, serial: int = 123) -> str:
    """A made-up but well-formed personnummer: YYMMDD-NNNC with a correct Luhn digit."""
    digits = date.strftime("%y%m%d") + f"{serial:03d}"
    total = 0
    for index, char in enumerate(digits):
        n = int(char) * (2 if index % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return f"{digits[:6]}-{digits[6:]}{(10 - total % 10) % 10}"


@pytest.fixture
def world(db):
    load_units(db, TEST_ACTOR)
    filial_main = db.scalar(sa.select(Unit).where(Unit.code == "backen"))
    make_unit(db, "backen-filial", kind=UnitKind.FILIAL, main_unit_id=filial_main.id)
    edition = load_edition(db, TEST_ACTOR, EDITIONS_DIR / "uor-2025.yaml").edition
    people = {
        "bo": make_user(db, "bo", (Role.BESTALLARE, None)),
        "vc": make_user(db, "vc", (Role.VERKSAMHETSCHEF, "byske")),
        "staff": make_user(db, "staff", (Role.PERSONAL, "byske")),
        "other": make_user(db, "other", (Role.VERKSAMHETSCHEF, "backen")),
    }
    return edition, people


def _open(db, world, **selection):
    edition, people = world
    return ops.open_round(
        db,
        people["bo"],
        edition=edition,
        title="Uppföljning 2025",
        year=2025,
        opens_on=dt.date(2025, 1, 1),
        deadline=dt.date(2025, 3, 31),
        selection=ops.RoundSelection(**selection),
    )


def _checklist(db, round_, code) -> Checklist:
    return db.scalar(
        sa.select(Checklist).join(Unit).where(Checklist.round_id == round_.id, Unit.code == code)
    )


def test_round_opening_respects_applicability(db, world):
    edition, _ = world
    round_ = _open(db, world)
    # populate_existing: has_filial is computed when a unit is loaded, and backen was loaded
    # before its filial was added.
    units = db.scalars(
        sa.select(Unit)
        .where(Unit.kind != UnitKind.FILIAL)
        .execution_options(populate_existing=True)
    ).all()
    requirements = db.scalars(
        sa.select(Requirement).where(Requirement.edition_id == edition.id)
    ).all()
    per_unit = dict(
        db.execute(
            sa.select(Unit.code, sa.func.count(ChecklistItem.id))
            .join(Checklist, Checklist.unit_id == Unit.id)
            .join(ChecklistItem)
            .where(Checklist.round_id == round_.id)
            .group_by(Unit.code)
        ).all()
    )
    for unit in units:
        expected = sum(1 for r in requirements if applies(r.applies_to, unit))
        assert per_unit.get(unit.code, 0) == expected, unit.code
    assert "backen-filial" not in per_unit  # §3.9: a filial reports inside its main unit
    byske = {i.requirement.code for i in _checklist(db, round_, "byske").items}
    backen = {i.requirement.code for i in _checklist(db, round_, "backen").items}
    sjukvardsgrupp = {r.code for r in requirements if "units" in r.applies_to}
    assert sjukvardsgrupp <= byske and not sjukvardsgrupp & backen
    filial = {r.code for r in requirements if "has_filial" in r.applies_to.get("flags", [])}
    assert filial <= backen and not filial & byske  # §3.9: only the unit that has a filial


def test_round_for_chosen_requirements_and_units(db, world):
    edition, _ = world
    ids = db.scalars(
        sa.select(Requirement.id).where(
            Requirement.edition_id == edition.id, Requirement.area == "tillganglighet"
        )
    ).all()
    unit_ids = db.scalars(sa.select(Unit.id).where(Unit.code.in_(["byske", "backen"]))).all()
    round_ = _open(db, world, requirement_ids=ids, unit_ids=unit_ids)
    checklists = db.scalars(sa.select(Checklist).where(Checklist.round_id == round_.id)).all()
    assert {c.unit.code for c in checklists} == {"byske", "backen"}
    assert all(len(c.items) == len(ids) for c in checklists)


@pytest.mark.parametrize("who", ["vc", "staff"])
def test_only_reviewers_open_rounds(db, world, who):
    edition, people = world
    with pytest.raises(ops.ChecklistError, match="beställare och granskare"):
        ops.open_round(
            db,
            people[who],
            edition=edition,
            title="x",
            year=2025,
            opens_on=dt.date(2025, 1, 1),
            deadline=dt.date(2025, 2, 1),
        )


def test_deadline_before_opening_refused(db, world):
    edition, people = world
    with pytest.raises(ops.ChecklistError, match="Sista svarsdag"):
        ops.open_round(
            db,
            people["bo"],
            edition=edition,
            title="x",
            year=2025,
            opens_on=dt.date(2025, 2, 1),
            deadline=dt.date(2025, 1, 1),
        )


def _items(checklist):
    return {i.requirement.code: i for i in checklist.items}


def save(db, user, checklist, raws: dict, version: int | None = None):
    """Save raw answers by item id, each at the item's current version (or ``version``)."""
    items = {i.id: i for i in checklist.items}
    return ops.save_answers(
        db,
        user,
        checklist,
        {
            item_id: (items[item_id].version if version is None else version, None, raw)
            for item_id, raw in raws.items()
        },
    )


def test_saving_evaluates_and_keeps_valid_answers_past_bad_ones(db, world):
    round_ = _open(db, world)
    checklist = _checklist(db, round_, "byske")
    items = _items(checklist)
    ratio = items["kompetens.lakare-specialister-allmanmedicin"]
    basutbud = items["tillganglighet.1177-basutbud"]
    deadline = items["kvalitet.patientsakerhetsberattelse"]
    outcomes = save(
        db,
        world[1]["staff"],
        checklist,
        {
            ratio.id: {"numerator": "3", "denominator": "8"},
            basutbud.id: {"selected": ["Beställ tid", "Förnya recept"]},
            deadline.id: {"date": "1 mars"},
        },
    )
    assert {i for i, o in outcomes.items() if o.state == "saved"} == {ratio.id, basutbud.id}
    assert outcomes[deadline.id].state == "invalid"
    assert "ÅÅÅÅ-MM-DD" in str(outcomes[deadline.id].error)
    assert outcomes[deadline.id].error.field == "date"
    assert ratio.auto_status == Status.NON_COMPLIANT
    assert ratio.auto_explanation.startswith("3 av 8 läkare (38 %)")
    assert basutbud.auto_status == Status.PARTLY_COMPLIANT
    assert deadline.value is None and deadline.version == 1 and ratio.version == 2


def test_personnummer_is_refused_and_not_stored(db, world):
    round_ = _open(db, world)
    checklist = _checklist(db, round_, "byske")
    item = next(i for i in checklist.items if str(i.requirement.answer_type) == "yes_no")
    number = synthetic_personnummer(dt.date(1961, 7, 14))
    events = count(db, AuditEvent)
    outcomes = save(
        db,
        world[1]["staff"],
        checklist,
        {item.id: {"answer": "yes", "comment": f"Gäller patient {number}, se journal."}},
    )
    assert outcomes[item.id].state == "invalid"
    message = str(outcomes[item.id].error)
    assert "personnummer" in message and number not in message
    assert item.value is None and count(db, AuditEvent) == events
    stored = db.execute(
        sa.text("SELECT count(*) FROM audit_events WHERE after LIKE :n"), {"n": f"%{number}%"}
    ).scalar()
    assert stored == 0


def test_conflict_only_on_the_same_item(db, world):
    round_ = _open(db, world)
    checklist = _checklist(db, round_, "byske")
    first, second = [i for i in checklist.items if str(i.requirement.answer_type) == "yes_no"][:2]
    save(db, world[1]["vc"], checklist, {first.id: {"answer": "yes"}}, version=1)
    # Another item loaded at the same moment: no conflict.
    assert (
        save(db, world[1]["staff"], checklist, {second.id: {"answer": "no"}}, version=1)[
            second.id
        ].state
        == "saved"
    )
    # The same item from a stale page: a conflict with both values and who saved it.
    outcome = save(db, world[1]["staff"], checklist, {first.id: {"answer": "no"}}, version=1)[
        first.id
    ]
    assert outcome.state == "conflict"
    assert outcome.conflict.current_value == {"answer": "yes"}
    assert outcome.conflict.yours == {"answer": "no"}
    assert outcome.conflict.current_version == 2
    assert outcome.conflict.changed_by == world[1]["vc"].display_name
    assert first.value == {"answer": "yes"}
    # With the current version the second person's answer goes through.
    assert (
        save(db, world[1]["staff"], checklist, {first.id: {"answer": "no"}}, version=2)[
            first.id
        ].state
        == "saved"
    )
    assert first.value == {"answer": "no"} and first.version == 3


def test_quiet_period_is_not_applicable_and_needs_a_reason(db, world):
    round_ = _open(db, world)
    checklist = _checklist(db, round_, "byske")
    event = next(i for i in checklist.items if i.requirement.recurrence == "on_event")
    steady = next(i for i in checklist.items if i.requirement.recurrence == "continuous")
    outcome = save(db, world[1]["staff"], checklist, {event.id: {"not_applicable": True}})
    assert outcome[event.id].state == "invalid" and outcome[event.id].error.field == "reason"
    save(
        db,
        world[1]["staff"],
        checklist,
        {event.id: {"not_applicable": True, "reason": "Ingen sådan händelse under 2025."}},
    )
    assert event.auto_status == Status.NOT_APPLICABLE
    assert event.value == {"not_applicable": True, "reason": "Ingen sådan händelse under 2025."}
    # An item that always applies cannot be answered "ej aktuellt".
    outcome = save(
        db, world[1]["staff"], checklist, {steady.id: {"not_applicable": True, "reason": "x"}}
    )
    assert outcome[steady.id].state == "invalid" or steady.auto_status != Status.NOT_APPLICABLE


def test_other_units_staff_cannot_answer(db, world):
    round_ = _open(db, world)
    checklist = _checklist(db, round_, "byske")
    with pytest.raises(ops.ChecklistError, match="kan inte besvara"):
        ops.save_answers(db, world[1]["other"], checklist, {})


def _answer_all(db, user, checklist, compliant=True):
    return save(
        db,
        user,
        checklist,
        {
            i.id: ops_raw
            for i in checklist.items
            if (ops_raw := sample_answer(i.requirement, compliant))
        },
    )


def test_submit_guard_lock_return_and_resubmit_then_accept_with_findings(db, world):
    _, people = world
    edition = world[0]
    ids = db.scalars(
        sa.select(Requirement.id).where(
            Requirement.edition_id == edition.id, Requirement.section.in_(["3.1.2", "2.7.3"])
        )
    ).all()
    round_ = _open(db, world, requirement_ids=ids)
    checklist = _checklist(db, round_, "byske")
    with pytest.raises(ops.ChecklistError, match="punkter är inte besvarade"):
        ops.submit(db, people["vc"], checklist)
    result = _answer_all(db, people["staff"], checklist)
    assert all(o.ok for o in result.values())
    with pytest.raises(ops.ChecklistError, match="Bara enhetens verksamhetschef"):
        ops.submit(db, people["staff"], checklist)
    ops.submit(db, people["vc"], checklist)
    assert checklist.status == ChecklistStatus.SUBMITTED
    with pytest.raises(ops.ChecklistError, match="låst"):
        ops.save_answers(db, people["vc"], checklist, {})
    items = _items(checklist)
    ratio = items["kompetens.lakare-specialister-allmanmedicin"]
    ops.return_for_completion(
        db, people["bo"], checklist, [ratio.id], "Ange antalet läkare per den 1 mars."
    )
    assert checklist.status == ChecklistStatus.RETURNED and ratio.needs_completion
    save(db, people["vc"], checklist, {ratio.id: {"numerator": "3", "denominator": "8"}})
    ops.submit(db, people["vc"], checklist)
    assert not ratio.needs_completion
    with pytest.raises(Exception, match="skälet"):
        ops.override(
            db, people["bo"], items["tillganglighet.1177-basutbud"], Status.PARTLY_COMPLIANT, "  "
        )
    ops.override(
        db,
        people["bo"],
        items["tillganglighet.1177-basutbud"],
        Status.PARTLY_COMPLIANT,
        "Kontakta mig saknas i praktiken enligt stickprov.",
    )
    findings = ops.accept(db, people["bo"], checklist)
    assert checklist.status == ChecklistStatus.ACCEPTED
    assert {f.requirement.code for f in findings} == {
        "kompetens.lakare-specialister-allmanmedicin",
        "tillganglighet.1177-basutbud",
    }
    basutbud = next(f for f in findings if f.requirement.code == "tillganglighet.1177-basutbud")
    assert basutbud.statement.startswith("Kontakta mig saknas")
    assert count(db, Finding) == 2
    with pytest.raises(ops.ChecklistError, match="Bara en inskickad"):
        ops.accept(db, people["bo"], checklist)


def test_unit_staff_cannot_review(db, world):
    round_ = _open(db, world)
    checklist = _checklist(db, round_, "byske")
    item = checklist.items[0]
    with pytest.raises(ops.ChecklistError, match="beställare och granskare"):
        ops.override(db, world[1]["vc"], item, Status.COMPLIANT, "Jag tycker det")
    with pytest.raises(ops.ChecklistError, match="beställare och granskare"):
        ops.accept(db, world[1]["vc"], checklist)


def test_accept_needs_a_judgement_on_every_item_no_rule_can_judge(db, world):
    edition, people = world
    ids = db.scalars(
        sa.select(Requirement.id).where(
            Requirement.edition_id == edition.id, Requirement.section == "2.6"
        )
    ).all()
    round_ = _open(db, world, requirement_ids=ids)
    checklist = _checklist(db, round_, "byske")
    _answer_all(db, people["staff"], checklist)
    ops.submit(db, people["vc"], checklist)
    unjudged = [i for i in checklist.items if i.status == Status.TO_REVIEW]
    assert unjudged, "§2.6 has document items"
    with pytest.raises(ops.ChecklistError, match="saknar din bedömning"):
        ops.accept(db, people["bo"], checklist)
    assert checklist.status == ChecklistStatus.SUBMITTED
    for item in unjudged:
        ops.override(db, people["bo"], item, Status.COMPLIANT, "Rutinen är fastställd.")
    ops.accept(db, people["bo"], checklist)
    assert checklist.status == ChecklistStatus.ACCEPTED
