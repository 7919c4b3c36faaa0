"""The physical limit of an item save: a bare Flask endpoint doing nothing but the UPDATE.

``POST /punkter/<item_id>/svar`` with the same form fields as the real endpoint
(``i<id>_version``, ``i<id>_answer``, ``i<id>_comment``) runs

    UPDATE checklist_items SET value=?, version=version+1, answered_at=?
    WHERE id=? AND version=?

in one transaction and answers ``{"ok": true, "version": N}`` (409 with the current version
when the version moved). No login, no CSRF, no evaluation, no audit trail: only Flask, the
project's engine settings (:func:`audit.db.make_engine`: WAL, busy timeout, BEGIN IMMEDIATE
for a writing request on SQLite) and the database. ``bench/national.py`` runs it under
gunicorn with the same settings as the app:

    HALSOVAL_DATABASE_URL=... gunicorn --config python:web.gunicorn_conf --pythonpath bench \
        --workers 4 bare_app:app
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from flask import Flask, jsonify, request  # noqa: E402

from audit.db import UTCDateTime, database_url, make_engine, write_intent  # noqa: E402

app = Flask(__name__)
engine = make_engine(database_url())
app.extensions["halsoval.engine"] = engine  # web.gunicorn_conf disposes it after a fork

UPDATE = sa.text(
    "UPDATE checklist_items SET value = :value, version = version + 1, answered_at = :at "
    "WHERE id = :id AND version = :version"
).bindparams(
    sa.bindparam("value", type_=sa.JSON()),
    sa.bindparam("at", type_=UTCDateTime()),
)
CURRENT = sa.text("SELECT version FROM checklist_items WHERE id = :id")


@app.post("/punkter/<int:item_id>/svar")
def save(item_id: int):
    prefix = f"i{item_id}_"
    try:
        version = int(request.form[prefix + "version"])
    except (KeyError, ValueError):
        return jsonify(ok=False), 400
    value = {"answer": request.form.get(prefix + "answer", "")}
    if comment := request.form.get(prefix + "comment"):
        value["comment"] = comment
    with write_intent(), engine.begin() as conn:
        params = {"value": value, "at": dt.datetime.now(dt.UTC), "id": item_id}
        updated = conn.execute(UPDATE, {**params, "version": version}).rowcount
        if updated != 1:
            current = conn.execute(CURRENT, {"id": item_id}).scalar()
            return jsonify(ok=False, version=current), 409
    return jsonify(ok=True, version=version + 1)


@app.get("/")
def alive():
    return "ok"
