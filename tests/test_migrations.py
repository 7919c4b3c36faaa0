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
