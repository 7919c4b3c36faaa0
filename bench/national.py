"""Benchmark at the national workload, every figure beside its physical limit.

Usage:

    .venv/bin/python bench/national.py [--database-url URL | --postgres]
        [--units 1150] [--rounds 10] [--quick] [--samples N] [--load-seconds S] [--load-runs N]
        [--saves-only]

Builds, in a fresh database (a temporary SQLite file; ``--postgres`` starts a throwaway
PostgreSQL cluster; ``--database-url`` fills an empty database you name), ``--units`` units --
the 26 real ones of ``audit/data/units.yaml`` and synthetic ones shaped like them (hälsocentral
or sjukstuga, egenregi or privat, the three areas, BVC/MVC, §2.12 and §6.9 flags drawn with a
fixed seed, so that every applicability rule of the catalog hits a realistic subset) -- and
``--rounds`` rounds of *Uppdrag och regler 2025* sent to every unit (≈ 3.2 M checklist items at
1,150 units and 10 rounds). Earlier rounds are answered and accepted, the current one partly
answered, all set-based (``open_round`` itself, then one executemany UPDATE per requirement).
Nothing is cached between runs.

Then it measures, each figure interleaved with its physical limit (ours, limit, limit, ours,
… so that drift on a noisy machine hits both alike), medians:

1. opening a round (``checklists.operations.open_round``, every unit, every requirement) vs
   a hand-written INSERT … SELECT producing the same rows; both rolled back;
2. the round overview ``GET /omgangar/<id>`` as a beställare (in-process and under gunicorn)
   vs the GROUP BY giving the same cells; its size;
3. a checklist section page ``GET /checklistor/<id>/avsnitt/<section>`` vs a raw SELECT of
   its rows (and the task list ``GET /checklistor/<id>`` vs a SELECT of all its items);
4. item saves by 32 clients (``wrk``, one thread and connection each, each its own user of
   the same unit saving its own yes/no item) under gunicorn with 4 workers vs a bare Flask
   endpoint doing only the UPDATE (``bench/bare_app.py``), same gunicorn settings and
   database: saves/s, p50/p95, errors and 409s apart, and lost updates checked in the
   database afterwards;
5. the resident memory of each gunicorn worker after the load.

Prints a Markdown table: measure | ours | physical limit | ratio | target. Asserts nothing
about time. ``--quick``: 100 units, 2 rounds, fewer samples, short loads (a check that it
all works, in a minute or two).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import gzip
import http.client
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from alembic import command  # noqa: E402

from audit import accounts  # noqa: E402
from audit.db import UTCDateTime, make_engine, make_session_factory  # noqa: E402
from audit.models import Area, Operator, Role, Unit, UnitKind, User  # noqa: E402
from audit.trail import SYSTEM  # noqa: E402
from audit.units import load_units  # noqa: E402
from checklists import answers  # noqa: E402
from checklists import operations as ops  # noqa: E402
from checklists.answers import AnswerError, Context, Status  # noqa: E402
from checklists.applicability import FLAGS  # noqa: E402
from checklists.catalog import EDITIONS_DIR, load_edition  # noqa: E402
from checklists.models import AnswerType, CatalogEdition, Recurrence, Requirement  # noqa: E402
from checklists.rounds import Checklist, ChecklistItem, ChecklistStatus  # noqa: E402
from web.cli import alembic_config  # noqa: E402

PASSWORD = "benchmark-lösenord-1"  # noqa: S105 (a throwaway database)
SECRET_KEY = "national-benchmark-secret-key"  # noqa: S105
HOME_UNIT = "byske"  # the real unit whose staff run the save load
SECTION = "2.7"  # a two-level section of the rulebook (24 items, the largest with §2.3)
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
GUNICORN_CONF = ROOT / "web" / "gunicorn_conf.py"
LUA = Path(__file__).resolve().parent / "save_load.lua"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SAVE_RULE = "/checklistor/<int:checklist_id>/punkter/<int:item_id>/svar"
SECTION_RULE = "/checklistor/<int:checklist_id>/avsnitt/<path:section>"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the data set ----------------------------------------------------------------------------


def synthetic_units(count: int, seed: int = 2025) -> list[dict]:
    """Units shaped like the real ones, with the mix a national set has: a share of private
    health centres (some outside the region's telephony platform), sjukstugor in egen regi,
    some units without MVC or BVC, the §2.12 duty mostly where the region runs the unit."""
    rng = random.Random(seed)
    areas = [Area.UMEA, Area.SKELLEFTEA, Area.SODRA_LAPPLAND]
    rows = []
    for n in range(1, count + 1):
        sjukstuga = rng.random() < 0.12
        private = not sjukstuga and rng.random() < 0.42
        rows.append(
            {
                "code": f"syn-{n:04d}",
                "name": f"Syntetisk {'sjukstuga' if sjukstuga else 'hälsocentral'} {n:04d}",
                "kind": UnitKind.SJUKSTUGA if sjukstuga else UnitKind.HALSOCENTRAL,
                "operator": Operator.PRIVAT if private else Operator.EGENREGI,
                "area": rng.choices(areas, weights=[45, 30, 25])[0],
                "main_unit_id": None,
                "has_bvc": rng.random() < (0.97 if sjukstuga else 0.9),
                "has_mvc": rng.random() < (0.9 if sjukstuga else 0.75),
                "sjukvardsgrupp_duty": rng.random()
                < (0.85 if sjukstuga else 0.1 if private else 0.55),
                "on_region_telephony": not private or rng.random() < 0.5,
                "active": True,
                "source": "benchmark (syntetisk)",
                "assumptions": "syntetisk enhet för prestandamätning",
            }
        )
    return rows


def sample_raw(requirement: Requirement, compliant: bool) -> dict:
    """A raw answer of the requirement's type (as the form would post it)."""
    params = requirement.answer_params
    kind = requirement.answer_type
    if kind == AnswerType.YES_NO:
        expected = params.get("expected", "yes")
        return {"answer": expected if compliant else ("no" if expected == "yes" else "yes")}
    if kind == AnswerType.NAMED_PERSON:
        minimum = params.get("min_persons", 1)
        count = minimum if compliant else max(minimum - 1, 1)
        hsa = "SE2321000222-b1" if params.get("require_hsa_id") else ""
        return {
            "persons": [
                {"name": f"Person {n}", "title": "Titel", "hsa_id": hsa} for n in range(count)
            ]
        }
    if kind == AnswerType.COUNT_RATIO:
        return {"numerator": "8" if compliant else "1", "denominator": "8"}
    if kind == AnswerType.DATE_DEADLINE:
        return {"date": "2025-01-15" if compliant else "2025-12-01"}
    if kind == AnswerType.WEEKLY_SCHEDULE:
        hours = {"open": "08:00", "close": "17:00" if compliant else "12:00"}
        return {"days": {d: dict(hours) for d in params["required"]["days"]}, "exceptions": ""}
    if kind == AnswerType.SELECTION:
        required = params.get("required", params["options"])
        return {"selected": list(required) if compliant else list(required)[:1]}
    if kind == AnswerType.DOCUMENT:
        return {"files": [{"sha256": "a" * 64, "filename": "rutin.pdf", "size": 10}]}
    if kind in (AnswerType.SERVICE_LEVEL, AnswerType.NUMBER):
        if "max" in params:
            return {"value": str(params["max"] if compliant else params["max"] + 1)}
        if "min" in params:
            return {"value": str(params["min"] if compliant else max(params["min"] - 1, 0))}
        return {"value": "5"}
    return {"text": "Beskrivning av arbetet."}


def answer_variants(requirement: Requirement) -> list[tuple[dict, Status, str]]:
    """(stored value, status, explanation) for a compliant and a non-compliant answer, cleaned
    and evaluated by the app's own answer types."""
    ctx = Context(
        section=requirement.section,
        year=2025,
        prohibition=str(requirement.kind) == "prohibition",
    )
    variants = []
    for compliant in (True, False):
        try:
            value = answers.clean_answer(
                requirement.answer_type,
                requirement.answer_params,
                sample_raw(requirement, compliant),
                on_event=requirement.recurrence == Recurrence.ON_EVENT,
            )
        except AnswerError:
            value = variants[0][0]
        evaluation = answers.evaluate(
            requirement.answer_type, requirement.answer_params, value, ctx
        )
        variants.append((value, evaluation.status, evaluation.explanation))
    return variants


@dataclasses.dataclass
class World:
    url: str
    dialect: str
    edition_id: int
    purchaser: str
    staff: list[str]
    round_ids: list[int]
    checklist_id: int  # HOME_UNIT's checklist in the current round
    items: int
    units: int
    build_seconds: dict[str, float]

    @property
    def current_round(self) -> int:
        return self.round_ids[-1]


def build(url: str, n_units: int, n_rounds: int, n_clients: int) -> World:
    timings: dict[str, float] = {}
    start = time.perf_counter()
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    Session = make_session_factory(engine)
    with Session() as db:
        if db.scalar(sa.select(sa.func.count()).select_from(Unit)):
            raise SystemExit("the database is not empty: give an empty one")
        load_units(db, SYSTEM)
        real = db.scalar(sa.select(sa.func.count()).select_from(Unit))
        rows = synthetic_units(max(n_units - real, 0))
        if rows:
            db.execute(sa.insert(Unit.__table__), rows)
        edition = load_edition(db, SYSTEM, EDITIONS_DIR / "uor-2025.yaml").edition
        purchaser = accounts.create_user(db, SYSTEM, "bench.bestallare", "Bo Beställare", PASSWORD)
        accounts.grant_role(db, SYSTEM, purchaser, Role.BESTALLARE)
        staff = []
        for n in range(1, n_clients + 1):
            name = f"bench.personal{n:02d}"
            user = accounts.create_user(db, SYSTEM, name, f"Personal {n}", PASSWORD)
            role = Role.VERKSAMHETSCHEF if n == 1 else Role.PERSONAL
            accounts.grant_role(db, SYSTEM, user, role, HOME_UNIT)
            staff.append(name)
        db.commit()
        timings["units, catalog, users"] = time.perf_counter() - start
        log(f"{n_units} units, catalog, {n_clients + 1} users")

        round_ids = []
        t0 = time.perf_counter()
        first_year = 2025 - n_rounds + 1
        for year in range(first_year, 2026):
            round_ = ops.open_round(
                db,
                purchaser,
                edition=edition,
                title=f"Uppföljning {year}",
                year=year,
                opens_on=dt.date(year, 1, 15),
                deadline=dt.date(year, 3, 31),
            )
            db.commit()
            round_ids.append(round_.id)
            log(f"opened round {len(round_ids)}/{n_rounds}")
        timings["open the rounds (open_round)"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        _answer(db, edition, round_ids, purchaser.id)
        db.commit()
        timings["answer them (set-based UPDATEs)"] = time.perf_counter() - t0
        log("answered")
        checklist_id = db.scalar(
            sa.select(Checklist.id)
            .join(Unit)
            .where(Checklist.round_id == round_ids[-1], Unit.code == HOME_UNIT)
        )
        items = db.scalar(sa.select(sa.func.count()).select_from(ChecklistItem))
        units = db.scalar(sa.select(sa.func.count()).select_from(Unit))
        edition_id = edition.id
    t0 = time.perf_counter()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    timings["VACUUM ANALYZE / WAL checkpoint"] = time.perf_counter() - t0
    engine.dispose()
    return World(
        url=url,
        dialect=engine.dialect.name,
        edition_id=edition_id,
        purchaser="bench.bestallare",
        staff=staff,
        round_ids=round_ids,
        checklist_id=checklist_id,
        items=items,
        units=units,
        build_seconds=timings,
    )


def _analyze(db) -> None:
    """PostgreSQL: fresh statistics after a bulk change, as autovacuum would gather them (the
    next UPDATE's plan depends on them: with stale ones it joins 300,000 rows by nested loop)."""
    if db.bind.dialect.name == "postgresql":
        db.commit()
        with db.bind.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE checklist_items, checklists")


def _answer(db, edition, round_ids: list[int], user_id: int) -> None:
    """Answer the rounds set-based: earlier rounds fully (88 % compliant), then accepted with
    the reviewer's judgement on what no rule judges; in the current round a quarter of the
    checklists untouched, a quarter answered and submitted, half partly answered."""
    items = ChecklistItem.__table__
    checklists = Checklist.__table__
    current = round_ids[-1]
    full = sa.or_(
        checklists.c.round_id != current,
        sa.and_(checklists.c.round_id == current, checklists.c.id % 4 == 1),
    )
    partial = sa.and_(checklists.c.round_id == current, (checklists.c.id % 4) >= 2)
    spread = (items.c.id * 37 + items.c.checklist_id * 11) % 100
    at = dt.datetime(2025, 2, 1, 9, 0, tzinfo=dt.UTC)
    _analyze(db)
    for which, ranges in ((full, ((0, 87), (88, 99))), (partial, ((0, 39), (40, 49)))):
        stmt = (
            sa.update(items)
            .where(
                items.c.requirement_id == sa.bindparam("b_requirement"),
                items.c.checklist_id == checklists.c.id,  # UPDATE … FROM checklists
                which,
                spread.between(sa.bindparam("b_lo"), sa.bindparam("b_hi")),
            )
            .values(
                value=sa.bindparam("b_value", type_=items.c.value.type),
                auto_status=sa.bindparam("b_status", type_=items.c.auto_status.type),
                auto_explanation=sa.bindparam("b_explanation"),
                version=2,
                answered_by_id=user_id,
                answered_at=sa.bindparam("b_at", type_=items.c.answered_at.type),
            )
        )
        params = []
        for requirement in db.scalars(
            sa.select(Requirement).where(Requirement.edition_id == edition.id)
        ):
            for (value, status, explanation), (lo, hi) in zip(
                answer_variants(requirement), ranges, strict=True
            ):
                params.append(
                    {
                        "b_requirement": requirement.id,
                        "b_lo": lo,
                        "b_hi": hi,
                        "b_value": value,
                        "b_status": status,
                        "b_explanation": explanation,
                        "b_at": at,
                    }
                )
        db.connection().execute(stmt, params)
    _analyze(db)
    db.execute(
        sa.update(items)
        .where(
            items.c.auto_status == Status.TO_REVIEW.value,
            items.c.checklist_id == checklists.c.id,
            checklists.c.round_id != current,
        )
        .values(
            override_status=Status.COMPLIANT.value,
            override_reason="Underlaget uppfyller kravet.",
        )
    )
    db.execute(
        sa.update(checklists)
        .where(checklists.c.round_id != current)
        .values(status=ChecklistStatus.ACCEPTED.value, submitted_at=at, decided_at=at)
    )
    db.execute(
        sa.update(checklists)
        .where(checklists.c.round_id == current, checklists.c.id % 4 == 1)
        .values(status=ChecklistStatus.SUBMITTED.value, submitted_at=at)
    )


# --- measuring -------------------------------------------------------------------------------


def interleaved(
    ours: Callable[[], float],
    limit: Callable[[], float],
    samples: int,
    warmup: int = 1,
    between: Callable[[], None] | None = None,
) -> tuple[list[float], list[float]]:
    """Each callable times itself and returns seconds. Order alternates: ours, limit, limit,
    ours, … so that drift affects both alike."""
    for _ in range(warmup):
        ours()
        limit()
        if between:
            between()
    a, b = [], []
    for n in range(samples):
        pair = ((ours, a), (limit, b)) if n % 2 == 0 else ((limit, b), (ours, a))
        for fn, into in pair:
            into.append(fn())
            if between:
                between()
    return a, b


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def placeholder(dialect: str) -> str:
    return "?" if dialect == "sqlite" else "%s"


def raw_query(engine, sql: str, params: tuple) -> Callable[[], float]:
    """Time a statement through the driver alone: execute and fetch every row."""
    sql = sql.replace("?", placeholder(engine.dialect.name))

    def run() -> float:
        conn = engine.raw_connection()
        try:
            cursor = conn.cursor()
            start = time.perf_counter()
            cursor.execute(sql, params)
            cursor.fetchall()
            elapsed = time.perf_counter() - start
            cursor.close()
            conn.rollback()
        finally:
            conn.close()
        return elapsed

    return run


# The GROUP BY giving the overview's cells: statuses per checklist and area.
OVERVIEW_SQL = """
SELECT ci.checklist_id, r.area, COALESCE(ci.override_status, ci.auto_status) AS status,
       count(*)
FROM checklist_items ci
JOIN checklists c ON c.id = ci.checklist_id
JOIN requirements r ON r.id = ci.requirement_id
WHERE c.round_id = ?
GROUP BY ci.checklist_id, r.area, COALESCE(ci.override_status, ci.auto_status)
"""

SECTION_SQL = """
SELECT ci.*, r.*
FROM checklist_items ci JOIN requirements r ON r.id = ci.requirement_id
WHERE ci.checklist_id = ? AND (r.section = ? OR r.section LIKE ?)
ORDER BY r.section_key, r.position
"""

TASKS_SQL = """
SELECT ci.id, r.section, r.heading, r.question, ci.auto_status, ci.override_status,
       ci.needs_completion
FROM checklist_items ci JOIN requirements r ON r.id = ci.requirement_id
WHERE ci.checklist_id = ?
ORDER BY r.section_key, r.position
"""


def _sql_literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def rule_sql(rule: dict) -> str:
    """An applicability rule (FORMAT.md) as SQL on ``units u``, written out by hand."""
    parts = []
    if "operator" in rule:
        parts.append(f"u.operator = {_sql_literal(rule['operator'])}")
    if "kinds" in rule:
        parts.append(f"u.kind IN ({', '.join(map(_sql_literal, rule['kinds']))})")
    if "units" in rule:
        codes = rule["units"]
        parts.append(f"u.code IN ({', '.join(map(_sql_literal, codes))})" if codes else "1 = 0")
    for flag in rule.get("flags", []):
        assert flag in FLAGS
        parts.append(f"u.{flag}")
    for flag in rule.get("not_flags", []):
        assert flag in FLAGS
        parts.append(f"NOT u.{flag}")
    return " AND ".join(parts) or "1 = 1"


def measure_open_round(world: World, samples: int) -> dict:
    """open_round vs one hand-written INSERT … SELECT per table, both in a transaction that
    is rolled back (the audit trail refuses DELETE, so the real operation's event could not be
    removed; rolling back both keeps the database as it was and treats them alike)."""
    engine = make_engine(world.url)
    Session = make_session_factory(engine)
    with Session() as db:
        requirements = db.execute(
            sa.select(Requirement.id, Requirement.applies_to).where(
                Requirement.edition_id == world.edition_id
            )
        ).all()
    by_rule: dict[str, list[int]] = {}
    for requirement_id, applies_to in requirements:
        by_rule.setdefault(json.dumps(applies_to, sort_keys=True), []).append(requirement_id)
    condition = " OR ".join(
        f"(r.id IN ({', '.join(map(str, ids))}) AND {rule_sql(json.loads(rule))})"
        for rule, ids in by_rule.items()
    )
    insert_round = sa.text(
        "INSERT INTO rounds (edition_id, title, year, opens_on, deadline, created_by_id, "
        "created_at) VALUES (:edition, :title, :year, :opens, :deadline, NULL, :at) RETURNING id"
    ).bindparams(
        sa.bindparam("opens", type_=sa.Date()),
        sa.bindparam("deadline", type_=sa.Date()),
        sa.bindparam("at", type_=UTCDateTime()),
    )
    insert_checklists = sa.text(
        "INSERT INTO checklists (round_id, unit_id, status) "
        "SELECT :round, u.id, 'open' FROM units u WHERE u.active AND u.kind <> 'filial'"
    )
    # The condition holds the catalog's values only, quoted by _sql_literal.
    insert_items = sa.text(
        "INSERT INTO checklist_items (checklist_id, requirement_id, auto_status, version, "  # noqa: S608
        "needs_completion) "
        "SELECT c.id, r.id, 'not_answered', 1, FALSE "
        "FROM checklists c JOIN units u ON u.id = c.unit_id "
        "JOIN requirements r ON r.edition_id = :edition "
        f"WHERE c.round_id = :round AND ({condition})"
    )
    fingerprint = sa.text(
        "SELECT count(*), sum(ci.requirement_id), sum(c.unit_id) FROM checklist_items ci "
        "JOIN checklists c ON c.id = ci.checklist_id WHERE c.round_id = :round"
    )
    prints = {}

    def ours(check: bool = False) -> float:
        with Session() as db:
            user = db.scalar(sa.select(User).where(User.username == world.purchaser))
            _ = user.roles
            edition = db.get(CatalogEdition, world.edition_id)
            start = time.perf_counter()
            round_ = ops.open_round(
                db,
                user,
                edition=edition,
                title="Mätning",
                year=2026,
                opens_on=dt.date(2026, 1, 15),
                deadline=dt.date(2026, 3, 31),
            )
            db.flush()
            elapsed = time.perf_counter() - start
            if check:
                prints["ours"] = tuple(db.execute(fingerprint, {"round": round_.id}).one())
            db.rollback()
        return elapsed

    def raw(check: bool = False) -> float:
        with engine.connect() as conn:
            start = time.perf_counter()
            round_id = conn.execute(
                insert_round,
                {
                    "edition": world.edition_id,
                    "title": "Mätning",
                    "year": 2026,
                    "opens": dt.date(2026, 1, 15),
                    "deadline": dt.date(2026, 3, 31),
                    "at": dt.datetime.now(dt.UTC),
                },
            ).scalar_one()
            conn.execute(insert_checklists, {"round": round_id})
            conn.execute(insert_items, {"round": round_id, "edition": world.edition_id})
            elapsed = time.perf_counter() - start
            if check:
                prints["raw"] = tuple(conn.execute(fingerprint, {"round": round_id}).one())
            conn.rollback()
        return elapsed

    def vacuum() -> None:
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM checklist_items, checklists, rounds, audit_events")

    ours(check=True)
    vacuum()
    raw(check=True)
    vacuum()
    if prints["ours"] != prints["raw"]:
        raise SystemExit(f"the hand-written INSERT differs from open_round: {prints}")
    a, b = interleaved(ours, raw, samples, warmup=0, between=vacuum)
    engine.dispose()
    return {"ours": a, "limit": b, "rows": prints["ours"][0]}


def login_client(client, username: str) -> None:
    page = client.get("/logga-in").get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)
    response = client.post(
        "/logga-in", data={"csrf_token": token, "username": username, "password": PASSWORD}
    )
    assert response.status_code == 302, response.status_code


def measure_pages_in_process(world: World, samples: int) -> dict:
    from web import create_app

    app = create_app({"DATABASE_URL": world.url, "SECRET_KEY": SECRET_KEY})
    rules = {r.rule for r in app.url_map.iter_rules()}
    engine = make_engine(world.url)
    results = {}

    purchaser = app.test_client()
    login_client(purchaser, world.purchaser)
    path = f"/omgangar/{world.current_round}"

    def overview() -> float:
        start = time.perf_counter()
        response = purchaser.get(path)
        body = response.get_data()
        elapsed = time.perf_counter() - start
        assert response.status_code == 200, response.status_code
        results["overview_bytes"] = len(body)
        return elapsed

    a, b = interleaved(overview, raw_query(engine, OVERVIEW_SQL, (world.current_round,)), samples)
    results["overview"] = (a, b)
    log("overview in-process measured")

    head = app.test_client()
    login_client(head, world.staff[0])
    if SECTION_RULE in rules:
        section_path = f"/checklistor/{world.checklist_id}/avsnitt/{SECTION}"
        results["section_route"] = True
    else:
        section_path = f"/checklistor/{world.checklist_id}"
        results["section_route"] = False

    def page(target: str, key: str) -> Callable[[], float]:
        def run() -> float:
            start = time.perf_counter()
            response = head.get(target)
            body = response.get_data()
            elapsed = time.perf_counter() - start
            assert response.status_code == 200, (target, response.status_code)
            results[key] = len(body)
            return elapsed

        return run

    a, b = interleaved(
        page(section_path, "section_bytes"),
        raw_query(engine, SECTION_SQL, (world.checklist_id, SECTION, SECTION + ".%")),
        samples * 3,
    )
    results["section"] = (a, b)
    results["section_path"] = section_path
    a, b = interleaved(
        page(f"/checklistor/{world.checklist_id}", "tasks_bytes"),
        raw_query(engine, TASKS_SQL, (world.checklist_id,)),
        samples * 3,
    )
    results["tasks"] = (a, b)
    results["save_route"] = SAVE_RULE in rules
    log("checklist pages in-process measured")
    engine.dispose()
    return results


# --- gunicorn and HTTP -----------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """One gunicorn master with its workers, started and stopped by its own pid."""

    def __init__(self, app: str, env: dict, workers: int, logdir: Path, name: str) -> None:
        self.port = free_port()
        args = [str(GUNICORN)]
        if GUNICORN_CONF.exists():
            args += ["--config", "python:web.gunicorn_conf"]
        args += [
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--pythonpath",
            f"{ROOT},{ROOT / 'bench'}",
            app,
        ]
        self.args = args
        self.logfile = (logdir / f"gunicorn-{name}.log").open("w")
        self.process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=self.logfile, stderr=subprocess.STDOUT
        )

    def wait(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited ({self.args}); see {self.logfile.name}")
            with contextlib.suppress(OSError):
                status, _, _ = Http(self.port).request("GET", path)
                if status == 200 and len(self.workers()) >= 1:
                    return
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer on {path}; see {self.logfile.name}")

    def workers(self) -> list[int]:
        pid = self.process.pid
        try:
            return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            found = []
            for stat in Path("/proc").glob("[0-9]*/stat"):
                with contextlib.suppress(OSError):
                    fields = stat.read_text().rsplit(")", 1)[1].split()
                    if int(fields[1]) == pid:
                        found.append(int(stat.parent.name))
            return found

    def cpu_seconds(self) -> float:
        """User and system CPU time used so far by the workers (and the master)."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in [self.process.pid, *self.workers()]:
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
        return total

    def rss_mb(self) -> list[float]:
        sizes = []
        for pid in self.workers():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        sizes.append(int(line.split()[1]) / 1024)
        return sizes

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.logfile.close()


class Http:
    """A minimal HTTP client with a cookie jar (one connection per request, as gunicorn's
    sync workers close every connection)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method, path, form=None, headers=None):
        body = urllib.parse.urlencode(form) if form is not None else None
        head = {"Sec-Fetch-Site": "same-origin", **(headers or {})}
        if body is not None:
            head["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            head["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.request(method, path, body=body, headers=head)
            response = conn.getresponse()
            data = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    self.cookies[key.strip()] = rest.split(";", 1)[0]
            if response.getheader("Content-Encoding") == "gzip":
                data = gzip.decompress(data)
            return response.status, response, data
        finally:
            conn.close()

    def login(self, username: str) -> None:
        _, _, page = self.request("GET", "/logga-in")
        token = CSRF_RE.search(page.decode()).group(1)
        status, _, _ = self.request(
            "POST",
            "/logga-in",
            {"csrf_token": token, "username": username, "password": PASSWORD},
        )
        if status != 302:
            raise SystemExit(f"login of {username} failed with {status}")

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())


def measure_pages_gunicorn(
    world: World, server: Gunicorn, samples: int, section_path: str, workers: int
):
    """The same pages over HTTP, as a browser asks for them (gzip). Every worker serves a few
    requests first, so that no sample meets a worker that has not yet loaded its templates."""
    engine = make_engine(world.url)
    purchaser = Http(server.port)
    purchaser.login(world.purchaser)
    results = {}

    def get(client: Http, path: str, key: str) -> Callable[[], float]:
        def run() -> float:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
            start = time.perf_counter()
            conn.request(
                "GET",
                path,
                headers={
                    "Cookie": client.cookie_header(),
                    "Accept-Encoding": "gzip",
                    "Sec-Fetch-Site": "same-origin",
                },
            )
            response = conn.getresponse()
            data = response.read()
            elapsed = time.perf_counter() - start
            conn.close()
            assert response.status == 200, (path, response.status)
            results[key] = len(data)
            return elapsed

        return run

    a, b = interleaved(
        get(purchaser, f"/omgangar/{world.current_round}", "overview_gzip_bytes"),
        raw_query(engine, OVERVIEW_SQL, (world.current_round,)),
        samples,
        warmup=2 * workers,
    )
    results["overview"] = (a, b)
    head = Http(server.port)
    head.login(world.staff[0])
    a, b = interleaved(
        get(head, section_path, "section_gzip_bytes"),
        raw_query(engine, SECTION_SQL, (world.checklist_id, SECTION, SECTION + ".%")),
        samples * 3,
        warmup=2 * workers,
    )
    results["section"] = (a, b)
    engine.dispose()
    log("pages under gunicorn measured")
    return results


# --- the save load ---------------------------------------------------------------------------


@dataclasses.dataclass
class Client:
    username: str
    item_id: int
    section: str
    http: Http | None = None
    csrf: str = ""


def pick_items(world: World, count: int) -> list[tuple[int, str]]:
    """Yes/no items of HOME_UNIT's current checklist, one per client, spread over sections:
    (item id, its task-list section)."""
    from checklists.sections import section_of

    engine = make_engine(world.url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(ChecklistItem.id, Requirement.section)
            .join(Requirement)
            .where(
                ChecklistItem.checklist_id == world.checklist_id,
                Requirement.answer_type == AnswerType.YES_NO,
                Requirement.recurrence != Recurrence.ON_EVENT,
            )
            .order_by(Requirement.section_key, Requirement.position)
        ).all()
    engine.dispose()
    if len(rows) < count:
        raise SystemExit(f"only {len(rows)} yes/no items for {count} clients")
    step = len(rows) / count
    return [(rows[int(n * step)].id, section_of(rows[int(n * step)].section)) for n in range(count)]


def item_state(world: World, item_ids: list[int]) -> dict[int, tuple[int, str | None]]:
    """Each item's (version, stored yes/no answer)."""
    engine = make_engine(world.url)
    with engine.connect() as conn:
        found = {
            row.id: (row.version, (row.value or {}).get("answer"))
            for row in conn.execute(
                sa.select(ChecklistItem.id, ChecklistItem.version, ChecklistItem.value).where(
                    ChecklistItem.id.in_(item_ids)
                )
            )
        }
    engine.dispose()
    return found


def run_wrk(port: int, clients_file: Path, threads: int, seconds: float, redirect_ok: bool):
    env = {
        **os.environ,
        "BENCH_CLIENTS": str(clients_file),
        "BENCH_REDIRECT_OK": "1" if redirect_ok else "0",
    }
    result = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(threads),
            "-d",
            f"{max(round(seconds), 1)}s",
            "--timeout",
            "30s",
            "-s",
            str(LUA),
            f"http://127.0.0.1:{port}",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    for line in result.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line.removeprefix("BENCH_RESULT "))
    raise SystemExit(f"wrk printed no result:\n{result.stdout}\n{result.stderr}")


def measure_saves(
    world: World,
    app_server: Gunicorn,
    bare_server: Gunicorn,
    tmp: Path,
    n_clients: int,
    seconds: float,
    runs: int,
    has_save_route: bool,
) -> dict:
    """The save load. The real endpoint when it answers; until then the current save route
    (the section form post, one item per post, a redirect per save)."""
    picked = pick_items(world, n_clients)
    clients = [
        Client(name, item, section)
        for name, (item, section) in zip(world.staff, picked, strict=True)
    ]
    item_ids = [c.item_id for c in clients]
    for client in clients:
        client.http = Http(app_server.port)
        client.http.login(client.username)
        _, _, page = client.http.request("GET", f"/checklistor/{world.checklist_id}")
        client.csrf = CSRF_RE.search(page.decode()).group(1)
    log(f"{n_clients} clients logged in")

    # Does the real endpoint answer? (A 404 or 405 means it is not there yet.)
    probe = clients[0]
    version, stored = item_state(world, [probe.item_id])[probe.item_id]
    p = f"i{probe.item_id}_"
    status, _, body = probe.http.request(
        "POST",
        f"/checklistor/{world.checklist_id}/punkter/{probe.item_id}/svar",
        {
            "csrf_token": probe.csrf,
            p + "version": version,
            p + "answer": "no" if stored == "yes" else "yes",
        },
        {"Accept": "application/json"},
    )
    real = has_save_route and status not in (404, 405)
    if real:
        mode = "POST /checklistor/<id>/punkter/<item>/svar (JSON)"
    else:
        mode = "the current save route: POST /checklistor/<id>/avsnitt/<section>, one item"
    log(f"save endpoint probe answered {status} {body[:80]!r} -> measuring {mode}")

    def write_clients(path: Path, real_app: bool) -> dict[int, int]:
        current = settled()
        lines = []
        for client in clients:
            version, stored = current[client.item_id]
            first = "no" if stored == "yes" else "yes"
            if not real_app:
                target, csrf, cookie = f"/punkter/{client.item_id}/svar", "-", "-"
            else:
                csrf, cookie = client.csrf, client.http.cookie_header()
                if real:
                    target = f"/checklistor/{world.checklist_id}/punkter/{client.item_id}/svar"
                else:
                    target = f"/checklistor/{world.checklist_id}/avsnitt/{client.section}"
            fields = [target, str(client.item_id), str(version), first, csrf, cookie]
            lines.append("\t".join(fields))
        path.write_text("\n".join(lines) + "\n")
        return {i: v for i, (v, _) in current.items()}

    def settled() -> dict[int, tuple[int, str | None]]:
        """The items' state once the requests still in flight when wrk stopped are done."""
        state = item_state(world, item_ids)
        for _ in range(120):
            time.sleep(0.5)
            again = item_state(world, item_ids)
            if again == state:
                break
            state = again
        return state

    def one(real_app: bool, duration: float) -> dict:
        path = tmp / ("clients-app.tsv" if real_app else "clients-bare.tsv")
        before = write_clients(path, real_app)
        server = app_server if real_app else bare_server
        cpu = server.cpu_seconds()
        result = run_wrk(server.port, path, n_clients, duration, real_app and not real)
        result["cpu_s"] = server.cpu_seconds() - cpu
        after = settled()
        # A lost update: a 200 that did not move the version by exactly one, or an item whose
        # stored version is not the last one its client was told (or one past it: the request
        # in flight when wrk stopped).
        drift = [
            i
            for i in item_ids
            if after[i][0] - result["final"].get(str(i), before[i]) not in (0, 1)
        ]
        result["lost_updates"] = result["skipped"] + len(drift)
        result["saves_per_s"] = (result["ok"] - result["unchanged"]) / (result["duration_us"] / 1e6)
        result["cpu_ms_per_request"] = result["cpu_s"] * 1000 / max(result["requests"], 1)
        return result

    one(True, min(3.0, seconds))  # warm-up: every worker has loaded its templates and caches
    one(False, min(3.0, seconds))
    app_runs, bare_runs = [], []
    for n in range(runs):
        order = (True, False) if n % 2 == 0 else (False, True)
        for real_app in order:
            result = one(real_app, seconds)
            (app_runs if real_app else bare_runs).append(result)
            log(
                f"{'app ' if real_app else 'bare'} run {n + 1}: {result['saves_per_s']:.0f}/s "
                f"p50 {result['p50_us'] / 1000:.1f} ms p95 {result['p95_us'] / 1000:.1f} ms "
                f"409 {result['conflicts']} err {result['errors']} "
                f"({result['first_error']}) sock {result['socket_errors']} "
                f"unchanged {result['unchanged']} lost {result['lost_updates']} "
                f"cpu {result['cpu_ms_per_request']:.1f} ms/request"
            )
    return {"app": app_runs, "bare": bare_runs, "mode": mode}


# --- the report ------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def report(world: World, args, data: dict) -> str:
    rows = []

    def add(measure, ours, limit, ratio, target, met):
        mark = "" if met is None else (" ✓" if met else " ✗")
        rows.append(f"| {measure} | {ours} | {limit} | {ratio} | {target}{mark} |")

    def timed(measure, pair, target_ratio=None, note=""):
        a, b = median(pair[0]), median(pair[1])
        ratio = a / b
        add(
            measure + note,
            ms(a),
            ms(b),
            f"{ratio:.2f}×",
            f"≤ {target_ratio}×" if target_ratio else "–",
            ratio <= target_ratio if target_ratio else None,
        )

    if "open" in data:
        op = data["open"]
        timed(
            f"1. open a round ({op['rows']:,} items) vs INSERT … SELECT",
            (op["ours"], op["limit"]),
            1.2,
        )
        pages = data["pages"]
        timed("2. overview GET (in-process) vs its GROUP BY", pages["overview"], 1.5)
        if "gunicorn_pages" in data:
            timed(
                "2. overview GET (gunicorn, gzip) vs its GROUP BY",
                data["gunicorn_pages"]["overview"],
                1.5,
            )
        size = pages["overview_bytes"] / 1024
        gz = data.get("gunicorn_pages", {}).get("overview_gzip_bytes", 0) / 1024
        rows.append(f"| 2. overview size | {size:,.0f} kB ({gz:,.0f} kB gzip) | – | – | – |")
        note = "" if pages["section_route"] else " (section route missing: full page)"
        timed(f"3. section page §{SECTION} (in-process) vs its SELECT", pages["section"], 10, note)
        if "gunicorn_pages" in data:
            timed(
                f"3. section page §{SECTION} (gunicorn, gzip) vs its SELECT",
                data["gunicorn_pages"]["section"],
                10,
            )
        rows.append(
            f"| 3. section page size | {pages['section_bytes'] / 1024:,.0f} kB | – | – | – |"
        )
        timed("3b. task list GET /checklistor/<id> vs its SELECT", pages["tasks"])
    saves = data.get("saves")
    if saves:
        app, bare = saves["app"], saves["bare"]
        rate_a = median([r["saves_per_s"] for r in app])
        rate_b = median([r["saves_per_s"] for r in bare])
        add(
            f"4. item saves/s, {args.clients} clients, {args.workers} workers",
            f"{rate_a:,.0f}/s",
            f"{rate_b:,.0f}/s",
            f"{rate_a / rate_b:.2f}×",
            "≥ 0.5×",
            rate_a / rate_b >= 0.5,
        )
        cpu_a = median([r["cpu_ms_per_request"] for r in app])
        cpu_b = median([r["cpu_ms_per_request"] for r in bare])
        add(
            "4. server CPU per save (gunicorn workers)",
            f"{cpu_a:.1f} ms",
            f"{cpu_b:.1f} ms",
            f"{cpu_a / cpu_b:.2f}×",
            "–",
            None,
        )
        for q in ("p50", "p95"):
            qa = median([r[f"{q}_us"] for r in app]) / 1e6
            qb = median([r[f"{q}_us"] for r in bare]) / 1e6
            add(
                f"4. save latency {q}",
                ms(qa),
                ms(qb),
                f"{qa / qb:.2f}×",
                "≤ 100 ms" if q == "p95" else "–",
                qa <= 0.1 if q == "p95" else None,
            )

        def total(runs, key):
            return sum(r[key] for r in runs)

        errors_a = total(app, "errors") + total(app, "socket_errors") + total(app, "timeouts")
        errors_b = total(bare, "errors") + total(bare, "socket_errors") + total(bare, "timeouts")
        add(
            "4. errors (non-200 but 409, socket, timeout)",
            f"{errors_a} of {total(app, 'requests'):,}",
            f"{errors_b} of {total(bare, 'requests'):,}",
            "–",
            "0",
            errors_a == 0,
        )
        add(
            "4. version conflicts (409)",
            str(total(app, "conflicts")),
            str(total(bare, "conflicts")),
            "–",
            "–",
            None,
        )
        add(
            "4. lost updates (200s without a version step)",
            str(total(app, "lost_updates")),
            str(total(bare, "lost_updates")),
            "–",
            "0",
            total(app, "lost_updates") == 0,
        )
    rss = data.get("rss")
    if rss:
        add(
            "5. RSS per worker after the load",
            " / ".join(f"{r:.0f}" for r in rss["app"]) + " MB",
            " / ".join(f"{r:.0f}" for r in rss["bare"]) + " MB (bare)",
            "–",
            "≤ 120 MB",
            max(rss["app"]) <= 120,
        )
    head = [
        f"database: {world.dialect}, {world.units:,} units, {len(world.round_ids)} rounds, "
        f"{world.items:,} checklist items; {args.samples} samples per page figure "
        f"(×3 for the checklist pages), {args.load_runs} × {args.load_seconds:g} s per load",
        f"save endpoint measured: {saves['mode'] if saves else 'not measured'}",
        "",
        "| measure | ours (median) | physical limit (median) | ratio | target |",
        "|---|---|---|---|---|",
    ]
    return "\n".join(head + rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--database-url", help="an empty database to fill")
    target.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL")
    parser.add_argument("--units", type=int)
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--quick", action="store_true", help="100 units, 2 rounds, short")
    parser.add_argument("--samples", type=int)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--load-seconds", type=float)
    parser.add_argument("--load-runs", type=int)
    parser.add_argument("--skip-load", action="store_true", help="no gunicorn, no saves")
    parser.add_argument(
        "--saves-only", action="store_true", help="only the save load (4.) and memory (5.)"
    )
    parser.add_argument(
        "--section-post",
        action="store_true",
        help="measure the section form post even if the item endpoint answers",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary directory (and PostgreSQL running)"
    )
    args = parser.parse_args()
    quick = args.quick
    args.units = args.units or (100 if quick else 1150)
    args.rounds = args.rounds or (2 if quick else 10)
    args.samples = args.samples or (3 if quick else 7)
    args.load_seconds = args.load_seconds or (3.0 if quick else 10.0)
    args.load_runs = args.load_runs or (1 if quick else 3)

    tmp = Path(tempfile.mkdtemp(prefix="halsoval-national-"))
    os.environ["HALSOVAL_INSTANCE"] = str(tmp / "instance")
    postgres = None
    servers: list[Gunicorn] = []
    try:
        if args.postgres:
            from tests.servers import PostgresServer

            postgres = PostgresServer().start()
            url = postgres.create_database("halsoval_bench")
            log(f"PostgreSQL: {url}")
        else:
            url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
        log(f"building {args.units} units × {args.rounds} rounds in {url}")
        world = build(url, args.units, args.rounds, args.clients)
        log(f"built {world.items:,} items: {world.build_seconds}")
        data: dict = {}
        if not args.saves_only:
            data["open"] = measure_open_round(world, max(args.samples // 2, 3))
            log("open_round measured")
            data["pages"] = measure_pages_in_process(world, args.samples)
        else:
            data["pages"] = {"save_route": True, "section_path": None}
        if not args.skip_load:
            if shutil.which("wrk") is None:
                raise SystemExit("wrk is not installed (apt-get install wrk)")
            env = {
                **os.environ,
                "HALSOVAL_DATABASE_URL": url,
                "HALSOVAL_SECRET_KEY": SECRET_KEY,
                "PYTHONPATH": str(ROOT),
            }
            app_server = Gunicorn("web.wsgi:app", env, args.workers, tmp, "app")
            servers.append(app_server)
            bare_server = Gunicorn("bare_app:app", env, args.workers, tmp, "bare")
            servers.append(bare_server)
            app_server.wait("/logga-in")
            bare_server.wait("/")
            if not args.saves_only:
                data["gunicorn_pages"] = measure_pages_gunicorn(
                    world, app_server, args.samples, data["pages"]["section_path"], args.workers
                )
            data["saves"] = measure_saves(
                world,
                app_server,
                bare_server,
                tmp,
                args.clients,
                args.load_seconds,
                args.load_runs,
                data["pages"]["save_route"] and not args.section_post,
            )
            data["rss"] = {"app": app_server.rss_mb(), "bare": bare_server.rss_mb()}
        print()
        print(
            f"bench/national.py {' '.join(sys.argv[1:])} — "
            f"{dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, "
            f"Python {platform.python_version()}, {os.cpu_count()} CPUs"
        )
        print(report(world, args, data))
        print("\nbuild: " + ", ".join(f"{k} {v:.1f} s" for k, v in world.build_seconds.items()))
    finally:
        for server in servers:
            server.stop()
        if postgres is not None and not args.keep:
            postgres.stop()
        if args.keep:
            log(f"kept {tmp}" + (f" and PostgreSQL in {postgres.base}" if postgres else ""))
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
