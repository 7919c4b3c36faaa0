"""Dispositions that start what they name (§7.1.3), the findings a dialog discusses whenever
they were accepted, dialog material, and the patient-safety fast route — on both databases."""

import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.models import Role, Unit
from audit.trail import AuditEvent, verify
from checklists.answers import Status
from checklists.evidence import EvidenceStore, check_upload, referenced_hashes
from checklists.models import Severity
from checklists.rounds import Checklist, ChecklistItem, Finding, Round
from checklists.workdays import add_working_days
from tests.conftest import count
from tests.factories import make_unit, make_user
from tests.workflows.test_dialog import fire, walk_to
from workflows import action_plan as ap
from workflows import dialog as wf
from workflows import fast_route as fr
from workflows import sanction as sc
from workflows.engine import WorkflowError
from workflows.models import (
    ActionPlan,
    DialogFinding,
    Disposition,
    IvoReferral,
    PlanState,
    SanctionCase,
    SanctionState,
)
from workflows.models import DialogState as S

D = Disposition


@pytest.fixture
def people(db):
    make_unit(db, "byske")
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


def _edition(db):
    from checklists.catalog import EDITIONS_DIR, load_edition
    from checklists.models import CatalogEdition
    from tests.factories import TEST_ACTOR

    edition = db.scalar(sa.select(CatalogEdition).where(CatalogEdition.code == "TU-2023"))
    if edition is None:
        edition = load_edition(db, TEST_ACTOR, EDITIONS_DIR / "tillagg-2023.yaml").edition
    return edition


def make_finding(db, code="byske", severity=Severity.NORMAL, n=0) -> Finding:
    """A finding of an accepted checklist (made directly: the round machinery is tested
    elsewhere); ``n`` picks a different requirement."""
    requirement = _edition(db).requirements[n]
    round_ = Round(
        edition_id=requirement.edition_id,
        title=f"Omgång {n}",
        year=2025,
        opens_on=dt.date(2025, 1, 1),
        deadline=dt.date(2025, 2, 1),
    )
    checklist = Checklist(round=round_, unit_id=unit(db, code).id)
    item = ChecklistItem(checklist=checklist, requirement_id=requirement.id)
    finding = Finding(
        item=item,
        round=round_,
        unit_id=checklist.unit_id,
        requirement_id=requirement.id,
        status=Status.NON_COMPLIANT,
        severity=severity,
        statement="Ej uppfyllt: rutinen saknas.",
    )
    db.add_all([round_, checklist, item, finding])
    db.flush()
    return finding


def meeting_dialog(db, people, *findings):
    dialog = wf.open_dialog(db, people["bo"], unit(db), "Uppföljning Byske 2025")
    walk_to(db, people, dialog, S.MEETING_HELD)
    return dialog


# --- every finding of the unit not yet disposed -------------------------------------------


def test_a_finding_accepted_after_the_dialog_was_planned_is_discussed_and_must_be_disposed(
    db, people
):
    early = make_finding(db, n=0)
    dialog = wf.open_dialog(db, people["bo"], unit(db), "Uppföljning Byske 2025")
    late = make_finding(db, n=1)  # its checklist accepted after the dialog was planned
    other_unit = make_finding(db, code="backen", n=2)
    listed = wf.dialog_findings(db, dialog)
    assert [d.finding.id for d in listed] == [early.id, late.id]
    assert listed[0].entry is not None and listed[1].entry is None
    assert other_unit.id not in [d.finding.id for d in listed]
    walk_to(db, people, dialog, S.MEETING_HELD)
    wf.set_disposition(db, people["bo"], dialog, early, D.REMARK, "Påpekat.")
    with pytest.raises(WorkflowError, match="1 iakttagelser saknar beslut"):
        fire(db, people, dialog, "close")
    entry = wf.set_disposition(db, people["bo"], dialog, late, D.NO_ACTION)
    assert entry.dialog_id == dialog.id and entry.finding_id == late.id
    fire(db, people, dialog, "close")
    assert dialog.status == S.CLOSED
    # A closed dialog keeps what it discussed; a finding accepted later waits for the next.
    later = make_finding(db, n=3)
    assert later.id not in [d.finding.id for d in wf.dialog_findings(db, dialog)]
    second = wf.open_dialog(db, people["bo"], unit(db), "Uppföljning Byske 2026")
    assert [d.finding.id for d in wf.dialog_findings(db, second)] == [later.id]


def test_a_finding_another_open_dialog_discusses_is_not_taken_over(db, people):
    finding = make_finding(db)
    first = wf.open_dialog(db, people["bo"], unit(db), "Första")
    second = meeting_dialog(db, people)
    assert wf.dialog_findings(db, second) == []
    with pytest.raises(WorkflowError, match="hör inte till dialogen"):
        wf.set_disposition(db, people["bo"], second, finding, D.REMARK)
    assert [d.finding.id for d in wf.dialog_findings(db, first)] == [finding.id]


def test_a_cancelled_dialogs_finding_comes_back_unless_its_disposition_opened_something(db, people):
    opened, plain = make_finding(db, n=0), make_finding(db, n=1)
    dialog = meeting_dialog(db, people)
    wf.set_disposition(db, people["bo"], dialog, opened, D.ACTION_PLAN)
    wf.set_disposition(db, people["bo"], dialog, plain, D.REMARK)
    fire(db, people, dialog, "cancel")
    again = wf.open_dialog(db, people["bo"], unit(db), "Ny dialog")
    assert [d.finding.id for d in wf.dialog_findings(db, again)] == [plain.id]


def test_the_list_is_set_based(db, people):
    for n in range(4):
        make_finding(db, n=n)
    dialog = wf.open_dialog(db, people["bo"], unit(db), "D")
    for n in range(4, 8):
        make_finding(db, n=n)
    statements = []

    @sa.event.listens_for(db.get_bind(), "before_cursor_execute")
    def _count(conn, cursor, statement, *args):
        statements.append(statement)

    try:
        db.expire_all()
        listed = wf.dialog_findings(db, db.get(type(dialog), dialog.id))
        assert len(listed) == 8
        assert all(d.finding.requirement.code for d in listed)
    finally:
        sa.event.remove(db.get_bind(), "before_cursor_execute", _count)
    assert len(statements) <= 8, statements  # the dialog, entries, pending, their loads


# --- dispositions as actions ---------------------------------------------------------------


def test_action_plan_disposition_requests_the_plan_prefilled_and_linked_both_ways(db, people):
    finding = make_finding(db)
    dialog = meeting_dialog(db, people)
    events = count(db, AuditEvent)
    entry = wf.set_disposition(db, people["bo"], dialog, finding, D.ACTION_PLAN, "Plan krävs.")
    plan = entry.action_plan
    assert plan is not None and plan.status == PlanState.REQUESTED
    assert plan.dialog_id == dialog.id and plan.unit_id == dialog.unit_id
    assert [f.finding_id for f in plan.findings] == [finding.id]
    req = finding.requirement
    assert req.section in plan.title and req.source_text in plan.requirements
    assert (
        finding.statement in plan.requirements and "Allvarlighetsgrad: normal" in plan.requirements
    )
    days = fr.STANDARD_DEADLINES
    assert plan.plan_due == add_working_days(ap.today(), days.plan_days)
    assert plan.measures_due == add_working_days(plan.plan_due, days.measures_days)
    # One event for the plan, one for the disposition, which names what it opened.
    assert count(db, AuditEvent) == events + 2
    event = db.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.entity_type == "follow_up_dialog" and event.action == "disposition"
    assert event.after_data()["opened"]["action_plan"] == plan.id
    assert verify(db).ok


def test_a_patient_safety_finding_gets_the_fast_routes_shorter_plan_dates(db, people):
    finding = make_finding(db, severity=Severity.PATIENT_SAFETY)
    dialog = meeting_dialog(db, people)
    plan = wf.set_disposition(db, people["bo"], dialog, finding, D.ACTION_PLAN).action_plan
    days = fr.PATIENT_SAFETY_DEADLINES
    assert days.plan_days < fr.STANDARD_DEADLINES.plan_days
    assert plan.plan_due == add_working_days(ap.today(), days.plan_days)
    assert plan.measures_due == add_working_days(plan.plan_due, days.measures_days)
    assert "patientsäkerheten" in plan.requirements


def test_sanction_disposition_opens_the_case_under_its_diarienummer(db, people):
    dialog = meeting_dialog(db, people)
    finding = make_finding(db, severity=Severity.PATIENT_SAFETY)  # pending: no row yet
    events = count(db, AuditEvent)
    with pytest.raises(WorkflowError, match="diarienummer") as refused:
        wf.set_disposition(db, people["bo"], dialog, finding, D.SANCTION_CASE)
    assert refused.value.guard == "diarienummer"
    # Refused: nothing kept, not even the disposition.
    assert count(db, AuditEvent) == events and count(db, SanctionCase) == 0
    assert db.scalar(sa.select(DialogFinding).where(DialogFinding.finding_id == finding.id)) is None
    entry = wf.set_disposition(
        db, people["bo"], dialog, finding, D.SANCTION_CASE, data={"diarienummer": "rs 2025/77"}
    )
    case = entry.sanction_case
    assert case.case_number == "RS 2025/77" and case.dialog_id == dialog.id
    assert [g.finding_id for g in case.ground_findings] == [finding.id]
    assert dialog.title in case.grounds and finding.statement in case.grounds
    assert fr.case_is_patient_safety(db, case)
    assert count(db, AuditEvent) == events + 2


def test_a_disposition_whose_plan_stands_cannot_change_until_the_plan_is_withdrawn(db, people):
    finding = make_finding(db)
    dialog = meeting_dialog(db, people)
    entry = wf.set_disposition(db, people["bo"], dialog, finding, D.ACTION_PLAN)
    plan = entry.action_plan
    events = count(db, AuditEvent)
    for other in (D.REMARK, D.NO_ACTION, D.SANCTION_CASE, D.IN_DEPTH_REVIEW):
        with pytest.raises(WorkflowError, match="återkalla planen") as refused:
            wf.set_disposition(
                db, people["bo"], dialog, finding, other, data={"diarienummer": "RS 2025/1"}
            )
        assert refused.value.guard == "disposition"
    assert entry.disposition == D.ACTION_PLAN and count(db, AuditEvent) == events
    # The same disposition again: the note changes, no second plan.
    wf.set_disposition(db, people["bo"], dialog, finding, D.ACTION_PLAN, "Ny anteckning.")
    assert count(db, ActionPlan) == 1 and entry.note == "Ny anteckning."
    ap.ACTION_PLAN.fire(db, people["bo"], plan, "withdraw", reason="Dialogen beslutar annat.")
    wf.set_disposition(db, people["bo"], dialog, finding, D.REMARK)
    assert entry.disposition == D.REMARK
    # The withdrawn plan is not orphaned: it still names its dialog and finding.
    assert plan.dialog_id == dialog.id and plan.findings[0].finding_id == finding.id
    # Chosen again: a new plan, now the one linked.
    wf.set_disposition(db, people["bo"], dialog, finding, D.ACTION_PLAN)
    assert count(db, ActionPlan) == 2 and entry.action_plan.id != plan.id


def test_a_disposition_whose_case_stands_cannot_change_until_the_case_is_withdrawn(db, people):
    finding = make_finding(db)
    dialog = meeting_dialog(db, people)
    entry = wf.set_disposition(
        db, people["bo"], dialog, finding, D.SANCTION_CASE, data={"diarienummer": "RS 2025/5"}
    )
    with pytest.raises(WorkflowError, match="återkalla ärendet"):
        wf.set_disposition(db, people["bo"], dialog, finding, D.ACTION_PLAN)
    sc.SANCTION.fire(db, people["bo"], entry.sanction_case, "withdraw", reason="Fel grund.")
    assert entry.sanction_case.status == SanctionState.WITHDRAWN
    wf.set_disposition(db, people["bo"], dialog, finding, D.ACTION_PLAN)
    assert entry.action_plan is not None


def test_in_depth_review_opens_a_review_resting_on_the_finding(db, people):
    from workflows.reviews.models import InDepthReview

    finding = make_finding(db)
    dialog = meeting_dialog(db, people)
    entry = wf.set_disposition(db, people["bo"], dialog, finding, D.IN_DEPTH_REVIEW, "Djupare.")
    assert entry.disposition == D.IN_DEPTH_REVIEW and count(db, ActionPlan) == 0
    review = db.scalar(sa.select(InDepthReview))
    assert review.dialog_id == dialog.id and review.concern == "Djupare."
    assert [s.finding_id for s in review.signals] == [finding.id]
    with pytest.raises(WorkflowError, match="fördjupningen"):
        wf.set_disposition(db, people["bo"], dialog, finding, D.ACTION_PLAN)
    assert count(db, ActionPlan) == 0


@pytest.mark.parametrize("who", ["greta", "vc"])
def test_only_the_bestallare_disposes(db, people, who):
    finding = make_finding(db)
    dialog = meeting_dialog(db, people)
    with pytest.raises(WorkflowError, match="Bara beställare"):
        wf.set_disposition(db, people[who], dialog, finding, D.ACTION_PLAN)
    assert count(db, ActionPlan) == 0


# --- dialog material -----------------------------------------------------------------------


def _file(text="Bemanningslista vecka 12, avidentifierad.", name="underlag.txt"):
    data = text.encode()
    return check_upload(name, data), data


def test_material_is_uploaded_by_the_unit_while_requested_and_kept_by_the_gc(db, people, tmp_path):
    store = EvidenceStore(tmp_path)
    dialog = wf.open_dialog(db, people["bo"], unit(db), "D")
    with pytest.raises(WorkflowError, match="begärt"):
        wf.add_material(db, people["vc"], dialog, *_file(), store)
    fire(db, people, dialog, "request_material")
    with pytest.raises(WorkflowError):
        wf.add_material(db, people["other_vc"], dialog, *_file(), store)
    row = wf.add_material(db, people["staff"], dialog, *_file(), store)
    assert row.sha256 in referenced_hashes(db)  # the evidence gc knows the new column
    with pytest.raises(WorkflowError, match="personnummer") as refused:
        wf.add_material(db, people["vc"], dialog, *_file("Patient 19121212-1212 ringde."), store)
    assert refused.value.guard == "file"
    fire(db, people, dialog, "submit_material")
    event = db.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "submit_material" and event.after_data()["files"] == [row.id]
    with pytest.raises(WorkflowError):
        wf.remove_material(db, people["vc"], row)  # handed in: the unit's part is done
    wf.remove_material(db, people["greta"], row)
    assert row.removed_at is not None
    assert row.sha256 in referenced_hashes(db)  # the row stays: the trail keeps its hash


def test_the_dialog_points_at_a_rounds_checklist_of_its_unit(db, people):
    finding = make_finding(db)
    foreign = make_finding(db, code="backen", n=1)
    dialog = wf.open_dialog(db, people["bo"], unit(db), "D")
    checklist = finding.item.checklist
    with pytest.raises(WorkflowError, match="Bara Beställarenheten"):
        wf.link_checklist(db, people["vc"], dialog, checklist)
    with pytest.raises(WorkflowError, match="enhet"):
        wf.link_checklist(db, people["bo"], dialog, foreign.item.checklist)
    wf.link_checklist(db, people["greta"], dialog, checklist)
    assert wf.linked_checklist(db, dialog).id == checklist.id
    wf.link_checklist(db, people["bo"], dialog, None)
    assert wf.linked_checklist(db, dialog) is None


# --- the fast route ------------------------------------------------------------------------


def test_a_patient_safety_finding_awaits_an_ivo_decision_until_it_is_recorded(db, people):
    safety = make_finding(db, severity=Severity.PATIENT_SAFETY)
    make_finding(db, n=1)  # normal: not on the fast route
    waiting = fr.fast_route(db, undecided_only=True)
    assert [e.finding.id for e in waiting] == [safety.id]
    assert waiting[0].due == add_working_days(
        safety.created_at.date(), fr.IVO_DECISION_WORKING_DAYS
    )
    with pytest.raises(WorkflowError, match="Bara beställare"):
        fr.record_ivo_decision(db, people["greta"], safety, referred=False, reason="Nej.")
    with pytest.raises(WorkflowError, match="skälet") as refused:
        fr.record_ivo_decision(db, people["bo"], safety, referred=False, reason=" ")
    assert refused.value.guard == "reason"
    no = fr.record_ivo_decision(
        db, people["bo"], safety, referred=False, reason="Enheten har själv anmält lex Maria."
    )
    assert not no.referred and no.referred_on is None
    assert fr.fast_route(db, undecided_only=True) == []
    assert fr.fast_route(db, unit_id=safety.unit_id)[0].decision.id == no.id
    with pytest.raises(WorkflowError, match="redan registrerat"):
        fr.record_ivo_decision(db, people["bo"], safety, referred=False, reason="Igen.")
    # New facts: a referral after all; then final.
    with pytest.raises(WorkflowError, match="framtiden") as refused:
        fr.record_ivo_decision(
            db,
            people["bo"],
            safety,
            referred=True,
            referred_on=ap.today() + dt.timedelta(1),
            reference="IVO 3.5.1-1",
        )
    assert refused.value.guard == "referred_on"
    yes = fr.record_ivo_decision(
        db, people["bo"], safety, referred=True, referred_on=ap.today(), reference="IVO 3.5.1-1"
    )
    assert fr.fast_route(db, unit_id=safety.unit_id)[0].decision.id == yes.id
    with pytest.raises(WorkflowError, match="redan anmäld"):
        fr.record_ivo_decision(
            db, people["bo"], safety, referred=True, referred_on=ap.today(), reference="X"
        )
    assert count(db, IvoReferral) == 2 and verify(db).ok


def test_the_ivo_decision_is_for_patient_safety_findings(db, people):
    normal = make_finding(db)
    with pytest.raises(WorkflowError, match="patientsäkerheten"):
        fr.record_ivo_decision(db, people["bo"], normal, referred=False, reason="Nej.")


def test_the_fast_route_shows_what_the_finding_opened_with_its_deadlines(db, people):
    safety = make_finding(db, severity=Severity.PATIENT_SAFETY)
    dialog = meeting_dialog(db, people)
    plan = wf.set_disposition(db, people["bo"], dialog, safety, D.ACTION_PLAN).action_plan
    (entry,) = fr.fast_route(db, unit_id=safety.unit_id)
    assert entry.plan.id == plan.id and entry.case is None and entry.decision is None


def test_a_case_resting_on_a_plan_for_a_patient_safety_finding_is_on_the_fast_route(db, people):
    safety = make_finding(db, severity=Severity.PATIENT_SAFETY)
    plan = ap.request_action_plan(
        db,
        people["bo"],
        unit(db),
        title="P",
        requirements="K",
        plan_due=ap.today(),
        measures_due=ap.today(),
        finding_ids=[safety.id],
    )
    case = sc.open_case(
        db,
        people["bo"],
        unit(db),
        title="S",
        grounds="G",
        diarienummer="RS 2025/9",
        plan_ids=[plan.id],
    )
    assert fr.case_is_patient_safety(db, case)
    plain = sc.open_case(db, people["bo"], unit(db), title="S", grounds="G", diarienummer="RS 1/2")
    assert not fr.case_is_patient_safety(db, plain)


STEP = st.tuples(
    st.sampled_from(["dispose", "dispose", "withdraw"]),
    st.integers(0, 1),
    st.sampled_from(list(D)),
    st.booleans(),
)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(STEP, max_size=8))
def test_random_dispositions_never_orphan_what_they_opened(db, people, steps):
    """Whatever is chosen, in whatever order, with plans and cases withdrawn in between: every
    plan or case the dialog opened that still stands is linked from a row whose disposition
    names it; a refusal changes nothing; the chain verifies."""
    dialog = wf.open_dialog(db, people["bo"], unit(db), "D")
    walk_to(db, people, dialog, S.MEETING_HELD)
    findings = [make_finding(db, n=n) for n in (0, 1)]
    for action, index, disposition, with_number in steps:
        finding = findings[index]
        events = count(db, AuditEvent)
        entry = db.scalar(
            sa.select(DialogFinding).where(
                DialogFinding.dialog_id == dialog.id, DialogFinding.finding_id == finding.id
            )
        )
        before = entry.disposition if entry else None
        try:
            if action == "withdraw":
                if entry is None or (entry.action_plan is None and entry.sanction_case is None):
                    continue
                row = entry.action_plan or entry.sanction_case
                machine = ap.ACTION_PLAN if entry.action_plan else sc.SANCTION
                machine.fire(db, people["bo"], row, "withdraw", reason="Ändrad bedömning.")
            else:
                data = {"diarienummer": "RS 2025/60"} if with_number else {}
                wf.set_disposition(db, people["bo"], dialog, finding, disposition, data=data)
        except WorkflowError:
            assert count(db, AuditEvent) == events
            if entry is not None:
                db.refresh(entry)
                assert entry.disposition == before
        entries = db.scalars(sa.select(DialogFinding).where(DialogFinding.dialog_id == dialog.id))
        linked = {}
        for e in entries:
            if e.action_plan and e.action_plan.status != PlanState.WITHDRAWN:
                assert e.disposition == D.ACTION_PLAN
                linked[("plan", e.action_plan.id)] = e
            if e.sanction_case and e.sanction_case.status != SanctionState.WITHDRAWN:
                assert e.disposition == D.SANCTION_CASE
                linked[("case", e.sanction_case.id)] = e
        for plan in db.scalars(sa.select(ActionPlan).where(ActionPlan.dialog_id == dialog.id)):
            assert plan.status == PlanState.WITHDRAWN or ("plan", plan.id) in linked
        for case in db.scalars(sa.select(SanctionCase).where(SanctionCase.dialog_id == dialog.id)):
            assert case.status == SanctionState.WITHDRAWN or ("case", case.id) in linked
    assert verify(db).ok


def test_the_evidence_gc_keeps_dialog_material_and_removes_only_orphans(db, people, tmp_path):
    from checklists.evidence import collect_garbage

    store = EvidenceStore(tmp_path)
    dialog = wf.open_dialog(db, people["bo"], unit(db), "D")
    fire(db, people, dialog, "request_material")
    row = wf.add_material(db, people["vc"], dialog, *_file(), store)
    db.commit()  # moves the staged file into the store
    orphan = store.put(b"ingen rad pekar hit")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    report = collect_garbage(db, store, delete=True, now=later)
    assert report.orphans == [orphan]
    assert store.exists(row.sha256) and not store.exists(orphan)
