"""The role × route matrix: every route in ``app.url_map`` has an expected answer for every
role; a new route without an entry here fails ``test_every_route_is_in_the_matrix``."""

import datetime as dt

import pytest
import sqlalchemy as sa

from audit.models import Role
from checklists import operations as ops
from checklists.catalog import EDITIONS_DIR, load_edition
from checklists.evidence import EvidenceStore
from checklists.models import Requirement
from checklists.rounds import EvidenceFile
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, TEST_ACTOR, make_unit, make_user
from web.access import ROUTE_ACCESS

ANON = "anonymous"
ROLES = [ANON, *Role]
OK, LOGIN, DENIED = 200, "login", 403

NOT_REVIEWER = {Role.VERKSAMHETSCHEF: DENIED, Role.PERSONAL: DENIED, Role.LASARE: DENIED}
NOT_CHECKLIST = {Role.ADMIN: DENIED, Role.LASARE: DENIED}
NOT_UNIT = {r: DENIED for r in Role if not r.is_unit_role}
NOT_ADMIN = {r: DENIED for r in Role if r != Role.ADMIN}
ONLY_PURCHASER = {r: DENIED for r in Role if r != Role.BESTALLARE}
NOT_ANALYSIS_READER = {Role.VERKSAMHETSCHEF: DENIED, Role.PERSONAL: DENIED}
NOT_ANALYSIS_AUTHOR = {r: DENIED for r in Role if r not in (Role.ADMIN, Role.BESTALLARE)}

# endpoint -> (method, path, {role: expected}); a missing role means ``default``.
MATRIX = {
    "static": ("GET", "/static/app.css", {}, OK),
    "auth.login": ("GET", "/logga-in", {r: 302 for r in Role}, OK),  # logged in: go to start
    "auth.logout": ("POST", "/logga-ut", {}, 302),
    # Without a script (no Accept: application/json) the keep-alive goes back to the start.
    "auth.keep_alive": ("POST", "/inloggning/fortsatt", {ANON: LOGIN}, 302),
    "main.set_language": ("POST", "/sprak", {}, 302),
    "main.health": ("GET", "/halsa", {}, OK),
    "main.accessibility": ("GET", "/tillganglighet", {}, OK),
    "main.start": ("GET", "/", {ANON: LOGIN}, OK),
    "units.index": ("GET", "/enheter/", {ANON: LOGIN}, OK),
    "units.detail": ("GET", "/enheter/own", {ANON: LOGIN}, OK),
    "units.new": ("GET", "/enheter/ny", {ANON: LOGIN, **NOT_ADMIN}, OK),
    "units.edit": ("GET", "/enheter/own/redigera", {ANON: LOGIN, **NOT_ADMIN}, OK),
    "units.import_file": ("GET", "/enheter/import", {ANON: LOGIN, **NOT_ADMIN}, OK),
    "units.export": ("GET", "/enheter/export.yaml", {ANON: LOGIN, **NOT_REVIEWER}, OK),
    "catalog.index": ("GET", "/katalog/", {ANON: LOGIN}, OK),
    "catalog.edition": ("GET", "/katalog/TU-2023", {ANON: LOGIN}, OK),
    "catalog.compare": ("GET", "/katalog/jamfor?fran=TU-2023&till=TU-2023", {ANON: LOGIN}, OK),
    "rounds.index": ("GET", "/omgangar/", {ANON: LOGIN, **NOT_REVIEWER}, OK),
    "rounds.new": ("GET", "/omgangar/ny", {ANON: LOGIN, **NOT_REVIEWER, Role.ADMIN: DENIED}, OK),
    "rounds.overview": ("GET", "/omgangar/{rid}", {ANON: LOGIN, **NOT_REVIEWER}, OK),
    # Managing a round: an empty form is refused beside its fields; the reminder goes out
    # (nobody at the unit has an address, so nothing is queued) and leads back.
    "rounds.extend": (
        "POST",
        "/omgangar/{rid}/forlang",
        {ANON: LOGIN, **{r: DENIED for r in Role if r not in (Role.BESTALLARE, Role.GRANSKARE)}},
        422,
    ),
    "rounds.remind": (
        "POST",
        "/omgangar/{rid}/paminn",
        {ANON: LOGIN, **{r: DENIED for r in Role if r not in (Role.BESTALLARE, Role.GRANSKARE)}},
        302,
    ),
    "rounds.close": (
        "POST",
        "/omgangar/{rid}/stang",
        {ANON: LOGIN, **{r: DENIED for r in Role if r not in (Role.BESTALLARE, Role.GRANSKARE)}},
        422,
    ),
    "rounds.add_unit": (
        "POST",
        "/omgangar/{rid}/enheter",
        {ANON: LOGIN, **{r: DENIED for r in Role if r not in (Role.BESTALLARE, Role.GRANSKARE)}},
        422,
    ),
    "checklists.answer": ("GET", "/checklistor/{cid}", {ANON: LOGIN, **NOT_CHECKLIST}, OK),
    "checklists.submit": (
        "POST",
        "/checklistor/{cid}/skicka-in",
        {ANON: LOGIN, **{r: DENIED for r in Role if r != Role.VERKSAMHETSCHEF}},
        422,  # without confirmation: the confirmation page again
    ),
    "checklists.upload": (
        "POST",
        "/checklistor/{cid}/punkter/{iid}/underlag",
        {ANON: LOGIN, **NOT_UNIT},
        422,  # no file chosen: the section again, the refusal beside the item
    ),
    "checklists.section": (
        "GET",
        "/checklistor/{cid}/avsnitt/2.6",
        {ANON: LOGIN, **NOT_CHECKLIST},
        OK,
    ),
    "checklists.save_item": (
        "POST",
        "/checklistor/{cid}/punkter/{iid}/svar",
        {ANON: LOGIN, **NOT_UNIT},
        400,  # no item version posted
    ),
    "checklists.review_section": (
        "GET",
        "/checklistor/{cid}/granska/avsnitt/2.6",
        {ANON: LOGIN, **{r: DENIED for r in Role if r not in (Role.BESTALLARE, Role.GRANSKARE)}},
        OK,
    ),
    "checklists.judge_item": (
        "POST",
        "/checklistor/{cid}/granska/punkter/{iid}",
        {ANON: LOGIN, **{r: DENIED for r in Role if r not in (Role.BESTALLARE, Role.GRANSKARE)}},
        422,  # not submitted yet: nothing to judge
    ),
    "checklists.accept": (
        "POST",
        "/checklistor/{cid}/godkann",
        {ANON: LOGIN, **{r: DENIED for r in Role if r not in (Role.BESTALLARE, Role.GRANSKARE)}},
        422,
    ),
    "checklists.return_checklist": (
        "POST",
        "/checklistor/{cid}/atersand",
        {ANON: LOGIN, **{r: DENIED for r in Role if r not in (Role.BESTALLARE, Role.GRANSKARE)}},
        422,
    ),
    "checklists.remove_file": (
        "POST",
        "/checklistor/underlag/{fid}/ta-bort",
        {ANON: LOGIN, **NOT_UNIT},
        302,
    ),
    "checklists.download": (
        "GET",
        "/checklistor/underlag/{fid}",
        {ANON: LOGIN, **NOT_CHECKLIST},
        OK,
    ),
    "checklists.review": (
        "GET",
        "/checklistor/{cid}/granska",
        {ANON: LOGIN, **{r: DENIED for r in Role if r not in (Role.BESTALLARE, Role.GRANSKARE)}},
        OK,
    ),
    "checklists.findings": ("GET", "/checklistor/iakttagelser", {ANON: LOGIN, **NOT_CHECKLIST}, OK),
    "dialogs.index": ("GET", "/dialoger/", {ANON: LOGIN, **NOT_CHECKLIST}, OK),
    "dialogs.new": (
        "POST",
        "/dialoger/ny",
        {ANON: LOGIN, **{r: DENIED for r in Role if r != Role.BESTALLARE}},
        404,
    ),  # no unit
    "dialogs.show": ("GET", "/dialoger/{did}", {ANON: LOGIN, **NOT_CHECKLIST}, OK),
    "dialogs.act": (
        "POST",
        "/dialoger/{did}/atgard/start_review",
        {ANON: LOGIN, **NOT_CHECKLIST},
        409,
    ),  # refused by the machine: planned
    # Only a booked meeting has an invitation: the planned dialog has none.
    "dialogs.invitation": (
        "GET",
        "/dialoger/{did}/inbjudan.ics",
        {ANON: LOGIN, **NOT_CHECKLIST},
        404,
    ),
    "dialogs.dispose": (
        "POST",
        "/dialoger/{did}/iakttagelser/1",
        {ANON: LOGIN, **{r: DENIED for r in Role if r != Role.BESTALLARE}},
        404,
    ),
    "joint.index": ("GET", "/gemensamma-dialoger/", {ANON: LOGIN, **NOT_CHECKLIST}, OK),
    "joint.new": ("GET", "/gemensamma-dialoger/ny", {ANON: LOGIN, **ONLY_PURCHASER}, OK),
    "joint.show": ("GET", "/gemensamma-dialoger/{jid}", {ANON: LOGIN, **NOT_CHECKLIST}, OK),
    "joint.act": (
        "POST",
        "/gemensamma-dialoger/{jid}/atgard/hold_meeting",
        {ANON: LOGIN, **ONLY_PURCHASER},
        409,
    ),  # refused by the machine: only planned
    "joint.replan": (
        "POST",
        "/gemensamma-dialoger/{jid}/planering",
        {ANON: LOGIN, **ONLY_PURCHASER},
        422,
    ),  # no date, place or theme: refused beside the fields
    "joint.attendance": (
        "POST",
        "/gemensamma-dialoger/{jid}/narvaro",
        {ANON: LOGIN, **ONLY_PURCHASER},
        409,
    ),  # refused: the agenda has not been sent
    "joint.add_follow_up": (
        "POST",
        "/gemensamma-dialoger/{jid}/uppfoljning",
        {ANON: LOGIN, **ONLY_PURCHASER},
        409,
    ),  # refused: the meeting has not been held
    "joint.make_finding": (
        "POST",
        "/gemensamma-dialoger/{jid}/uppfoljning/999/iakttagelse",
        {ANON: LOGIN, **ONLY_PURCHASER},
        404,
    ),
    "joint.resolve_follow_up": (
        "POST",
        "/gemensamma-dialoger/{jid}/uppfoljning/999/hanterad",
        {ANON: LOGIN, **ONLY_PURCHASER},
        404,
    ),
    "dialogs.upload": (
        "POST",
        "/dialoger/{did}/underlag",
        {ANON: LOGIN, **NOT_CHECKLIST},
        422,
    ),  # no file: the dialog page with the refusal beside the field
    "dialogs.download": (
        "GET",
        "/dialoger/{did}/underlag/999",
        {ANON: LOGIN, **NOT_CHECKLIST},
        404,
    ),
    "dialogs.remove_file": (
        "POST",
        "/dialoger/{did}/underlag/999/ta-bort",
        {ANON: LOGIN, **NOT_CHECKLIST},
        404,
    ),
    "dialogs.link_checklist": (
        "POST",
        "/dialoger/{did}/checklista",
        {ANON: LOGIN, **{r: DENIED for r in Role if r not in (Role.BESTALLARE, Role.GRANSKARE)}},
        302,
    ),  # no checklist chosen: none linked, back to the dialog
    "plans.index": ("GET", "/atgardsplaner/", {ANON: LOGIN, **NOT_CHECKLIST}, OK),
    "plans.new": (
        "POST",
        "/atgardsplaner/ny",
        {ANON: LOGIN, **{r: DENIED for r in Role if r != Role.BESTALLARE}},
        404,
    ),  # no unit
    "plans.show": ("GET", "/atgardsplaner/{pid}", {ANON: LOGIN, **NOT_CHECKLIST}, OK),
    "plans.act": (
        "POST",
        "/atgardsplaner/{pid}/atgard/close",
        {ANON: LOGIN, **NOT_CHECKLIST},
        409,
    ),  # refused by the machine: the plan is only requested
    "plans.add_measure": (
        "POST",
        "/atgardsplaner/{pid}/atgarder",
        {ANON: LOGIN, **NOT_UNIT},
        422,
    ),  # empty measure refused with a message
    "plans.measure_done": (
        "POST",
        "/atgardsplaner/{pid}/atgarder/999/genomford",
        {ANON: LOGIN, **NOT_UNIT},
        404,
    ),
    "plans.edit_measure": (
        "POST",
        "/atgardsplaner/{pid}/atgarder/999",
        {ANON: LOGIN, **NOT_UNIT},
        404,
    ),
    "plans.remove_measure": (
        "POST",
        "/atgardsplaner/{pid}/atgarder/999/ta-bort",
        {ANON: LOGIN, **NOT_UNIT},
        404,
    ),
    "plans.change_dates": (
        "POST",
        "/atgardsplaner/{pid}/datum",
        {ANON: LOGIN, **{r: DENIED for r in Role if r != Role.BESTALLARE}},
        422,
    ),  # no reason, no dates: refused with a message
    "plans.upload": (
        "POST",
        "/atgardsplaner/{pid}/underlag",
        {ANON: LOGIN, **NOT_UNIT},
        422,
    ),  # no file
    "plans.download": (
        "GET",
        "/atgardsplaner/{pid}/underlag/999",
        {ANON: LOGIN, **NOT_CHECKLIST},
        404,
    ),
    "plans.remove_file": (
        "POST",
        "/atgardsplaner/{pid}/underlag/999/ta-bort",
        {ANON: LOGIN, **NOT_UNIT},
        404,
    ),
    "sanctions.letter": (
        "GET",
        "/sanktioner/{sid}/beslut",
        {ANON: LOGIN, **NOT_CHECKLIST},
        404,
    ),  # no decision yet, so no letter
    "sanctions.index": ("GET", "/sanktioner/", {ANON: LOGIN, **NOT_CHECKLIST}, OK),
    "sanctions.new": (
        "POST",
        "/sanktioner/ny",
        {ANON: LOGIN, **{r: DENIED for r in Role if r != Role.BESTALLARE}},
        404,
    ),  # no unit
    "sanctions.show": ("GET", "/sanktioner/{sid}", {ANON: LOGIN, **NOT_CHECKLIST}, OK),
    "sanctions.act": (
        "POST",
        "/sanktioner/{sid}/atgard/close",
        {ANON: LOGIN, **NOT_CHECKLIST},
        409,
    ),  # refused by the machine: the case is only opened
    "sanctions.ivo": (
        "POST",
        "/sanktioner/ivo",
        {ANON: LOGIN, **{r: DENIED for r in Role if r not in (Role.BESTALLARE, Role.GRANSKARE)}},
        404,
    ),  # no unit given
    "reviews.index": ("GET", "/fordjupningar/", {ANON: LOGIN, **NOT_CHECKLIST}, OK),
    "reviews.new": (
        "GET",
        "/fordjupningar/ny/own",
        {ANON: LOGIN, **{r: DENIED for r in Role if r != Role.BESTALLARE}},
        OK,
    ),
    "reviews.show": ("GET", "/fordjupningar/{vid}", {ANON: LOGIN, **NOT_CHECKLIST}, OK),
    "reviews.act": (
        "POST",
        "/fordjupningar/{vid}/atgard/end_without_action",
        {ANON: LOGIN, **NOT_CHECKLIST},
        409,
    ),  # refused by the machine: the review is only opened
    "reviews.add_requirement": (
        "POST",
        "/fordjupningar/{vid}/krav",
        {ANON: LOGIN, **{r: DENIED for r in Role if r != Role.BESTALLARE}},
        422,
    ),  # no text: refused with a message
    "reviews.remove_requirement": (
        "POST",
        "/fordjupningar/{vid}/krav/999/ta-bort",
        {ANON: LOGIN, **{r: DENIED for r in Role if r != Role.BESTALLARE}},
        404,
    ),
    "reviews.upload": (
        "POST",
        "/fordjupningar/{vid}/underlag",
        {ANON: LOGIN, **NOT_UNIT},
        422,
    ),  # no file
    "reviews.download": (
        "GET",
        "/fordjupningar/{vid}/underlag/{vfid}",
        {ANON: LOGIN, **NOT_CHECKLIST},
        OK,
    ),
    "reviews.remove_file": (
        "POST",
        "/fordjupningar/{vid}/underlag/999/ta-bort",
        {ANON: LOGIN, **NOT_UNIT},
        404,
    ),
    "sanctions.ivo_decision": (
        "POST",
        "/sanktioner/ivo/iakttagelser/999999",
        {ANON: LOGIN, **{r: DENIED for r in Role if r != Role.BESTALLARE}},
        404,
    ),  # no such finding
    "cases.index": ("GET", "/arenden/", {ANON: LOGIN, **NOT_CHECKLIST}, OK),
    "cases.new": ("GET", "/arenden/ny/own/listningsstopp", {ANON: LOGIN, **NOT_UNIT}, OK),
    "cases.show": ("GET", "/arenden/{aid}", {ANON: LOGIN, **NOT_CHECKLIST}, OK),
    "cases.update": ("POST", "/arenden/{aid}/uppgifter", {ANON: LOGIN, **NOT_UNIT}, 302),
    "cases.upload": (
        "POST",
        "/arenden/{aid}/handlingar",
        {ANON: LOGIN, **NOT_UNIT},
        422,  # no document kind or file chosen: the case page with the refusal
    ),
    "cases.remove_document": (
        "POST",
        "/arenden/{aid}/handlingar/999/ta-bort",
        {ANON: LOGIN, **NOT_UNIT},
        404,
    ),
    "cases.download": (
        "GET",
        "/arenden/{aid}/handlingar/{adid}",
        {ANON: LOGIN, **NOT_CHECKLIST},
        OK,
    ),
    "cases.act": (
        "POST",
        "/arenden/{aid}/atgard/grant",
        {ANON: LOGIN, **NOT_CHECKLIST},
        409,
    ),  # refused by the machine: the case is a draft
    "cases.capitation": (
        "POST",
        "/arenden/{aid}/kapitering",
        {ANON: LOGIN, **{r: DENIED for r in Role if r != Role.BESTALLARE}},
        409,
    ),  # refused: not a restricted service
    "yearwheel.index": ("GET", "/arshjul/", {ANON: LOGIN, **NOT_CHECKLIST}, OK),
    "yearwheel.unit": ("GET", "/arshjul/enhet/own", {ANON: LOGIN, **NOT_CHECKLIST}, OK),
    # A report is given by the unit's own staff only: the purchaser reads it (403 to a POST).
    "yearwheel.telephone": (
        "POST",
        "/arshjul/enhet/own/telefoni/2025/3",
        {ANON: LOGIN, **NOT_UNIT},
        422,  # no figures: refused with a message per field
    ),
    "yearwheel.patient_safety": (
        "POST",
        "/arshjul/enhet/own/patientsakerhet/2025",
        {ANON: LOGIN, **NOT_UNIT},
        422,  # no date, no file
    ),
    "yearwheel.patient_safety_file": (
        "GET",
        "/arshjul/enhet/own/patientsakerhet/2025/fil",
        {ANON: LOGIN, **NOT_CHECKLIST},
        404,  # nothing submitted
    ),
    "yearwheel.assignment": (
        "GET",
        "/arshjul/enhet/own/tillaggsuppdrag/2025/tu.kum",
        {ANON: LOGIN, **NOT_CHECKLIST},
        404,  # KUM is not the unit's assignment
    ),
    "help.diagrams": ("GET", "/hjalp/flodesscheman", {ANON: LOGIN}, OK),
    "users.index": ("GET", "/anvandare/", {ANON: LOGIN, **NOT_ADMIN}, OK),
    "users.new": ("GET", "/anvandare/ny", {ANON: LOGIN, **NOT_ADMIN}, OK),
    "users.detail": ("GET", "/anvandare/{uid}", {ANON: LOGIN, **NOT_ADMIN}, OK),
    "users.grant": ("POST", "/anvandare/{uid}/roller", {ANON: LOGIN, **NOT_ADMIN}, 422),
    "users.revoke": (
        "POST",
        "/anvandare/{uid}/roller/999999/ta-bort",
        {ANON: LOGIN, **NOT_ADMIN},
        404,
    ),  # no such role of the user
    "users.set_status": ("POST", "/anvandare/{uid}/status", {ANON: LOGIN, **NOT_ADMIN}, 422),
    "users.reset_password": (
        "POST",
        "/anvandare/{uid}/engangslosenord",
        {ANON: LOGIN, **NOT_ADMIN},
        OK,
    ),  # the one-time password page
    "users.own_password": ("GET", "/konto/losenord", {ANON: LOGIN}, OK),
    # An empty address is allowed (it removes the address).
    "users.set_email": ("POST", "/anvandare/{uid}/e-post", {ANON: LOGIN, **NOT_ADMIN}, 302),
    "users.send_calendar_link": (
        "POST",
        "/anvandare/{uid}/kalenderlank",
        {ANON: LOGIN, **NOT_ADMIN},
        302,
    ),
    "users.account": ("GET", "/konto/", {ANON: LOGIN}, OK),
    "users.own_email": ("POST", "/konto/e-post", {ANON: LOGIN}, 302),
    "users.own_notifications": ("POST", "/konto/aviseringar", {ANON: LOGIN}, 302),
    "users.calendar_token": ("POST", "/konto/kalender", {ANON: LOGIN}, OK),  # shown once
    "users.revoke_calendar_token": ("POST", "/konto/kalender/aterkalla", {ANON: LOGIN}, 302),
    # The feed's secret is its login: an unknown token is a 404 for everyone.
    "calendar.feed": ("GET", "/kalender/okand.ics", {}, 404),
    "outbox.index": ("GET", "/utkorg/", {ANON: LOGIN, **NOT_ADMIN}, OK),
    "outbox.retry": ("POST", "/utkorg/999/skicka-igen", {ANON: LOGIN, **NOT_ADMIN}, 404),
    "auditlog.index": (
        "GET",
        "/granskningslogg/",
        {ANON: LOGIN, Role.VERKSAMHETSCHEF: DENIED, Role.PERSONAL: DENIED, Role.LASARE: DENIED},
        OK,
    ),
    "exports.audit_csv": (
        "GET",
        "/granskningslogg/export.csv?fran=2025-01-01&till=2025-12-31",
        {ANON: LOGIN, Role.VERKSAMHETSCHEF: DENIED, Role.PERSONAL: DENIED, Role.LASARE: DENIED},
        OK,
    ),
    "exports.checklist_pdf": (
        "GET",
        "/checklistor/{cid}/utskrift.pdf",
        {ANON: LOGIN, **NOT_CHECKLIST},
        OK,
    ),
    "exports.dialog_pdf": (
        "GET",
        "/dialoger/{did}/minnesanteckningar.pdf",
        {ANON: LOGIN, **NOT_CHECKLIST},
        404,
    ),  # the meeting has not been held: no minutes yet
    "exports.letter_pdf": (
        "GET",
        "/sanktioner/{sid}/beslut.pdf",
        {ANON: LOGIN, **NOT_CHECKLIST},
        404,
    ),  # no decision yet, so no letter
    # Every role; a unit's workbook holds only its own unit's rows (tests/web/test_exports.py).
    "exports.round_xlsx": ("GET", "/omgangar/{rid}/resultat.xlsx", {ANON: LOGIN}, OK),
    # The read API: anonymous is 401 JSON (no login page for a BI tool).
    **{
        f"api.{name}": ("GET", f"/api/v1/{name}", {ANON: 401}, OK)
        for name in (
            "units",
            "editions",
            "rounds",
            "results",
            "findings",
            "plans",
            "cases",
            "sanctions",
        )
    },
    "api.openapi": ("GET", "/api/v1/openapi.json", {ANON: 401}, OK),
    "apikeys.index": ("GET", "/konto/api-nycklar", {ANON: LOGIN}, OK),
    "apikeys.create": ("POST", "/konto/api-nycklar", {ANON: LOGIN}, 422),  # no name
    "apikeys.revoke": (
        "POST",
        "/konto/api-nycklar/999999/aterkalla",
        {ANON: LOGIN},
        404,
    ),  # not a token of mine
    "apikeys.docs": ("GET", "/hjalp/api", {ANON: LOGIN}, OK),
    # The annual analysis (§7.1.4): the region's readers read a published one; only the
    # beställare and the administratör write, step and version it.
    "analysis.index": ("GET", "/analys/", {ANON: LOGIN, **NOT_ANALYSIS_READER}, OK),
    "analysis.show": ("GET", "/analys/{anid}", {ANON: LOGIN, **NOT_ANALYSIS_READER}, OK),
    "analysis.pdf": ("GET", "/analys/{anid}/pdf", {ANON: LOGIN, **NOT_ANALYSIS_READER}, OK),
    "analysis.new": ("POST", "/analys/ny", {ANON: LOGIN, **NOT_ANALYSIS_AUTHOR}, 422),  # no year
    "analysis.edit": (
        "POST",
        "/analys/{anid}/text",
        {ANON: LOGIN, **NOT_ANALYSIS_AUTHOR},
        409,  # published: it cannot change
    ),
    "analysis.act": (
        "POST",
        "/analys/{anid}/atgard/publish",
        {ANON: LOGIN, **NOT_ANALYSIS_AUTHOR},
        409,  # refused by the machine: already published
    ),
    "analysis.new_version": (
        "POST",
        "/analys/{anid}/ny-version",
        {ANON: LOGIN, **NOT_ANALYSIS_AUTHOR},
        302,  # to the new draft
    ),
}


def test_every_route_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - set(MATRIX) == set(), "add the new route to MATRIX with its answers"
    assert set(MATRIX) - endpoints == set(), "MATRIX names a route that no longer exists"
    assert set(ROUTE_ACCESS) >= endpoints


@pytest.fixture
def people(db, app, tmp_path):
    make_unit(db, "own")
    load_edition(db, TEST_ACTOR, EDITIONS_DIR / "tillagg-2023.yaml")
    edition = load_edition(db, TEST_ACTOR, EDITIONS_DIR / "uor-2025.yaml").edition
    users = {}
    for role in Role:
        unit = "own" if role.is_unit_role else None
        users[role] = make_user(db, f"matrix.{role.value}", (role, unit))
    ids = db.scalars(
        sa.select(Requirement.id).where(
            Requirement.edition_id == edition.id, Requirement.section == "2.6"
        )
    ).all()
    round_ = ops.open_round(
        db,
        users[Role.BESTALLARE],
        edition=edition,
        title="Matris",
        year=2025,
        opens_on=dt.date(2025, 1, 1),
        deadline=dt.date(2025, 3, 1),
        selection=ops.RoundSelection(requirement_ids=ids),
    )
    checklist = round_.checklists[0]
    item = checklist.items[0]
    app.config["EVIDENCE_DIR"] = str(tmp_path / "underlag")
    store = EvidenceStore(tmp_path / "underlag")
    data = b"underlag"
    evidence = EvidenceFile(
        item=item, sha256=store.put(data), filename="u.txt", media_type="text/plain", size=len(data)
    )
    db.add(evidence)
    db.commit()
    from audit.models import Unit
    from workflows.dialog import open_dialog

    dialog = open_dialog(
        db, users[Role.BESTALLARE], db.scalar(sa.select(Unit).where(Unit.code == "own")), "Dialog"
    )
    from workflows.action_plan import request_action_plan

    plan = request_action_plan(
        db,
        users[Role.BESTALLARE],
        db.scalar(sa.select(Unit).where(Unit.code == "own")),
        title="Plan",
        requirements="Krav",
        plan_due=dt.date.today() + dt.timedelta(days=30),
        measures_due=dt.date.today() + dt.timedelta(days=30),
    )
    from workflows.sanction import open_case

    case = open_case(
        db,
        users[Role.BESTALLARE],
        db.scalar(sa.select(Unit).where(Unit.code == "own")),
        title="Ärende",
        grounds="Grund",
        diarienummer="RS 2025/1",
    )
    from checklists.evidence import check_upload
    from tests.case_factories import complete_entry
    from workflows.cases import operations as co

    arende = co.open_case(
        db,
        users[Role.VERKSAMHETSCHEF],
        db.scalar(sa.select(Unit).where(Unit.code == "own")),
        "listningsstopp",
        complete_entry(db, "listningsstopp"),
    )
    data = b"ansokan"
    document = co.add_document(
        db,
        users[Role.VERKSAMHETSCHEF],
        arende,
        "application",
        check_upload("ansokan.txt", data),
        data,
        EvidenceStore(tmp_path / "underlag" / "arenden"),
    )
    from workflows.reviews.models import ReviewFile
    from workflows.reviews.operations import open_review

    review = open_review(
        db,
        users[Role.BESTALLARE],
        db.scalar(sa.select(Unit).where(Unit.code == "own")),
        title="Fördjupning",
        concern="Signaler",
        complaints=["Klagomål."],
    )
    data = b"underlag till fordjupning"
    review_file = ReviewFile(
        review=review,
        sha256=store.put(data),
        filename="f.txt",
        media_type="text/plain",
        size=len(data),
    )
    db.add(review_file)
    from workflows.joint.operations import plan_joint_dialog

    joint = plan_joint_dialog(
        db,
        users[Role.BESTALLARE],
        meeting_on=dt.date.today() + dt.timedelta(days=30),
        place="Regionens hus",
        theme="Matris",
    )
    from workflows.analysis import machine as am

    analysis = am.start(db, users[Role.BESTALLARE], 2025)
    analysis.introduction, analysis.conclusions = "Inledning.", "Slutsatser."
    am.ANALYSIS.fire(db, users[Role.BESTALLARE], analysis, "submit_for_review")
    am.ANALYSIS.fire(db, users[Role.BESTALLARE], analysis, "publish")
    db.commit()
    return {
        "vid": review.id,
        "vfid": review_file.id,
        "jid": joint.id,
        "anid": analysis.id,
        "uid": users[Role.LASARE].id,
        "aid": arende.id,
        "adid": document.id,
        "sid": case.id,
        "pid": plan.id,
        "rid": round_.id,
        "cid": checklist.id,
        "iid": item.id,
        "fid": evidence.id,
        "did": dialog.id,
    }


# Access is decided in Python, not by the database: one database suffices for the matrix
# (the domain and page tests run on both).
@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize("endpoint", sorted(MATRIX))
def test_route_answers_each_role_as_expected(client, people, endpoint, role):
    method, path, overrides, default = MATRIX[endpoint]
    path = path.format(**people)
    expected = overrides.get(role, default)
    if role != ANON:
        assert login(client, f"matrix.{role.value}", PASSWORD).status_code == 302
    if method == "POST":
        data = {"csrf_token": csrf_token(client, "/logga-in" if role == ANON else "/")}
        if endpoint == "main.set_language":
            data.update(lang="sv", next="/")
        response = client.post(path, data=data)
    else:
        response = client.get(path)
    if expected == LOGIN:
        assert response.status_code == 302
        assert response.location.startswith("/logga-in")
    else:
        assert response.status_code == expected, response.get_data(as_text=True)[:500]


def test_route_without_policy_is_refused_at_start(connection):
    """Deny by default: the factory refuses to build an app with an unlisted route."""
    from flask import Blueprint

    import web.app as web_app

    bp = Blueprint("rogue", __name__)
    bp.add_url_rule("/rogue", "page", lambda: "secret")
    original = web_app.BLUEPRINTS
    try:
        import sys
        import types

        module = types.ModuleType("tests_rogue_bp")
        module.bp = bp
        sys.modules["tests_rogue_bp"] = module
        web_app.BLUEPRINTS = (*original, "tests_rogue_bp")
        with pytest.raises(RuntimeError, match="rogue.page"):
            web_app.create_app({"SECRET_KEY": "x", "SESSION_FACTORY": lambda: None})
    finally:
        web_app.BLUEPRINTS = original
        sys.modules.pop("tests_rogue_bp", None)
