"""No orphan files in the evidence store (issue 9, finding 6), and upload refusals through
the page (finding 2): the file reaches the store only when its row commits; a failed commit
leaves nothing; ``halsoval evidence gc`` finds and removes what a crash left behind."""

from __future__ import annotations

import datetime as dt
import io
import os
import time
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy import event
from sqlalchemy.orm import Session

from audit.models import User
from audit.trail import AuditEvent
from checklists import evidence as ev
from checklists import operations as ops
from checklists.evidence import EvidenceStore, check_upload, collect_garbage
from checklists.rounds import EvidenceFile
from tests.checklists.test_rounds import synthetic_personnummer
from tests.conftest import count, csrf_token, login
from tests.factories import PASSWORD
from tests.web import test_checklist_pages as pages
from tests.web.test_checklist_pages import item, upload

NUMBER = synthetic_personnummer(dt.date(1972, 11, 3))
TARGET = "kvalitet.patientsakerhetsberattelse"


def files_in(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def world(db, app, tmp_path):
    """The checklist pages' world: units, the catalog, people and a round of checklists."""
    return pages.world.__wrapped__(db, app, tmp_path)


@pytest.fixture
def store(app) -> EvidenceStore:
    return EvidenceStore(Path(app.config["EVIDENCE_DIR"]))


# --- through the page -----------------------------------------------------------------------


def test_an_upload_is_in_the_store_after_its_commit_and_nothing_is_left_staged(
    client, world, db, store
):
    login(client, "staff", PASSWORD)
    target = item(db, world["checklist"], TARGET)
    response = upload(client, world["checklist"], target.id, "psb.txt", b"Berattelse 2024")
    assert "har laddats upp" in response.get_data(as_text=True)
    sha = check_upload("psb.txt", b"Berattelse 2024").sha256
    assert files_in(store.root) == [store.path(sha)]


def test_a_failed_commit_leaves_no_file(app, client, world, db, store):
    """What left 36 orphans in the attack: the upload's commit fails after the bytes were
    written. Now the bytes wait in incoming/ and are removed with the failed transaction."""
    login(client, "staff", PASSWORD)
    target = item(db, world["checklist"], TARGET)

    staged_then_removed = []

    def refuse_commit(session):
        staged_then_removed.extend(files_in(store.root))  # the bytes exist, not yet in place
        raise sa.exc.OperationalError("COMMIT", {}, Exception("database is locked"))

    checklist = world["checklist"]
    token = csrf_token(client, f"/checklistor/{checklist.id}/avsnitt/2.6")
    event.listen(Session, "before_commit", refuse_commit)  # only the upload's own commit
    try:
        with pytest.raises(sa.exc.OperationalError):  # TESTING: the 500 propagates
            client.post(
                f"/checklistor/{checklist.id}/punkter/{target.id}/underlag",
                data={"csrf_token": token, "file": (io.BytesIO(b"Berattelse 2025"), "psb.txt")},
                content_type="multipart/form-data",
            )
    finally:
        event.remove(Session, "before_commit", refuse_commit)
    assert staged_then_removed, "the upload did not get as far as its commit"
    assert files_in(store.root) == []
    db.expire_all()
    assert target.files == []


def test_a_file_name_with_a_personnummer_is_refused_before_anything_is_stored(
    client, world, db, store
):
    login(client, "staff", PASSWORD)
    target = item(db, world["checklist"], TARGET)
    events = count(db, AuditEvent)
    response = upload(client, world["checklist"], target.id, f"Remiss {NUMBER}.txt", b"Remiss")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Filnamnet innehåller något som liknar ett personnummer" in html
    assert NUMBER not in html and NUMBER[-4:] not in html
    assert files_in(store.root) == []
    db.expire_all()
    assert target.files == [] and count(db, AuditEvent) == events


def test_a_personnummer_in_an_excel_number_cell_is_refused_through_the_page(
    client, world, db, store
):
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = int("19" + NUMBER.replace("-", ""))
    buffer = io.BytesIO()
    workbook.save(buffer)
    login(client, "staff", PASSWORD)
    target = item(db, world["checklist"], TARGET)
    response = upload(client, world["checklist"], target.id, "lista.xlsx", buffer.getvalue())
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "liknar ett personnummer i en cell" in html
    assert files_in(store.root) == []


# --- the commit decides, on both databases ----------------------------------------------------


def _add(db, world, store, data: bytes) -> str:
    target = item(db, world["checklist"], TARGET)
    staff = db.scalar(sa.select(User).where(User.username == "staff"))
    checked = check_upload("underlag.txt", data)
    ops.add_evidence(db, staff, target, checked, data, store)
    return checked.sha256


def test_the_file_waits_for_the_commit(world, db, store):
    sha = _add(db, world, store, b"Vantar pa commit")
    assert not store.exists(sha)
    assert len(files_in(store.incoming)) == 1
    db.commit()
    assert store.exists(sha) and files_in(store.incoming) == []


def test_a_commit_that_fails_in_the_database_leaves_no_file(world, db, store):
    """A real failure at commit: the pending row that violates NOT NULL is flushed by the
    commit itself, and the database refuses it."""
    _add(db, world, store, b"Misslyckad commit")
    db.add(EvidenceFile(item_id=None, sha256="0" * 64, filename="x", media_type="x", size=1))
    with pytest.raises(sa.exc.IntegrityError):
        db.commit()
    db.rollback()
    assert files_in(store.root) == []


def test_a_rollback_leaves_no_file(world, db, store):
    _add(db, world, store, b"Tillbaka")
    db.rollback()
    assert files_in(store.root) == []


# --- garbage collection -----------------------------------------------------------------------

HOURS_AGO = time.time() - 2 * 3600


def _age(path: Path) -> None:
    os.utime(path, (HOURS_AGO, HOURS_AGO))


def test_gc_is_a_dry_run_unless_told_and_then_removes_only_old_unreferenced_files(world, db, store):
    referenced = _add(db, world, store, b"Har en rad")
    db.commit()
    _age(store.path(referenced))
    orphan = store.put(b"Ingen rad, gammal")
    _age(store.path(orphan))
    young = store.put(b"Ingen rad, ny")  # an upload whose commit is still running
    stale = store.stage(b"Aldrig sparad")
    _age(stale.path)
    # A crash between the commit and the move: the row exists, the bytes are still staged.
    crashed = _add(db, world, store, b"Krasch efter commit")
    staged = db.info.pop(ev._STAGED)[0][1]
    db.commit()
    _age(staged.path)
    assert not store.exists(crashed)

    before = files_in(store.root)
    report = collect_garbage(db, store)
    assert files_in(store.root) == before  # a dry run changes nothing
    assert report.orphans == [orphan] and report.recovered == [crashed]
    assert report.stale_incoming == 1 and report.kept_young == 1

    collect_garbage(db, store, delete=True)
    assert not store.exists(orphan) and not stale.path.exists()
    assert store.exists(referenced) and store.exists(young) and store.exists(crashed)
    assert files_in(store.incoming) == []
    with store.open(crashed) as handle:
        assert handle.read() == b"Krasch efter commit"


def test_gc_puts_back_a_file_that_was_uploaded_again_meanwhile(world, db, store, monkeypatch):
    orphan = store.put(b"Samma innehall")
    _age(store.path(orphan))
    real_rename = os.rename

    def rename_then_reupload(src, dst):
        real_rename(src, dst)
        if Path(dst).name.startswith(".gc-"):  # gc has set it aside: the same file arrives
            os.utime(dst, None)

    monkeypatch.setattr(ev.os, "rename", rename_then_reupload)
    collect_garbage(db, store, delete=True)
    assert store.exists(orphan)


def test_gc_command(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("HALSOVAL_DATABASE_URL", url)
    monkeypatch.setenv("HALSOVAL_EVIDENCE_DIR", str(tmp_path / "underlag"))
    from web.cli import main

    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], catch_exceptions=False).exit_code == 0
    store = EvidenceStore(tmp_path / "underlag")
    orphan = store.put(b"Foraldralos")
    _age(store.path(orphan))
    dry = runner.invoke(main, ["evidence", "gc"], catch_exceptions=False)
    assert dry.exit_code == 0
    assert "Skulle tas bort: 1 filer utan rad" in dry.output and "--delete" in dry.output
    assert store.exists(orphan)
    done = runner.invoke(main, ["evidence", "gc", "--delete"], catch_exceptions=False)
    assert done.exit_code == 0 and "Borttagna: 1 filer" in done.output
    assert not store.exists(orphan)
