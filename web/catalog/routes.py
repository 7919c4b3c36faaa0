"""Catalog browser (rulebook order, free-text search, filters) and the edition diff page."""

from __future__ import annotations

import difflib
import json
import re

import sqlalchemy as sa
from flask import abort, render_template, request

from audit.models import Unit
from checklists import answers, applicability
from checklists.catalog import CatalogError, diff_editions
from checklists.models import AnswerType, Assignment, CatalogEdition, Requirement, Severity
from web.catalog import bp
from web.database import get_db

APPLICABILITY_FILTERS = ("all", "privat", "egenregi", "named", "flags", "not_flags")


@bp.route("/")
def index():
    db = get_db()
    rows = db.execute(
        sa.select(CatalogEdition, sa.func.count(Requirement.id))
        .outerjoin(Requirement)
        .group_by(CatalogEdition.id)
        .order_by(CatalogEdition.family, CatalogEdition.year.desc())
    ).all()
    return render_template("catalog/index.html", rows=rows)


@bp.route("/<edition_code>")
def edition(edition_code):
    db = get_db()
    edition = db.scalar(sa.select(CatalogEdition).where(CatalogEdition.code == edition_code))
    if edition is None:
        abort(404)
    args = request.args
    q = (args.get("q") or "").strip()
    filters = {}
    stmt = sa.select(Requirement).where(Requirement.edition_id == edition.id)
    if args.get("area") in {a["code"] for a in edition.areas}:
        filters["area"] = args["area"]
        stmt = stmt.where(Requirement.area == args["area"])
    if args.get("answer_type") in {t.value for t in AnswerType}:
        filters["answer_type"] = args["answer_type"]
        stmt = stmt.where(Requirement.answer_type == AnswerType(args["answer_type"]))
    if args.get("severity") in {s.value for s in Severity}:
        filters["severity"] = args["severity"]
        stmt = stmt.where(Requirement.severity == Severity(args["severity"]))
    if q:
        like = f"%{q}%"
        stmt = stmt.where(
            sa.or_(
                Requirement.code.ilike(like),
                Requirement.heading.ilike(like),
                Requirement.source_text.ilike(like),
                Requirement.question.ilike(like),
                Requirement.section.like(f"{q}%"),
            )
        )
    requirements = db.scalars(stmt.order_by(Requirement.section_key, Requirement.position)).all()
    applicability_filter = args.get("applies")
    if applicability_filter in APPLICABILITY_FILTERS:
        # JSON conditions differ between SQLite and PostgreSQL; the edition is small enough
        # to filter this one criterion after the query.
        filters["applies"] = applicability_filter
        requirements = [
            r for r in requirements if applicability.category(r.applies_to) == applicability_filter
        ]
    total = db.scalar(sa.select(sa.func.count()).where(Requirement.edition_id == edition.id))
    unit_names = dict(db.execute(sa.select(Unit.code, Unit.name)).all())
    assignments = db.scalars(
        sa.select(Assignment)
        .where(Assignment.edition_id == edition.id)
        .order_by(Assignment.position)
    ).all()
    chapters = _group(requirements)
    return render_template(
        "catalog/edition.html",
        edition=edition,
        chapters=chapters,
        count=len(requirements),
        total=total,
        q=q,
        filters=filters,
        unit_names=unit_names,
        assignments={a.code: a for a in assignments},
        AnswerType=AnswerType,
        Severity=Severity,
        APPLICABILITY_FILTERS=APPLICABILITY_FILTERS,
        describe_rule=answers.describe_rule,
        describe_applicability=applicability.describe,
    )


def _group(requirements):
    """[(chapter, [(section, heading, [requirements])])] in the rulebook's order."""
    chapters: list = []
    for requirement in requirements:
        chapter = requirement.section.split(".")[0]
        if not chapters or chapters[-1][0] != chapter:
            chapters.append((chapter, []))
        sections = chapters[-1][1]
        if not sections or sections[-1][0] != requirement.section:
            sections.append((requirement.section, requirement.heading, []))
        sections[-1][2].append(requirement)
    return chapters


def _as_text(value) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return "" if value is None else str(value)


def word_diff(old, new) -> tuple[list, list]:
    """Word-level diff of two values: ([(changed, text)] for old, the same for new), so the
    page marks only the words that changed rather than the whole sentence."""
    a, b = re.findall(r"\S+|\s+", _as_text(old)), re.findall(r"\S+|\s+", _as_text(new))
    left, right = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            left.append((False, "".join(a[i1:i2])))
            right.append((False, "".join(b[j1:j2])))
        else:
            if i2 > i1:
                left.append((True, "".join(a[i1:i2])))
            if j2 > j1:
                right.append((True, "".join(b[j1:j2])))
    return left, right


@bp.route("/jamfor")
def compare():
    db = get_db()
    editions = db.scalars(
        sa.select(CatalogEdition).order_by(CatalogEdition.family, CatalogEdition.year)
    ).all()
    old, new = request.args.get("fran"), request.args.get("till")
    diff = error = None
    if old and new:
        try:
            diff = diff_editions(db, old, new)
        except CatalogError as exc:
            error = str(exc)
    return render_template(
        "catalog/compare.html",
        editions=editions,
        old=old,
        new=new,
        diff=diff,
        error=error,
        word_diff=word_diff,
    )
