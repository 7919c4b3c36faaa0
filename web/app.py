"""The application factory."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect

from audit.db import PROJECT_ROOT, make_engine, make_session_factory
from web import access, database, i18n, labels
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
    "web.plans",
    "web.sanctions",
    "web.auditlog",
    "web.help",
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


def create_app(config: dict | None = None) -> Flask:
    """Build the app. ``config`` may override settings; ``SESSION_FACTORY`` replaces the
    database sessions (tests bind them to a transaction that is rolled back)."""
    config = dict(config or {})
    instance = Path(os.environ.get("HALSOVAL_INSTANCE", PROJECT_ROOT / "instance"))
    instance.mkdir(parents=True, exist_ok=True)
    app = Flask(__name__, instance_path=str(instance))
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
    CSRFProtect(app)
    _init_login(app)
    access.init_app(app)
    init_security(app)
    _init_errors(app)
    for name in BLUEPRINTS:
        module = __import__(name, fromlist=["bp"])
        app.register_blueprint(module.bp)
    missing = access.missing_policies(app)
    if missing:
        raise RuntimeError(f"routes without an access policy: {sorted(missing)}")
    return app


def _init_login(app: Flask) -> None:
    from audit.accounts import resume_session
    from web.database import get_db

    manager = LoginManager(app)
    manager.login_view = "auth.login"
    manager.login_message = _l("Please log in to see this page.")
    manager.login_message_category = "info"
    manager.session_protection = "basic"

    @manager.user_loader
    def _load(token: str):
        user = resume_session(get_db(), token)
        if user is not None:
            user.login_token = token
        return user


ERROR_TEXT = {
    400: (_l("Bad request"), _l("The request could not be understood.")),
    403: (_l("Access denied"), _l("You do not have permission to see this page.")),
    404: (_l("Page not found"), _l("The page does not exist, or you cannot see it.")),
    405: (_l("Method not allowed"), _l("The page cannot be used that way.")),
    413: (_l("File too large"), _l("The upload is larger than the system accepts.")),
    429: (_l("Too many attempts"), _l("Wait a while and try again.")),
    500: (_l("Something went wrong"), _l("The error has been logged. Try again later.")),
}


def _init_errors(app: Flask) -> None:
    def render(code: int, detail=None):
        title, text = ERROR_TEXT[code]
        return render_template("error.html", code=code, title=title, text=detail or text), code

    for code in ERROR_TEXT:
        if code == 500:
            continue
        app.register_error_handler(code, lambda exc, code=code: render(code))

    @app.errorhandler(CSRFError)
    def _csrf(exc):
        return render(400, _l("The form had expired. Reload the page and try again."))

    @app.errorhandler(500)
    def _server_error(exc):
        log.exception("unhandled error")
        return render(500)
