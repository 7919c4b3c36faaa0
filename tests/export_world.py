"""A follow-up year with data in every table the exports and the API read: two units (Byske,
private; Backen, egenregi), a round over §3.1.2 and §2.7.3 answered by both, Byske's accepted
with findings, a dialog whose meeting was held with minutes, an action plan with a measure, a
decided sanction case and an ärende. Built through the app's own operations."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from audit.models import Operator, Role, Unit
from checklists import operations as ops
from checklists.answers import Status
from checklists.catalog import EDITIONS_DIR, load_edition
from checklists.models import Requirement
from tests.factories import TEST_ACTOR, make_unit, make_user, sample_answer
from workflows import action_plan as ap
from workflows import dialog as wf
from workflows import sanction as sc
from workflows.models import Disposition

RATIO_CODE = "kompetens.lakare-specialister-allmanmedicin"
ACCESS_CODE = "tillganglighet.1177-basutbud"
OVERRIDE_REASON = "Kontakta mig saknas i praktiken enligt stickprov."
MINUTES = "Genomgång av iakttagelserna; åtgärdsplan begärs för läkarbemanningen."


def _save(db, user, checklist, raws):
    items = {i.id: i for i in checklist.items}
    outcome = ops.save_answers(
        db, user, checklist, {i: (items[i].version, None, raw) for i, raw in raws.items()}
    )
    assert all(o.ok for o in outcome.values()), outcome


def build(db) -> dict:
    byske = make_unit(
        db, "byske", name="Byske hälsocentral", operator=Operator.PRIVAT, provider="Vård AB"
    )
    backen = make_unit(db, "backen", name="Backens hälsocentral")
    people = {
        "bo": make_user(db, "bo", (Role.BESTALLARE, None)),
        "greta": make_user(db, "greta", (Role.GRANSKARE, None)),
        "lasare": make_user(db, "lasare", (Role.LASARE, None)),
        "admin": make_user(db, "admin", (Role.ADMIN, None)),
        "vc": make_user(db, "vc", (Role.VERKSAMHETSCHEF, "byske")),
        "staff": make_user(db, "staff", (Role.PERSONAL, "byske")),
        "other_vc": make_user(db, "other_vc", (Role.VERKSAMHETSCHEF, "backen")),
    }
    load_edition(db, TEST_ACTOR, EDITIONS_DIR / "tillagg-2023.yaml")
    edition = load_edition(db, TEST_ACTOR, EDITIONS_DIR / "uor-2025.yaml").edition
    ids = db.scalars(
        sa.select(Requirement.id).where(
            Requirement.edition_id == edition.id, Requirement.section.in_(["3.1.2", "2.7.3"])
        )
    ).all()
    round_ = ops.open_round(
        db,
        people["bo"],
        edition=edition,
        title="Uppföljning 2025",
        year=2025,
        opens_on=dt.date(2025, 1, 1),
        deadline=dt.date(2025, 3, 1),
        selection=ops.RoundSelection(requirement_ids=ids, unit_ids=[byske.id, backen.id]),
    )
    by_unit = {c.unit_id: c for c in round_.checklists}
    checklist, other = by_unit[byske.id], by_unit[backen.id]
    raws = {i.id: sample_answer(i.requirement) for i in checklist.items}
    ratio = next(i for i in checklist.items if i.requirement.code == RATIO_CODE)
    raws[ratio.id] = {"numerator": "3", "denominator": "8", "comment": "Två under rekrytering."}
    _save(db, people["staff"], checklist, raws)
    _save(db, people["other_vc"], other, {i.id: sample_answer(i.requirement) for i in other.items})
    ops.submit(db, people["vc"], checklist)
    for item in checklist.items:
        if item.status == Status.TO_REVIEW:
            ops.override(db, people["bo"], item, Status.COMPLIANT, "Underlaget räcker.")
    access = next(i for i in checklist.items if i.requirement.code == ACCESS_CODE)
    ops.override(db, people["bo"], access, Status.PARTLY_COMPLIANT, OVERRIDE_REASON)
    ops.comment(db, people["bo"], ratio, "Rekryteringsplanen efterfrågas i dialogen.")
    findings = ops.accept(db, people["bo"], checklist)
    assert findings

    dialog = wf.open_dialog(db, people["bo"], byske, "Uppföljning Byske 2025", round_.id)
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    meeting = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=2)
    steps = [
        (
            "bo",
            "request_material",
            {"material_request": "Bemanningslistan.", "material_deadline": tomorrow},
        ),
        ("vc", "submit_material", {"comment": "Bifogat."}),
        ("greta", "start_review", {}),
        (
            "bo",
            "book_meeting",
            {
                "meeting_at": meeting,
                "meeting_place": "Byske hälsocentral",
                "participants": [
                    {"name": "Vera Vik", "role_title": "verksamhetschef"},
                    {"name": "Mats Mo", "role_title": "medicinskt ansvarig"},
                    {"name": "Bo Berg", "role_title": "beställare"},
                ],
            },
        ),
        ("bo", "hold_meeting", {"minutes": MINUTES}),
    ]
    for who, trigger, data in steps:
        wf.DIALOG.fire(db, people[who], dialog, trigger, data=data)
    for entry in dialog.findings:
        wf.set_disposition(
            db, people["bo"], dialog, entry, Disposition.REMARK, "Bemanningen tas upp i planen."
        )

    plan = ap.request_action_plan(
        db,
        people["bo"],
        byske,
        title="Läkarbemanning",
        requirements="Minst hälften specialister i allmänmedicin.",
        plan_due=dt.date.today() + dt.timedelta(days=20),
        measures_due=dt.date.today() + dt.timedelta(days=60),
        finding_ids=[f.id for f in findings],
    )
    ap.add_measure(
        db,
        people["vc"],
        plan,
        description="Rekrytera en specialist",
        responsible="Vera Vik",
        due_date=dt.date.today() + dt.timedelta(days=50),
    )

    case = sc.open_case(
        db,
        people["bo"],
        byske,
        title="Läkarbemanning",
        grounds="Upprepad brist mot §3.1.2.",
        diarienummer="RS 2025/1",
        finding_ids=[findings[0].id],
    )
    sc.SANCTION.fire(db, people["bo"], case, "inform_unit", data={"response_days": 3})
    sc.SANCTION.fire(db, people["vc"], case, "respond", data={"response": "Vi rekryterar."})
    sc.SANCTION.fire(db, people["greta"], case, "assess", data={"assessment": "Bristen kvarstår."})
    sc.SANCTION.fire(
        db,
        people["bo"],
        case,
        "decide",
        data={
            "prop_seriousness": "Bemanningen understiger kravet.",
            "prop_duration": "Sedan våren.",
            "prop_repetition": "Första gången.",
            "prop_own_measures": "Rekrytering pågår.",
            "prop_patient_safety": "Ingen känd skada.",
            "decision": "remark",
            "deciding_body": "bestallarenheten",
            "diarienummer": "RS 2025/1",
            "decided_on": sc.today(),
            "rationale": "Ett påpekande räcker vid första bristen.",
        },
    )

    from tests.case_factories import complete_entry
    from workflows.cases import operations as co

    entry = complete_entry(db, "listningsstopp")
    arende = co.open_case(db, people["vc"], byske, "listningsstopp", entry)
    db.commit()
    return dict(
        people=people,
        byske=byske,
        backen=backen,
        round=round_,
        checklist=checklist,
        other_checklist=other,
        ratio=ratio,
        findings=findings,
        dialog=dialog,
        plan=plan,
        case=case,
        arende=arende,
        edition=edition,
    )


def unit_code(db, unit_id) -> str:
    return db.scalar(sa.select(Unit.code).where(Unit.id == unit_id))
