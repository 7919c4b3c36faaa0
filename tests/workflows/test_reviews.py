"""Särskild fördjupning (§7.1.3): the machine (every trigger from every state), its guards and
roles, the signals, requirements and files, its three endings linked both ways, the dialog's
"fördjupning" disposition, the deadline scan, the year's reviews, and random sequences
(Hypothesis) that keep every state valid and the trail whole — on both databases."""

import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.models import Role, Unit
from audit.personal_data import PersonalDataError
from audit.trail import AuditEvent, verify
from checklists.evidence import EvidenceStore, check_upload
from tests.factories import make_unit, make_user
from tests.review_factories import make_finding
from workflows import action_plan as ap
from workflows import deadlines
from workflows import dialog as dl
from workflows.engine import WorkflowError
from workflows.models import ActionPlan, DialogFinding, Disposition, SanctionCase
from workflows.reviews import operations as ops
from workflows.reviews.machine import REVIEW, STATE_LABELS, today
from workflows.reviews.models import InDepthReview, ReviewState, SignalKind

R = ReviewState
TODAY = dt.date.today()
LATER = TODAY + dt.timedelta(days=60)


def review_events(db, review) -> int:
    return db.scalar(
        sa.select(sa.func.count()).where(
            AuditEvent.entity_type == "in_depth_review", AuditEvent.entity_id == str(review.id)
        )
    )


@pytest.fixture
def people(db):
    make_unit(db, "byske", operator="privat")
    make_unit(db, "backen")
    return {
        "bo": make_user(db, "bo", (Role.BESTALLARE, None)),
        "greta": make_user(db, "greta", (Role.GRANSKARE, None)),
        "vc": make_user(db, "vc", (Role.VERKSAMHETSCHEF, "byske")),
        "staff": make_user(db, "staff", (Role.PERSONAL, "byske")),
        "other_vc": make_user(db, "other_vc", (Role.VERKSAMHETSCHEF, "backen")),
    }


def unit(db, code="byske"):
    return db.scalar(sa.select(Unit).where(Unit.code == code))


def new_review(db, people, **signals):
    signals = signals or {"complaints": ["Flera klagomål på telefontillgängligheten."]}
    return ops.open_review(
        db,
        people["bo"],
        unit(db),
        title="Tillgänglighet",
        concern="Signaler om brister.",
        **signals,
    )


# What each trigger needs to pass its guards.
GOOD = {
    "request_review_material": {
        "material_request": "Bemanningsplan och svar.",
        "material_days": 10,
    },
    "extend_material_deadline": {"extra_days": 5},
    "submit_review_material": {"answer": "Bifogar planen."},
    "conclude_review": {"analysis": "Bristen består.", "conclusions": "Krav behövs."},
    "end_with_action_plan": {"plan_due": TODAY + dt.timedelta(days=20)},
    "end_with_sanction_case": {"diarienummer": "RS 2025/77"},
    "end_without_action": {},
    "cancel_review": {},
}
WHO = {"submit_review_material": "vc"}


def fire(db, people, review, trigger, who=None, **overrides):
    data = {**GOOD[trigger], **overrides}
    reason = "Skäl i test." if REVIEW.triggers[trigger].needs_reason else None
    REVIEW.fire(
        db, people[who or WHO.get(trigger, "bo")], review, trigger, data=data, reason=reason
    )


@pytest.mark.parametrize("state", list(R), ids=str)
@pytest.mark.parametrize("trigger", list(REVIEW.triggers))
def test_every_trigger_from_every_state(db, people, state, trigger):
    """From every state: a trigger the machine does not allow is refused naming the state and
    changes nothing; one it allows passes with good data, with exactly one event."""
    review = new_review(db, people)
    ops.add_requirement(db, people["bo"], review, text="Rutin för återuppringning.", due_date=LATER)
    review.status = state  # placed directly in the state under test (test only)
    review.material_deadline = TODAY - dt.timedelta(days=1)
    db.flush()
    spec = REVIEW.triggers[trigger]
    events = review_events(db, review)
    if state not in spec.source:
        with pytest.raises(WorkflowError, match="går inte när ärendet är") as refused:
            fire(db, people, review, trigger)
        assert STATE_LABELS[state].lower() in str(refused.value)
        assert review.status == state and review_events(db, review) == events
        return
    fire(db, people, review, trigger)
    assert review.status == spec.dest and review_events(db, review) == events + 1


@pytest.mark.parametrize(
    "trigger, state, overrides, message",
    [
        ("request_review_material", R.OPENED, {"material_request": " "}, "Beskriv vilket"),
        ("request_review_material", R.OPENED, {"material_days": 0}, "arbetsdagar"),
        ("request_review_material", R.OPENED, {"material_days": 61}, "arbetsdagar"),
        ("submit_review_material", R.MATERIAL_REQUESTED, {"answer": ""}, "enhetens svar"),
        ("conclude_review", R.OPENED, {"analysis": ""}, "analysen"),
        ("conclude_review", R.OPENED, {"conclusions": ""}, "slutsatserna"),
        ("end_with_action_plan", R.CONCLUDED, {"plan_due": None}, "sista dag"),
        (
            "end_with_action_plan",
            R.CONCLUDED,
            {"plan_due": TODAY - dt.timedelta(days=1)},
            "passerat",
        ),
        (
            "end_with_action_plan",
            R.CONCLUDED,
            {"plan_due": LATER + dt.timedelta(days=1)},
            "sista kravet",
        ),
        ("end_with_sanction_case", R.CONCLUDED, {"diarienummer": "123"}, "diarienummer"),
    ],
)
def test_guards_say_what_is_missing(db, people, trigger, state, overrides, message):
    review = new_review(db, people)
    ops.add_requirement(db, people["bo"], review, text="Krav.", due_date=LATER)
    review.status = state
    db.flush()
    events = review_events(db, review)
    with pytest.raises(WorkflowError, match=message):
        fire(db, people, review, trigger, **overrides)
    assert review.status == state and review_events(db, review) == events


@pytest.mark.parametrize(
    "trigger, state, who",
    [
        ("request_review_material", R.OPENED, "vc"),
        ("request_review_material", R.OPENED, "greta"),  # granskare read
        ("submit_review_material", R.MATERIAL_REQUESTED, "other_vc"),  # another unit's head
        ("submit_review_material", R.MATERIAL_REQUESTED, "bo"),
        ("conclude_review", R.MATERIAL_SUBMITTED, "greta"),
        ("end_with_action_plan", R.CONCLUDED, "vc"),
        ("cancel_review", R.OPENED, "staff"),
    ],
)
def test_roles_are_checked(db, people, trigger, state, who):
    review = new_review(db, people)
    review.status = state
    db.flush()
    with pytest.raises(WorkflowError, match="behörighet"):
        fire(db, people, review, trigger, who=who)


def test_unit_staff_answer_the_request(db, people):
    review = new_review(db, people)
    fire(db, people, review, "request_review_material")
    fire(db, people, review, "submit_review_material", who="staff")
    assert review.status == R.MATERIAL_SUBMITTED and review.answered_on == today()


def test_a_review_from_signals_to_an_action_plan_linked_both_ways(db, people, tmp_path):
    finding = make_finding(db, unit(db))
    review = new_review(db, people, finding_ids=[finding.id])
    fire(db, people, review, "request_review_material")
    assert review.material_deadline > TODAY  # ten working days on
    store = EvidenceStore(tmp_path)
    data = b"Bemanningsplan 2025"
    ops.add_review_file(db, people["staff"], review, check_upload("plan.txt", data), data, store)
    fire(db, people, review, "submit_review_material", answer="Planen bifogad.")
    fire(db, people, review, "conclude_review")
    with pytest.raises(WorkflowError, match="minst ett krav"):
        fire(db, people, review, "end_with_action_plan")
    ops.add_requirement(db, people["bo"], review, text="Återuppringning samma dag.", due_date=LATER)
    fire(db, people, review, "end_with_action_plan")
    plan = db.get(ActionPlan, review.action_plan_id)
    assert review.status == R.ACTION_PLAN and plan.status == ap.P.REQUESTED
    assert "Återuppringning samma dag." in plan.requirements and plan.measures_due == LATER
    assert [f.finding_id for f in plan.findings] == [finding.id]
    assert ops.reviews_linked(db, plan_id=plan.id) == [review]
    assert ops.reviews_linked(db, finding_id=finding.id) == [review]
    assert verify(db).ok


def test_a_review_ending_in_a_sanction_case(db, people):
    finding = make_finding(db, unit(db))
    review = new_review(db, people, finding_ids=[finding.id])
    fire(db, people, review, "conclude_review")
    fire(db, people, review, "end_with_sanction_case", diarienummer="rs 2025/77")
    case = db.get(SanctionCase, review.sanction_case_id)
    assert review.status == R.SANCTION and case.case_number == "RS 2025/77"
    assert "Krav behövs." in case.grounds
    assert [g.finding_id for g in case.ground_findings] == [finding.id]
    assert ops.reviews_linked(db, sanction_case_id=case.id) == [review]


def test_a_refused_ending_opens_nothing(db, people):
    review = new_review(db, people)
    fire(db, people, review, "conclude_review")
    plans = db.scalar(sa.select(sa.func.count()).select_from(ActionPlan))
    with pytest.raises(WorkflowError):
        fire(db, people, review, "end_with_action_plan")  # no requirements
    assert db.scalar(sa.select(sa.func.count()).select_from(ActionPlan)) == plans
    assert review.action_plan_id is None and review.status == R.CONCLUDED


def test_no_action_and_cancel_need_a_reason(db, people):
    review = new_review(db, people)
    fire(db, people, review, "conclude_review")
    with pytest.raises(WorkflowError, match="skäl"):
        REVIEW.fire(db, people["bo"], review, "end_without_action")
    REVIEW.fire(db, people["bo"], review, "end_without_action", reason="Bristen är åtgärdad.")
    assert review.status == R.NO_ACTION and review.end_reason == "Bristen är åtgärdad."
    other = new_review(db, people)
    with pytest.raises(WorkflowError, match="skäl"):
        REVIEW.fire(db, people["bo"], other, "cancel_review")


def test_conclusions_without_the_material_only_after_its_deadline(db, people):
    review = new_review(db, people)
    fire(db, people, review, "request_review_material", material_days=3)
    with pytest.raises(WorkflowError, match="till och med"):
        fire(db, people, review, "conclude_review")
    review.material_deadline = TODAY - dt.timedelta(days=1)  # the deadline has passed
    fire(db, people, review, "conclude_review")
    event = db.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.after_data()["material_not_received"] is True


def test_the_deadline_can_be_extended_with_a_reason(db, people):
    review = new_review(db, people)
    fire(db, people, review, "request_review_material", material_days=3)
    before = review.material_deadline
    fire(db, people, review, "extend_material_deadline", extra_days=5)
    assert review.material_deadline > before and review.status == R.MATERIAL_REQUESTED


def test_signals_are_checked_and_recorded(db, people):
    own, other = unit(db), unit(db, "backen")
    first = make_finding(db, own, year=2024)
    second = make_finding(db, own, year=2025)
    foreign = make_finding(db, other, year=2025, requirement_index=1)
    breaches = ops.repeated_breaches(db, own)
    assert [(b.years) for b in breaches] == [(2024, 2025)]
    with pytest.raises(WorkflowError, match="minst en risksignal"):
        ops.open_review(db, people["bo"], own, title="T", concern="C", complaints=["  "])
    with pytest.raises(WorkflowError, match="höra till enheten"):
        ops.open_review(db, people["bo"], own, title="T", concern="C", finding_ids=[foreign.id])
    with pytest.raises(WorkflowError, match="upprepade brister"):
        ops.open_review(db, people["bo"], own, title="T", concern="C", breach_codes=["X"])
    with pytest.raises(WorkflowError, match="beställare"):
        ops.open_review(db, people["vc"], own, title="T", concern="C", finding_ids=[first.id])
    review = ops.open_review(
        db,
        people["bo"],
        own,
        title="T",
        concern="C",
        finding_ids=[first.id, second.id],
        breach_codes=[breaches[0].code],
        complaints=["Klagomål via 1177 om väntetider."],
    )
    kinds = sorted(s.kind.value for s in review.signals)
    assert kinds == ["complaint", "finding", "finding", "repeated_breach"]
    created = db.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "in_depth_review", AuditEvent.action == "create"
        )
    ).all()[-1]
    assert len(created.after_data()["signals"]) == 4


def test_a_complaint_with_a_personnummer_is_refused(db, people):
    with pytest.raises(PersonalDataError):
        ops.open_review(
            db,
            people["bo"],
            unit(db),
            title="T",
            concern="C",
            complaints=["Patient 19121212-1212 klagar."],
        )


def test_a_file_with_a_personnummer_is_refused_and_files_only_while_asked(db, people, tmp_path):
    review = new_review(db, people)
    store = EvidenceStore(tmp_path)
    data = b"Journal 19121212-1212"
    with pytest.raises(WorkflowError, match="Underlag lämnas medan"):
        ops.add_review_file(db, people["vc"], review, check_upload("a.txt", data), data, store)
    fire(db, people, review, "request_review_material")
    with pytest.raises(WorkflowError, match="personnummer"):
        ops.add_review_file(db, people["vc"], review, check_upload("a.txt", data), data, store)
    with pytest.raises(WorkflowError, match="verksamhetschef och personal"):
        ops.add_review_file(db, people["bo"], review, check_upload("b.txt", b"ok"), b"ok", store)
    row = ops.add_review_file(db, people["vc"], review, check_upload("b.txt", b"ok"), b"ok", store)
    ops.remove_review_file(db, people["vc"], row)
    assert row.removed_at is not None


def test_requirements_are_the_purchasers_until_the_review_ends(db, people):
    review = new_review(db, people)
    with pytest.raises(WorkflowError, match="beställare"):
        ops.add_requirement(db, people["vc"], review, text="K", due_date=LATER)
    with pytest.raises(WorkflowError, match="Skriv kravet"):
        ops.add_requirement(db, people["bo"], review, text=" ", due_date=LATER)
    with pytest.raises(WorkflowError, match="passerat"):
        ops.add_requirement(db, people["bo"], review, text="K", due_date=TODAY - dt.timedelta(1))
    row = ops.add_requirement(db, people["bo"], review, text="K", due_date=LATER)
    ops.remove_requirement(db, people["bo"], row)
    assert review.requirements == []
    REVIEW.fire(db, people["bo"], review, "cancel_review", reason="Felregistrerad.")
    with pytest.raises(WorkflowError, match="avbruten"):
        ops.add_requirement(db, people["bo"], review, text="K", due_date=LATER)


def test_the_dialogs_disposition_opens_a_review_with_the_finding(db, people):
    own = unit(db)
    finding = make_finding(db, own)
    dialog = dl.open_dialog(db, people["bo"], own, "Dialog")
    entry = db.scalar(sa.select(DialogFinding).where(DialogFinding.dialog_id == dialog.id))
    dialog.status = dl.S.MEETING_HELD
    db.flush()
    dl.set_disposition(
        db, people["bo"], dialog, entry, Disposition.IN_DEPTH_REVIEW, "Tecken på större brister."
    )
    review = db.scalar(sa.select(InDepthReview).where(InDepthReview.dialog_id == dialog.id))
    assert review.concern == "Tecken på större brister."
    assert [(s.kind, s.finding_id) for s in review.signals] == [(SignalKind.FINDING, finding.id)]
    # Choosing it again does not open a second review on the same finding.
    dl.set_disposition(db, people["bo"], dialog, entry, Disposition.IN_DEPTH_REVIEW, None)
    assert db.scalar(sa.select(sa.func.count()).select_from(InDepthReview)) == 1
    assert ops.open_review_from_finding(db, finding, people["bo"]) == review
    # While the review is open the disposition cannot change; once cancelled, it can.
    with pytest.raises(WorkflowError, match="fördjupningen"):
        dl.set_disposition(db, people["bo"], dialog, entry, Disposition.NO_ACTION, None)
    REVIEW.fire(db, people["bo"], review, "cancel_review", reason="Hanteras i dialogen.")
    dl.set_disposition(db, people["bo"], dialog, entry, Disposition.NO_ACTION, None)
    assert entry.disposition == Disposition.NO_ACTION


def test_the_deadline_scan_reminds_of_the_material(db, people):
    review = new_review(db, people)
    fire(db, people, review, "request_review_material", material_days=2)
    found = [d for d in deadlines.open_deadlines(db) if d.entity_type == "in_depth_review"]
    assert [(d.entity_id, d.due_on) for d in found] == [(review.id, review.material_deadline)]
    result = deadlines.scan(db, TODAY)
    assert result.due_soon >= 1
    late = deadlines.scan(db, review.material_deadline + dt.timedelta(days=1))
    assert late.overdue >= 1
    fire(db, people, review, "submit_review_material")
    assert not [d for d in deadlines.open_deadlines(db) if d.entity_type == "in_depth_review"]


def test_reviews_for_year_in_a_fixed_number_of_queries(db, people):
    own = unit(db)
    for n in range(3):
        review = new_review(db, people)
        ops.add_requirement(db, people["bo"], review, text=f"Krav {n}", due_date=LATER)
        fire(db, people, review, "conclude_review")
    ops.open_review(
        db, people["bo"], unit(db, "backen"), title="B", concern="C", complaints=["Klagomål."]
    )
    statements = []

    def count(*args, **kwargs):
        statements.append(args[2] if len(args) > 2 else None)

    connection = db.connection()
    sa.event.listen(connection, "before_cursor_execute", count)
    try:
        year = ops.reviews_for_year(db, TODAY.year, units=[own])
    finally:
        sa.event.remove(connection, "before_cursor_execute", count)
    assert len(year) == 3 and len(statements) <= 4
    first = year[0]
    assert first.unit_code == "byske" and first.conclusions == "Krav behövs."
    assert first.requirements[0]["text"].startswith("Krav ")
    assert first.signals[0]["kind"] == "complaint" and first.outcome is None
    assert len(ops.reviews_for_year(db, TODAY.year)) == 4
    assert ops.reviews_for_year(db, TODAY.year - 1) == []
    # Opened last year, concluded this year: in both years' analyses.
    row = db.get(InDepthReview, first.id)
    row.created_at = row.created_at.replace(year=TODAY.year - 1)
    db.flush()
    assert [r.id for r in ops.reviews_for_year(db, TODAY.year - 1)] == [row.id]
    assert row.id in [r.id for r in ops.reviews_for_year(db, TODAY.year)]
    assert len(ops.reviews_for_year(db, TODAY.year, units=["backen"])) == 1


def test_the_help_pages_diagram_is_drawn_from_the_machine():
    from workflows.diagram import svg, transitions

    picture = svg(REVIEW)
    for label in STATE_LABELS.values():
        assert label in picture
    rows = transitions(REVIEW)
    assert len(rows) == sum(len(t.source) for t in REVIEW.triggers.values())
    assert "stateDiagram" in REVIEW.diagram()


ACTIONS = [*REVIEW.triggers, "add_requirement", "remove_requirement", "add_file"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(ACTIONS),
            st.sampled_from(["bo", "greta", "vc", "staff", "other_vc"]),
            st.booleans(),  # good data, or none
        ),
        max_size=14,
    )
)
def test_random_sequences_keep_the_review_sound(db, people, steps, tmp_path_factory):
    store = EvidenceStore(tmp_path_factory.mktemp("underlag"))
    review = new_review(db, people)
    for action, who, good in steps:
        before, events = review.status, review_events(db, review)
        try:
            if action == "add_requirement":
                ops.add_requirement(
                    db, people[who], review, text="Krav" if good else "", due_date=LATER
                )
            elif action == "remove_requirement":
                if not review.requirements:
                    continue
                ops.remove_requirement(db, people[who], review.requirements[0])
            elif action == "add_file":
                ops.add_review_file(
                    db, people[who], review, check_upload("u.txt", b"u"), b"u", store
                )
            else:
                data = GOOD[action] if good else {}
                reason = "Skäl." if good else None
                REVIEW.fire(db, people[who], review, action, data=dict(data), reason=reason)
        except WorkflowError:
            assert review.status == before and review_events(db, review) == events
        else:
            assert review_events(db, review) == events + 1
        assert review.status in set(R)
        assert (review.status == R.ACTION_PLAN) == (review.action_plan_id is not None)
        assert (review.status == R.SANCTION) == (review.sanction_case_id is not None)
    assert verify(db).ok


def test_an_over_long_title_is_refused_not_cut(db, people):
    from audit.text import TextRefused

    with pytest.raises(TextRefused, match="högst 200 tecken"):
        ops.open_review(db, people["bo"], unit(db), title="x" * 201, concern="C", complaints=["K"])


def test_the_evidence_gc_keeps_a_reviews_files(db, people, tmp_path):
    """The unit's files live in the evidence store, marked as its column: the gc finds their
    rows and never takes them for orphans."""
    from checklists.evidence import collect_garbage
    from workflows.reviews.models import ReviewFile

    review = new_review(db, people)
    store = EvidenceStore(tmp_path)
    kept, orphan = store.put(b"Underlag till fordjupning"), store.put(b"Ingen rad")
    db.add(
        ReviewFile(review=review, sha256=kept, filename="u.txt", media_type="text/plain", size=1)
    )
    db.flush()
    report = collect_garbage(db, store, min_age=dt.timedelta(0))
    assert report.orphans == [orphan]
