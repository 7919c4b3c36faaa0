"""The application factory."""

from __future__ import annotations

import logging
import os
import secrets
import sys
import traceback
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.routing import IntegerConverter

from audit.db import PROJECT_ROOT, make_engine, make_session_factory
from audit.keys import audit_key
from audit.personal_data import PersonalDataError
from web import access, database, i18n, input_checks, labels, personal_data, session_timeout
from web.api import auth as api_auth
from web.api.errors import api_error, is_api_request
from web.compression import init_compression
from web.security import init_security

log = logging.getLogger(__name__)

BLUEPRINTS = (
    "web.auth",
    "web.main",
    "web.units",
    "web.catalog",
    "web.rounds",
    "web.checklists",
    "web.dialogs",
    "web.joint",
    "web.plans",
    "web.sanctions",
    "web.reviews",
    "web.cases",
    "web.yearwheel",
    "web.analysis",
    "web.auditlog",
    "web.help",
    "web.users",
    "web.exports",
    "web.api",
    "web.apikeys",
    "web.calendar",
    "web.outbox",
)


def _secret_key(instance: Path) -> str:
    """HALSOVAL_SECRET_KEY, or a random key kept in ``instance/secret_key`` (mode 0600)."""
    if key := os.environ.get("HALSOVAL_SECRET_KEY"):
        return key
    path = instance / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


class BoundedInt(IntegerConverter):
    """``<int:…>`` in every URL: an id too large for the database's integer columns is a
    404, not an overflow deep in the driver (a 500 for ids of 2^63 and more)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(config: dict | None = None) -> Flask:
    """Build the app. ``config`` may override settings; ``SESSION_FACTORY`` replaces the
    database sessions (tests bind them to a transaction that is rolled back)."""
    config = dict(config or {})
    instance = Path(os.environ.get("HALSOVAL_INSTANCE", PROJECT_ROOT / "instance"))
    instance.mkdir(parents=True, exist_ok=True)
    audit_key()  # an unusable audit key fails the start, not the first write of a request
    app = Flask(__name__, instance_path=str(instance))
    app.url_map.converters["int"] = BoundedInt
    app.config.update(
        SECRET_KEY=config.pop("SECRET_KEY", None) or _secret_key(instance),
        SESSION_COOKIE_NAME="halsoval_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("HALSOVAL_SECURE_COOKIES") == "1",
        PERMANENT_SESSION_LIFETIME=12 * 3600,
        MAX_CONTENT_LENGTH=20 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the login session
        EVIDENCE_DIR=os.environ.get("HALSOVAL_EVIDENCE_DIR") or str(instance / "underlag"),
        # Where people report accessibility problems (the tillgänglighetsredogörelse names it).
        ACCESSIBILITY_CONTACT=os.environ.get("HALSOVAL_ACCESSIBILITY_CONTACT", ""),
        # Inaktivitetsgräns: a login session ends after this many seconds without a request.
        IDLE_TIMEOUT_SECONDS=session_timeout.idle_timeout_seconds_from_env(),
    )
    session_factory = config.pop("SESSION_FACTORY", None)
    app.config.update(config)
    if session_factory is None:
        engine = make_engine(config.get("DATABASE_URL"))
        app.extensions["halsoval.engine"] = engine
        session_factory = make_session_factory(engine)

    if app.config.get("TESTING"):
        # A variable a view forgot to pass fails the test instead of rendering as nothing.
        from jinja2 import StrictUndefined

        app.jinja_env.undefined = StrictUndefined
    database.init_app(app, session_factory)
    i18n.init_app(app)
    labels.init_app(app)
    personal_data.init_app(app)
    CSRFProtect(app)
    _init_login(app)
    api_auth.init_app(app)  # a personal API token logs in an API read (web/api/auth.py)
    session_timeout.init_app(app)
    input_checks.init_app(app)  # before the access check, which may look a unit up
    access.init_app(app)
    init_security(app)
    init_compression(app)
    _init_errors(app)
    for name in BLUEPRINTS:
        module = __import__(name, fromlist=["bp"])
        app.register_blueprint(module.bp)
    missing = access.missing_policies(app)
    if missing:
        raise RuntimeError(f"routes without an access policy: {sorted(missing)}")
    return app


def _init_login(app: Flask) -> None:
    from audit.accounts import apply_session_check, check_session
    from web.database import get_db, session_write

    manager = LoginManager(app)
    manager.login_view = "auth.login"
    manager.login_message = _l("Please log in to see this page.")
    manager.login_message_category = "info"
    manager.session_protection = "basic"

    @manager.user_loader
    def _load(token: str):
        # The check only reads; touching last_seen_at (or ending an idled-out session) is a
        # separate write, which a GET does after its own transaction (web.database).
        check = check_session(get_db(), token, session_timeout.idle_timeout(app))
        session_timeout.remember_check(check)
        if check.needs_write:
            session_write(lambda db: apply_session_check(db, check))
        user = check.user
        if user is not None:
            user.login_token = token
        return user


ERROR_TEXT = {
    400: (_l("Bad request"), _l("The request could not be understood.")),
    403: (_l("Access denied"), _l("You do not have permission to see this page.")),
    404: (_l("Page not found"), _l("The page does not exist, or you cannot see it.")),
    405: (_l("Method not allowed"), _l("The page cannot be used that way.")),
    413: (_l("File too large"), _l("The upload is larger than the system accepts.")),
    422: (_l("Not saved"), _l("Something you entered could not be saved.")),
    429: (_l("Too many attempts"), _l("Wait a while and try again.")),
    500: (_l("Something went wrong"), _l("The error has been logged. Try again later.")),
}


# Form fields never shown back on an error page: the CSRF token, and anything password-like.
_NOT_SHOWN_BACK = ("csrf_token",)
_PASSWORD_LIKE = ("password", "passwd", "lösenord", "losenord")


def typed_text() -> list[tuple[str, str]]:
    """What the user posted, to show back on an error page so that nothing typed is lost.

    Every non-empty form field except the CSRF token and passwords; uploaded files are not in
    ``request.form``. These values are shown to the person who sent them and never logged.
    """
    if request.method in database.SAFE_METHODS:
        return []
    try:
        fields = list(request.form.lists())
    except Exception:  # a body that cannot be parsed (too large, malformed): nothing to show
        return []
    return [
        (name, value.replace("\x00", ""))
        for name, values in fields
        if name not in _NOT_SHOWN_BACK and not any(p in name.lower() for p in _PASSWORD_LIKE)
        for value in values
        if value.strip()
    ]


# The last resort when not even the standalone template renders: no Jinja, no Babel.
_STATIC_PAGE = """<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><title>Något gick fel – Hälsoval uppföljning</title>
</head><body><main><h1>Något gick fel</h1><p>Felet har loggats. Försök igen senare.</p>
{typed}<p>Felkod: {code}</p><p><a href="/">Gå till startsidan</a></p></main></body></html>
"""


def _static_page(code: int, typed: list[tuple[str, str]]) -> str:
    from markupsafe import escape

    block = ""
    if typed:
        rows = "".join(
            f'<dt>{escape(name)}</dt><dd style="white-space: pre-wrap">{escape(value)}</dd>'
            for name, value in typed
        )
        block = (
            "<p>Inget sparades.</p>"
            f"<h2>Det här skrev du — kopiera det innan du går vidare</h2><dl>{rows}</dl>"
        )
    return _STATIC_PAGE.format(typed=block, code=int(code))


def log_failure(logger: logging.Logger, message: str, exc_info) -> None:
    """Log an exception with its traceback; a database error without its driver's message.

    SQLAlchemy's errors carry the driver's message, and PostgreSQL's DETAIL repeats the values
    of the failing row (what was typed); "this session's transaction has been rolled back"
    quotes it again. For those the log gets :func:`web.database.describe_error` instead.
    """
    exc = exc_info[1]
    if not isinstance(exc, sa.exc.SQLAlchemyError):
        logger.error(message, exc_info=exc_info)
        return
    frames = "".join(traceback.format_tb(exc_info[2]))
    logger.error(
        "%s: %s\nTraceback (most recent call last):\n%s",
        message,
        database.describe_error(exc, statement=True),
        frames.rstrip(),
    )


def _init_errors(app: Flask) -> None:
    def _log_exception(exc_info) -> None:  # replaces Flask's, which logs str(exception)
        log_failure(app.logger, f"Exception on {request.path} [{request.method}]", exc_info)

    app.log_exception = _log_exception

    def render(code: int, detail=None, *, standalone: bool = False):
        """The error page; never blank, whatever state the request left the database in.

        The site layout (error.html) asks who is logged in, which needs the database; when
        that fails, or for a 500, the standalone page that needs nothing; when even that
        fails, a static Swedish page.
        """
        title, text = ERROR_TEXT[code]
        if is_api_request():  # a BI tool gets JSON, never a page
            return api_error(code, detail or text)
        typed = typed_text()
        context = dict(code=code, title=title, text=detail or text, typed=typed)
        if not standalone:
            try:
                return render_template("error.html", **context), code
            except Exception:
                log_failure(log, f"error page {code} failed; the standalone one", sys.exc_info())
                database.discard_session()
        try:
            return render_template("error_standalone.html", **context), code
        except Exception:
            log_failure(log, f"standalone error page {code} failed", sys.exc_info())
        return _static_page(code, typed), code

    for code in ERROR_TEXT:
        if code == 500:
            continue
        app.register_error_handler(code, lambda exc, code=code: render(code))

    @app.errorhandler(input_checks.UnstorableInput)
    def _unstorable(exc):
        return render(400, exc.shown)

    @app.errorhandler(CSRFError)
    def _csrf(exc):
        refused = session_timeout.csrf_refused()  # a page's script: JSON, 401 if logged out
        if refused is not None:
            return refused
        return render(400, _l("The form had expired. Reload the page and try again."))

    @app.errorhandler(PersonalDataError)
    def _personal_data(exc):
        # The backstop for a route that does not show the refusal beside its field: nothing
        # was stored (the flush was refused), the message names the field, never the number,
        # and the page shows back what was typed so that it can be corrected.
        database.discard_session()
        return render(422, str(exc))

    @app.errorhandler(500)
    def _server_error(exc):
        # Flask has logged the exception (_log_exception). The request's session may be what
        # failed ("database is locked", a failed flush): let go of it before anything else,
        # and render without the layout, which would ask the database who is logged in.
        database.discard_session()
        return render(500, standalone=True)
