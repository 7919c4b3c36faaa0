"""The personnummer guard on every stored text (issue 9, finding 2).

Every String/Text/JSON column is either marked ``personal_text`` (and then the Session
listeners refuse a personnummer in it, on flush and in ORM insert/update statements) or is on
the short allow-list below with its reason. A new column that is neither fails here.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

import audit.models  # noqa: F401 - every model module, so that Base.metadata is complete
import checklists.rounds  # noqa: F401
import workflows.cases.models  # noqa: F401
import workflows.models  # noqa: F401
from audit.db import Base
from audit.personal_data import PERSONAL_TEXT, PersonalDataError
from audit.trail import AuditEvent, record
from checklists.rounds import ChecklistItem
from tests.checklists.test_rounds import synthetic_personnummer
from tests.conftest import count
from tests.factories import TEST_ACTOR, make_unit
from workflows.models import DialogParticipant, FollowUpDialog, IvoReferral

# Columns that hold no free text: codes, hashes and values from a closed set. Each says why.
NOT_FREE_TEXT = {
    "units.code": "the unit's code, chosen by the region (a slug used in URLs)",
    "users.password_hash": "an argon2id hash",
    "login_sessions.token_hash": "SHA-256 of the session token",
    "login_sessions.ended_reason": "one of a few fixed words (logout, idle, expired …)",
    "login_throttles.key": "a keyed hash of the counter's scope (user name and/or address)",
    "audit_events.key_id": "the id of the audit key (a hash prefix), set by the code",
    "audit_events.entity_type": "a table-like name set by the code",
    "audit_events.entity_id": "the id of the row, as text",
    "audit_events.action": "a trigger or operation name set by the code",
    "audit_events.prev_hash": "SHA-256",
    "audit_events.hash": "SHA-256",
    "catalog_editions.code": "the edition's code (UOR-2025)",
    "catalog_editions.family": "the edition's family code",
    "catalog_editions.areas": "area codes of the edition",
    "catalog_editions.file_sha256": "SHA-256 of the loaded catalog file",
    "requirements.code": "a stable requirement code",
    "requirements.section": "the rulebook's section number (2.6.1)",
    "requirements.section_key": "a sort key derived from the section number",
    "requirements.area": "an area code",
    "requirements.applies_to": "applicability rule: flags, kinds and unit codes",
    "requirements.deadline": "MM-DD",
    "requirements.assignment_code": "a tilläggsuppdrag code",
    "assignments.code": "a tilläggsuppdrag code",
    "assignments.area": "an area code",
    "assignments.units": "unit codes",
    "catalog_loads.file_sha256": "SHA-256 of the loaded catalog file",
    "catalog_loads.outcome": "created | updated | unchanged",
    "evidence_files.sha256": "SHA-256 of the stored file",
    "evidence_files.media_type": "one of the allowed media types",
    "plan_evidence_files.sha256": "SHA-256 of the stored file",
    "plan_evidence_files.media_type": "one of the allowed media types",
    "reminders.entity_type": "a table-like name set by the code",
    "reminders.kind": "upcoming | overdue",
    "dialog_material_files.sha256": "SHA-256 of the stored file",
    "dialog_material_files.media_type": "one of the allowed media types",
    "case_documents.sha256": "SHA-256 of the stored file",
    "case_documents.media_type": "one of the allowed media types",
    "review_files.sha256": "SHA-256 of the stored file",
    "review_files.media_type": "one of the allowed media types",
    "review_signals.requirement_code": "a catalog requirement's code, chosen from a list",
    "patient_safety_reports.sha256": "SHA-256 of the stored file",
    "patient_safety_reports.media_type": "one of the allowed media types",
    "assignment_report_rows.sha256": "SHA-256 of the stored file",
    "assignment_report_rows.media_type": "one of the allowed media types",
    "api_tokens.prefix": "the first characters of a random token",
    "api_tokens.token_hash": "SHA-256 of the API token",
    "api_token_uses.method": "the HTTP method",
    "api_token_uses.endpoint": "the route's endpoint name, set by the code",
    "calendar_tokens.token_hash": "SHA-256 of the calendar feed's token",
    "outbox_messages.key": "a key built by the code from ids (reminder:17:user:4)",
    "outbox_messages.kind": "one of the notification kinds, set by the code",
    "outbox_messages.claim_token": "a random hex token of the sender that claimed it",
    "outbox_messages.message_id": "the Message-ID built by the code from the id and key",
}


def _text_columns():
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, sa.Enum):
                continue  # values from the enum only (a CHECK constraint holds them there)
            if isinstance(column.type, sa.String | sa.Text | sa.JSON):
                yield f"{table.name}.{column.name}", column


def test_every_text_column_is_guarded_or_has_a_reason():
    unmarked = [
        name
        for name, column in _text_columns()
        if not column.info.get(PERSONAL_TEXT) and name not in NOT_FREE_TEXT
    ]
    assert unmarked == [], (
        "mark these free-text columns with info=personal_text('Fältnamn'), or add them to "
        "NOT_FREE_TEXT with the reason they can hold no typed text"
    )


def test_the_allow_list_names_only_existing_unmarked_columns():
    columns = dict(_text_columns())
    assert [n for n in NOT_FREE_TEXT if n not in columns] == []
    assert [n for n in NOT_FREE_TEXT if columns[n].info.get(PERSONAL_TEXT)] == []


def test_every_marked_column_has_a_swedish_label():
    for name, column in _text_columns():
        if column.info.get(PERSONAL_TEXT):
            assert column.info.get("label"), name


# --- the listeners, on both databases -------------------------------------------------------

NUMBER = synthetic_personnummer(dt.date(1961, 7, 14))


def _dialog(db, **fields):
    unit = make_unit(db)
    dialog = FollowUpDialog(unit_id=unit.id, title=fields.pop("title", "Uppföljning"), **fields)
    db.add(dialog)
    return dialog


def test_a_new_row_with_a_personnummer_is_refused_on_flush(db):
    dialog = _dialog(db, title=f"Uppföljning {NUMBER}")
    with pytest.raises(PersonalDataError) as info:
        db.flush()
    assert (info.value.table, info.value.column) == ("follow_up_dialogs", "title")
    assert str(info.value).startswith(
        "Fältet ”Titel” innehåller något som liknar ett personnummer."
    )
    assert NUMBER not in str(info.value) and NUMBER[-4:] not in str(info.value)
    db.rollback()
    assert dialog not in db
    assert count(db, FollowUpDialog) == 0


def test_a_changed_attribute_is_refused_on_flush(db):
    dialog = _dialog(db)
    db.flush()
    dialog.meeting_place = "Hos " + NUMBER.replace("-", "\u2013")  # en dash
    with pytest.raises(PersonalDataError, match="Plats eller länk"):
        db.flush()


def test_unchanged_rows_are_not_rescanned(db):
    """Only what changes is scanned: a row that somehow holds a number (stored before the
    guard existed) can still be updated in other columns."""
    dialog = _dialog(db)
    db.flush()
    db.execute(
        sa.text("UPDATE follow_up_dialogs SET minutes = :m WHERE id = :id"),
        {"m": NUMBER, "id": dialog.id},
    )
    db.expire(dialog)
    dialog.title = "Ny titel"
    db.flush()


def test_a_related_row_is_refused(db):
    dialog = _dialog(db)
    db.flush()
    dialog.participants.append(DialogParticipant(name=f"Anna {NUMBER}", role_title="annan"))
    with pytest.raises(PersonalDataError, match="”Namn”"):
        db.flush()


def test_json_values_are_scanned_strings_and_whole_numbers(db):
    unit = make_unit(db)
    with pytest.raises(PersonalDataError, match="Händelsens uppgifter"):
        record(db, TEST_ACTOR, "unit", unit.id, "note", after={"rader": [{"text": NUMBER}]})
    db.rollback()
    digits = int(NUMBER.replace("-", ""))
    with pytest.raises(PersonalDataError):
        record(db, TEST_ACTOR, "unit", unit.id, "note", after={"antal": digits})


def test_the_audit_trail_refuses_a_reason_with_a_personnummer(db):
    before = count(db, AuditEvent)
    with pytest.raises(PersonalDataError, match="”Skäl”"):
        record(db, TEST_ACTOR, "unit", 1, "note", reason=f"Gäller {NUMBER}")
    db.rollback()
    assert count(db, AuditEvent) == before


def test_the_field_not_its_audit_event_is_named(db):
    dialog = _dialog(db)
    db.flush()
    dialog.cancel_reason = NUMBER
    db.add(
        AuditEvent(
            id=10**6,
            occurred_at=dt.datetime.now(dt.UTC),
            actor_label="test",
            entity_type="follow_up_dialog",
            entity_id=str(dialog.id),
            action="cancel",
            reason=NUMBER,
            prev_hash="0" * 64,
            hash="f" * 64,
        )
    )
    with pytest.raises(PersonalDataError) as info:
        db.flush()
    assert info.value.table == "follow_up_dialogs"


def test_orm_update_statements_are_scanned(db):
    unit = make_unit(db)
    db.flush()
    with pytest.raises(PersonalDataError, match="”Namn”"):
        db.execute(
            sa.update(audit.models.Unit)
            .where(audit.models.Unit.id == unit.id)
            .values(name=f"Enhet {NUMBER}")
        )
    with pytest.raises(PersonalDataError, match="”Svar”"):
        db.execute(
            sa.update(ChecklistItem)
            .where(ChecklistItem.id == -1)
            .values(value={"comment": NUMBER})
            .execution_options(synchronize_session=False)
        )


def test_orm_insert_statements_are_scanned(db):
    unit = make_unit(db)
    with pytest.raises(PersonalDataError, match="IVO"):
        db.execute(
            sa.insert(IvoReferral),
            [{"unit_id": unit.id, "referred_on": dt.date(2025, 1, 2), "reference": NUMBER}],
        )
    assert count(db, IvoReferral) == 0


@pytest.mark.parametrize(
    "text",
    [
        "Möte 2025-03-01 kl 10.00",
        "Dnr RS 2025/123 och RS 2024/1234",
        "Ring 090-785 00 00 eller 0910-77 10 00",
        "Vite 250 000 kr, nedsättning 1 250 000 kronor",
        "HSA-id SE2321000222-E123",
        "Org.nr 212000-2627",
        "Beslut 2025-03-01 1400",
    ],
)
def test_ordinary_text_is_stored(db, text):
    dialog = _dialog(db, title=text[:200], minutes=text)
    db.flush()
    assert dialog.id is not None
