"""The recurring reports: the telephone report's figures checked with Swedish messages, who
may report, the patient-safety report's date in the follow-up year and its upload checks, the
tilläggsuppdrag annual reports' rows and their county sums, reports on time or late, and the
deadline scan's reminders (idempotent, on both databases)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from audit import db as audit_db
from audit.models import Role
from checklists.catalog import EDITIONS_DIR, load_edition
from checklists.evidence import EvidenceStore, check_upload
from checklists.models import Assignment, Requirement
from tests.conftest import count
from tests.factories import TEST_ACTOR, make_unit, make_user
from workflows.deadlines import scan
from workflows.models import Reminder
from workflows.reports import operations as rep
from workflows.reports.models import AssignmentReport, TelephoneReport

D = dt.date
FIGURES = {
    "incoming_calls": "1 200",
    "answered_calls": "1100",
    "callback_calls": "300",
    "mean_wait_minutes": "4,5",
    "comment": "",
}
# A valid personnummer (Luhn-checked), as the guard's own tests use.
PERSONNUMMER = "19121212-1212"


@pytest.fixture
def world(db):
    load_edition(db, TEST_ACTOR, EDITIONS_DIR / "uor-2025.yaml")
    load_edition(db, TEST_ACTOR, EDITIONS_DIR / "tillagg-2023.yaml")
    off = make_unit(db, "vilhelmina", on_region_telephony=False)
    dorotea = make_unit(db, "dorotea", on_region_telephony=False)
    on = make_unit(db, "backen")
    users = {
        "vilhelmina": make_user(db, "vc.vilhelmina", (Role.VERKSAMHETSCHEF, "vilhelmina")),
        "dorotea": make_user(db, "pers.dorotea", (Role.PERSONAL, "dorotea")),
        "backen": make_user(db, "vc.backen", (Role.VERKSAMHETSCHEF, "backen")),
        "bo": make_user(db, "bo", (Role.BESTALLARE, None)),
    }
    db.commit()
    return {"off": off, "dorotea_unit": dorotea, "on": on, **users}


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("incoming_calls", "många", "”många” är inte ett tal."),
        ("incoming_calls", "", "Ange ett värde."),
        ("answered_calls", "-3", "Värdet kan inte vara negativt."),
        ("callback_calls", "2,5", "Ange ett heltal."),
        ("mean_wait_minutes", "1e400", "Talet är för stort: ange högst 12 siffror."),
        ("mean_wait_minutes", "2000", "Väntetiden kan inte vara mer än ett dygn (1 440 minuter)."),
        ("mean_wait_minutes", "4,55", "Ange väntetiden med högst en decimal, t.ex. 4,5."),
        (
            "answered_calls",
            "1300",
            "Fler besvarade än inkommande samtal: besvarade samtal ingår i de inkommande.",
        ),
        (
            "callback_calls",
            "1150",
            "Fler återuppringningar än besvarade samtal: återuppringningarna ingår i de besvarade.",
        ),
    ],
)
def test_bad_figures_are_refused_with_a_swedish_message_beside_the_field(field, typed, message):
    raw = dict(FIGURES, **{field: typed})
    if field == "callback_calls" and typed == "1150":
        raw["answered_calls"] = "1100"
    with pytest.raises(rep.ReportErrors) as refused:
        rep.clean_telephone(raw)
    assert refused.value.errors == {field: message}


def test_the_figures_are_cleaned():
    figures = rep.clean_telephone(FIGURES)
    assert (figures.incoming_calls, figures.answered_calls, figures.callback_calls) == (
        1200,
        1100,
        300,
    )
    assert figures.mean_wait_minutes == 4.5


def test_a_unit_reports_its_own_month_once_and_corrects_it(db, world):
    today = D(2026, 4, 8)
    report = rep.save_telephone_report(
        db, world["vilhelmina"], world["off"], 2026, 3, FIGURES, today=today
    )
    first = report.submitted_at
    again = rep.save_telephone_report(
        db,
        world["vilhelmina"],
        world["off"],
        2026,
        3,
        dict(FIGURES, answered_calls="1000"),
        today=today,
    )
    assert again.id == report.id and again.answered_calls == 1000
    assert again.submitted_at == first and again.changed_at is not None
    assert count(db, TelephoneReport) == 1


@pytest.mark.parametrize(
    ("who", "unit", "year", "month", "field"),
    [
        ("dorotea", "off", 2026, 3, "unit"),  # another unit's staff
        ("bo", "off", 2026, 3, "unit"),  # the purchaser does not report for a unit
        ("backen", "on", 2026, 3, "unit"),  # on the platform: nothing to report
        ("vilhelmina", "off", 2026, 4, "month"),  # April has not ended on 8 April
        ("vilhelmina", "off", 2026, 13, "month"),
    ],
)
def test_who_may_report_which_month(db, world, who, unit, year, month, field):
    with pytest.raises(rep.ReportErrors) as refused:
        rep.save_telephone_report(
            db, world[who], world[unit], year, month, FIGURES, today=D(2026, 4, 8)
        )
    assert set(refused.value.errors) == {field}
    assert count(db, TelephoneReport) == 0


def test_the_patient_safety_report_is_dated_in_the_follow_up_year(db, world, tmp_path):
    store = EvidenceStore(tmp_path)
    data = b"Berattelse"
    checked = check_upload("psb.txt", data)
    for typed, message in [
        ("2025-02-27", "Datumet ska ligga i uppföljningsåret 2026"),
        ("27/2 2026", "Ange datumet som ÅÅÅÅ-MM-DD"),
        ("2999-01-01", "Datumet ska ligga i uppföljningsåret 2026"),
    ]:
        with pytest.raises(rep.ReportErrors) as refused:
            rep.submit_patient_safety_report(
                db, world["vilhelmina"], world["off"], 2026, typed, checked, data, store
            )
        assert refused.value.errors["sent_on"].startswith(message)
    with pytest.raises(rep.ReportErrors) as refused:
        rep.submit_patient_safety_report(
            db, world["vilhelmina"], world["off"], 2026, "2026-02-27", None, None, store
        )
    assert refused.value.errors == {"file": "Välj filen med patientsäkerhetsberättelsen."}
    report = rep.submit_patient_safety_report(
        db, world["vilhelmina"], world["off"], 2026, "2026-02-27", checked, data, store
    )
    assert report.sent_on == D(2026, 2, 27) and report.filename == "psb.txt"


def test_a_personnummer_in_the_patient_safety_report_is_refused(db, world, tmp_path):
    data = f"Patient {PERSONNUMMER} föll.".encode()
    with pytest.raises(rep.ReportErrors) as refused:
        rep.submit_patient_safety_report(
            db,
            world["vilhelmina"],
            world["off"],
            2026,
            "2026-02-27",
            check_upload("psb.txt", data),
            data,
            EvidenceStore(tmp_path),
        )
    assert "personnummer" in refused.value.errors["file"]
    assert not list(EvidenceStore(tmp_path).stored())


def _beds(db) -> tuple[Assignment, list[Requirement]]:
    assignment = db.scalar(
        sa.select(Assignment).where(Assignment.code == "tu.sjukstugor-vardplatser")
    )
    return assignment, rep.assignment_items(db, assignment)


def test_an_annual_report_needs_every_row_and_sums_to_county_figures(db, world, tmp_path):
    assignment, items = _beds(db)
    beds, readmissions, process = items
    store = EvidenceStore(tmp_path)
    doc = b"Rutin for utskrivning"
    with pytest.raises(rep.ReportErrors) as refused:
        rep.save_assignment_report(
            db,
            world["vilhelmina"],
            world["off"],
            assignment,
            2025,
            {beds.id: {"numerator": "300", "denominator": "x"}, readmissions.id: {}},
            {},
            store,
        )
    assert refused.value.errors == {
        f"row{beds.id}-denominator": "”x” är inte ett tal.",
        f"row{readmissions.id}-numerator": "Ange ett värde.",
        f"row{process.id}": "Välj filen som raden efterfrågar.",
    }
    assert count(db, AssignmentReport) == 0
    for who, unit, ratio in (
        ("vilhelmina", "off", ("300", "400")),
        ("dorotea", "dorotea_unit", ("100", "100")),
    ):
        rep.save_assignment_report(
            db,
            world[who],
            world[unit],
            assignment,
            2025,
            {
                beds.id: {"numerator": ratio[0], "denominator": ratio[1]},
                readmissions.id: {"numerator": "3", "denominator": "60"},
            },
            {process.id: (check_upload("rutin.txt", doc), doc)},
            store,
        )
    db.commit()
    figures = {f.requirement_code: f for f in rep.assignment_county_figures(db, 2025)}
    occupancy = figures["tu.sjukstugor-vardplatser.belaggning"]
    # Summed counts (400/500 = 80 %), not the mean of the units' shares (75 % and 100 %).
    assert (occupancy.numerator, occupancy.denominator, occupancy.units) == (400, 500, 2)
    assert occupancy.ratio == pytest.approx(0.8)
    assert figures["tu.sjukstugor-vardplatser.aterinskrivning-30-dagar"].numerator == 6
    assert "tu.sjukstugor-vardplatser.utskrivningsprocess" not in figures  # a document


def test_a_unit_outside_the_assignment_cannot_report_on_it(db, world, tmp_path):
    assignment, _items = _beds(db)
    with pytest.raises(rep.ReportErrors) as refused:
        rep.save_assignment_report(
            db, world["backen"], world["on"], assignment, 2025, {}, {}, EvidenceStore(tmp_path)
        )
    assert refused.value.errors == {"unit": "Tilläggsuppdraget gäller inte enheten."}


def test_reports_on_time_late_and_missing(db, world, tmp_path, monkeypatch):
    today = D(2026, 4, 8)
    monkeypatch.setattr(audit_db, "clock", lambda: dt.datetime(2026, 4, 8, 9, tzinfo=dt.UTC))
    rep.save_telephone_report(db, world["vilhelmina"], world["off"], 2026, 1, FIGURES, today=today)
    data = b"Berattelse"
    rep.submit_patient_safety_report(
        db,
        world["vilhelmina"],
        world["off"],
        2026,
        "2026-03-03",
        check_upload("psb.txt", data),
        data,
        EvidenceStore(tmp_path),
    )
    db.commit()
    result = {r.kind: r for r in rep.reports_on_time(db, 2026, today=today)}
    # Two units off the platform, twelve months each; by 8 April the January and February
    # reports are due (16 January, 13 February) and March's is not (16 April). The January
    # report was given on 8 April, after its day: late.
    telephone = result["telephone"]
    assert (telephone.expected, telephone.on_time, telephone.late, telephone.missing) == (
        24,
        0,
        1,
        3,
    )
    safety = result["patient_safety"]
    assert (safety.expected, safety.on_time, safety.late, safety.missing) == (3, 0, 1, 2)
    # Sjukstugor vilhelmina and dorotea, familjecentral and KUM at backen.
    assert result["assignment"].expected == 4


def test_the_scan_reminds_of_missing_reports_once(db, world):
    today = D(2026, 4, 13)
    # Vilhelmina and Dorotea (off the platform): March's report is due 16 April, three working
    # days away (14, 15, 16) -> due soon; February's (13 March) has passed -> overdue.
    # Patient-safety reports (1 March) and the tilläggsuppdrag reports (1 March) passed more
    # than the look-back ago: not reminded again now.
    first = scan(db, today)
    rows = db.execute(
        sa.select(Reminder.entity_type, Reminder.unit_id, Reminder.kind, Reminder.due_on).order_by(
            Reminder.unit_id, Reminder.due_on
        )
    ).all()
    assert (first.due_soon, first.overdue) == (2, 2)
    off, dorotea = world["off"].id, world["dorotea_unit"].id
    assert sorted(rows) == sorted(
        [
            ("telephone_report", off, "overdue", D(2026, 3, 13)),
            ("telephone_report", off, "due_soon", D(2026, 4, 16)),
            ("telephone_report", dorotea, "overdue", D(2026, 3, 13)),
            ("telephone_report", dorotea, "due_soon", D(2026, 4, 16)),
        ]
    )
    again = scan(db, today)
    assert (again.due_soon, again.overdue) == (0, 0)
    assert count(db, Reminder) == 4
    text = db.scalar(
        sa.select(Reminder.text).where(Reminder.unit_id == off, Reminder.kind == "due_soon")
    )
    assert text == (
        "Månadsrapporten om telefontillgänglighet för mars 2026 ska lämnas senast 2026-04-16 "
        "(§6.9)."
    )


def test_the_scan_reminds_of_the_patient_safety_and_annual_reports_before_1_march(db, world):
    # 20 February 2026: 1 March is a Sunday; 23–27 February are five working days away.
    scan(db, D(2026, 2, 20))
    rows = db.execute(sa.select(Reminder.entity_type, Reminder.unit_id, Reminder.text)).all()
    kinds = sorted((entity, unit) for entity, unit, _text in rows if entity != "telephone_report")
    units = {u: world[u].id for u in ("off", "dorotea_unit", "on")}
    assert kinds == sorted(
        [
            ("patient_safety_report", units["off"]),
            ("patient_safety_report", units["dorotea_unit"]),
            ("patient_safety_report", units["on"]),
            ("assignment_report", units["off"]),
            ("assignment_report", units["dorotea_unit"]),
            ("assignment_report", units["on"]),
        ]
    )
    backen = next(t for e, u, t in rows if e == "assignment_report" and u == units["on"])
    assert backen == (
        "Årsrapporten för 2025 ska lämnas senast 2026-03-01 för tilläggsuppdraget: Samordnare "
        "för Familjecentral; KUM – Klinisk undervisningsmottagning."
    )
    # A report given stops its reminders; the scan stays idempotent.
    before = count(db, Reminder)
    assert scan(db, D(2026, 2, 20)).due_soon == 0
    assert count(db, Reminder) == before
