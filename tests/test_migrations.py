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
