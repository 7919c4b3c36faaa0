"""``halsoval audit checkpoint`` and ``verify`` against it, on both databases, as an
administrator runs them (issue 9, finding 3): truncating the newest rows, a chain recomputed
without the key and a forged appended event are each named, with the row; and the key.

Before: there was no checkpoint, verify passed all three, and the chain had no key.
"""

from __future__ import annotations

import json
import os
import stat

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from audit import keys
from audit.db import make_engine
from audit.trail import AuditEvent, compute_hash, verify
from tests.conftest import DB_KINDS, database_url
from web.cli import main


@pytest.fixture(params=DB_KINDS)
def cli(request, tmp_path, tmp_path_factory, monkeypatch):
    url = database_url(request.param, "halsoval_checkpoints", request, tmp_path_factory)
    monkeypatch.setenv("HALSOVAL_DATABASE_URL", url)
    monkeypatch.setenv("HALSOVAL_AUDIT_CHECKPOINTS", str(tmp_path / "kontrollpunkter.jsonl"))
    runner = CliRunner()

    def run(*args, input=None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    assert run("db", "upgrade").exit_code == 0
    assert run("units", "load").exit_code == 0  # 34 events
    run.url = url
    run.file = tmp_path / "kontrollpunkter.jsonl"
    run.engine = make_engine(url)
    yield run
    run.engine.dispose()


def _unprotect(conn):
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER USER")
    else:
        for name in ("no_update", "no_delete", "continue_chain"):
            conn.exec_driver_sql(f"DROP TRIGGER audit_events_{name}")


def test_checkpoint_is_written_signed_and_verify_agrees(cli):
    result = cli("audit", "verify")
    assert result.exit_code == 0 and "Ingen kontrollpunkt" in result.output
    result = cli("audit", "checkpoint")
    assert result.exit_code == 0 and "Kontrollpunkt vid rad 34" in result.output
    line = json.loads(cli.file.read_text().splitlines()[-1])
    assert line["id"] == 34 and len(line["sig"]) == 64 and line["legacy_head"] == 0
    assert stat.S_IMODE(os.stat(cli.file).st_mode) == 0o600
    result = cli("audit", "verify")
    assert result.exit_code == 0
    assert "Stämmer med 1 kontrollpunkter" in result.output and "vid rad 34" in result.output


def test_truncated_newest_rows_are_named(cli):
    cli("audit", "checkpoint")
    with cli.engine.begin() as conn:
        _unprotect(conn)
        conn.exec_driver_sql("DELETE FROM audit_events WHERE id > 31")
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert "Kedjan är bruten vid rad 32: rad 32–34 saknas" in result.output
    assert "de senaste raderna har tagits bort" in result.output


def test_chain_recomputed_without_the_key_is_named(cli):
    cli("audit", "checkpoint")
    with cli.engine.begin() as conn:
        _unprotect(conn)
    with cli.engine.begin() as conn:
        from sqlalchemy.orm import Session

        db = Session(bind=conn)
        rows = db.scalars(sa.select(AuditEvent).where(AuditEvent.id >= 9).order_by("id")).all()
        prev = db.scalar(sa.select(AuditEvent.hash).where(AuditEvent.id == 8))
        table = AuditEvent.__table__
        for row in rows:
            values = {"prev_hash": prev}
            if row.id == 9:
                values["actor_label"] = "någon annan"
            values["hash"] = compute_hash({**row.payload(), **values})  # no key to hand
            conn.execute(table.update().where(table.c.id == row.id).values(values))
            prev = values["hash"]
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert "Kedjan är bruten vid rad 9" in result.output
    assert "kedjan har räknats om utan nyckeln från rad 9" in result.output


def test_forged_appended_event_is_named(cli):
    cli("audit", "checkpoint")
    with cli.engine.begin() as conn:
        head = conn.execute(sa.select(AuditEvent.__table__).where(AuditEvent.id == 34)).one()
        forged = dict(head._mapping, id=35, prev_hash=head.hash, action="grant_role")
        forged["hash"] = "ab" * 32
        conn.execute(AuditEvent.__table__.insert().values(forged))  # passes the trigger
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert "Kedjan är bruten vid rad 35" in result.output and "förfalskade" in result.output


def test_no_checkpoint_of_a_broken_chain(cli):
    with cli.engine.begin() as conn:
        _unprotect(conn)
        conn.exec_driver_sql("UPDATE audit_events SET reason = 'i efterhand' WHERE id = 5")
    result = cli("audit", "checkpoint", "--to", str(cli.file))
    assert result.exit_code == 1 and "Ingen kontrollpunkt skrevs" in result.output
    assert not cli.file.exists()


def test_forged_checkpoint_line_is_named(cli):
    cli("audit", "checkpoint")
    line = json.loads(cli.file.read_text())
    line["id"] = 40  # claims a longer chain, to make it look truncated
    with cli.file.open("a") as handle:
        handle.write(json.dumps(line) + "\n")
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert "kontrollpunkten på rad 2 i kontrollpunktsfilen är inte signerad" in result.output


def test_checkpoint_to_stdout(cli):
    result = cli("audit", "checkpoint", "--to", "-")
    assert result.exit_code == 0
    assert json.loads(result.output)["id"] == 34 and not cli.file.exists()


# --- the key ---------------------------------------------------------------------------------


def test_key_file_is_created_once_with_mode_0600(tmp_path):
    path = tmp_path / "instance" / "audit_key"
    first = keys.load_key_file(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert keys.load_key_file(path) == first
    assert [p.name for p in path.parent.iterdir()] == ["audit_key"]  # no temporary left


def test_key_from_the_environment_wins_and_must_be_long(monkeypatch):
    monkeypatch.setenv(keys.AUDIT_KEY_ENV, "x" * 40)
    assert keys.audit_key() == keys.make_key(b"x" * 40)
    monkeypatch.setenv(keys.AUDIT_KEY_ENV, "kort")
    with pytest.raises(keys.AuditKeyError, match="minst 32 tecken"):
        keys.audit_key()


def test_another_key_makes_every_keyed_row_fail(db, monkeypatch):
    """What the chain is signed with matters: the same rows under another key do not verify."""
    from audit.trail import SYSTEM, record

    record(db, SYSTEM, "thing", 1, "create")
    assert verify(db).ok
    monkeypatch.setenv(keys.AUDIT_KEY_ENV, "en helt annan nyckel, minst trettiotvå tecken")
    result = verify(db)
    assert not result.ok and "annan nyckel" in result.problem
