"""A real server and a real browser: gunicorn serving a migrated SQLite file, as the README's
run command does, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import CHROMIUM, free_port, missing, wait_for_http

VENV_BIN = Path(sys.executable).parent
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
BROWSER_PASSWORD = "webbläsarens lösenord 1"


def _cli(env, *args, input=None):
    result = subprocess.run(
        [str(VENV_BIN / "halsoval"), *args], env=env, input=input, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="session")
def live_env(tmp_path_factory):
    """The environment of the live server: its database, instance directory and key."""
    base = tmp_path_factory.mktemp("live")
    return {
        **os.environ,
        "HALSOVAL_DATABASE_URL": f"sqlite:///{base / 'app.sqlite3'}",
        "HALSOVAL_INSTANCE": str(base / "instance"),
        "HALSOVAL_SECRET_KEY": "browser-test-secret",
    }


@pytest.fixture(scope="session")
def live_server(live_env):
    env = live_env
    _cli(env, "db", "upgrade")
    _cli(env, "units", "load")
    _cli(env, "catalog", "load")
    _cli(
        env,
        "users",
        "create",
        "vc.backen",
        "--name",
        "Vera Verksamhetschef",
        "--role",
        "verksamhetschef:backen",
        "--password-stdin",
        input=BROWSER_PASSWORD + "\n",
    )
    _cli(
        env,
        "users",
        "create",
        "bestallare",
        "--name",
        "Bo Beställare",
        "--role",
        "bestallare",
        "--password-stdin",
        input=BROWSER_PASSWORD + "\n",
    )
    _cli(
        env,
        "users",
        "create",
        "admin",
        "--name",
        "Ada Administratör",
        "--role",
        "admin",
        "--password-stdin",
        input=BROWSER_PASSWORD + "\n",
    )
    port = free_port()
    process = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "--config",
            "python:web.gunicorn_conf",  # as bin/serve runs it
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "web.wsgi:app",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/halsa")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        missing(f"Debian's Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright package is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    """Keep a picture of what the user saw, for people to look at (test-artifacts/)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# --- shared helpers for the checklist tests ----------------------------------------------

TIMEOUT_MS = 10_000  # a page that needs longer than this is a failure, not a slow pass


def log_in(page, live_server, username):
    """Log in through the form, as a user does."""
    page.goto(live_server + "/logga-in")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(live_server + "/")


@pytest.fixture(scope="session")
def _signed_in_states():
    """username → Playwright storage state (the session cookie) after one real login."""
    return {}


@pytest.fixture
def signed_in(browser, live_server, _signed_in_states):
    """``signed_in(username, javascript=True, width=1280)`` → a page of a fresh browser
    context that is logged in as ``username``. Each user logs in through the form once per
    session; later contexts reuse that session's cookie (logins cost an argon2 hash)."""
    contexts = []

    def open_as(username, *, javascript=True, width=1280, height=900):
        state = _signed_in_states.get(username)
        if state is None:
            context = browser.new_context(locale="sv-SE")
            log_in(context.new_page(), live_server, username)
            # The cookie alone. What the login's page left in localStorage (the session
            # timer's last activity) belongs to that page's context; restored into new
            # contexts (Playwright opens the origin to set it), it made the next login's page
            # wait half a minute for the server's two sync workers.
            state = {"cookies": context.storage_state()["cookies"], "origins": []}
            _signed_in_states[username] = state
            context.close()
        context = browser.new_context(
            locale="sv-SE",
            viewport={"width": width, "height": height},
            java_script_enabled=javascript,
            storage_state=state,
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_as
    for context in contexts:
        context.close()


def seed_checklist(
    live_env,
    title,
    codes,
    *,
    unit="backen",
    answers=None,
    documents=(),
    submit_as=None,
    year=2025,
):
    """A round of the requirements ``codes`` for one unit (follow-up year ``year``), opened as
    an administrator's script would, and optionally answered (``answers``: code → raw answer,
    ``documents``: codes that get a small text file) by the unit's head and submitted. The
    checklist's id."""
    import datetime as dt

    import sqlalchemy as sa

    from audit.db import make_engine, make_session_factory
    from audit.models import Unit, User
    from checklists import operations as ops
    from checklists.evidence import EvidenceStore, check_upload
    from checklists.models import CatalogEdition, Requirement
    from checklists.rounds import Checklist

    engine = make_engine(live_env["HALSOVAL_DATABASE_URL"])
    # Signed with the server's audit key (its instance directory), as the server's own script
    # would: tests end with `halsoval audit verify` over the whole trail.
    try:
        with pytest.MonkeyPatch.context() as env, make_session_factory(engine)() as db:
            env.setenv("HALSOVAL_INSTANCE", live_env["HALSOVAL_INSTANCE"])
            edition = db.scalar(sa.select(CatalogEdition).where(CatalogEdition.code == "UOR-2025"))
            ids = db.scalars(
                sa.select(Requirement.id).where(
                    Requirement.edition_id == edition.id, Requirement.code.in_(list(codes))
                )
            ).all()
            assert len(ids) == len(set(codes)), "a requirement code is not in UOR-2025"
            purchaser = db.scalar(sa.select(User).where(User.username == "bestallare"))
            unit_id = db.scalar(sa.select(Unit.id).where(Unit.code == unit))
            round_ = ops.open_round(
                db,
                purchaser,
                edition=edition,
                title=title,
                year=year,
                opens_on=dt.date(year, 1, 1),
                deadline=dt.date(year, 3, 31),
                selection=ops.RoundSelection(requirement_ids=ids, unit_ids=[unit_id]),
            )
            db.flush()
            checklist = db.scalar(sa.select(Checklist).where(Checklist.round_id == round_.id))
            if answers or documents or submit_as:
                head = db.scalar(sa.select(User).where(User.username == (submit_as or "vc.backen")))
                items = {i.requirement.code: i for i in ops.load_items(db, checklist)}
                for code, raw in (answers or {}).items():
                    item = items[code]
                    outcome = ops.save_item(
                        db, head, checklist, item, raw, loaded_version=item.version, year=year
                    )
                    assert outcome.ok, (code, outcome.error)
                store = EvidenceStore(Path(live_env["HALSOVAL_INSTANCE"]) / "underlag")
                for code in documents:
                    data = f"Rutin för {code}, fastställd 2025-01-10.".encode()
                    ops.add_evidence(
                        db, head, items[code], check_upload("rutin.txt", data), data, store
                    )
                if submit_as:
                    ops.submit(db, head, checklist)
            db.commit()
            return checklist.id
    finally:
        engine.dispose()


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def in_viewport(page, locator) -> bool:
    """The element's box lies (at least partly) inside the visible part of the page."""
    box = locator.bounding_box()
    size = page.viewport_size
    return (
        box is not None
        and box["width"] > 0
        and box["y"] < size["height"]
        and box["y"] + box["height"] > 0
        and box["x"] < size["width"]
    )
