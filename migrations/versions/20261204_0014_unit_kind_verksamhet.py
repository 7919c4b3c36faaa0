"""Verksamheter med tilläggsuppdrag: a unit kind for the reporting bodies that are no health
centre (Kompetenscentrum för Mödra- och Barnhälsovård, the ungdomsmottagningar, Centrum mot
våld, …; seed 000), so that their tilläggsuppdrag rows can be put into a round.

- ``units.kind``: the CHECK constraint of the non-native enum ``unit_kind`` gains
  ``verksamhet``. On PostgreSQL the constraint is replaced; on SQLite the table's definition
  is edited in place (see ``_set_kinds``), so the rows other tables refer to stay put.

Downgrading cannot keep a unit of a kind the old schema does not know: such a unit becomes an
*inactive* hälsocentral (an inactive unit gets no new checklist, so the rulebook does not reach
it), and its assumptions say so; loading the units file after upgrading again restores it.

Revision ID: 0014
Revises: 0018
Create Date: 2026-12-04
"""

import re

from alembic import op

revision = "0014"
down_revision = "0018"
branch_labels = None
depends_on = None

KINDS_OLD = ["halsocentral", "sjukstuga", "filial"]
KINDS_NEW = [*KINDS_OLD, "verksamhet"]
DOWNGRADE_NOTE = (
    " [Nedgradering 0014: enhetstypen verksamhet med tilläggsuppdrag fanns inte; enheten "
    "lagrades som inaktiv hälsocentral.]"
)


def _set_kinds(values: list[str]) -> None:
    """Replace the CHECK constraint of ``units.kind`` with one for ``values``."""
    listed = ", ".join(repr(v) for v in values)
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_units_unit_kind"), "units", type_="check")
        op.create_check_constraint("unit_kind", "units", f"kind IN ({listed})")
        return
    # SQLite cannot alter a CHECK constraint, and rebuilding ``units`` (batch mode) fails once
    # other tables refer to its rows: dropping the old table counts a foreign-key violation
    # per referring row that the renamed copy does not take back, and foreign keys cannot be
    # switched off inside the migration's transaction. SQLite's documented procedure for a
    # change that leaves the stored rows valid (ALTER TABLE, "Making Other Kinds Of Table
    # Schema Changes": removing or loosening a CHECK constraint) edits the table's definition
    # in sqlite_schema and bumps the schema version; every stored row stays as it is.
    bind = op.get_bind()
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'units'"
    ).scalar_one()
    changed, n = _KIND_CHECK.subn(lambda m: f"{m.group(1)}{listed}{m.group(2)}", sql)
    if n != 1:
        raise RuntimeError("units: the CHECK constraint ck_units_unit_kind was not found")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'units'", (changed,)
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


_KIND_CHECK = re.compile(
    r'(CONSTRAINT\s+"?ck_units_unit_kind"?\s+CHECK\s*\(\s*"?kind"?\s+IN\s*\()[^)]*(\))',
    re.IGNORECASE,
)


def upgrade() -> None:
    _set_kinds(KINDS_NEW)


def downgrade() -> None:
    op.execute(
        "UPDATE units SET kind = 'halsocentral', active = false, "
        f"assumptions = assumptions || '{DOWNGRADE_NOTE}' WHERE kind = 'verksamhet'"
    )
    _set_kinds(KINDS_OLD)
