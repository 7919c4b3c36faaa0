"""Kravkatalog: reading, validating and storing catalog editions, and comparing editions.

An edition is one YAML file (FORMAT.md). Loading validates everything first, with errors that
name the file, the item and the field; it is idempotent (the same file again changes nothing)
and recorded (file hash, who, when) in ``catalog_loads`` and in the audit trail. A changed file
updates its edition in place, by requirement code, unless checklists already hold answers to
requirements it removes or re-types: then it needs an edition code of its own.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session

from audit.trail import Actor, record
from checklists import answers, applicability
from checklists.answers import parse_mmdd
from checklists.models import (
    AnswerType,
    Assignment,
    CatalogEdition,
    CatalogLoad,
    Recurrence,
    Requirement,
    RequirementKind,
    Severity,
)
from checklists.rounds import ChecklistItem

EDITIONS_DIR = Path(__file__).with_name("editions")
# libyaml's safe loader parses an edition ten times faster than the pure-Python one.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
EDITION_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9.-]*$")
SECTION_RE = re.compile(r"^\d+(\.\d+)*$")
ITEM_REQUIRED = (
    "code",
    "section",
    "heading",
    "area",
    "kind",
    "source_text",
    "question",
    "answer",
    "applies_to",
    "recurrence",
    "severity",
    "evidence",
)
ITEM_OPTIONAL = ("deadline", "note", "assignment")
# Column sizes, checked here so that a long value gets a clear message on every database.
MAX_LENGTH = {
    "code": 120,
    "section": 200,
    "heading": 300,
    "title": 300,
    "family": 32,
    "source_file": 200,
}


class CatalogError(ValueError):
    """An invalid edition file; the message names the file, the item and the field."""


def section_key(section: str, position: int = 0) -> str:
    """Sort key in the rulebook's order: "2.10" after "2.9"; unnumbered sections (the
    tilläggsuppdrag) keep the file's order."""
    if SECTION_RE.match(section):
        return ".".join(f"{int(part):03d}" for part in section.split("."))
    return f"~{position:05d}"


@dataclasses.dataclass
class ParsedEdition:
    """A validated edition file, ready to store."""

    path: Path
    sha256: str
    meta: dict
    areas: list[dict]
    items: list[dict]
    assignments: list[dict]


def _fail(path: Path, where: str, message: str) -> CatalogError:
    return CatalogError(f"{path.name}: {where}: {message}")


def _text(path, where, data, field, *, required=True) -> str | None:
    value = data.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, where, f"fältet {field!r} saknas eller är tomt")
    value = " ".join(value.split()) if field != "description" else value.strip()
    if field in MAX_LENGTH and len(value) > MAX_LENGTH[field]:
        raise _fail(path, where, f"fältet {field!r} får vara högst {MAX_LENGTH[field]} tecken")
    return value


def _enum(path, where, data, field, enum_cls):
    value = data.get(field)
    try:
        return enum_cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum_cls)
        raise _fail(
            path, where, f"fältet {field!r} har värdet {value!r}; tillåtet: {allowed}"
        ) from None


def parse_edition(path: Path) -> ParsedEdition:
    """Read and validate an edition file; raise :class:`CatalogError` on the first problem.

    Parsing depends only on the file's bytes, so a file already parsed is not parsed again
    (a copy is returned: callers may change what they get)."""
    path = Path(path)
    raw_bytes = path.read_bytes()
    parsed = _parse_bytes(path.name, raw_bytes)
    return dataclasses.replace(copy.deepcopy(parsed), path=path)


@functools.lru_cache(maxsize=16)
def _parse_bytes(name: str, raw_bytes: bytes) -> ParsedEdition:
    path = Path(name)
    try:
        data = yaml.load(raw_bytes.decode("utf-8"), Loader=_YAML_LOADER)  # noqa: S506 (safe)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path.name}: ogiltig YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogError(f"{path.name}: filen ska vara en mappning med edition, areas, items")
    unknown = set(data) - {"edition", "areas", "items", "assignments"}
    if unknown:
        raise CatalogError(f"{path.name}: okänd nyckel {sorted(unknown)[0]!r}")

    meta_raw = data.get("edition")
    if not isinstance(meta_raw, dict):
        raise CatalogError(f"{path.name}: 'edition' saknas")
    meta = {}
    for field in ("code", "family", "title", "source"):
        meta[field] = _text(path, "edition", meta_raw, field)
    meta["source_file"] = _text(path, "edition", meta_raw, "source_file", required=False)
    if not EDITION_CODE_RE.match(meta["code"]):
        raise _fail(path, "edition", "fältet 'code' ska vara versaler, siffror, . och -")
    if not isinstance(meta_raw.get("year"), int):
        raise _fail(path, "edition", "fältet 'year' ska vara ett årtal")
    meta["year"] = meta_raw["year"]

    areas = data.get("areas")
    if not isinstance(areas, list) or not areas:
        raise CatalogError(f"{path.name}: 'areas' ska vara en lista")
    area_codes = set()
    for index, area in enumerate(areas, start=1):
        if not isinstance(area, dict) or not area.get("code") or not area.get("title"):
            raise _fail(path, f"område {index}", "code och title krävs")
        area_codes.add(area["code"])
    areas = [{"code": a["code"], "title": a["title"]} for a in areas]

    assignments = _parse_assignments(path, data.get("assignments") or [], area_codes)
    assignment_codes = {a["code"] for a in assignments}

    raw_items = data.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise CatalogError(f"{path.name}: 'items' ska vara en icke-tom lista")
    items, seen = [], set()
    for index, raw in enumerate(raw_items, start=1):
        items.append(_parse_item(path, index, raw, area_codes, assignment_codes, seen))
    return ParsedEdition(
        path, hashlib.sha256(raw_bytes).hexdigest(), meta, areas, items, assignments
    )


def _parse_item(path, index, raw, area_codes, assignment_codes, seen) -> dict:
    if not isinstance(raw, dict):
        raise _fail(path, f"punkt {index}", "ska vara en mappning")
    code = raw.get("code")
    if not isinstance(code, str) or not CODE_RE.match(code) or len(code) > MAX_LENGTH["code"]:
        raise _fail(path, f"punkt {index}", "fältet 'code' saknas eller har otillåtna tecken")
    where = f"punkt {code!r}"
    if code in seen:
        raise _fail(path, where, "koden förekommer två gånger")
    seen.add(code)
    unknown = set(raw) - set(ITEM_REQUIRED) - set(ITEM_OPTIONAL)
    if unknown:
        raise _fail(path, where, f"okänt fält {sorted(unknown)[0]!r}")
    missing = [f for f in ITEM_REQUIRED if f not in raw]
    if missing:
        raise _fail(path, where, f"fältet {missing[0]!r} saknas")
    item: dict[str, Any] = {"code": code}
    section = " ".join(str(raw["section"]).split())
    if len(section) > MAX_LENGTH["section"]:
        raise _fail(path, where, f"fältet 'section' får vara högst {MAX_LENGTH['section']} tecken")
    # Rulebook items have numbered sections; tilläggsuppdrag items name their assignment.
    if not SECTION_RE.match(section) and not raw.get("assignment"):
        raise _fail(path, where, f"fältet 'section' har värdet {section!r}; t.ex. \"2.6.3\"")
    item["section"] = section
    for field in ("heading", "source_text", "question", "evidence"):
        item[field] = _text(path, where, raw, field)
    item["note"] = _text(path, where, raw, "note", required=False)
    if raw["area"] not in area_codes:
        raise _fail(
            path, where, f"fältet 'area' har värdet {raw['area']!r} som inte finns bland areas"
        )
    item["area"] = raw["area"]
    item["kind"] = _enum(path, where, raw, "kind", RequirementKind)
    item["recurrence"] = _enum(path, where, raw, "recurrence", Recurrence)
    item["severity"] = _enum(path, where, raw, "severity", Severity)
    deadline = raw.get("deadline")
    if deadline is not None:
        try:
            parse_mmdd(deadline)
        except ValueError:
            raise _fail(
                path, where, f"fältet 'deadline' har värdet {deadline!r}; ska vara MM-DD"
            ) from None
    item["deadline"] = deadline
    answer = raw["answer"]
    if not isinstance(answer, dict):
        raise _fail(path, where, "fältet 'answer' ska vara en mappning med type")
    item["answer_type"] = _enum(path, where, answer, "type", AnswerType)
    params = {k: v for k, v in answer.items() if k != "type"}
    if isinstance(params.get("expected"), bool):
        # YAML 1.1 reads a bare yes/no as a boolean; both spellings mean the same here.
        params["expected"] = "yes" if params["expected"] else "no"
    try:
        answers.check_params(item["answer_type"], params)
    except answers.ParamError as exc:
        raise _fail(path, where, f"fältet 'answer.{exc.field}': {exc}") from None
    item["answer_params"] = params
    try:
        applicability.check(raw["applies_to"])
    except applicability.ApplicabilityError as exc:
        raise _fail(path, where, f"fältet 'applies_to.{exc.field}': {exc}") from None
    item["applies_to"] = raw["applies_to"]
    assignment = raw.get("assignment")
    if assignment is not None and assignment not in assignment_codes:
        raise _fail(
            path,
            where,
            f"fältet 'assignment' har värdet {assignment!r} som inte finns bland assignments",
        )
    item["assignment_code"] = assignment
    return item


def _parse_assignments(path, raw_list, area_codes) -> list[dict]:
    if not isinstance(raw_list, list):
        raise CatalogError(f"{path.name}: 'assignments' ska vara en lista")
    result, seen = [], set()
    for index, raw in enumerate(raw_list, start=1):
        if not isinstance(raw, dict) or not isinstance(raw.get("code"), str):
            raise _fail(path, f"tilläggsuppdrag {index}", "fältet 'code' saknas")
        where = f"tilläggsuppdrag {raw['code']!r}"
        if not CODE_RE.match(raw["code"]) or raw["code"] in seen:
            raise _fail(path, where, "koden har otillåtna tecken eller förekommer två gånger")
        seen.add(raw["code"])
        if raw.get("area") not in area_codes:
            raise _fail(
                path,
                where,
                f"fältet 'area' har värdet {raw.get('area')!r} som inte finns bland areas",
            )
        compensation = raw.get("compensation") or []
        for row in compensation:
            if not isinstance(row, dict) or not isinstance(row.get("tkr"), int | float):
                raise _fail(path, where, "varje rad i 'compensation' behöver tkr")
        result.append(
            {
                "code": raw["code"],
                "title": _text(path, where, raw, "title"),
                "description": _text(path, where, raw, "description"),
                "area": raw["area"],
                "units": list(raw.get("units") or []),
                "performers": list(raw.get("performers") or []),
                "compensation": compensation,
                "total_tkr": raw.get("total_tkr"),
                "note": _text(path, where, raw, "note", required=False),
            }
        )
    return result


# --- storing ---------------------------------------------------------------------------------


@dataclasses.dataclass
class LoadResult:
    edition: CatalogEdition
    outcome: str  # created | updated | unchanged
    added: list[str] = dataclasses.field(default_factory=list)
    removed: list[str] = dataclasses.field(default_factory=list)
    changed: list[str] = dataclasses.field(default_factory=list)


def load_edition(session: Session, actor: Actor, path: Path) -> LoadResult:
    """Läs in en katalogutgåva: create it, update it in place (by requirement code), or leave
    it unchanged when the file's hash is the one already loaded. Every load is recorded."""
    parsed = parse_edition(path)
    meta = parsed.meta
    edition = session.scalar(sa.select(CatalogEdition).where(CatalogEdition.code == meta["code"]))
    result: LoadResult
    if edition is not None and edition.file_sha256 == parsed.sha256:
        result = LoadResult(edition, "unchanged")
    elif edition is None:
        edition = CatalogEdition(
            **meta, areas=parsed.areas, file_name=parsed.path.name, file_sha256=parsed.sha256
        )
        session.add(edition)
        session.flush()
        _store_items(session, edition, parsed)
        result = LoadResult(edition, "created", added=[i["code"] for i in parsed.items])
        record(
            session,
            actor,
            "catalog_edition",
            edition.id,
            "create",
            after={
                "code": edition.code,
                "file_sha256": parsed.sha256,
                "requirements": len(parsed.items),
                "assignments": len(parsed.assignments),
            },
        )
    else:
        _refuse_changes_under_answers(session, edition, parsed)
        before_hash = edition.file_sha256
        for field, value in meta.items():
            setattr(edition, field, value)
        edition.areas = parsed.areas
        edition.file_name = parsed.path.name
        edition.file_sha256 = parsed.sha256
        added, removed, changed = _store_items(session, edition, parsed)
        result = LoadResult(edition, "updated", added, removed, changed)
        record(
            session,
            actor,
            "catalog_edition",
            edition.id,
            "update",
            before={"file_sha256": before_hash},
            after={
                "file_sha256": parsed.sha256,
                "added": added,
                "removed": removed,
                "changed": changed,
            },
        )
    session.add(
        CatalogLoad(
            edition_id=edition.id,
            file_name=parsed.path.name,
            file_sha256=parsed.sha256,
            actor_label=actor.label,
            outcome=result.outcome,
        )
    )
    session.flush()
    return result


# What an answer's stored value depends on: change one of these under a stored answer and the
# answer no longer fits its requirement (a yes/no where a count is expected).
ANSWER_FIELDS = ("answer_type", "answer_params", "recurrence")


def _refuse_changes_under_answers(session, edition, parsed) -> None:
    """An edition already put to units in a round may be corrected in place only where no
    checklist depends on it: a requirement with checklist items is neither removed nor given
    another answer. Otherwise the corrected file needs an edition code of its own, so that the
    answered checklists keep the questions they answered (and the edition diff shows the
    change). Checked before anything is changed."""
    in_use = session.execute(
        sa.select(
            Requirement.code,
            Requirement.answer_type,
            Requirement.answer_params,
            Requirement.recurrence,
        ).where(
            Requirement.edition_id == edition.id,
            sa.exists().where(ChecklistItem.requirement_id == Requirement.id),
        )
    ).all()
    if not in_use:
        return
    items = {item["code"]: item for item in parsed.items}
    blocked = []
    for code, answer_type, answer_params, recurrence in in_use:
        item = items.get(code)
        if item is None or (
            (str(answer_type), answer_params, str(recurrence))
            != (str(item["answer_type"]), item["answer_params"], str(item["recurrence"]))
        ):
            blocked.append(code)
    if blocked:
        shown = ", ".join(sorted(blocked)[:5]) + (" …" if len(blocked) > 5 else "")
        raise CatalogError(
            f"{parsed.path.name}: utgåvan {edition.code} används redan i uppföljningsomgångar, "
            f"och filen tar bort eller ändrar svaret på {len(blocked)} krav som finns i "
            f"checklistor ({shown}). Ge den rättade filen en egen utgåvekod (t.ex. "
            f"{edition.code}.2) så att besvarade checklistor behåller sina frågor."
        )


def _store_items(session, edition, parsed) -> tuple[list[str], list[str], list[str]]:
    existing = {
        r.code: r
        for r in session.scalars(sa.select(Requirement).where(Requirement.edition_id == edition.id))
    }
    added, changed = [], []
    for position, item in enumerate(parsed.items, start=1):
        values = {
            **item,
            "position": position,
            "section_key": section_key(item["section"], position),
        }
        requirement = existing.pop(item["code"], None)
        if requirement is None:
            session.add(Requirement(edition_id=edition.id, **values))
            added.append(item["code"])
            continue
        before = requirement.snapshot()
        for field, value in values.items():
            setattr(requirement, field, value)
        if requirement.snapshot() != before:
            changed.append(item["code"])
    removed = sorted(existing)
    for requirement in existing.values():
        session.delete(requirement)
    old_assignments = {
        a.code: a
        for a in session.scalars(sa.select(Assignment).where(Assignment.edition_id == edition.id))
    }
    for position, values in enumerate(parsed.assignments, start=1):
        assignment = old_assignments.pop(values["code"], None)
        if assignment is None:
            session.add(Assignment(edition_id=edition.id, position=position, **values))
        else:
            for field, value in values.items():
                setattr(assignment, field, value)
            assignment.position = position
    for assignment in old_assignments.values():
        session.delete(assignment)
    session.flush()
    return added, removed, changed


def default_edition_files() -> list[Path]:
    """The editions shipped with the system (checklists/editions/*.yaml)."""
    return sorted(EDITIONS_DIR.glob("*.yaml"))


# --- comparing editions ----------------------------------------------------------------------

TEXT_FIELDS = ("source_text", "question", "heading", "section", "evidence")
RULE_FIELDS = (
    "answer_type",
    "answer_params",
    "applies_to",
    "severity",
    "deadline",
    "recurrence",
    "kind",
)


@dataclasses.dataclass
class Change:
    code: str
    text_fields: list[str]
    rule_fields: list[str]
    old: dict
    new: dict


@dataclasses.dataclass
class EditionDiff:
    """Jämförelse mellan utgåvor: added, removed, changed text, changed rule."""

    old: CatalogEdition
    new: CatalogEdition
    added: list[Requirement]
    removed: list[Requirement]
    changed: list[Change]

    @property
    def text_changed(self) -> list[Change]:
        return [c for c in self.changed if c.text_fields]

    @property
    def rule_changed(self) -> list[Change]:
        return [c for c in self.changed if c.rule_fields]


def diff_editions(session: Session, old_code: str, new_code: str) -> EditionDiff:
    """Compare two editions requirement by requirement (codes are stable across editions)."""
    editions = {
        e.code: e
        for e in session.scalars(
            sa.select(CatalogEdition).where(CatalogEdition.code.in_([old_code, new_code]))
        )
    }
    for code in (old_code, new_code):
        if code not in editions:
            raise CatalogError(f"Utgåvan {code!r} finns inte.")
    old, new = editions[old_code], editions[new_code]
    rows = session.scalars(
        sa.select(Requirement)
        .where(Requirement.edition_id.in_([old.id, new.id]))
        .order_by(Requirement.section_key, Requirement.position)
    ).all()
    old_items = {r.code: r for r in rows if r.edition_id == old.id}
    new_items = {r.code: r for r in rows if r.edition_id == new.id}
    added = [r for code, r in new_items.items() if code not in old_items]
    removed = [r for code, r in old_items.items() if code not in new_items]
    changed = []
    for code, new_item in new_items.items():
        old_item = old_items.get(code)
        if old_item is None:
            continue
        a, b = old_item.snapshot(), new_item.snapshot()
        text = [f for f in TEXT_FIELDS if a[f] != b[f]]
        rule = [f for f in RULE_FIELDS if a[f] != b[f]]
        if text or rule:
            changed.append(Change(code, text, rule, a, b))
    return EditionDiff(old, new, added, removed, changed)


# --- the verbatim check ----------------------------------------------------------------------

_LINK_RE = re.compile(r"\[([^\]]*)\]\(#\)")
_ESCAPE_RE = re.compile(r"\\([^\w\s])")


def normalise(text: str) -> str:
    """FORMAT.md's normalisation: links to their text, no escapes, no '*', single spaces."""
    text = _LINK_RE.sub(r"\1", text)
    text = _ESCAPE_RE.sub(r"\1", text)
    text = text.replace("*", "")
    return " ".join(text.split())


def quotes_not_in_source(parsed: ParsedEdition, source_text: str) -> list[str]:
    """Codes of items whose ``source_text`` does not occur in the source document."""
    haystack = normalise(source_text)
    return [item["code"] for item in parsed.items if normalise(item["source_text"]) not in haystack]
