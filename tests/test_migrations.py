"""Migrations are the schema: up, down to nothing, up again, and no drift from the models."""

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from audit.db import make_engine
from tests.conftest import DB_KINDS, database_url
from web.cli import alembic_config
from web.schema import metadata


@pytest.fixture(params=DB_KINDS)
def empty_url(request, tmp_path_factory):
    return database_url(request.param, "halsoval_migrations", request, tmp_path_factory)


def _tables(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_upgrade(empty_url):
    engine = make_engine(empty_url)
    config = alembic_config(empty_url)
    command.upgrade(config, "head")
    assert _tables(engine) == set(metadata.tables)
    command.downgrade(config, "base")
    assert _tables(engine) == set()
    command.upgrade(config, "head")
    assert _tables(engine) == set(metadata.tables)
    engine.dispose()


def test_models_and_migrations_agree(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    assert diff == [], f"models differ from migrations: {diff}"


def test_revision_files_are_date_prefixed_and_have_downgrades():
    from pathlib import Path

    versions = Path(__file__).resolve().parent.parent / "migrations" / "versions"
    files = sorted(versions.glob("*.py"))
    assert files
    for path in files:
        assert path.name[:8].isdigit() and path.name[8] == "_", path.name
        source = path.read_text()
        body = source.split("def downgrade() -> None:", 1)[1]
        assert body.strip() and body.strip() != "pass", f"{path.name} has no downgrade"


def test_unkeyed_trail_of_0008_still_verifies_and_new_rows_are_keyed(empty_url):
    """Revision 0009 keys the chain: rows written before it keep their plain SHA-256 (key_id
    NULL) and verify as before; rows after it are signed; an unkeyed row after them is not
    accepted (recomputing the chain in the old format does not pass)."""
    import datetime as dt

    from sqlalchemy.orm import Session

    from audit.trail import GENESIS_HASH, SYSTEM, AuditEvent, compute_hash, record, verify

    engine = make_engine(empty_url)
    config = alembic_config(empty_url)
    command.upgrade(config, "0008")
    table = AuditEvent.__table__
    prev = GENESIS_HASH
    with engine.begin() as conn:
        for n in range(1, 4):
            row = dict(
                id=n,
                occurred_at=dt.datetime(2026, 11, 30, 12, n, tzinfo=dt.UTC),
                actor_id=None,
                actor_label="system",
                entity_type="thing",
                entity_id=str(n),
                action="create",
                before=None,
                after=f'{{"n":{n}}}',
                reason=None,
                prev_hash=prev,
            )
            payload = {**row, "occurred_at": f"2026-11-30T12:{n:02d}:00.000000Z"}
            row["hash"] = prev = compute_hash(payload)  # how 0001-0008 hashed
            conn.execute(table.insert().values(row))
    command.upgrade(config, "head")
    with Session(engine) as db:
        assert verify(db).ok and verify(db).checked == 3
        new = record(db, SYSTEM, "thing", 4, "create")
        assert new.key_id is not None and new.prev_hash == prev
        db.commit()
        result = verify(db)
        assert result.ok and result.checked == 4
        assert (
            db.scalars(sa.select(AuditEvent.key_id).order_by(AuditEvent.id)).all()[:3] == [None] * 3
        )
    engine.dispose()


def test_upgrading_a_database_with_rows_that_rebuilt_tables_are_referred_to(empty_url):
    """0013 rebuilds action_plans on SQLite (batch mode) while measures refer to its rows: the
    upgrade keeps every row and every reference (foreign keys are switched off around the
    migration, as SQLite documents, and checked before it commits)."""
    engine = make_engine(empty_url)
    config = alembic_config(empty_url)
    command.upgrade(config, "0012")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO units (id, code, name, kind, operator, area, has_bvc, has_mvc,"
            " sjukvardsgrupp_duty, on_region_telephony, active, source, assumptions, provider)"
            " VALUES (1, 'hc', 'HC', 'halsocentral', 'egenregi', 'umea', true, true, false,"
            " true, true, 't', '', '')"
        )
        conn.exec_driver_sql(
            "INSERT INTO action_plans (id, unit_id, title, requirements, due_date, status,"
            " created_at) VALUES (7, 1, 'Plan', 'Krav', '2026-03-01', 'approved',"
            " '2026-01-05 10:00:00')"
        )
        conn.exec_driver_sql(
            "INSERT INTO action_measures (id, plan_id, description, responsible, due_date)"
            " VALUES (9, 7, 'Rekrytera', 'VC', '2026-02-20')"
        )
    command.upgrade(config, "head")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT plan_id FROM action_measures").scalar() == 7
        assert conn.exec_driver_sql("SELECT title FROM action_plans WHERE id = 7").scalar() == (
            "Plan"
        )
        if conn.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    command.downgrade(config, "0012")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT plan_id FROM action_measures").scalar() == 7
    engine.dispose()


def test_0014_widens_unit_kind_with_rows_that_others_refer_to(empty_url):
    """0014 lets ``units.kind`` hold ``verksamhet`` on a table whose rows are referred to (a
    filial to its main unit: rebuilding the table on SQLite would fail); downgrading turns such
    a unit into an inactive hälsocentral that says so, and upgrading again works."""
    from sqlalchemy.exc import IntegrityError

    engine = make_engine(empty_url)
    config = alembic_config(empty_url)
    command.upgrade(config, "0013")
    units = sa.table(
        "units",
        *(sa.column(c) for c in ("id", "code", "name", "kind", "operator", "area")),
        *(sa.column(c) for c in ("main_unit_id", "has_bvc", "has_mvc", "sjukvardsgrupp_duty")),
        *(sa.column(c) for c in ("on_region_telephony", "active", "source", "assumptions")),
    )
    flags = dict(has_bvc=True, has_mvc=True, sjukvardsgrupp_duty=False, on_region_telephony=True)
    row = dict(operator="egenregi", area="umea", active=True, source="t", assumptions="", **flags)
    body = dict(row, id=3, code="kc", name="Kompetenscentrum", kind="verksamhet")
    with engine.begin() as conn:
        conn.execute(units.insert(), [dict(row, id=1, code="hc", name="HC", kind="halsocentral")])
        conn.execute(
            units.insert(),
            [dict(row, id=2, code="hc-f", name="Filial", kind="filial", main_unit_id=1)],
        )
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(units.insert(), [body])
    command.upgrade(config, "0014")
    with engine.begin() as conn:
        conn.execute(units.insert(), [dict(body, has_bvc=False, has_mvc=False)])
        assert conn.scalar(sa.select(sa.func.count()).select_from(units)) == 3
        if conn.dialect.name == "sqlite":  # the definition edited in place reads back whole
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(units.insert(), [dict(body, id=4, code="x", kind="kommunal")])
    command.downgrade(config, "0013")
    with engine.connect() as conn:
        kind, active, assumptions = conn.execute(
            sa.select(units.c.kind, units.c.active, units.c.assumptions).where(units.c.id == 3)
        ).one()
        assert kind == "halsocentral" and not active and "verksamhet" in assumptions
        assert conn.scalar(sa.select(units.c.main_unit_id).where(units.c.id == 2)) == 1
    command.upgrade(config, "head")
    engine.dispose()
