"""Alembic environment: the database URL comes from HALSOVAL_DATABASE_URL (or the embedded
SQLite file); tests hand over an open connection in ``config.attributes["connection"]``."""

from logging.config import fileConfig

from alembic import context

from audit.db import database_url, make_engine
from web.schema import metadata

config = context.config
if config.config_file_name is not None and not config.attributes.get("connection"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        # With audit.db's SQLite recipe, DDL is transactional there too: a migration that
        # fails half-way leaves nothing behind.
        transactional_ddl=True,
    )


class ForeignKeyViolation(RuntimeError):
    """A migration left rows that refer to nothing (SQLite's foreign_key_check found them)."""


def _migrate(connection) -> None:
    """Run the migrations in one transaction. On SQLite, foreign keys are switched off around
    it: a batch migration rebuilds a table (create, copy, drop, rename), and dropping a table
    that other rows refer to fails while they are on — SQLite's documented procedure for
    altering a table (https://sqlite.org/lang_altertable.html#otheralter) turns them off, runs
    ``PRAGMA foreign_key_check`` before committing, and turns them on again. The PRAGMA is a
    no-op inside a transaction, so it goes to the driver connection before Alembic begins."""
    sqlite = connection.dialect.name == "sqlite" and not connection.in_transaction()
    if sqlite:
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise ForeignKeyViolation(
                        f"Migreringen lämnade rader som pekar på rader som saknas: {broken[:5]}"
                    )
    finally:
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url") or database_url(),
        target_metadata=metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or database_url())
    with engine.connect() as connection:
        _migrate(connection)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
