"""Den årliga analysens flöde (§7.1.4): utkast → granskning → publicerad, and the operations
around it — start a year's analysis, write its text, draft a new version of a published one.

"Beställarenheten ansvarar för denna analys" (§7.1.4): only the beställare (and the
administratör) draft, review and publish. Publishing stores the tables as they are that day
(the snapshot); from then on the row cannot change (see ``models``), and a correction is a new
version, drafted from the published one, both readable. Every step is one audit event.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from audit.db import utcnow
from audit.models import Role, User
from audit.trail import Actor, record
from workflows.analysis import sections
from workflows.analysis.models import (
    PUBLISHED_REFUSAL,
    AnalysisState,
    AnnualAnalysis,
    PublishedAnalysisError,
)
from workflows.engine import Trigger, Workflow, WorkflowError

S = AnalysisState
AUTHORS = frozenset({Role.BESTALLARE, Role.ADMIN})
MIN_YEAR, MAX_YEAR = 2000, 2099
MAX_TEXT = 20_000
ENTITY = "annual_analysis"

STATE_LABELS = {
    S.DRAFT: "Utkast",
    S.REVIEW: "Under granskning",
    S.PUBLISHED: "Publicerad",
}


def default_title(year: int) -> str:
    return f"Samlad årlig analys {year} – Hälsoval Västerbotten"


# --- guards ---------------------------------------------------------------------------------


def has_text(analysis, data, session) -> str | None:
    """The purchaser's own words: a published analysis says what the figures mean (§7.1.4:
    "sammanställs och analyseras")."""
    missing = [
        name
        for name, text in (
            ("inledning", analysis.introduction),
            ("slutsatser", analysis.conclusions),
        )
        if not (text or "").strip()
    ]
    if missing:
        return "Skriv " + " och ".join(missing) + " innan analysen publiceras."
    return None


# --- what publishing stores ---------------------------------------------------------------------


def _store_snapshot(analysis, data, session, user):
    as_of, tables = sections.build(session, analysis.year)
    analysis.snapshot = {
        "as_of": as_of.isoformat(),
        "tables": [table.to_json() for table in tables],
    }
    analysis.published_at = utcnow()
    analysis.published_by_id = user.id
    data["as_of"] = as_of.isoformat()
    data["version"] = analysis.version
    data["tables"] = len(tables)


ANALYSIS = Workflow(
    name="Samlad årlig analys",
    entity_type=ENTITY,
    states=AnalysisState,
    initial=S.DRAFT,
    triggers=[
        Trigger(
            name="submit_for_review",
            label="Skicka för granskning",
            source=(S.DRAFT,),
            dest=S.REVIEW,
            roles=AUTHORS,
        ),
        Trigger(
            name="return_to_draft",
            label="Återför till utkast",
            source=(S.REVIEW,),
            dest=S.DRAFT,
            roles=AUTHORS,
        ),
        Trigger(
            name="publish",
            label="Publicera",
            source=(S.REVIEW,),
            dest=S.PUBLISHED,
            roles=AUTHORS,
            guards=("has_text",),
            apply=_store_snapshot,
        ),
    ],
    guards={"has_text": has_text},
    state_labels=STATE_LABELS,
)


# --- operations -----------------------------------------------------------------------------------


def _author(user: User) -> None:
    if not user.role_set & AUTHORS:
        raise WorkflowError("Bara Beställarenheten skriver och publicerar den årliga analysen.")


def _clean(text, label: str, limit: int = MAX_TEXT) -> str:
    value = str(text or "").replace("\r\n", "\n").strip()
    if "\x00" in value:
        raise WorkflowError(f"{label} innehåller ett otillåtet tecken.")
    if len(value) > limit:
        raise WorkflowError(f"{label} får vara högst {limit} tecken.")
    return value


def start(session: Session, user: User, year: int) -> AnnualAnalysis:
    """Påbörja årets analys: version 1 of ``year``, a draft whose tables follow the data."""
    _author(user)
    if not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise WorkflowError(f"Ange uppföljningsåret ({MIN_YEAR}–{MAX_YEAR}).", guard="year")
    existing = session.scalar(
        sa.select(sa.func.count()).select_from(AnnualAnalysis).where(AnnualAnalysis.year == year)
    )
    if existing:
        raise WorkflowError(
            f"Det finns redan en årlig analys för {year}: öppna den, eller gör en ny version "
            "av den publicerade.",
            guard="year",
        )
    analysis = AnnualAnalysis(
        year=year,
        version=1,
        status=S.DRAFT,
        title=default_title(year),
        introduction="",
        conclusions="",
        section_texts={},
        created_by_id=user.id,
    )
    session.add(analysis)
    session.flush()
    record(session, Actor.of(user), ENTITY, analysis.id, "create", after=_summary(analysis))
    return analysis


def save_text(
    session: Session,
    user: User,
    analysis: AnnualAnalysis,
    *,
    title: str,
    introduction: str,
    conclusions: str,
    section_texts: dict[str, str],
) -> None:
    """Skriv analysens text: the title, introduction, conclusions and each section's text —
    only in a draft (a version under review is read, a published one is frozen)."""
    _author(user)
    if analysis.status == S.PUBLISHED:
        raise PublishedAnalysisError()
    if analysis.status != S.DRAFT:
        raise WorkflowError(
            "Texten skrivs i utkastet: återför analysen till utkast för att ändra den."
        )
    title = _clean(title, "Rubriken", 200)
    if not title:
        raise WorkflowError("Ange en rubrik.", guard="title")
    cleaned = {key: _clean(section_texts.get(key), "Avsnittets text") for key in section_keys()}
    texts = {key: text for key, text in cleaned.items() if text}
    before = _texts(analysis)
    analysis.title = title
    analysis.introduction = _clean(introduction, "Inledningen")
    analysis.conclusions = _clean(conclusions, "Slutsatserna")
    analysis.section_texts = texts
    after = _texts(analysis)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if not changed:
        return
    session.flush()
    record(
        session,
        Actor.of(user),
        ENTITY,
        analysis.id,
        "edit_text",
        before={k: before.get(k) for k in changed},
        after={k: after.get(k) for k in changed},
    )


def new_version(session: Session, user: User, published: AnnualAnalysis) -> AnnualAnalysis:
    """Ny version: a draft drafted from a published analysis (its text copied; its tables
    follow today's data until it is published in turn). The published one stays as it was."""
    _author(user)
    if published.status != S.PUBLISHED:
        raise WorkflowError("En ny version görs av en publicerad analys.")
    unpublished = session.scalar(
        sa.select(AnnualAnalysis.version).where(
            AnnualAnalysis.year == published.year, AnnualAnalysis.status != S.PUBLISHED
        )
    )
    if unpublished is not None:
        raise WorkflowError(
            f"Version {unpublished} av analysen för {published.year} är inte publicerad än: "
            "arbeta vidare i den."
        )
    latest = session.scalar(
        sa.select(sa.func.max(AnnualAnalysis.version)).where(AnnualAnalysis.year == published.year)
    )
    draft = AnnualAnalysis(
        year=published.year,
        version=latest + 1,
        status=S.DRAFT,
        title=published.title,
        introduction=published.introduction,
        conclusions=published.conclusions,
        section_texts=dict(published.section_texts or {}),
        previous_id=published.id,
        created_by_id=user.id,
    )
    session.add(draft)
    session.flush()
    record(
        session,
        Actor.of(user),
        ENTITY,
        draft.id,
        "new_version",
        after={**_summary(draft), "previous": published.id},
    )
    return draft


def tables(session: Session, analysis: AnnualAnalysis) -> tuple[dt.date, list[sections.Table]]:
    """The analysis's tables: as published (the snapshot), or today's figures for a draft."""
    if analysis.status == S.PUBLISHED:
        snapshot = analysis.snapshot or {}
        return (
            dt.date.fromisoformat(snapshot["as_of"]),
            [sections.Table.from_json(t) for t in snapshot["tables"]],
        )
    return sections.build(session, analysis.year)


def section_keys() -> list[str]:
    """The keys of the sections (without building them): each function's table key."""
    return [fn.__name__ for fn in sections.SECTIONS]


def published(session: Session) -> list[AnnualAnalysis]:
    """Every published analysis, newest year and version first (what the läsare reads)."""
    return list(
        session.scalars(
            sa.select(AnnualAnalysis)
            .where(AnnualAnalysis.status == S.PUBLISHED)
            .order_by(AnnualAnalysis.year.desc(), AnnualAnalysis.version.desc())
        )
    )


def _summary(analysis: AnnualAnalysis) -> dict:
    return {"year": analysis.year, "version": analysis.version, "title": analysis.title}


def _texts(analysis: AnnualAnalysis) -> dict:
    return {
        "title": analysis.title,
        "introduction": analysis.introduction,
        "conclusions": analysis.conclusions,
        **{f"section:{k}": v for k, v in (analysis.section_texts or {}).items()},
    }


__all__ = [
    "ANALYSIS",
    "PUBLISHED_REFUSAL",
    "PublishedAnalysisError",
    "new_version",
    "published",
    "save_text",
    "section_keys",
    "start",
    "tables",
]
