"""No 5xx from bad input, anywhere: a Hypothesis fuzzer over every route of ``app.url_map``.

For every endpoint, as every role and anonymous, on SQLite and PostgreSQL, the fuzzer sends
generated hostile values -- in the path (ids of 2^31 and 2^63, negative, text, ``²``), in every
query parameter a view reads, and for POST routes in the form fields the views read, starting
from a form that would be accepted and spoiling one to three of its fields (NUL, 10 kB of text,
``1e400``, 400 nines, dates in year 1 and 9999, unknown choices, several values where one is
expected) -- always with a valid CSRF token, so the view itself runs. Rows are put in a state
from which the fired trigger is allowed, so what was typed reaches the database. Any 5xx, or
any exception escaping a view (the app is in TESTING mode, so Flask raises it), fails.

One world (units, users, a round with every answer type, a dialog, a plan, a case, a finding)
is built per database; every example runs inside a savepoint that is rolled back, so examples
do not see each other's writes. Runs are reproducible (``derandomize``); set
``HALSOVAL_FUZZ_EXAMPLES`` for a deeper run than CI's.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from audit.models import Role
from audit.outbox import OutboxState
from checklists import operations as ops
from checklists.answers import Status
from checklists.catalog import EDITIONS_DIR, load_edition
from checklists.evidence import EvidenceStore
from checklists.models import AnswerType, CatalogEdition, Severity
from checklists.operations import value_hash
from checklists.rounds import ChecklistStatus, EvidenceFile, Finding
from checklists.sections import Filter
from tests.conftest import CSRF_RE, _session
from tests.factories import PASSWORD, TEST_ACTOR, make_unit, make_user, sample_answer
from web.access import ROUTE_ACCESS
from web.checklists.forms import prefix
from workflows import action_plan as ap
from workflows import dialog as dl
from workflows import sanction as sc
from workflows.analysis import machine as am
from workflows.cases import types as case_types
from workflows.cases.machine import CASE
from workflows.cases.models import CaseKind, CaseState
from workflows.joint import machine as jm
from workflows.joint import operations as jo
from workflows.joint.models import JointDialogAttendance, JointFollowUp
from workflows.models import (
    ActionMeasure,
    DialogFinding,
    DialogMaterialFile,
    PlanEvidenceFile,
)
from workflows.reviews.machine import REVIEW
from workflows.reviews.models import ReviewState

EXAMPLES = int(os.environ.get("HALSOVAL_FUZZ_EXAMPLES", "10"))
ANON = "anonymous"
ROLES = [ANON, *Role]
WEB = Path(__file__).resolve().parents[2] / "web"

# --- hostile values ------------------------------------------------------------------------

HOSTILE = [
    "\x00",
    "Rubrik\x00med NUL",
    "x" * 10_000,
    "y" * 201,
    "z" * 301,
    "1e400",
    "-1e400",
    "9" * 400,
    "1e5000",
    "1" + "0" * 30,
    str(2**31),
    str(2**63),
    str(2**70),
    "-1",
    "0",
    "-0",
    "²",
    "3³",
    "٣",
    "１２",
    "NaN",
    "inf",
    "0001-01-01T00:00",
    "0001-01-01",
    "9999-12-31",
    "9999-12-31T23:59",
    "2025-02-30",
    "2025-13-01",
    "24:00",
    "99:99",
    "",
    " ",
    "okänt-val",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "%00",
    "\u202e\u200b",
    "'; DROP TABLE units; --",
]
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
VALUE = st.one_of(
    st.sampled_from(HOSTILE),
    TEXT,
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
# A form field: one value, or several where the view expects one.
FIELD_VALUE = st.one_of(VALUE, st.lists(VALUE, min_size=2, max_size=3))

PATH_INTS = ["0", "-1", str(2**31 - 1), str(2**31), str(2**63), str(10**30), "²", "abc", "1e3"]
PATH_TEXT = ["\x00", "x" * 300, "²", "..", "%2e%2e", "a/b", "<b>", " "]

# Every query parameter a view reads, with a few values it understands (grep request.args;
# test_the_fuzzer_knows_every_parameter keeps this list complete).
QUERY = {
    "allvarlighet": [s.value for s in Severity],
    "visa": [f.value for f in Filter] + ["manad", "lista"],
    "q": ["by", "2.6"],
    "sort": ["name", "status", "progress", "kind", "area", "operator", "username", "last_login"],
    "dir": ["asc", "desc"],
    "area": ["umea", "skelleftea"],
    "kind": ["halsocentral", "filial"],
    "operator": ["egenregi", "privat"],
    "status": [s.value for s in ChecklistStatus]
    + ["active", "inactive", "all", "alla"]
    + [s.value for s in CaseState]
    + [s.value for s in ReviewState]
    + ["done", "due", "late", "upcoming"]
    + [s.value for s in OutboxState],
    "roll": [r.value for r in Role],
    "sjukvardsgrupp": ["1"],
    "answer_type": [t.value for t in AnswerType],
    "severity": [s.value for s in Severity],
    "applies": ["all", "privat", "named"],
    "fran": ["TU-2023", "UOR-2025", "2025-01-01"],
    "till": ["TU-2023", "UOR-2025", "2025-12-31"],
    # The read API's paging and filters (web/api/schemas.py), loaded by marshmallow.
    "limit": ["1", "1000"],
    "offset": ["0", "5"],
    "year": ["2025"],
    "unit": ["own"],
    "round": ["1"],
    "requirement_area": ["tillganglighet"],
    "typ": ["unit", "checklist", "follow_up_dialog"],
    "sida": ["1", "2"],
    "verifiera": ["1"],
    "next": ["/", "/enheter/"],
    "arendetyp": [k.value for k in CaseKind],
    "vantar": ["enheten", "bestallarenheten"],
    "ar": [str(dt.date.today().year), "2025"],
    "enhet": ["own", "by"],
    "omrade": ["telefoni", "uppfoljning"],
}

# Form field names read by the views that no baseline form below carries, so the fuzzer adds
# them on its own (test_the_fuzzer_knows_every_parameter checks the views against these).
EXTRA_FIELDS = {
    "dialogs.new": ["unit"],
    "plans.new": ["unit", "finding"],
    "sanctions.new": ["unit", "plan", "finding", "diarienummer"],
    "plans.upload": ["file"],
    "dialogs.upload": ["file"],
    "sanctions.ivo": ["unit", "finding"],
    "checklists.section": ["action", "item"],
    "checklists.review_section": ["action"],
    "checklists.submit": ["confirm"],
    "main.set_language": ["lang", "next"],
    "auth.keep_alive": ["next"],
    "checklists.upload": ["file"],
    "units.import_file": ["file"],
    "cases.update": ["part"],
    "cases.upload": ["file", "document_kind"],
    "reviews.new": ["finding", "breach", "arende"],
    "reviews.upload": ["file"],
    "yearwheel.patient_safety": ["file"],
    "apikeys.create": ["name", "days"],
}


UNIT_FORM = {
    "name": "Ny hälsocentral",
    "kind": "halsocentral",
    "main_unit": "",
    "operator": "privat",
    "provider": "Vårdbolaget AB",
    "area": "umea",
    "has_bvc": "y",
    "has_mvc": "y",
    "sjukvardsgrupp_duty": "",
    "on_region_telephony": "y",
    "active": "y",
    "source": "Avtal",
    "assumptions": "",
}


def _spoilable(endpoint: str, form: dict) -> list[str]:
    return sorted(set(form) | set(EXTRA_FIELDS.get(endpoint, ())))


# --- the world ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world_connection(engine):
    conn = engine.connect()
    transaction = conn.begin()
    yield conn
    transaction.rollback()
    conn.close()


@pytest.fixture(scope="module")
def world(world_connection, tmp_path_factory):
    """Everything the routes name, built once per database."""
    db = _session(world_connection)
    unit = make_unit(db, "own")
    load_edition(db, TEST_ACTOR, EDITIONS_DIR / "tillagg-2023.yaml")
    edition = load_edition(db, TEST_ACTOR, EDITIONS_DIR / "uor-2025.yaml").edition
    users = {}
    for role in Role:
        users[role] = make_user(
            db, f"fuzz.{role.value}", (role, "own" if role.is_unit_role else None)
        )
    bo = users[Role.BESTALLARE]
    round_ = ops.open_round(
        db,
        bo,
        edition=edition,
        title="Fuzz",
        year=2025,
        opens_on=dt.date(2025, 1, 1),
        deadline=dt.date(2025, 3, 1),
        selection=ops.RoundSelection(),
    )
    checklist = round_.checklists[0]
    by_type = {}
    for item in checklist.items:
        by_type.setdefault(item.requirement.answer_type, item)
    evidence_dir = tmp_path_factory.mktemp("underlag")
    store = EvidenceStore(evidence_dir)
    document = by_type[AnswerType.DOCUMENT]
    evidence = EvidenceFile(
        item=document,
        sha256=store.put(b"underlag"),
        filename="u.txt",
        media_type="text/plain",
        size=8,
    )
    db.add(evidence)
    noncompliant = by_type[AnswerType.YES_NO]
    finding = Finding(
        item=noncompliant,
        round_id=round_.id,
        unit_id=unit.id,
        requirement_id=noncompliant.requirement_id,
        status=Status.NON_COMPLIANT,
        severity=noncompliant.requirement.severity,
        statement="Kravet är inte uppfyllt.",
    )
    db.add(finding)
    db.flush()
    dialog = dl.open_dialog(db, bo, unit, "Dialog")
    db.flush()
    entry = db.scalar(sa.select(DialogFinding).where(DialogFinding.dialog_id == dialog.id))
    if entry is None:
        entry = DialogFinding(dialog=dialog, finding=finding)
        db.add(entry)
    material = DialogMaterialFile(
        dialog=dialog,
        sha256=store.put(b"material"),
        filename="m.txt",
        media_type="text/plain",
        size=8,
    )
    db.add(material)
    plan = ap.request_action_plan(
        db,
        bo,
        unit,
        title="Plan",
        requirements="Krav",
        plan_due=dt.date.today() + dt.timedelta(days=30),
        measures_due=dt.date.today() + dt.timedelta(days=30),
        finding_ids=[finding.id],
    )
    ap.add_measure(
        db,
        users[Role.VERKSAMHETSCHEF],
        plan,
        description="Rutin",
        responsible="Vera",
        due_date=dt.date.today() + dt.timedelta(days=20),
    )
    plan_file = PlanEvidenceFile(
        plan=plan,
        sha256=store.put(b"rapport"),
        filename="r.txt",
        media_type="text/plain",
        size=7,
    )
    db.add(plan_file)
    case = sc.open_case(
        db,
        bo,
        unit,
        title="Ärende",
        grounds="Grund",
        diarienummer="RS 2025/1",
        finding_ids=[finding.id],
    )
    arende, arende_doc = _arende(db, users[Role.VERKSAMHETSCHEF], unit, evidence_dir)
    review, review_file = _review(db, bo, unit, finding, store)
    joint = jo.plan_joint_dialog(
        db, bo, meeting_on=dt.date.today() + dt.timedelta(days=30), place="Hus", theme="Tema"
    )
    # The rows its later steps work on: the unit invited, a follow-up from the minutes.
    db.add(JointDialogAttendance(dialog=joint, unit_id=unit.id))
    follow_up = JointFollowUp(dialog=joint, text="Följ upp.", unit_id=unit.id)
    db.add(follow_up)
    from audit.api_tokens import create_token

    api_token, _secret = create_token(db, users[Role.LASARE], "BI", 90)
    analysis = am.start(db, bo, 2025)
    analysis.introduction, analysis.conclusions = "Inledning.", "Slutsatser."
    db.commit()
    measure = db.scalar(sa.select(ActionMeasure).where(ActionMeasure.plan_id == plan.id))
    sections = sorted({item.requirement.section.split(".")[0] for item in checklist.items})
    from checklists.sections import section_of

    return dict(
        evidence_dir=str(evidence_dir),
        unit_code=unit.code,
        round_id=round_.id,
        checklist_id=checklist.id,
        items={kind: item.id for kind, item in by_type.items()},
        item_forms={item.id: _item_baseline(item) for item in by_type.values()},
        item_sections={item.id: section_of(item.requirement.section) for item in by_type.values()},
        top_sections=sections,
        file_id=evidence.id,
        finding_id=finding.id,
        dialog_id=dialog.id,
        entry_id=entry.id,
        material_id=material.id,
        plan_id=plan.id,
        measure_id=measure.id,
        plan_file_id=plan_file.id,
        case_id=case.id,
        user_id=users[Role.LASARE].id,
        assignment_id=users[Role.LASARE].roles[0].id,
        arende_id=arende.id,
        arende_doc_id=arende_doc.id,
        review_id=review.id,
        requirement_id=review.requirements[0].id,
        review_file_id=review_file.id,
        joint_id=joint.id,
        follow_up_id=follow_up.id,
        unit_id=unit.id,
        joint_requirement_id=noncompliant.requirement_id,
        token_id=api_token.id,
        analysis_id=analysis.id,
        editions=list(db.scalars(sa.select(CatalogEdition.code))),
    )


def _arende(db, head, unit, evidence_dir):
    """A list stop with everything filled in and a document, for the ärende routes."""
    from checklists.evidence import check_upload
    from workflows.cases import operations as co

    fields = _case_fields(CaseKind.LIST_STOP)
    entry = co.Entry(
        values={"reasons": fields["reasons"], "information": fields["information"]},
        period_from=dt.date.today(),
        period_to=dt.date.today() + dt.timedelta(days=30),
    )
    arende = co.open_case(db, head, unit, CaseKind.LIST_STOP, entry)
    data = b"ansokan"
    document = co.add_document(
        db,
        head,
        arende,
        "application",
        check_upload("ansokan.txt", data),
        data,
        EvidenceStore(evidence_dir / "arenden"),
    )
    return arende, document


def _review(db, bo, unit, finding, store):
    """A särskild fördjupning with a requirement and a file, for the review routes."""
    from workflows.reviews import operations as rv
    from workflows.reviews.models import ReviewFile

    review = rv.open_review(
        db, bo, unit, title="Fördjupning", concern="Signaler", finding_ids=[finding.id]
    )
    rv.add_requirement(
        db, bo, review, text="Krav", due_date=dt.date.today() + dt.timedelta(days=60)
    )
    review_file = ReviewFile(
        review=review,
        sha256=store.put(b"fordjupning"),
        filename="f.txt",
        media_type="text/plain",
        size=11,
    )
    db.add(review_file)
    db.flush()
    return review, review_file


def _case_fields(kind) -> dict:
    """A form of the case type's fields that would be accepted (as posted strings)."""
    try:
        spec = case_types.case_type(kind)
    except (KeyError, ValueError):
        return {}
    today = dt.date.today()
    form = {"period_from": today.isoformat()}
    if spec.period_to_label:
        form["period_to"] = (today + dt.timedelta(days=30)).isoformat()
    for field in spec.fields:
        if field.kind in (case_types.LINE, case_types.TEXT):
            form[field.name] = "Uppgift."
        elif field.kind == case_types.NUMBER:
            form[field.name] = "4000"
        elif field.kind == case_types.DATE:
            form[field.name] = today.isoformat()
        elif field.kind in (case_types.CONFIRM, case_types.FLAG):
            form[field.name] = "y"
        elif field.kind == case_types.CHOICE:
            form[field.name] = field.choices[0][0]
        elif field.kind == case_types.CHOICES:
            form[field.name] = [c for c, _label in field.choices]
    return form


def _item_baseline(item) -> dict:
    """The fields of an item's form holding an answer that would be accepted."""
    raw = sample_answer(item.requirement)
    fields = {"version": str(item.version), "orig": value_hash(item.value), "comment": "Ok"}
    kind = item.requirement.answer_type
    if kind == AnswerType.NAMED_PERSON:
        for n, person in enumerate(raw["persons"], start=1):
            for key, value in person.items():
                fields[f"persons-{n}-{key}"] = value
    elif kind == AnswerType.WEEKLY_SCHEDULE:
        for day, hours in raw["days"].items():
            fields[f"{day}-open"], fields[f"{day}-close"] = hours["open"], hours["close"]
    elif kind == AnswerType.SELECTION:
        fields["selected"] = raw["selected"]
    elif kind != AnswerType.DOCUMENT:
        fields.update({k: v for k, v in raw.items() if isinstance(v, str)})
    return {prefix(item.id) + name: value for name, value in fields.items()}


@pytest.fixture(scope="module")
def fuzz_app(world, world_connection):
    from web import create_app

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SESSION_FACTORY": lambda: _session(world_connection),
            "EVIDENCE_DIR": world["evidence_dir"],
        }
    )
    return app


@pytest.fixture(scope="module")
def logins(fuzz_app):
    """Each role's session cookie and CSRF token (anonymous too), logged in once."""
    result = {}
    for role in ROLES:
        client = fuzz_app.test_client()
        page = client.get("/logga-in").get_data(as_text=True)
        token = CSRF_RE.search(page).group(1)
        if role != ANON:
            response = client.post(
                "/logga-in",
                data={"csrf_token": token, "username": f"fuzz.{role.value}", "password": PASSWORD},
            )
            assert response.status_code == 302
            token = CSRF_RE.search(client.get("/").get_data(as_text=True)).group(1)
        result[role] = (client.get_cookie("halsoval_session").value, token)
    return result


# --- what each endpoint gets ---------------------------------------------------------------

WORKFLOWS = {
    "dialogs.act": ("dialog_id", dl.DIALOG, "follow_up_dialogs"),
    "plans.act": ("plan_id", ap.ACTION_PLAN, "action_plans"),
    "sanctions.act": ("case_id", sc.SANCTION, "sanction_cases"),
    "cases.act": ("arende_id", CASE, "cases"),
    "reviews.act": ("review_id", REVIEW, "in_depth_reviews"),
    "joint.act": ("joint_id", jm.JOINT_DIALOG, "joint_dialogs"),
    "analysis.act": ("analysis_id", am.ANALYSIS, "annual_analyses"),
}
TRIGGER_FORMS = {
    "request_material": {
        "material_request": "Bemanningslistan.",
        "material_deadline": "2030-01-10",
    },
    "submit_material": {"comment": "Bifogat."},
    "book_meeting": {
        "meeting_at": "2030-05-20T09:00",
        "meeting_place": "Hälsocentralen",
        **{f"name_{n}": name for n, name in enumerate(["Vera", "Mats", "Bo"], start=1)},
        "role_1": "verksamhetschef",
        "role_2": "medicinskt ansvarig",
        "role_3": "beställare",
        "email_1": "vera@example.se",
        "email_2": "",
    },
    "hold_meeting": {"minutes": "Genomgång av iakttagelserna."},
    "submit": {"report": "Klart."},
    "report": {"report": "Genomfört."},
    "inform_unit": {"response_days": "10"},
    "respond": {"response": "Svar."},
    "assess": {"assessment": "Bedömning."},
    "request_completion": {"completion_days": "5"},
    "grant": {
        "diarienummer": "RS 2026/1",
        "decided_from": dt.date.today().isoformat(),
        "decided_to": (dt.date.today() + dt.timedelta(days=20)).isoformat(),
        "decided_limit": "4000",
        "rationale": "Beviljas.",
    },
    "refuse": {"diarienummer": "RS 2026/2"},
    "note": {"diarienummer": "", "rationale": "Noteras."},
    "decide": {
        "decision": "remark",
        "rationale": "Upprepad brist.",
        "deciding_body": "bestallarenheten",
        "diarienummer": "RS 2025/123",
        "decided_on": dt.date.today().isoformat(),
        "protocol_paragraph": "§ 12",
        "prop_seriousness": "Allvarlig.",
        "prop_duration": "Ett år.",
        "prop_repetition": "Andra gången.",
        "prop_own_measures": "Inga.",
        "prop_patient_safety": "Ingen känd.",
        "four_eyes_reason": "Ensam handläggare.",
        "penalty_sek": "50 000",
        "reduction_percent": "10",
        "reduction_from": "2030-01-01",
        "reduction_to": "2030-06-30",
    },
    "extend_response": {"extra_days": "5"},
    "demand_rectification": {"rectification_demand": "Rätta.", "rectification_days": "10"},
    "end_rectification": {"rectified": "yes", "rectification_outcome": "Rättat."},
    "communicate": {
        "intended_decision": "penalty",
        "intended_grounds": "Upprepad brist.",
        "intended_penalty_sek": "50 000",
        "intended_percent": "10",
        "intended_from": "2030-01-01",
        "intended_to": "2030-06-30",
        "reply_days": "10",
    },
    "answer_communication": {"reply": "Synpunkter."},
    "request_review_material": {"material_request": "Bemanningsplan.", "material_days": "10"},
    "extend_material_deadline": {"extra_days": "5"},
    "submit_review_material": {"answer": "Bifogat."},
    "conclude_review": {"analysis": "Analys.", "conclusions": "Slutsatser."},
    "end_with_action_plan": {"plan_due": (dt.date.today() + dt.timedelta(days=20)).isoformat()},
    "end_with_sanction_case": {"diarienummer": "RS 2025/8"},
    "write_agenda": {"agenda": "1. Läget."},
    "send_agenda": {"late_reason": "Extra möte."},
    "write_minutes": {"minutes": "Protokoll."},
}


def _path_values(world) -> dict:
    return {
        "checklist_id": [world["checklist_id"]],
        "item_id": list(world["items"].values()),
        "file_id": [world["file_id"]],
        "dialog_id": [world["dialog_id"]],
        "entry_id": [world["entry_id"]],
        "finding_id": [world["finding_id"]],
        "material_id": [world["material_id"]],
        "plan_id": [world["plan_id"]],
        "measure_id": [world["measure_id"]],
        "plan_file_id": [world["plan_file_id"]],
        "case_id": [world["case_id"]],
        "user_id": [world["user_id"]],
        "assignment_id": [world["assignment_id"]],
        "arende_id": [world["arende_id"]],
        "doc_id": [world["arende_doc_id"]],
        "review_id": [world["review_id"]],
        "requirement_id": [world["requirement_id"]],
        "review_file_id": [world["review_file_id"]],
        "joint_id": [world["joint_id"]],
        "follow_up_id": [world["follow_up_id"]],
        "token_id": [world["token_id"]],
        "analysis_id": [world["analysis_id"]],
        "kind": [k.value for k in CaseKind],
        "round_id": [world["round_id"]],
        "unit_code": [world["unit_code"]],
        "edition_code": world["editions"],
        "section": [*world["item_sections"].values(), *world["top_sections"]],
        "filename": ["app.css"],
        # A month that has ended, so the telephone report can be given.
        "year": [dt.date.today().year - 1],
        "month": [3],
        "assignment_code": ["tu.kum", "tu.sjukstugor-vardplatser"],
        "message_id": ["1"],
        "token": ["okand-token"],
    }


def _baseline(endpoint: str, world, args: dict) -> dict:
    """A form this endpoint would accept (before the fuzzer spoils parts of it)."""
    unit = {"unit": world["unit_code"]}
    due = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    item_id = _int(args.get("item_id"))
    item_form = world["item_forms"].get(item_id, {})
    if endpoint == "checklists.section":
        return {
            k: v
            for item, form in world["item_forms"].items()
            if world["item_sections"][item] == args.get("section")
            for k, v in form.items()
        } | {"action": "continue", "item": str(item_id or "")}
    if endpoint == "checklists.save_item":
        return dict(item_form)
    if endpoint == "cases.new":
        return _case_fields(args.get("kind"))
    if endpoint == "joint.attendance":
        u = world.get("unit_id", 0)
        return {
            f"status_{u}": "attended",
            f"name_{u}": "Vera",
            f"role_title_{u}": "verksamhetschef",
            f"absence_reason_{u}": "",
        }
    if endpoint == "cases.update":
        return _case_fields(CaseKind.LIST_STOP)
    if endpoint in ("checklists.judge_item", "checklists.review_section"):
        ids = (
            [item_id]
            if item_id
            else [
                i for i, section in world["item_sections"].items() if section == args.get("section")
            ]
        )
        form = {"action": "continue"}
        for i in ids:
            form |= {
                f"override_{i}": "non_compliant",
                f"reason_{i}": "Saknas.",
                f"comment_{i}": "Kommentar.",
                f"complete_{i}": "1",
            }
        return form
    return {
        "auth.login": {"username": "fuzz.bestallare", "password": "fel"},
        "main.set_language": {"lang": "sv", "next": "/"},
        "rounds.new": {
            "edition": "UOR-2025",
            "title": "Omgång",
            "year": "2025",
            "opens_on": "2025-01-01",
            "deadline": "2025-03-01",
            "requirement_scope": "all",
            "areas": [],
            "codes": "",
            "unit_scope": "all",
            "unit_area": "umea",
            "unit_operator": "egenregi",
            "units": [],
        },
        "checklists.submit": {"confirm": "1"},
        "apikeys.create": {"name": "Power BI", "days": "90"},
        "units.new": UNIT_FORM | {"code": "nyenhet"},
        "units.edit": UNIT_FORM,
        "units.import_file": {"action": "preview", "content": "units: []\n"},
        "users.new": unit
        | {"username": "ny.person", "display_name": "Ny Person", "role": "personal"},
        "users.grant": unit | {"role": "personal"},
        "users.set_status": {"active": "0"},
        "users.own_password": {
            "current": PASSWORD,
            "new": "grusväg tallskog kaffepanna",
            "repeat": "grusväg tallskog kaffepanna",
        },
        "checklists.return_checklist": {"message": "Komplettera."},
        "rounds.extend": {
            "extend-scope": "all",
            "extend-new_deadline": "2025-04-01",
            "extend-reason": "Sjukdom.",
        },
        "rounds.add_unit": {"add-unit": "", "add-reason": "Glömdes."},
        "rounds.close": {"close-confirm": "y", "close-reason": "Tiden är ute."},
        "users.set_email": {"email": "ny@example.se"},
        "users.own_email": {"email": "ny@example.se"},
        "users.own_notifications": {
            "notify_due_soon": "y",
            "notify_overdue": "y",
            "notify_rounds": "",
            "notify_invitations": "y",
        },
        "checklists.upload": {"file": ""},
        "cases.upload": {"document_kind": "application", "file": ""},
        "dialogs.new": unit | {"title": "Dialog"},
        "joint.new": {"meeting_on": due, "place": "Regionens hus", "theme": "Tema"},
        "joint.replan": {"meeting_on": due, "place": "Regionens hus", "theme": "Nytt tema"},
        "joint.add_follow_up": {"text": "Följ upp.", "follow_up_unit": ""},
        "joint.make_finding": {
            "finding_unit": str(world.get("unit_id", "")),
            "requirement": str(world.get("joint_requirement_id", "")),
            "finding_status": "non_compliant",
            "severity": "",
            "statement": "Brist.",
        },
        "joint.resolve_follow_up": {"note": "Klart."},
        "dialogs.dispose": {
            "disposition": "sanction_case",
            "note": "Ärende behövs.",
            "diarienummer": "RS 2025/8",
        },
        "dialogs.upload": {"file": ""},
        "dialogs.link_checklist": {"checklist": str(world.get("checklist_id", ""))},
        "sanctions.ivo_decision": {
            "referred": "yes",
            "referred_on": dt.date.today().isoformat(),
            "reference": "IVO 3.5.1-2025",
            "reason": "",
        },
        "plans.new": unit
        | {
            "title": "Plan",
            "requirements": "Krav",
            "plan_due": due,
            "measures_due": due,
            "finding": str(world["finding_id"]),
        },
        "plans.add_measure": {"description": "Rutin", "responsible": "Vera", "measure_due": due},
        "plans.edit_measure": {"description": "Rutin", "responsible": "Vera", "measure_due": due},
        "plans.change_dates": {"plan_due": due, "measures_due": due, "reason": "Skäl."},
        "plans.upload": {"file": ""},
        "plans.measure_done": {"done_on": dt.date.today().isoformat()},
        "sanctions.new": unit
        | {
            "title": "Ärende",
            "grounds": "Grund",
            "diarienummer": "RS 2025/5",
            "finding": str(world["finding_id"]),
        },
        "reviews.new": {
            "title": "Fördjupning",
            "concern": "Signaler.",
            "complaints": "Klagomål.",
            "finding": str(world["finding_id"]),
        },
        "reviews.add_requirement": {"requirement_text": "Krav", "requirement_due": due},
        "reviews.upload": {"file": ""},
        "yearwheel.telephone": {
            "incoming_calls": "1200",
            "answered_calls": "1100",
            "callback_calls": "300",
            "mean_wait_minutes": "4,5",
            "comment": "Ny växel.",
        },
        "yearwheel.patient_safety": {"sent_on": f"{dt.date.today().year - 1}-02-27"},
        "analysis.new": {"year": "2027"},
        "analysis.edit": {
            "title": "Årlig analys",
            "introduction": "Inledning.",
            "conclusions": "Slutsatser.",
            **{f"text_{key}": "Analys av avsnittet." for key in am.section_keys()},
        },
        "sanctions.ivo": unit
        | {
            "referred_on": "2025-12-01",
            "reference": "IVO 3.5.1-2025",
            "finding": str(world["finding_id"]),
        },
    }.get(endpoint, {}) | (
        TRIGGER_FORMS.get(args.get("trigger"), {}) | {"reason": "Skäl."}
        if endpoint in WORKFLOWS
        else {}
    )


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _state_setup(endpoint: str, world, args: dict, choose) -> list[tuple[str, int, str]]:
    """(table, id, status) to set before the request, so the fired action can happen;
    ``choose`` picks one of a list of states."""
    if endpoint in WORKFLOWS:
        arg, workflow, table = WORKFLOWS[endpoint]
        trigger = workflow.triggers.get(args.get("trigger"))
        states = list(trigger.source) if trigger else list(workflow.states)
        return [(table, world[arg], choose(states).value)]
    if endpoint == "joint.replan":
        return [("joint_dialogs", world["joint_id"], choose(list(jo.REPLAN_STATES)).value)]
    if endpoint == "joint.attendance":
        return [("joint_dialogs", world["joint_id"], choose(list(jo.ATTENDANCE_STATES)).value)]
    if endpoint in ("joint.add_follow_up", "joint.make_finding", "joint.resolve_follow_up"):
        return [("joint_dialogs", world["joint_id"], choose(list(jo.FOLLOW_UP_STATES)).value)]
    if endpoint == "dialogs.dispose":
        states = [dl.DialogState.MEETING_BOOKED, dl.DialogState.MEETING_HELD]
        return [("follow_up_dialogs", world["dialog_id"], choose(states).value)]
    if endpoint in ("dialogs.upload", "dialogs.remove_file", "dialogs.link_checklist"):
        states = [dl.DialogState.MATERIAL_REQUESTED, dl.DialogState.UNDER_REVIEW]
        return [("follow_up_dialogs", world["dialog_id"], choose(states).value)]
    if endpoint.startswith("plans.") and "plan_id" in args:
        states = [ap.P.REQUESTED, ap.P.SUBMITTED, ap.P.RETURNED, ap.P.APPROVED]
        return [("action_plans", world["plan_id"], choose(states).value)]
    if endpoint.startswith("reviews.") and "review_id" in args:
        states = [ReviewState.OPENED, ReviewState.MATERIAL_REQUESTED, ReviewState.CONCLUDED]
        return [("in_depth_reviews", world["review_id"], choose(states).value)]
    if endpoint in ("cases.update", "cases.upload", "cases.remove_document"):
        states = [CaseState.DRAFT, CaseState.COMPLETION_REQUESTED]
        return [("cases", world["arende_id"], choose(states).value)]
    if endpoint.startswith("checklists."):
        status = choose(list(ChecklistStatus))
        return [("checklists", world["checklist_id"], status.value)]
    return []


def _preferred_roles(endpoint: str, args: dict) -> list:
    """The roles that get past the access check (and the trigger's role check)."""
    if endpoint in WORKFLOWS:
        trigger = WORKFLOWS[endpoint][1].triggers.get(args.get("trigger"))
        if trigger:
            return sorted(trigger.roles, key=str)
    access = ROUTE_ACCESS[endpoint]
    return [ANON] if access.public else sorted(access.roles, key=str)


# --- the test --------------------------------------------------------------------------------

SPOIL = {
    "GET": ["query", "query", "path"],
    "POST": ["form", "form", "form", "form", "path", "query"],
}
ARG_RE = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _endpoints():
    from web import create_app

    app = create_app({"SECRET_KEY": "x", "SESSION_FACTORY": lambda: None})
    return sorted({rule.endpoint for rule in app.url_map.iter_rules()})


ENDPOINTS = _endpoints()


def test_the_fuzzer_knows_every_parameter():
    """Every query parameter and form field a view or template names is one the fuzzer sends
    (a new one is fuzzed without anyone remembering to add it, or this test says so)."""
    read = set()
    for path in WEB.rglob("*.py"):
        text = path.read_text()
        read |= set(re.findall(r"args(?:\.get\(|\[)\"(\w+)\"", text))
        read |= set(re.findall(r"form\.(?:get|getlist)\(\"(\w+)\"", text))
        read |= set(re.findall(r"files\.get\(\"(\w+)\"", text))
    for path in WEB.rglob("*.html"):
        read |= set(re.findall(r'name="(\w+)"', path.read_text()))
    known = (
        set(QUERY)
        | {n for names in EXTRA_FIELDS.values() for n in names}
        | {"csrf_token", "viewport", "author", "generator"}  # <meta name=…>, not fields
    )
    for form in TRIGGER_FORMS.values():
        known |= set(form)
    for endpoint in ENDPOINTS:
        known |= set(_baseline(endpoint, _FAKE_WORLD, {}))
    known |= {"title", "reason", "requirement_scope", "unit_scope", "edition", "year"}
    assert read - known == set(), "add these to the fuzzer's QUERY, EXTRA_FIELDS or a baseline"


_FAKE_WORLD = {
    "unit_code": "own",
    "finding_id": 1,
    "item_forms": {},
    "item_sections": {},
    "items": {},
}


def _rule(app, endpoint):
    return next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)


def _path(rule, args: dict) -> str:
    return ARG_RE.sub(
        lambda m: quote(args[m.group(2)], safe="/" if m.group(1) == "path" else ""), rule.rule
    )


def send(app, conn, login, method, path, *, query=None, form=None, setup=()):
    """One request as the logged-in ``login`` inside a savepoint that is rolled back; fails on
    a 5xx (an exception escaping the view fails too: TESTING propagates it)."""
    cookie, token = login
    if method == "POST":
        form = {**(form or {}), "csrf_token": token}
    nested = conn.begin_nested()
    try:
        for table, row_id, status in setup:
            conn.execute(
                sa.text(f"UPDATE {table} SET status = :s WHERE id = :i"),  # noqa: S608
                {"s": status, "i": row_id},
            )
        client = app.test_client()
        client.set_cookie("halsoval_session", cookie)
        response = client.open(path, method=method, query_string=query, data=form or None)
        assert response.status_code < 500, response.get_data(as_text=True)[:300]
        if os.environ.get("FUZZ_LOG"):  # to see how deep the fuzzer gets
            with open(os.environ["FUZZ_LOG"], "a") as log:
                log.write(f"{method} {path[:60]!r} {response.status_code}\n")
        return response
    finally:
        if nested.is_active:
            nested.rollback()


def _values_for(world, endpoint, role) -> dict:
    values = _path_values(world)
    if endpoint in WORKFLOWS:  # the triggers this role may fire, else all of the workflow's
        triggers = WORKFLOWS[endpoint][1].triggers.values()
        mine = [t.name for t in triggers if role in t.roles]
        values["trigger"] = mine or [t.name for t in triggers]
    return values


@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_no_server_error_from_bad_input(fuzz_app, world, world_connection, logins, endpoint, role):
    """Hypothesis: random hostile values in the path, the query and the form, as ``role``."""
    rule = _rule(fuzz_app, endpoint)
    methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
    allowed = role in _preferred_roles(endpoint, {}) or endpoint in WORKFLOWS
    values = _values_for(world, endpoint, role)

    @settings(
        max_examples=EXAMPLES if allowed else 1,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data):
        draw = data.draw
        method = draw(st.sampled_from(methods), label="method")
        # Mostly one place is spoiled and the rest is valid, so the bad value gets deep.
        spoil = draw(st.sampled_from(SPOIL[method]), label="spoil")
        args = {}
        for converter, name in ARG_RE.findall(rule.rule):
            valid = [str(v) for v in values.get(name, [])]
            hostile = st.sampled_from(PATH_INTS if converter == "int" else PATH_TEXT)
            if valid and spoil != "path":
                args[name] = draw(st.sampled_from(valid), label=name)
            else:
                args[name] = draw(st.one_of(hostile, TEXT), label=name)
        names = draw(st.lists(st.sampled_from(sorted(QUERY)), max_size=3, unique=True))
        query = {
            n: draw(FIELD_VALUE if spoil == "query" else st.sampled_from(QUERY[n]), label=f"?{n}")
            for n in names
        }
        form = None
        if method == "POST":
            form = _baseline(endpoint, world, args)
            spoilable = _spoilable(endpoint, form)
            if spoil == "form" and spoilable:
                for name in draw(
                    st.lists(st.sampled_from(spoilable), min_size=1, max_size=3, unique=True)
                ):
                    form[name] = draw(FIELD_VALUE, label=name)
        setup = _state_setup(endpoint, world, args, lambda xs: draw(st.sampled_from(xs)))
        path = _path(rule, args)
        note(f"{method} {path} as {role}; setup={setup!r}")
        send(
            fuzz_app,
            world_connection,
            logins[role],
            method,
            path,
            query=query,
            form=form,
            setup=setup,
        )

    run()


# The sweep: each of these in each field, one field at a time, as a role that gets through.
SWEEP = [
    "\x00",
    "x" * 10_000,
    "1e400",
    "9" * 400,
    str(2**70),
    "²",
    "0001-01-01T00:00",
    "okänt-val",
    ["1", "2"],
]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_each_hostile_value_in_each_field(fuzz_app, world, world_connection, logins, endpoint):
    """Deterministic complement to the fuzzer: every value of :data:`SWEEP` in every form
    field (and every query parameter, and the path) of the endpoint, one at a time, for every
    trigger of a workflow, as a role that gets past the access check."""
    rule = _rule(fuzz_app, endpoint)
    methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
    preferred = _preferred_roles(endpoint, {})
    role = preferred[0] if endpoint not in WORKFLOWS else None
    for trigger_role, args in _sweep_args(world, endpoint, rule, role):
        login = logins[trigger_role]
        path = _path(rule, args)
        setup = _state_setup(endpoint, world, args, lambda xs: xs[0])
        post = "POST" in methods
        form = _baseline(endpoint, world, args) if post else None
        for value in SWEEP:
            query = {n: value for n in QUERY}
            send(fuzz_app, world_connection, login, methods[-1], path, query=query, form=form)
            if not post:
                continue
            for name in _sweep_fields(endpoint, form):
                send(
                    fuzz_app,
                    world_connection,
                    login,
                    "POST",
                    path,
                    form={**form, name: value},
                    setup=setup,
                )
        for name in args:
            for value in SWEEP_PATH:
                send(
                    fuzz_app,
                    world_connection,
                    login,
                    methods[0],
                    _path(rule, {**args, name: value}),
                )


SWEEP_PATH = ["-1", str(2**31), str(2**63), "²", "\x00", "x" * 300, ".."]


def _sweep_fields(endpoint: str, form: dict) -> list[str]:
    """The fields to sweep: all but the repeats of a row (persons 2.., days after Monday)."""
    repeat = re.compile(r"_(persons-[2-9]-|(tue|wed|thu|fri|sat|sun)-)")
    return [name for name in _spoilable(endpoint, form) if not repeat.search(name)]


def _sweep_args(world, endpoint, rule, role):
    """(role, path arguments) to sweep: the valid ones; for a workflow each trigger with a
    role that may fire it."""
    names = [name for _c, name in ARG_RE.findall(rule.rule)]
    values = _path_values(world)
    base = {name: str(values[name][0]) for name in names if name != "trigger"}
    if endpoint not in WORKFLOWS:
        if "section" in base:  # one section: the item forms are swept through save_item
            yield (
                role,
                {**base, "section": world["item_sections"][world["items"][AnswerType.YES_NO]]},
            )
            return
        if endpoint == "checklists.save_item":
            for item_id in world["items"].values():
                yield role, {**base, "item_id": str(item_id)}
            return
        yield role, base
        return
    for trigger in WORKFLOWS[endpoint][1].triggers.values():
        yield sorted(trigger.roles, key=str)[0], {**base, "trigger": trigger.name}
