"""A follow-up year with something of everything the annual analysis reports on (§7.1.4):
two years of rounds (the earlier on an edition where one requirement sat in another area),
statuses, findings with dispositions, dialogs, plans in several states, sanction decisions,
filed cases, IVO referrals and tilläggsuppdrag count ratios. Shared by the domain, page and
browser tests of the analysis."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import yaml

from audit.models import Role, Unit
from audit.trail import Actor, record
from audit.units import load_units
from checklists import operations as ops
from checklists.answers import Status
from checklists.catalog import EDITIONS_DIR, load_edition
from checklists.models import AnswerType, Requirement
from checklists.rounds import Checklist, ChecklistItem, Finding
from tests.factories import TEST_ACTOR, make_user
from workflows import action_plan as ap
from workflows import dialog as dl
from workflows import sanction as sc
from workflows.cases.models import Case, CaseKind, CaseOutcome, CaseState
from workflows.models import (
    DecidingBody,
    Decision,
    DialogFinding,
    Disposition,
    IvoReferral,
    PlanState,
    SanctionState,
)

YEAR = dt.date.today().year  # plans and cases are created today, so the year is this one
SECTIONS = ["2.6", "2.7.1", "3.1.1", "3.1.2"]
MOVED = "kompetens"  # the area the earlier edition's moved requirement sat in instead


def _earlier_edition(tmp_path, db):
    """UOR of the year before: the same file under another code, with the first requirement
    of §3.1.1 in another area, so that trends must follow the stable code."""
    data = yaml.safe_load((EDITIONS_DIR / "uor-2025.yaml").read_text())
    data["edition"]["code"] = "UOR-EARLIER"
    data["edition"]["year"] = YEAR - 1
    moved = next(i for i in data["items"] if str(i["section"]) == "2.6")
    original_area = moved["area"]
    moved["area"] = next(a["code"] for a in data["areas"] if a["code"] != original_area)
    path = tmp_path / "uor-earlier.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return load_edition(db, TEST_ACTOR, path).edition, moved["code"], original_area


def _round(db, bo, edition, year, sections, title):
    ids = db.scalars(
        sa.select(Requirement.id).where(
            Requirement.edition_id == edition.id, Requirement.section.in_(sections)
        )
    ).all()
    return ops.open_round(
        db,
        bo,
        edition=edition,
        title=title,
        year=year,
        opens_on=dt.date(year, 1, 1),
        deadline=dt.date(year, 3, 31),
        selection=ops.RoundSelection(requirement_ids=ids),
    )


CYCLE = [
    Status.COMPLIANT,
    Status.COMPLIANT,
    Status.NON_COMPLIANT,
    Status.PARTLY_COMPLIANT,
    Status.COMPLIANT,
    Status.NOT_APPLICABLE,
    Status.TO_REVIEW,
    Status.NOT_ANSWERED,
    Status.COMPLIANT,
]


def _set_statuses(db, round_id, shift: int) -> None:
    """Every item of the round a status from CYCLE (by item order), some by override."""
    items = db.scalars(
        sa.select(ChecklistItem.id)
        .join(Checklist)
        .where(Checklist.round_id == round_id)
        .order_by(ChecklistItem.id)
    ).all()
    for n, item_id in enumerate(items):
        status = CYCLE[(n + shift) % len(CYCLE)]
        values = {"auto_status": status}
        if n % 7 == 0 and status != Status.NOT_ANSWERED:
            # A reviewer overrode the automatic evaluation: the override counts.
            values = {
                "auto_status": Status.TO_REVIEW,
                "override_status": status,
                "override_reason": "Granskarens bedömning.",
            }
        db.execute(sa.update(ChecklistItem).where(ChecklistItem.id == item_id).values(**values))


def build_world(db, tmp_path) -> dict:
    load_units(db, TEST_ACTOR)
    tillagg = load_edition(db, TEST_ACTOR, EDITIONS_DIR / "tillagg-2023.yaml").edition
    edition = load_edition(db, TEST_ACTOR, EDITIONS_DIR / "uor-2025.yaml").edition
    earlier, moved_code, moved_from = _earlier_edition(tmp_path, db)
    bo = make_user(db, "analys.bo", (Role.BESTALLARE, None))
    granskare = make_user(db, "analys.granskare", (Role.GRANSKARE, None))
    lasare = make_user(db, "analys.lasare", (Role.LASARE, None))
    admin = make_user(db, "analys.admin", (Role.ADMIN, None))
    head = make_user(db, "analys.vc", (Role.VERKSAMHETSCHEF, "byske"))
    this_round = _round(db, bo, edition, YEAR, SECTIONS, f"Uppföljning {YEAR}")
    last_round = _round(db, bo, earlier, YEAR - 1, SECTIONS, f"Uppföljning {YEAR - 1}")
    tu_ids = db.scalars(
        sa.select(Requirement.id).where(
            Requirement.edition_id == tillagg.id,
            Requirement.answer_type == AnswerType.COUNT_RATIO,
        )
    ).all()
    tu_round = ops.open_round(
        db,
        bo,
        edition=tillagg,
        title=f"Tilläggsuppdrag {YEAR}",
        year=YEAR,
        opens_on=dt.date(YEAR, 1, 1),
        deadline=dt.date(YEAR, 3, 31),
        selection=ops.RoundSelection(requirement_ids=tu_ids),
    )
    _set_statuses(db, this_round.id, 0)
    _set_statuses(db, last_round.id, 3)
    # Tilläggsuppdrag: each sjukstuga's numerator and denominator; one left unanswered.
    tu_items = db.scalars(
        sa.select(ChecklistItem)
        .join(Checklist)
        .where(Checklist.round_id == tu_round.id)
        .order_by(ChecklistItem.id)
    ).all()
    for n, item in enumerate(tu_items):
        if n == 0:
            continue
        item.value = {"numerator": 300 + 37 * n, "denominator": 900 + 11 * n}
        item.auto_status = Status.TO_REVIEW
    db.flush()

    units = {u.code: u for u in db.scalars(sa.select(Unit))}
    byske, backen = units["byske"], units["backen"]
    # The dialogs are opened before the findings exist, so they hold only those added below.
    dialog = dl.open_dialog(db, bo, byske, "Uppföljningsdialog Byske", round_id=this_round.id)
    other = dl.open_dialog(db, bo, backen, "Uppföljningsdialog Backen")
    # Findings of this year's round: every partly or non-compliant item of two units.
    bad = db.execute(
        sa.select(ChecklistItem, Checklist.unit_id)
        .join(Checklist)
        .where(
            Checklist.round_id == this_round.id,
            Checklist.unit_id.in_([byske.id, backen.id]),
            sa.func.coalesce(ChecklistItem.override_status, ChecklistItem.auto_status).in_(
                [Status.NON_COMPLIANT, Status.PARTLY_COMPLIANT]
            ),
        )
        .order_by(ChecklistItem.id)
    ).all()
    findings = []
    for item, unit_id in bad:
        finding = Finding(
            item=item,
            round_id=this_round.id,
            unit_id=unit_id,
            requirement_id=item.requirement_id,
            status=item.status,
            severity=item.requirement.severity,
            statement="Kravet är inte uppfyllt.",
        )
        db.add(finding)
        findings.append(finding)
    db.flush()
    assert len(findings) >= 4, len(findings)
    db.execute(
        sa.update(type(dialog))
        .where(type(dialog).id == dialog.id)
        .values(status=dl.DialogState.CLOSED, meeting_at=dt.datetime(YEAR, 5, 20, 9, tzinfo=dt.UTC))
    )
    dispositions = [Disposition.ACTION_PLAN, Disposition.REMARK, None, Disposition.SANCTION_CASE]
    for n, finding in enumerate(findings):
        target = dialog if finding.unit_id == byske.id else other
        db.add(
            DialogFinding(
                dialog_id=target.id,
                finding_id=finding.id,
                disposition=dispositions[n % len(dispositions)],
            )
        )

    def elsewhere(finding):
        return other if finding.unit_id == byske.id else dialog

    # Handled again in the other dialog: the later disposition counts (a later entry without
    # a disposition does not undo the earlier one).
    db.add(DialogFinding(dialog_id=elsewhere(findings[0]).id, finding_id=findings[0].id))
    db.add(
        DialogFinding(
            dialog_id=elsewhere(findings[1]).id,
            finding_id=findings[1].id,
            disposition=Disposition.IN_DEPTH_REVIEW,
        )
    )
    db.flush()

    today = dt.date.today()
    plans = []
    for n, (unit, _state) in enumerate(
        [
            (byske, PlanState.REQUESTED),  # late: past its plan date
            (byske, PlanState.APPROVED),  # late: a measure past its date
            (backen, PlanState.SUBMITTED),
            (backen, PlanState.VERIFIED),
            (byske, PlanState.REQUESTED),  # on time
        ]
    ):
        plan = ap.request_action_plan(
            db,
            bo,
            unit,
            title=f"Plan {n}",
            requirements="Kraven i iakttagelserna.",
            plan_due=today + dt.timedelta(days=30),
            measures_due=today + dt.timedelta(days=60),
        )
        plans.append(plan)
    ap.add_measure(
        db,
        head,
        plans[1],
        description="Rutin",
        responsible="Vera",
        due_date=today + dt.timedelta(days=20),
    )
    db.flush()
    # Put three plans in later states (as their transitions would, with the trail's event).
    states = [None, PlanState.APPROVED, PlanState.SUBMITTED, PlanState.VERIFIED, None]
    for plan, state in zip(plans, states, strict=True):
        if state is None:
            continue
        plan.status = state
        db.flush()
        record(
            db,
            Actor.of(bo),
            "action_plan",
            plan.id,
            "test_state",
            before={"status": "requested"},
            after={"status": state.value},
        )
    # Two late ones (the operations refuse dates in the past, so set directly).
    plans[0].plan_due = today - dt.timedelta(days=1)
    plans[1].measures[0].due_date = today - dt.timedelta(days=1)
    db.flush()

    def sanction(unit, title, **decided):
        case = sc.open_case(db, bo, unit, title=title, grounds="Grund", diarienummer="RS 2025/9")
        for key, value in decided.items():
            setattr(case, key, value)
        db.flush()
        return case

    sanction(
        byske,
        "Vite",
        status=SanctionState.DECIDED,
        decision=Decision.PENALTY,
        deciding_body=DecidingBody.REGIONSTYRELSEN,
        penalty_sek=50_000,
    )
    sanction(
        backen,
        "Påpekande",
        status=SanctionState.CLOSED,
        decision=Decision.REMARK,
        deciding_body=DecidingBody.BESTALLARENHETEN,
    )
    sanction(
        backen,
        "Vite 2",
        status=SanctionState.NOTIFIED,
        decision=Decision.PENALTY,
        deciding_body=DecidingBody.REGIONSTYRELSEN,
        penalty_sek=25_000,
    )
    sanction(byske, "Öppet", status=SanctionState.INFORMED)
    withdrawn = sanction(byske, "Återkallat", status=SanctionState.WITHDRAWN)

    now = dt.datetime.now(dt.UTC)
    for kind, status, outcome, submitted in [
        (CaseKind.LIST_STOP, CaseState.GRANTED, CaseOutcome.GRANTED, True),
        (CaseKind.LIST_STOP, CaseState.REFUSED, CaseOutcome.REFUSED, True),
        (CaseKind.HEAD_CHANGE, CaseState.NOTED, CaseOutcome.NOTED, True),
        (CaseKind.HEAD_CHANGE, CaseState.SUBMITTED, None, True),
        (CaseKind.SUBCONTRACTOR, CaseState.WITHDRAWN, None, True),
        (CaseKind.LIST_STOP, CaseState.DRAFT, None, False),  # not filed: not counted
    ]:
        db.add(
            Case(
                unit_id=byske.id,
                kind=kind,
                status=status,
                outcome=outcome,
                title=f"{kind.value}",
                details={},
                submitted_at=now if submitted else None,
            )
        )
    for unit, on, finding_id, case_id in [
        (byske, dt.date(YEAR, 2, 1), findings[0].id, None),
        (byske, dt.date(YEAR, 3, 1), None, withdrawn.id),
        (backen, dt.date(YEAR, 4, 1), None, None),
        (backen, dt.date(YEAR - 1, 4, 1), None, None),  # the year before: not counted
    ]:
        db.add(
            IvoReferral(
                unit_id=unit.id,
                referred_on=on,
                reference="IVO 3.5.1-1",
                finding_id=finding_id,
                case_id=case_id,
            )
        )
    db.commit()
    return {
        "year": YEAR,
        "bo": bo,
        "granskare": granskare,
        "lasare": lasare,
        "admin": admin,
        "head": head,
        "round": this_round,
        "moved_code": moved_code,
        "moved_from": moved_from,
    }
