"""In real Chromium: the idle timeout. Two minutes before the login session idles out a dialog
warns and "Fortsätt vara inloggad" extends it (WCAG 2.2.1), in every tab; when the session has
ended — a save answered 401, or the page's timer ran out — what was typed is kept in the
browser, the user logs in again and finds it filled in. The page's clock is Playwright's, so
that half an hour passes at once; the server's side is ended in its database."""

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import (
    ARTIFACTS,
    BROWSER_PASSWORD,
    TIMEOUT_MS,
    log_in,
    screenshot,
    seed_checklist,
)
from tests.browser.test_accessibility import _audit
from tests.browser.test_checklist_sections import PHYSIO, SAFETY, item

pytestmark = pytest.mark.browser

KEEP_ALIVE = "/inloggning/fortsatt"
COMMENT = "Två fysioterapeuter från mars, rutinen fastställd 2025-02-10."


def _fresh_page(browser, live_server, username, *, width=1280, height=900, clock=True):
    """A context of its own, logged in through the form (a login session no other test
    shares: these tests end it), with Playwright's clock installed before the first page."""
    context = browser.new_context(locale="sv-SE", viewport={"width": width, "height": height})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    if clock:
        page.clock.install()
    log_in(page, live_server, username)
    return page


def _end_server_session(live_env, username):
    """The server's side of a timeout: the user's newest login session last seen 31 minutes
    ago, as if nothing had been asked of the server since."""
    from audit.db import make_engine, make_session_factory, utcnow
    from audit.models import LoginSession, User

    engine = make_engine(live_env["HALSOVAL_DATABASE_URL"])
    try:
        with make_session_factory(engine)() as db:
            user_id = db.scalar(sa.select(User.id).where(User.username == username))
            login_id = db.scalar(
                sa.select(sa.func.max(LoginSession.id)).where(LoginSession.user_id == user_id)
            )
            db.execute(
                sa.update(LoginSession)
                .where(LoginSession.id == login_id)
                .values(last_seen_at=utcnow() - dt.timedelta(minutes=31))
            )
            db.commit()
    finally:
        engine.dispose()


def _screenshot_viewport(page, name):
    """What the user sees with the dialog open: the modal's backdrop covers the viewport, so
    a full-page picture would show the page below it undimmed."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _warning(page):
    return page.get_by_role("alertdialog", name="Du loggas ut om 2 minuter")


def _log_in_again(page, live_server, path, *, check_accessibility=False):
    """On the login page the timer sent us to: the reason and the promise, then the form."""
    page.wait_for_url(re.compile(r"/logga-in\?next="))
    notice = page.get_by_role("status").filter(has_text="Du har loggats ut")
    expect(notice).to_contain_text("Du har loggats ut efter 30 minuter utan aktivitet.")
    expect(notice).to_contain_text(
        "Det du skrev är sparat i webbläsaren och fylls i igen när du har loggat in."
    )
    if check_accessibility:
        from axe_playwright_python.sync_playwright import Axe

        screenshot(page, "33-inloggning-efter-utloggning")
        problems = _audit(page, Axe())
        assert problems == [], problems
    page.get_by_label("Användarnamn").fill("vc.backen")
    page.get_by_label("Lösenord").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(live_server + path)


def _drafts(page):
    return page.evaluate(
        "Object.keys(sessionStorage).filter(k => k.indexOf('halsoval.draft:') === 0)"
    )


def test_the_warning_comes_two_minutes_before_and_the_button_extends(
    browser, live_server, live_env
):
    from axe_playwright_python.sync_playwright import Axe

    checklist = seed_checklist(live_env, "Uppföljning 2025 – varning före utloggning", [SAFETY])
    path = f"/checklistor/{checklist}/avsnitt/2.6"
    page = _fresh_page(browser, live_server, "vc.backen")
    page.goto(live_server + path)
    page.get_by_label("Kommentar (frivillig)").focus()

    page.clock.fast_forward("25:00")
    expect(_warning(page)).to_be_hidden()
    page.clock.fast_forward("03:30")  # 28.5 minutes without a request
    warning = _warning(page)
    expect(warning).to_be_visible()
    button = warning.get_by_role("button", name="Fortsätt vara inloggad")
    expect(button).to_be_focused()
    expect(warning).to_contain_text("loggas du ut efter 30 minuter utan aktivitet")
    _screenshot_viewport(page, "30-varning-fore-utloggning")
    problems = _audit(page, Axe())
    assert problems == [], problems

    with page.expect_response(lambda r: r.url.endswith(KEEP_ALIVE)) as answer:
        button.click()
    assert answer.value.status == 200 and answer.value.json()["idle_remaining"] == 1800
    expect(warning).to_be_hidden()
    expect(page.get_by_label("Kommentar (frivillig)")).to_be_focused()  # back where it was
    # Counted again from the click: no warning for another 28 minutes, and still logged in.
    page.clock.fast_forward("27:00")
    expect(warning).to_be_hidden()
    page.clock.fast_forward("01:30")
    expect(warning).to_be_visible()
    page.keyboard.press("Escape")  # as clear a "still here" as the button
    expect(warning).to_be_hidden()
    page.reload()
    assert page.url == live_server + path
    page.context.close()


def test_typing_on_the_page_keeps_the_session_alive(browser, live_server, live_env):
    checklist = seed_checklist(live_env, "Uppföljning 2025 – skriver länge", [SAFETY])
    page = _fresh_page(browser, live_server, "vc.backen")
    page.goto(f"{live_server}/checklistor/{checklist}/avsnitt/2.6")
    comment = page.get_by_label("Kommentar (frivillig)")
    page.clock.fast_forward("20:00")
    seen = page.evaluate("() => +localStorage.getItem('halsoval.session.seenHigh')")
    with page.expect_response(lambda r: r.url.endswith(KEEP_ALIVE)) as answer:
        comment.press_sequentially("Skriver")
    assert answer.value.status == 200
    # The page has taken the answer in (the response event comes before the page reads it).
    page.wait_for_function(
        "seen => +localStorage.getItem('halsoval.session.seenHigh') > seen", arg=seen
    )
    page.clock.fast_forward("20:00")  # 40 minutes after the page, 20 after the typing
    expect(_warning(page)).to_be_hidden()
    page.clock.fast_forward("08:30")
    expect(_warning(page)).to_be_visible()
    page.context.close()


def test_the_warning_on_a_small_screen(browser, live_server):
    page = _fresh_page(browser, live_server, "vc.backen", width=375, height=740)
    page.goto(live_server + "/")
    page.clock.fast_forward("28:30")
    warning = _warning(page)
    expect(warning).to_be_visible()
    box = warning.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    _screenshot_viewport(page, "31-varning-fore-utloggning-375")
    page.context.close()


def test_activity_in_one_tab_closes_the_warning_in_the_other(browser, live_server):
    first = _fresh_page(browser, live_server, "vc.backen")
    first.goto(live_server + "/")
    second = first.context.new_page()  # the same browser: the same login, clock and storage
    second.goto(live_server + "/enheter/")
    first.clock.fast_forward("28:30")
    expect(_warning(first)).to_be_visible()
    expect(_warning(second)).to_be_visible()
    with second.expect_response(lambda r: r.url.endswith(KEEP_ALIVE)):
        _warning(second).get_by_role("button", name="Fortsätt vara inloggad").click()
    expect(_warning(second)).to_be_hidden()
    expect(_warning(first)).to_be_hidden()  # told through localStorage
    first.context.close()


def test_typing_kept_when_a_save_finds_the_session_ended(browser, live_server, live_env):
    from axe_playwright_python.sync_playwright import Axe

    checklist = seed_checklist(live_env, "Uppföljning 2025 – utloggad vid sparande", [PHYSIO])
    path = f"/checklistor/{checklist}/avsnitt/3.1"
    page = _fresh_page(browser, live_server, "vc.backen", clock=False)
    page.goto(live_server + path)
    physio = item(page, "fysioterapeuter")
    physio.get_by_label("Värde").fill("2")
    with page.expect_response(lambda r: r.url.endswith("/svar")) as answer:
        physio.get_by_label("Kommentar (frivillig)").fill(COMMENT)  # leaving the value saves it
    assert answer.value.status == 200
    _end_server_session(live_env, "vc.backen")
    # Leaving the comment saves it; the server answers 401 and the page sends us to log in.
    with page.expect_response(lambda r: r.url.endswith("/svar")) as answer:
        page.locator("h1").click()
    assert answer.value.status == 401
    _log_in_again(page, live_server, path)

    physio = item(page, "fysioterapeuter")
    expect(physio.get_by_label("Kommentar (frivillig)")).to_have_value(COMMENT)
    expect(physio.get_by_label("Värde")).to_have_value("2")  # saved before: nothing to fill in
    notice = page.get_by_role("status").filter(has_text="har fyllts i igen")
    expect(notice).to_contain_text("Det är inte sparat ännu")
    expect(notice.get_by_role("link")).to_have_text([re.compile("Kommentar")])
    screenshot(page, "32-ifyllt-efter-inloggning")
    problems = _audit(page, Axe())
    assert problems == [], problems
    assert _drafts(page) == []  # filled in once, then gone
    # Not saved yet — and it saves now, against the version it was typed on.
    with page.expect_response(lambda r: r.url.endswith("/svar")) as answer:
        physio.get_by_role("button", name="Spara punkten").click()
    assert answer.value.status == 200
    page.reload()
    expect(item(page, "fysioterapeuter").get_by_label("Kommentar (frivillig)")).to_have_value(
        COMMENT
    )
    page.context.close()


def test_typing_kept_when_the_timer_runs_out(browser, live_server, live_env):
    checklist = seed_checklist(live_env, "Uppföljning 2025 – utloggad av timern", [SAFETY])
    path = f"/checklistor/{checklist}/avsnitt/2.6"
    page = _fresh_page(browser, live_server, "vc.backen")
    page.goto(live_server + path)
    safety = item(page, "patientsäkerhetsarbete")
    comment = safety.get_by_label("Kommentar (frivillig)")
    comment.fill(COMMENT)  # typed, not yet left: not saved
    _end_server_session(live_env, "vc.backen")
    page.clock.fast_forward("31:00")
    _log_in_again(page, live_server, path, check_accessibility=True)
    expect(
        item(page, "patientsäkerhetsarbete").get_by_label("Kommentar (frivillig)")
    ).to_have_value(COMMENT)
    expect(page.get_by_role("status").filter(has_text="har fyllts i igen")).to_be_visible()
    assert _drafts(page) == []
    page.context.close()


def test_without_javascript_nothing_shows(signed_in, live_server):
    page = signed_in("vc.backen", javascript=False)
    page.goto(live_server + "/")
    expect(page.locator("#session-warning")).to_be_hidden()
    expect(page.locator("#session-notice")).to_be_empty()
