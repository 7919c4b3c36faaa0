"""WCAG 2.1 AA, checked by axe-core (bundled in the axe-playwright-python package) in real
Chromium on every kind of page a user meets."""

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.browser.conftest import BROWSER_PASSWORD

pytestmark = pytest.mark.browser

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="module")
def checklist_id(live_server, live_env):
    """A round with one checklist for Backen, made as an administrator's script would."""
    from audit.db import make_engine, make_session_factory
    from audit.models import Unit, User
    from checklists import operations as ops
    from checklists.models import CatalogEdition, Requirement
    from checklists.rounds import Checklist

    engine = make_engine(live_env["HALSOVAL_DATABASE_URL"])
    with make_session_factory(engine)() as db:
        edition = db.scalar(sa.select(CatalogEdition).where(CatalogEdition.code == "UOR-2025"))
        purchaser = db.scalar(sa.select(User).where(User.username == "bestallare"))
        ids = db.scalars(
            sa.select(Requirement.id).where(
                Requirement.edition_id == edition.id,
                Requirement.section.in_(["2.6", "2.7.1", "2.7.3", "3.1.1", "3.1.2"]),
            )
        ).all()
        backen = db.scalar(sa.select(Unit.id).where(Unit.code == "backen"))
        round_ = ops.open_round(
            db,
            purchaser,
            edition=edition,
            title="Tillgänglighetstest",
            year=2025,
            opens_on=dt.date(2025, 1, 1),
            deadline=dt.date(2025, 3, 31),
            selection=ops.RoundSelection(requirement_ids=ids, unit_ids=[backen]),
        )
        from workflows.dialog import open_dialog

        dialog = open_dialog(db, purchaser, db.get(Unit, backen), "Tillgänglighetsdialog")
        from workflows.action_plan import request_action_plan

        plan = request_action_plan(
            db,
            purchaser,
            db.get(Unit, backen),
            title="Plan",
            requirements="Mer än hälften specialister.",
            due_date=dt.date.today() + dt.timedelta(days=30),
        )
        db.commit()
        plan_id = plan.id
        result = db.scalar(sa.select(Checklist.id).where(Checklist.round_id == round_.id))
        dialog_id = dialog.id
    engine.dispose()
    return result, dialog_id, plan_id


def _audit(page, axe):
    results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}})
    violations = results.response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {len(v['nodes'])} st, t.ex. "
        f"{v['nodes'][0]['target']}"
        for v in violations
    ]


def _login(page, live_server, username):
    page.goto(live_server + "/logga-in")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(live_server + "/")


def test_pages_meet_wcag_21_aa(browser, live_server, checklist_id):
    checklist_id, dialog_id, plan_id = checklist_id
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    problems = {}
    context = browser.new_context(locale="sv-SE")
    page = context.new_page()
    page.goto(live_server + "/logga-in")
    problems["/logga-in"] = _audit(page, axe)
    _login(page, live_server, "bestallare")
    round_path = None
    for path in [
        "/",
        "/enheter/",
        "/enheter/backen",
        "/katalog/",
        "/katalog/UOR-2025",
        "/katalog/TU-2023",
        "/katalog/jamfor?fran=TU-2023&till=TU-2023",
        "/omgangar/",
        "/omgangar/ny",
        f"/checklistor/{checklist_id}",
        f"/checklistor/{checklist_id}/granska",
        "/checklistor/iakttagelser",
        "/granskningslogg/?verifiera=1",
        "/finns-inte",
    ]:
        page.goto(live_server + path)
        problems[path] = _audit(page, axe)
        if path == "/omgangar/":
            round_path = page.get_by_role("link", name="Tillgänglighetstest").get_attribute("href")
    page.goto(live_server + round_path)
    problems[round_path] = _audit(page, axe)
    unit_page = context.new_page()
    context.clear_cookies()
    _login(unit_page, live_server, "vc.backen")
    unit_page.goto(f"{live_server}/checklistor/{checklist_id}")
    problems["/checklistor (verksamhetschef)"] = _audit(unit_page, axe)
    unit_page.goto(f"{live_server}/dialoger/{dialog_id}")
    problems["/dialoger (verksamhetschef)"] = _audit(unit_page, axe)
    unit_page.goto(f"{live_server}/atgardsplaner/{plan_id}")
    problems["/atgardsplaner (verksamhetschef)"] = _audit(unit_page, axe)
    page.goto(f"{live_server}/dialoger/{dialog_id}")
    from tests.browser.conftest import screenshot

    screenshot(page, "15-dialog")
    page.goto(f"{live_server}/hjalp/flodesscheman")
    screenshot(page, "16-flodesscheman")
    context.close()
    failing = {path: found for path, found in problems.items() if found}
    assert failing == {}, "\n".join(f"{p}: {v}" for p, vs in failing.items() for v in vs)
