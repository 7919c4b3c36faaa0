"""Round management in real Chromium: the unit's head gives an e-mail address on *Mitt konto*;
the purchaser extends one unit's deadline (a missing reason refused in the error summary),
reminds the units that have not submitted (an e-mail queued in the outbox, which the
administratör sees), adds a unit that was missed, and closes the round (unsubmitted units
become "Ej inlämnad"); every step is in the trail, the chain verifies, axe finds nothing."""

import subprocess

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from audit.db import make_engine
from audit.trail import AuditEvent
from checklists.rounds import Checklist, Round
from tests.browser.conftest import VENV_BIN, screenshot, seed_checklist
from tests.browser.test_user_admin import _axe

pytestmark = pytest.mark.browser

TITLE = "Omgång att hantera i webbläsaren"


def test_extend_remind_add_and_close_a_round(live_server, live_env, signed_in):
    problems = {}
    seed_checklist(live_env, TITLE, ["kvalitet.avvikelsehantering"], unit="backen")

    head = signed_in("vc.backen")
    head.goto(live_server + "/")
    head.get_by_role("link", name="Mitt konto").click()
    head.get_by_label("E-postadress").fill("vera@backen")
    head.get_by_role("button", name="Spara e-postadressen").click()
    expect(head.locator("#error-summary")).to_contain_text("Ange en e-postadress som")
    expect(head.get_by_label("E-postadress")).to_have_value("vera@backen")
    _axe(head, problems, "mitt konto med fel")
    head.get_by_label("E-postadress").fill("vera@backen.example.se")
    head.get_by_role("button", name="Spara e-postadressen").click()
    expect(head.get_by_text("Din e-postadress har sparats.")).to_be_visible()

    purchaser = signed_in("bestallare")
    purchaser.goto(live_server + "/omgangar/")
    purchaser.get_by_role("link", name=TITLE).click()
    manage = purchaser.locator(
        "section", has=purchaser.get_by_role("heading", name="Hantera omgången")
    )
    expect(manage).to_contain_text("1 enhet har inte skickat in: Backens hälsocentral")
    _axe(purchaser, problems, "hantera omgången")
    screenshot(purchaser, "60-hantera-omgang")

    # Extend for one unit: without a reason it is refused, the date typed is kept.
    manage.get_by_label("För", exact=True).select_option(label="Backens hälsocentral (2025-03-31)")
    manage.get_by_label("Ny sista svarsdag").fill("2025-04-15")
    manage.get_by_role("button", name="Förläng svarstiden").click()
    expect(purchaser.locator("#error-summary")).to_contain_text("Ange ett skäl.")
    assert purchaser.title().startswith("Fel:")
    expect(purchaser.get_by_label("Ny sista svarsdag")).to_have_value("2025-04-15")
    purchaser.get_by_label("Skäl", exact=True).first.fill("Verksamhetschefen har varit sjuk")
    purchaser.get_by_role("button", name="Förläng svarstiden").click()
    expect(purchaser.get_by_text("Svarstiden har förlängts.")).to_be_visible()
    expect(purchaser.get_by_text("förlängd till 2025-04-15")).to_be_visible()

    # Remind the units that have not submitted: one click, one e-mail to the head.
    purchaser.get_by_role("button", name="Skicka en påminnelse med e-post").click()
    expect(purchaser.get_by_text("1 påminnelse har köats för e-post.")).to_be_visible()

    # Add a unit that was missed.
    manage = purchaser.locator(
        "section", has=purchaser.get_by_role("heading", name="Hantera omgången")
    )
    add = manage.locator("form", has=purchaser.get_by_role("button", name="Lägg till enheten"))
    add.get_by_label("Enhet").select_option(label="Byske hälsocentral (byske)")
    add.get_by_label("Skäl").fill("Glömdes när omgången öppnades")
    add.get_by_role("button", name="Lägg till enheten").click()
    expect(purchaser.get_by_text("Enheten har lagts till i omgången.")).to_be_visible()
    expect(purchaser.get_by_role("link", name="Byske hälsocentral")).to_be_visible()

    # Close: confirmation required; then both unsubmitted units are "ej inlämnad".
    purchaser.get_by_role("button", name="Stäng omgången").click()
    expect(purchaser.locator("#error-summary")).to_contain_text(
        "Bekräfta att omgången ska stängas."
    )
    purchaser.get_by_label("Jag förstår att enheter som inte har skickat in").check()
    purchaser.get_by_role("button", name="Stäng omgången").click()
    expect(
        purchaser.get_by_text("Omgången är stängd; 2 enheter hade inte skickat in.")
    ).to_be_visible()
    expect(purchaser.get_by_role("heading", name="Hantera omgången")).to_have_count(0)
    expect(purchaser.locator("table").get_by_text("Ej inlämnad (omgången stängd)")).to_have_count(2)
    _axe(purchaser, problems, "stängd omgång")
    screenshot(purchaser, "61-stangd-omgang")

    # The administratör sees the reminder in the outbox, queued to the head's address.
    admin = signed_in("admin")
    admin.goto(live_server + "/")
    admin.get_by_role("link", name="Utkorg").click()
    expect(admin.locator("table.data")).to_contain_text("vera@backen.example.se")
    expect(admin.locator("table.data")).to_contain_text(
        f"checklistan i ”{TITLE}” är inte inskickad"
    )
    _axe(admin, problems, "utkorgen")

    # Each step is in the trail (with its reason), and the chain verifies.
    engine = make_engine(live_env["HALSOVAL_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            round_id = conn.scalar(sa.select(Round.id).where(Round.title == TITLE))
            checklists = conn.scalars(
                sa.select(Checklist.id).where(Checklist.round_id == round_id)
            ).all()
            events = conn.execute(
                sa.select(AuditEvent.action, AuditEvent.reason)
                .where(
                    sa.or_(
                        sa.and_(
                            AuditEvent.entity_type == "round",
                            AuditEvent.entity_id == str(round_id),
                        ),
                        sa.and_(
                            AuditEvent.entity_type == "checklist",
                            AuditEvent.entity_id.in_([str(c) for c in checklists]),
                        ),
                    )
                )
                .order_by(AuditEvent.id)
            ).all()
    finally:
        engine.dispose()
    assert [e for e in events if e.action != "create"] == [
        ("deadline_extended", "Verksamhetschefen har varit sjuk"),
        ("reminded", None),
        ("unit_added", "Glömdes när omgången öppnades"),
        ("closed", None),
    ]
    result = subprocess.run(
        [str(VENV_BIN / "halsoval"), "audit", "verify"],
        env=live_env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert problems == {name: [] for name in problems}
