"""Underlag: evidence files that health centres upload against checklist items.

``check_upload`` validates one upload — size, allowed kind, content matching the extension,
zip-bomb safety for Word and Excel files, a file name without a personnummer — and extracts
every text the file carries, each with where it is (:class:`TextPlace`): the document text,
cells (numbers and formula results too: a personnummer typed in Excel is a number cell),
comments, headers and footers, document properties (``docProps/core.xml``, ``app.xml``,
``custom.xml``; PDF ``/Info`` and XMP) and image metadata (PNG ``tEXt``/``zTXt``/``iTXt``/
``eXIf``, JPEG EXIF, XMP, IPTC and comments), so that :func:`personal_data_refusal` can refuse
a personnummer anywhere in it, saying where, never what. Every refusal is an
``EvidenceError`` with a Swedish message, safe to show to the user, that names the
(sanitised) file.

``EvidenceStore`` keeps the accepted files outside the database, addressed by their SHA-256.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import io
import logging
import os
import re
import tempfile
import unicodedata
import xml.etree.ElementTree as ET  # noqa: S405 - parts are size-checked and DTDs refused
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from pypdf import PdfReader
from sqlalchemy import event
from sqlalchemy.orm import Session

from audit import pii

MiB = 1024 * 1024
MAX_FILE_SIZE = 20 * MiB
ALLOWED = {  # extension -> (media type, Swedish label)
    "pdf": ("application/pdf", "PDF"),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "Word-dokument",
    ),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Excel-arbetsbok",
    ),
    "txt": ("text/plain", "textfil"),
    "png": ("image/png", "PNG-bild"),
    "jpg": ("image/jpeg", "JPEG-bild"),
    "jpeg": ("image/jpeg", "JPEG-bild"),
}

# Zip (OOXML) safety limits, checked on the central directory before anything is parsed.
MAX_ZIP_UNCOMPRESSED = 50 * MiB  # declared total, and actual bytes read while extracting
MAX_ZIP_RATIO = 100  # a member over MAX_ZIP_RATIO:1 ...
MAX_ZIP_RATIO_SIZE = 1 * MiB  # ... and larger than this uncompressed is refused
MAX_ZIP_TOTAL_RATIO = 100  # the whole archive over this ratio ...
MAX_ZIP_TOTAL_RATIO_SIZE = 5 * MiB  # ... and larger than this uncompressed is refused
MAX_ZIP_MEMBERS = 1000
MAX_PARSED_XML = 20 * MiB  # declared total of the XML parts that are parsed for text
MAX_XML_ELEMENTS = 1_000_000  # elements parsed in one file: a bound on the parsing work
_CHUNK = 64 * 1024

# PDF and image limits: a bound on the parsing work whatever the file claims.
MAX_PDF_PAGES = 2000
MAX_EXTRACTED_TEXT = 10_000_000  # characters of text extracted from one file
MAX_METADATA = 4 * MiB  # decompressed bytes of image text chunks and metadata in one file

# Where a text was found, as the refusal says it ("… något som liknar ett personnummer
# i en cell").
IN_FILENAME = "i filnamnet"
IN_TEXT = "i texten"
IN_CELL = "i en cell"
IN_SHEET_NAME = "i ett bladnamn"
IN_COMMENT = "i en kommentar"
IN_HEADER_FOOTER = "i sidhuvud eller sidfot"
IN_NOTE = "i en fotnot eller slutnot"
IN_PROPERTIES = "i dokumentets egenskaper"
IN_IMAGE_METADATA = "i bildens metadata"

MAX_FILENAME = 255
_UNNAMED = "namnlös fil"

PDF_MAGIC = b"%PDF-"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .doc/.xls, and password-protected OOXML

CONTENT_TYPES = "[Content_Types].xml"
DOCX_MAIN = "word/document.xml"
XLSX_MAIN = "xl/workbook.xml"
SHARED_STRINGS = "xl/sharedStrings.xml"

_SHA256 = re.compile(r"[0-9a-f]{64}")

log = logging.getLogger(__name__)


class EvidenceError(ValueError):
    """An upload or stored file was refused; the message is Swedish and names the file."""


@dataclass(frozen=True)
class TextPlace:
    """One text a file carries and where in the file it is (one of the ``IN_…`` phrases)."""

    where: str
    text: str


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed ``check_upload``."""

    filename: str  # sanitised display name (no path parts, no control chars, max 255)
    extension: str  # lower case, a key of ALLOWED
    media_type: str
    size: int
    sha256: str
    text: str | None  # extracted text for txt, pdf, docx and xlsx; None for images
    places: tuple[TextPlace, ...] = ()  # every text in the file, metadata included


class _Texts:
    """What an extractor collects: texts by place, within the limits of one file."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.places: list[TextPlace] = []
        self.searchable: list[str] = []  # an Excel file's strings: its text for searching
        self.size = 0
        self.elements = 0

    def add(self, where: str, text: str | None) -> None:
        if not text:
            return
        self.size += len(text)
        if self.size > MAX_EXTRACTED_TEXT:
            raise _too_much(self.name)
        self.places.append(TextPlace(where, text))

    def count_element(self) -> None:
        self.elements += 1
        if self.elements > MAX_XML_ELEMENTS:
            raise _too_much(self.name)

    def joined(self, *wheres: str) -> str:
        return "\n".join(p.text for p in self.places if p.where in wheres)


def _too_much(name: str) -> EvidenceError:
    return EvidenceError(
        f"Filen ”{name}” avvisades: den innehåller för mycket text eller för många delar för "
        "att kunna kontrolleras. Dela upp den, eller spara den som PDF, och ladda upp den igen."
    )


# --- File names ----------------------------------------------------------------------------


def sanitise_filename(filename: str) -> str:
    """The display name of an upload: last path part only (``/`` and ``\\`` both count as
    separators), NFC-normalised, without control or format characters (which includes
    right-to-left overrides), without surrounding spaces or trailing dots, at most 255
    characters with the extension kept. May be empty."""
    name = re.split(r"[/\\]", filename or "")[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf"})
    name = name.strip().rstrip(". ").strip()
    if name in {".", ".."}:
        return ""
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            name = stem[: MAX_FILENAME - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:MAX_FILENAME]
    return name


def _extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot else ""


def _allowed_kinds() -> str:
    kinds: dict[str, list[str]] = {}
    for ext, (_, label) in ALLOWED.items():
        kinds.setdefault(label, []).append("." + ext)
    return ", ".join(f"{label} ({', '.join(exts)})" for label, exts in kinds.items())


def _megabytes(size: int) -> str:
    text = f"{size / MiB:.1f}".replace(".", ",")
    return text.removesuffix(",0")


# --- Content sniffing ----------------------------------------------------------------------


def _looks_like(data: bytes) -> str | None:
    """A Swedish noun phrase for what the content seems to be, judged by magic bytes only."""
    if data.startswith(PDF_MAGIC):
        return "en PDF"
    if data.startswith(PNG_MAGIC):
        return "en PNG-bild"
    if data.startswith(JPEG_MAGIC):
        return "en JPEG-bild"
    if data.startswith(ZIP_MAGIC):
        return "en zip-fil"
    if data.startswith(OLE_MAGIC):
        return "ett lösenordsskyddat eller äldre Office-dokument (.doc/.xls)"
    if data.startswith(b"MZ"):
        return "ett program"
    return None


def _mismatch(name: str, ext: str, data: bytes, seems: str | None = None) -> EvidenceError:
    label = ALLOWED[ext][1]
    seems = seems or _looks_like(data)
    hint = f" – det ser ut att vara {seems}" if seems else ""
    return EvidenceError(
        f"Filen ”{name}” har filändelsen .{ext}, men innehållet stämmer inte med filtypen "
        f"{label}{hint}. Spara filen i rätt format och ladda upp den igen."
    )


# --- Validation ----------------------------------------------------------------------------


def check_upload(filename: str, data: bytes, *, max_size: int = MAX_FILE_SIZE) -> CheckedFile:
    """Validate one upload and extract every text it carries.

    Checks, in order: the file name holds no personnummer or samordningsnummer (the message
    does not repeat the name); not empty; at most ``max_size`` bytes (the message states the
    limit in MB); the extension is allowed (the message lists the allowed kinds); the content
    matches the extension by magic bytes — PDF ``%PDF-``, the PNG signature, JPEG ``FF D8 FF``,
    a zip for docx/xlsx that holds ``[Content_Types].xml`` and ``word/document.xml`` or
    ``xl/workbook.xml``, and for txt UTF-8 (or cp1252) text without NUL bytes.

    Word and Excel files are refused as zip bombs, from the central directory and before any
    part is parsed, when their declared uncompressed total exceeds 50 MB, the whole archive is
    compressed more than 100:1 beyond 5 MB, a member over 1 MB is compressed more than 100:1,
    they have more than 1000 members, the XML parts to be parsed exceed 20 MB, or a member
    name is absolute or contains ``..``; while extracting, members are read in chunks and
    reading stops once the actual decompressed bytes exceed the limit, and parsing stops after
    a million XML elements. PDFs must parse with pypdf, must not be encrypted and may have at
    most 2000 pages. At most 10 million characters of text and 4 MB of image metadata are
    extracted from one file.

    Raises ``EvidenceError`` with a Swedish message naming the file.
    """
    name = sanitise_filename(filename)
    if pii.contains_identity_number(name):
        raise EvidenceError(
            "Filnamnet innehåller något som liknar ett personnummer eller samordningsnummer. "
            "Personuppgifter om patienter får inte lämnas här – byt namn på filen och ladda "
            "upp den igen. Filen har inte sparats."
        )
    shown = name or _UNNAMED
    if not data:
        raise EvidenceError(f"Filen ”{shown}” är tom. Välj en fil med innehåll.")
    size = len(data)
    if size > max_size:
        raise EvidenceError(
            f"Filen ”{shown}” är {_megabytes(size)} MB men får vara högst "
            f"{_megabytes(max_size)} MB."
        )
    ext = _extension(name)
    if ext not in ALLOWED:
        what = f"filtypen .{ext} är inte tillåten" if ext else "den saknar filändelse"
        raise EvidenceError(
            f"Filen ”{shown}” kan inte laddas upp som underlag: {what}. "
            f"Tillåtna filtyper är {_allowed_kinds()}."
        )
    media_type = ALLOWED[ext][0]
    texts = _Texts(name)
    text: str | None
    if ext == "pdf":
        _check_pdf(name, data, texts)
        text = texts.joined(IN_TEXT)
    elif ext in ("docx", "xlsx"):
        _check_ooxml(name, ext, data, texts)
        if ext == "docx":
            text = texts.joined(IN_TEXT, IN_HEADER_FOOTER, IN_NOTE, IN_COMMENT)
        else:
            text = "\n".join(texts.searchable)
    elif ext == "txt":
        texts.add(IN_TEXT, _check_txt(name, data))
        text = texts.joined(IN_TEXT)
    elif ext == "png":
        if not data.startswith(PNG_MAGIC):
            raise _mismatch(name, ext, data)
        _png_metadata(data, texts)
        text = None
    else:  # jpg, jpeg
        if not data.startswith(JPEG_MAGIC):
            raise _mismatch(name, ext, data)
        _jpeg_metadata(data, texts)
        text = None
    return CheckedFile(
        filename=name,
        extension=ext,
        media_type=media_type,
        size=size,
        sha256=hashlib.sha256(data).hexdigest(),
        text=text,
        places=tuple(texts.places),
    )


def personal_data_refusal(checked: CheckedFile) -> str | None:
    """The Swedish refusal when any text of the file holds a personnummer or
    samordningsnummer -- saying where ("i en cell och i dokumentets egenskaper", with the lines
    of the document text), never what -- or None."""
    found: dict[str, list[pii.Hit]] = {}
    for place in checked.places:
        hits = pii.find_identity_numbers(place.text)
        if hits:
            found.setdefault(place.where, []).extend(hits)
    if not found:
        return None
    count = sum(len(hits) for hits in found.values())
    kinds = {hit.kind for hits in found.values() for hit in hits}
    if count == 1:
        what = f"något som liknar ett {next(iter(kinds))}"
    else:
        kind = next(iter(kinds)) if len(kinds) == 1 else "personnummer eller samordningsnummer"
        what = f"{pii.count_word(count)} nummer som liknar {kind}"
    wheres = []
    for where, hits in found.items():
        if where == IN_TEXT:
            lines = sorted({hit.line for hit in hits})
            where = f"{where} (rad {_swedish_list([str(n) for n in lines])})"
        wheres.append(where)
    return (
        f"Filen ”{checked.filename}” innehåller {what} {_swedish_list(wheres)}. "
        "Personuppgifter om patienter får inte lämnas här – ta bort "
        + ("numret" if count == 1 else "numren")
        + " ur filen och ladda upp den igen. Filen har inte sparats."
    )


def _swedish_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " och " + items[-1]


def _check_txt(name: str, data: bytes) -> str:
    seems = _looks_like(data)
    if seems is not None or b"\x00" in data:
        raise _mismatch(name, "txt", data, seems or "en binärfil")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise EvidenceError(
            f"Filen ”{name}” kunde inte läsas som text. Spara den som UTF-8 och ladda upp den igen."
        ) from None


def _check_pdf(name: str, data: bytes, texts: _Texts) -> None:
    if not data.startswith(PDF_MAGIC):
        raise _mismatch(name, "pdf", data)
    unreadable = EvidenceError(
        f"Filen ”{name}” kunde inte läsas som PDF – den verkar vara skadad. "
        "Spara eller exportera den som PDF igen och ladda upp den på nytt."
    )
    try:
        reader = PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
    except Exception:  # pypdf raises many kinds of errors on malformed input
        raise unreadable from None
    if encrypted:
        raise EvidenceError(
            f"Filen ”{name}” är krypterad eller lösenordsskyddad. Underlag måste kunna läsas "
            "för att kontrolleras – ladda upp en version utan lösenord eller kryptering."
        )
    try:
        if len(reader.pages) > MAX_PDF_PAGES:
            raise _too_much(name)
        pages = []
        for page in reader.pages:
            pages.append(page.extract_text() or "")
            texts.size += len(pages[-1])
            if texts.size > MAX_EXTRACTED_TEXT:
                raise _too_much(name)
            for annotation in _annotations(page):
                for key in ("/Contents", "/T", "/Subj"):
                    texts.add(IN_COMMENT, _pdf_text(annotation.get(key)))
        texts.size -= sum(len(p) for p in pages)
        texts.add(IN_TEXT, "\n".join(pages))
        info = reader.metadata or {}
        for key, value in info.items():
            texts.add(IN_PROPERTIES, _pdf_text(key))
            texts.add(IN_PROPERTIES, _pdf_text(value))
        xmp = reader.xmp_metadata
        if xmp is not None:
            _xml_texts(xmp.stream.get_data(), texts, IN_PROPERTIES)
    except EvidenceError:
        raise
    except Exception:
        raise unreadable from None


def _annotations(page) -> list:
    annotations = page.get("/Annots") or []
    try:
        annotations = annotations.get_object()
    except AttributeError:
        pass
    out = []
    for annotation in list(annotations)[:MAX_XML_ELEMENTS]:
        try:
            out.append(annotation.get_object())
        except AttributeError:
            out.append(annotation)
    return [a for a in out if hasattr(a, "get")]


def _pdf_text(value) -> str | None:
    if value is None:
        return None
    try:
        value = value.get_object()
    except AttributeError:
        pass
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


# --- Word and Excel (OOXML zip) ------------------------------------------------------------


class _Budget:
    """Decompressed bytes still allowed while extracting text from one archive."""

    def __init__(self, limit: int = MAX_ZIP_UNCOMPRESSED) -> None:
        self.remaining = limit

    def take(self, count: int) -> bool:
        self.remaining -= count
        return self.remaining >= 0


def _zip_bomb(name: str) -> EvidenceError:
    return EvidenceError(
        f"Filen ”{name}” avvisades: den packas upp till en orimligt stor mängd data "
        f"(mer än {_megabytes(MAX_ZIP_UNCOMPRESSED)} MB eller extremt hårt komprimerad) och "
        "kan vara en så kallad zip-bomb."
    )


def _damaged(name: str, ext: str) -> EvidenceError:
    return EvidenceError(
        f"Filen ”{name}” kunde inte läsas som {ALLOWED[ext][1]} – den verkar vara skadad. "
        "Spara den på nytt och ladda upp den igen."
    )


def _unsafe_member_name(member: str) -> bool:
    if member.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", member):
        return True
    return ".." in re.split(r"[/\\]", member)


# The parts whose text is read, with where that text is.
_PROPERTY_PARTS = ("docProps/core.xml", "docProps/app.xml", "docProps/custom.xml")
_DOCX_PARTS = (
    (DOCX_MAIN, IN_TEXT),
    (r"word/header\d*\.xml", IN_HEADER_FOOTER),
    (r"word/footer\d*\.xml", IN_HEADER_FOOTER),
    ("word/footnotes.xml", IN_NOTE),
    ("word/endnotes.xml", IN_NOTE),
    ("word/comments.xml", IN_COMMENT),
    (r"word/comments\w+\.xml", IN_COMMENT),  # commentsExtended, commentsExtensible …
)
_XLSX_PARTS = (
    (XLSX_MAIN, IN_SHEET_NAME),
    (SHARED_STRINGS, IN_CELL),
    (r"xl/worksheets/[^/]+\.xml", IN_CELL),
    (r"xl/comments[^/]*\.xml", IN_COMMENT),
    (r"xl/comments/[^/]+\.xml", IN_COMMENT),  # where openpyxl writes them
    (r"xl/threadedComments/[^/]+\.xml", IN_COMMENT),
)


def _parts(names: set[str], patterns) -> list[tuple[str, str]]:
    """(member, where) for every member matching one of ``patterns``, in document order."""
    found, seen = [], set()
    for pattern, where in (*patterns, *((p, IN_PROPERTIES) for p in _PROPERTY_PARTS)):
        for member in sorted((n for n in names if re.fullmatch(pattern, n)), key=_natural_key):
            if member not in seen:
                seen.add(member)
                found.append((member, where))
    return found


def _check_ooxml(name: str, ext: str, data: bytes, texts: _Texts) -> None:
    if not data.startswith(ZIP_MAGIC):
        raise _mismatch(name, ext, data)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except Exception:  # BadZipFile, but also OSError, EOFError, ValueError on odd headers
        raise _damaged(name, ext) from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise EvidenceError(
                f"Filen ”{name}” avvisades: den består av fler än {MAX_ZIP_MEMBERS} delar, "
                "vilket inte är rimligt för ett Office-dokument."
            )
        if any(_unsafe_member_name(info.filename) for info in infos):
            raise EvidenceError(
                f"Filen ”{name}” avvisades: den innehåller delar med otillåtna sökvägar "
                "(”..” eller absoluta sökvägar)."
            )
        total = sum(info.file_size for info in infos)
        if total > MAX_ZIP_UNCOMPRESSED:
            raise _zip_bomb(name)
        packed = sum(info.compress_size for info in infos)
        if total > MAX_ZIP_TOTAL_RATIO_SIZE and total > MAX_ZIP_TOTAL_RATIO * max(packed, 1):
            raise _zip_bomb(name)
        for info in infos:
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > MAX_ZIP_RATIO_SIZE and ratio > MAX_ZIP_RATIO:
                raise _zip_bomb(name)
        if any(info.flag_bits & 0x1 for info in infos):
            raise EvidenceError(
                f"Filen ”{name}” är lösenordsskyddad. Underlag måste kunna läsas för att "
                "kontrolleras – ladda upp en version utan lösenord."
            )
        names = {info.filename for info in infos}
        main = DOCX_MAIN if ext == "docx" else XLSX_MAIN
        if CONTENT_TYPES not in names or main not in names:
            seems = None
            if CONTENT_TYPES in names and DOCX_MAIN in names:
                seems = "ett Word-dokument"
            elif CONTENT_TYPES in names and XLSX_MAIN in names:
                seems = "en Excel-arbetsbok"
            raise _mismatch(name, ext, data, seems or "en zip-fil")
        parts = _parts(names, _DOCX_PARTS if ext == "docx" else _XLSX_PARTS)
        if sum(zf.getinfo(member).file_size for member, _ in parts) > MAX_PARSED_XML:
            raise _too_much(name)
        budget = _Budget()
        try:
            for member, where in parts:
                raw = _read_member(zf, member, budget, name)
                if where == IN_PROPERTIES:
                    _xml_texts(raw, texts, where)
                elif ext == "docx":
                    _docx_part(raw, texts, where)
                elif member == XLSX_MAIN:
                    _xlsx_workbook(raw, texts)
                elif member == SHARED_STRINGS:
                    _xlsx_shared_strings(raw, texts)
                elif where == IN_CELL:
                    _xlsx_sheet(raw, texts)
                else:
                    _xml_texts(raw, texts, where)
        except EvidenceError:
            raise
        except Exception:  # bad CRC, zlib/lzma errors, unsupported method, malformed XML
            raise _damaged(name, ext) from None


def _read_member(zf: zipfile.ZipFile, member: str, budget: _Budget, name: str) -> bytes:
    """The member's bytes, read in chunks; refuses the file once ``budget`` is exhausted or
    the member yields more than it declared, whatever the zip headers claim."""
    declared = zf.getinfo(member).file_size
    chunks = []
    read = 0
    with zf.open(member) as stream:
        while chunk := stream.read(_CHUNK):
            read += len(chunk)
            if not budget.take(len(chunk)) or read > declared:
                raise _zip_bomb(name)
            chunks.append(chunk)
    return b"".join(chunks)


_DTD_MARKERS = tuple(
    "<!DOCTYPE".encode(encoding) for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)


def _parse_events(raw: bytes, texts: _Texts | None = None) -> Iterator[ET.Element]:
    """End events of an XML part. OOXML parts never have a DTD, so one is refused outright
    (no entity expansion tricks); every element counts against the file's parsing bound."""
    if any(marker in raw for marker in _DTD_MARKERS):
        raise ET.ParseError("DTD in OOXML part")
    for _, element in ET.iterparse(io.BytesIO(raw), events=("end",)):  # noqa: S314
        if texts is not None:
            texts.count_element()
        yield element


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _natural_key(member: str) -> list[object]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", member)]


def _xml_texts(raw: bytes, texts: _Texts, where: str) -> None:
    """Every element text and attribute value of an XML part (properties, XMP, comments)."""
    out = []
    for element in _parse_events(raw, texts):
        out.extend(value for value in element.attrib.values())
        if element.text and element.text.strip():
            out.append(element.text)
        if element.tail and element.tail.strip():
            out.append(element.tail)
    texts.add(where, "\n".join(out))


def _docx_part(raw: bytes, texts: _Texts, where: str) -> None:
    paragraphs: list[str] = []
    for element in _parse_events(raw, texts):
        if _local(element.tag) == "p":
            paragraphs.append(_paragraph_text(element))
            element.clear()  # nested paragraphs (text boxes) are not repeated
    texts.add(where, "\n".join(paragraphs))


def _paragraph_text(paragraph: ET.Element) -> str:
    out = []
    for element in paragraph.iter():
        tag = _local(element.tag)
        if tag in ("t", "delText"):
            out.append(element.text or "")
        elif tag == "tab":
            out.append("\t")
        elif tag in ("br", "cr"):
            out.append("\n")
    return "".join(out)


def _xlsx_workbook(raw: bytes, texts: _Texts) -> None:
    names = []
    for element in _parse_events(raw, texts):
        tag = _local(element.tag)
        if tag == "sheet":
            names.append(element.get("name") or "")
        elif tag == "definedName":
            names.append(element.get("name") or "")
            names.append(element.text or "")
    texts.add(IN_SHEET_NAME, "\n".join(names))


def _xlsx_shared_strings(raw: bytes, texts: _Texts) -> None:
    strings = []
    for element in _parse_events(raw, texts):
        if _local(element.tag) == "si":
            strings.append(_string_item_text(element))
            element.clear()
    strings = [s for s in strings if s]
    texts.searchable += strings
    texts.add(IN_CELL, "\n".join(strings))


_HEADER_FOOTER_TAGS = frozenset(
    {"oddHeader", "oddFooter", "evenHeader", "evenFooter", "firstHeader", "firstFooter"}
)


def _xlsx_sheet(raw: bytes, texts: _Texts) -> None:
    """A sheet's inline strings, and every cell's value: numbers (a personnummer typed into
    Excel is stored as the number 198503151220 or 8503151220) and formulas' cached results
    alike; its header and footer."""
    strings: list[str] = []
    values: list[str] = []
    headers: list[str] = []
    for element in _parse_events(raw, texts):
        tag = _local(element.tag)
        if tag == "is":
            strings.append(_string_item_text(element))
        elif tag == "c":
            kind = element.get("t", "n")
            value = next((child for child in element if _local(child.tag) == "v"), None)
            if value is not None and value.text and kind in ("n", "str", "e"):
                values.append(_cell_number(value.text) if kind == "n" else value.text)
        elif tag in _HEADER_FOOTER_TAGS:
            headers.append(element.text or "")
        if tag in ("c", "row", "is"):
            element.clear()
    strings = [s for s in strings if s]
    texts.searchable += strings
    texts.add(IN_CELL, "\n".join(strings + values))
    texts.add(IN_HEADER_FOOTER, "\n".join(h for h in headers if h))


def _cell_number(raw: str) -> str:
    """A number cell as a person sees it: 1.9850315122E+11 and 8503151220.0 are whole
    numbers, written out."""
    try:
        number = Decimal(raw.strip())
    except InvalidOperation:
        return raw
    if number.is_finite() and number == number.to_integral_value() and abs(number) < 10**15:
        return str(int(number))
    return raw


def _string_item_text(item: ET.Element) -> str:
    """Text of an <si> or <is>: its <t> elements, without phonetic (<rPh>) runs."""
    phonetic = {id(t) for rph in item.iter() if _local(rph.tag) == "rPh" for t in rph.iter()}
    return "".join(
        t.text or "" for t in item.iter() if _local(t.tag) == "t" and id(t) not in phonetic
    )


# --- Image metadata ------------------------------------------------------------------------


class _MetadataBudget:
    def __init__(self, texts: _Texts) -> None:
        self.texts = texts
        self.remaining = MAX_METADATA

    def inflate(self, data: bytes) -> bytes:
        """zlib-decompressed ``data``, refusing the file past the metadata limit."""
        inflater = zlib.decompressobj()
        out = inflater.decompress(data, self.remaining + 1)
        self.take(len(out))
        return out

    def take(self, count: int) -> None:
        self.remaining -= count
        if self.remaining < 0:
            raise _too_much(self.texts.name)


def _png_metadata(data: bytes, texts: _Texts) -> None:
    """The text chunks of a PNG (tEXt, zTXt, iTXt: keyword and text) and its EXIF (eXIf).
    Pixels are never decoded; compressed text is inflated within the metadata limit."""
    budget = _MetadataBudget(texts)
    offset = len(PNG_MAGIC)
    while offset + 8 <= len(data):
        length = int.from_bytes(data[offset : offset + 4], "big")
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        offset += 12 + length
        try:
            if kind == b"tEXt":
                keyword, _, text = body.partition(b"\0")
                budget.take(len(body))
                texts.add(
                    IN_IMAGE_METADATA, f"{keyword.decode('latin-1')}\n{text.decode('latin-1')}"
                )
            elif kind == b"zTXt":
                keyword, _, rest = body.partition(b"\0")
                text = budget.inflate(rest[1:])
                texts.add(
                    IN_IMAGE_METADATA, f"{keyword.decode('latin-1')}\n{text.decode('latin-1')}"
                )
            elif kind == b"iTXt":
                keyword, _, rest = body.partition(b"\0")
                compressed, rest = rest[:1] == b"\1", rest[2:]
                language, _, rest = rest.partition(b"\0")
                translated, _, text = rest.partition(b"\0")
                text = budget.inflate(text) if compressed else text
                budget.take(len(body))
                texts.add(
                    IN_IMAGE_METADATA,
                    "\n".join(
                        part.decode("utf-8", "replace")
                        for part in (keyword, language, translated, text)
                    ),
                )
            elif kind == b"eXIf":
                _exif_texts(body, texts)
            elif kind == b"IEND":
                break
        except EvidenceError:
            raise
        except Exception:  # noqa: S112 - a damaged chunk: nobody can read it either
            continue


_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_EXIF_HEADER = b"Exif\0\0"
_XMP_HEADERS = (b"http://ns.adobe.com/xap/1.0/\0", b"http://ns.adobe.com/xmp/extension/\0")
_IPTC_HEADER = b"Photoshop 3.0\0"


def _jpeg_metadata(data: bytes, texts: _Texts) -> None:
    """A JPEG's comments (COM), EXIF (APP1), XMP (APP1) and IPTC (APP13), up to the image
    data. Pixels are never decoded."""
    budget = _MetadataBudget(texts)
    offset = 2
    while offset + 4 <= len(data):
        if data[offset] != 0xFF:
            break
        marker = data[offset + 1]
        if marker == 0xFF:  # fill byte
            offset += 1
            continue
        if marker in _JPEG_STANDALONE:
            offset += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no metadata past here
            break
        length = int.from_bytes(data[offset + 2 : offset + 4], "big")
        body = data[offset + 4 : offset + 2 + length]
        offset += 2 + length
        budget.take(len(body))
        try:
            if marker == 0xFE:
                texts.add(IN_IMAGE_METADATA, body.decode("utf-8", "replace"))
            elif marker == 0xE1 and body.startswith(_EXIF_HEADER):
                _exif_texts(body[len(_EXIF_HEADER) :], texts)
            elif marker == 0xE1 and body.startswith(_XMP_HEADERS):
                packet = body.partition(b"\0")[2]
                if body.startswith(_XMP_HEADERS[1]):
                    packet = packet[40:]  # GUID, full length and offset of the extension
                _xmp_texts(packet, texts)
            elif marker == 0xED and body.startswith(_IPTC_HEADER):
                _iptc_texts(body, texts)
        except EvidenceError:
            raise
        except Exception:  # noqa: S112 - a damaged segment: nobody can read it either
            continue


def _xmp_texts(packet: bytes, texts: _Texts) -> None:
    try:
        _xml_texts(packet, texts, IN_IMAGE_METADATA)
    except ET.ParseError:  # not well-formed: its raw text is still scanned
        texts.add(IN_IMAGE_METADATA, packet.decode("utf-8", "replace"))


def _iptc_texts(body: bytes, texts: _Texts) -> None:
    """IPTC-IIM datasets (0x1C, record, dataset, length, value) in a Photoshop segment."""
    values = []
    offset = 0
    while (offset := body.find(b"\x1c", offset)) != -1 and offset + 5 <= len(body):
        length = int.from_bytes(body[offset + 3 : offset + 5], "big")
        if length & 0x8000:  # extended length: not used for text
            break
        values.append(body[offset + 5 : offset + 5 + length].decode("utf-8", "replace"))
        offset += 5 + length
    texts.add(IN_IMAGE_METADATA, "\n".join(values))


_EXIF_SUB_IFDS = frozenset({0x8769, 0x8825, 0xA005})  # Exif, GPS, Interoperability
_EXIF_XP_TAGS = frozenset({0x9C9B, 0x9C9C, 0x9C9D, 0x9C9E, 0x9C9F})  # Windows, UTF-16LE
_EXIF_USER_COMMENT = 0x9286
_EXIF_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}
_EXIF_MAX_ENTRIES = 10_000


def _exif_texts(tiff: bytes, texts: _Texts) -> None:
    """The strings of an EXIF (TIFF) block: ASCII tags (ImageDescription, Artist, Copyright
    …), UserComment, the Windows XP tags, in every IFD (Exif, GPS, thumbnail)."""
    order = {b"II": "little", b"MM": "big"}.get(tiff[:2])
    if order is None:
        return

    def number(at: int, size: int) -> int:
        return int.from_bytes(tiff[at : at + size], order)

    found: list[str] = []
    queue, seen, entries = [number(4, 4)], set(), 0
    while queue:
        ifd = queue.pop()
        if ifd in seen or not 8 <= ifd < len(tiff) - 2:
            continue
        seen.add(ifd)
        count = number(ifd, 2)
        for index in range(count):
            entries += 1
            if entries > _EXIF_MAX_ENTRIES:
                return texts.add(IN_IMAGE_METADATA, "\n".join(found))
            at = ifd + 2 + 12 * index
            if at + 12 > len(tiff):
                break
            tag, kind, items = number(at, 2), number(at + 2, 2), number(at + 4, 4)
            size = _EXIF_TYPE_SIZES.get(kind, 1) * items
            start = at + 8 if size <= 4 else number(at + 8, 4)
            value = tiff[start : start + size]
            if tag in _EXIF_SUB_IFDS:
                queue.append(number(at + 8, 4))
            elif tag in _EXIF_XP_TAGS:
                found.append(value.decode("utf-16-le", "replace"))
            elif tag == _EXIF_USER_COMMENT:
                charset, comment = value[:8], value[8:]
                encoding = (
                    ("utf-16-le" if order == "little" else "utf-16-be")
                    if (charset.startswith(b"UNICODE"))
                    else "latin-1"
                )
                found.append(comment.decode(encoding, "replace"))
            elif kind in (2, 7):  # ASCII, UNDEFINED
                found.append(value.decode("latin-1"))
        next_ifd = ifd + 2 + 12 * count
        if next_ifd + 4 <= len(tiff):
            queue.append(number(next_ifd, 4))
    texts.add(IN_IMAGE_METADATA, "\n".join(s.replace("\0", " ") for s in found))


# --- Storage -------------------------------------------------------------------------------


class EvidenceStore:
    """Content-addressed storage outside the database: ``<root>/sha256/ab/cd/<full sha256>``.

    Writing is atomic (temp file in the same directory, fsync, ``os.replace``), idempotent
    (same content -> same path), files are created 0o640 and directories 0o750 (independent
    of the umask).

    An upload is stored only once its row has committed, so a failed commit leaves no file:
    :meth:`stage` writes the bytes to ``<root>/incoming/`` (fsynced) before the commit,
    :func:`store_after_commit` moves them into place when the session commits and removes
    them when it does not. Only a crash between the commit and that move leaves a staged file
    behind; :func:`collect_garbage` (``halsoval evidence gc``) moves such a file into place
    when a row references it, and removes files no row references.
    """

    FILE_MODE = 0o640
    DIR_MODE = 0o750

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        """Where the file with this SHA-256 lives. Only 64 lowercase hex characters are
        accepted, so no value can point outside the store."""
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
            shown = repr(sha256)[:80]
            raise EvidenceError(
                f"Ogiltig kontrollsumma för underlag: {shown}. Den ska bestå av exakt 64 tecken "
                "0–9 och a–f (SHA-256)."
            )
        return self.root / "sha256" / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        """Store ``data`` and return its SHA-256 hex; content already stored is not rewritten."""
        sha256 = hashlib.sha256(data).hexdigest()
        target = self.path(sha256)
        try:
            if target.stat().st_size == len(data):
                return sha256
        except FileNotFoundError:
            pass
        self._make_dirs(target.parent)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                os.fchmod(out.fileno(), self.FILE_MODE)
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._fsync_dir(target.parent)
        return sha256

    @property
    def incoming(self) -> Path:
        """Where uploads wait for their row to commit."""
        return self.root / "incoming"

    def stage(self, data: bytes) -> StagedFile:
        """Write ``data`` to the incoming directory (fsynced) and say where; nothing is in the
        content store until :meth:`promote`."""
        sha256 = hashlib.sha256(data).hexdigest()
        self._make_dirs(self.incoming)
        fd, tmp = tempfile.mkstemp(dir=self.incoming, prefix=f"{sha256}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                os.fchmod(out.fileno(), self.FILE_MODE)
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return StagedFile(sha256=sha256, path=Path(tmp))

    def promote(self, staged: StagedFile) -> None:
        """Move a staged file into the content store (replacing an existing copy of the same
        content, which renews its age for :func:`collect_garbage`)."""
        target = self.path(staged.sha256)
        self._make_dirs(target.parent)
        os.replace(staged.path, target)
        self._fsync_dir(target.parent)

    def discard(self, staged: StagedFile) -> None:
        """Remove a staged file whose row did not commit."""
        staged.path.unlink(missing_ok=True)

    def stored(self) -> Iterator[tuple[str, Path]]:
        """(sha256, path) of every file in the content store."""
        base = self.root / "sha256"
        if not base.is_dir():
            return
        for path in sorted(base.glob("*/*/*")):
            if path.is_file() and _SHA256.fullmatch(path.name):
                yield path.name, path

    def open(self, sha256: str) -> BinaryIO:
        """The stored file for reading; ``FileNotFoundError`` if it is not in the store."""
        path = self.path(sha256)
        try:
            return path.open("rb")
        except FileNotFoundError:
            raise FileNotFoundError(
                errno.ENOENT, f"Underlaget {sha256} finns inte i lagret", str(path)
            ) from None

    def exists(self, sha256: str) -> bool:
        """Whether a file with this SHA-256 is stored."""
        return self.path(sha256).is_file()

    def _make_dirs(self, directory: Path) -> None:
        missing = []
        while not directory.exists():
            missing.append(directory)
            directory = directory.parent
        for created in reversed(missing):
            try:
                created.mkdir(mode=self.DIR_MODE)
            except FileExistsError:  # another writer got there first
                continue
            os.chmod(created, self.DIR_MODE)

    @staticmethod
    def _fsync_dir(directory: Path) -> None:
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass(frozen=True)
class StagedFile:
    """An upload written to the incoming directory, waiting for its row to commit."""

    sha256: str
    path: Path


# --- Storing after the commit ----------------------------------------------------------------

_STAGED = "halsoval.staged_evidence"


def store_after_commit(session: Session, store: EvidenceStore, staged: StagedFile) -> None:
    """Move ``staged`` into ``store`` when ``session`` commits; remove it when the session's
    transaction ends any other way (rollback, failed commit, close)."""
    session.info.setdefault(_STAGED, []).append((store, staged))


@event.listens_for(Session, "after_commit")
def _promote_staged(session: Session) -> None:
    for store, staged in session.info.pop(_STAGED, []):
        try:
            store.promote(staged)
        except Exception as exc:  # the row is committed: gc moves the file in later
            log.error(
                "evidence %s committed but not moved into the store (%s); "
                "`halsoval evidence gc --delete` will do it",
                staged.sha256,
                type(exc).__name__,
            )


@event.listens_for(Session, "after_transaction_end")
def _discard_staged(session: Session, transaction) -> None:
    if transaction.parent is not None:  # a savepoint: the outer transaction decides
        return
    for store, staged in session.info.pop(_STAGED, []):
        store.discard(staged)


# --- Accepting a checked upload ----------------------------------------------------------


def accept_upload(
    session: Session, store: EvidenceStore, checked: CheckedFile, data: bytes
) -> dict:
    """The one path from a checked upload (:func:`check_upload`) to a stored file, for every
    table that keeps uploads (checklist evidence, a plan's report, ärende documents, dialog
    material): refused with :class:`EvidenceError` when any text of the file holds a
    personnummer (:func:`personal_data_refusal`), else staged and moved into ``store`` when
    ``session`` commits (:func:`store_after_commit`). Returns the row's file fields."""
    refusal = personal_data_refusal(checked)
    if refusal:
        raise EvidenceError(refusal)
    return store_upload(session, store, checked, data)


def store_upload(session: Session, store: EvidenceStore, checked: CheckedFile, data: bytes) -> dict:
    """Stage a checked upload whose text a caller has already cleared with
    :func:`personal_data_refusal` (a form that validates every field before it stores any)
    and move it into ``store`` when ``session`` commits. Returns the row's file fields."""
    staged = store.stage(data)
    store_after_commit(session, store, staged)
    return {
        "sha256": staged.sha256,
        "filename": checked.filename,
        "media_type": checked.media_type,
        "size": checked.size,
    }


# --- Garbage collection ----------------------------------------------------------------------

GC_MIN_AGE = dt.timedelta(hours=1)


@dataclass
class GarbageReport:
    """What :func:`collect_garbage` found (and, with ``delete``, did)."""

    orphans: list[str]  # SHA-256 of stored files no row references
    recovered: list[str]  # staged files of committed rows, moved into the store
    stale_incoming: int  # staged files of uploads that never committed
    kept_young: int  # unreferenced files younger than the minimum age, left alone
    freed_bytes: int


def collect_garbage(
    session: Session,
    store: EvidenceStore,
    *,
    delete: bool = False,
    min_age: dt.timedelta = GC_MIN_AGE,
    now: dt.datetime | None = None,
    referenced_by=None,
) -> GarbageReport:
    """Find (and with ``delete`` remove) files in ``store`` that no ``evidence_files`` row
    references and that are older than ``min_age``; move a staged file whose row committed
    (a crash between commit and move) into the store. Without ``delete`` nothing changes.

    A file is removed only after a second look, just before: it is first renamed aside, its
    age checked again (an upload of the same content renews it) and the database asked again;
    if either says keep, it is put back.

    ``referenced_by`` is the column that holds the store's hashes: ``evidence_files.sha256``
    unless another store is collected (the ärenden's documents have a store of their own).
    """
    now = now or dt.datetime.now(dt.UTC)
    cutoff = (now - min_age).timestamp()
    if referenced_by is not None:
        referenced = set(session.scalars(sa.select(referenced_by).distinct()))
    else:
        referenced = referenced_hashes(session)
    report = GarbageReport([], [], 0, 0, 0)
    if store.incoming.is_dir():
        for path in sorted(store.incoming.glob("*.part")):
            info = path.stat()
            if info.st_mtime > cutoff:
                continue  # an upload in progress
            sha256 = path.name.split(".", 1)[0]
            if sha256 in referenced and not store.exists(sha256):
                report.recovered.append(sha256)
                if delete:
                    store.promote(StagedFile(sha256, path))
            else:
                report.stale_incoming += 1
                report.freed_bytes += info.st_size
                if delete:
                    path.unlink(missing_ok=True)
    for sha256, path in list(store.stored()):
        if sha256 in referenced:
            continue
        info = path.stat()
        if info.st_mtime > cutoff:
            report.kept_young += 1
            continue
        report.orphans.append(sha256)
        report.freed_bytes += info.st_size
        if delete:
            _remove_unreferenced(session, path, sha256, cutoff, referenced_by)
    return report


def _store_columns() -> list[sa.Column]:
    """Every column that holds the SHA-256 of a file in the store (marked
    ``info={"evidence_store": True}``): checklist evidence, and the files of any other table
    that keeps its uploads here (an action plan's report, §7.1.3). The caller loads the whole
    schema first (``web.schema``; the command line does), so that the table of a higher layer
    is not missed — missing it would delete that table's files."""
    from audit.db import Base
    from checklists.rounds import EvidenceFile

    columns = [EvidenceFile.__table__.c.sha256]
    for table in Base.metadata.sorted_tables:
        columns += [
            c for c in table.columns if c.info.get("evidence_store") and c is not columns[0]
        ]
    return columns


def referenced_hashes(session: Session) -> set[str]:
    """The SHA-256 of every file some row references."""
    found: set[str] = set()
    for column in _store_columns():
        found |= set(session.scalars(sa.select(column).distinct()))
    return found


def _is_referenced(session: Session, sha256: str, column=None) -> bool:
    columns = [column] if column is not None else _store_columns()
    return any(session.scalar(sa.select(sa.func.count()).where(c == sha256)) for c in columns)


def _remove_unreferenced(
    session: Session, path: Path, sha256: str, cutoff: float, column=None
) -> None:
    aside = path.with_name(f".gc-{sha256}")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return
    still_old = aside.stat().st_mtime <= cutoff
    referenced = _is_referenced(session, sha256, column)
    if still_old and not referenced:
        aside.unlink()
    elif not path.exists():
        os.rename(aside, path)
    else:
        aside.unlink()  # a newer copy of the same content is in place
