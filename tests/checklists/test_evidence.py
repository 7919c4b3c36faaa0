"""Underlag: upload validation, text extraction and the content-addressed store.

Every file is built in the test itself: PDFs by hand or with pypdf, Word and Excel files with
zipfile and minimal XML parts, images as bare headers.
"""

import hashlib
import io
import os
import stat
import zipfile

import pytest
from pypdf import PdfReader, PdfWriter

from checklists import evidence
from checklists.evidence import (
    ALLOWED,
    MAX_FILE_SIZE,
    CheckedFile,
    EvidenceError,
    EvidenceStore,
    check_upload,
    sanitise_filename,
)

MiB = 1024 * 1024

# --- Builders ------------------------------------------------------------------------------


def make_pdf(text: str = "Hej varlden") -> bytes:
    """A minimal one-page PDF with ``text`` in Helvetica, with a correct xref table."""
    content = f"BT /F1 12 Tf 72 712 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def make_encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt(user_password="", owner_password="hemligt", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
S = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
CT = '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'  # noqa: E501


def word_part(root: str, *paragraphs: str) -> str:
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    return f'<?xml version="1.0" encoding="UTF-8"?><w:{root} {W}>{body}</w:{root}>'


def make_zip(parts: dict[str, str | bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as zf:
        for name, content in parts.items():
            zf.writestr(name, content)
    return buffer.getvalue()


def docx_parts(*paragraphs: str) -> dict[str, str | bytes]:
    document = (
        f'<?xml version="1.0" encoding="UTF-8"?><w:document {W}><w:body>'
        + "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
        + "</w:body></w:document>"
    )
    return {"[Content_Types].xml": CT, "word/document.xml": document}


def make_docx(*paragraphs: str, **extra: str | bytes) -> bytes:
    return make_zip(docx_parts(*paragraphs) | extra)


def xlsx_parts() -> dict[str, str | bytes]:
    return {
        "[Content_Types].xml": CT,
        "xl/workbook.xml": f'<workbook {S}><sheets><sheet name="Blad1" sheetId="1"/></sheets>'
        "</workbook>",
        "xl/sharedStrings.xml": f'<sst {S} count="2"><si><t>Läkare</t></si>'
        "<si><r><t>Distrikts</t></r><r><t>sköterska</t></r><rPh><t>x</t></rPh></si></sst>",
        "xl/worksheets/sheet1.xml": f'<worksheet {S}><sheetData><row r="1">'
        '<c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>Bemanning</t></is></c>'
        '<c r="C1"><v>42</v></c></row></sheetData></worksheet>',
    }


PNG = evidence.PNG_MAGIC + b"\x00\x00\x00\rIHDR" + b"\x00\x00\x00\x01" * 2 + b"\x08\x02\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
PDF = make_pdf()
DOCX = make_docx("Rutin för hygien", "Gäller från 2025")
XLSX = make_zip(xlsx_parts())


def refused(filename: str, data: bytes, **kwargs) -> str:
    """The Swedish message of the refusal, which must name the sanitised file."""
    with pytest.raises(EvidenceError) as info:
        check_upload(filename, data, **kwargs)
    message = str(info.value)
    assert f"”{sanitise_filename(filename) or 'namnlös fil'}”" in message
    return message


# --- Accepted files ------------------------------------------------------------------------


def test_the_hand_made_pdf_is_readable_by_pypdf():
    assert "Hej" in PdfReader(io.BytesIO(PDF)).pages[0].extract_text()


@pytest.mark.parametrize(
    "filename, data, text",
    [
        ("rapport.pdf", PDF, ["Hej varlden"]),
        ("rutin.docx", DOCX, ["Rutin för hygien\nGäller från 2025"]),
        ("bemanning.xlsx", XLSX, ["Läkare", "Distriktssköterska", "Bemanning"]),
        ("notering.txt", "Åtgärd klar".encode(), ["Åtgärd klar"]),
        ("skylt.png", PNG, None),
        ("foto.jpg", JPEG, None),
        ("foto.jpeg", JPEG, None),
    ],
)
def test_each_allowed_type_is_accepted(filename, data, text):
    checked = check_upload(filename, data)
    ext = filename.rpartition(".")[2]
    assert isinstance(checked, CheckedFile)
    assert checked.filename == filename
    assert checked.extension == ext
    assert checked.media_type == ALLOWED[ext][0]
    assert checked.size == len(data)
    assert checked.sha256 == hashlib.sha256(data).hexdigest()
    if text is None:
        assert checked.text is None
    else:
        for fragment in text:
            assert fragment in checked.text


def test_allowed_table():
    assert set(ALLOWED) == {"pdf", "docx", "xlsx", "txt", "png", "jpg", "jpeg"}
    assert ALLOWED["jpg"] == ALLOWED["jpeg"] == ("image/jpeg", "JPEG-bild")
    assert MAX_FILE_SIZE == 20 * MiB


def test_docx_text_includes_headers_footers_and_comments_in_order():
    data = make_docx(
        "Brödtext",
        **{
            "word/header1.xml": word_part("hdr", "Sidhuvud"),
            "word/footer1.xml": word_part("ftr", "Sidfot"),
            "word/comments.xml": word_part("comments", "Kommentar av granskare"),
            "word/media/image1.png": PNG,
        },
    )
    assert check_upload("a.docx", data).text == "Brödtext\nSidhuvud\nSidfot\nKommentar av granskare"


def test_xlsx_text_skips_phonetic_runs_and_numbers():
    assert check_upload("a.xlsx", XLSX).text == "Läkare\nDistriktssköterska\nBemanning"


@pytest.mark.parametrize(
    "data, text",
    [
        ("Vårdcentral Öst".encode("cp1252"), "Vårdcentral Öst"),  # not UTF-8: cp1252 fallback
        (b"\xef\xbb\xbfMed BOM", "Med BOM"),
    ],
)
def test_txt_encodings(data, text):
    assert check_upload("a.txt", data).text == text


def test_extension_is_case_insensitive():
    checked = check_upload("RAPPORT.PDF", PDF)
    assert (checked.filename, checked.extension, checked.media_type) == (
        "RAPPORT.PDF",
        "pdf",
        "application/pdf",
    )


# --- Size and extension --------------------------------------------------------------------


def test_empty_file_is_refused():
    assert "tom" in refused("tom.pdf", b"")


def test_too_big_file_states_the_limit_in_mb():
    message = refused("stor.txt", b"a" * (MiB + 1), max_size=MiB)
    assert "högst 1 MB" in message


def test_file_exactly_at_the_limit_is_accepted():
    assert check_upload("lagom.txt", b"a" * 1000, max_size=1000).size == 1000


@pytest.mark.parametrize(
    "filename", ["virus.exe", "sida.html", "makro.docm", "README", "x.pdf.exe"]
)
def test_disallowed_extension_lists_the_allowed_kinds(filename):
    message = refused(filename, PDF)
    for label in ("PDF (.pdf)", "Word-dokument (.docx)", "JPEG-bild (.jpg, .jpeg)"):
        assert label in message


# --- Content must match the extension ------------------------------------------------------


@pytest.mark.parametrize(
    "filename, data, hint",
    [
        ("rapport.docx", PDF, "PDF"),
        ("bild.pdf", PNG, "PNG-bild"),
        ("bild.png", b"bara text", None),
        ("foto.jpg", PNG, "PNG-bild"),
        ("bild.png", JPEG, "JPEG-bild"),
        ("anteckning.txt", PDF, "PDF"),
        ("anteckning.txt", b"text\x00med NUL", "binärfil"),
        ("gammal.docx", evidence.OLE_MAGIC + b"\0" * 100, "äldre Office-dokument"),
        ("arkiv.docx", make_zip({"a.txt": "hej"}), "zip-fil"),
        ("tabell.docx", XLSX, "Excel-arbetsbok"),
        ("dokument.xlsx", DOCX, "Word-dokument"),
    ],
)
def test_content_not_matching_the_extension(filename, data, hint):
    message = refused(filename, data)
    assert "stämmer inte med filtypen" in message
    if hint:
        assert hint in message


@pytest.mark.parametrize("missing", ["word/document.xml", "[Content_Types].xml"])
def test_docx_missing_a_required_part(missing):
    parts = docx_parts("text")
    del parts[missing]
    assert "Word-dokument" in refused("rutin.docx", make_zip(parts))


def test_text_that_is_neither_utf8_nor_cp1252_is_refused():
    assert "kunde inte läsas som text" in refused("a.txt", b"abc \x81\x8d")


@pytest.mark.parametrize(
    "filename, data",
    [
        ("trasig.pdf", b"%PDF-1.4\nnot really a pdf"),
        ("trasig.docx", b"PK\x03\x04" + b"garbage" * 20),
        ("trasig.docx", make_docx("ok", **{"word/document.xml": "<w:document><unclosed>"})),
    ],
)
def test_damaged_files_are_refused(filename, data):
    assert "kunde inte läsas som" in refused(filename, data)


def test_encrypted_pdf_is_refused():
    assert "krypterad" in refused("hemlig.pdf", make_encrypted_pdf())


def test_password_protected_zip_member_is_refused():
    data = bytearray(DOCX)
    # Set the "encrypted" flag bit on every central directory entry.
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) != -1:
        data[start + 8] |= 0x1
        start += 4
    assert "lösenordsskyddad" in refused("skyddad.docx", bytes(data))


def test_dtd_in_an_ooxml_part_is_refused():
    lol = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><w:document>&a;</w:document>'
    refused("bomb.docx", make_docx(**{"word/document.xml": lol}))


# --- Zip bombs and unsafe archives ---------------------------------------------------------


def test_zip_bomb_with_150_mb_of_zeros_is_refused():
    parts = docx_parts("hej") | {"word/media/zeros.bin": b"\0" * (150 * MiB)}
    data = make_zip(parts)
    assert len(data) < MiB
    assert "zip-bomb" in refused("bomb.docx", data)


def test_small_but_extremely_compressed_member_is_refused():
    data = make_zip(docx_parts("hej") | {"word/media/zeros.bin": b"\0" * (2 * MiB)})
    assert "zip-bomb" in refused("bomb.docx", data)


def test_large_but_incompressible_member_is_accepted():
    noise = os.urandom(2 * MiB)
    data = make_zip(docx_parts("hej") | {"word/media/image1.png": noise})
    assert check_upload("bilder.docx", data).text == "hej"


def test_too_many_members_are_refused():
    parts = docx_parts("hej") | {f"word/media/{i}.txt": "" for i in range(1000)}
    assert "fler än 1000 delar" in refused("manga.docx", make_zip(parts, zipfile.ZIP_STORED))


@pytest.mark.parametrize("member", ["../../etc/cron.d/x", "word/../../x", "/etc/passwd", "C:/x"])
def test_unsafe_member_names_are_refused(member):
    data = make_zip(xlsx_parts() | {member: "x"})
    assert "otillåtna sökvägar" in refused("tabell.xlsx", data)


def test_member_that_lies_about_its_size_is_refused():
    data = bytearray(make_docx("x" * 5000))
    entry = data.find(b"PK\x01\x02", 0)
    while not data[entry + 46 :].startswith(b"word/document.xml"):
        entry = data.find(b"PK\x01\x02", entry + 4)
    data[entry + 24 : entry + 28] = (10).to_bytes(4, "little")  # declared uncompressed size
    refused("ljuger.docx", bytes(data))


def test_reading_stops_when_the_actual_bytes_exceed_the_budget():
    data = make_zip({"big.xml": b"a" * (512 * 1024)})
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        budget = evidence._Budget(limit=100 * 1024)
        with pytest.raises(EvidenceError, match="zip-bomb"):
            evidence._read_member(zf, "big.xml", budget, "x.docx")
        assert budget.remaining < 0


# --- File names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\x\\rapport.pdf", "rapport.pdf"),
        ("rap\x00port\n\x1b.txt", "rapport.txt"),
        ("faktura\u202efdp.exe", "fakturafdp.exe"),  # right-to-left override removed
        ("  mötesanteckning.txt. ", "mötesanteckning.txt"),
        ("Ma\u030albild.docx", "Målbild.docx"),  # decomposed å (macOS) composed
        ("..", ""),
        ("a" * 300 + ".txt", "a" * 251 + ".txt"),
    ],
)
def test_filenames_are_sanitised(raw, clean):
    assert sanitise_filename(raw) == clean
    assert len(sanitise_filename(raw)) <= 255


def test_checked_file_carries_the_sanitised_name():
    assert check_upload("../../etc/passwd.txt", b"root").filename == "passwd.txt"


def test_message_for_a_nameless_file():
    assert "namnlös fil" in refused("../", b"data")


# --- Store ---------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path):
    old = os.umask(0o022)
    yield EvidenceStore(tmp_path / "underlag")
    os.umask(old)


def test_put_open_and_exists(store):
    sha = hashlib.sha256(PDF).hexdigest()
    assert not store.exists(sha)
    assert store.put(PDF) == sha
    assert store.exists(sha)
    assert store.path(sha) == store.root / "sha256" / sha[:2] / sha[2:4] / sha
    with store.open(sha) as stored:
        assert stored.read() == PDF


def test_put_is_idempotent(store):
    sha = store.put(b"samma innehall")
    before = store.path(sha).stat()
    assert store.put(b"samma innehall") == sha
    after = store.path(sha).stat()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)
    assert list(store.path(sha).parent.iterdir()) == [store.path(sha)]


def test_put_leaves_no_temp_files(store):
    for i in range(5):
        store.put(b"fil %d" % i)
    files = [p for p in store.root.rglob("*") if p.is_file()]
    assert len(files) == 5
    assert all(len(p.name) == 64 for p in files)


def test_failed_write_leaves_nothing_behind(store, monkeypatch):
    def broken_replace(src, dst):
        raise OSError("disken är full")

    monkeypatch.setattr(evidence.os, "replace", broken_replace)
    with pytest.raises(OSError):
        store.put(b"halvskriven")
    assert [p for p in store.root.rglob("*") if p.is_file()] == []


def test_permissions(store):
    os.umask(0o077)  # modes must not depend on the umask
    sha = store.put(b"behorighet")
    assert stat.S_IMODE(store.path(sha).stat().st_mode) == 0o640
    directory = store.path(sha).parent
    while directory != store.root.parent:
        assert stat.S_IMODE(directory.stat().st_mode) == 0o750, directory
        directory = directory.parent


def test_open_missing_raises_file_not_found(store):
    with pytest.raises(FileNotFoundError):
        store.open("0" * 64)


@pytest.mark.parametrize(
    "value",
    ["../x", "A" * 64, "a" * 63, "a" * 65, "g" * 64, "a" * 64 + "\n", "../" + "a" * 61, "", None],
)
def test_path_refuses_anything_but_64_lowercase_hex(store, value):
    with pytest.raises(EvidenceError, match="Ogiltig kontrollsumma"):
        store.path(value)
    with pytest.raises(EvidenceError):
        store.exists(value)
