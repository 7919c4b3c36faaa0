"""Every message in code and templates has a Swedish translation in the catalog."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

WEB = Path(__file__).resolve().parents[2] / "web"
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def _extracted() -> set[str]:
    ids = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(WEB, METHODS, keywords=KEYWORDS):
        ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


def _catalog(lang: str):
    with (WEB / "translations" / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=lang)


def test_every_message_is_translated_to_swedish():
    catalog = _catalog("sv")
    missing = []
    for msgid in sorted(_extracted()):
        message = catalog.get(msgid)
        strings = message.string if message else None
        if isinstance(strings, tuple):
            strings = all(strings)
        if not message or not strings or message.fuzzy:
            missing.append(msgid)
    assert missing == [], f"untranslated in sv: {missing}"


def test_english_catalog_knows_every_message():
    catalog = _catalog("en")
    assert {m for m in _extracted() if catalog.get(m) is None} == set()
