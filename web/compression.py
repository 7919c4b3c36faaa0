"""Gzip for HTML and JSON responses.

A checklist section page is tens of kilobytes of HTML that compresses about eightfold (85 kB
to 10 kB); over a health centre's connection that is the difference that is felt. Written here
(a few lines around the standard library's ``gzip``) rather than adding a dependency.

What is compressed: ``text/html`` and ``application/json`` bodies of at least
:data:`MIN_SIZE` bytes, when the client accepts gzip. Not compressed: streamed or
``direct_passthrough`` responses (``send_file``: evidence downloads, static files), bodies that
already have a ``Content-Encoding``, and anything on a request a browser marks as coming from
another site.

BREACH. Compression leaks, through the length of the encrypted response, how well an
attacker-chosen string that a page reflects compresses against a secret on the same page. The
secret on our pages is the CSRF token in every form. Three things make that attack fail here:

- Flask-WTF's form token is not a fixed secret: it is the session's raw token signed with
  a timestamp (``itsdangerous.URLSafeTimedSerializer``), so its tail -- timestamp and HMAC --
  changes every second, and the raw token alone is worthless without a signature made with
  the app's key. BREACH needs thousands of responses around one unchanging secret.
- The attacker must make the victim's browser send the requests. Cross-site requests carry
  no session cookie except top-level GET navigations (``SameSite=Lax``), and every browser
  in use marks cross-site and same-site requests with ``Sec-Fetch-Site``: those responses
  are not compressed (:func:`_may_compress`). Same-origin requests cannot be forged from
  another site.
- Login and session cookies are in headers, which gzip does not touch.
"""

from __future__ import annotations

import gzip

from flask import Flask, Response, request

MIN_SIZE = 1024
COMPRESSIBLE = frozenset({"text/html", "application/json"})
# zlib's default. On an 85 kB section page: level 1 gives 12 kB in 0.4 ms, 6 gives 10 kB in
# 1.2 ms, 9 gives 9 kB in 1.7 ms -- against some 15-25 ms to render the page.
LEVEL = 6


def _may_compress(response: Response) -> bool:
    if response.mimetype not in COMPRESSIBLE:
        return False
    if response.direct_passthrough or response.is_streamed:
        return False
    if response.status_code < 200 or response.status_code in (204, 304):
        return False
    if "Content-Encoding" in response.headers:
        return False
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return False  # see BREACH in the module docstring
    return request.accept_encodings["gzip"] > 0


def init_compression(app: Flask) -> None:
    @app.after_request
    def _gzip(response: Response) -> Response:
        if response.mimetype in COMPRESSIBLE:
            response.vary.add("Accept-Encoding")
        if not _may_compress(response):
            return response
        body = response.get_data()
        if len(body) < MIN_SIZE:
            return response
        response.set_data(gzip.compress(body, compresslevel=LEVEL, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
        return response
