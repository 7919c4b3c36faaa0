"""The shared PDF renderer (web/pdf.py): tagged PDF/UA with its title, Swedish text readable
back, and a download response."""

import io

from pypdf import PdfReader

from web.pdf import pdf_response, render_pdf


def test_a_pdf_is_tagged_titled_and_its_text_reads_back(app):
    with app.test_request_context():
        data = render_pdf("print/base.html", title="Årlig analys 2025 – Hälsoval")
    reader = PdfReader(io.BytesIO(data))
    assert reader.metadata.title == "Årlig analys 2025 – Hälsoval"
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root  # tagged
    assert root["/Lang"] == "sv"
    text = reader.pages[0].extract_text()
    assert "Årlig analys 2025" in text
    assert "Sida 1 av 1" in text


def test_a_pdf_needs_a_title(app):
    import pytest

    with app.test_request_context(), pytest.raises(ValueError):
        render_pdf("print/base.html", title="")


def test_the_download_is_an_attachment_not_cached(app):
    with app.test_request_context():
        response = pdf_response("print/base.html", "analys.pdf", title="Analys")
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == 'attachment; filename="analys.pdf"'
    assert "no-store" in response.headers["Cache-Control"]
