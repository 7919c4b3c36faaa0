"""Where an item save's time goes: its SQL statements and a profile, in process.

Usage:

    .venv/bin/python bench/profile_save.py [--postgres] [--saves 400] [--top 25]

Builds a small world with ``bench/national.py``'s builder (26 real units, one round), logs in
one member of staff, then saves one yes/no item ``--saves`` times (alternating the answer)
through the real endpoint with Flask's test client. Prints the statements one save runs and the
functions taking the most cumulative and own time (cProfile). No figure here is a benchmark
result -- the ratios are ``bench/national.py``'s -- this is the tool for finding the next one.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import national  # noqa: E402
from sqlalchemy import event  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--saves", type=int, default=400)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        os.environ["HALSOVAL_INSTANCE"] = str(tmp / "instance")
        if args.postgres:
            from tests.servers import PostgresServer

            postgres = PostgresServer().start()
            stack.callback(postgres.stop)
            url = postgres.create_database("halsoval_profile")
        else:
            url = f"sqlite:///{tmp / 'profile.sqlite3'}"
        world = national.build(url, 26, 1, 2)
        run(world, args)


def run(world, args) -> None:
    from web import create_app

    app = create_app({"DATABASE_URL": world.url, "SECRET_KEY": national.SECRET_KEY})
    client = app.test_client()
    national.login_client(client, world.staff[0])
    page = client.get(f"/checklistor/{world.checklist_id}").get_data(as_text=True)
    csrf = national.CSRF_RE.search(page).group(1)
    item_id, _ = national.pick_items(world, 1)[0]
    version = national.item_state(world, [item_id])[item_id][0]
    path = f"/checklistor/{world.checklist_id}/punkter/{item_id}/svar"
    engine = app.extensions["halsoval.engine"]
    statements: list[str] = []

    def save(n: int) -> None:
        nonlocal version
        p = f"i{item_id}_"
        response = client.post(
            path,
            data={
                "csrf_token": csrf,
                p + "version": version,
                p + "answer": "yes" if n % 2 else "no",
            },
            headers={"Accept": "application/json"},
        )
        assert response.status_code == 200, (response.status_code, response.get_data()[:200])
        version = response.get_json()["version"]

    for n in range(20):  # warm caches
        save(n)

    def log_statement(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split())[:160])

    event.listen(engine, "before_cursor_execute", log_statement)
    save(20)  # the warm-up's last save answered "yes"; this one changes it
    event.remove(engine, "before_cursor_execute", log_statement)
    print(f"one save runs {len(statements)} statements:")
    for statement in statements:
        print("  ", statement)

    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.enable()
    for n in range(args.saves):
        save(n)
    profile.disable()
    elapsed = time.perf_counter() - start
    print(f"\n{args.saves} saves in process: {elapsed / args.saves * 1000:.2f} ms each (profiled)")
    stats = pstats.Stats(profile)
    stats.sort_stats("cumulative").print_stats(
        r"/work/|site-packages/(flask|flask_login|flask_wtf|jinja2)/", args.top
    )
    stats.sort_stats("tottime").print_stats(args.top)
    start = time.perf_counter()
    for n in range(args.saves):
        save(n)
    elapsed = time.perf_counter() - start
    print(f"{args.saves} saves in process: {elapsed / args.saves * 1000:.2f} ms each (unprofiled)")


if __name__ == "__main__":
    main()
