"""The ``halsoval`` command: database, units, users, demo data and the audit trail.

halsoval db upgrade                 apply migrations (the only way the schema is made)
halsoval units load [FILE]          create or update units from YAML (default: seed units)
halsoval units export [FILE]        write the unit register in the same format (default: stdout)
halsoval users create NAME ...      create a user (password prompted, never on the command line)
halsoval users grant NAME ROLE [--unit CODE] / revoke / deactivate / list
halsoval audit verify [--checkpoints PATH]   check the signed chain against the checkpoints;
                                    exit 1 naming the kind of tampering and the row
halsoval audit checkpoint [--to PATH]         sign the head of a verified chain into a file
halsoval evidence gc [--delete]     evidence files no row references (dry run unless --delete)
halsoval deadlines scan             queue reminders (and their e-mails) for deadlines
halsoval outbox send [--limit N]    send the queued e-mail over SMTP (HALSOVAL_SMTP_*)
halsoval demo setup                 seed units and demo users (printed with passwords)
"""

from __future__ import annotations

import contextlib
import getpass
import os
import secrets
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from audit import accounts, units
from audit.db import PROJECT_ROOT, database_url, make_engine, make_session_factory, write_intent
from audit.models import Role, User
from audit.trail import (
    Actor,
    append_checkpoint,
    checkpoint_path,
    load_checkpoints,
    make_checkpoint,
    verify,
)
from checklists import catalog
from checklists.models import CatalogEdition, Requirement

MIGRATIONS = PROJECT_ROOT / "migrations"


def alembic_config(url: str | None = None, connection=None) -> Config:
    """Alembic configuration for ``url`` (or an open ``connection``)."""
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", (url or database_url()).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def cli_actor() -> Actor:
    """Events from the command line name the operating-system account that ran it."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "okänd"
    return Actor(label=f"cli:{who}")


@contextlib.contextmanager
def session_scope():
    """One session for a command; it may write, so on SQLite it takes the write lock at BEGIN
    and waits for a running app's writers instead of failing (see audit.db.write_intent)."""
    engine = make_engine()
    session = make_session_factory(engine)()
    try:
        with write_intent():
            yield session
            session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
        engine.dispose()


def _fail(message: str) -> None:
    click.echo(f"Fel: {message}", err=True)
    sys.exit(1)


@click.group()
def main() -> None:
    """Hälsoval uppföljning – administration från kommandoraden."""


# --- db ------------------------------------------------------------------------------------
@main.group()
def db() -> None:
    """Databasen och dess migreringar."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrera databasen till REVISION (standard: head)."""
    command.upgrade(alembic_config(), revision)


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrera ner till REVISION (t.ex. base)."""
    command.downgrade(alembic_config(), revision)


@db.command("current")
def db_current() -> None:
    """Visa databasens revision."""
    command.current(alembic_config())


# --- units ---------------------------------------------------------------------------------
@main.group("units")
def units_group() -> None:
    """Enheter."""


@units_group.command("load")
@click.argument(
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=units.DEFAULT_UNITS_FILE,
)
def units_load(path: Path) -> None:
    """Läs in enheter från en YAML-fil (idempotent; ändringar loggas)."""
    try:
        with session_scope() as session:
            report = units.load_units(session, cli_actor(), path)
    except units.UnitFileError as exc:
        _fail(str(exc))
    click.echo(
        f"Enheter: {len(report.created)} nya, {len(report.updated)} ändrade, "
        f"{len(report.unchanged)} oförändrade."
    )


@units_group.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), default="-")
def units_export(path: Path) -> None:
    """Exportera enhetsregistret som en enhetsfil (samma format som `units load` läser)."""
    with session_scope() as session:
        text = units.export_units(session)
    if str(path) == "-":
        click.echo(text, nl=False)
    else:
        path.write_text(text, encoding="utf-8")
        click.echo(f"Enhetsregistret skrivet till {path}.")


# --- catalog -------------------------------------------------------------------------------
@main.group("catalog")
def catalog_group() -> None:
    """Kravkatalogen: utgåvor av Uppdrag och regler och tilläggsuppdrag."""


@catalog_group.command("load")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def catalog_load(paths) -> None:
    """Läs in katalogutgåvor (standard: alla i checklists/editions/)."""
    paths = paths or catalog.default_edition_files()
    try:
        with session_scope() as session:
            for path in paths:
                result = catalog.load_edition(session, cli_actor(), path)
                edition = result.edition
                click.echo(
                    f"{edition.code}: {OUTCOMES[result.outcome]} ({path.name}, "
                    f"{len(edition.requirements)} krav"
                    + (
                        f", {len(edition.assignments)} tilläggsuppdrag"
                        if edition.assignments
                        else ""
                    )
                    + (
                        f"; {len(result.added)} nya, {len(result.removed)} borttagna, "
                        f"{len(result.changed)} ändrade"
                        if result.outcome == "updated"
                        else ""
                    )
                    + ")"
                )
    except catalog.CatalogError as exc:
        _fail(str(exc))


OUTCOMES = {"created": "inläst", "updated": "uppdaterad", "unchanged": "oförändrad"}


@catalog_group.command("list")
def catalog_list() -> None:
    """Lista inlästa utgåvor."""
    with session_scope() as session:
        rows = session.execute(
            sa.select(CatalogEdition.code, CatalogEdition.title, sa.func.count(Requirement.id))
            .outerjoin(Requirement)
            .group_by(CatalogEdition.id)
            .order_by(CatalogEdition.family, CatalogEdition.year)
        ).all()
    for code, title, count in rows:
        click.echo(f"{code:12} {count:4} krav  {title}")


@catalog_group.command("diff")
@click.argument("old")
@click.argument("new")
def catalog_diff(old, new) -> None:
    """Jämför två utgåvor: nya, borttagna, ändrad text, ändrad regel."""
    try:
        with session_scope() as session:
            diff = catalog.diff_editions(session, old, new)
            click.echo(f"{diff.old.code} → {diff.new.code}")
            click.echo(f"Nya krav ({len(diff.added)}):")
            for r in diff.added:
                click.echo(f"  + {r.code}  §{r.section} {r.heading}")
            click.echo(f"Borttagna krav ({len(diff.removed)}):")
            for r in diff.removed:
                click.echo(f"  - {r.code}  §{r.section} {r.heading}")
            click.echo(f"Ändrad text ({len(diff.text_changed)}):")
            for c in diff.text_changed:
                click.echo(f"  ~ {c.code}  {', '.join(c.text_fields)}")
            click.echo(f"Ändrad regel ({len(diff.rule_changed)}):")
            for c in diff.rule_changed:
                click.echo(f"  ! {c.code}  {', '.join(c.rule_fields)}")
    except catalog.CatalogError as exc:
        _fail(str(exc))


@catalog_group.command("check-quotes")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def catalog_check_quotes(path, source) -> None:
    """Kontrollera att varje källtext i PATH står ordagrant i källdokumentet SOURCE."""
    try:
        parsed = catalog.parse_edition(path)
    except catalog.CatalogError as exc:
        _fail(str(exc))
    missing = catalog.quotes_not_in_source(parsed, source.read_text(encoding="utf-8"))
    for code in missing:
        click.echo(f"Finns inte ordagrant i källan: {code}", err=True)
    if missing:
        sys.exit(1)
    click.echo(f"Alla {len(parsed.items)} källtexter finns ordagrant i {source.name}.")


# --- users ---------------------------------------------------------------------------------
def _parse_role(spec: str) -> tuple[Role, str | None]:
    role, _, unit = spec.partition(":")
    try:
        return Role(role), unit or None
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise click.BadParameter(f"okänd roll {role!r}; tillåtna: {allowed}") from None


def _user(session, username: str) -> User:
    user = session.scalar(
        sa.select(User).where(User.username == accounts.normalise_username(username))
    )
    if user is None:
        _fail(f"användaren {username!r} finns inte")
    return user


@main.group("users")
def users_group() -> None:
    """Användare och roller."""


@users_group.command("create")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Namn som visas.")
@click.option(
    "--role",
    "role_specs",
    multiple=True,
    help="Roll, t.ex. bestallare eller verksamhetschef:backen. Kan upprepas.",
)
@click.option("--password-stdin", is_flag=True, help="Läs lösenordet från standard in.")
def users_create(username, display_name, role_specs, password_stdin) -> None:
    """Skapa en användare. Lösenordet efterfrågas (eller läses från standard in)."""
    roles = [_parse_role(spec) for spec in role_specs]
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Lösenord", hide_input=True, confirmation_prompt=True)
    try:
        with session_scope() as session:
            actor = cli_actor()
            user = accounts.create_user(session, actor, username, display_name, password)
            for role, unit in roles:
                accounts.grant_role(session, actor, user, role, unit)
    except accounts.AccountError as exc:
        _fail(str(exc))
    click.echo(f"Användaren {accounts.normalise_username(username)} skapad.")


@users_group.command("grant")
@click.argument("username")
@click.argument("role")
@click.option("--unit", help="Enhetens kod (för verksamhetschef och personal).")
def users_grant(username, role, unit) -> None:
    """Ge en användare en roll."""
    role_value, _ = _parse_role(role)
    try:
        with session_scope() as session:
            accounts.grant_role(session, cli_actor(), _user(session, username), role_value, unit)
    except accounts.AccountError as exc:
        _fail(str(exc))
    click.echo("Rollen tilldelad.")


@users_group.command("revoke")
@click.argument("username")
@click.argument("role")
@click.option("--unit", help="Enhetens kod (för verksamhetschef och personal).")
def users_revoke(username, role, unit) -> None:
    """Ta bort en roll från en användare."""
    role_value, _ = _parse_role(role)
    try:
        with session_scope() as session:
            accounts.revoke_role(session, cli_actor(), _user(session, username), role_value, unit)
    except accounts.AccountError as exc:
        _fail(str(exc))
    click.echo("Rollen borttagen.")


@users_group.command("deactivate")
@click.argument("username")
def users_deactivate(username) -> None:
    """Inaktivera en användare (och avsluta dess sessioner)."""
    with session_scope() as session:
        accounts.set_active(session, cli_actor(), _user(session, username), False)
    click.echo("Användaren inaktiverad.")


@users_group.command("list")
def users_list() -> None:
    """Lista användare och roller."""
    with session_scope() as session:
        for user in session.scalars(sa.select(User).order_by(User.username)):
            roles = ", ".join(a.label() for a in user.roles) or "-"
            state = "" if user.active else " (inaktiv)"
            click.echo(f"{user.username:24} {user.display_name:30} {roles}{state}")


# --- deadlines -----------------------------------------------------------------------------
@main.group("deadlines")
def deadlines_group() -> None:
    """Bevakning av tidsgränser."""


@deadlines_group.command("scan")
@click.option("--today", "today_text", help="Datum att räkna från (ÅÅÅÅ-MM-DD); standard i dag.")
def deadlines_scan(today_text) -> None:
    """Köa påminnelser om tidsgränser som närmar sig eller har passerats (för cron)."""
    import datetime as dt

    from workflows.deadlines import scan

    try:
        today = dt.date.fromisoformat(today_text) if today_text else dt.date.today()
    except ValueError:
        _fail("ange datum som ÅÅÅÅ-MM-DD")
    with session_scope() as session:
        result = scan(session, today)
    click.echo(
        f"Nya påminnelser: {result.due_soon} närmar sig, {result.overdue} försenade; "
        f"{result.emails} e-postmeddelanden köade."
    )


# --- outbox --------------------------------------------------------------------------------
@main.group("outbox")
def outbox_group() -> None:
    """Utkorgen: e-post som väntar på att skickas."""


@outbox_group.command("send")
@click.option("--limit", default=500, show_default=True, help="Högst så många meddelanden.")
def outbox_send(limit: int) -> None:
    """Skicka det som väntar i utkorgen över SMTP (för cron; säkert att köra parallellt).

    SMTP enligt miljön: HALSOVAL_SMTP_HOST, _PORT, _USER, _PASSWORD, _STARTTLS, _FROM.
    """
    from audit.outbox import SmtpSettings, send_pending

    try:
        settings = SmtpSettings.from_env()
    except ValueError as exc:
        _fail(str(exc))
    engine = make_engine()
    try:
        result = send_pending(make_session_factory(engine), settings, limit=limit)
    finally:
        engine.dispose()
    click.echo(
        f"Skickade: {result.sent}, försöks igen senare: {result.retried}, "
        f"misslyckade: {result.failed}, osäker leverans: {result.uncertain}."
    )


# --- evidence ------------------------------------------------------------------------------
def evidence_dir() -> Path:
    """The evidence store the app uses: HALSOVAL_EVIDENCE_DIR, else instance/underlag."""
    if configured := os.environ.get("HALSOVAL_EVIDENCE_DIR"):
        return Path(configured)
    return Path(os.environ.get("HALSOVAL_INSTANCE", PROJECT_ROOT / "instance")) / "underlag"


@main.group("evidence")
def evidence_group() -> None:
    """Underlagsfilerna."""


@evidence_group.command("gc")
@click.option(
    "--delete",
    is_flag=True,
    help="Ta verkligen bort filerna (utan flaggan visas bara vad som skulle tas bort).",
)
def evidence_gc(delete: bool) -> None:
    """Ta bort underlagsfiler som ingen rad i databasen hänvisar till och som är äldre än en
    timme, och flytta in filer vars rad sparades men som aldrig kom på plats."""
    import web.schema  # noqa: F401  (every table that references stored files)
    from checklists.evidence import EvidenceStore, collect_garbage
    from workflows.cases.models import CaseDocument

    store = EvidenceStore(evidence_dir())
    # The ärenden's documents live in a store of their own (``arenden/``), collected against
    # their own rows, so that neither store's rows can keep or lose the other's files.
    case_store = EvidenceStore(evidence_dir() / "arenden")
    with session_scope() as session:
        report = collect_garbage(session, store, delete=delete)
        cases = collect_garbage(
            session, case_store, delete=delete, referenced_by=CaseDocument.sha256
        )
    report.orphans += cases.orphans
    report.recovered += cases.recovered
    report.stale_incoming += cases.stale_incoming
    report.kept_young += cases.kept_young
    report.freed_bytes += cases.freed_bytes
    megabytes = f"{report.freed_bytes / (1024 * 1024):.1f}".replace(".", ",")
    verb = "Borttagna" if delete else "Skulle tas bort"
    click.echo(
        f"{verb}: {len(report.orphans)} filer utan rad i databasen och "
        f"{report.stale_incoming} ofullbordade uppladdningar ({megabytes} MB)."
    )
    if report.recovered:
        verb = "Flyttade på plats" if delete else "Skulle flyttas på plats"
        click.echo(f"{verb}: {len(report.recovered)} filer vars rad finns.")
    if report.kept_young:
        click.echo(f"Kvar (yngre än en timme): {report.kept_young} filer utan rad.")
    if not delete and (report.orphans or report.stale_incoming or report.recovered):
        click.echo("Kör med --delete för att genomföra.")


# --- audit ---------------------------------------------------------------------------------
@main.group("audit")
def audit_group() -> None:
    """Granskningsloggen."""


@contextlib.contextmanager
def read_scope():
    """One session for a command that only reads: no write intent, so on SQLite it takes no
    write lock and a long walk of the trail does not hold up the app's writers."""
    engine = make_engine()
    session = make_session_factory(engine)()
    if engine.dialect.name == "postgresql":
        # One snapshot for the whole walk (and the checkpoint taken after it), as on SQLite.
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    try:
        yield session
    finally:
        session.rollback()
        session.close()
        engine.dispose()


def _report_broken(result) -> None:
    click.echo(
        f"Kedjan är bruten vid rad {result.bad_id}: {result.problem} "
        f"({result.checked} rader före den är hela).",
        err=True,
    )
    sys.exit(1)


@audit_group.command("verify")
@click.option(
    "--checkpoints",
    "checkpoints_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Kontrollpunktsfilen (standard: instance/audit-checkpoints.jsonl).",
)
def audit_verify(checkpoints_file: Path | None) -> None:
    """Kontrollera den signerade kedjan mot kontrollpunkterna; avslutar med kod 1 och säger
    vilket slags manipulation som hittats och vid vilken rad."""
    path = checkpoints_file or checkpoint_path()
    checkpoints = load_checkpoints(path)
    with read_scope() as session:
        result = verify(session, checkpoints=checkpoints)
    if not result.ok:
        _report_broken(result)
    click.echo(f"Kedjan är hel: {result.checked} rader kontrollerade.")
    if result.head_hash:
        click.echo(f"Senaste hash: {result.head_hash}")
    latest = result.latest_checkpoint
    if latest is None:
        click.echo(
            f"Ingen kontrollpunkt i {path}: borttagna senaste rader kan inte upptäckas. "
            "Skriv en med 'halsoval audit checkpoint'."
        )
    else:
        click.echo(
            f"Stämmer med {result.checkpoints} kontrollpunkter; den senaste från {latest.when} "
            f"vid rad {latest.id}."
        )


@audit_group.command("checkpoint")
@click.option(
    "--to",
    "target",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Fil att lägga kontrollpunkten sist i (standard: instance/audit-checkpoints.jsonl; "
    "- skriver den på standard ut).",
)
def audit_checkpoint(target: Path | None) -> None:
    """Signera kedjans senaste rad (id, hash, tid) i en fil utanför databasen – efter att
    kedjan kontrollerats mot de kontrollpunkter som redan finns där."""
    to_stdout = target is not None and str(target) == "-"
    path = checkpoint_path() if target is None or to_stdout else target
    with read_scope() as session:
        result = verify(session, checkpoints=load_checkpoints(path))
        if not result.ok:
            click.echo("Ingen kontrollpunkt skrevs: kedjan är inte hel.", err=True)
            _report_broken(result)
        checkpoint = make_checkpoint(session)
    if to_stdout:
        click.echo(checkpoint.to_json())
        return
    append_checkpoint(path, checkpoint)
    click.echo(f"Kontrollpunkt vid rad {checkpoint.id} ({checkpoint.hash[:16]}…) tillagd i {path}.")


# --- demo ----------------------------------------------------------------------------------
DEMO_USERS = [
    ("admin", "Ada Administratör", [(Role.ADMIN, None)]),
    ("bestallare", "Bo Beställare", [(Role.BESTALLARE, None)]),
    ("granskare", "Greta Granskare", [(Role.GRANSKARE, None)]),
    ("lasare", "Lars Läsare", [(Role.LASARE, None)]),
    ("vc.backen", "Vera Verksamhetschef (Backen)", [(Role.VERKSAMHETSCHEF, "backen")]),
    ("personal.backen", "Per Personal (Backen)", [(Role.PERSONAL, "backen")]),
    ("vc.byske", "Vilma Verksamhetschef (Byske)", [(Role.VERKSAMHETSCHEF, "byske")]),
]


@main.group("demo")
def demo_group() -> None:
    """Demodata för att prova systemet."""


@demo_group.command("setup")
def demo_setup() -> None:
    """Läs in enheter och kataloger och skapa demoanvändare (lösenorden skrivs ut och sparas
    i instance/)."""
    store = PROJECT_ROOT / "instance" / "demo-anvandare.txt"
    store.parent.mkdir(exist_ok=True)
    known: dict[str, str] = {}
    if store.exists():
        for line in store.read_text().splitlines():
            if "\t" in line:
                name, password = line.split("\t", 1)
                known[name] = password
    with session_scope() as session:
        actor = cli_actor()
        units.load_units(session, actor)
        for path in catalog.default_edition_files():
            try:
                catalog.load_edition(session, actor, path)
            except catalog.CatalogError as exc:
                # An edition already answered in rounds keeps its rows (checked before anything
                # changes); the demo goes on with what is loaded, and says so.
                click.echo(f"Varning: {exc}", err=True)
        for username, display_name, roles in DEMO_USERS:
            exists = session.scalar(sa.select(User.id).where(User.username == username))
            if exists is not None:
                continue
            password = secrets.token_urlsafe(12)
            user = accounts.create_user(session, actor, username, display_name, password)
            for role, unit in roles:
                accounts.grant_role(session, actor, user, role, unit)
            known[username] = password
    fd = os.open(store, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("".join(f"{n}\t{p}\n" for n, p in known.items()))
    click.echo("")
    click.echo("DEMOANVÄNDARE – endast för att prova systemet, inte för skarp drift:")
    for username, display_name, _roles in DEMO_USERS:
        password = known.get(username, "(okänt – skapad tidigare utan sparat lösenord)")
        click.echo(f"  {username:18} {password:20} {display_name}")
    click.echo(f"(Lösenorden finns också i {store}.)")


if __name__ == "__main__":
    main()
