"""Användaradministration in the UI: create with a one-time password that must be changed,
grant and revoke roles, deactivate, reset; every user's own password change; weak passwords
refused; all of it in the trail, and no password anywhere in it."""

import re

import pytest
import sqlalchemy as sa

from audit import accounts
from audit.models import LoginSession, Role, User
from audit.trail import AuditEvent, verify
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, TEST_ACTOR, make_unit, make_user

OTP_RE = re.compile(r'<code id="otp">([a-z0-9-]+)</code>')


@pytest.fixture
def world(db):
    make_unit(db, "backen", name="Backens hälsocentral")
    admin = make_user(db, "admin", (Role.ADMIN, None), display_name="Ada Admin")
    vera = make_user(db, "vera", (Role.VERKSAMHETSCHEF, "backen"), display_name="Vera VC")
    db.commit()
    return {"admin": admin, "vera": vera}


@pytest.fixture
def admin_client(app, world):
    client = app.test_client()
    assert login(client, "admin", PASSWORD).status_code == 302
    return client


def _post(client, path, data, page=None):
    return client.post(path, data={"csrf_token": csrf_token(client, page or path), **data})


def _create(client, **fields):
    data = {"username": "bo.berg", "display_name": "Bo Berg", "role": "personal", "unit": "backen"}
    data.update(fields)
    return _post(client, "/anvandare/ny", data)


def _trail(db, user_id):
    return db.scalars(
        sa.select(AuditEvent.action)
        .where(
            AuditEvent.entity_type == "user",
            AuditEvent.entity_id == str(user_id),
            AuditEvent.action.not_in(("login", "logout", "login_failed")),
        )
        .order_by(AuditEvent.id)
    ).all()


def test_create_shows_one_time_password_once_and_first_login_must_change_it(app, admin_client, db):
    response = _create(admin_client)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert "Användaren Bo Berg har skapats" in page
    password = OTP_RE.search(page).group(1)
    user = db.scalar(sa.select(User).where(User.username == "bo.berg"))
    assert user.must_change_password
    assert [(a.role, a.unit.code) for a in user.roles] == [(Role.PERSONAL, "backen")]
    assert _trail(db, user.id) == ["create", "grant_role"]

    bo = app.test_client()
    response = login(bo, "bo.berg", password)
    assert response.status_code == 302 and response.location.startswith("/konto/losenord")
    # Every page leads to the password change until it is done.
    for path in ("/", "/enheter/", "/enheter/backen"):
        answer = bo.get(path)
        assert answer.status_code == 302 and answer.location.startswith("/konto/losenord")
    assert "Du loggade in med ett engångslösenord" in bo.get("/konto/losenord").get_data(
        as_text=True
    )
    new = "grusväg tallskog kaffepanna"
    response = _post(bo, "/konto/losenord", {"current": password, "new": new, "repeat": new})
    assert response.status_code == 302
    assert bo.get("/").status_code == 200
    db.refresh(user)
    assert not user.must_change_password
    assert _trail(db, user.id)[-1] == "change_password"
    # The one-time password no longer works; the new one does.
    assert login(app.test_client(), "bo.berg", password).status_code == 200
    assert login(app.test_client(), "bo.berg", new).status_code == 302


def test_no_password_in_the_trail_or_the_database(admin_client, db, world):
    password = OTP_RE.search(_create(admin_client).get_data(as_text=True)).group(1)
    user = db.scalar(sa.select(User).where(User.username == "bo.berg"))
    reset = _post(
        admin_client, f"/anvandare/{user.id}/engangslosenord", {}, f"/anvandare/{user.id}"
    )
    second = OTP_RE.search(reset.get_data(as_text=True)).group(1)
    assert second != password
    rows = db.execute(sa.text("SELECT * FROM audit_events")).all()
    dump = " ".join(str(value) for row in rows for value in row)
    assert password not in dump and second not in dump
    assert password not in user.password_hash and second not in user.password_hash


def test_bad_new_user_gets_swedish_errors_in_a_summary_and_keeps_what_was_typed(admin_client, db):
    response = _create(
        admin_client, username="vera", display_name="Vera Två", role="personal", unit=""
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="error-summary"' in page and "Det finns ett problem" in page
    assert 'href="#unit"' in page and "Välj den enhet som rollen gäller." in page
    assert 'value="Vera Två"' in page
    taken = _create(admin_client, username="Vera", unit="backen")
    assert taken.status_code == 422
    assert "Användarnamnet &#39;vera&#39; är upptaget." in taken.get_data(as_text=True) or (
        "upptaget" in taken.get_data(as_text=True)
    )
    bad = _create(admin_client, username="åsa öberg")
    assert bad.status_code == 422 and "Användarnamnet får bara" in bad.get_data(as_text=True)
    pnr = _create(admin_client, username="x.y", display_name="Bo 19121212-1212")
    assert pnr.status_code == 422 and "personnummer" in pnr.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).select_from(User)) == 2


def test_region_role_ignores_a_chosen_unit(admin_client, db):
    _create(admin_client, username="gun", display_name="Gun Granskare", role="granskare")
    user = db.scalar(sa.select(User).where(User.username == "gun"))
    assert [(a.role, a.unit_id) for a in user.roles] == [(Role.GRANSKARE, None)]


def test_grant_and_revoke_roles_in_the_trail(admin_client, db, world):
    vera = world["vera"]
    page = f"/anvandare/{vera.id}"
    response = _post(admin_client, f"{page}/roller", {"role": "lasare", "unit": ""}, page)
    assert response.status_code == 302
    again = _post(admin_client, f"{page}/roller", {"role": "lasare", "unit": ""}, page)
    assert again.status_code == 409 and "redan den rollen" in again.get_data(as_text=True)
    db.expire_all()
    vera = db.get(User, vera.id)
    assert {a.role for a in vera.roles} == {Role.VERKSAMHETSCHEF, Role.LASARE}
    reader = next(a for a in vera.roles if a.role == Role.LASARE)
    response = _post(admin_client, f"{page}/roller/{reader.id}/ta-bort", {}, page)
    assert response.status_code == 302
    db.expire_all()
    assert {a.role for a in db.get(User, vera.id).roles} == {Role.VERKSAMHETSCHEF}
    assert _trail(db, vera.id)[-2:] == ["grant_role", "revoke_role"]
    history = admin_client.get(page).get_data(as_text=True)
    assert "roll tilldelad" in history and "roll borttagen" in history
    assert verify(db).ok


def test_the_admin_cannot_lock_themselves_out(admin_client, db, world):
    admin = world["admin"]
    page = f"/anvandare/{admin.id}"
    assignment = admin.roles[0]
    response = _post(admin_client, f"{page}/roller/{assignment.id}/ta-bort", {}, page)
    assert response.status_code == 409
    assert "egen administratörsroll" in response.get_data(as_text=True)
    response = _post(admin_client, f"{page}/status", {"active": "0"}, page)
    assert response.status_code == 409 and "ditt eget konto" in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(User, admin.id).active and db.get(User, admin.id).has_role(Role.ADMIN)


def test_deactivation_ends_the_users_logins_at_once(app, admin_client, db, world):
    vera_client = app.test_client()
    login(vera_client, "vera", PASSWORD)
    assert vera_client.get("/").status_code == 200
    page = f"/anvandare/{world['vera'].id}"
    assert _post(admin_client, f"{page}/status", {"active": "0"}, page).status_code == 302
    assert vera_client.get("/").status_code == 302
    assert login(app.test_client(), "vera", PASSWORD).status_code == 200  # refused
    assert _post(admin_client, f"{page}/status", {"active": "1"}, page).status_code == 302
    assert login(app.test_client(), "vera", PASSWORD).status_code == 302
    assert _trail(db, world["vera"].id)[-2:] == ["deactivate", "activate"]


def test_one_time_password_reset_ends_sessions_and_requires_a_change(app, admin_client, world):
    vera_client = app.test_client()
    login(vera_client, "vera", PASSWORD)
    page = f"/anvandare/{world['vera'].id}"
    reset = _post(admin_client, f"{page}/engangslosenord", {}, page)
    password = OTP_RE.search(reset.get_data(as_text=True)).group(1)
    assert vera_client.get("/").status_code == 302
    assert login(app.test_client(), "vera", PASSWORD).status_code == 200
    response = login(vera_client, "vera", password)
    assert response.location.startswith("/konto/losenord")


def test_own_password_change_refuses_weak_and_wrong_and_keeps_this_login(app, db, world):
    here, elsewhere = app.test_client(), app.test_client()
    login(here, "vera", PASSWORD)
    login(elsewhere, "vera", PASSWORD)
    path = "/konto/losenord"
    wrong = _post(
        here, path, {"current": "inte mitt lösenord", "new": "x" * 20, "repeat": "x" * 20}
    )
    assert wrong.status_code == 422
    assert "Det nuvarande lösenordet stämmer inte." in wrong.get_data(as_text=True)
    for weak in ("Sommar12", "lösenord1234", "Västerbotten2025", "vera.vc.2025!"):
        response = _post(here, path, {"current": PASSWORD, "new": weak, "repeat": weak})
        assert response.status_code == 422, weak
        text = response.get_data(as_text=True)
        assert "för lätt att gissa" in text or "minst 12 tecken" in text or "ditt namn" in text
    differ = _post(here, path, {"current": PASSWORD, "new": "a" * 20, "repeat": "b" * 20})
    assert "De två nya lösenorden är olika." in differ.get_data(as_text=True)
    new = "blåbärssoppa vasaloppet snöskoter"
    assert _post(here, path, {"current": PASSWORD, "new": new, "repeat": new}).status_code == 302
    assert here.get("/").status_code == 200  # this login stays
    assert elsewhere.get("/").status_code == 302  # the others end
    open_sessions = db.scalar(
        sa.select(sa.func.count())
        .select_from(LoginSession)
        .where(LoginSession.user_id == world["vera"].id, LoginSession.ended_at.is_(None))
    )
    assert open_sessions == 1


def _table(client, path):
    page = client.get(path).get_data(as_text=True)
    return page[page.index('<table class="data">') :]


def test_users_list_filters_and_sorts(admin_client, world):
    page = admin_client.get("/anvandare/").get_data(as_text=True)
    assert "Ada Admin" in page and "Vera VC" in page and "2 användare" in page
    only_heads = _table(admin_client, "/anvandare/?roll=verksamhetschef")
    assert "Vera VC" in only_heads and "Ada Admin" not in only_heads
    found = _table(admin_client, "/anvandare/?q=VER")
    assert "Vera VC" in found and "Ada Admin" not in found
    wildcard = _table(admin_client, "/anvandare/?q=%25")
    assert "Inga användare matchar filtret." in wildcard
    by_login = _table(admin_client, "/anvandare/?sort=last_login&dir=desc")
    assert by_login.index("Ada Admin") < by_login.index("Vera VC")  # Ada is logged in, Vera never
    assert 'aria-sort="descending"' in by_login


@pytest.mark.parametrize(
    ("password", "inputs", "refused"),
    [
        ("kort", (), "minst 12 tecken"),
        ("abc123abc123", (), "för lätt"),
        ("lösenord2025!", (), "för lätt"),
        ("Hälsocentral1!", (), "för lätt"),
        ("annaandersson99", ("anna.andersson", "Anna Andersson"), "ditt namn"),
        ("rätt häst batteri häftklammer", (), None),
        ("grusväg tallskog kaffepanna", ("bo.berg", "Bo Berg"), None),
    ],
)
def test_password_strength(password, inputs, refused):
    problem = accounts.password_problem(password, inputs)
    assert (problem is None) if refused is None else (refused in problem)


def test_weak_passwords_refused_on_the_command_line_too(db):
    with pytest.raises(accounts.AccountError, match="för lätt"):
        make_user(db, "svag", password="Sommar2025!!")
    user = make_user(db, "stark")
    with pytest.raises(accounts.AccountError, match="för lätt"):
        accounts.set_password(db, TEST_ACTOR, user, "qwertyuiopasd")
