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
    port = free_port()
    process = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
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
