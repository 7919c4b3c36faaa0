"""PDF documents (utskrifter): the annual analysis, a unit's checklist, dialog minutes and
decision letters rendered from HTML templates with WeasyPrint, tagged (PDF/UA-1) and in Swedish.

Every PDF template extends ``print/base.html`` and is laid out for A4 by ``static/print.css``;
the stylesheet and font configuration are built once per process, not per request.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

from flask import current_app, render_template
from flask.wrappers import Response

PDF_MIMETYPE = "application/pdf"


@functools.cache
def _weasy():
    """WeasyPrint's stylesheet and font configuration, built once (importing WeasyPrint and
    parsing the stylesheet costs far more than rendering a short document)."""
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    css_path = Path(__file__).parent / "static" / "print.css"
    return CSS(filename=str(css_path), font_config=fonts), fonts


def render_pdf(template: str, **context) -> bytes:
    """Render ``template`` (extending ``print/base.html``) to a tagged PDF/UA-1 document.
    ``context`` must hold ``title``: it becomes the document title in the PDF metadata, which
    PDF/UA requires and screen readers announce."""
    from weasyprint import HTML

    if not context.get("title"):
        raise ValueError("a PDF needs a title")
    context.setdefault("printed_on", dt.date.today().isoformat())
    stylesheet, fonts = _weasy()
    html = render_template(template, **context)
    document = HTML(string=html, base_url=current_app.static_folder)
    return document.write_pdf(
        stylesheets=[stylesheet], font_config=fonts, pdf_variant="pdf/ua-1", pdf_tags=True
    )


def pdf_response(template: str, filename: str, **context) -> Response:
    """A PDF download (``Content-Disposition: attachment``) of ``template``."""
    response = current_app.response_class(render_pdf(template, **context), mimetype=PDF_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
