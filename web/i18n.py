"""Språk: Babel catalogs (Swedish default, English available) compiled on start.

Message ids in code and templates are English; ``translations/sv`` holds the Swedish text every
user sees by default. The .mo files are build output: compiled here from the .po sources when
missing or older, written atomically so parallel workers cannot see half a file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, session
from flask_babel import Babel, get_locale

TRANSLATIONS = Path(__file__).with_name("translations")
LANGUAGES = {"sv": "Svenska", "en": "English"}
DEFAULT_LOCALE = "sv"


def compile_catalogs(directory: Path = TRANSLATIONS) -> list[Path]:
    """Compile every ``messages.po`` whose ``.mo`` is missing or stale; return what was built."""
    built = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=po_path.parent.parent.name)
        fd, tmp = tempfile.mkstemp(dir=po_path.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog, use_fuzzy=False)
        os.replace(tmp, mo_path)
        built.append(mo_path)
    return built


def select_locale() -> str:
    """The user's chosen language (kept in the session), Swedish otherwise."""
    lang = session.get("lang")
    return lang if lang in LANGUAGES else DEFAULT_LOCALE


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale else DEFAULT_LOCALE


def init_app(app: Flask) -> None:
    compile_catalogs()
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Europe/Stockholm")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, current_language=current_language)
