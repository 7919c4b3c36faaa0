"""Export routes. Each sits under the page it exports and resolves its unit the same way
(``checklist_id``, ``dialog_id``, ``case_id`` in web/access.py), so a health centre exports
only its own unit's documents and a round's workbook only holds the units the user may see.

- ``/checklistor/<id>/utskrift.pdf`` — a unit's checklist with answers and evaluations;
- ``/dialoger/<id>/minnesanteckningar.pdf`` — the dialog's minutes (once the meeting is held);
- ``/sanktioner/<id>/beslut.pdf`` — the decision letter, the same text as its page;
- ``/omgangar/<id>/resultat.xlsx`` — the round's results, findings and action plans;
- ``/granskningslogg/export.csv?fran=…&till=…`` — the audit trail of a period.
"""

from __future__ import annotations

import io
import re
from collections import Counter

import sqlalchemy as sa
from flask import abort, g, request, send_file
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import selectinload
from wtforms import DateField
from wtforms.validators import InputRequired

from audit.access import restrict_to_visible
from checklists import operations as ops
from checklists.answers import Status
from checklists.rounds import Checklist, Finding, Round
from checklists.sections import section_of, task_list
from web.database import get_db
from web.exports import bp
from web.exports.auditcsv import write_trail
from web.exports.spreadsheet import round_workbook
from web.forms import BaseForm
from web.pdf import pdf_response
from web.validators import date_in_range
from workflows import dialog as wf
from workflows import sanction as sc
from workflows.models import DialogFinding, DialogState

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATUS_ORDER = [
    Status.COMPLIANT,
    Status.PARTLY_COMPLIANT,
    Status.NON_COMPLIANT,
    Status.NOT_APPLICABLE,
    Status.TO_REVIEW,
    Status.NOT_ANSWERED,
]


def filename(*parts: str) -> str:
    """A download's file name from its parts: ASCII letters, digits and dashes only (the
    header must not carry anything a user typed as is)."""
    text = "-".join(str(p) for p in parts if p)
    for a, b in (("å", "a"), ("ä", "a"), ("ö", "o"), ("Å", "A"), ("Ä", "A"), ("Ö", "O")):
        text = text.replace(a, b)
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-")[:120] or "export"


@bp.route("/checklistor/<int:checklist_id>/utskrift.pdf")
def checklist_pdf(checklist_id):
    """Checklistan som PDF: every item's answer, evaluation and the reviewer's judgement,
    by the rulebook's sections, with a summary of the assessments and the findings."""
    db = get_db()
    checklist = g.checklist
    items = ops.load_items(db, checklist)
    titles = {s.key: s.title for s in task_list(db, checklist.id).sections}
    sections: list[tuple[str, str, list]] = []
    for item in items:
        key = section_of(item.requirement.section)
        if not sections or sections[-1][0] != key:
            sections.append((key, titles.get(key, ""), []))
        sections[-1][2].append(item)
    tally = Counter(item.status for item in items)
    findings = db.scalars(
        sa.select(Finding)
        .where(Finding.item_id.in_([i.id for i in items]))
        .options(selectinload(Finding.requirement))
        .order_by(Finding.id)
    ).all()
    title = _("Checklist: %(unit)s", unit=checklist.unit.name)
    return pdf_response(
        "print/checklist.html",
        filename("checklista", checklist.unit.code, checklist.round.year, checklist.id) + ".pdf",
        title=title,
        checklist=checklist,
        items=items,
        sections=sections,
        summary=[(s, tally[s]) for s in STATUS_ORDER if tally[s]],
        findings=findings,
    )


@bp.route("/dialoger/<int:dialog_id>/minnesanteckningar.pdf")
def dialog_pdf(dialog_id):
    """Minnesanteckningar från uppföljningsmötet (§7.1.1) as PDF; none before the meeting."""
    dialog = g.dialog
    if not dialog.minutes or dialog.status not in (DialogState.MEETING_HELD, DialogState.CLOSED):
        abort(404)
    findings = (
        get_db()
        .scalars(
            sa.select(DialogFinding)
            .where(DialogFinding.dialog_id == dialog.id)
            .options(selectinload(DialogFinding.finding).selectinload(Finding.requirement))
            .order_by(DialogFinding.id)
        )
        .all()
    )
    return pdf_response(
        "print/dialog_minutes.html",
        filename("minnesanteckningar", dialog.unit.code, dialog.id) + ".pdf",
        title=_("Minutes: %(title)s", title=dialog.title),
        dialog=dialog,
        findings=findings,
        labels=wf.STATE_LABELS,
    )


@bp.route("/sanktioner/<int:case_id>/beslut.pdf")
def letter_pdf(case_id):
    """Beslutsbrevet som PDF: the same text as the letter's page (sanctions/_letter.html)."""
    from web.sanctions.routes import letter_context

    context = letter_context(g.case)
    case = context["case"]
    return pdf_response(
        "print/sanction_letter.html",
        filename("beslut", case.unit.code, case.diarienummer or case.case_number or case.id)
        + ".pdf",
        title=_("Decision: %(decision)s", decision=sc.DECISION_LABELS[case.decision]),
        **context,
    )


@bp.route("/omgangar/<int:round_id>/resultat.xlsx")
def round_xlsx(round_id):
    """Omgångens resultat i Excel (web/exports/spreadsheet.py), only the units I may see."""
    db = get_db()
    round_ = db.get(Round, round_id, options=[selectinload(Round.edition)])
    if round_ is None or not _sees_a_checklist_of(db, round_):
        abort(404)
    data = round_workbook(db, round_, current_user)
    response = send_file(
        io.BytesIO(data),
        mimetype=XLSX,
        as_attachment=True,
        download_name=filename("resultat", round_.title, round_.year) + ".xlsx",
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _sees_a_checklist_of(db, round_: Round) -> bool:
    """A region role sees every round; a unit only the rounds it has a checklist in (as in
    the API's list of rounds)."""
    if current_user.sees_all_units:
        return True
    stmt = restrict_to_visible(
        sa.select(Checklist.id).where(Checklist.round_id == round_.id).limit(1),
        current_user,
        Checklist.unit_id,
    )
    return db.scalar(stmt) is not None


class PeriodForm(BaseForm):
    """Period för export av granskningsloggen: first and last day, inclusive."""

    class Meta:
        csrf = False  # a GET that only reads

    fran = DateField(
        _l("From"),
        validators=[InputRequired(_l("Enter a date as YYYY-MM-DD.")), date_in_range],
        render_kw={"class": "short"},
    )
    till = DateField(
        _l("To"),
        validators=[InputRequired(_l("Enter a date as YYYY-MM-DD.")), date_in_range],
        render_kw={"class": "short"},
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if valid and self.till.data < self.fran.data:
            self.till.errors = [_("The last day cannot be before the first.")]
            valid = False
        return valid


@bp.route("/granskningslogg/export.csv")
def audit_csv():
    """Granskningsloggen för en period som CSV; a bad period shows the page with the error."""
    form = PeriodForm(formdata=request.args)
    if not form.validate():
        from web.auditlog.routes import render_index

        return render_index(period=form, status=422)
    out = write_trail(get_db(), form.fran.data, form.till.data)
    response = send_file(
        out,
        mimetype="text/csv",
        as_attachment=True,
        download_name=f"granskningslogg-{form.fran.data}-{form.till.data}.csv",
    )
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Cache-Control"] = "private, no-store"
    return response
