"""Filial: a granted application for a branch (§3.9) puts the branch in the unit register.

The unit is created by the register's own loader (:func:`audit.units.load_parsed`), from a
one-unit entry in its file format, so that it is validated and recorded in the trail exactly as a
unit loaded by the region is: kind ``filial``, the applying unit as its main unit, the main
unit's operator and area ("En filial ska drivas av samma organisation/företag som driver
huvudmottagningen"). Flags the application does not state are assumptions, and say so.
"""

from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa
from sqlalchemy.orm import Session

from audit.models import Unit, UnitKind, User
from audit.trail import Actor
from audit.units import UnitFileError, load_parsed, parse_units
from workflows.engine import WorkflowError

CODE_MAX = 64


def branch_code(session: Session, main: Unit, name: str) -> str:
    """A free unit code for the branch: the main unit's code and the branch's name as a slug
    (``backen-rodang``), numbered if taken."""
    folded = unicodedata.normalize("NFKD", name.lower())
    ascii_name = "".join(c for c in folded if not unicodedata.combining(c))
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-") or "filial"
    base = f"{main.code}-{slug}"[: CODE_MAX - 3].rstrip("-")
    taken = set(session.scalars(sa.select(Unit.code).where(Unit.code.like(f"{base}%"))))
    code, n = base, 2
    while code in taken:
        code, n = f"{base}-{n}", n + 1
    return code


def create_branch(session: Session, user: User, case) -> Unit:
    """Skapa filialen under huvudmottagningen (§3.9), when its application is granted."""
    main = case.unit
    if main.kind == UnitKind.FILIAL:
        raise WorkflowError(
            "En filial kan inte ha egna filialer; den knyts till huvudmottagningen."
        )
    details = case.details or {}
    name = " ".join(str(details.get("branch_name") or "").split())
    if not name:
        raise WorkflowError("Ansökan saknar filialens namn.")
    code = branch_code(session, main, name)
    entry = {
        "code": code,
        "name": name,
        "kind": UnitKind.FILIAL.value,
        "operator": main.operator.value,
        "provider": main.provider,
        "area": main.area.value,
        "main_unit": main.code,
        "has_bvc": False,
        "has_mvc": False,
        "sjukvardsgrupp_duty": False,
        "on_region_telephony": main.on_region_telephony,
        "source": (
            f"Beviljad ansökan om filialmottagning (§3.9), ärende {case.id}"
            + (f", diarienummer {case.diarienummer}" if case.diarienummer else "")
            + f". Lokal: {details.get('premises') or 'ej angiven'}."
        ),
        "assumptions": (
            "BVC, MVC och sjukvårdsgrupp antas saknas på filialen och telefonin antas vara "
            "huvudmottagningens, tills registret uppdateras."
        ),
    }
    try:
        parsed = parse_units({"units": [entry]}, "ansökan")
        report = load_parsed(session, Actor.of(user), parsed, "ansökan")
    except UnitFileError as exc:
        raise WorkflowError(f"Filialen kunde inte läggas in i enhetsregistret: {exc}") from None
    if report.created != [code]:  # the code was free a moment ago: never update another unit
        raise WorkflowError("Filialen kunde inte läggas in i enhetsregistret; försök igen.")
    branch = session.scalar(sa.select(Unit).where(Unit.code == code))
    case.branch_unit_id = branch.id
    return branch
