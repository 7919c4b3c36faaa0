"""Underlag: evidence files that health centres upload against checklist items.

``check_upload`` validates one upload — size, allowed kind, content matching the extension,
zip-bomb safety for Word and Excel files — and extracts its text, so that it can be searched
and checked for personal data. Every refusal is an ``EvidenceError`` with a Swedish message,
safe to show to the user, that names the (sanitised) file.

``EvidenceStore`` keeps the accepted files outside the database, addressed by their SHA-256.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import re
import tempfile
import unicodedata
import xml.etree.ElementTree as ET  # noqa: S405 - parts are size-checked and DTDs refused
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pypdf import PdfReader

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

# Zip (OOXML) safety limits.
MAX_ZIP_UNCOMPRESSED = 100 * MiB  # declared total, and actual bytes read while extracting
MAX_ZIP_RATIO = 100  # a member over MAX_ZIP_RATIO:1 ...
MAX_ZIP_RATIO_SIZE = 1 * MiB  # ... and larger than this uncompressed is refused
MAX_ZIP_MEMBERS = 1000
_CHUNK = 64 * 1024

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


class EvidenceError(ValueError):
    """An upload or stored file was refused; the message is Swedish and names the file."""


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed ``check_upload``."""

    filename: str  # sanitised display name (no path parts, no control chars, max 255)
    extension: str  # lower case, a key of ALLOWED
    media_type: str
    size: int
    sha256: str
    text: str | None  # extracted text for txt, pdf, docx and xlsx; None for images


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
    """Validate one upload and extract its text.

    Checks, in order: not empty; at most ``max_size`` bytes (the message states the limit in
    MB); the extension is allowed (the message lists the allowed kinds); the content matches the
    extension by magic bytes — PDF ``%PDF-``, the PNG signature, JPEG ``FF D8 FF``, a zip for
    docx/xlsx that holds ``[Content_Types].xml`` and ``word/document.xml`` or
    ``xl/workbook.xml``, and for txt UTF-8 (or cp1252) text without NUL bytes. Word and Excel
    files are refused as zip bombs when their declared uncompressed total exceeds 100 MB, a
    member over 1 MB is compressed more than 100:1, they have more than 1000 members, or a
    member name is absolute or contains ``..``; while extracting, members are read in chunks
    and reading stops once the actual decompressed bytes exceed the limit. PDFs must parse with
    pypdf and must not be encrypted.

    Raises ``EvidenceError`` with a Swedish message naming the file.
    """
    name = sanitise_filename(filename)
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
    text: str | None
    if ext == "pdf":
        text = _check_pdf(name, data)
    elif ext in ("docx", "xlsx"):
        text = _check_ooxml(name, ext, data)
    elif ext == "txt":
        text = _check_txt(name, data)
    elif ext == "png":
        if not data.startswith(PNG_MAGIC):
            raise _mismatch(name, ext, data)
        text = None
    else:  # jpg, jpeg
        if not data.startswith(JPEG_MAGIC):
            raise _mismatch(name, ext, data)
        text = None
    return CheckedFile(
        filename=name,
        extension=ext,
        media_type=media_type,
        size=size,
        sha256=hashlib.sha256(data).hexdigest(),
        text=text,
    )


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


def _check_pdf(name: str, data: bytes) -> str:
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
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception:
        raise unreadable from None
    return "\n".join(pages)


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


def _check_ooxml(name: str, ext: str, data: bytes) -> str:
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
        if sum(info.file_size for info in infos) > MAX_ZIP_UNCOMPRESSED:
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
        budget = _Budget()
        try:
            if ext == "docx":
                return _docx_text(zf, names, budget, name)
            return _xlsx_text(zf, names, budget, name)
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


def _parse_events(raw: bytes) -> Iterator[ET.Element]:
    """End events of an XML part. OOXML parts never have a DTD, so one is refused outright
    (no entity expansion tricks)."""
    if any(marker in raw for marker in _DTD_MARKERS):
        raise ET.ParseError("DTD in OOXML part")
    for _, element in ET.iterparse(io.BytesIO(raw), events=("end",)):  # noqa: S314
        yield element


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _natural_key(member: str) -> list[object]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", member)]


def _docx_text(zf: zipfile.ZipFile, names: set[str], budget: _Budget, name: str) -> str:
    parts = [DOCX_MAIN]
    for pattern in (r"word/header\d*\.xml", r"word/footer\d*\.xml"):
        parts += sorted((n for n in names if re.fullmatch(pattern, n)), key=_natural_key)
    parts += [
        p for p in ("word/footnotes.xml", "word/endnotes.xml", "word/comments.xml") if p in names
    ]
    paragraphs: list[str] = []
    for part in parts:
        for element in _parse_events(_read_member(zf, part, budget, name)):
            if _local(element.tag) == "p":
                paragraphs.append(_paragraph_text(element))
                element.clear()  # nested paragraphs (text boxes) are not repeated
    return "\n".join(paragraphs)


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


def _xlsx_text(zf: zipfile.ZipFile, names: set[str], budget: _Budget, name: str) -> str:
    strings: list[str] = []
    if SHARED_STRINGS in names:
        for element in _parse_events(_read_member(zf, SHARED_STRINGS, budget, name)):
            if _local(element.tag) == "si":
                strings.append(_string_item_text(element))
                element.clear()
    sheets = sorted(
        (n for n in names if re.fullmatch(r"xl/worksheets/[^/]+\.xml", n)), key=_natural_key
    )
    for sheet in sheets:
        for element in _parse_events(_read_member(zf, sheet, budget, name)):
            tag = _local(element.tag)
            if tag == "is":
                strings.append(_string_item_text(element))
            if tag in ("c", "row", "is"):
                element.clear()
    return "\n".join(s for s in strings if s)


def _string_item_text(item: ET.Element) -> str:
    """Text of an <si> or <is>: its <t> elements, without phonetic (<rPh>) runs."""
    phonetic = {id(t) for rph in item.iter() if _local(rph.tag) == "rPh" for t in rph.iter()}
    return "".join(
        t.text or "" for t in item.iter() if _local(t.tag) == "t" and id(t) not in phonetic
    )


# --- Storage -------------------------------------------------------------------------------


class EvidenceStore:
    """Content-addressed storage outside the database: ``<root>/sha256/ab/cd/<full sha256>``.

    Writing is atomic (temp file in the same directory, fsync, ``os.replace``), idempotent
    (same content -> same path, written once), files are created 0o640 and directories 0o750
    (independent of the umask).
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
