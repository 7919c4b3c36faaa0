"""Personuppgiftsspärr for every stored text: one declaration per column, one enforcement.

Free text in this system must never hold patient data (a personnummer or samordningsnummer),
and what is stored also lands in the append-only audit trail for good. Rather than every
operation remembering to check its fields, each free-text column says so where it is defined::

    title: Mapped[str] = mapped_column(sa.String(200), info=personal_text("Titel"))

and two listeners on the ``Session`` class (so on every session, web request or command line)
refuse to store a value that holds such a number:

* ``before_flush`` scans the marked attributes of every new object and the changed ones of
  every modified object (strings, and the strings and whole numbers inside JSON values);
* ``do_orm_execute`` scans the values of ORM-enabled ``insert()`` / ``update()`` statements
  run through a session (``session.execute(sa.update(Model).values(...))``), which bypass the
  flush.

A refusal raises :class:`PersonalDataError` before anything reaches the database. Its message
says which field ("Fältet ”Titel” innehåller något som liknar ett personnummer …"), never the
number, and nothing here logs anything. The web layer turns it into a field error beside the
form field (see ``web/personal_data.py``). ``tests/test_personal_data.py`` walks the metadata
and fails for any String/Text/JSON column that is neither marked nor on its short, reasoned
allow-list, so a new column cannot be forgotten.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapper, ORMExecuteState, Session

from audit import pii

PERSONAL_TEXT = "personal_text"

__all__ = ["PERSONAL_TEXT", "PersonalDataError", "personal_text", "scan_value"]


def personal_text(label: str) -> dict[str, Any]:
    """The ``info`` of a free-text column: guarded, with the Swedish field name for messages."""
    return {PERSONAL_TEXT: True, "label": label}


class PersonalDataError(ValueError):
    """A value that holds a personnummer or samordningsnummer was about to be stored.

    ``table`` and ``column`` say where (for the web layer to find the form field), ``label``
    is the Swedish field name; the message names the field, never the number.
    """

    def __init__(self, table: str, column: str, label: str, hits: list[pii.Hit]) -> None:
        self.table = table
        self.column = column
        self.label = label
        self.kind = hits[0].kind
        super().__init__(describe(label, hits))


def describe(label: str, hits: list[pii.Hit]) -> str:
    """'Fältet ”Titel” innehåller något som liknar ett personnummer. …' -- never the number."""
    kinds = {hit.kind for hit in hits}
    if len(hits) == 1:
        what = f"något som liknar ett {hits[0].kind}"
        it = "numret"
    else:
        kind = (
            next(iter(kinds))
            if len(kinds) == 1
            else f"{pii.PERSONNUMMER} eller {pii.SAMORDNINGSNUMMER}"
        )
        what = f"{pii.count_word(len(hits))} nummer som liknar {kind}"
        it = "numren"
    return (
        f"Fältet ”{label}” innehåller {what}. Personuppgifter om patienter får inte lämnas "
        f"här – ta bort {it} och spara igen."
    )


def _texts(value: Any) -> Iterator[str]:
    """The strings in a value: itself, or those in a JSON structure; whole numbers too (a
    personnummer typed into a number field arrives as one)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        yield str(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(key)
            yield from _texts(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _texts(item)


def scan_value(value: Any) -> list[pii.Hit]:
    """The identity numbers in a stored value (empty when there are none)."""
    hits: list[pii.Hit] = []
    for text in _texts(value):
        hits += pii.find_identity_numbers(text)
    return hits


# --- which columns -----------------------------------------------------------------------

_GUARDED: dict[Mapper, tuple[tuple[str, sa.Column], ...]] = {}


def _guarded(mapper: Mapper) -> tuple[tuple[str, sa.Column], ...]:
    """(attribute key, column) of every marked column of a mapped class, cached."""
    found = _GUARDED.get(mapper)
    if found is None:
        found = tuple(
            (attr.key, attr.columns[0])
            for attr in mapper.column_attrs
            # A computed column_property (an expression, not a column) holds no text.
            if isinstance(attr.columns[0], sa.Column) and attr.columns[0].info.get(PERSONAL_TEXT)
        )
        _GUARDED[mapper] = found
    return found


def _refusal(column: sa.Column, value: Any) -> PersonalDataError | None:
    hits = scan_value(value)
    if not hits:
        return None
    return PersonalDataError(
        column.table.name, column.name, column.info.get("label") or column.name, hits
    )


# Rows of the trail are checked last: when a field and its audit event both hold the number,
# the refusal names the field the person typed in, not the event.
_CHECKED_LAST = frozenset({"audit_events"})


@event.listens_for(Session, "before_flush")
def _refuse_personal_data_on_flush(session: Session, flush_context, instances) -> None:
    refusals: list[PersonalDataError] = []
    for obj in (*session.new, *session.dirty):
        state = sa.inspect(obj)
        is_new = state.key is None
        for key, column in _guarded(state.mapper):
            if is_new:
                value = state.dict.get(key)
            else:
                history = state.attrs[key].history
                if not history.added:
                    continue
                value = history.added
            refusal = _refusal(column, value)
            if refusal is not None:
                refusals.append(refusal)
                break
    if refusals:
        refusals.sort(key=lambda r: r.table in _CHECKED_LAST)
        raise refusals[0]


@event.listens_for(Session, "do_orm_execute")
def _refuse_personal_data_in_statements(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update):
        return
    statement = state.statement
    table = getattr(statement, "table", None)
    if table is None or not any(c.info.get(PERSONAL_TEXT) for c in table.columns):
        return
    for values in _statement_values(statement, state.parameters):
        for key, value in values.items():
            column = _column(table, key)
            if column is None or not column.info.get(PERSONAL_TEXT):
                continue
            refusal = _refusal(column, value)
            if refusal is not None:
                raise refusal


def _statement_values(statement, parameters) -> Iterator[dict]:
    """The values an insert/update statement sets: .values(...), multi-row .values([...]),
    and the parameters it is executed with."""
    if getattr(statement, "_values", None):
        yield {key: _plain(value) for key, value in statement._values.items()}
    for row in getattr(statement, "_multi_values", None) or ():
        for entry in row:
            if isinstance(entry, dict):
                yield {key: _plain(value) for key, value in entry.items()}
    if isinstance(parameters, dict):
        yield parameters
    elif isinstance(parameters, list | tuple):
        yield from (p for p in parameters if isinstance(p, dict))


def _plain(value: Any) -> Any:
    """The Python value of a bound parameter (other SQL expressions carry no typed text)."""
    if isinstance(value, sa.BindParameter):
        return value.value
    if isinstance(value, sa.ClauseElement):
        return None
    return value


def _column(table: sa.Table, key: Any) -> sa.Column | None:
    if isinstance(key, sa.Column):
        return key if key.table is table else table.columns.get(key.key)
    name = getattr(key, "key", key)
    if not isinstance(name, str):
        return None
    return table.columns.get(name)
