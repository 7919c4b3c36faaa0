"""The annual analysis (§7.1.4) in real Chromium: the purchaser starts the year's analysis,
writes its text, sends it for review and publishes it; the läsare finds it on the start page
and reads it. axe-core on the draft (with its text fields) and on the published report with
its three charts; the report at 1280 and 375 px without page scroll."""

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import BROWSER_PASSWORD, _cli, no_horizontal_scroll, screenshot
from tests.browser.test_accessibility import _audit

pytestmark = pytest.mark.browser
YEAR = dt.date.today().year


def _seed(live_env) -> None:
    """Two years of rounds over every unit (statuses spread), a few action plans and one
    moved through its states, as a script of the region's would put them in."""
    import sqlalchemy as sa

    from audit.db import make_engine, make_session_factory
    from audit.models import Unit, User
    from checklists import operations as ops
    from checklists.answers import Status
    from checklists.models import CatalogEdition, Requirement
    from checklists.rounds import Checklist, ChecklistItem
    from workflows import action_plan as ap

    cycle = [Status.COMPLIANT, Status.COMPLIANT, Status.NON_COMPLIANT, Status.PARTLY_COMPLIANT,
             Status.COMPLIANT, Status.NOT_APPLICABLE, Status.COMPLIANT]  # fmt: skip
    engine = make_engine(live_env["HALSOVAL_DATABASE_URL"])
    try:
        with pytest.MonkeyPatch.context() as env, make_session_factory(engine)() as db:
            env.setenv("HALSOVAL_INSTANCE", live_env["HALSOVAL_INSTANCE"])
            edition = db.scalar(sa.select(CatalogEdition).where(CatalogEdition.code == "UOR-2025"))
            purchaser = db.scalar(sa.select(User).where(User.username == "bestallare"))
            ids = db.scalars(
                sa.select(Requirement.id).where(
                    Requirement.edition_id == edition.id,
                    Requirement.section.in_(["2.6", "2.7.1", "3.1.1", "3.1.2"]),
                )
            ).all()
            for shift, year in enumerate((YEAR - 1, YEAR)):
                round_ = ops.open_round(
                    db,
                    purchaser,
                    edition=edition,
                    title=f"Analysunderlag {year}",
                    year=year,
                    opens_on=dt.date(year, 1, 1),
                    deadline=dt.date(year, 3, 31),
                    selection=ops.RoundSelection(requirement_ids=ids),
                )
                db.flush()
                items = db.scalars(
                    sa.select(ChecklistItem.id)
                    .join(Checklist)
                    .where(Checklist.round_id == round_.id)
                    .order_by(ChecklistItem.id)
                ).all()
                for n, item_id in enumerate(items):
                    db.execute(
                        sa.update(ChecklistItem)
                        .where(ChecklistItem.id == item_id)
                        .values(auto_status=cycle[(n * (shift + 2)) % len(cycle)])
                    )
            for code in ("backen", "byske", "vindeln"):
                unit = db.scalar(sa.select(Unit).where(Unit.code == code))
                ap.request_action_plan(
                    db,
                    purchaser,
                    unit,
                    title=f"Åtgärdsplan {unit.name}",
                    requirements="Kraven i iakttagelserna.",
                    plan_due=dt.date.today() + dt.timedelta(days=30),
                    measures_due=dt.date.today() + dt.timedelta(days=60),
                )
            db.commit()
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def seeded(live_server, live_env):
    _cli(
        live_env,
        "users",
        "create",
        "politiker.analys",
        "--name",
        "Pia Politiker",
        "--role",
        "lasare",
        "--password-stdin",
        input=BROWSER_PASSWORD + "\n",
    )
    _seed(live_env)


def test_the_purchaser_publishes_the_analysis_and_the_reader_reads_it(
    live_server, seeded, signed_in
):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    problems = {}
    purchaser = signed_in("bestallare")
    purchaser.goto(live_server + "/analys/")
    problems["list"] = _audit(purchaser, axe)
    purchaser.get_by_label("Uppföljningsår").fill("tjugo")
    purchaser.get_by_role("button", name="Påbörja analysen").click()
    expect(purchaser.locator("#new-year-error")).to_contain_text("fyra siffror")
    expect(purchaser.get_by_label("Uppföljningsår")).to_have_value("tjugo")
    purchaser.get_by_label("Uppföljningsår").fill(str(YEAR))
    purchaser.get_by_role("button", name="Påbörja analysen").click()
    expect(purchaser.get_by_role("heading", level=1)).to_contain_text(f"årlig analys {YEAR}")
    purchaser.get_by_label("Inledning: vad årets uppföljning omfattade").fill(
        "Årets uppföljning omfattade samtliga hälsocentraler och sjukstugor."
    )
    purchaser.locator("#text-heat_map").fill("Kompetens och bemanning är länets svagaste område.")
    purchaser.get_by_label("Slutsatser, och förslag").fill(
        "Förslag: en särskild satsning på kompetensförsörjning."
    )
    purchaser.get_by_role("button", name="Spara texten").click()
    expect(purchaser.get_by_text("Texten har sparats.")).to_be_visible()
    problems["draft"] = _audit(purchaser, axe)
    screenshot(purchaser, "60-arlig-analys-utkast")
    purchaser.get_by_role("button", name="Skicka för granskning").click()
    purchaser.get_by_role("button", name="Publicera").click()
    expect(purchaser.locator(".analysis-meta")).to_contain_text("Publicerad")
    url = purchaser.url

    reader = signed_in("politiker.analys")
    reader.goto(live_server + "/")
    expect(reader.get_by_text("Ingen samlad årlig analys har publicerats ännu")).to_have_count(0)
    problems["start"] = _audit(reader, axe)
    reader.get_by_role("link", name=f"Samlad årlig analys {YEAR}").click()
    assert reader.url == url
    expect(
        reader.get_by_text("Förslag: en särskild satsning på kompetensförsörjning.")
    ).to_be_visible()
    charts = reader.locator("svg[role=img]")
    expect(charts).to_have_count(3)
    for n in range(3):
        name = charts.nth(n).evaluate(
            "el => el.getAttribute('aria-labelledby').split(' ')"
            ".map(id => document.getElementById(id).textContent).join(' ')"
        )
        assert len(name) > 40, name
    problems["published"] = _audit(reader, axe)
    shot = screenshot(reader, "61-arlig-analys-1280")
    assert Path(shot).exists()

    narrow = signed_in("politiker.analys", width=375, height=800)
    narrow.goto(url)
    assert no_horizontal_scroll(narrow)
    problems["published-375"] = _audit(narrow, axe)
    screenshot(narrow, "62-arlig-analys-375")
    assert problems == {k: [] for k in problems}, problems
