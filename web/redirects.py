"""Säkra omdirigeringar: where a ``next`` parameter may send a user after login or a
language switch — only to a path of this application.

Browsers and Werkzeug are lenient in ways an attacker uses: a tab or newline inside the URL is
dropped (``/\\t/evil.example`` becomes ``//evil.example``, a link to another host), a backslash
counts as a slash, and a newline in a ``Location`` header is an error page. So the target is
refused unless it is a plain local path: it starts with a single ``/``, holds no control,
whitespace or backslash character (percent-encoded or not), and parses with neither scheme nor host.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from flask import url_for


def _plain(target: str) -> bool:
    return all(ch.isprintable() and not ch.isspace() and ch != "\\" for ch in target)


def safe_local_path(target: str | None) -> str:
    """``target`` if it is a local path of this application, else the start page."""
    if (
        target
        and len(target) <= 2000
        and target.startswith("/")
        and not target.startswith("//")
        and _plain(target)
        and _plain(unquote(target))  # "%09" too: some clients decode before they resolve
        and not unquote(target).startswith("//")
    ):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("main.start")
