"""Tillämplighet: which units a requirement applies to, from the unit's attributes.

``applies_to`` is a mapping whose conditions must all hold (FORMAT.md): operator, kinds, named
units, flags that must be true and flags that must be false. The same rule is available as a
Python predicate (one unit) and as a SQL condition (every unit at once, for opening a round).
"""

from __future__ import annotations

import sqlalchemy as sa

from audit.models import Operator, Unit, UnitKind

FLAGS = {
    "has_bvc": "har BVC",
    "has_mvc": "har MVC",
    "sjukvardsgrupp_duty": "ska kunna bistå med sjukvårdsgrupp (§2.12)",
    "on_region_telephony": "är ansluten till regionens växelplattform (§6.9)",
    "has_filial": "har en filial (§3.9)",
}
NOT_FLAGS = {
    "has_bvc": "saknar BVC",
    "has_mvc": "saknar MVC",
    "sjukvardsgrupp_duty": "saknar sjukvårdsgruppsuppdrag",
    "on_region_telephony": "ligger utanför regionens växelplattform (§6.9)",
    "has_filial": "saknar filial",
}
KEYS = {"operator", "kinds", "units", "flags", "not_flags"}
# The kinds of unit Uppdrag och regler binds. A unit of any other kind (a verksamhet med
# tilläggsuppdrag such as Kompetenscentrum för Mödra- och Barnhälsovård, seed 000) is reached
# only by a rule that names its kind or the unit itself, never by the rulebook's "every unit",
# its operator or its flags.
RULEBOOK_KINDS = (UnitKind.HALSOCENTRAL, UnitKind.SJUKSTUGA, UnitKind.FILIAL)


class ApplicabilityError(ValueError):
    """Invalid ``applies_to``; ``field`` names the key."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check(applies_to: dict) -> None:
    """Validate an ``applies_to`` mapping."""
    if not isinstance(applies_to, dict):
        raise ApplicabilityError("applies_to", "applies_to ska vara en mappning ({} = alla)")
    unknown = set(applies_to) - KEYS
    if unknown:
        raise ApplicabilityError(sorted(unknown)[0], f"okänd nyckel {sorted(unknown)[0]!r}")
    if "operator" in applies_to and applies_to["operator"] not in {o.value for o in Operator}:
        raise ApplicabilityError("operator", "operator ska vara egenregi eller privat")
    for key, allowed in (
        ("kinds", {k.value for k in UnitKind}),
        ("flags", set(FLAGS)),
        ("not_flags", set(FLAGS)),
        ("units", None),
    ):
        if key not in applies_to:
            continue
        values = applies_to[key]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ApplicabilityError(key, f"{key} ska vara en lista")
        if allowed is not None and set(values) - allowed:
            raise ApplicabilityError(key, f"okänt värde {sorted(set(values) - allowed)[0]!r}")


def applies(applies_to: dict, unit: Unit) -> bool:
    """Whether a requirement applies to ``unit``."""
    if _names_no_kind(applies_to) and unit.kind not in RULEBOOK_KINDS:
        return False
    if "operator" in applies_to and unit.operator != applies_to["operator"]:
        return False
    if "kinds" in applies_to and unit.kind not in applies_to["kinds"]:
        return False
    if "units" in applies_to and unit.code not in applies_to["units"]:
        return False
    if not all(getattr(unit, flag) for flag in applies_to.get("flags", [])):
        return False
    return not any(getattr(unit, flag) for flag in applies_to.get("not_flags", []))


def _names_no_kind(applies_to: dict) -> bool:
    return "kinds" not in applies_to and "units" not in applies_to


def condition(applies_to: dict) -> sa.ColumnElement[bool]:
    """The same rule as a SQL condition on ``units``."""
    clauses: list[sa.ColumnElement[bool]] = []
    if _names_no_kind(applies_to) and set(UnitKind) - set(RULEBOOK_KINDS):
        clauses.append(Unit.kind.in_(RULEBOOK_KINDS))
    if "operator" in applies_to:
        clauses.append(Unit.operator == Operator(applies_to["operator"]))
    if "kinds" in applies_to:
        clauses.append(Unit.kind.in_([UnitKind(k) for k in applies_to["kinds"]]))
    if "units" in applies_to:
        clauses.append(Unit.code.in_(applies_to["units"]) if applies_to["units"] else sa.false())
    clauses.extend(getattr(Unit, flag).is_(True) for flag in applies_to.get("flags", []))
    clauses.extend(getattr(Unit, flag).is_(False) for flag in applies_to.get("not_flags", []))
    return sa.and_(sa.true(), *clauses)


def category(applies_to: dict) -> str:
    """A filter category: all, operator, named units, flags (for the catalog browser)."""
    if not applies_to:
        return "all"
    if "units" in applies_to:
        return "named"
    if "operator" in applies_to:
        return applies_to["operator"]
    if applies_to.get("not_flags"):
        return "not_flags"
    return "flags"


def describe(applies_to: dict, unit_names: dict[str, str] | None = None) -> str:
    """Applicability in Swedish, e.g. "Privata hälsocentraler" or "Enheter som har BVC"."""
    if not applies_to:
        return "Alla enheter"
    parts = []
    if "operator" in applies_to:
        parts.append(
            "privat drivna enheter" if applies_to["operator"] == "privat" else "enheter i egen regi"
        )
    if "kinds" in applies_to:
        names = {
            "halsocentral": "hälsocentraler",
            "sjukstuga": "sjukstugor",
            "filial": "filialer",
            "verksamhet": "verksamheter med tilläggsuppdrag",
        }
        parts.append(" och ".join(names[k] for k in applies_to["kinds"]))
    if "units" in applies_to:
        units = applies_to["units"]
        if not units:
            parts.append("inga enheter i enhetsregistret")
        else:
            names = [(unit_names or {}).get(code, code) for code in units]
            parts.append("namngivna enheter: " + ", ".join(names))
    for flag in applies_to.get("flags", []):
        parts.append("enheter som " + FLAGS[flag])
    for flag in applies_to.get("not_flags", []):
        parts.append("enheter som " + NOT_FLAGS[flag])
    text = "; ".join(parts)
    return text[0].upper() + text[1:]
