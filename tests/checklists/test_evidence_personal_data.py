"""A personnummer anywhere in an upload is refused, saying where, never what (issue 9,
findings 2 and 6): Excel number cells and formula results, comments, document properties of
Word and Excel, PDF /Info and XMP, PNG text chunks, JPEG EXIF, XMP and comments, the file
name; and archive bombs are refused before any part is parsed.

Each hostile file is built here with the library a person's program would use: openpyxl for
Excel, zipfile for the Word parts, pypdf for PDF, Pillow for images.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import openpyxl
import pytest
from openpyxl.comments import Comment
from PIL import Image, PngImagePlugin
from pypdf import PdfWriter
from pypdf.generic import NameObject, StreamObject

from checklists import evidence
from checklists.evidence import EvidenceError, check_upload, personal_data_refusal
from tests.checklists.test_evidence import CT, docx_parts, make_pdf, make_zip, xlsx_parts
from tests.checklists.test_rounds import synthetic_personnummer

NUMBER = synthetic_personnummer(dt.date(1985, 3, 15))  # YYMMDD-NNNC
DIGITS10 = NUMBER.replace("-", "")
DIGITS12 = "19" + DIGITS10
MiB = 1024 * 1024


def refusal(filename: str, data: bytes) -> str:
    checked = check_upload(filename, data)
    message = personal_data_refusal(checked)
    assert message, "the personnummer was not found"
    for secret in (NUMBER, DIGITS10, DIGITS10[-4:]):
        assert secret not in message
    assert not re.search(r"\d{4}", message.replace(filename, ""))
    return message


# --- Excel --------------------------------------------------------------------------------


def xlsx(build) -> bytes:
    workbook = openpyxl.Workbook()
    build(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("value", [int(DIGITS12), int(DIGITS10), float(DIGITS10)])
def test_xlsx_number_cell(value):
    """A personnummer typed into Excel is stored as a number, not as text."""

    def build(workbook):
        workbook.active["A1"] = "Patient"
        workbook.active["B1"] = value

    assert "i en cell" in refusal("lista.xlsx", xlsx(build))


def test_xlsx_formula_cached_value():
    """A formula's cached result (what Excel shows) holds the number; the formula does not."""
    parts = xlsx_parts()
    parts["xl/worksheets/sheet1.xml"] = (
        f'<worksheet {evidence_ns()}><sheetData><row r="1">'
        f'<c r="A1"><f>B1*1</f><v>{DIGITS10}</v></c>'
        f'<c r="A2" t="str"><f>TEXT(B1,"000000-0000")</f><v>{NUMBER}</v></c>'
        "</row></sheetData></worksheet>"
    )
    message = refusal("formler.xlsx", make_zip(parts))
    assert "två nummer" in message and "i en cell" in message


def evidence_ns() -> str:
    return 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def test_xlsx_number_in_scientific_notation():
    parts = xlsx_parts()
    parts["xl/worksheets/sheet1.xml"] = (
        f'<worksheet {evidence_ns()}><sheetData><row r="1">'
        f'<c r="A1"><v>{DIGITS12[0]}.{DIGITS12[1:]}E+11</v></c></row></sheetData></worksheet>'
    )
    assert "i en cell" in refusal("vetenskaplig.xlsx", make_zip(parts))


def test_xlsx_comment():
    def build(workbook):
        workbook.active["A1"] = "Bemanning"
        workbook.active["A1"].comment = Comment(f"Gäller {NUMBER}", "Vera")

    assert "i en kommentar" in refusal("kommentar.xlsx", xlsx(build))


def test_xlsx_document_properties():
    def build(workbook):
        workbook.active["A1"] = "Bemanning"
        workbook.properties.title = f"Remiss {NUMBER}"

    assert "i dokumentets egenskaper" in refusal("egenskaper.xlsx", xlsx(build))


def test_xlsx_sheet_name_and_header():
    def build(workbook):
        workbook.active.title = DIGITS10
        workbook.active.oddHeader.center.text = "Bemanning"

    assert "i ett bladnamn" in refusal("blad.xlsx", xlsx(build))

    def header(workbook):
        workbook.active["A1"] = "x"
        workbook.active.oddFooter.center.text = f"Patient {NUMBER}"

    assert "i sidhuvud eller sidfot" in refusal("sidfot.xlsx", xlsx(header))


def test_an_ordinary_workbook_is_accepted():
    def build(workbook):
        sheet = workbook.active
        sheet.append(["Datum", "Belopp", "Telefon", "Dnr"])
        sheet.append([dt.date(2025, 3, 1), 1250000, "090-785 00 00", "RS 2025/123"])
        sheet.append([dt.date(2025, 3, 2), 8503.15, "0910-77 10 00", "RS 2024/1234"])
        workbook.properties.title = "Bemanning 2025"
        workbook.properties.creator = "Vera Vik"

    checked = check_upload("bemanning.xlsx", xlsx(build))
    assert personal_data_refusal(checked) is None
    assert "RS 2025/123" in checked.text


# --- Word ---------------------------------------------------------------------------------

CORE = (
    '<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties '
    'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{title}</dc:title>'
    "<dc:creator>{creator}</dc:creator></cp:coreProperties>"
)
CUSTOM = (
    '<?xml version="1.0" encoding="UTF-8"?><Properties '
    'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    '<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="2" name="{name}">'
    "<vt:lpwstr>{value}</vt:lpwstr></property></Properties>"
)


@pytest.mark.parametrize(
    "part, content",
    [
        ("docProps/core.xml", CORE.format(title="Remiss", creator=NUMBER)),
        ("docProps/app.xml", f"<Properties><Company>{DIGITS12}</Company></Properties>"),
        ("docProps/custom.xml", CUSTOM.format(name="Patient", value=NUMBER)),
        ("docProps/custom.xml", CUSTOM.format(name=NUMBER, value="x")),
    ],
)
def test_docx_document_properties(part, content):
    data = make_zip(docx_parts("Rutin för hygien") | {part: content})
    assert "i dokumentets egenskaper" in refusal("rutin.docx", data)


def test_docx_says_each_place():
    data = make_zip(
        docx_parts("Rad ett", f"Patient {NUMBER}")
        | {"docProps/core.xml": CORE.format(title=NUMBER, creator="Vera")}
    )
    message = refusal("rutin.docx", data)
    assert "två nummer" in message
    assert "i texten (rad 2) och i dokumentets egenskaper" in message


# --- PDF ----------------------------------------------------------------------------------


def pdf_with(build) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(make_pdf("Rapport")))
    build(writer)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_pdf_info():
    data = pdf_with(lambda w: w.add_metadata({"/Author": "Vera", "/Subject": f"Pat {NUMBER}"}))
    assert "i dokumentets egenskaper" in refusal("rapport.pdf", data)


def test_pdf_xmp():
    xmp = (
        '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/" '
        f'pdf:Keywords="{NUMBER}"/></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()

    def build(writer):
        stream = StreamObject()
        stream.set_data(xmp)
        stream[NameObject("/Type")] = NameObject("/Metadata")
        stream[NameObject("/Subtype")] = NameObject("/XML")
        writer._root_object[NameObject("/Metadata")] = writer._add_object(stream)

    assert "i dokumentets egenskaper" in refusal("xmp.pdf", pdf_with(build))


def test_pdf_annotation():
    from pypdf.annotations import Text

    def build(writer):
        writer.add_annotation(0, Text(text=f"Se {NUMBER}", rect=(10, 10, 30, 30)))

    assert "i en kommentar" in refusal("kommenterad.pdf", pdf_with(build))


# --- Images -------------------------------------------------------------------------------


def png(info) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


@pytest.mark.parametrize("chunk", ["tEXt", "zTXt", "iTXt", "iTXt compressed"])
def test_png_text_chunks(chunk):
    info = PngImagePlugin.PngInfo()
    if chunk.startswith("iTXt"):
        info.add_itxt("Description", f"Patient {NUMBER}", zip=chunk.endswith("compressed"))
    else:
        info.add_text("Comment", f"Patient {NUMBER}", zip=chunk == "zTXt")
    data = png(info)
    assert chunk[:4].encode() in data
    assert "i bildens metadata" in refusal("skylt.png", data)


def test_png_exif():
    exif = Image.Exif()
    exif[0x013B] = NUMBER  # Artist
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "PNG", exif=exif)
    assert b"eXIf" in buffer.getvalue()
    assert "i bildens metadata" in refusal("exif.png", buffer.getvalue())


def jpeg(**options) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, "JPEG", **options)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "tag, value",
    [
        (0x010E, f"Patient {NUMBER}"),  # ImageDescription
        (0x013B, NUMBER),  # Artist
        (0x9C9C, f"Patient {NUMBER}".encode("utf-16-le") + b"\0\0"),  # XPComment
    ],
)
def test_jpeg_exif(tag, value):
    exif = Image.Exif()
    exif[tag] = value
    assert "i bildens metadata" in refusal("foto.jpg", jpeg(exif=exif))


def test_jpeg_exif_user_comment_in_the_exif_ifd():
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\0\0\0" + f"Patient {NUMBER}".encode()
    assert "i bildens metadata" in refusal("foto.jpeg", jpeg(exif=exif))


def test_jpeg_comment_and_xmp():
    assert "i bildens metadata" in refusal("foto.jpg", jpeg(comment=f"Patient {NUMBER}"))
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><t>{NUMBER}</t></x:xmpmeta>'.encode()
    assert "i bildens metadata" in refusal("xmp.jpg", jpeg(xmp=xmp))


def test_ordinary_images_are_accepted():
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "GIMP 2.10")
    exif = Image.Exif()
    exif[0x0132] = "2025:03:01 14:00:00"  # DateTime
    exif[0x010F] = "Canon"
    for name, data in (("a.png", png(info)), ("a.jpg", jpeg(exif=exif, comment="Umeå"))):
        assert personal_data_refusal(check_upload(name, data)) is None


def test_compressed_png_text_is_inflated_within_a_limit(monkeypatch):
    monkeypatch.setattr(evidence, "MAX_METADATA", 64 * 1024)
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", " " * (1 * MiB), zip=True)
    data = png(info)
    assert len(data) < 10 * 1024
    with pytest.raises(EvidenceError, match="för mycket text"):
        check_upload("bomb.png", data)


# --- File names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filename",
    [
        "Remiss 191212121212.pdf",
        f"Remiss_{NUMBER}.pdf",
        NUMBER.replace("-", "\u2013") + ".docx",
        f"../../{DIGITS10}.txt",
    ],
)
def test_a_personnummer_in_the_file_name_is_refused_without_repeating_it(filename):
    with pytest.raises(EvidenceError) as info:
        check_upload(filename, b"%PDF-1.4 whatever")
    message = str(info.value)
    assert message.startswith("Filnamnet innehåller något som liknar ett personnummer")
    assert not re.search(r"\d", message)


# --- Archive bombs ------------------------------------------------------------------------


class ParseSpy:
    """Counts how often the XML parser is started (and on how many bytes)."""

    def __init__(self, monkeypatch):
        self.calls = 0
        self.bytes = 0
        original = evidence._parse_events

        def spy(raw, *args, **kwargs):
            self.calls += 1
            self.bytes += len(raw)
            return original(raw, *args, **kwargs)

        monkeypatch.setattr(evidence, "_parse_events", spy)


def paragraphs_part(root: str, size: int) -> bytes:
    """A well-formed Word part of ``size`` bytes of empty paragraphs: parseable, and small
    compressed."""
    head = (
        f'<?xml version="1.0" encoding="UTF-8"?><w:{root} '
        'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    ).encode()
    tail = f"</w:{root}>".encode()
    return head + b"<w:p/>" * ((size - len(head) - len(tail)) // 6) + tail


def test_a_small_docx_that_inflates_far_beyond_the_cap_is_refused_before_parsing(monkeypatch):
    """The attack's file: many members of 1 MB each (under the per-member ratio rule), in
    all 99 MB of well-formed XML from a file of a few hundred kB."""
    spy = ParseSpy(monkeypatch)
    header = paragraphs_part("hdr", MiB)
    parts = docx_parts("Rutin") | {f"word/header{n}.xml": header for n in range(1, 100)}
    data = make_zip(parts)
    assert len(data) < MiB
    with pytest.raises(EvidenceError) as info:
        check_upload("bomb.docx", data)
    assert "zip-bomb" in str(info.value) and "”bomb.docx”" in str(info.value)
    assert spy.calls == 0


def test_a_highly_compressed_archive_under_the_total_cap_is_refused_before_parsing(
    monkeypatch,
):
    spy = ParseSpy(monkeypatch)
    header = paragraphs_part("hdr", MiB)
    data = make_zip(docx_parts("Rutin") | {f"word/header{n}.xml": header for n in range(1, 11)})
    with pytest.raises(EvidenceError, match="zip-bomb"):
        check_upload("tio.docx", data)
    assert spy.calls == 0


def test_an_xlsx_with_too_much_xml_to_parse_is_refused_before_parsing(monkeypatch):
    monkeypatch.setattr(evidence, "MAX_PARSED_XML", 256 * 1024)
    spy = ParseSpy(monkeypatch)
    parts = xlsx_parts()
    parts["xl/worksheets/sheet2.xml"] = (
        f"<worksheet {evidence_ns()}><sheetData>"
        + "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(1, 20000))
        + "</sheetData></worksheet>"
    )
    with pytest.raises(EvidenceError, match="för mycket text eller för många delar"):
        check_upload("stor.xlsx", make_zip(parts))
    assert spy.calls == 0


def test_parsing_stops_after_the_element_bound(monkeypatch):
    monkeypatch.setattr(evidence, "MAX_XML_ELEMENTS", 500)
    data = make_zip(docx_parts(*(f"Stycke {n}" for n in range(400))))
    with pytest.raises(EvidenceError, match="för mycket text eller för många delar"):
        check_upload("lang.docx", data)


def test_a_pdf_with_too_many_pages_is_refused(monkeypatch):
    monkeypatch.setattr(evidence, "MAX_PDF_PAGES", 3)
    writer = PdfWriter()
    for _ in range(4):
        writer.add_blank_page(width=100, height=100)
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(EvidenceError, match="för mycket text eller för många delar"):
        check_upload("sidor.pdf", buffer.getvalue())


def test_ct_is_the_minimal_content_types_part():
    assert zipfile.is_zipfile(io.BytesIO(make_zip({"[Content_Types].xml": CT})))
