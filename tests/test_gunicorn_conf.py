"""The gunicorn configuration bin/serve and the README use: it loads, serves, freezes."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from alembic import command

from audit.db import PROJECT_ROOT, make_engine
from tests.servers import free_port, wait_for_http
from web.cli import alembic_config

VENV_BIN = Path(sys.executable).parent


@pytest.mark.parametrize("preload", [False, True], ids=["per-worker", "preload"])
def test_gunicorn_serves_with_the_config_and_freezes_the_app(tmp_path, preload):
    url = f"sqlite:///{tmp_path / 'halsoval.sqlite3'}"
    engine = make_engine(url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(url, connection=connection), "head")
    engine.dispose()
    env = dict(
        os.environ,
        HALSOVAL_DATABASE_URL=url,
        HALSOVAL_INSTANCE=str(tmp_path / "instance"),
        HALSOVAL_SECRET_KEY="test-secret-key",
    )
    port = free_port()
    args = [str(VENV_BIN / "gunicorn"), "--config", "python:web.gunicorn_conf"]
    args += ["--bind", f"127.0.0.1:{port}", "--workers", "2", *(["--preload"] if preload else [])]
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        process = subprocess.Popen(args, env=env, cwd=PROJECT_ROOT, stdout=out, stderr=out)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/halsa")
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/logga-in", headers={"Accept-Encoding": "gzip"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
            assert response.status == 200
            assert response.headers["Content-Encoding"] == "gzip"
    finally:
        process.terminate()
        process.wait(timeout=10)
    text = log.read_text()
    assert text.count("app loaded;") == 2, text  # both workers froze the loaded app
    assert ("app preloaded;" in text) == preload, text
