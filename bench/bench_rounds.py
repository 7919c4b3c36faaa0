"""Benchmark: opening a round for the whole county, and rendering a checklist's task list.

The national workload (1,150 units, 10 rounds, item saves under gunicorn), every figure beside
its physical limit, is ``bench/national.py``; this one stays as the quick county-sized check.

Usage:  .venv/bin/python bench/bench_rounds.py [--database-url URL] [--repeat N]

Without --database-url it runs on a fresh SQLite file in a temporary directory. The seed has
the 26 units the documents name; the county has 38 health centres and 7 sjukstugor, so the
benchmark adds 19 synthetic health centres (codes bench-1 …, in the temporary database only)
to measure the full county of 45 units. Prints timings; asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from alembic import command  # noqa: E402

from audit import accounts  # noqa: E402
from audit.db import make_engine, make_session_factory  # noqa: E402
from audit.models import Area, Operator, Role, Unit, UnitKind  # noqa: E402
from audit.trail import SYSTEM  # noqa: E402
from audit.units import load_units  # noqa: E402
from checklists import operations as ops  # noqa: E402
from checklists.catalog import EDITIONS_DIR, load_edition  # noqa: E402
from checklists.rounds import Checklist, ChecklistItem  # noqa: E402
from web.cli import alembic_config  # noqa: E402

PASSWORD = "benchmark-lösenord-1"  # noqa: S105 (a throwaway database)


def timed(fn, repeat=1):
    samples = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - start)
    return result, samples


def fmt(samples):
    if len(samples) == 1:
        return f"{samples[0] * 1000:.0f} ms"
    return (
        f"median {statistics.median(samples) * 1000:.0f} ms, min {min(samples) * 1000:.0f}"
        f" ms, max {max(samples) * 1000:.0f} ms over {len(samples)} runs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="halsoval-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    os.environ["HALSOVAL_INSTANCE"] = str(tmp / "instance")
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    Session = make_session_factory(engine)
    with Session() as db:
        load_units(db, SYSTEM)
        for n in range(1, 20):
            db.add(
                Unit(
                    code=f"bench-{n}",
                    name=f"Syntetisk hälsocentral {n}",
                    kind=UnitKind.HALSOCENTRAL,
                    operator=Operator.PRIVAT,
                    area=Area.UMEA,
                    has_bvc=True,
                    has_mvc=True,
                    on_region_telephony=n % 2 == 0,
                    source="benchmark",
                    assumptions="syntetisk",
                )
            )
        edition = load_edition(db, SYSTEM, EDITIONS_DIR / "uor-2025.yaml").edition
        purchaser = accounts.create_user(db, SYSTEM, "bench.bo", "Bo", PASSWORD)
        accounts.grant_role(db, SYSTEM, purchaser, Role.BESTALLARE)
        head = accounts.create_user(db, SYSTEM, "bench.vc", "Vera", PASSWORD)
        accounts.grant_role(db, SYSTEM, head, Role.VERKSAMHETSCHEF, "byske")
        db.commit()
        units = db.scalar(
            sa.select(sa.func.count()).select_from(Unit).where(Unit.kind != UnitKind.FILIAL)
        )

        def open_round():
            round_ = ops.open_round(
                db,
                purchaser,
                edition=edition,
                title="Bench",
                year=2025,
                opens_on=dt.date(2025, 1, 1),
                deadline=dt.date(2025, 3, 31),
            )
            db.commit()
            return round_

        round_, open_samples = timed(open_round)
        items = db.scalar(
            sa.select(sa.func.count())
            .select_from(ChecklistItem)
            .join(Checklist)
            .where(Checklist.round_id == round_.id)
        )
        checklist = db.scalar(
            sa.select(Checklist)
            .join(Unit)
            .where(Checklist.round_id == round_.id, Unit.code == "byske")
        )
        per_checklist = len(checklist.items)
        checklist_id = checklist.id

    from web import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    client = app.test_client()
    page = client.get("/logga-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post(
        "/logga-in", data={"csrf_token": token, "username": "bench.vc", "password": PASSWORD}
    )
    response, render_samples = timed(
        lambda: client.get(f"/checklistor/{checklist_id}"), args.repeat
    )
    assert response.status_code == 200
    size_kb = len(response.data) / 1024

    print(f"database: {engine.dialect.name}")
    print(
        f"open a round, all {edition.code} requirements for {units} units: "
        f"{fmt(open_samples)} ({items} items in {units} checklists)"
    )
    print(
        f"render a checklist's task list ({per_checklist} items, {size_kb:.0f} kB): "
        f"{fmt(render_samples)}"
    )


if __name__ == "__main__":
    main()
