"""Enheter: the unit register -- loading and exporting the units file, and creating and editing
one unit (from the file or the administratör's form) with the same rules; audited."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session

from audit.models import Area, Operator, Unit, UnitKind
from audit.trail import Actor, record

DEFAULT_UNITS_FILE = Path(__file__).with_name("data") / "units.yaml"

BOOL_FIELDS = ("has_bvc", "has_mvc", "sjukvardsgrupp_duty", "on_region_telephony", "active")
_BOOL_DEFAULTS = {"on_region_telephony": True, "active": True}
_ENUM_FIELDS = {"kind": UnitKind, "operator": Operator, "area": Area}
_TEXT_FIELDS = ("provider", "source", "assumptions")
_KNOWN = {"code", "name", "main_unit", *BOOL_FIELDS, *_ENUM_FIELDS, *_TEXT_FIELDS}
# The order of the fields in an exported file (the order of the seed file).
FILE_FIELDS = (
    "code",
    "name",
    "kind",
    "main_unit",
    "operator",
    "provider",
    "area",
    "has_bvc",
    "has_mvc",
    "sjukvardsgrupp_duty",
    "on_region_telephony",
    "active",
    "source",
    "assumptions",
)
# What a verksamhet med tilläggsuppdrag cannot have, with the message beside the field.
VERKSAMHET_FALSE = {
    "has_bvc": "En verksamhet med tilläggsuppdrag har ingen egen BVC; det har hälsocentralerna.",
    "has_mvc": "En verksamhet med tilläggsuppdrag har ingen egen MVC; det har hälsocentralerna.",
    "sjukvardsgrupp_duty": (
        "Sjukvårdsgruppsuppdraget (§2.12) gäller hälsocentraler och sjukstugor, inte en "
        "verksamhet med tilläggsuppdrag."
    ),
}
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# Codes that would collide with the unit pages' own addresses (/enheter/ny, ...).
RESERVED_CODES = frozenset({"ny", "import", "export"})
NAME_MAX, PROVIDER_MAX = 200, 200

FILE_HEADER = """\
# Enheter i Hälsoval Västerbotten, exported from the unit register.
#
# Fields: code (stable key), name, kind (halsocentral | sjukstuga | filial | verksamhet: a
# regional service reporting a tilläggsuppdrag), main_unit (code, filial only), operator
# (egenregi | privat), provider (the private unit's vårdgivare), area (umea | skelleftea |
# sodra_lappland), has_bvc, has_mvc, sjukvardsgrupp_duty (§2.12),
# on_region_telephony (§6.9), active, source, assumptions. Load with `halsoval units load FILE`
# or on the page Enheter › Importera.
"""


class UnitFileError(ValueError):
    """An invalid units file; the message names the file, the unit and the field."""


class UnitError(ValueError):
    """A refused unit (enhet): ``field`` names the field, the message is Swedish."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclasses.dataclass
class LoadReport:
    created: list[str] = dataclasses.field(default_factory=list)
    updated: list[str] = dataclasses.field(default_factory=list)
    unchanged: list[str] = dataclasses.field(default_factory=list)


def check_code(code: str) -> str:
    """Enhetskod: a stable key of lower-case a–z, digits, - and _ (at most 64)."""
    if not CODE_RE.match(code or ""):
        raise UnitError("code", "Koden får bara innehålla a–z, siffror, - och _ (högst 64 tecken).")
    if code in RESERVED_CODES:
        raise UnitError("code", f"Koden {code!r} är reserverad; välj en annan.")
    return code


def parse_units(data, source: str) -> list[dict]:
    """The units of a parsed units file (``{"units": [...]}``), validated; ``source`` names
    the file in messages."""
    if not isinstance(data, dict) or not isinstance(data.get("units"), list):
        raise UnitFileError(f"{source}: filen måste ha en lista 'units'")
    parsed, seen = [], set()
    for index, raw in enumerate(data["units"], start=1):
        where = f"{source}: enhet {index}"
        if not isinstance(raw, dict):
            raise UnitFileError(f"{where}: ska vara en mappning")
        code = raw.get("code")
        if not isinstance(code, str) or not code.strip():
            raise UnitFileError(f"{where}: fältet 'code' saknas")
        where = f"{source}: enhet {code!r}"
        try:
            check_code(code)
        except UnitError as exc:
            raise UnitFileError(f"{where}: {exc}") from None
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
        for field in BOOL_FIELDS:
            value = raw.get(field, _BOOL_DEFAULTS.get(field, False))
            if not isinstance(value, bool):
                raise UnitFileError(f"{where}: fältet {field!r} ska vara true eller false")
            values[field] = value
        for field in _TEXT_FIELDS:
            values[field] = str(raw.get(field) or "").strip()
        main = raw.get("main_unit")
        if main is not None and not isinstance(main, str):
            raise UnitFileError(f"{where}: fältet 'main_unit' ska vara en enhetskod")
        values["main_unit"] = main or None
        try:
            _check_values(values)
        except UnitError as exc:
            raise UnitFileError(f"{where}: fältet {exc.field!r}: {exc}") from None
        parsed.append(values)
    return parsed


def _check_values(values: dict) -> None:
    """The rules every unit meets, from the file or the form."""
    if len(values["name"]) > NAME_MAX:
        raise UnitError("name", f"Namnet får vara högst {NAME_MAX} tecken.")
    if len(values.get("provider", "")) > PROVIDER_MAX:
        raise UnitError("provider", f"Vårdgivaren får vara högst {PROVIDER_MAX} tecken.")
    if values.get("provider") and values["operator"] is not Operator.PRIVAT:
        raise UnitError("provider", "Vårdgivare anges bara för privata enheter.")
    if (values["kind"] is UnitKind.FILIAL) != bool(values.get("main_unit")):
        raise UnitError(
            "main_unit", "Huvudmottagning ska anges för filialer och bara för dem (§3.9)."
        )
    if values["kind"] is UnitKind.VERKSAMHET:
        # A verksamhet med tilläggsuppdrag is no health centre: what the rulebook asks of a
        # health centre's BVC, MVC and §2.12 duty cannot be true of it (seed 000, §2.12).
        for field in VERKSAMHET_FALSE:
            if values.get(field):
                raise UnitError(field, VERKSAMHET_FALSE[field])


def _parse_file(path: Path) -> list[dict]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise UnitFileError(f"{path}: ogiltig YAML: {exc}") from exc
    return parse_units(data, str(path))


def parse_units_text(text: str, source: str) -> list[dict]:
    """The units of a units file's text (an upload)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (rad {mark.line + 1})" if mark is not None else ""
        raise UnitFileError(f"{source}: filen är inte giltig YAML{line}.") from None
    return parse_units(data, source)


def save_unit(session: Session, actor: Actor, unit: Unit | None, values: dict) -> Unit | None:
    """Skapa eller ändra enhet: ``unit`` None creates one. ``values`` holds the file's fields
    (``main_unit`` a code). One trail event with the changed fields; none if nothing changed
    (then ``None`` is returned)."""
    values = dict(values)
    if unit is None:
        check_code(values["code"])
    _check_values(values)
    main_code = values.pop("main_unit", None)
    if main_code:
        main = session.scalar(sa.select(Unit).where(Unit.code == main_code))
        if main is None:
            raise UnitError("main_unit", f"Huvudmottagningen {main_code!r} finns inte.")
        if main.kind is UnitKind.FILIAL:
            raise UnitError("main_unit", "En filial kan inte vara huvudmottagning.")
        if main.kind is UnitKind.VERKSAMHET:
            raise UnitError(
                "main_unit",
                "En verksamhet med tilläggsuppdrag kan inte ha filialer; huvudmottagningen är "
                "en hälsocentral eller sjukstuga (§3.9).",
            )
        if unit is not None and main.id == unit.id:
            raise UnitError("main_unit", "En enhet kan inte vara sin egen huvudmottagning.")
        values["main_unit_id"] = main.id
    else:
        values["main_unit_id"] = None
    if unit is not None and values["kind"] in (UnitKind.FILIAL, UnitKind.VERKSAMHET):
        has_branches = session.scalar(
            sa.select(sa.func.count()).select_from(Unit).where(Unit.main_unit_id == unit.id)
        )
        if has_branches:
            raise UnitError(
                "kind",
                "Enheten har filialer och kan därför inte själv vara filial."
                if values["kind"] is UnitKind.FILIAL
                else "Enheten har filialer och kan därför inte vara en verksamhet med "
                "tilläggsuppdrag (§3.9).",
            )
    if unit is None:
        code = check_code(values["code"])
        if session.scalar(sa.select(Unit.id).where(Unit.code == code)) is not None:
            raise UnitError("code", f"Det finns redan en enhet med koden {code!r}.")
        unit = Unit(**values)
        session.add(unit)
        session.flush()
        record(session, actor, "unit", unit.id, "create", after=unit.snapshot())
        return unit
    values.pop("code", None)  # the stable key never changes
    before = unit.snapshot()
    for field, value in values.items():
        setattr(unit, field, value)
    after = unit.snapshot()
    if after == before:
        return None
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
    return unit


def load_units(session: Session, actor: Actor, path: Path = DEFAULT_UNITS_FILE) -> LoadReport:
    """Läs in enheter: create or update units by code; unchanged units write no event."""
    return load_parsed(session, actor, _parse_file(Path(path)), str(path))


def load_parsed(session: Session, actor: Actor, parsed: list[dict], source: str) -> LoadReport:
    """Läs in enheter from parsed units (see :func:`parse_units`)."""
    existing = {u.code: u for u in session.scalars(sa.select(Unit))}
    report = LoadReport()
    # Main units first, so a filial can refer to a unit defined later in the same file.
    for values in sorted(parsed, key=lambda v: v["main_unit"] is not None):
        unit = existing.get(values["code"])
        try:
            saved = save_unit(session, actor, unit, values)
        except UnitError as exc:
            raise UnitFileError(
                f"{source}: enhet {values['code']!r}: fältet {exc.field!r}: {exc}"
            ) from None
        if unit is None:
            existing[saved.code] = saved
            report.created.append(saved.code)
        elif saved is None:
            report.unchanged.append(unit.code)
        else:
            report.updated.append(unit.code)
    return report


def export_units(session: Session) -> str:
    """Exportera enheter: every unit in the units file's format (loading it changes nothing)."""
    units = session.scalars(sa.select(Unit).order_by(Unit.code)).all()
    codes = {u.id: u.code for u in units}
    rows = []
    for unit in units:
        snap = unit.snapshot()
        row = {}
        for field in FILE_FIELDS:
            if field == "main_unit":
                if unit.main_unit_id is not None:
                    row["main_unit"] = codes[unit.main_unit_id]
                continue
            value = snap[field]
            if field == "provider" and not value:
                continue
            row[field] = value
        rows.append(row)
    body = yaml.safe_dump(
        {"units": rows}, allow_unicode=True, sort_keys=False, width=100, default_flow_style=False
    )
    return FILE_HEADER + body
