"""Text that can be stored on both databases, checked where it is assigned.

PostgreSQL refuses a NUL character in any text and more characters than a ``VARCHAR(n)``
holds; SQLite accepts both silently. So the same input was a 500 on one database and stored on
the other. Every ``String``/``Text`` column of every model is checked when a value is assigned
to it (a ``set`` listener installed on each mapped column as the mappers are configured, so a
new column is covered without anyone remembering): a NUL or an over-long value raises
:class:`TextRefused` with a Swedish message, before anything reaches the database. Web forms
refuse the same earlier, with the limit taken from the column (:func:`max_length`).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapper


class TextRefused(ValueError):
    """A text that cannot be stored; the message is Swedish and safe to show (it never
    repeats the text)."""


def max_length(column) -> int | None:
    """The number of characters ``column`` (a model attribute or a ``Column``) holds, or
    None when it has no limit (``Text``)."""
    column = getattr(column, "expression", column)
    length = getattr(column.type, "length", None)
    return length if isinstance(column.type, sa.String) else None


def text_problem(value: str, length: int | None) -> str | None:
    """Why ``value`` cannot be stored in a column of ``length`` characters, or None."""
    if "\x00" in value:
        return "Texten innehåller ett osynligt tecken (NUL) som inte kan sparas. Ta bort det."
    if length is not None and len(value) > length:
        return f"Texten får vara högst {length} tecken lång (den är {len(value)})."
    return None


def _listener(length: int | None):
    def check(target, value, oldvalue, initiator):
        if isinstance(value, str):
            problem = text_problem(value, length)
            if problem:
                raise TextRefused(problem)
        return value

    return check


@event.listens_for(Mapper, "mapper_configured")
def _install(mapper: Mapper, class_) -> None:
    for prop in mapper.column_attrs:
        if len(prop.columns) != 1 or prop.parent is not mapper:
            continue
        column = prop.columns[0]
        if not isinstance(column.type, sa.String) or isinstance(column.type, sa.Enum):
            continue  # enums are checked against their members
        event.listen(getattr(class_, prop.key), "set", _listener(max_length(column)), retval=True)
