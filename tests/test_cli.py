"""The ``halsoval`` command, run as an administrator would (in-process with Click's runner)."""

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from audit.db import make_engine
from web.cli import main


@pytest.fixture
def cli(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("HALSOVAL_DATABASE_URL", url)
    runner = CliRunner()

    def run(*args, input=None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    assert run("db", "upgrade").exit_code == 0
    run.url = url
    return run


def test_create_user_with_role_and_list(cli):
    assert cli("units", "load").exit_code == 0
    result = cli(
        "users",
        "create",
        "Anna.A",
        "--name",
        "Anna A",
        "--role",
        "verksamhetschef:backen",
        "--password-stdin",
        input="ett långt lösenord\n",
    )
    assert result.exit_code == 0, result.output
    listing = cli("users", "list").output
    assert "anna.a" in listing and "verksamhetschef:backen" in listing


def test_bad_role_and_short_password_get_swedish_errors(cli):
    result = cli(
        "users",
        "create",
        "bo",
        "--name",
        "Bo",
        "--role",
        "kung",
        "--password-stdin",
        input="ett långt lösenord\n",
    )
    assert result.exit_code != 0 and "okänd roll 'kung'" in result.output
    result = cli("users", "create", "bo", "--name", "Bo", "--password-stdin", input="kort\n")
    assert result.exit_code == 1 and "minst 12 tecken" in result.output


def test_grant_and_revoke(cli):
    cli("units", "load")
    cli(
        "users",
        "create",
        "cecilia",
        "--name",
        "C",
        "--password-stdin",
        input="ett långt lösenord\n",
    )
    assert cli("users", "grant", "cecilia", "personal", "--unit", "byske").exit_code == 0
    assert "personal:byske" in cli("users", "list").output
    assert cli("users", "revoke", "cecilia", "personal", "--unit", "byske").exit_code == 0
    assert "personal:byske" not in cli("users", "list").output
    result = cli("users", "grant", "cecilia", "personal")
    assert result.exit_code == 1 and "måste kopplas till en enhet" in result.output


def test_units_load_reports_bad_file(cli, tmp_path):
    bad = tmp_path / "enheter.yaml"
    bad.write_text("units:\n- {code: x, name: X, kind: klinik, operator: privat, area: umea}\n")
    result = cli("units", "load", str(bad))
    assert result.exit_code == 1
    assert "enheter.yaml: enhet 'x': fältet 'kind'" in result.output


def test_units_export_loads_back_unchanged(cli, tmp_path):
    cli("units", "load")
    path = tmp_path / "export.yaml"
    assert cli("units", "export", str(path)).exit_code == 0
    assert "code: alidhem" in path.read_text(encoding="utf-8")
    result = cli("units", "load", str(path))
    assert result.exit_code == 0 and "0 nya, 0 ändrade, 34 oförändrade" in result.output


def test_verify_passes_then_names_tampered_row(cli):
    cli("units", "load")
    result = cli("audit", "verify")
    assert result.exit_code == 0 and "Kedjan är hel: 34 rader" in result.output
    engine = make_engine(cli.url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER audit_events_no_update")
        conn.execute(sa.text("UPDATE audit_events SET actor_label = 'någon annan' WHERE id = 7"))
    engine.dispose()
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert "Kedjan är bruten vid rad 7" in result.output


def test_demo_setup_is_idempotent_and_marks_demo(cli, monkeypatch, tmp_path):
    import web.cli as web_cli

    monkeypatch.setattr(web_cli, "PROJECT_ROOT", tmp_path)
    first = cli("demo", "setup")
    assert first.exit_code == 0 and "DEMOANVÄNDARE" in first.output
    second = cli("demo", "setup")
    assert second.exit_code == 0
    # Same passwords printed again, read back from the instance file.
    line = next(li for li in first.output.splitlines() if li.strip().startswith("bestallare"))
    assert line in second.output
    assert (tmp_path / "instance" / "demo-anvandare.txt").stat().st_mode & 0o777 == 0o600
