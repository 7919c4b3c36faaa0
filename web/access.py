"""Åtkomstkontroll för sidor: the one place that decides who may use which route.

Every endpoint has an entry in :data:`ROUTE_ACCESS` (deny by default: an endpoint without one
answers 403 to everyone, and a test fails). Every URL argument that names something belonging
to a unit is resolved to that unit by :data:`UNIT_RESOLVERS`, and the unit is checked against
:func:`audit.access.can_see_unit` before the view runs; a unit the user may not see is a 404, as
if it did not exist. Views therefore never repeat the check.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask, abort, current_app, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload

from audit.access import can_see_unit
from audit.models import Role, Unit
from web.database import get_db

ALL_ROLES = frozenset(Role)
# The read API's lists (web/api/routes.py RESOURCES names the same ones).
API_RESOURCES = (
    "units",
    "editions",
    "rounds",
    "results",
    "findings",
    "plans",
    "cases",
    "sanctions",
)
REVIEWERS = frozenset({Role.ADMIN, Role.BESTALLARE, Role.GRANSKARE})
ANALYSIS_READERS = frozenset({Role.ADMIN, Role.BESTALLARE, Role.GRANSKARE, Role.LASARE})
UNIT_AND_REVIEWERS = frozenset(
    {Role.VERKSAMHETSCHEF, Role.PERSONAL, Role.BESTALLARE, Role.GRANSKARE}
)


@dataclasses.dataclass(frozen=True)
class Access:
    """Who may use a route: anyone (``public``), or logged-in users holding one of ``roles``."""

    roles: frozenset[Role] = frozenset()
    public: bool = False
    any_user: bool = False  # any logged-in user, with or without a role


PUBLIC = Access(public=True)


def roles(*allowed: Role) -> Access:
    return Access(roles=frozenset(allowed))


ROUTE_ACCESS: dict[str, Access] = {
    "static": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": PUBLIC,  # ends the session if there is one; harmless otherwise
    # Any live login session, with or without a role (its pages warn before the timeout
    # too); 401 JSON for a script whose session has ended.
    "auth.keep_alive": Access(roles=ALL_ROLES, any_user=True),
    "main.set_language": PUBLIC,
    "main.health": PUBLIC,
    "main.accessibility": PUBLIC,  # the law requires it to be reachable by everyone
    "main.start": Access(roles=ALL_ROLES),
    "units.index": Access(roles=ALL_ROLES),
    "units.detail": Access(roles=ALL_ROLES),
    "units.new": roles(Role.ADMIN),
    "units.edit": roles(Role.ADMIN),
    "units.import_file": roles(Role.ADMIN),
    "units.export": Access(roles=REVIEWERS),
    "auditlog.index": Access(roles=REVIEWERS),
    "rounds.index": Access(roles=REVIEWERS),
    "rounds.new": Access(roles=frozenset({Role.BESTALLARE, Role.GRANSKARE})),
    "rounds.overview": Access(roles=REVIEWERS),
    # Managing an open round: who may open one.
    "rounds.extend": roles(Role.BESTALLARE, Role.GRANSKARE),
    "rounds.remind": roles(Role.BESTALLARE, Role.GRANSKARE),
    "rounds.close": roles(Role.BESTALLARE, Role.GRANSKARE),
    "rounds.add_unit": roles(Role.BESTALLARE, Role.GRANSKARE),
    "checklists.answer": Access(roles=UNIT_AND_REVIEWERS),
    "checklists.section": Access(roles=UNIT_AND_REVIEWERS),
    "checklists.save_item": roles(Role.VERKSAMHETSCHEF, Role.PERSONAL),
    "checklists.submit": roles(Role.VERKSAMHETSCHEF),
    "checklists.upload": roles(Role.VERKSAMHETSCHEF, Role.PERSONAL),
    "checklists.remove_file": roles(Role.VERKSAMHETSCHEF, Role.PERSONAL),
    "checklists.download": Access(roles=UNIT_AND_REVIEWERS),
    "checklists.review": roles(Role.BESTALLARE, Role.GRANSKARE),
    "checklists.review_section": roles(Role.BESTALLARE, Role.GRANSKARE),
    "checklists.judge_item": roles(Role.BESTALLARE, Role.GRANSKARE),
    "checklists.accept": roles(Role.BESTALLARE, Role.GRANSKARE),
    "checklists.return_checklist": roles(Role.BESTALLARE, Role.GRANSKARE),
    "checklists.findings": Access(roles=UNIT_AND_REVIEWERS),
    "dialogs.index": Access(roles=UNIT_AND_REVIEWERS),
    "dialogs.new": roles(Role.BESTALLARE),
    "dialogs.show": Access(roles=UNIT_AND_REVIEWERS),
    "dialogs.act": Access(roles=UNIT_AND_REVIEWERS),
    "dialogs.dispose": roles(Role.BESTALLARE),
    # Joint dialogs (§7.1.2) belong to no unit: every unit reads them (the agenda once sent,
    # the minutes once published); only the purchaser changes them.
    "joint.index": Access(roles=UNIT_AND_REVIEWERS),
    "joint.new": roles(Role.BESTALLARE),
    "joint.show": Access(roles=UNIT_AND_REVIEWERS),
    "joint.act": roles(Role.BESTALLARE),
    "joint.replan": roles(Role.BESTALLARE),
    "joint.attendance": roles(Role.BESTALLARE),
    "joint.add_follow_up": roles(Role.BESTALLARE),
    "joint.make_finding": roles(Role.BESTALLARE),
    "joint.resolve_follow_up": roles(Role.BESTALLARE),
    "dialogs.upload": Access(roles=UNIT_AND_REVIEWERS),
    "dialogs.download": Access(roles=UNIT_AND_REVIEWERS),
    "dialogs.remove_file": Access(roles=UNIT_AND_REVIEWERS),
    "dialogs.link_checklist": roles(Role.BESTALLARE, Role.GRANSKARE),
    "dialogs.invitation": Access(roles=UNIT_AND_REVIEWERS),
    "plans.index": Access(roles=UNIT_AND_REVIEWERS),
    "plans.new": roles(Role.BESTALLARE),
    "plans.show": Access(roles=UNIT_AND_REVIEWERS),
    "plans.act": Access(roles=UNIT_AND_REVIEWERS),
    "plans.add_measure": roles(Role.VERKSAMHETSCHEF, Role.PERSONAL),
    "plans.measure_done": roles(Role.VERKSAMHETSCHEF, Role.PERSONAL),
    "plans.edit_measure": roles(Role.VERKSAMHETSCHEF, Role.PERSONAL),
    "plans.remove_measure": roles(Role.VERKSAMHETSCHEF, Role.PERSONAL),
    "plans.change_dates": roles(Role.BESTALLARE),
    "plans.upload": roles(Role.VERKSAMHETSCHEF, Role.PERSONAL),
    "plans.download": Access(roles=UNIT_AND_REVIEWERS),
    "plans.remove_file": roles(Role.VERKSAMHETSCHEF, Role.PERSONAL),
    "sanctions.index": Access(roles=UNIT_AND_REVIEWERS),
    "sanctions.new": roles(Role.BESTALLARE),
    "sanctions.show": Access(roles=UNIT_AND_REVIEWERS),
    "sanctions.act": Access(roles=UNIT_AND_REVIEWERS),
    "sanctions.letter": Access(roles=UNIT_AND_REVIEWERS),
    "sanctions.ivo": roles(Role.BESTALLARE, Role.GRANSKARE),
    # Särskild fördjupning (§7.1.3): the unit's staff see their own and answer requests,
    # beställare run them, granskare read.
    "reviews.index": Access(roles=UNIT_AND_REVIEWERS),
    "reviews.new": roles(Role.BESTALLARE),
    "reviews.show": Access(roles=UNIT_AND_REVIEWERS),
    "reviews.act": Access(roles=UNIT_AND_REVIEWERS),
    "reviews.add_requirement": roles(Role.BESTALLARE),
    "reviews.remove_requirement": roles(Role.BESTALLARE),
    "reviews.upload": roles(Role.VERKSAMHETSCHEF, Role.PERSONAL),
    "reviews.download": Access(roles=UNIT_AND_REVIEWERS),
    "reviews.remove_file": roles(Role.VERKSAMHETSCHEF, Role.PERSONAL),
    "sanctions.ivo_decision": roles(Role.BESTALLARE),
    "cases.index": Access(roles=UNIT_AND_REVIEWERS),
    "cases.new": roles(Role.VERKSAMHETSCHEF, Role.PERSONAL),
    "cases.show": Access(roles=UNIT_AND_REVIEWERS),
    "cases.update": roles(Role.VERKSAMHETSCHEF, Role.PERSONAL),
    "cases.upload": roles(Role.VERKSAMHETSCHEF, Role.PERSONAL),
    "cases.remove_document": roles(Role.VERKSAMHETSCHEF, Role.PERSONAL),
    "cases.download": Access(roles=UNIT_AND_REVIEWERS),
    "cases.act": Access(roles=UNIT_AND_REVIEWERS),
    "cases.capitation": roles(Role.BESTALLARE),
    # Årshjul: the unit's staff see their own units' year, the purchaser every unit's; the
    # recurring reports are given only by the unit's own staff (checked in the view as well).
    "yearwheel.index": Access(roles=UNIT_AND_REVIEWERS),
    "yearwheel.unit": Access(roles=UNIT_AND_REVIEWERS),
    "yearwheel.telephone": Access(roles=UNIT_AND_REVIEWERS),
    "yearwheel.patient_safety": Access(roles=UNIT_AND_REVIEWERS),
    "yearwheel.patient_safety_file": Access(roles=UNIT_AND_REVIEWERS),
    "yearwheel.assignment": Access(roles=UNIT_AND_REVIEWERS),
    # The annual analysis (§7.1.4): the region's readers read what is published; only
    # Beställarenheten (and the administratör) write and publish. Health-centre staff are
    # not among its readers: it holds every unit's results.
    "analysis.index": Access(roles=ANALYSIS_READERS),
    "analysis.show": Access(roles=ANALYSIS_READERS),
    "analysis.pdf": Access(roles=ANALYSIS_READERS),
    "analysis.new": roles(Role.BESTALLARE, Role.ADMIN),
    "analysis.edit": roles(Role.BESTALLARE, Role.ADMIN),
    "analysis.act": roles(Role.BESTALLARE, Role.ADMIN),
    "analysis.new_version": roles(Role.BESTALLARE, Role.ADMIN),
    "help.diagrams": Access(roles=ALL_ROLES),
    "catalog.index": Access(roles=ALL_ROLES),
    "catalog.edition": Access(roles=ALL_ROLES),
    "catalog.compare": Access(roles=ALL_ROLES),
    "users.index": roles(Role.ADMIN),
    "users.new": roles(Role.ADMIN),
    "users.detail": roles(Role.ADMIN),
    "users.grant": roles(Role.ADMIN),
    "users.revoke": roles(Role.ADMIN),
    "users.set_status": roles(Role.ADMIN),
    "users.reset_password": roles(Role.ADMIN),
    "users.set_email": roles(Role.ADMIN),
    "users.send_calendar_link": roles(Role.ADMIN),
    # Every logged-in user, whatever their roles (even none): their own password and account.
    "users.own_password": Access(roles=ALL_ROLES, any_user=True),
    # Exports: whoever sees the page sees its export, scoped to the same unit (the unit comes
    # from the URL's checklist, dialog or case; a round's workbook filters to visible units).
    "exports.checklist_pdf": Access(roles=UNIT_AND_REVIEWERS),
    "exports.dialog_pdf": Access(roles=UNIT_AND_REVIEWERS),
    "exports.letter_pdf": Access(roles=UNIT_AND_REVIEWERS),
    "exports.round_xlsx": Access(roles=ALL_ROLES),
    "exports.audit_csv": Access(roles=REVIEWERS),
    # The read API: any role, with a session or a personal token, scoped by the same units
    # (each query filters with audit.access.restrict_to_visible; a unit filter checks it).
    **{f"api.{name}": Access(roles=ALL_ROLES) for name in API_RESOURCES},
    "api.openapi": Access(roles=ALL_ROLES),
    # Each user's own API tokens (never someone else's), and the page about the API.
    "apikeys.index": Access(roles=ALL_ROLES),
    "apikeys.create": Access(roles=ALL_ROLES),
    "apikeys.revoke": Access(roles=ALL_ROLES),
    "apikeys.docs": Access(roles=ALL_ROLES),
    "users.account": Access(roles=ALL_ROLES, any_user=True),
    "users.own_email": Access(roles=ALL_ROLES, any_user=True),
    "users.own_notifications": Access(roles=ALL_ROLES, any_user=True),
    "users.calendar_token": Access(roles=ALL_ROLES, any_user=True),
    "users.revoke_calendar_token": Access(roles=ALL_ROLES, any_user=True),
    # The feed's secret URL is its own authentication (calendar programs have no login);
    # an unknown or revoked token is a 404, and the feed holds only its user's scope.
    "calendar.feed": PUBLIC,
    "outbox.index": roles(Role.ADMIN),
    "outbox.retry": roles(Role.ADMIN),
}

# What a user with a one-time password may reach before choosing their own (engångslösenord).
WHILE_MUST_CHANGE_PASSWORD = frozenset(
    {
        "users.own_password",
        "auth.logout",
        "auth.keep_alive",  # the page choosing the password warns before the idle timeout
        "main.set_language",
        "static",
        "main.health",
    }
)


def _unit_by_code(code: str) -> Unit | None:
    return get_db().scalar(sa.select(Unit).where(Unit.code == code))


def _checklist(checklist_id: int) -> Unit | None:
    from checklists.rounds import Checklist

    # With its unit (for the check) and round (every checklist page shows it): one query.
    checklist = get_db().get(
        Checklist,
        checklist_id,
        options=[joinedload(Checklist.unit), joinedload(Checklist.round)],
    )
    if checklist is None:
        return None
    g.checklist = checklist
    return checklist.unit


def _evidence(file_id: int) -> Unit | None:
    from checklists.rounds import EvidenceFile

    evidence = get_db().get(EvidenceFile, file_id)
    if evidence is None or evidence.removed_at is not None:
        return None
    g.evidence = evidence
    return evidence.item.checklist.unit


def _dialog(dialog_id: int) -> Unit | None:
    from workflows.models import FollowUpDialog

    dialog = get_db().get(FollowUpDialog, dialog_id)
    if dialog is None:
        return None
    g.dialog = dialog
    return dialog.unit


def _plan(plan_id: int) -> Unit | None:
    from workflows.models import ActionPlan

    plan = get_db().get(ActionPlan, plan_id)
    if plan is None:
        return None
    g.plan = plan
    return plan.unit


def _case(case_id: int) -> Unit | None:
    from workflows.models import SanctionCase

    case = get_db().get(SanctionCase, case_id)
    if case is None:
        return None
    g.case = case
    return case.unit


def _finding(finding_id: int) -> Unit | None:
    from checklists.rounds import Finding

    finding = get_db().get(Finding, finding_id)
    if finding is None:
        return None
    g.finding = finding
    return finding.unit


def _arende(arende_id: int) -> Unit | None:
    from workflows.cases.models import Case

    case = get_db().get(Case, arende_id)
    if case is None:
        return None
    g.arende = case
    return case.unit


def _review(review_id: int) -> Unit | None:
    from workflows.reviews.models import InDepthReview

    review = get_db().get(InDepthReview, review_id)
    if review is None:
        return None
    g.review = review
    return review.unit


# URL argument name -> function loading the unit it belongs to (None when it does not exist).
# A resolver may also put the loaded object on ``g`` for the view.
UNIT_RESOLVERS: dict[str, Callable[[str], Unit | None]] = {
    "unit_code": _unit_by_code,
    "checklist_id": _checklist,
    "file_id": _evidence,
    "dialog_id": _dialog,
    "plan_id": _plan,
    "case_id": _case,
    "arende_id": _arende,
    "review_id": _review,
    "finding_id": _finding,
}


def check_request() -> None:
    """before_request: role check, then unit scope for every unit-bearing URL argument."""
    endpoint = request.endpoint
    if endpoint is None:
        return  # 404 or 405 from routing; the error handler answers
    access = ROUTE_ACCESS.get(endpoint)
    if access is None:
        abort(403)
    if access.public:
        return
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if current_user.must_change_password and endpoint not in WHILE_MUST_CHANGE_PASSWORD:
        return redirect(url_for("users.own_password", next=request.full_path.rstrip("?")))
    if not (access.any_user or current_user.role_set & access.roles):
        abort(403)
    for name, value in (request.view_args or {}).items():
        resolver = UNIT_RESOLVERS.get(name)
        if resolver is None:
            continue
        unit = resolver(value)
        if unit is None or not can_see_unit(get_db(), current_user, unit):
            abort(404)
        g.unit = unit


def missing_policies(app: Flask) -> set[str]:
    """Endpoints that have no entry in :data:`ROUTE_ACCESS`."""
    return {rule.endpoint for rule in app.url_map.iter_rules()} - set(ROUTE_ACCESS)


def init_app(app: Flask) -> None:
    app.before_request(check_request)
