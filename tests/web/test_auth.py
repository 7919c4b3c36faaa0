"""Login, logout, cookie replay, idle timeout, throttling and CSRF through the web."""

import datetime as dt

import pytest

from audit import accounts
from audit import db as audit_db
from audit.models import Role
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_unit, make_user


@pytest.fixture
def user(db):
    make_unit(db, "backen", name="Backens hälsocentral")
    user = make_user(db, "vera", (Role.VERKSAMHETSCHEF, "backen"), display_name="Vera VC")
    db.commit()
    return user


def test_anonymous_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.location.startswith("/logga-in?next=")


def test_login_shows_start_page_in_swedish(client, user):
    response = login(client, "vera", PASSWORD)
    assert response.status_code == 302 and response.location == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Välkommen, Vera VC" in page
    assert "Backens hälsocentral" in page
    assert '<html lang="sv">' in page


def test_wrong_password_is_refused_with_swedish_message(client, user):
    response = login(client, "vera", "fel lösenord igen")
    assert response.status_code == 200
    assert "Fel användarnamn eller lösenord." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_typed_user_name_is_kept_after_error(client, user):
    response = login(client, "vera", "fel lösenord igen")
    assert 'value="vera"' in response.get_data(as_text=True)


def test_throttled_after_repeated_failures(client, user):
    for _ in range(accounts.MAX_FAILURES_PER_PAIR):
        login(client, "vera", "fel lösenord igen")
    response = login(client, "vera", PASSWORD)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == str(15 * 60)
    assert (
        "För många misslyckade inloggningsförsök. Vänta 15 minuter och försök igen."
        in response.get_data(as_text=True)
    )
    assert client.get("/").status_code == 302


def test_failed_logins_are_logged_without_name_or_password(client, user, caplog):
    caplog.set_level("INFO")
    login(client, "vera", "hemligt-fel-lösen")
    text = caplog.text
    assert "login failed" in text
    assert "hemligt-fel-lösen" not in text and "vera" not in text


def test_session_is_rotated_at_login(client, user):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker before login"
    login(client, "vera", PASSWORD)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_replayed_cookie_after_logout_does_not_work(client, user):
    login(client, "vera", PASSWORD)
    assert client.get("/").status_code == 200
    stolen = client.get_cookie("halsoval_session").value
    token = csrf_token(client, "/")
    response = client.post("/logga-ut", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/").status_code == 302
    client.set_cookie("halsoval_session", stolen)
    response = client.get("/")
    assert response.status_code == 302 and response.location.startswith("/logga-in")


def test_logout_requires_post_with_csrf(client, user):
    login(client, "vera", PASSWORD)
    assert client.get("/logga-ut").status_code == 405
    assert client.post("/logga-ut").status_code == 400
    assert client.get("/").status_code == 200  # still logged in


def test_idle_session_expires(client, user, monkeypatch):
    start = dt.datetime.now(dt.UTC)
    monkeypatch.setattr(audit_db, "clock", lambda: start)
    login(client, "vera", PASSWORD)
    assert client.get("/").status_code == 200
    monkeypatch.setattr(audit_db, "clock", lambda: start + dt.timedelta(minutes=31))
    assert client.get("/").status_code == 302


def test_login_form_without_csrf_token_is_refused(client, user):
    response = client.post("/logga-in", data={"username": "vera", "password": PASSWORD})
    assert response.status_code == 400
    assert "Formuläret hade gått ut" in response.get_data(as_text=True)


def test_next_parameter_cannot_redirect_off_site(client, user):
    token = csrf_token(client)
    response = client.post(
        "/logga-in?next=//evil.example/",
        data={"csrf_token": token, "username": "vera", "password": PASSWORD},
    )
    assert response.location == "/"


def test_language_switch_to_english_and_back(client, user):
    login(client, "vera", PASSWORD)
    token = csrf_token(client, "/")
    client.post("/sprak", data={"csrf_token": token, "lang": "en", "next": "/"})
    page = client.get("/").get_data(as_text=True)
    assert "Welcome, Vera VC" in page and '<html lang="en">' in page
    client.post("/sprak", data={"csrf_token": token, "lang": "sv", "next": "/"})
    assert "Välkommen" in client.get("/").get_data(as_text=True)


def _login_from(app, address, username, password):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client, login(client, username, password)


def test_guesses_from_elsewhere_do_not_lock_the_real_user_out(app, user):
    """Issue 9, finding 5: five wrong passwords from any address made the right password from
    the user's own address answer 429 for 15 minutes."""
    client, response = _login_from(app, "10.1.1.1", "vera", PASSWORD)
    assert response.status_code == 302
    client.post("/logga-ut", data={"csrf_token": csrf_token(client, "/")})
    for n in range(accounts.ACCOUNT_FREE_FAILURES + 5):
        _login_from(app, f"198.51.100.{n}", "vera", "fel lösenord igen")
    _, slowed = _login_from(app, "192.0.2.1", "vera", "fel lösenord igen")
    assert slowed.status_code == 429
    assert slowed.headers["Retry-After"] == "15"
    assert "Vänta 15 sekunder och försök igen." in slowed.get_data(as_text=True)
    _, response = _login_from(app, "10.1.1.1", "vera", PASSWORD)
    assert response.status_code == 302 and response.location == "/"
