"""The årshjul: duties from the catalog (applicability per unit: BVC, MVC, the telephone
platform), the recurring reports and the workflows, dated in Swedish working days across
Easter, Ascension, nationaldagen, midsommar and Christmas (2025 and 2026), with what is done,
due and late — in a fixed number of queries whatever the number of units."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest
import sqlalchemy as sa

from audit import db as audit_db
from audit.models import Role
from checklists.catalog import EDITIONS_DIR, load_edition
from checklists.evidence import EvidenceStore, check_upload
from tests.factories import TEST_ACTOR, make_unit, make_user
from workflows import action_plan as ap
from workflows import yearwheel as yw
from workflows.reports import operations as rep

D = dt.date
FIGURES = {
    "incoming_calls": "1200",
    "answered_calls": "1100",
    "callback_calls": "300",
    "mean_wait_minutes": "4,5",
}


# --- working-day dates against the calendar -----------------------------------------------


@pytest.mark.parametrize(
    ("year", "month", "due"),
    [
        # April 2025: 1–4, 7–11, 14 (Easter is later: Good Friday 18 April).
        (2025, 3, D(2025, 4, 14)),
        # April 2026: Good Friday 3 April and Easter Monday 6 April are not working days.
        (2026, 3, D(2026, 4, 16)),
        # May 2025: 1 May is a holiday; 2, 5–9, 12–15.
        (2025, 4, D(2025, 5, 15)),
        # May 2026: 1 May (a Friday) and Ascension Day 14 May are holidays.
        (2026, 4, D(2026, 5, 18)),
        # June 2025: nationaldagen Friday 6 June is a holiday.
        (2025, 5, D(2025, 6, 16)),
        # June 2026: nationaldagen falls on a Saturday.
        (2026, 5, D(2026, 6, 12)),
        # January 2026: New Year's Day and Epiphany (Tuesday 6 January).
        (2025, 12, D(2026, 1, 16)),
    ],
)
def test_the_telephone_report_is_due_on_the_tenth_working_day_after_the_month(year, month, due):
    assert rep.telephone_due(year, month) == due


def test_the_purchasers_dates_fall_on_working_days_before_midsommar_and_christmas():
    assert yw.midsommarafton(2025) == D(2025, 6, 20)
    assert yw.midsommarafton(2026) == D(2026, 6, 19)
    assert yw.last_working_day_before(yw.midsommarafton(2025)) == D(2025, 6, 19)
    assert yw.last_working_day_before(yw.midsommarafton(2026)) == D(2026, 6, 18)
    assert yw.last_working_day_before(D(2025, 12, 24)) == D(2025, 12, 23)
    assert yw.last_working_day_before(D(2026, 12, 24)) == D(2026, 12, 23)
    # The last working day of March 2024 is Maundy Thursday (Good Friday is 29 March).
    assert yw.last_working_day_of(2024, 3) == D(2024, 3, 28)
    assert yw.last_working_day_of(2026, 4) == D(2026, 4, 30)


def test_status_done_due_late_upcoming():
    today = D(2026, 4, 8)
    assert yw.status_of(D(2026, 4, 7), None, today) == yw.DutyStatus.LATE
    assert yw.status_of(D(2026, 4, 7), D(2026, 4, 9), today) == yw.DutyStatus.DONE
    # 10 working days from Wednesday 8 April 2026: 9, 10, 13–17, 20–22.
    assert yw.status_of(D(2026, 4, 22), None, today) == yw.DutyStatus.DUE
    assert yw.status_of(D(2026, 4, 23), None, today) == yw.DutyStatus.UPCOMING


# --- applicability per unit ----------------------------------------------------------------

FLAGGED_EDITION = """\
edition:
  code: UOR-2026T
  family: UOR
  title: Uppdrag och regler 2026 (test)
  year: 2026
  source: test
areas:
  - {code: bemotande, title: "Bemötande"}
  - {code: telefoni, title: "Telefoni"}
items:
  - code: bemotande.bvc-arlig
    section: "2.1.4"
    heading: Barnhälsovård
    area: bemotande
    kind: obligation
    source_text: BVC årligen.
    question: Har BVC lämnat sin årsrapport?
    answer: {type: yes_no}
    applies_to: {flags: [has_bvc]}
    recurrence: annual
    severity: normal
    evidence: Rapporten.
  - code: bemotande.mvc-arlig
    section: "2.1.3"
    heading: Mödrahälsovård
    area: bemotande
    kind: obligation
    source_text: MVC årligen.
    question: Har MVC lämnat sin årsrapport?
    answer: {type: yes_no}
    applies_to: {flags: [has_mvc]}
    recurrence: annual
    deadline: "09-30"
    severity: normal
    evidence: Rapporten.
  - code: bemotande.alla-arlig
    section: "2.1"
    heading: Alla
    area: bemotande
    kind: obligation
    source_text: Alla årligen.
    question: Har enheten gjort det årliga?
    answer: {type: yes_no}
    applies_to: {}
    recurrence: annual
    severity: normal
    evidence: Rapporten.
  - code: telefoni.manadsrapport-telefontillganglighet
    section: "6.9"
    heading: Telefoni
    area: telefoni
    kind: obligation
    source_text: En gång per månad.
    question: Ladda upp månadens rapport.
    answer: {type: document, documents: Månadsrapport}
    applies_to: {not_flags: [on_region_telephony]}
    recurrence: monthly
    severity: high
    evidence: Rapporten.
"""


@pytest.fixture
def flagged(db, tmp_path):
    path = tmp_path / "uor-2026t.yaml"
    path.write_text(textwrap.dedent(FLAGGED_EDITION))
    load_edition(db, TEST_ACTOR, path)
    both = make_unit(db, "both", has_bvc=True, has_mvc=True, on_region_telephony=True)
    neither = make_unit(db, "neither", has_bvc=False, has_mvc=False, on_region_telephony=False)
    bvc_only = make_unit(db, "bvconly", has_bvc=True, has_mvc=False, on_region_telephony=True)
    db.commit()
    return both, neither, bvc_only


def _codes(duties, unit):
    return sorted(
        d.key.split(":")[1] for d in duties if d.unit_id == unit.id and d.kind != "telephone"
    )


def test_each_unit_gets_the_duties_that_apply_to_it(db, flagged):
    both, neither, bvc_only = flagged
    duties = yw.year_duties(db, 2026, units=[both, neither, bvc_only], today=D(2026, 1, 10))
    assert _codes(duties, both) == [
        "bemotande.alla-arlig",
        "bemotande.bvc-arlig",
        "bemotande.mvc-arlig",
    ]
    assert _codes(duties, neither) == ["bemotande.alla-arlig"]
    assert _codes(duties, bvc_only) == ["bemotande.alla-arlig", "bemotande.bvc-arlig"]
    mvc = next(d for d in duties if d.key == "catalog:bemotande.mvc-arlig:both:2026")
    assert mvc.due_on == D(2026, 9, 30) and mvc.note is None
    every = next(d for d in duties if d.key == "catalog:bemotande.alla-arlig:both:2026")
    assert every.due_on == D(2026, 12, 31) and "utan datum" in every.note
    # Off the platform: twelve monthly telephone reports falling due in 2026 (December 2025's
    # to November 2026's), on the working days of the rule; on the platform: none.
    telephone = [d for d in duties if d.kind == "telephone"]
    assert {d.unit_id for d in telephone} == {neither.id}
    assert [d.due_on for d in telephone] == [
        D(2026, 1, 16),
        D(2026, 2, 13),
        D(2026, 3, 13),
        D(2026, 4, 16),
        D(2026, 5, 18),
        D(2026, 6, 12),
        D(2026, 7, 14),
        D(2026, 8, 14),
        D(2026, 9, 14),
        D(2026, 10, 14),
        D(2026, 11, 13),
        D(2026, 12, 14),
    ]
    assert telephone[0].title == "Telefontillgänglighet december 2025"
    assert all(d.note == rep.ASSUMPTIONS["telephone"] for d in telephone)
    # No units named: the purchaser's own duties are not among a unit's.
    assert not any(d.unit_id is None for d in duties)


def test_the_purchasers_year_has_two_joint_dialogs_and_the_annual_analysis(db, flagged):
    duties = yw.year_duties(db, 2026, today=D(2026, 1, 10))
    own = [d for d in duties if d.unit_id is None]
    assert [(d.section, d.due_on) for d in own] == [
        ("7.1.4", D(2026, 4, 30)),
        ("7.1.2", D(2026, 6, 18)),
        ("7.1.2", D(2026, 12, 23)),
    ]
    assert {d.unit_id for d in duties if d.unit_id} == {u.id for u in flagged}


def test_a_registered_source_marks_the_purchasers_duty_done(db, flagged, monkeypatch):
    monkeypatch.setattr(
        yw, "PURCHASER_DONE", [lambda session, year: {f"joint_dialog:{year}:1": D(year, 5, 20)}]
    )
    own = {d.key: d for d in yw.year_duties(db, 2026, today=D(2026, 7, 1)) if d.unit_id is None}
    assert own["joint_dialog:2026:1"].status == yw.DutyStatus.DONE
    assert own["joint_dialog:2026:2"].status == yw.DutyStatus.UPCOMING
    assert own["annual_analysis:2025"].status == yw.DutyStatus.LATE


# --- the real catalog, reports and workflows ------------------------------------------------


@pytest.fixture
def county(db):
    load_edition(db, TEST_ACTOR, EDITIONS_DIR / "uor-2025.yaml")
    load_edition(db, TEST_ACTOR, EDITIONS_DIR / "tillagg-2023.yaml")
    off = make_unit(db, "vilhelmina", on_region_telephony=False, has_bvc=False, has_mvc=False)
    on = make_unit(db, "backen")
    head = make_user(db, "vc.vilhelmina", (Role.VERKSAMHETSCHEF, "vilhelmina"))
    bo = make_user(db, "bo", (Role.BESTALLARE, None))
    db.commit()
    return off, on, head, bo


def test_reports_and_workflows_make_duties_done_due_and_late(db, county, tmp_path, monkeypatch):
    off, on, head, bo = county
    today = D(2026, 4, 8)
    monkeypatch.setattr(audit_db, "clock", lambda: dt.datetime(2026, 4, 8, 9, tzinfo=dt.UTC))
    rep.save_telephone_report(db, head, off, 2026, 1, FIGURES, today=today)
    data = b"Patientsakerhetsberattelse 2025"
    rep.submit_patient_safety_report(
        db,
        head,
        off,
        2026,
        "2026-03-03",
        check_upload("psb.txt", data),
        data,
        EvidenceStore(tmp_path),
    )
    plan = ap.request_action_plan(
        db,
        bo,
        on,
        title="Plan",
        requirements="Krav",
        plan_due=D(2026, 4, 20),
        measures_due=D(2026, 5, 29),
    )
    db.commit()
    duties = {d.key: d for d in yw.year_duties(db, 2026, today=today)}
    january = duties["telephone:vilhelmina:2026-01"]
    assert january.status == yw.DutyStatus.DONE and january.done_on is not None
    assert duties["telephone:vilhelmina:2026-02"].status == yw.DutyStatus.LATE
    assert duties["telephone:vilhelmina:2026-03"].status == yw.DutyStatus.DUE
    assert duties["telephone:vilhelmina:2026-03"].link == (
        "yearwheel.telephone",
        {"unit_code": "vilhelmina", "year": 2026, "month": 3},
    )
    assert "telephone:backen:2026-03" not in duties  # on the platform
    # The patient-safety report: sent 3 March, after 1 March — done (and late, for the
    # analysis); the unit on the platform has not sent its own.
    safety = duties["patient_safety:vilhelmina:2026"]
    assert (safety.status, safety.done_on, safety.due_on) == (
        yw.DutyStatus.DONE,
        D(2026, 3, 3),
        D(2026, 3, 1),
    )
    assert duties["patient_safety:backen:2026"].status == yw.DutyStatus.LATE
    # The 2025 edition stands for 2026; a yearly duty without a date is due at the year's end.
    assert duties["catalog:vard.lakemedel-informationsbesok:backen:2026"].due_on == D(2026, 12, 31)
    # Tilläggsuppdrag: Vilhelmina's sjukstuga beds, the 2025 report due 1 March 2026.
    tu = duties["assignment:tu.sjukstugor-vardplatser:vilhelmina:2025"]
    assert (tu.due_on, tu.status) == (D(2026, 3, 1), yw.DutyStatus.LATE)
    assert tu.note == rep.ASSUMPTIONS["assignment"]
    # Backen's assignments: KUM and familjecentral.
    assert {k.split(":")[1] for k in duties if k.startswith("assignment:") and ":backen:" in k} == {
        "tu.familjecentral",
        "tu.kum",
    }
    # The workflow's deadline, linked to its page.
    plan_duty = next(d for d in duties.values() if d.kind == "workflow")
    assert plan_duty.link == ("plans.show", {"plan_id": plan.id})
    assert (plan_duty.due_on, plan_duty.status, plan_duty.section) == (
        D(2026, 4, 20),
        yw.DutyStatus.DUE,
        "7.1.3",
    )


def test_a_fixed_number_of_queries_whatever_the_number_of_units(db, county, engine):
    counts = []
    for extra in (0, 8):
        for n in range(extra):
            make_unit(db, f"extra{len(counts)}{n}", on_region_telephony=bool(n % 2))
        db.commit()
        statements = []

        def count(*args, statements=statements, **kwargs):
            statements.append(1)

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            duties = yw.year_duties(db, 2026, today=D(2026, 4, 8))
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        counts.append(len(statements))
        assert duties
    assert counts[0] == counts[1], counts
