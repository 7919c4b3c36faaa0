"""Samlad årlig analys (§7.1.4): the list, a year's analysis with its tables, charts and the
purchaser's text, the steps draft → review → published, a new version, and the PDF.

Only Beställarenheten (and the administratör) write and publish; the region's readers — the
läsare (the political leadership), granskare and administratör — read what is published. A
draft is not shown to anyone else (404, as if it did not exist). Health-centre staff do not
reach these pages: the analysis holds every unit's results, and a unit sees only its own.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from web.analysis import bp
from web.database import get_db
from web.forms import BaseForm
from web.pdf import pdf_response
from web.workflow_views import REFUSED, fire_from_form, refusal, timeline
from workflows.analysis import machine as am
from workflows.analysis.charts import chart, percent
from workflows.analysis.models import AnalysisState, AnnualAnalysis, PublishedAnalysisError
from workflows.engine import WorkflowError

YEAR_FIELD = "year"


def _is_author() -> bool:
    return bool(current_user.role_set & am.AUTHORS)


def _analysis(analysis_id: int) -> AnnualAnalysis:
    """The analysis, if this user may read it: a draft or one under review only for its
    authors; otherwise a 404."""
    analysis = get_db().get(AnnualAnalysis, analysis_id)
    if analysis is None or (not analysis.is_published and not _is_author()):
        abort(404)
    return analysis


def cell_text(value) -> str:
    """A table cell as Swedish text: "4 av 6 (67 %)", "75 000", "–"."""
    if value is None:
        return "–"
    if isinstance(value, dict):
        return f"{value['n']:,} av {value['d']:,} ({percent(value)})".replace(",", "\u00a0")
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, int):
        return f"{value:,}".replace(",", "\u00a0")
    if isinstance(value, float):
        return f"{value:,.1f}".replace(",", "\u00a0").replace(".", ",")
    return str(value)


def _charts(tables) -> dict[str, Markup]:
    # Built from the tables' own values, escaped in workflows.analysis.charts.
    return {t.key: Markup(svg) for t in tables if (svg := chart(t))}  # noqa: S704


def _versions(analysis: AnnualAnalysis) -> list[AnnualAnalysis]:
    stmt = sa.select(AnnualAnalysis).where(AnnualAnalysis.year == analysis.year)
    if not _is_author():
        stmt = stmt.where(AnnualAnalysis.status == AnalysisState.PUBLISHED)
    return list(get_db().scalars(stmt.order_by(AnnualAnalysis.version)))


@bp.route("/")
def index():
    return _index_page()


def _index_page(errors=None, posted=None, status=200):
    db = get_db()
    stmt = sa.select(AnnualAnalysis).order_by(
        AnnualAnalysis.year.desc(), AnnualAnalysis.version.desc()
    )
    if not _is_author():
        stmt = stmt.where(AnnualAnalysis.status == AnalysisState.PUBLISHED)
    return (
        render_template(
            "analysis/index.html",
            analyses=db.scalars(stmt).all(),
            labels=am.STATE_LABELS,
            can_write=_is_author(),
            errors=errors or {},
            posted=posted or {},
        ),
        status,
    )


@bp.route("/ny", methods=["POST"])
def new():
    if not BaseForm().validate_on_submit():
        abort(400)
    db = get_db()
    text = (request.form.get("year") or "").strip()
    try:
        year = int(text) if text.isascii() and text.isdigit() and len(text) == 4 else None
        if year is None:
            raise WorkflowError(
                f"Ange uppföljningsåret med fyra siffror ({am.MIN_YEAR}–{am.MAX_YEAR}).",
                guard=YEAR_FIELD,
            )
        analysis = am.start(db, current_user, year)
    except REFUSED as exc:
        db.rollback()
        message, status = refusal(exc, "new", 422)
        return _index_page(errors={"new": message}, posted=request.form, status=status)
    db.commit()
    flash(_("The analysis for %(year)s has been started.", year=analysis.year), "info")
    return redirect(url_for("analysis.show", analysis_id=analysis.id))


def _page(analysis, *, errors=None, posted=None, status=200):
    db = get_db()
    as_of, tables = am.tables(db, analysis)
    author = _is_author()
    editable = author and analysis.status == AnalysisState.DRAFT
    has_draft = any(not v.is_published for v in _versions(analysis)) if author else True
    return (
        render_template(
            "analysis/show.html",
            analysis=analysis,
            tables=tables,
            charts=_charts(tables),
            as_of=as_of,
            cell=cell_text,
            labels=am.STATE_LABELS,
            actions=am.ANALYSIS.available(analysis, current_user),
            editable=editable,
            can_new_version=author and analysis.is_published and not has_draft,
            versions=_versions(analysis),
            timeline=timeline(am.ENTITY, analysis.id) if author else [],
            triggers=am.ANALYSIS.triggers,
            errors=errors or {},
            posted=posted or {},
        ),
        status,
    )


@bp.route("/<int:analysis_id>")
def show(analysis_id):
    return _page(_analysis(analysis_id))


def _posted_texts() -> dict[str, str]:
    return {key: request.form.get(f"text_{key}", "") for key in am.section_keys()}


@bp.route("/<int:analysis_id>/text", methods=["POST"])
def edit(analysis_id):
    analysis = _analysis(analysis_id)
    if not BaseForm().validate_on_submit():
        abort(400)
    db = get_db()
    try:
        am.save_text(
            db,
            current_user,
            analysis,
            title=request.form.get("title", ""),
            introduction=request.form.get("introduction", ""),
            conclusions=request.form.get("conclusions", ""),
            section_texts=_posted_texts(),
        )
    except PublishedAnalysisError as exc:
        db.rollback()
        return _page(db.get(AnnualAnalysis, analysis.id), errors={"text": str(exc)}, status=409)
    except REFUSED as exc:
        db.rollback()
        message, status = refusal(exc, "text", 422)
        return _page(
            db.get(AnnualAnalysis, analysis.id),
            errors={"text": message},
            posted=request.form,
            status=status,
        )
    db.commit()
    flash(_("The text has been saved."), "info")
    return redirect(url_for("analysis.show", analysis_id=analysis.id))


@bp.route("/<int:analysis_id>/atgard/<trigger>", methods=["POST"])
def act(analysis_id, trigger):
    analysis = _analysis(analysis_id)
    return fire_from_form(
        am.ANALYSIS,
        analysis,
        trigger,
        {},
        request.form.get("reason"),
        lambda row, **kw: _page(row, **kw),
        "analysis.show",
        analysis_id=analysis.id,
    )


@bp.route("/<int:analysis_id>/ny-version", methods=["POST"])
def new_version(analysis_id):
    analysis = _analysis(analysis_id)
    if not BaseForm().validate_on_submit():
        abort(400)
    db = get_db()
    try:
        draft = am.new_version(db, current_user, analysis)
    except REFUSED as exc:
        db.rollback()
        message, status = refusal(exc, "new_version")
        return _page(
            db.get(AnnualAnalysis, analysis.id), errors={"new_version": message}, status=status
        )
    db.commit()
    flash(_("Version %(n)s has been drafted.", n=draft.version), "info")
    return redirect(url_for("analysis.show", analysis_id=draft.id))


@bp.route("/<int:analysis_id>/pdf")
def pdf(analysis_id):
    """The analysis as a PDF: as published, or a draft marked "Utkast" on every page."""
    analysis = _analysis(analysis_id)
    as_of, tables = am.tables(get_db(), analysis)
    name = f"arlig-analys-{analysis.year}-v{analysis.version}"
    if not analysis.is_published:
        name += "-utkast"
    return pdf_response(
        "print/analysis.html",
        f"{name}.pdf",
        title=analysis.title,
        analysis=analysis,
        tables=tables,
        charts=_charts(tables),
        as_of=as_of,
        cell=cell_text,
        draft=not analysis.is_published,
        labels=am.STATE_LABELS,
    )


def published_for_start_page():
    """The published analyses for the läsare's start page, newest first."""
    return am.published(get_db())
