# ruff: noqa: S608 (the independent SQL is written here, from constants)
"""The annual analysis (§7.1.4): its figures equal independent SQL over the same data (written
here, by hand, on SQLite and PostgreSQL); the machine from every state; a published analysis
cannot change — not through the operations, not through the ORM, not in the database; a new
version is drafted from it and both remain; every step is in the trail."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from audit.models import Role
from audit.trail import AuditEvent
from tests.analysis_world import YEAR, build_world
from tests.conftest import count
from tests.factories import make_user
from workflows.analysis import machine as am
from workflows.analysis import sections
from workflows.analysis.models import AnalysisState, AnnualAnalysis, PublishedAnalysisError
from workflows.engine import WorkflowError

STATUS = "COALESCE(i.override_status, i.auto_status)"
JUDGED = "('compliant', 'partly_compliant', 'non_compliant')"


@pytest.fixture
def world(db, tmp_path):
    return build_world(db, tmp_path)


def table(key: str, db) -> sections.Table:
    _as_of, tables = sections.build(db, YEAR)
    return next(t for t in tables if t.key == key)


def pair(cell) -> tuple[int, int]:
    return (cell["n"], cell["d"]) if cell else (0, 0)


def sql(db, text: str, **params):
    return db.execute(sa.text(text), params).all()


def test_every_section_is_a_function_named_as_its_table(world, db):
    _as_of, tables = sections.build(db, YEAR)
    assert [t.key for t in tables] == am.section_keys()
    for t in tables:
        assert t.title and t.reference and t.columns
        for row in t.rows + t.totals:
            assert len(row) == len(t.columns), t.key


def test_heat_map_equals_sql(world, db):
    t = table("heat_map", db)
    expected = {
        (unit, area): (compliant, judged)
        for unit, area, compliant, judged in sql(
            db,
            f"""SELECT u.name, r.area,
                   SUM(CASE WHEN {STATUS} = 'compliant' THEN 1 ELSE 0 END),
                   SUM(CASE WHEN {STATUS} IN {JUDGED} THEN 1 ELSE 0 END)
              FROM checklist_items i
              JOIN checklists c ON c.id = i.checklist_id
              JOIN rounds ro ON ro.id = c.round_id
              JOIN requirements r ON r.id = i.requirement_id
              JOIN units u ON u.id = c.unit_id
             WHERE ro.year = :y
             GROUP BY u.name, r.area""",
            y=YEAR,
        )
    }
    codes = {title: code for code, title in sections._area_titles(db, sa.true())}
    areas = [codes[c["label"]] for c in t.columns[1:]]
    got = {}
    for row in t.rows:
        for area, cell in zip(areas, row[1:], strict=True):
            if (row[0], area) in expected:
                got[(row[0], area)] = pair(cell)
    assert got == {k: v for k, v in expected.items() if k[1] in areas}
    # An area left out is one in which nothing at all was judged.
    assert all(judged == 0 for (_u, a), (_c, judged) in expected.items() if a not in areas)
    assert len(t.rows) == len({unit for unit, _ in expected})
    county = t.totals[0]
    for area, cell in zip(areas, county[1:], strict=True):
        assert pair(cell) == tuple(
            sum(v[i] for (u, a), v in expected.items() if a == area) for i in (0, 1)
        )


def test_compliance_by_requirement_equals_sql(world, db):
    t = table("compliance_by_requirement", db)
    expected: dict[str, dict[str, int]] = {}
    for code, status, n in sql(
        db,
        f"""SELECT r.code, {STATUS}, COUNT(*)
              FROM checklist_items i
              JOIN checklists c ON c.id = i.checklist_id
              JOIN rounds ro ON ro.id = c.round_id
              JOIN requirements r ON r.id = i.requirement_id
             WHERE ro.year = :y
             GROUP BY r.code, {STATUS}""",
        y=YEAR,
    ):
        expected.setdefault(code, {})[status] = n
    order = [s.value for s, _ in sections.STATUS_COLUMNS]
    got = {row[0]: dict(zip(order, row[2:8], strict=True)) for row in t.rows}
    assert set(got) == set(expected)
    for code, counts in expected.items():
        assert {k: v for k, v in got[code].items() if v} == counts, code
    shares = [r[-1]["n"] / r[-1]["d"] for r in t.rows if r[-1]]
    assert shares == sorted(shares)  # the least fulfilled first


def test_trends_follow_the_stable_code_across_editions(world, db):
    t = table("trends", db)
    assert [c["label"] for c in t.columns[1:]] == [str(YEAR - 1), str(YEAR)]
    # Independent: a requirement counts in the area this year's edition gives its code.
    expected = {
        (year, area): (compliant, judged)
        for year, area, compliant, judged in sql(
            db,
            f"""SELECT ro.year, COALESCE(cur.area, r.area),
                   SUM(CASE WHEN {STATUS} = 'compliant' THEN 1 ELSE 0 END),
                   SUM(CASE WHEN {STATUS} IN {JUDGED} THEN 1 ELSE 0 END)
              FROM checklist_items i
              JOIN checklists c ON c.id = i.checklist_id
              JOIN rounds ro ON ro.id = c.round_id
              JOIN requirements r ON r.id = i.requirement_id
              LEFT JOIN (SELECT r2.code AS code, MIN(r2.area) AS area
                           FROM requirements r2 JOIN rounds ro2 ON ro2.edition_id = r2.edition_id
                          WHERE ro2.year = :y GROUP BY r2.code) cur ON cur.code = r.code
             WHERE ro.year <= :y
             GROUP BY ro.year, COALESCE(cur.area, r.area)""",
            y=YEAR,
        )
    }
    titles = dict(sections._area_titles(db, sa.true()))
    by_title = {row[0]: row[1:] for row in t.rows}
    for (year, area), counts in expected.items():
        if titles[area] not in by_title:  # nothing judged in it in any year: left out
            assert not any(j for (_y, a), (_c, j) in expected.items() if a == area)
            continue
        cell = by_title[titles[area]][[YEAR - 1, YEAR].index(year)]
        assert pair(cell) == counts, (year, area)
    # The moved requirement is not counted in the area the earlier edition gave it.
    naive = sql(
        db,
        """SELECT COUNT(*) FROM checklist_items i
             JOIN checklists c ON c.id = i.checklist_id
             JOIN rounds ro ON ro.id = c.round_id
             JOIN requirements r ON r.id = i.requirement_id
            WHERE ro.year = :y AND r.code = :code AND r.area != :area""",
        y=YEAR - 1,
        code=world["moved_code"],
        area=world["moved_from"],
    )[0][0]
    assert naive > 0  # the earlier edition did put it elsewhere


def test_findings_by_latest_disposition_equal_sql(world, db):
    t = table("findings", db)
    rows = sql(
        db,
        """SELECT d.disposition, f.severity, COUNT(*)
             FROM findings f
             JOIN rounds ro ON ro.id = f.round_id
             LEFT JOIN dialog_findings d ON d.id = (
                 SELECT MAX(d2.id) FROM dialog_findings d2
                  WHERE d2.finding_id = f.id AND d2.disposition IS NOT NULL)
            WHERE ro.year = :y
            GROUP BY d.disposition, f.severity""",
        y=YEAR,
    )
    expected: dict = {}
    for disposition, _severity, n in rows:
        expected[disposition] = expected.get(disposition, 0) + n
    got = {row[0]: row[-1] for row in t.rows}
    for disposition, n in expected.items():
        label = (
            sections.DISPOSITION_LABELS[sections.Disposition(disposition)]
            if disposition
            else "Ännu inte hanterad i en dialog"
        )
        assert got[label] == n, label
    assert t.totals[0][-1] == sql(db, "SELECT COUNT(*) FROM findings")[0][0]
    assert got["Särskild fördjupning"] >= 1  # the later disposition of a finding handled twice


def test_action_plans_and_lateness_equal_sql(world, db):
    t = table("action_plans", db)
    today = dt.date.today()
    rows = sql(
        db,
        """SELECT p.status, COUNT(*),
               SUM(CASE WHEN (p.status IN ('requested', 'returned') AND p.plan_due < :d)
                          OR (p.status = 'approved' AND (p.measures_due < :d OR EXISTS (
                              SELECT 1 FROM action_measures m WHERE m.plan_id = p.id
                                 AND m.done_on IS NULL AND m.due_date < :d)))
                        THEN 1 ELSE 0 END)
             FROM action_plans p GROUP BY p.status""",
        d=today,
    )
    from workflows import action_plan as ap
    from workflows.models import PlanState

    got = {row[0]: (row[1], row[2]) for row in t.rows}
    for status, n, late in rows:
        assert got[ap.STATE_LABELS[PlanState(status)]] == (n, late)
    assert t.totals[0][1:] == [sum(r[1] for r in rows), sum(r[2] for r in rows)]
    assert t.totals[0][2] == 2  # the fixture's two late plans


def test_plans_over_time_ends_with_the_plans_states(world, db):
    t = table("plans_over_time", db)
    assert len(t.rows) == dt.date.today().month
    last = t.rows[-1]
    by_group = dict(zip([c["label"] for c in t.columns[1:-1]], last[1:-1], strict=True))
    states = dict(sql(db, "SELECT status, COUNT(*) FROM action_plans GROUP BY status"))
    for label, members in sections.PLAN_GROUPS:
        assert by_group[label] == sum(states.get(m.value, 0) for m in members), label
    assert last[-1] == sum(states.values())


def test_sanctions_equal_sql(world, db):
    t = table("sanctions", db)
    rows = sql(
        db,
        """SELECT CASE WHEN status = 'withdrawn' THEN 'withdrawn' ELSE decision END AS k,
                  COUNT(*),
                  SUM(CASE WHEN deciding_body = 'regionstyrelsen' THEN 1 ELSE 0 END),
                  COALESCE(SUM(penalty_sek), 0)
             FROM sanction_cases GROUP BY CASE WHEN status = 'withdrawn' THEN 'withdrawn'
                  ELSE decision END""",
    )
    got = {row[0]: row for row in t.rows}
    labels = {d.value: sections.sc.DECISION_LABELS[d].capitalize() for d in sections.Decision}
    labels.update({None: "Ännu inte beslutat", "withdrawn": "Återkallat"})
    for key, n, by_rs, penalty in rows:
        row = got[labels[key]]
        assert (row[1], row[3], row[4]) == (n, by_rs, penalty), key
    assert got["Vite"][1:] == [2, 0, 2, 75_000]


def test_cases_equal_sql(world, db):
    t = table("cases", db)
    rows = sql(
        db,
        """SELECT kind, COUNT(*),
                  SUM(CASE WHEN outcome = 'granted' THEN 1 ELSE 0 END),
                  SUM(CASE WHEN status = 'withdrawn' THEN 1 ELSE 0 END)
             FROM cases WHERE submitted_at IS NOT NULL GROUP BY kind""",
    )
    from workflows.cases.types import case_type

    got = {row[0]: row for row in t.rows}
    for kind, n, granted, withdrawn in rows:
        row = got[case_type(kind).label]
        assert (row[1], row[2], row[6]) == (n, granted, withdrawn)
    assert t.totals[0][1] == sum(r[1] for r in rows) == 5


def test_ivo_referrals_equal_sql(world, db):
    t = table("ivo_referrals", db)
    rows = sql(
        db,
        """SELECT u.name, COUNT(*) FROM ivo_referrals v JOIN units u ON u.id = v.unit_id
            WHERE v.referred_on BETWEEN :a AND :b GROUP BY u.name""",
        a=dt.date(YEAR, 1, 1),
        b=dt.date(YEAR, 12, 31),
    )
    assert {r[0]: r[1] for r in t.rows} == dict(rows)
    assert t.totals[0][1:] == [3, 1, 1]


def test_dialogs_equal_sql(world, db):
    t = table("dialogs", db)
    rows = sql(
        db,
        """SELECT d.title, COUNT(f.id), COUNT(f.disposition)
             FROM follow_up_dialogs d LEFT JOIN dialog_findings f ON f.dialog_id = d.id
            GROUP BY d.id, d.title""",
    )
    assert {r[1]: (r[4], r[5]) for r in t.rows} == {r[0]: (r[1], r[2]) for r in rows}
    closed = next(r for r in t.rows if r[1] == "Uppföljningsdialog Byske")
    assert closed[2] == "Avslutad" and closed[3] == f"{YEAR}-05-20"


def test_tillagg_county_figures_sum_numerators_and_denominators(world, db):
    t = table("assignment_figures", db)
    if db.bind.dialect.name == "postgresql":
        num, den = "(i.value ->> 'numerator')::int", "(i.value ->> 'denominator')::int"
    else:
        num, den = "json_extract(i.value, '$.numerator')", "json_extract(i.value, '$.denominator')"
    rows = sql(
        db,
        f"""SELECT r.code, COUNT(*), SUM({num}), SUM({den})
              FROM checklist_items i
              JOIN checklists c ON c.id = i.checklist_id
              JOIN rounds ro ON ro.id = c.round_id
              JOIN requirements r ON r.id = i.requirement_id
             WHERE ro.year = :y AND r.assignment_code IS NOT NULL
               AND r.answer_type = 'count_ratio' AND {num} IS NOT NULL
             GROUP BY r.code""",
        y=YEAR,
    )
    assert rows
    got = {row[0]: row for row in t.rows}
    assert set(got) == {r[0] for r in rows}
    for code, units, n, d in rows:
        row = got[code]
        assert row[2:5] == [units, n, d]
        assert row[5] == {"n": n, "d": d}  # the county's share from the sums, not a mean


# --- the machine ----------------------------------------------------------------------------


def _draft(db, world, **text):
    analysis = am.start(db, world["bo"], YEAR)
    am.save_text(
        db,
        world["bo"],
        analysis,
        title=text.get("title", "Årlig analys"),
        introduction=text.get("introduction", "Året i korthet."),
        conclusions=text.get("conclusions", "Förslag till inriktning."),
        section_texts=text.get("section_texts", {"heat_map": "Resultaten per område."}),
    )
    return analysis


def _publish(db, world, analysis):
    am.ANALYSIS.fire(db, world["bo"], analysis, "submit_for_review")
    am.ANALYSIS.fire(db, world["bo"], analysis, "publish")
    db.commit()


@pytest.mark.parametrize("state", list(AnalysisState))
@pytest.mark.parametrize("trigger", sorted(am.ANALYSIS.triggers))
def test_every_trigger_from_every_state(db, state, trigger):
    """From every state every trigger: refused naming the state where the machine does not
    allow it (nothing changes, no event), done with one event where it does."""
    bo = make_user(db, "m.bo", (Role.BESTALLARE, None))
    analysis = am.start(db, bo, 2030)
    analysis.introduction, analysis.conclusions = "Inledning.", "Slutsatser."
    if state == AnalysisState.PUBLISHED:
        am.ANALYSIS.fire(db, bo, analysis, "submit_for_review")
        am.ANALYSIS.fire(db, bo, analysis, "publish")
    else:
        analysis.status = state
    db.flush()
    spec = am.ANALYSIS.triggers[trigger]
    events = count(db, AuditEvent)
    try:
        am.ANALYSIS.fire(db, bo, analysis, trigger)
    except WorkflowError as exc:
        assert state not in spec.source, str(exc)
        assert "går inte när" in str(exc) and am.STATE_LABELS[state].lower() in str(exc)
        assert analysis.status == state and count(db, AuditEvent) == events
    else:
        assert state in spec.source
        assert analysis.status == spec.dest and count(db, AuditEvent) == events + 1


def test_only_the_purchaser_and_admin_write_and_publish(world, db):
    for who in ("granskare", "lasare", "head"):
        with pytest.raises(WorkflowError):
            am.start(db, world[who], YEAR)
    analysis = am.start(db, world["admin"], YEAR)
    with pytest.raises(WorkflowError, match="behörighet"):
        am.ANALYSIS.fire(db, world["granskare"], analysis, "submit_for_review")
    am.ANALYSIS.fire(db, world["admin"], analysis, "submit_for_review")
    assert analysis.status == AnalysisState.REVIEW


def test_publishing_needs_the_purchasers_text(world, db):
    analysis = _draft(db, world, conclusions="")
    am.ANALYSIS.fire(db, world["bo"], analysis, "submit_for_review")
    with pytest.raises(WorkflowError, match="slutsatser"):
        am.ANALYSIS.fire(db, world["bo"], analysis, "publish")
    assert analysis.status == AnalysisState.REVIEW


def test_a_published_analysis_keeps_its_figures_when_the_data_changes(world, db):
    analysis = _draft(db, world)
    _publish(db, world, analysis)
    as_of, published = am.tables(db, analysis)
    heat = next(t for t in published if t.key == "heat_map")
    before = heat.totals[0]
    # The data changes after publication: every item of the year becomes compliant.
    db.execute(
        sa.text("UPDATE checklist_items SET override_status = NULL, auto_status = 'compliant'")
    )
    db.commit()
    live = table("heat_map", db)
    assert live.totals[0] != before
    db.expire_all()
    again = db.get(AnnualAnalysis, analysis.id)
    _as_of, kept = am.tables(db, again)
    assert next(t for t in kept if t.key == "heat_map").totals[0] == before
    assert as_of == dt.date.today()


def test_a_published_analysis_cannot_change_service_orm_or_database(world, db):
    analysis = _draft(db, world)
    _publish(db, world, analysis)
    events = count(db, AuditEvent)
    # Service
    with pytest.raises(PublishedAnalysisError):
        am.save_text(
            db,
            world["bo"],
            analysis,
            title="Ny",
            introduction="Ny",
            conclusions="Ny",
            section_texts={},
        )
    with pytest.raises(WorkflowError, match="går inte när"):
        am.ANALYSIS.fire(db, world["bo"], analysis, "return_to_draft")
    # ORM: a change or a delete is refused at the flush
    analysis.conclusions = "Ändrat i efterhand."
    with pytest.raises(PublishedAnalysisError):
        db.flush()
    db.rollback()
    db.delete(db.get(AnnualAnalysis, analysis.id))
    with pytest.raises(PublishedAnalysisError):
        db.flush()
    db.rollback()
    # Database: the trigger refuses a plain UPDATE or DELETE
    for statement in (
        "UPDATE annual_analyses SET conclusions = 'x' WHERE id = :i",
        "UPDATE annual_analyses SET status = 'draft' WHERE id = :i",
        "DELETE FROM annual_analyses WHERE id = :i",
    ):
        with pytest.raises(sa.exc.DatabaseError, match="published analysis"):
            with db.begin_nested():
                db.execute(sa.text(statement), {"i": analysis.id})
    db.expire_all()
    kept = db.get(AnnualAnalysis, analysis.id)
    assert kept.status == AnalysisState.PUBLISHED and kept.conclusions == "Förslag till inriktning."
    assert count(db, AuditEvent) == events


def test_a_new_version_is_drafted_from_the_published_and_both_remain(world, db):
    first = _draft(db, world)
    _publish(db, world, first)
    second = am.new_version(db, world["bo"], first)
    assert (second.version, second.status, second.previous_id) == (2, AnalysisState.DRAFT, first.id)
    assert second.conclusions == first.conclusions
    with pytest.raises(WorkflowError, match="inte publicerad"):
        am.new_version(db, world["bo"], first)  # one unpublished version at a time
    with pytest.raises(WorkflowError, match="redan"):
        am.start(db, world["bo"], YEAR)
    am.save_text(
        db,
        world["bo"],
        second,
        title=second.title,
        introduction="Rättad inledning.",
        conclusions=second.conclusions,
        section_texts={},
    )
    _publish(db, world, second)
    assert [(a.version, a.introduction) for a in am.published(db)] == [
        (2, "Rättad inledning."),
        (1, "Året i korthet."),
    ]


def test_every_step_is_in_the_trail(world, db):
    analysis = _draft(db, world)
    _publish(db, world, analysis)
    am.new_version(db, world["bo"], analysis)
    actions = [
        e.action
        for e in db.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.entity_type == "annual_analysis")
            .order_by(AuditEvent.id)
        )
    ]
    assert actions == ["create", "edit_text", "submit_for_review", "publish", "new_version"]
    publish = db.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "annual_analysis", AuditEvent.action == "publish"
        )
    )
    assert publish.after_data()["status"] == "published"
    assert publish.after_data()["tables"] == len(sections.SECTIONS)


def test_the_help_page_draws_the_analysis_machine(client, db):
    """The help page's diagram is drawn from the machine: its three states and its steps."""
    from tests.conftest import login
    from workflows.diagram import svg, transitions

    picture = svg(am.ANALYSIS)
    for label in am.STATE_LABELS.values():
        assert label in picture
    assert picture.count("<rect") == len(am.STATE_LABELS)
    assert len(transitions(am.ANALYSIS)) == 3
    make_user(db, "hjalp.lasare", (Role.LASARE, None))
    db.commit()
    from tests.factories import PASSWORD

    assert login(client, "hjalp.lasare", PASSWORD).status_code == 302
    page = client.get("/hjalp/flodesscheman").get_data(as_text=True)
    assert 'id="arlig-analys"' in page and "Skicka för granskning" in page


def test_charts_are_labelled_and_say_their_figures(world, db):
    from workflows.analysis import charts

    _as_of, tables = sections.build(db, YEAR)
    drawn = {t.key: charts.chart(t) for t in tables if t.chart}
    assert set(drawn) == {"heat_map", "trends", "plans_over_time"}
    for key, svg in drawn.items():
        assert svg.startswith("<svg") and 'role="img"' in svg
        assert f'aria-labelledby="chart-{key}-t chart-{key}-d"' in svg
        assert f'<title id="chart-{key}-t">' in svg and f'<desc id="chart-{key}-d">' in svg
        assert "style=" not in svg
    heat = next(t for t in tables if t.key == "heat_map")
    for cell in heat.totals[0][1:]:  # the county's figures are in the description and cells
        assert charts.percent(cell) in drawn["heat_map"].split("</desc>")[0]
    # Not colour alone: the lower bands are patterns, every cell carries its percentage.
    assert (
        "url(#p-heat_map-hatch)" in drawn["heat_map"]
        or "url(#p-heat_map-dots)" in drawn["heat_map"]
    )
    assert drawn["heat_map"].count(" %</text>") >= len(heat.rows)


def _statements(db, year: int) -> int:
    from sqlalchemy import event

    seen = []

    def count_it(*_args):
        seen.append(1)

    connection = db.connection()
    event.listen(connection, "before_cursor_execute", count_it)
    try:
        sections.build(db, year)
    finally:
        event.remove(connection, "before_cursor_execute", count_it)
    return len(seen)


def test_the_sections_take_a_constant_number_of_queries(world, db):
    """Set-based: more plans, dialogs and cases do not add queries (none per row)."""
    from audit.models import Unit
    from workflows import action_plan as ap
    from workflows import dialog as dl

    before = _statements(db, YEAR)
    units = db.scalars(sa.select(Unit).limit(5)).all()
    for unit in units:
        dl.open_dialog(db, world["bo"], unit, f"Dialog {unit.code}")
        ap.request_action_plan(
            db,
            world["bo"],
            unit,
            title="Plan",
            requirements="Krav",
            plan_due=dt.date.today() + dt.timedelta(days=9),
            measures_due=dt.date.today() + dt.timedelta(days=9),
        )
    db.commit()
    assert _statements(db, YEAR) == before


def test_joint_dialogs_reviews_and_reports_equal_sql(world, db):
    """The sections fed by the joint dialogs (§7.1.2), the särskilda fördjupningar (§7.1.3)
    and the recurring reports (§2.6, §6.9) equal SQL over the same rows."""
    from audit.models import Unit
    from workflows.joint.models import (
        Attendance,
        JointDialog,
        JointDialogAttendance,
        JointDialogState,
        JointFollowUp,
    )
    from workflows.reviews.operations import open_review

    units = db.scalars(sa.select(Unit).where(Unit.active).order_by(Unit.id)).all()
    held = JointDialog(
        theme="Kompetensförsörjning",
        meeting_on=dt.date(YEAR, 5, 12),
        place="Regionens hus",
        status=JointDialogState.MINUTES_PUBLISHED,
        created_by_id=world["bo"].id,
    )
    planned = JointDialog(
        theme="Tillgänglighet",
        meeting_on=dt.date(YEAR, 11, 3),
        place="Regionens hus",
        status=JointDialogState.PLANNED,
        created_by_id=world["bo"].id,
    )
    db.add_all([held, planned])
    db.flush()
    statuses = [Attendance.ATTENDED, Attendance.REPRESENTED, Attendance.ABSENT, None]
    for n, unit in enumerate(units):
        db.add(JointDialogAttendance(dialog=held, unit_id=unit.id, status=statuses[n % 4]))
    db.add(JointFollowUp(dialog=held, text="Följ upp bemanningen.", unit_id=units[0].id))
    open_review(
        db,
        world["bo"],
        units[0],
        title="Bemanning",
        concern="Upprepade brister.",
        complaints=["Klagomål om väntetider."],
    )
    db.flush()

    t = table("joint_dialogs", db)
    rows = sql(
        db,
        """SELECT j.theme,
                  SUM(CASE WHEN a.status IN ('attended', 'represented') THEN 1 ELSE 0 END),
                  SUM(CASE WHEN a.status = 'absent' THEN 1 ELSE 0 END),
                  (SELECT COUNT(*) FROM joint_follow_ups f WHERE f.joint_dialog_id = j.id)
             FROM joint_dialogs j LEFT JOIN joint_dialog_attendance a ON a.joint_dialog_id = j.id
            WHERE j.meeting_on BETWEEN :a AND :b GROUP BY j.id, j.theme""",
        a=dt.date(YEAR, 1, 1),
        b=dt.date(YEAR, 12, 31),
    )
    assert {r[1]: (r[3], r[4], r[5]) for r in t.rows} == {
        r[0]: (int(r[1] or 0), int(r[2] or 0), r[3]) for r in rows
    }
    assert t.totals[0][1] == "1 genomförda"

    t = table("in_depth_reviews", db)
    rows = sql(
        db,
        """SELECT r.title, COUNT(s.id) FROM in_depth_reviews r
             JOIN review_signals s ON s.review_id = r.id GROUP BY r.id, r.title""",
    )
    assert {r[1]: (r[3], r[4]) for r in t.rows} == {r[0]: ("Pågår", r[1]) for r in rows}

    t = table("recurring_reports", db)
    from workflows.reports.operations import reports_on_time

    expected = {
        r.kind: (r.expected, r.on_time, r.late, r.missing)
        for r in reports_on_time(db, YEAR, today=min(dt.date.today(), dt.date(YEAR, 12, 31)))
    }
    units_expected = sql(
        db, "SELECT COUNT(*) FROM units WHERE active AND kind IN ('halsocentral', 'sjukstuga')"
    )[0][0]
    by_title = {r[0]: r[1:5] for r in t.rows}
    assert by_title["Patientsäkerhetsberättelse senast 1 mars (§2.6)"] == list(
        expected["patient_safety"]
    )
    assert expected["patient_safety"][0] == units_expected
