"""Enheter: loading the region's units from a YAML file (idempotent and audited)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session

from audit.models import Area, Operator, Unit, UnitKind
from audit.trail import Actor, record

DEFAULT_UNITS_FILE = Path(__file__).with_name("data") / "units.yaml"

_BOOL_FIELDS = ("has_bvc", "has_mvc", "sjukvardsgrupp_duty", "on_region_telephony")
_ENUM_FIELDS = {"kind": UnitKind, "operator": Operator, "area": Area}
_TEXT_FIELDS = ("source", "assumptions")
_KNOWN = {"code", "name", "main_unit", *_BOOL_FIELDS, *_ENUM_FIELDS, *_TEXT_FIELDS}


class UnitFileError(ValueError):
    """An invalid units file; the message names the file, the unit and the field."""


@dataclasses.dataclass
class LoadReport:
    created: list[str] = dataclasses.field(default_factory=list)
    updated: list[str] = dataclasses.field(default_factory=list)
    unchanged: list[str] = dataclasses.field(default_factory=list)


def _parse(path: Path) -> list[dict]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise UnitFileError(f"{path}: ogiltig YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("units"), list):
        raise UnitFileError(f"{path}: filen måste ha en lista 'units'")
    parsed, seen = [], set()
    for index, raw in enumerate(data["units"], start=1):
        where = f"{path}: enhet {index}"
        if not isinstance(raw, dict):
            raise UnitFileError(f"{where}: ska vara en mappning")
        code = raw.get("code")
        if not isinstance(code, str) or not code.strip():
            raise UnitFileError(f"{where}: fältet 'code' saknas")
        where = f"{path}: enhet {code!r}"
        if code in seen:
            raise UnitFileError(f"{where}: koden förekommer två gånger")
        seen.add(code)
        unknown = set(raw) - _KNOWN
        if unknown:
            raise UnitFileError(f"{where}: okänt fält {sorted(unknown)[0]!r}")
        if not isinstance(raw.get("name"), str) or not raw["name"].strip():
            raise UnitFileError(f"{where}: fältet 'name' saknas")
        values = {"code": code, "name": raw["name"].strip()}
        for field, enum_cls in _ENUM_FIELDS.items():
            try:
                values[field] = enum_cls(raw.get(field))
            except ValueError:
                allowed = ", ".join(m.value for m in enum_cls)
                raise UnitFileError(
                    f"{where}: fältet {field!r} har värdet {raw.get(field)!r}; tillåtet: {allowed}"
                ) from None
        for field in _BOOL_FIELDS:
            value = raw.get(field, False if field != "on_region_telephony" else True)
            if not isinstance(value, bool):
                raise UnitFileError(f"{where}: fältet {field!r} ska vara true eller false")
            values[field] = value
        for field in _TEXT_FIELDS:
            values[field] = str(raw.get(field) or "")
        main = raw.get("main_unit")
        if (values["kind"] is UnitKind.FILIAL) != bool(main):
            raise UnitFileError(
                f"{where}: fältet 'main_unit' ska anges för filialer och bara för dem (§3.9)"
            )
        values["main_unit"] = main
        parsed.append(values)
    return parsed


def load_units(session: Session, actor: Actor, path: Path = DEFAULT_UNITS_FILE) -> LoadReport:
    """Läs in enheter: create or update units by code; unchanged units write no event."""
    parsed = _parse(Path(path))
    existing = {u.code: u for u in session.scalars(sa.select(Unit))}
    report = LoadReport()
    # Main units first, so a filial can refer to a unit defined later in the same file.
    for values in sorted(parsed, key=lambda v: v["main_unit"] is not None):
        main_code = values.pop("main_unit")
        if main_code:
            main = existing.get(main_code)
            if main is None:
                raise UnitFileError(
                    f"{path}: enhet {values['code']!r}: huvudenheten {main_code!r} finns inte"
                )
            if main.kind is UnitKind.FILIAL:
                raise UnitFileError(
                    f"{path}: enhet {values['code']!r}: en filial kan inte vara huvudenhet"
                )
            values["main_unit_id"] = main.id
        else:
            values["main_unit_id"] = None
        unit = existing.get(values["code"])
        if unit is None:
            unit = Unit(**values)
            session.add(unit)
            session.flush()
            existing[unit.code] = unit
            record(session, actor, "unit", unit.id, "create", after=unit.snapshot())
            report.created.append(unit.code)
            continue
        before = unit.snapshot()
        for field, value in values.items():
            setattr(unit, field, value)
        after = unit.snapshot()
        if after == before:
            report.unchanged.append(unit.code)
            continue
        session.flush()
        changed = sorted(k for k in after if after[k] != before[k])
        record(
            session,
            actor,
            "unit",
            unit.id,
            "update",
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
        report.updated.append(unit.code)
    return report
